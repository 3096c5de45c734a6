"""The report page in a real headless browser: it loads without script errors, shows every
pair, filters by status, and renders (a screenshot is taken and checked)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tryon.config import RunConfig
from tryon.local import run_local
from tryon.report import write_report

from tests.conftest import SAMPLE_DIR

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Path]:
    catalogue = tmp_path_factory.mktemp("catalogue")
    run_local(SAMPLE_DIR / "manifest.parquet", catalogue, RunConfig(engine="preview"))
    return catalogue, write_report(catalogue, catalogue / "report.html")


def test_report_is_self_contained_and_worst_first(report):
    catalogue, page = report
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and "src='images/" not in text
    cards = re.findall(r"<div class='pair (\w+)' data-status='(\w+)' data-category='(\w+)'>", text)
    assert len(cards) == 5
    assert cards[0][1] == "failed"  # worst first
    assert text.count("data:image/jpeg;base64,") >= 4 * 4  # person, garment, mask, result per success
    assert "person_cut_off" in text and "<svg" in text


def _browser(*args: str, user_data: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={user_data}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs it)")
def test_report_loads_in_a_real_browser(report, tmp_path):
    catalogue, page = report
    dom = _browser("--virtual-time-budget=3000", "--dump-dom", page.as_uri(), user_data=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout).group(0)
    assert 'data-ready="yes"' in body and 'data-errors="0"' in body and 'data-shown="5"' in body
    screenshot = tmp_path / "report.png"
    shot = _browser("--window-size=1280,1600", f"--screenshot={screenshot}", page.as_uri(),
                    user_data=tmp_path / "profile2")
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    pixels = np.asarray(Image.open(screenshot).convert("RGB"))
    assert pixels.shape[:2] == (1600, 1280)
    assert pixels.std() > 20  # thumbnails and text rendered, not a blank page
