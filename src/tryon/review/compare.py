"""Two runs (or two engines) side by side for the same pairs, with each metric's delta (B - A)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tryon.catalogue.views import connect
from tryon.review.browse import column_types, ident, metric_names

SIDE_KINDS = ("run", "engine")


@dataclass(frozen=True)
class Side:
    """`run:<run_id>` or `engine:<name>` (e.g. rows `tryon score` wrote for another engine)."""

    kind: str
    value: str

    @classmethod
    def parse(cls, raw: str) -> "Side | None":
        kind, _, value = (raw or "").partition(":")
        return cls(kind, value) if kind in SIDE_KINDS and value else None

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    def rows_sql(self) -> str:
        """Newest row per pair on this side (parameter: the run id or engine name)."""
        column = "run_id" if self.kind == "run" else "engine"
        return f"""SELECT * EXCLUDE (_rank) FROM (
            SELECT *, row_number() OVER (PARTITION BY pair_id ORDER BY run_id DESC, row_index ASC) AS _rank
            FROM results WHERE {column} = ?) WHERE _rank = 1"""


@dataclass
class Comparison:
    a: Side | None
    b: Side | None
    metrics: list[str]
    summary: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    total: int
    page: int
    size: int
    sort: str
    choices: list[str]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


def side_choices(root: Path) -> list[str]:
    """Every run (newest first) and every engine in the catalogue, as side strings."""
    with connect(root) as connection:
        runs = [row[0] for row in connection.execute(
            "SELECT DISTINCT run_id FROM results WHERE run_id IS NOT NULL ORDER BY run_id DESC").fetchall()]
        engines = []
        if "engine" in column_types(connection):
            engines = [row[0] for row in connection.execute(
                "SELECT DISTINCT engine FROM results WHERE engine IS NOT NULL ORDER BY engine").fetchall()]
    return [f"run:{run}" for run in runs] + [f"engine:{engine}" for engine in engines]


def compare(root: Path, a: Side | None, b: Side | None, sort: str = "", page: int = 1, size: int = 50) -> Comparison:
    """Pairs present on both sides, largest |delta| of `sort` (default the first metric) first."""
    choices = side_choices(root)
    runs = [choice for choice in choices if choice.startswith("run:")]
    a = a or (Side.parse(runs[1]) if len(runs) > 1 else None)
    b = b or (Side.parse(runs[0]) if runs else None)
    if a is None or b is None:
        return Comparison(a, b, [], [], [], 0, page, size, sort, choices)
    with connect(root) as connection:
        types = column_types(connection)
        metrics = metric_names(types)
        sort = sort if sort in metrics else (metrics[0] if metrics else "")
        base = f"WITH a AS ({a.rows_sql()}), b AS ({b.rows_sql()})"
        parameters = [a.value, b.value]
        summary_parts = ", ".join(
            f"count(b.{ident(m)} - a.{ident(m)}), median(a.{ident(m)}), median(b.{ident(m)}), "
            f"median(b.{ident(m)} - a.{ident(m)}), avg(b.{ident(m)} - a.{ident(m)})" for m in metrics)
        totals = connection.execute(
            f"{base} SELECT count(*){', ' + summary_parts if metrics else ''} FROM a JOIN b USING (pair_id)",
            parameters).fetchall()[0]
        total = int(totals[0])
        summary = []
        for index, metric in enumerate(metrics):
            count, median_a, median_b, median_delta, mean_delta = totals[1 + 5 * index: 6 + 5 * index]
            if count:
                summary.append({"metric": metric, "pairs": count, "median_a": median_a, "median_b": median_b,
                                "median_delta": median_delta, "mean_delta": mean_delta})
        pick = ["pair_id"] + [f"{side}.{ident(name)} AS {ident(side + '_' + name)}" for side in ("a", "b")
                              for name in ("run_id", "status", "engine", "output_image", "person_image",
                                           "garment_image", "error_type") if name in types]
        pick += [f"a.{ident(m)} AS {ident('a:' + m)}, b.{ident(m)} AS {ident('b:' + m)}" for m in metrics]
        order = f"abs(b.{ident(sort)} - a.{ident(sort)}) DESC NULLS LAST, pair_id" if sort else "pair_id"
        cursor = connection.execute(
            f"{base} SELECT {', '.join(pick)} FROM a JOIN b USING (pair_id) ORDER BY {order} "
            f"LIMIT {int(size)} OFFSET {(max(1, int(page)) - 1) * int(size)}", parameters)
        names = [description[0] for description in cursor.description]
        rows = [dict(zip(names, values)) for values in cursor.fetchall()]
    return Comparison(a, b, metrics, summary, rows, total, page, size, sort, choices)
