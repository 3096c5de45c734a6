"""Compare two runs or two engines for the same pairs: medians and per-pair deltas (B - A)."""

from __future__ import annotations

import pandas as pd
import pytest

from tryon.review.compare import Side, compare

from tests.review.conftest import synthetic_catalogue

OLD, NEW = "20261101T000000-000001", "20261102T000000-000002"


@pytest.fixture
def two_runs(tmp_path):
    old = synthetic_catalogue(tmp_path, 300, run_id=OLD)
    new = synthetic_catalogue(tmp_path, 300, run_id=NEW)
    shard = tmp_path / "results" / f"run_id={NEW}" / "shard-00000.parquet"
    changed = pd.read_parquet(shard)
    changed["preserve_ssim"] = changed["preserve_ssim"] - 0.01 * (changed.index % 7)
    changed = changed.iloc[:250]  # the newer run redid only 250 pairs
    changed.to_parquet(shard, index=False)
    return tmp_path, old, changed.assign(run_id=NEW)


def test_default_compares_the_two_newest_runs(two_runs):
    root, old, new = two_runs
    result = compare(root, None, None, sort="preserve_ssim", size=20)
    assert (str(result.a), str(result.b)) == (f"run:{OLD}", f"run:{NEW}")
    assert result.total == 250 and result.pages == 13
    merged = new.merge(old, on="pair_id", suffixes=("_b", "_a"))
    delta = merged["preserve_ssim_b"] - merged["preserve_ssim_a"]
    summary = {item["metric"]: item for item in result.summary}["preserve_ssim"]
    assert summary["median_delta"] == pytest.approx(delta.median())
    assert summary["mean_delta"] == pytest.approx(delta.mean())
    assert abs(result.rows[0]["b:preserve_ssim"] - result.rows[0]["a:preserve_ssim"]) == pytest.approx(delta.abs().max())
    assert "run:" + OLD in result.choices and "engine:sdxl" in result.choices


def test_engines_are_sides_too(two_runs):
    root, _, new = two_runs
    result = compare(root, Side.parse("engine:preview"), Side.parse("engine:sdxl"))
    assert result.total == 0  # each synthetic pair has one engine in both runs, so no pair has both
    assert Side.parse("nonsense") is None and Side.parse("run:") is None
    same = compare(root, Side.parse(f"run:{NEW}"), Side.parse("engine:sdxl"))
    assert same.total == int((new["engine"] == "sdxl").sum())
