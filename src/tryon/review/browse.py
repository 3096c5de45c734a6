"""Browse a run's pairs: filters and sort turned into one parameterised DuckDB query per page.

The pairs of a scope (one run, or the `latest` view) are read once into an Arrow table and
kept until the results/ folder changes, so a page over 100,000 pairs is a filter + sort + limit
on memory; decisions are joined live from the `review_by_output` view.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode

import pyarrow as pa

from tryon.catalogue.views import connect

# The columns a page needs, when present; every numeric column not listed in NOT_METRICS is a metric.
PAIR_COLUMNS = ("pair_id", "run_id", "row_index", "status", "error_type", "error_message", "needs_review",
                "review_reasons", "category", "engine", "person_image", "garment_image", "mask_overlay_image",
                "output_image", "output_sha256", "seed", "prompt")
NOT_METRICS = {"row_index", "seed"}
NUMERIC_TYPES = ("DOUBLE", "FLOAT", "REAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "DECIMAL")
# Worst first: failed, then flagged by the gate, then the lowest preservation.
WORST_FIRST_METRICS = ("preserve_ssim", "garment_texture_ssim")
DECISION_FILTERS = ("approved", "rejected", "unreviewed")
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Filters:
    """What a browse page shows; built from (and written back to) the URL's query string."""

    run: str = ""  # "" = the newest row per pair (`latest`)
    status: str = ""  # succeeded | failed
    category: str = ""
    engine: str = ""
    needs_review: str = ""  # yes | no
    decision: str = ""  # approved | rejected | unreviewed
    pair: str = ""  # pair_id contains
    metric: str = ""  # range filter on this metric
    min: str = ""
    max: str = ""
    sort: str = "worst"  # worst | pair_id | a metric
    order: str = "asc"
    page: int = 1
    size: int = 50

    @classmethod
    def from_params(cls, params: Mapping[str, str], default_run: str = "") -> "Filters":
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name in params:
                values[item.name] = str(params[item.name])[:200]
        values.setdefault("run", default_run)
        values["page"] = _int(values.get("page"), 1, 1, 10**9)
        values["size"] = _int(values.get("size"), 50, 1, MAX_PAGE_SIZE)
        values["order"] = "desc" if values.get("order") == "desc" else "asc"
        return cls(**values)

    def query_string(self, **changes: Any) -> str:
        merged = replace(self, **changes)
        defaults = Filters()
        return urlencode({item.name: getattr(merged, item.name) for item in fields(merged)
                          if getattr(merged, item.name) != getattr(defaults, item.name) or item.name == "run"})


def _int(raw: Any, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(raw)))
    except (TypeError, ValueError):
        return default


def _float(raw: str) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


@dataclass
class Snapshot:
    """The pairs of one scope, in memory, plus the choices the filter form offers."""

    table: pa.Table
    metrics: list[str]
    categories: list[str] = field(default_factory=list)
    engines: list[str] = field(default_factory=list)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    filters: Filters
    snapshot: Snapshot

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.filters.size))


class PairIndex:
    """Snapshots per scope, rebuilt when a results file is added, replaced or removed."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple, Snapshot]] = {}

    def _signature(self) -> tuple:
        entries = []
        results = self.root / "results"
        if results.is_dir():
            for folder in os.scandir(results):
                if folder.is_dir() and folder.name.startswith("run_id="):
                    for entry in os.scandir(folder.path):
                        if entry.name.endswith(".parquet") and not entry.name.startswith("."):
                            stat = entry.stat()
                            entries.append((folder.name, entry.name, stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(entries))

    def snapshot(self, run: str) -> Snapshot:
        signature = self._signature()
        with self._lock:
            cached = self._cache.get(run)
            if cached and cached[0] == signature:
                return cached[1]
            built = self._build(run)
            self._cache = {key: value for key, value in self._cache.items() if value[0] == signature}
            self._cache[run] = (signature, built)
            return built

    def _build(self, run: str) -> Snapshot:
        with connect(self.root) as connection:
            types = column_types(connection)
            metrics = metric_names(types)
            columns = [name for name in PAIR_COLUMNS if name in types] + metrics
            select = ", ".join(ident(name) for name in columns)
            if run:
                table = connection.sql(f"SELECT {select} FROM results WHERE run_id = ?", params=[run]).to_arrow_table()
            else:
                table = connection.sql(f"SELECT {select} FROM latest").to_arrow_table()
        connection_values = {name: sorted({value for value in table.column(name).to_pylist() if value is not None})
                             for name in ("category", "engine") if name in table.column_names}
        return Snapshot(table, metrics, connection_values.get("category", []), connection_values.get("engine", []))

    def page(self, filters: Filters) -> Page:
        snapshot = self.snapshot(filters.run)
        sql, parameters = page_sql(filters, snapshot)
        with connect(self.root) as connection:
            connection.register("scope_pairs", snapshot.table)
            cursor = connection.execute(sql, parameters)
            names = [description[0] for description in cursor.description]
            rows = [dict(zip(names, values)) for values in cursor.fetchall()]
        total = int(rows[0].pop("_total")) if rows else 0
        for row in rows[1:]:
            row.pop("_total", None)
        if not rows and filters.page > 1:  # past the end (e.g. after a filter change): count alone
            with connect(self.root) as connection:
                connection.register("scope_pairs", snapshot.table)
                count_sql, count_parameters = page_sql(replace(filters, page=1, size=1), snapshot)
                first = connection.execute(count_sql, count_parameters).fetchall()
                total = int(first[0][-1]) if first else 0
        return Page(rows, total, filters, snapshot)


def column_types(connection) -> dict[str, str]:
    return {name: kind for name, kind, *_ in connection.execute("DESCRIBE results").fetchall()}


def metric_names(types: Mapping[str, str]) -> list[str]:
    """Numeric result columns a reviewer can sort and filter by (timings and seeds are not metrics)."""
    return [name for name, kind in types.items()
            if kind.split("(")[0] in NUMERIC_TYPES and name not in NOT_METRICS and not name.startswith("seconds_")]


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def page_sql(filters: Filters, snapshot: Snapshot) -> tuple[str, list[Any]]:
    """One query: the page's rows with their decisions, and the filtered total (`_total`)."""
    where, parameters = ["true"], []
    columns = set(snapshot.table.column_names)
    if filters.status in ("succeeded", "failed"):
        where.append("p.status = ?")
        parameters.append(filters.status)
    for name in ("category", "engine"):
        value = getattr(filters, name)
        if value and name in columns:
            where.append(f"p.{name} = ?")
            parameters.append(value)
    if filters.needs_review in ("yes", "no") and "needs_review" in columns:
        where.append(("" if filters.needs_review == "yes" else "NOT ") + "coalesce(p.needs_review, false)")
    if filters.decision == "unreviewed":
        where.append("d.decision IS NULL")
    elif filters.decision in DECISION_FILTERS:
        where.append("d.decision = ?")
        parameters.append(filters.decision)
    if filters.pair:
        where.append("strpos(p.pair_id, ?) > 0")
        parameters.append(filters.pair)
    if filters.metric in snapshot.metrics:
        low, high = _float(filters.min), _float(filters.max)
        if low is not None:
            where.append(f"p.{ident(filters.metric)} >= ?")
            parameters.append(low)
        if high is not None:
            where.append(f"p.{ident(filters.metric)} <= ?")
            parameters.append(high)
    order = "DESC" if filters.order == "desc" else "ASC"
    if filters.sort in snapshot.metrics:
        sort = f"p.{ident(filters.sort)} {order} NULLS LAST, p.pair_id"
    elif filters.sort == "pair_id":
        sort = f"p.pair_id {order}"
    else:
        rank = "CASE WHEN p.status = 'failed' THEN 0 WHEN coalesce(p.needs_review, false) THEN 1 ELSE 2 END" \
            if "needs_review" in columns else "CASE WHEN p.status = 'failed' THEN 0 ELSE 2 END"
        worst = [f"p.{name} ASC NULLS LAST" for name in WORST_FIRST_METRICS if name in snapshot.metrics][:1]
        sort = ", ".join([rank, *worst, "p.pair_id"])
    sha = "p.output_sha256" if "output_sha256" in columns else "NULL"
    sql = f"""
        SELECT p.*, d.decision, d.reason AS decision_reason, d.note AS decision_note,
               d.reviewer AS decision_reviewer, d.decided_at AS decision_at, count(*) OVER () AS _total
        FROM scope_pairs p
        LEFT JOIN review_by_output d ON d.pair_id = p.pair_id AND d.output_sha256 = {sha}
        WHERE {' AND '.join(where)}
        ORDER BY {sort}
        LIMIT {filters.size} OFFSET {(filters.page - 1) * filters.size}
    """
    return sql, parameters
