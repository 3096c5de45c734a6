"""Read and validate a Parquet manifest, once, up front.

Manifest-level problems (not Parquet, missing columns, wrong types, nulls, a column name the
catalogue reserves) stop the run with one message before any work. Row-level problems become
failed catalogue rows that name the row, the file and what to do; good rows go on. Other
columns are carried into the catalogue with their Arrow types.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, UnidentifiedImageError

from tryon.conditioning import derive_seed
from tryon.catalogue.schema import reserved_name_conflicts
from tryon.config import CATEGORIES, ImageLimits
from tryon.errors import ManifestError, PairError
from tryon.hashing import sha256_file
from tryon.images import _check_size
from tryon.pairs import Pair
from tryon.paths import resolve_confined

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("pair_id", "person_image", "garment_image", "category")
# output_image: a finished try-on to judge (`tryon score`); ignored by `tryon run`.
PATH_COLUMNS = ("person_image", "garment_image", "ground_truth_image", "mask_image", "output_image")
TEXT_COLUMNS = ("prompt", "garment_description")
KNOWN_COLUMNS = set(REQUIRED_COLUMNS) | set(PATH_COLUMNS) | set(TEXT_COLUMNS) | {"seed"}
# Seeds are stored as int64 and handed to torch.Generator.manual_seed.
MAX_SEED = 2**63 - 1


@dataclass
class FailedRow:
    """A manifest row that cannot be processed, with the reason."""

    pair_id: str
    row_index: int
    error_type: str
    error_message: str
    category: str | None = None
    person_image: str | None = None
    garment_image: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class ValidatedManifest:
    path: Path
    sha256: str
    data_root: Path
    total_rows: int  # rows this run takes (all, or those named by only_pair_ids)
    pairs: list[Pair]
    failures: list[FailedRow]
    extra_types: dict[str, pa.DataType]


def read_manifest(path: str | Path) -> pd.DataFrame:
    """Read the Parquet manifest and check its columns and types."""
    return _read_checked(Path(path))[1]


def _read_checked(path: Path) -> tuple[pa.Table, pd.DataFrame]:
    """The manifest as Arrow (carried columns keep their exact types) and as pandas (checks)."""
    if not path.is_file():
        raise ManifestError(f"manifest {path} does not exist; pass the path of a Parquet file")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as error:
        raise ManifestError(
            f"manifest {path} is not a readable Parquet file ({error}); write it with pandas.DataFrame.to_parquet"
        ) from None
    saved_index = {name for name in (table.schema.pandas_metadata or {}).get("index_columns", [])
                   if isinstance(name, str)}  # pandas' index, saved as a column: not a manifest column
    columns = [name for name in table.column_names if name not in saved_index]
    # Only the known columns go to pandas (for the checks); carried ones stay Arrow (typed, compact).
    frame = table.select([name for name in columns if name in KNOWN_COLUMNS]).to_pandas()
    table = table.select(columns)
    if table.num_rows == 0:
        raise ManifestError(f"manifest {path} has no rows; add at least one person/garment pair")
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise ManifestError(
            f"manifest {path} lacks required column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}"
        )
    conflicts = reserved_name_conflicts(_extra_columns(table))
    if conflicts:
        raise ManifestError(
            f"manifest {path}: column name(s) reserved by the catalogue: {'; '.join(conflicts)}. "
            "Rename them (for example with a prefix such as 'src_'); names are compared ignoring case"
        )
    for column in REQUIRED_COLUMNS + tuple(c for c in PATH_COLUMNS + TEXT_COLUMNS if c in frame.columns):
        _require_strings(frame, column, path, allow_null=column not in REQUIRED_COLUMNS)
    if "seed" in frame.columns:
        if not (pd.api.types.is_integer_dtype(frame["seed"]) or frame["seed"].isna().all()):
            raise ManifestError(f"manifest {path}: column 'seed' must hold integers (found {frame['seed'].dtype})")
    return table, frame


def _extra_columns(table: pa.Table) -> list[str]:
    """Manifest columns carried into the catalogue as they are."""
    return [column for column in table.column_names if column not in KNOWN_COLUMNS]


def _require_strings(frame: pd.DataFrame, column: str, path: Path, *, allow_null: bool) -> None:
    values = frame[column]
    nulls = values.isna()
    if nulls.any() and not allow_null:
        rows = ", ".join(str(index) for index in list(values.index[nulls])[:5])
        raise ManifestError(f"manifest {path}: required column {column!r} is empty in row(s) {rows}; fill it in")
    wrong = values[~nulls].map(lambda value: not isinstance(value, str))
    if wrong.any():
        example = values[~nulls][wrong].iloc[0]
        raise ManifestError(
            f"manifest {path}: column {column!r} must hold strings, found {type(example).__name__} ({example!r}); "
            "store it as a string column"
        )


def validate_manifest(
    path: str | Path,
    *,
    data_root: str | Path | None = None,
    limits: ImageLimits = ImageLimits(),
    only_pair_ids: Iterable[str] | None = None,
    workers: int = 8,
) -> ValidatedManifest:
    """Validate every row; returns the good pairs and the failed rows (nothing is raised per row)."""
    path = Path(path).resolve()
    table, frame = _read_checked(path)
    root = Path(data_root).resolve() if data_root else path.parent
    extra_columns = _extra_columns(table)
    # Carried columns go through Arrow, not pandas: lists, structs, dictionaries and timestamps
    # keep their type and values exactly (pandas turns a list cell into a numpy array).
    extra_types = {column: table.schema.field(column).type for column in extra_columns}
    extra_values = {column: table.column(column).to_pylist() for column in extra_columns}
    del table
    wanted = set(only_pair_ids) if only_pair_ids is not None else None
    records = frame.to_dict("records")
    inspector = _FileInspector(limits)
    resolver = _PathResolver(manifest_dir=path.parent, data_root=root)

    # 1. Row-local checks and duplicate ids, in manifest order.
    seen: dict[str, int] = {}
    candidates: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    failures: list[FailedRow] = []
    selected = 0
    for index, record in enumerate(records):
        pair_id = record["pair_id"]
        if wanted is not None and pair_id not in wanted:
            continue
        selected += 1
        extras = {column: extra_values[column][index] for column in extra_columns}
        if pair_id in seen:
            failures.append(_failed(record, index, extras, PairError(
                "duplicate_pair_id",
                f"row {index} (pair_id {pair_id!r}): pair_id already used by row {seen[pair_id]}; "
                "give every pair a unique pair_id",
            )))
            continue
        seen[pair_id] = index
        candidates.append((index, record, extras))

    # 2. Each distinct file is confined, hashed and header-checked once (in parallel: it is
    #    I/O), since catalogues reuse the same photos across many rows.
    distinct = {raw for _, record, _ in candidates for column in PATH_COLUMNS
                if isinstance(raw := record.get(column), str) and raw}
    resolved = {raw: resolver.resolve(raw) for raw in distinct}
    files = {target for target in resolved.values() if isinstance(target, Path)}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        inspected = dict(zip(files, pool.map(inspector.inspect_file, files)))

    # 3. Assemble rows.
    pairs: list[Pair] = []
    for index, record, extras in candidates:
        try:
            pairs.append(_validate_row(index, record, resolved=resolved, inspected=inspected, extras=extras))
        except PairError as error:
            failures.append(_failed(record, index, extras, error))
    failures.sort(key=lambda failure: failure.row_index)
    log.info("manifest %s: %d rows selected, %d valid, %d invalid", path, selected, len(pairs), len(failures))
    return ValidatedManifest(
        path=path, sha256=sha256_file(path), data_root=root, total_rows=selected,
        pairs=pairs, failures=failures, extra_types=extra_types,
    )


def _validate_row(index: int, record: dict[str, Any], *, resolved: dict[str, Path | PairError],
                  inspected: dict[Path, str | PairError], extras: dict[str, Any]) -> Pair:
    pair_id = record["pair_id"]
    label = f"row {index} (pair_id {pair_id!r})"
    if not pair_id.strip():
        raise PairError("bad_pair_id", f"row {index}: pair_id is blank; give every pair a unique, non-empty id")
    category = record["category"]
    if category not in CATEGORIES:
        raise PairError(
            "unknown_category",
            f"{label}: category {category!r} is not one of {', '.join(CATEGORIES)}; fix the manifest",
        )
    paths: dict[str, Path] = {}
    hashes: dict[str, str] = {}
    for column in PATH_COLUMNS:
        raw = record.get(column)
        if column not in REQUIRED_COLUMNS and _is_missing(raw):
            continue
        if not isinstance(raw, str) or not raw.strip():
            raise PairError("missing_path", f"{label}: column {column!r} is empty; give a path to an image file")
        target = resolved[raw]
        outcome = target if isinstance(target, PairError) else inspected[target]
        if isinstance(outcome, PairError):
            # Several rows may name the same bad file: each message names its own row and column.
            raise PairError(outcome.error_type, f"{label} {column}: {outcome.message}")
        paths[column], hashes[column] = target, outcome
    seed = record.get("seed")
    seed = derive_seed(pair_id) if _is_missing(seed) else int(seed)
    if not 0 <= seed <= MAX_SEED:
        raise PairError(
            "bad_seed",
            f"{label}: seed {seed} is outside 0..{MAX_SEED} (the catalogue stores seeds as int64); "
            "use a smaller non-negative seed, or leave it empty to derive one from pair_id",
        )
    return Pair(
        pair_id=pair_id,
        row_index=index,
        person_image=paths["person_image"],
        garment_image=paths["garment_image"],
        category=category,
        seed=seed,
        person_sha256=hashes["person_image"],
        garment_sha256=hashes["garment_image"],
        prompt=_text(record.get("prompt")),
        garment_description=_text(record.get("garment_description")),
        ground_truth_image=paths.get("ground_truth_image"),
        mask_image=paths.get("mask_image"),
        mask_sha256=hashes.get("mask_image"),
        ground_truth_sha256=hashes.get("ground_truth_image"),
        output_image=paths.get("output_image"),
        output_sha256=hashes.get("output_image"),
        extras=extras,
    )


class _PathResolver:
    """Confine each distinct manifest path string to the data root, once."""

    def __init__(self, *, manifest_dir: Path, data_root: Path):
        self.manifest_dir, self.data_root = manifest_dir, data_root

    def resolve(self, raw: str) -> Path | PairError:
        try:
            return resolve_confined(raw, manifest_dir=self.manifest_dir, data_root=self.data_root)
        except PairError as error:
            return error


class _FileInspector:
    """Hash a file and check its image header (format, size, bomb limit) without decoding
    the pixels (a truncated body is caught when the shard decodes it)."""

    def __init__(self, limits: ImageLimits):
        self.limits = limits

    def inspect_file(self, path: Path) -> str | PairError:
        try:
            return self._inspect(path)
        except PairError as error:
            return error

    def _inspect(self, path: Path) -> str:
        try:
            size = path.stat().st_size
        except OSError as error:
            raise PairError("unreadable_file", f"cannot read {path}: {error.strerror}; check permissions") from None
        if size == 0:
            raise PairError("empty_file", f"{path} is empty (0 bytes); replace it with a real image")
        try:
            with Image.open(path) as image:
                width, height = image.size
        except UnidentifiedImageError:
            raise PairError("not_an_image", f"{path} is not an image Pillow can read; re-export it as PNG or JPEG") from None
        except Image.DecompressionBombError:
            raise PairError(
                "image_too_large",
                f"{path} declares more than {self.limits.max_pixels:,} pixels (decompression-bomb guard); resize it",
            ) from None
        except OSError as error:
            raise PairError("corrupt_image", f"{path} cannot be opened ({error}); re-export the file") from None
        try:
            _check_size(width, height, limits=self.limits, label="image", path=path)
        except PairError as error:
            raise PairError(error.error_type, error.message.removeprefix("image: ")) from None
        return sha256_file(path)


def _failed(record: dict[str, Any], index: int, extras: dict[str, Any], error: PairError) -> FailedRow:
    return FailedRow(
        pair_id=str(record.get("pair_id")), row_index=index, error_type=error.error_type,
        error_message=error.message, category=_text(record.get("category")),
        person_image=_text(record.get("person_image")), garment_image=_text(record.get("garment_image")),
        extras=extras,
    )


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str | None:
    return None if _is_missing(value) else str(value)
