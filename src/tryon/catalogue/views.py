"""DuckDB views over a catalogue folder: `results`, `latest`, `runs`, and the reviewers'
decisions `reviews`, `review_by_output`, `latest_review`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
from pyarrow import fs

from tryon.catalogue.files import result_files, review_files, run_files, unified_schema

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


RESULTS_PARTITIONING = pa.schema([("run_id", pa.string())])  # results/run_id=<run>/…


@contextlib.contextmanager
def connect(root: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection with the catalogue's views defined, that can only read them.

    The files are listed in Python (`catalogue.files`: literal paths, own files only) and given
    to DuckDB as Arrow datasets, so DuckDB itself never opens a path: with external access off,
    SQL cannot write files (COPY … TO, EXPORT), attach databases, read other files (read_text,
    read_csv, glob) or install and load extensions (no network); the configuration is locked so
    a query cannot turn this back on.
    """
    root = Path(root).resolve()
    connection = duckdb.connect(database=":memory:", config={
        "autoinstall_known_extensions": False, "autoload_known_extensions": False,
    })
    try:
        results = result_files(root / "results")
        if results:
            connection.register("_tryon_results", ds.dataset(
                [str(path) for path, _ in results], schema=unified_schema([schema for _, schema in results]
                                                                          + [RESULTS_PARTITIONING]),
                format="parquet", filesystem=fs.LocalFileSystem(),
                partitioning=ds.partitioning(RESULTS_PARTITIONING, flavor="hive"),
                partition_base_dir=str(root / "results"),
            ))
            connection.execute("CREATE VIEW results AS SELECT * FROM _tryon_results")
        else:
            connection.execute(
                "CREATE VIEW results AS SELECT NULL::VARCHAR AS pair_id, NULL::VARCHAR AS run_id, "
                "NULL::VARCHAR AS status, NULL::BIGINT AS row_index, NULL::TIMESTAMPTZ AS finished_at WHERE false"
            )
        connection.execute(f"CREATE VIEW latest AS {LATEST_SQL}")
        runs = run_files(root / "runs")
        if runs:
            _register_files(connection, "_tryon_runs", runs)
            connection.execute("CREATE VIEW runs AS SELECT * FROM _tryon_runs")
        else:
            connection.execute("CREATE VIEW runs AS SELECT NULL::VARCHAR AS run_id WHERE false")
        define_review_views(connection, root)
        for setting in ("SET enable_external_access = false", "SET lock_configuration = true"):
            connection.execute(setting)
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


def _register_files(connection: duckdb.DuckDBPyConnection, name: str, files: list[tuple[Path, pa.Schema]]) -> None:
    """Make `name` a table over exactly these Parquet files (an Arrow dataset: DuckDB opens no path itself)."""
    connection.register(name, ds.dataset(
        [str(path) for path, _ in files], schema=unified_schema([schema for _, schema in files]),
        format="parquet", filesystem=fs.LocalFileSystem(),
    ))


def define_review_views(connection: duckdb.DuckDBPyConnection, root: str | Path) -> None:
    """(Re)define `reviews` (every decision, from reviews/*.parquet), `review_by_output` and
    `latest_review`. Safe to call again after new decisions were written."""
    from tryon.catalogue.schema import REVIEW_FIELDS

    decisions = review_files(Path(root).resolve() / "reviews")
    if decisions:
        # Registered as an Arrow dataset like results/ and runs/: literal paths, and it still
        # works on a connection whose external access is already off (the review app re-defines
        # these views after each decision).
        _register_files(connection, "_tryon_reviews", decisions)
        connection.execute("CREATE OR REPLACE VIEW reviews AS SELECT * FROM _tryon_reviews")
    else:
        columns = ", ".join(f"NULL::{_duckdb_type(field.type)} AS {field.name}" for field in REVIEW_FIELDS)
        connection.execute(f"CREATE OR REPLACE VIEW reviews AS SELECT {columns} WHERE false")
    connection.execute(f"CREATE OR REPLACE VIEW review_by_output AS {REVIEW_BY_OUTPUT_SQL}")
    has_outputs = connection.execute(
        "SELECT count(*) FROM (DESCRIBE latest) WHERE column_name = 'output_sha256'").fetchall()[0][0]
    source = LATEST_REVIEW_SQL if has_outputs else "SELECT * FROM reviews WHERE false"  # no results yet
    connection.execute(f"CREATE OR REPLACE VIEW latest_review AS {source}")


def _duckdb_type(arrow_type) -> str:
    import pyarrow as pa

    return "TIMESTAMPTZ" if pa.types.is_timestamp(arrow_type) else "VARCHAR"


def query(root: str | Path, sql: str):
    """Run SQL against the catalogue's views; returns a pandas DataFrame."""
    with connect(root) as connection:
        return connection.execute(sql).fetch_df()
