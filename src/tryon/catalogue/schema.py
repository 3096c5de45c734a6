"""Column names and types of the catalogue's `results` and `runs` tables."""

from __future__ import annotations

from collections import Counter
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
    pa.field("output_format", pa.string()),  # png | webp | jpeg ([output] format)
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
    # What decides whether a later run redoes, re-scores or re-writes a pair (README, Caching).
    pa.field("ground_truth_image", pa.string()),
    pa.field("ground_truth_sha256", pa.string()),
    pa.field("extras_hash", pa.string()),  # the carried manifest columns
    pa.field("gate_hash", pa.string()),  # the quality gate the row was judged by
    pa.field("reused_from_run_id", pa.string()),  # re-scored/re-written row: the run that made its images
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
    pa.field("error_message", pa.string()),  # why a run ended `failed`
]

# The hive partition column: not in the files, but a column of every reader's table.
PARTITION_COLUMN = "run_id"
# Helper columns of the views and the report start with an underscore (e.g. `_rank` in `latest`).
INTERNAL_PREFIX = "_"
# Flag families: metric_type() makes every such column a boolean.
FLAG_PREFIXES = ("is_", "has_")


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

# One row per decision a reviewer made (`tryon review`), appended under reviews/. A decision is
# about one exact image (`output_sha256`): a rerun that makes a new image is unreviewed again.
REVIEW_FIELDS: list[pa.Field] = [
    pa.field("pair_id", pa.string(), nullable=False),
    pa.field("run_id", pa.string(), nullable=False),
    pa.field("output_sha256", pa.string(), nullable=False),
    pa.field("decision", pa.string(), nullable=False),  # approved | rejected
    pa.field("reason", pa.string()),  # one of tryon.review.decisions.REJECT_REASONS when rejected
    pa.field("note", pa.string()),
    pa.field("reviewer", pa.string()),
    pa.field("decided_at", pa.timestamp("us", tz="UTC"), nullable=False),
]


def catalogue_columns() -> list[str]:
    """Every column name the catalogue writes itself: the result fields, the partition column
    and the metric columns (imported lazily: tryon.metrics pulls in scikit-image)."""
    from tryon.metrics import METRIC_COLUMNS

    return [field.name for field in RESULT_FIELDS] + [PARTITION_COLUMN] + list(METRIC_COLUMNS)


def reserved_prefixes() -> tuple[str, ...]:
    """Name prefixes the catalogue keeps for itself.

    A family is a first word that two or more catalogue columns share (`seconds_decode`,
    `seconds_engine`; `preserve_psnr`, `preserve_ssim`; `model_preset`, `model_fingerprint`),
    derived from the schema so that a column added later to a family is reserved already.
    """
    first_words = Counter(name.split("_", 1)[0] + "_" for name in catalogue_columns() if "_" in name)
    families = {prefix for prefix, count in first_words.items() if count >= 2}
    return tuple(sorted(families | set(FLAG_PREFIXES) | {INTERNAL_PREFIX}))


def reserved_name_conflicts(names: Iterable[str]) -> list[str]:
    """Carried-column names that clash with the catalogue, each with why (empty: none clash).

    Compared case-insensitively, as DuckDB resolves names: `RUN_ID` is `run_id` there.
    """
    own = {name.lower(): name for name in catalogue_columns()}
    prefixes = reserved_prefixes()
    conflicts: list[str] = []
    seen: dict[str, str] = {}
    for name in names:
        folded = name.lower()
        if folded in own:
            conflicts.append(f"{name} (the catalogue's column {own[folded]})")
        elif folded.startswith(prefixes):
            prefix = next(prefix for prefix in prefixes if folded.startswith(prefix))
            conflicts.append(f"{name} (prefix {prefix!r} is reserved)")
        elif folded in seen:
            conflicts.append(f"{name} (same name as {seen[folded]} when case is ignored)")
        seen.setdefault(folded, name)
    return conflicts
