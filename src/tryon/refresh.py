"""Re-write or re-score a stored row without running any stage again.

A pair whose inputs and config are unchanged keeps its images; when only its carried
columns, its ground truth or the quality gate changed, its newest row is copied with the
new values: the gate is re-applied to the stored metrics, and a new ground truth is scored
against the stored output image (the gt_* metrics need nothing else).
"""

from __future__ import annotations

from typing import Any

from tryon.catalogue.schema import STATUS_SUCCEEDED
from tryon.catalogue.store import Catalogue, utc_now
from tryon.config import RunConfig
from tryon.errors import PairError
from tryon.images import load_rgb
from tryon.pairs import Pair
from tryon.paths import confined_file
from tryon.quality_gate import review_reasons
from tryon.rows import base_row, failed


def refreshed_row(previous: dict[str, Any], pair: Pair, reason: str, *, config: RunConfig,
                  catalogue: Catalogue) -> dict[str, Any]:
    """`previous` (the pair's newest row) brought up to date for `reason`."""
    row = {name: value for name, value in previous.items() if name != "run_id"}
    row.update(base_row(pair, config_hash=config.config_hash(), engine_name=previous["engine"]))
    row["reused_from_run_id"] = previous.get("reused_from_run_id") or previous["run_id"]
    row["finished_at"] = utc_now()
    if previous["status"] != STATUS_SUCCEEDED:
        return row
    if reason == "ground_truth_changed":
        try:
            row.update(_ground_truth_metrics(previous, pair, config, catalogue))
        except PairError as error:
            return failed(row, error.error_type, error.message)
    reasons = review_reasons(row, config.quality_gate)
    row["needs_review"] = bool(reasons)
    row["review_reasons"] = "; ".join(reasons) or None
    return row


def _ground_truth_metrics(previous: dict[str, Any], pair: Pair, config: RunConfig,
                          catalogue: Catalogue) -> dict[str, Any]:
    from tryon.metrics.paired import paired_metrics

    if pair.ground_truth_image is None:  # ground truth removed: the gt_* columns become null
        return paired_metrics(None, None)  # type: ignore[arg-type]
    output_path = confined_file(previous.get("output_image"), catalogue.images_dir, base=catalogue.root)
    if output_path is None:
        raise PairError("missing_file", f"{pair.label}: its stored output image is gone; rerun it with "
                                        f"`tryon run --force --only {pair.pair_id}`")
    output = load_rgb(output_path, limits=config.limits, label=f"{pair.label} output_image")
    ground_truth = load_rgb(pair.ground_truth_image, limits=config.limits, label=f"{pair.label} ground_truth_image")
    return paired_metrics(output, ground_truth)
