"""Column names and types of the catalogue's `results` and `runs` tables."""

from __future__ import annotations

from typing import Any, Iterable

import pyarrow as pa

STATUS_SUCCEEDED = "succeeded"
STATUS_FAILED = "failed"

# One row per pair per run. `run_id` is not stored in the files: it is the hive partition
# (results/run_id=<id>/), which pyarrow, pandas and DuckDB all turn back into a column.
RESULT_FIELDS: list[pa.Field] = [
    pa.field("pair_id", pa.string(), nullable=False),
    pa.field("row_index", pa.int64()),
    pa.field("status", pa.string(), nullable=False),
    pa.field("error_type", pa.string()),
    pa.field("error_message", pa.string()),
    pa.field("needs_review", pa.bool_()),  # succeeded, but outside the quality gate
    pa.field("review_reasons", pa.string()),
    pa.field("category", pa.string()),
    pa.field("person_image", pa.string()),
    pa.field("garment_image", pa.string()),
    pa.field("person_sha256", pa.string()),
    pa.field("garment_sha256", pa.string()),
    pa.field("input_hash", pa.string()),
    pa.field("output_image", pa.string()),
    pa.field("output_sha256", pa.string()),
    pa.field("output_resized_from", pa.string()),  # `tryon score`: WxH of a try-on resized to the photo's size
    pa.field("mask_image", pa.string()),
    pa.field("mask_overlay_image", pa.string()),
    pa.field("depth_image", pa.string()),
    pa.field("mask_source", pa.string()),
    pa.field("engine", pa.string()),
    pa.field("engine_version", pa.string()),
    pa.field("engine_parameters", pa.string()),  # JSON: every parameter that made the image
    pa.field("model_preset", pa.string()),
    pa.field("model_fingerprint", pa.string()),
    pa.field("model_revisions", pa.string()),  # JSON: component -> repo@sha
    pa.field("random_weights", pa.bool_()),
    pa.field("config_hash", pa.string()),
    pa.field("seed", pa.int64()),
    pa.field("prompt", pa.string()),
    pa.field("garment_description", pa.string()),
    pa.field("device", pa.string()),
    pa.field("tryon_version", pa.string()),
    pa.field("diffusers_version", pa.string()),
    pa.field("transformers_version", pa.string()),
    pa.field("torch_version", pa.string()),
    pa.field("seconds_decode", pa.float64()),
    pa.field("seconds_masking", pa.float64()),
    pa.field("seconds_depth", pa.float64()),
    pa.field("seconds_engine", pa.float64()),
    pa.field("seconds_metrics", pa.float64()),
    pa.field("finished_at", pa.timestamp("us", tz="UTC")),
]

RUN_FIELDS: list[pa.Field] = [
    pa.field("run_id", pa.string(), nullable=False),
    pa.field("parent_run_id", pa.string()),
    pa.field("kind", pa.string()),  # run | rerun-failed
    pa.field("status", pa.string()),  # running | finished | interrupted
    pa.field("started_at", pa.timestamp("us", tz="UTC")),
    pa.field("finished_at", pa.timestamp("us", tz="UTC")),
    pa.field("manifest", pa.string()),
    pa.field("manifest_sha256", pa.string()),
    pa.field("data_root", pa.string()),
    pa.field("engine", pa.string()),
    pa.field("config", pa.string()),  # JSON of the full RunConfig
    pa.field("config_hash", pa.string()),
    pa.field("pairs_total", pa.int64()),
    pa.field("pairs_planned", pa.int64()),
    pa.field("pairs_skipped", pa.int64()),
    pa.field("planned_by_reason", pa.string()),  # JSON: new | inputs_changed | config_changed | retry_failed
    pa.field("skipped_by_reason", pa.string()),  # JSON: unchanged_succeeded | unchanged_failed
    pa.field("pairs_succeeded", pa.int64()),
    pa.field("pairs_failed", pa.int64()),
    pa.field("pass_rate", pa.float64()),
    pa.field("failures_by_type", pa.string()),  # JSON
    pa.field("metric_summary", pa.string()),  # JSON: metric -> {median, p10, p90} over succeeded rows
    pa.field("metric_protocol", pa.string()),  # JSON: how gt_* were computed (resize, SSIM range, LPIPS backbone)
    pa.field("fid", pa.float64()),
    pa.field("kid", pa.float64()),
    pa.field("fid_note", pa.string()),
    pa.field("seconds_by_stage", pa.string()),  # JSON
    pa.field("cache_stats", pa.string()),  # JSON
    pa.field("stage_calls", pa.string()),  # JSON: batches each stage computed (0 on a fully cached rerun)
    pa.field("library_versions", pa.string()),  # JSON
    pa.field("host", pa.string()),
]


def metric_type(name: str) -> pa.DataType:
    """Flags are booleans, areas are pixel counts, every other metric is a float."""
    if name.startswith(("is_", "has_")) or name == "needs_review":
        return pa.bool_()
    if name.endswith("_area"):
        return pa.int64()
    return pa.float64()


def result_schema(metric_columns: Iterable[str], extra_columns: dict[str, pa.DataType]) -> pa.Schema:
    fields = list(RESULT_FIELDS)
    known = {field.name for field in fields}
    for name in metric_columns:
        if name not in known:
            fields.append(pa.field(name, metric_type(name)))
            known.add(name)
    for name, dtype in extra_columns.items():
        if name not in known:
            fields.append(pa.field(name, dtype))
            known.add(name)
    return pa.schema(fields)


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    columns = {field.name: [row.get(field.name) for row in rows] for field in schema}
    return pa.Table.from_pydict(columns, schema=schema)
