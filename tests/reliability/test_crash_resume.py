"""A run SIGKILLed at points across stages and catalogue writes, then rerun, leaves exactly one
newest row per pair, every pair present, only whole Parquet files, no temp files."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from PIL import Image

import tryon.catalogue as cat
from tryon.config import RunConfig
from tryon.local import run_local

from tests.conftest import SAMPLE_DIR

CHILD = Path(__file__).with_name("crash_child.py")
PAIRS = 6


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    """Six pairs with distinct person files (so masking is computed for each)."""
    root = tmp_path_factory.mktemp("crash-data")
    (root / "people").mkdir()
    rows = []
    for index in range(PAIRS):
        source = "astronaut.png" if index % 2 == 0 else "grace_hopper.jpg"
        person = np.asarray(Image.open(SAMPLE_DIR / "people" / source).convert("RGB")).copy()
        person[0, index] ^= 1
        Image.fromarray(person).save(root / "people" / f"{index}.png")
        (root / "garment.png").write_bytes((SAMPLE_DIR / "garments" / "red_tshirt.png").read_bytes())
        rows.append({"pair_id": f"c{index}", "person_image": f"people/{index}.png", "garment_image": "garment.png",
                     "category": "upper_body"})
    path = root / "manifest.parquet"
    pd.DataFrame(rows).to_parquet(path, index=False)
    return path


def _readable_parquet_files(catalogue: Path) -> list[Path]:
    files = sorted(catalogue.glob("**/*.parquet"))
    for path in files:
        pq.read_table(path)  # raises on a half-written file
    return files


@pytest.mark.parametrize(
    "point, nth",
    [("masking", 2), ("engine", 2), ("shard-rename", 2), ("after-shard", 1), ("cache-rename", 3), ("run-finish", 1)],
)
def test_killed_run_resumes_without_duplicates(manifest: Path, tmp_path: Path, point: str, nth: int):
    catalogue = tmp_path / "catalogue"
    child = subprocess.run([sys.executable, str(CHILD), str(manifest), str(catalogue), point, str(nth)],
                           capture_output=True, text=True, timeout=600)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    _readable_parquet_files(catalogue)  # readers never see a partial file, even before resuming

    record = run_local(manifest, catalogue, RunConfig(engine="preview", shard_size=2, batch_size=2))
    assert record["status"] == "finished"
    latest = cat.load(catalogue)
    assert sorted(latest["pair_id"]) == [f"c{index}" for index in range(PAIRS)]
    assert latest["pair_id"].is_unique
    assert (latest["status"] == "succeeded").all(), latest[["pair_id", "error_message"]]
    assert not [path for path in catalogue.rglob(".tmp-*")]
    _readable_parquet_files(catalogue)
    runs = cat.runs(catalogue)
    assert set(runs["status"]) <= {"finished", "interrupted"} and runs["status"].iloc[-1] == "finished"
