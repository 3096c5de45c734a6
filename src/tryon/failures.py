"""Which pairs need another try."""

from __future__ import annotations

from tryon.catalogue.store import Catalogue
from tryon.catalogue.views import query


def failed_pair_ids(catalogue: Catalogue, run_id: str | None = None) -> list[str]:
    """Pairs whose newest row is failed; with `run_id`, only those that also failed in that run."""
    if not catalogue.result_files():
        return []
    sql = "SELECT pair_id FROM latest WHERE status = 'failed'"
    if run_id is not None:
        escaped = run_id.replace("'", "''")
        sql += f" AND pair_id IN (SELECT pair_id FROM results WHERE run_id = '{escaped}' AND status = 'failed')"
    return sorted(query(catalogue.root, sql + " ORDER BY pair_id")["pair_id"].tolist())
