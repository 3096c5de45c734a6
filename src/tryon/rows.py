"""Building catalogue rows: what gets recorded for a pair, succeeded or failed."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from tryon import __version__
from tryon.catalogue.schema import STATUS_FAILED, STATUS_SUCCEEDED
from tryon.catalogue.store import utc_now
from tryon.manifest import FailedRow
from tryon.pairs import Pair, extras_hash


def base_row(pair: Pair, *, config_hash: str, engine_name: str) -> dict[str, Any]:
    return {
        "pair_id": pair.pair_id,
        "row_index": pair.row_index,
        "category": pair.category,
        "person_image": str(pair.person_image),
        "garment_image": str(pair.garment_image),
        "person_sha256": pair.person_sha256,
        "garment_sha256": pair.garment_sha256,
        "input_hash": pair.input_hash,
        "seed": pair.seed,
        "garment_description": pair.garment_description,
        "ground_truth_image": str(pair.ground_truth_image) if pair.ground_truth_image else None,
        "ground_truth_sha256": pair.ground_truth_sha256,
        "extras_hash": pair.extras_hash,
        "config_hash": config_hash,
        "engine": engine_name,
        "tryon_version": __version__,
        **pair.extras,
    }


def succeeded(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "status": STATUS_SUCCEEDED, "error_type": None, "error_message": None, "finished_at": utc_now()}


def failed(row: dict[str, Any], error_type: str, message: str) -> dict[str, Any]:
    return {**row, "status": STATUS_FAILED, "error_type": error_type, "error_message": message, "finished_at": utc_now()}


def invalid_manifest_row(failure: FailedRow, *, config_hash: str, engine_name: str) -> dict[str, Any]:
    row = {
        "pair_id": failure.pair_id,
        "row_index": failure.row_index,
        "category": failure.category,
        "person_image": failure.person_image,
        "garment_image": failure.garment_image,
        "extras_hash": extras_hash(failure.extras),
        "config_hash": config_hash,
        "engine": engine_name,
        "tryon_version": __version__,
        **failure.extras,
    }
    return failed(row, failure.error_type, failure.error_message)


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


WRITE_FAILED = "write_failed"
# Values any row can store: what a write_failed row keeps so planning and rerun-failed still work.
_STORABLE_CORE = ("pair_id", "row_index", "category", "person_image", "garment_image", "person_sha256",
                  "garment_sha256", "input_hash", "ground_truth_image", "ground_truth_sha256", "extras_hash",
                  "gate_hash", "config_hash", "seed", "engine", "tryon_version")


def label(row: dict[str, Any]) -> str:
    """How messages name a row (the same words as Pair.label)."""
    return f"row {row.get('row_index')} (pair_id {row.get('pair_id')!r})"


def follower_row(leader_row: dict[str, Any], leader: Pair, follower: Pair) -> dict[str, Any]:
    """The row of a pair whose work was identical to `leader`'s: the leader's images, metrics
    and outcome, with the follower's own id, manifest row, paths and carried columns."""
    row = {**leader_row, **base_row(follower, config_hash=leader_row["config_hash"], engine_name=leader_row["engine"])}
    if row.get("error_message"):
        row["error_message"] = row["error_message"].replace(leader.label, follower.label)
    return row


def unstorable_columns(row: dict[str, Any], schema: pa.Schema) -> list[str]:
    """Columns of `row` whose value Arrow cannot store with the schema's type."""
    bad = []
    for schema_field in schema:
        try:
            pa.array([row.get(schema_field.name)], type=schema_field.type)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            bad.append(schema_field.name)
    return bad


def storable_row(row: dict[str, Any], schema: pa.Schema) -> dict[str, Any]:
    """`row` if Arrow can store it; else a failed `write_failed` row that names the columns."""
    bad = unstorable_columns(row, schema)
    if not bad:
        return row
    core = {name: row.get(name) for name in _STORABLE_CORE if name not in bad}
    return failed(core, WRITE_FAILED,
                  f"{label(row)}: the pair was processed but its catalogue row could not be stored: column(s) "
                  f"{', '.join(bad)} hold values their type ({', '.join(str(schema.field(n).type) for n in bad)}) "
                  "cannot take; fix a manifest column's value in the manifest (any other column means a bug in a "
                  "stage: report it), then run `tryon rerun-failed`")
