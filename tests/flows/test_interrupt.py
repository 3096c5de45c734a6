"""Ctrl-C in the terminal (SIGINT to the whole foreground process group, which also holds
Prefect's temporary server) stops a run within seconds: exit 130, one line, the run marked
`interrupted`, finished shards kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import tryon.catalogue as cat

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.flow, pytest.mark.slow]
PAIRS = 40


def _many_pairs_manifest(sample_dir: Path) -> Path:
    sample = pd.read_parquet(sample_dir / "manifest.parquet")
    good = sample[sample["pair_id"] != "p005"].to_dict("records")
    rows = [{**good[index % len(good)], "pair_id": f"slow{index:03d}"} for index in range(PAIRS)]
    frame = pd.DataFrame(rows)
    frame["seed"] = frame["seed"].astype("Int64")
    path = sample_dir / "slow.parquet"
    frame.to_parquet(path, index=False)
    return path


def test_ctrl_c_stops_within_seconds_and_marks_the_run_interrupted(sample_dir: Path, tmp_path: Path):
    manifest = _many_pairs_manifest(sample_dir)
    catalogue = tmp_path / "catalogue"
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    child = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", str(manifest), "--catalogue", str(catalogue), "--shard-size", "1",
         "-q"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 300
        while not list(catalogue.glob("results/run_id=*/shard-*.parquet")):
            assert child.poll() is None, child.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no shard written in 300 s"
            time.sleep(0.1)
        os.killpg(child.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        interrupted_at = time.monotonic()
        _, stderr = child.communicate(timeout=120)
        stopped_after = time.monotonic() - interrupted_at
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

    assert child.returncode == 130, stderr[-3000:]
    assert stopped_after < 30, f"took {stopped_after:.1f}s to stop"  # was ~70 s of retries against a dead API
    assert "Traceback" not in stderr and "ConnectError" not in stderr, stderr[-3000:]
    assert "Crash detected" not in stderr, stderr[-3000:]  # Prefect's per-task reports of the same interrupt
    tryon_lines = [line for line in stderr.splitlines() if line.startswith("tryon:")]
    assert len(tryon_lines) == 1 and "interrupted" in tryon_lines[0], stderr[-3000:]
    runs = cat.runs(catalogue)
    assert runs["status"].tolist() == ["interrupted"]
    kept = cat.load(catalogue)
    assert 1 <= len(kept) < PAIRS and (kept["status"] == "succeeded").all()
