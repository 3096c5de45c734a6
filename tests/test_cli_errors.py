"""Each input a user can get wrong ends in one line naming the problem and exit 2, before any
work and before Prefect starts: never a traceback. Run as the user runs it, in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tryon.catalogue.schema import result_schema
from tryon.catalogue.store import Catalogue, utc_now

from tests.conftest import REPO_ROOT

RUN_ID = "20260101T000000-aaaaaa"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def tryon(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "flows.cli", *map(str, args)], cwd=REPO_ROOT, env=full_env,
                          capture_output=True, text=True, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("tryon: error:"), result.stderr[-3000:]
    for word in words:
        assert word in lines[0], lines[0]


def _catalogue_with_a_run(root: Path) -> Catalogue:
    catalogue = Catalogue(root).create()
    catalogue.write_results(RUN_ID, "shard-00000", [{"pair_id": "a", "status": "failed", "row_index": 0,
                                                     "finished_at": utc_now()}], result_schema([], {}))
    catalogue.write_run({"run_id": RUN_ID, "status": "finished", "kind": "run", "manifest": "m.parquet",
                         "config": "{}"})
    return catalogue


def _config(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "run.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _unreadable_file(tmp_path: Path) -> Path:
    if AS_ROOT:
        return Path("/proc/1/mem")  # root may read any mode-000 file; not this one
    path = tmp_path / "secret.toml"
    path.write_text('engine = "preview"\n')
    path.chmod(0)
    return path


def _unwritable_folder(tmp_path: Path) -> Path:
    if AS_ROOT:
        return Path("/sys/kernel/tryon-test-catalogue")  # sysfs refuses new folders even to root
    parent = tmp_path / "read-only"
    parent.mkdir()
    parent.chmod(0o500)
    return parent / "catalogue"


# -- config files ----------------------------------------------------------------------------
@pytest.mark.parametrize("case, words", [
    ("not_utf8", ("not UTF-8",)), ("directory", ("is a folder",)), ("unreadable", ("cannot be read",)),
])
def test_config_file_that_cannot_be_read(sample_dir: Path, tmp_path: Path, case: str, words: tuple[str, ...]):
    if case == "not_utf8":
        config = _config(tmp_path, b'engine = "preview"\n# caf\xe9 in Latin-1\n')
    elif case == "directory":
        config = tmp_path / "conf.d"
        config.mkdir()
    else:
        config = _unreadable_file(tmp_path)
    result = tryon("run", sample_dir / "manifest.parquet", "--catalogue", tmp_path / "c", "--config", config)
    assert_one_line_error(result, str(config), *words)


@pytest.mark.parametrize("toml, words", [
    ('[quality_gate]\nsharpness_score = { min = 0.5 }\n', ("unknown metric", "sharpness_score")),
    ('[quality_gate]\npreserve_ssim = { min = 0.95, max = 0.9 }\n', ("preserve_ssim", "min (0.95)", "max (0.9)")),
    ('[limits]\nmin_side = 4096\nmax_side = 1024\n', ("min_side (4096)", "max_side (1024)")),
])
def test_inconsistent_config_is_refused(sample_dir: Path, tmp_path: Path, toml: str, words: tuple[str, ...]):
    config = _config(tmp_path, toml)
    result = tryon("run", sample_dir / "manifest.parquet", "--catalogue", tmp_path / "c", "--config", config)
    assert_one_line_error(result, "invalid configuration", *words)
    assert not (tmp_path / "c").exists()


def test_unknown_models_preset(sample_dir: Path, tmp_path: Path):
    result = tryon("run", sample_dir / "manifest.parquet", "--catalogue", tmp_path / "c", "--models", "no-such-preset")
    assert_one_line_error(result, "no-such-preset")


# -- catalogue folder -------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["run", "rerun-failed", "query", "report"])
def test_catalogue_path_that_is_a_file(sample_dir: Path, tmp_path: Path, command: str):
    catalogue = tmp_path / "catalogue.parquet"
    catalogue.write_bytes(b"not a folder")
    args = {"run": ["run", sample_dir / "manifest.parquet"], "rerun-failed": ["rerun-failed"],
            "query": ["query", "SELECT 1"], "report": ["report", "--out", tmp_path / "r.html"]}[command]
    result = tryon(*args, "--catalogue", catalogue)
    assert_one_line_error(result, str(catalogue))


def test_catalogue_that_cannot_be_written(sample_dir: Path, tmp_path: Path):
    catalogue = _unwritable_folder(tmp_path)
    result = tryon("run", sample_dir / "manifest.parquet", "--catalogue", catalogue)
    assert_one_line_error(result, "cannot write to catalogue", str(catalogue))


def test_busy_catalogue_is_refused_before_prefect_starts(sample_dir: Path, tmp_path: Path):
    catalogue = Catalogue(tmp_path / "c")
    with catalogue.exclusive():  # another run holds it
        result = tryon("run", sample_dir / "manifest.parquet", "--catalogue", catalogue.root)
    assert_one_line_error(result, "another tryon run", str(catalogue.root))
    assert catalogue.read_runs() == []


# -- report -----------------------------------------------------------------------------------
def test_report_out_that_is_a_folder(tmp_path: Path):
    catalogue = _catalogue_with_a_run(tmp_path / "c")
    folder = tmp_path / "reports"
    folder.mkdir()
    assert_one_line_error(tryon("report", "--catalogue", catalogue.root, "--out", folder), str(folder), "is a folder")


@pytest.mark.parametrize("max_pairs", ["0", "-3"])
def test_report_max_pairs_must_be_positive(tmp_path: Path, max_pairs: str):
    catalogue = _catalogue_with_a_run(tmp_path / "c")
    result = tryon("report", "--catalogue", catalogue.root, "--out", tmp_path / "r.html", "--max-pairs", max_pairs)
    assert_one_line_error(result, "--max-pairs")
    assert not (tmp_path / "r.html").exists()


# -- serve and Prefect ------------------------------------------------------------------------
@pytest.mark.parametrize("cron, timezone, words", [
    ("every night", "UTC", ("every night", "cron")), ("61 2 * * *", "UTC", ("61 2 * * *",)),
    ("0 2 * * *", "Mars/Olympus_Mons", ("Mars/Olympus_Mons", "timezone")),
])
def test_serve_refuses_a_bad_schedule(sample_dir: Path, tmp_path: Path, cron: str, timezone: str,
                                      words: tuple[str, ...]):
    result = tryon("serve", sample_dir / "manifest.parquet", "--catalogue", tmp_path / "c", "--cron", cron,
                   "--timezone", timezone)
    assert_one_line_error(result, "bad schedule", *words)


def test_unreachable_prefect_api_url(sample_dir: Path, tmp_path: Path):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    result = tryon("run", sample_dir / "manifest.parquet", "--catalogue", tmp_path / "c",
                   env={"PREFECT_API_URL": url})
    assert_one_line_error(result, url, "PREFECT_API_URL")


# -- permissions ------------------------------------------------------------------------------
def test_manifest_that_cannot_be_read(tmp_path: Path):
    manifest = _unreadable_file(tmp_path)
    result = tryon("run", manifest, "--catalogue", tmp_path / "c")
    assert_one_line_error(result, str(manifest))


def test_report_that_cannot_be_written(tmp_path: Path):
    catalogue = _catalogue_with_a_run(tmp_path / "c")
    target = _unwritable_folder(tmp_path) / "report.html"
    result = tryon("report", "--catalogue", catalogue.root, "--out", target)
    assert_one_line_error(result, "cannot write the report", str(target))
