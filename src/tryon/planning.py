"""What a run must do for each pair, from what the catalogue already holds.

Per kind of change: new inputs, config, a deleted output or --force redo the work; a new
ground truth re-scores the stored output; changed carried columns or quality gate re-write
the row. Identical work inside one run is done once, and rows that failed validation are
recorded again only when they changed.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from tryon.catalogue.schema import STATUS_SUCCEEDED
from tryon.catalogue.store import Catalogue
from tryon.manifest import FailedRow
from tryon.pairs import Pair
from tryon.rows import WRITE_FAILED

PLAN_COLUMNS = ["pair_id", "input_hash", "config_hash", "status", "error_type", "output_image",
                "ground_truth_sha256", "extras_hash", "gate_hash"]
# Plan reasons that run the stages; the others re-write or re-score the stored row.
REDO_REASONS = {"new", "inputs_changed", "config_changed", "retry_failed", "output_missing", "forced"}
# A rejected manifest row is recorded again only when one of these changed.
INVALID_ROW_IDENTITY = ("row_index", "status", "error_type", "error_message", "category", "person_image",
                        "garment_image", "extras_hash")


def refresh_reason(previous: dict[str, Any], pair: Pair, gate_hash: str) -> str | None:
    """Why an unchanged pair's row is re-written anyway, or None: it is current."""
    if previous.get("error_type") == WRITE_FAILED:
        return None  # nothing stored to re-write: rerun-failed redoes it
    if previous.get("ground_truth_sha256") != pair.ground_truth_sha256:
        return "ground_truth_changed"
    if previous.get("extras_hash") != pair.extras_hash:
        return "extras_changed"
    if previous["status"] == STATUS_SUCCEEDED and previous.get("gate_hash") != gate_hash:
        return "gate_changed"
    return None


def group_identical_work(todo: list[Pair]) -> tuple[list[Pair], dict[str, tuple[Pair, list[Pair]]]]:
    """One leader per distinct piece of work, and per leader's id the pairs that get copies
    of its row instead of doing the same work again."""
    leaders: dict[tuple, Pair] = {}
    followers: dict[str, tuple[Pair, list[Pair]]] = {}
    for pair in todo:
        leader = leaders.setdefault(pair.work_key, pair)
        if leader is not pair:
            followers.setdefault(leader.pair_id, (leader, []))[1].append(pair)
    return list(leaders.values()), followers


class StoredOutputs:
    """Whether a row's output image is still in the catalogue. Each images/ folder is listed
    once: a stat per pair would dominate planning a million-pair catalogue. Nothing is
    opened here, so a lexical check that the path stays under images/ is enough."""

    def __init__(self, catalogue: Catalogue):
        self.root = catalogue.root
        self.images = catalogue.images_dir.relative_to(catalogue.root).as_posix()
        self._listed: dict[str, set[str]] = {}

    def exists(self, raw: Any) -> bool:
        if not isinstance(raw, str) or not raw or "\x00" in raw or os.path.isabs(raw):
            return False
        folder, name = os.path.split(os.path.normpath(raw))
        if not (folder + "/").startswith(self.images + "/"):
            return False
        if folder not in self._listed:
            try:
                self._listed[folder] = set(os.listdir(self.root / folder))
            except OSError:
                self._listed[folder] = set()
        return name in self._listed[folder]


class RecordedInvalidRows:
    """The rows that failed validation as the catalogue last recorded them."""

    def __init__(self, catalogue: Catalogue):
        columns = ["pair_id", *INVALID_ROW_IDENTITY]
        self.latest = {row["pair_id"]: row for row in select_rows(catalogue, columns, "latest")}
        # A duplicate pair_id row never becomes the newest row of its pair: look it up by manifest row.
        newest_duplicates = (
            "(SELECT * FROM results WHERE error_type = 'duplicate_pair_id' QUALIFY row_number() OVER "
            "(PARTITION BY pair_id, row_index ORDER BY run_id DESC, finished_at DESC) = 1)"
        )
        self.duplicates = {(row["pair_id"], row["row_index"]): row
                           for row in select_rows(catalogue, columns, newest_duplicates)}

    def unchanged(self, failure: FailedRow, row: dict[str, Any]) -> bool:
        if failure.error_type == "duplicate_pair_id":
            before = self.duplicates.get((failure.pair_id, failure.row_index))
        else:
            before = self.latest.get(failure.pair_id)
        return before is not None and all(before.get(key) == row.get(key) for key in INVALID_ROW_IDENTITY)


def select_rows(catalogue: Catalogue, columns: list[str] | None, relation: str,
                pair_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """`columns` (None: all) of a view over the results, as plain Python rows; a column no
    file has yet (a catalogue written by an older version) reads as None."""
    from tryon.catalogue.views import connect

    if not catalogue.result_files():
        return []
    with connect(catalogue.root) as connection:
        present = [row[0] for row in connection.execute("DESCRIBE results").fetchall()]
        quoted = {name: '"' + name.replace('"', '""') + '"' for name in columns or present}
        selected = ", ".join(quoted[name] if name in present else f"NULL AS {quoted[name]}" for name in quoted)
        sql = f"SELECT {selected} FROM {relation}"
        if pair_ids is not None:
            connection.register("wanted_pairs", pa.table({"pair_id": pa.array(pair_ids, pa.string())}))
            sql += " WHERE pair_id IN (SELECT pair_id FROM wanted_pairs)"
        return connection.sql(sql).to_arrow_table().to_pylist()
