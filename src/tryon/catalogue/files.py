"""Which Parquet files in a catalogue folder are the catalogue's own, listed as literal paths.

Paths are listed here in Python and handed on as an explicit list, never as a glob pattern:
a catalogue folder may be named `out[1]` or `a*b`, which DuckDB would read as a pattern (and
then fail, or read a sibling catalogue). A file that is not readable Parquet, or whose schema
is not the catalogue's (a file copied in by hand, a foreign table), is skipped with a warning
naming it, never merged in as junk rows.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tryon.catalogue.schema import RESULT_FIELDS, RUN_FIELDS, metric_type

log = logging.getLogger(__name__)

# A results file must have these (what the views and the planner rely on); every other column
# it shares with the catalogue must have the catalogue's type. Columns added in later versions
# may be missing from older files: union by name fills them with nulls.
RESULT_IDENTITY_COLUMNS = ("pair_id", "row_index", "status", "error_type", "input_hash", "config_hash", "finished_at")
RUN_IDENTITY_COLUMNS = ("run_id", "kind", "status", "started_at", "config")
REVIEW_IDENTITY_COLUMNS = ("pair_id", "output_sha256", "decision", "decided_at")


def result_files(results_dir: Path) -> list[tuple[Path, pa.Schema]]:
    """The catalogue's shard files (`results/run_id=<run>/<shard>.parquet`) with their schemas."""
    if not results_dir.is_dir():
        return []
    candidates = sorted(path for folder in results_dir.iterdir()
                        if folder.is_dir() and folder.name.startswith("run_id=")
                        for path in folder.iterdir() if _is_visible_parquet(path))
    return _own_files(candidates, _expected_result_types(), RESULT_IDENTITY_COLUMNS, "a results shard")


def run_files(runs_dir: Path) -> list[tuple[Path, pa.Schema]]:
    """The catalogue's run records (`runs/run-<run>.parquet`) with their schemas."""
    if not runs_dir.is_dir():
        return []
    candidates = sorted(path for path in runs_dir.iterdir() if path.name.startswith("run-") and _is_visible_parquet(path))
    expected = {field.name: field.type for field in RUN_FIELDS}
    return _own_files(candidates, expected, RUN_IDENTITY_COLUMNS, "a run record")


def review_files(reviews_dir: Path) -> list[tuple[Path, pa.Schema]]:
    """Reviewers' decision files (`reviews/decisions-*.parquet`) with their schemas."""
    if not reviews_dir.is_dir():
        return []
    from tryon.catalogue.schema import REVIEW_FIELDS

    candidates = sorted(path for path in reviews_dir.iterdir() if _is_visible_parquet(path))
    expected = {field.name: field.type for field in REVIEW_FIELDS}
    return _own_files(candidates, expected, REVIEW_IDENTITY_COLUMNS, "a review decision file")


def unified_schema(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema over files written by different runs (union by name). A carried column whose
    type changed between manifests is read as text, or left out when one of its types cannot be
    (lists, structs), with a warning."""
    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    types: dict[str, pa.DataType] = {}
    left_out: set[str] = set()
    for schema in schemas:
        for field in schema:
            if field.name in left_out:
                continue
            if field.name not in types:
                types[field.name] = field.type
                continue
            try:
                types[field.name] = pa.unify_schemas(
                    [pa.schema([(field.name, types[field.name])]), pa.schema([field])], promote_options="permissive"
                ).field(field.name).type
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                seen = f"column {field.name!r} has different types in different runs ({types[field.name]} and {field.type})"
                if _castable_to_text(types[field.name]) and _castable_to_text(field.type):
                    _warn_once(f"{seen}; it is read as text")
                    types[field.name] = pa.string()
                else:
                    _warn_once(f"{seen}; it is left out of the views (read the shard files to see it)")
                    left_out.add(field.name)
                    del types[field.name]
    return pa.schema(list(types.items()))


def _castable_to_text(data_type: pa.DataType) -> bool:
    try:
        pa.array([], type=data_type).cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return True


def _is_visible_parquet(path: Path) -> bool:
    # Temp files of atomic writes start with a dot and end in `.partial`: never a reader's business.
    return path.name.endswith(".parquet") and not path.name.startswith((".", "_")) and path.is_file()


def _expected_result_types() -> dict[str, pa.DataType]:
    expected = {field.name: field.type for field in RESULT_FIELDS}
    try:
        from tryon.metrics import METRIC_COLUMNS
    except ImportError:  # pragma: no cover - metrics is part of the library
        METRIC_COLUMNS = ()
    expected.update({name: metric_type(name) for name in METRIC_COLUMNS if name not in expected})
    return expected


def _own_files(paths: list[Path], expected: dict[str, pa.DataType], identity: tuple[str, ...],
               kind: str) -> list[tuple[Path, pa.Schema]]:
    accepted = []
    for path in paths:
        problem, schema = _schema_problem(path, expected, identity)
        if problem:
            _warn_once(f"skipping {path}: {problem}, so it is not {kind} of this catalogue; "
                       "move it out of the catalogue folder (rerun the run that wrote it to redo its pairs)")
            continue
        accepted.append((path, schema))
    return accepted


def _schema_problem(path: Path, expected: dict[str, pa.DataType],
                    identity: tuple[str, ...]) -> tuple[str | None, pa.Schema | None]:
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as error:
        return f"not a readable Parquet file ({str(error).splitlines()[0][:200]})", None
    missing = [name for name in identity if name not in schema.names]
    if missing:
        return f"it has no column {', '.join(missing)}", None
    for field in schema:
        wanted = expected.get(field.name)
        if wanted is not None and not field.type.equals(wanted):
            return f"its column {field.name!r} is {field.type}, not {wanted}", None
    return None, schema


@functools.lru_cache(maxsize=1024)
def _warn_once(message: str) -> None:
    """Each catalogue query lists the files again; say each problem once per process."""
    log.warning(message)
