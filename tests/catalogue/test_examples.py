"""The README's example queries run on a real catalogue and answer correctly."""

import pytest

import tryon.catalogue as cat
from tryon.config import RunConfig
from tryon.examples import EXAMPLE_QUERIES
from tryon.local import run_local

from tests.conftest import SAMPLE_DIR


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    root = tmp_path_factory.mktemp("catalogue")
    run_local(SAMPLE_DIR / "manifest.parquet", root, RunConfig(engine="preview"))
    run_local(SAMPLE_DIR / "manifest.parquet", root, RunConfig(engine="preview", preview={"blend": "alpha"}))
    return root


def test_pass_rate_by_category(catalogue):
    frame = cat.query(catalogue, EXAMPLE_QUERIES["pass rate by category"]).set_index("category")
    assert frame.loc["upper_body", "pass_rate"] == 1.0 and frame.loc["dresses", "pass_rate"] == 0.0


def test_failures_by_error_type(catalogue):
    frame = cat.query(catalogue, EXAMPLE_QUERIES["failures by error type"])
    assert frame["error_type"].tolist() == ["person_cut_off"] and frame["pairs"].tolist() == [1]


def test_worst_by_preservation_and_runs_compared(catalogue):
    worst = cat.query(catalogue, EXAMPLE_QUERIES["worst 20 by preservation"])
    assert len(worst) == 4 and worst["preserve_ssim"].is_monotonic_increasing
    runs = cat.query(catalogue, EXAMPLE_QUERIES["runs compared"])
    assert len(runs) == 2 and (runs["pass_rate"] == 0.8).all()


def test_outputs_changed_between_two_runs(catalogue):
    changed = cat.query(catalogue, EXAMPLE_QUERIES["outputs changed between two runs"])
    # seamless -> alpha blending changes every succeeded output; the failed pair has no output in either
    assert sorted(changed["pair_id"]) == ["p001", "p002", "p003", "p004"]
