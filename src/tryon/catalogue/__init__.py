"""The Parquet catalogue: writing runs atomically, and reading them back (pandas, DuckDB).

    import tryon.catalogue as cat
    frame = cat.load("catalogue/")            # newest row per pair
    frame = cat.load("catalogue/", run_id=…)   # one run's rows
"""

from __future__ import annotations

from pathlib import Path

from tryon.catalogue.store import Catalogue, CatalogueBusyError, new_run_id
from tryon.catalogue.views import connect, query

__all__ = ["Catalogue", "CatalogueBusyError", "connect", "load", "new_run_id", "query", "runs"]


def load(root: str | Path, run_id: str | None = None, with_review: bool = False):
    """A pandas DataFrame of the `latest` view, or of one run's rows when `run_id` is given.

    `with_review` adds the reviewers' newest decision about each row's exact image
    (`review_decision`, `review_reason`, `review_note`, `reviewer`, `reviewed_at`; null when
    nobody has decided on that image).
    """
    source = "latest" if run_id is None else f"results WHERE run_id = '{_escape(run_id)}'"
    order = "pair_id" if run_id is None else "row_index, pair_id"
    if not with_review:
        return query(root, f"SELECT * FROM {source} ORDER BY {order}")
    return query(root, f"""
        SELECT rows.*, decided.decision AS review_decision, decided.reason AS review_reason,
               decided.note AS review_note, decided.reviewer, decided.decided_at AS reviewed_at
        FROM (SELECT * FROM {source}) rows
        LEFT JOIN review_by_output decided
               ON decided.pair_id = rows.pair_id AND decided.output_sha256 = rows.output_sha256
        ORDER BY {order}""")


def runs(root: str | Path):
    """A pandas DataFrame of the `runs` table, oldest first."""
    return query(root, "SELECT * FROM runs ORDER BY run_id")


def _escape(value: str) -> str:
    return value.replace("'", "''")
