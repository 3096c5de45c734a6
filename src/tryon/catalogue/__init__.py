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


def load(root: str | Path, run_id: str | None = None):
    """A pandas DataFrame of the `latest` view, or of one run's rows when `run_id` is given."""
    if run_id is None:
        return query(root, "SELECT * FROM latest ORDER BY pair_id")
    return query(root, f"SELECT * FROM results WHERE run_id = '{_escape(run_id)}' ORDER BY row_index, pair_id")


def runs(root: str | Path):
    """A pandas DataFrame of the `runs` table, oldest first."""
    return query(root, "SELECT * FROM runs ORDER BY run_id")


def _escape(value: str) -> str:
    return value.replace("'", "''")
