"""Building catalogue rows: what gets recorded for a pair, succeeded or failed."""

from __future__ import annotations

import json
from typing import Any

from tryon import __version__
from tryon.catalogue.schema import STATUS_FAILED, STATUS_SUCCEEDED
from tryon.catalogue.store import utc_now
from tryon.manifest import FailedRow
from tryon.pairs import Pair


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
        "config_hash": config_hash,
        "engine": engine_name,
        "tryon_version": __version__,
        **failure.extras,
    }
    return failed(row, failure.error_type, failure.error_message)


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
