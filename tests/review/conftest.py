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
