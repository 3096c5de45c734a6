"""DuckDB views over a catalogue folder: `results`, `latest`, `runs`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import duckdb

# Newest row per pair: runs sort by id (a UTC timestamp); inside a run the first manifest
# row wins, so a duplicate pair_id recorded as failed never hides the row it duplicates.
LATEST_SQL = """
SELECT * EXCLUDE (_rank) FROM (
    SELECT *, row_number() OVER (
        PARTITION BY pair_id ORDER BY run_id DESC, finished_at DESC, row_index ASC
    ) AS _rank
    FROM results
) WHERE _rank = 1
"""


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@contextlib.contextmanager
def connect(root: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection with the catalogue's views defined."""
    root = Path(root).resolve()
    connection = duckdb.connect(database=":memory:")
    try:
        results = root / "results"
        runs = root / "runs"
        if any(results.glob("run_id=*/*.parquet")):
            connection.execute(
                "CREATE VIEW results AS SELECT * FROM read_parquet("
                f"{_quote(results / '*' / '*.parquet')}, hive_partitioning=true, union_by_name=true)"
            )
        else:
            connection.execute(
                "CREATE VIEW results AS SELECT NULL::VARCHAR AS pair_id, NULL::VARCHAR AS run_id, "
                "NULL::VARCHAR AS status, NULL::BIGINT AS row_index, NULL::TIMESTAMPTZ AS finished_at WHERE false"
            )
        connection.execute(f"CREATE VIEW latest AS {LATEST_SQL}")
        if any(runs.glob("run-*.parquet")):
            connection.execute(
                f"CREATE VIEW runs AS SELECT * FROM read_parquet({_quote(runs / 'run-*.parquet')}, union_by_name=true)"
            )
        else:
            connection.execute("CREATE VIEW runs AS SELECT NULL::VARCHAR AS run_id WHERE false")
        yield connection
    finally:
        connection.close()


def query(root: str | Path, sql: str):
    """Run SQL against the catalogue's views; returns a pandas DataFrame."""
    with connect(root) as connection:
        return connection.execute(sql).fetch_df()
