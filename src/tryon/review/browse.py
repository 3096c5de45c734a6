"""Browse a run's pairs: filters and sort turned into parameterised DuckDB queries per page.

The pairs of a scope (one run, or the `latest` view) are read once into a DuckDB table, with
their worst-first position precomputed, and kept until results/ changes; so a page over 100,000
pairs is a filter + top-N in memory, and only the page's rows are joined with the decisions.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode

from tryon.catalogue.views import connect, define_review_views

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
    """The pairs of one scope as a DuckDB table in the app's connection, plus the form's choices."""

    table: str
    columns: list[str]
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
    """One long-lived DuckDB connection (`tryon.catalogue.views.connect`) holding each scope's
    pairs as a table, with a precomputed worst-first position, and the current decisions.

    The tables are rebuilt when a results file is added, replaced or removed (a run finished);
    decisions are reloaded when a file appears in reviews/. Requests take turns on the
    connection (a page is a few milliseconds of DuckDB work).
    """

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self._lock = threading.Lock()
        self._stack = contextlib.ExitStack()
        self._connection = None
        self._results_signature: tuple | None = None
        self._reviews_signature: tuple | None = None
        self._snapshots: dict[str, Snapshot] = {}

    def close(self) -> None:
        with self._lock:
            self._stack.close()
            self._connection = None

    def _ready(self):
        """The connection, reopened after a run changed results/, decisions reloaded after a write."""
        results = _listing(self.root / "results", nested=True)
        if self._connection is None or results != self._results_signature:
            self._stack.close()
            self._connection = self._stack.enter_context(connect(self.root))
            self._results_signature, self._reviews_signature, self._snapshots = results, None, {}
        reviews = _listing(self.root / "reviews", nested=False)
        if reviews != self._reviews_signature:
            define_review_views(self._connection, self.root)
            self._connection.execute(
                "CREATE OR REPLACE TABLE review_decided AS SELECT pair_id, output_sha256, decision, reason, note, "
                "reviewer, decided_at FROM review_by_output")
            self._reviews_signature = reviews
        return self._connection

    def _snapshot(self, connection, run: str) -> Snapshot:
        if run in self._snapshots:
            return self._snapshots[run]
        types = column_types(connection)
        metrics = metric_names(types)
        columns = [name for name in PAIR_COLUMNS if name in types] + metrics
        table = f"review_scope_{len(self._snapshots)}"
        select = ", ".join(ident(name) for name in columns)
        source = "results WHERE run_id = $run" if run else "latest"
        connection.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT *, row_number() OVER (ORDER BY {worst_first(columns, metrics)})"
            f" AS _worst FROM (SELECT {select} FROM {source}) p", {"run": run} if run else None)
        choices = {name: [row[0] for row in connection.execute(
            f"SELECT DISTINCT {name} FROM {table} WHERE {name} IS NOT NULL ORDER BY 1").fetchall()]
            if name in columns else [] for name in ("category", "engine")}
        snapshot = Snapshot(table, columns, metrics, choices["category"], choices["engine"])
        self._snapshots[run] = snapshot
        return snapshot

    def snapshot(self, run: str) -> Snapshot:
        with self._lock:
            return self._snapshot(self._ready(), run)

    def page(self, filters: Filters) -> Page:
        with self._lock:
            connection = self._ready()
            snapshot = self._snapshot(connection, filters.run)
            where, parameters = where_clause(filters, snapshot)
            total = connection.execute(f"SELECT count(*) FROM {snapshot.table} p WHERE {where}", parameters).fetchall()[0][0]
            cursor = connection.execute(page_sql(filters, snapshot, where), parameters)
            names = [description[0] for description in cursor.description]
            rows = [dict(zip(names, values)) for values in cursor.fetchall()]
        return Page(rows, int(total), filters, snapshot)

    def rejected_now(self) -> int:
        """Pairs whose current image (newest row) is rejected: `latest_review`, from memory."""
        with self._lock:
            connection = self._ready()
            snapshot = self._snapshot(connection, "")
            if "output_sha256" not in snapshot.columns:
                return 0
            return connection.execute(
                f"SELECT count(*) FROM {snapshot.table} p JOIN review_decided d ON d.pair_id = p.pair_id"
                " AND d.output_sha256 = p.output_sha256 WHERE d.decision = 'rejected'").fetchall()[0][0]


def _listing(folder: Path, nested: bool) -> tuple:
    """(name, mtime, size) of every visible Parquet file: changes when a file lands or is replaced."""
    entries = []
    if not folder.is_dir():
        return ()
    folders = [entry.path for entry in os.scandir(folder) if entry.is_dir()] if nested else [str(folder)]
    for path in folders:
        for entry in os.scandir(path):
            if entry.name.endswith(".parquet") and not entry.name.startswith("."):
                stat = entry.stat()
                entries.append((path, entry.name, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))


def column_types(connection) -> dict[str, str]:
    return {name: kind for name, kind, *_ in connection.execute("DESCRIBE results").fetchall()}


def metric_names(types: Mapping[str, str]) -> list[str]:
    """Numeric result columns a reviewer can sort and filter by (timings and seeds are not metrics)."""
    return [name for name, kind in types.items()
            if kind.split("(")[0] in NUMERIC_TYPES and name not in NOT_METRICS and not name.startswith("seconds_")]


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def worst_first(columns: list[str], metrics: list[str]) -> str:
    """Failed first, then flagged by the gate, then the lowest preservation, then pair id."""
    rank = ("CASE WHEN p.status = 'failed' THEN 0 WHEN coalesce(p.needs_review, false) THEN 1 ELSE 2 END"
            if "needs_review" in columns else "CASE WHEN p.status = 'failed' THEN 0 ELSE 2 END")
    worst = [f"p.{name} ASC NULLS LAST" for name in WORST_FIRST_METRICS if name in metrics][:1]
    return ", ".join([rank, *worst, "p.pair_id"])


def where_clause(filters: Filters, snapshot: Snapshot) -> tuple[str, list[Any]]:
    """The filters as SQL over the scope table `p`; every value is a bound parameter."""
    where, parameters = ["true"], []
    columns = set(snapshot.columns)
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
    decided = ("EXISTS (SELECT 1 FROM review_decided d WHERE d.pair_id = p.pair_id"
               " AND d.output_sha256 = p.output_sha256{})")
    if "output_sha256" in columns and filters.decision == "unreviewed":
        where.append("NOT " + decided.format(""))
    elif "output_sha256" in columns and filters.decision in DECISION_FILTERS:
        where.append(decided.format(" AND d.decision = ?"))
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
    return " AND ".join(where), parameters


def page_sql(filters: Filters, snapshot: Snapshot, where: str) -> str:
    """The page's rows (sorted, limited in the scope table), then their decisions joined to just those."""
    order = "DESC" if filters.order == "desc" else "ASC"
    if filters.sort in snapshot.metrics:
        sort = f"p.{ident(filters.sort)} {order} NULLS LAST, p.pair_id"
    elif filters.sort == "pair_id":
        sort = f"p.pair_id {order}"
    else:
        sort = "p._worst"
    join = ("LEFT JOIN review_decided d ON d.pair_id = p.pair_id AND d.output_sha256 = p.output_sha256"
            if "output_sha256" in snapshot.columns else
            "LEFT JOIN (SELECT * FROM review_decided WHERE false) d ON d.pair_id = p.pair_id")
    return f"""
        SELECT p.* EXCLUDE (_worst), d.decision, d.reason AS decision_reason, d.note AS decision_note,
               d.reviewer AS decision_reviewer, d.decided_at AS decision_at
        FROM (SELECT * FROM {snapshot.table} p WHERE {where} ORDER BY {sort}
              LIMIT {filters.size} OFFSET {(filters.page - 1) * filters.size}) p
        {join}
        ORDER BY {sort}
    """
