"""The default quality gate on a defect set built here from good preview outputs of data/sample.

Enforces the two numbers of the gate's contract: at least 95 % of the defects flagged, at most
5 % of the good outputs. The per-kind table is printed by benchmarks/gate.py (benchmarks/README.md).
"""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLE_DIR
from tryon.calibration import confusion_table, sample_good_outputs, score
from tryon.config import DEFAULT_QUALITY_GATE, RunConfig
from tryon.metrics.defects import DEFECTS, make_defects

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scored():
    goods = sample_good_outputs(SAMPLE_DIR)
    return score(goods + make_defects(goods, seed=0), DEFAULT_QUALITY_GATE)


def test_the_default_gate_is_the_run_default():
    assert RunConfig().quality_gate == DEFAULT_QUALITY_GATE


def test_the_defect_set_holds_every_kind_built_from_real_good_outputs(scored):
    kinds = {item.kind for item in scored}
    assert kinds == {"good", *DEFECTS}
    goods = [item for item in scored if item.kind == "good"]
    assert len(goods) >= 40  # 2 photos x 3 garments x 2 blends x mirrored, and each through a half-size canvas
    assert all(len([item for item in scored if item.kind == kind]) == len(goods) for kind in DEFECTS)


def test_the_default_gate_flags_at_least_95_percent_of_defects_and_at_most_5_percent_of_good_outputs(scored):
    table = confusion_table(scored).set_index("kind")
    print("\n" + table.to_string())
    defects = [item for item in scored if item.kind != "good"]
    goods = [item for item in scored if item.kind == "good"]
    caught = sum(item.flagged for item in defects) / len(defects)
    false_alarms = sum(item.flagged for item in goods) / len(goods)
    assert caught >= 0.95, table
    assert false_alarms <= 0.05, table


def test_review_reasons_name_the_bound_each_flagged_pair_broke(scored):
    for item in scored:
        for reason in item.reasons:
            name = reason.split("=")[0]
            assert name in DEFAULT_QUALITY_GATE or name in ("is_blank", "is_black", "has_nan"), reason
            if name in DEFAULT_QUALITY_GATE:
                bounds = DEFAULT_QUALITY_GATE[name]
                value = item.metrics[name]
                assert (bounds.min is not None and value < bounds.min) or (bounds.max is not None and value > bounds.max)
    by_kind = {kind: {reason.split("=")[0] for item in scored if item.kind == kind for reason in item.reasons}
               for kind in ("old_garment_kept", "visible_seam", "degraded_outside")}
    assert "garment_unchanged_fraction" in by_kind["old_garment_kept"]
    assert "seam_edge_fraction" in by_kind["visible_seam"]
    assert by_kind["degraded_outside"] & {"raw_preserve_ssim", "raw_preserve_color_shift"}
