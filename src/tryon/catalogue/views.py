"""DuckDB views over a catalogue folder: `results`, `latest`, `runs`, and the reviewers'
decisions `reviews`, `review_by_output`, `latest_review`."""

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
        define_review_views(connection, root)
        yield connection
    finally:
        connection.close()


# A decision is about one exact image: the newest decision per (pair_id, output_sha256).
REVIEW_BY_OUTPUT_SQL = """
SELECT * EXCLUDE (_rank) FROM (
    SELECT *, row_number() OVER (
        PARTITION BY pair_id, output_sha256 ORDER BY decided_at DESC, decision ASC
    ) AS _rank
    FROM reviews
) WHERE _rank = 1
"""

# The decision that holds for each pair's current image (its row in `latest`); a pair whose
# newest run made a new image has none until someone looks at it again.
LATEST_REVIEW_SQL = """
SELECT r.pair_id, r.run_id, r.output_sha256, r.decision, r.reason, r.note, r.reviewer, r.decided_at
FROM latest l JOIN review_by_output r ON r.pair_id = l.pair_id AND r.output_sha256 = l.output_sha256
"""


def define_review_views(connection: duckdb.DuckDBPyConnection, root: str | Path) -> None:
    """(Re)define `reviews` (every decision, from reviews/*.parquet), `review_by_output` and
    `latest_review`. Safe to call again after new decisions were written."""
    from tryon.catalogue.schema import REVIEW_FIELDS

    folder = Path(root).resolve() / "reviews"
    if any(folder.glob("*.parquet")):
        connection.execute(
            "CREATE OR REPLACE VIEW reviews AS SELECT * FROM read_parquet("
            f"{_quote(folder / '*.parquet')}, union_by_name=true)"
        )
    else:
        columns = ", ".join(f"NULL::{_duckdb_type(field.type)} AS {field.name}" for field in REVIEW_FIELDS)
        connection.execute(f"CREATE OR REPLACE VIEW reviews AS SELECT {columns} WHERE false")
    connection.execute(f"CREATE OR REPLACE VIEW review_by_output AS {REVIEW_BY_OUTPUT_SQL}")
    has_outputs = connection.execute(
        "SELECT count(*) FROM (DESCRIBE latest) WHERE column_name = 'output_sha256'").fetchone()[0]
    source = LATEST_REVIEW_SQL if has_outputs else "SELECT * FROM reviews WHERE false"  # no results yet
    connection.execute(f"CREATE OR REPLACE VIEW latest_review AS {source}")


def _duckdb_type(arrow_type) -> str:
    import pyarrow as pa

    return "TIMESTAMPTZ" if pa.types.is_timestamp(arrow_type) else "VARCHAR"


def query(root: str | Path, sql: str):
    """Run SQL against the catalogue's views; returns a pandas DataFrame."""
    with connect(root) as connection:
        return connection.execute(sql).fetch_df()
