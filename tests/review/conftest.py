"""A small real catalogue for the review app: the sample plus a pair whose id is HTML, two runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from tryon.config import RunConfig
from tryon.local import run_local

from tests.conftest import SAMPLE_DIR

HOSTILE_PAIR_ID = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">'\""


@pytest.fixture(scope="session")
def review_catalogue(tmp_path_factory) -> tuple[Path, list[str]]:
    """(catalogue, [first run id, second run id]); the second run used another blend mode."""
    base = tmp_path_factory.mktemp("review")
    data = base / "data"
    shutil.copytree(SAMPLE_DIR, data, ignore=shutil.ignore_patterns("*.py", "__pycache__", "ground_truth"))
    manifest = pd.read_parquet(data / "manifest.parquet")
    hostile = manifest[manifest["pair_id"] == "p001"].assign(pair_id=HOSTILE_PAIR_ID)
    manifest = pd.concat([manifest, hostile], ignore_index=True)
    manifest.to_parquet(data / "manifest.parquet", index=False)
    catalogue = base / "catalogue"
    first = run_local(data / "manifest.parquet", catalogue, RunConfig(engine="preview"))
    second = run_local(data / "manifest.parquet", catalogue,
                       RunConfig(engine="preview", preview={"blend": "alpha"}))
    return catalogue, [first["run_id"], second["run_id"]]


@pytest.fixture
def writable_catalogue(review_catalogue, tmp_path) -> tuple[Path, list[str]]:
    """A private copy of the review catalogue, for tests that write decisions."""
    catalogue, runs = review_catalogue
    copy = tmp_path / "catalogue"
    shutil.copytree(catalogue, copy, symlinks=True, ignore=shutil.ignore_patterns("reviews", "cache"))
    return copy, runs


def synthetic_catalogue(root: Path, pairs: int, run_id: str = "20261101T000000-000001") -> pd.DataFrame:
    """`pairs` result rows with known metrics, gate flags and failures, written as one run."""
    import numpy as np

    from tryon.catalogue.store import Catalogue

    rng = np.random.default_rng(7)
    catalogue = Catalogue(root).create()
    catalogue.write_run({"run_id": run_id, "status": "finished", "kind": "run", "engine": "preview"})
    failed = rng.random(pairs) < 0.05
    ssim = np.round(rng.uniform(0.5, 1.0, pairs), 4)
    flagged = ~failed & (ssim < 0.6)
    frame = pd.DataFrame({
        "pair_id": [f"s{index:05d}" for index in range(pairs)],
        "row_index": np.arange(pairs),
        "status": np.where(failed, "failed", "succeeded"),
        "error_type": [("stage_error" if fail else None) for fail in failed],
        "input_hash": [f"{index:016x}" for index in range(pairs)],
        "config_hash": "0" * 16,
        "category": rng.choice(["upper_body", "lower_body", "dresses"], pairs),
        "engine": rng.choice(["preview", "sdxl"], pairs),
        "needs_review": pd.array([None if fail else bool(flag) for fail, flag in zip(failed, flagged)], dtype="boolean"),
        "review_reasons": [f"preserve_ssim={value:.4g} < 0.6" if flag else None for value, flag in zip(ssim, flagged)],
        "output_sha256": [None if fail else f"{index:064x}" for index, fail in enumerate(failed)],
        "preserve_ssim": np.where(failed, np.nan, ssim),
        "garment_texture_ssim": np.round(rng.uniform(0, 1, pairs), 4),
        "finished_at": pd.Series(pd.Timestamp("2026-11-01", tz="UTC"), index=range(pairs)).astype("datetime64[us, UTC]"),
    })
    folder = root / "results" / f"run_id={run_id}"
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "shard-00000.parquet", index=False)
    return frame.assign(run_id=run_id)
