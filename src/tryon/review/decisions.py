"""Reviewers' decisions: validated, then appended to reviews/ as one Parquet file per batch."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from tryon.atomic import atomic_path
from tryon.catalogue.schema import REVIEW_FIELDS, rows_to_table
from tryon.errors import TryonError

DECISIONS = ("approved", "rejected")
# The short list a reviewer picks from when rejecting (key -> label); free text goes in `note`.
REJECT_REASONS: dict[str, str] = {
    "garment_wrong": "wrong garment, colour or pattern",
    "garment_distorted": "garment distorted or badly fitted",
    "person_changed": "face, body or background changed",
    "artifacts": "artefacts, blur or noise",
    "mask_wrong": "mask missed or overshot the garment",
    "other": "other (see note)",
}
MAX_BATCH = 1000
MAX_NOTE_CHARS = 2000


class DecisionError(TryonError):
    """A decision request the reviewer (or a script) got wrong; the message says what."""


@dataclass(frozen=True)
class Decision:
    pair_id: str
    run_id: str
    output_sha256: str
    decision: str
    reason: str | None
    note: str | None
    reviewer: str
    decided_at: datetime

    def as_row(self) -> dict[str, Any]:
        return dict(self.__dict__)


def make_decisions(items: Iterable[dict[str, Any]], decision: str, reason: str | None, note: str | None,
                   reviewer: str, now: datetime | None = None) -> list[Decision]:
    """Validate one request (one decision for one or more images) into Decision records."""
    if decision not in DECISIONS:
        raise DecisionError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if decision == "rejected" and reason not in REJECT_REASONS:
        raise DecisionError(f"a rejection needs a reason from: {', '.join(REJECT_REASONS)} (got {reason!r})")
    if decision == "approved" and reason:
        raise DecisionError("an approval takes no reason; put remarks in the note")
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE_CHARS:
        raise DecisionError(f"the note has {len(note)} characters; keep it under {MAX_NOTE_CHARS}")
    now = now or datetime.now(timezone.utc)
    records, seen = [], set()
    for item in items:
        key = tuple(str(item.get(name) or "") for name in ("pair_id", "run_id", "output_sha256"))
        if not all(key):
            raise DecisionError("every item needs pair_id, run_id and output_sha256 (the image decided on)")
        if key not in seen:
            seen.add(key)
            records.append(Decision(*key, decision=decision, reason=reason if decision == "rejected" else None,
                                    note=note, reviewer=reviewer, decided_at=now))
    if not records:
        raise DecisionError("no pairs selected")
    if len(records) > MAX_BATCH:
        raise DecisionError(f"{len(records)} pairs in one request; send at most {MAX_BATCH} at a time")
    return records


def reviews_dir(root: str | Path) -> Path:
    return Path(root).resolve() / "reviews"


def append_decisions(root: str | Path, decisions: list[Decision]) -> Path:
    """Write one batch as its own Parquet file, by atomic rename under a unique name.

    Nothing is ever rewritten, so two apps (or two reviewers) on one catalogue cannot lose
    or corrupt each other's decisions; readers see a whole batch or none of it.
    """
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    target = reviews_dir(root) / f"decisions-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:12]}.parquet"
    table = rows_to_table([decision.as_row() for decision in decisions], pa.schema(REVIEW_FIELDS))
    for attempt in range(2):
        try:
            with atomic_path(target) as temp:
                pq.write_table(table, temp)
            return target
        except FileNotFoundError:
            # A `tryon run` starting on this catalogue sweeps leftover temp files; write again.
            if attempt:
                raise
    return target
