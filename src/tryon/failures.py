"""Which pairs need another try, and fresh seeds for the ones a human flagged."""

from __future__ import annotations

import dataclasses
from typing import Iterable

from tryon.catalogue.store import Catalogue
from tryon.catalogue.views import query
from tryon.conditioning import derive_seed
from tryon.pairs import Pair


def failed_pair_ids(catalogue: Catalogue, run_id: str | None = None, include_review: bool = False) -> list[str]:
    """Pairs whose newest row is failed (or needs review, when asked); with `run_id`, only
    those that were also failed/flagged in that run."""
    if not catalogue.result_files():
        return []
    has_review = include_review and "needs_review" in query(catalogue.root, "DESCRIBE results")["column_name"].tolist()
    wanted = "status = 'failed'" + (" OR coalesce(needs_review, false)" if has_review else "")
    sql = f"SELECT pair_id FROM latest WHERE ({wanted})"
    if run_id is not None:
        escaped = run_id.replace("'", "''")
        sql += f" AND pair_id IN (SELECT pair_id FROM results WHERE run_id = '{escaped}' AND ({wanted}))"
    return sorted(query(catalogue.root, sql + " ORDER BY pair_id")["pair_id"].tolist())


def review_pair_ids(catalogue: Catalogue) -> list[str]:
    """Pairs whose newest row succeeded but needs review."""
    if not catalogue.result_files():
        return []
    if "needs_review" not in query(catalogue.root, "DESCRIBE results")["column_name"].tolist():
        return []
    sql = "SELECT pair_id FROM latest WHERE status = 'succeeded' AND coalesce(needs_review, false) ORDER BY pair_id"
    return query(catalogue.root, sql)["pair_id"].tolist()


def rejected_pair_ids(catalogue: Catalogue, run_id: str | None = None) -> list[str]:
    """Pairs whose current image (their row in `latest`) a reviewer rejected (`latest_review`);
    with `run_id`, only those whose rejected image that run made."""
    if not catalogue.result_files():
        return []
    sql = "SELECT pair_id FROM latest_review WHERE decision = 'rejected'"
    if run_id is not None:
        sql += " AND run_id = '" + run_id.replace("'", "''") + "'"
    return sorted(query(catalogue.root, sql + " ORDER BY pair_id")["pair_id"].tolist())


def reseed(pairs: Iterable[Pair], pair_ids: Iterable[str], salt: str) -> list[Pair]:
    """Give `pair_ids` a new seed derived from (pair_id, salt): a retry with a new seed is
    still reproducible from the row, which records the seed used."""
    chosen = set(pair_ids)
    return [dataclasses.replace(pair, seed=derive_seed(f"{pair.pair_id}:{salt}")) if pair.pair_id in chosen else pair
            for pair in pairs]
