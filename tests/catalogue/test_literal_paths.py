"""Catalogue folders whose names hold glob characters are read literally: never as a pattern
that fails or that matches a sibling catalogue."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import tryon.catalogue as cat
from tryon.catalogue.schema import result_schema
from tryon.catalogue.store import Catalogue, utc_now
from tryon.failures import failed_pair_ids
from tryon.planning import select_rows

RUN_ID = "20260101T000000-aaaaaa"


def _fill(root: Path, pair_id: str, status: str = "failed") -> Catalogue:
    catalogue = Catalogue(root).create()
    schema = result_schema(["preserve_ssim"], {})
    catalogue.write_results(RUN_ID, "shard-00000", [{"pair_id": pair_id, "status": status, "row_index": 0,
                                                     "finished_at": utc_now()}], schema)
    catalogue.write_run({"run_id": RUN_ID, "status": "finished", "kind": "run", "manifest": f"{pair_id}.parquet"})
    return catalogue


# Each name is a pattern that also matches the sibling folder `aXb` (brace: `a{X,Y}b`).
@pytest.mark.parametrize("name", ["a[X]b", "a*b", "a?b", "a{X,Y}b", "a]b", "a[b"])
def test_catalogue_named_like_a_glob_reads_only_itself(tmp_path: Path, name: str):
    _fill(tmp_path / "aXb", "sibling")
    catalogue = _fill(tmp_path / name, "mine")
    assert cat.load(catalogue.root)["pair_id"].tolist() == ["mine"]
    assert cat.load(catalogue.root, run_id=RUN_ID)["pair_id"].tolist() == ["mine"]
    assert cat.runs(catalogue.root)["manifest"].tolist() == ["mine.parquet"]
    assert select_rows(catalogue, ["pair_id"], "latest") == [{"pair_id": "mine"}]
    assert failed_pair_ids(catalogue) == ["mine"]
    assert cat.query(catalogue.root, "SELECT count(*) AS n FROM results")["n"].tolist() == [1]


@pytest.mark.slow  # one real run (~20 s on 2 loaded cores)
def test_a_run_into_a_glob_named_catalogue_finishes_and_reads_only_itself(sample_dir: Path, tmp_path: Path):
    import pandas as pd

    from tryon.config import RunConfig
    from tryon.local import run_local

    manifest = sample_dir / "two.parquet"
    pd.read_parquet(sample_dir / "manifest.parquet").head(2).to_parquet(manifest, index=False)
    for sibling in ("out1a{x}", "out1ax"):  # what `out[1]*?{x}` matches as a pattern (braces literal or not)
        _fill(tmp_path / sibling, "sibling")
    catalogue = tmp_path / "out[1]*?{x}"
    record = run_local(manifest, catalogue, RunConfig(engine="preview"))  # finish() queried a glob before
    assert record["status"] == "finished" and record["pairs_succeeded"] == 2
    assert sorted(cat.load(catalogue)["pair_id"]) == ["p001", "p002"]
    again = run_local(manifest, catalogue, RunConfig(engine="preview"))
    assert again["pairs_skipped"] == 2  # the planner read this catalogue's rows, not the sibling's
