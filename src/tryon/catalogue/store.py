"""The catalogue folder: results/ (Parquet, partitioned by run), runs/, images/, cache/.

Every file lands by atomic rename, so a run killed at any moment leaves only whole files;
a shard's rows are one file, so a rerun either sees a shard or redoes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from tryon.atomic import TEMP_PREFIX, TEMP_SUFFIX, atomic_path, atomic_write_bytes, remove_stale_temps
from tryon.catalogue.files import result_files, run_files
from tryon.catalogue.schema import RUN_FIELDS, rows_to_table
from tryon.errors import TryonError
from tryon.hashing import sha256_bytes
from tryon.images import FAST_PNG_LEVEL, IMAGE_EXTENSIONS, encode_image


class CatalogueBusyError(TryonError):
    """Another run holds the catalogue."""


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique run id: UTC timestamp to the microsecond + random suffix.

    `latest` orders runs by id, so two runs started within one second (a fast rerun after a
    killed one) must still sort by time, not by their random suffixes. Older ids without the
    microseconds (`…T081312-55686f`) sort before newer ones of the same second ('-' < '.').
    """
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}.{now:%f}-{os.urandom(3).hex()}"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Catalogue:
    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()

    # -- layout ---------------------------------------------------------------------------
    @property
    def results_dir(self) -> Path:
        return self.root / "results"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def images_dir(self) -> Path:
        return self.root / "images"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    def create(self) -> "Catalogue":
        for folder in (self.results_dir, self.runs_dir, self.images_dir, self.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    def exists(self) -> bool:
        return self.runs_dir.is_dir()

    def check_writable(self) -> None:
        """Refuse, in one line, a catalogue this process cannot write to, or one another run holds.

        Called before Prefect starts, so these errors are not buried under Prefect's own output.
        """
        if self.root.exists() and not self.root.is_dir():
            raise TryonError(f"catalogue {self.root} is a file, not a folder; pass a folder (it is created if missing)")
        try:
            self.create()
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX):
                pass
        except OSError as error:
            where = error.filename or self.root
            raise TryonError(f"cannot write to catalogue {self.root} ({where}: {error.strerror or error}); "
                             "check the folder's permissions or pass another --catalogue") from None
        with self.exclusive_lock():
            pass

    # -- concurrency ----------------------------------------------------------------------
    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the catalogue for one run. A second concurrent run refuses at once.

        An OS file lock (flock) is released by the kernel when its process dies, so a killed
        run never leaves the catalogue locked.
        """
        self.create()
        with self.exclusive_lock() as handle:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid={os.getpid()} host={socket.gethostname()} since={utc_now().isoformat()}\n")
            handle.flush()
            remove_stale_temps(self.root)
            self._mark_interrupted_runs()
            try:
                yield
            except KeyboardInterrupt:
                # Ctrl-C: finished shards are already whole files; close our run record now.
                self._mark_interrupted_runs()
                raise
            except Exception as error:
                self._close_open_runs(error)
                raise

    @contextlib.contextmanager
    def exclusive_lock(self) -> Iterator[IO[str]]:
        """The OS lock alone (the catalogue folder must exist); CatalogueBusyError when held."""
        handle = open(self.root / ".lock", "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise CatalogueBusyError(
                f"another tryon run is writing to {self.root}; wait for it to finish "
                "(or use a different --catalogue) and try again"
            ) from None
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()

    def _mark_interrupted_runs(self) -> None:
        """Runs still 'running' while we hold the lock were killed: say so in `runs`."""
        for record in self.read_runs():
            if record.get("status") == "running":
                record["status"] = "interrupted"
                self.write_run(record)

    def _close_open_runs(self, error: Exception) -> None:
        """A run that stops on an error is closed as `failed` with the reason, never left
        `running` (while we hold the lock, a running run is this process's own)."""
        for record in self.read_runs():
            if record.get("status") == "running":
                record.update(status="failed", finished_at=utc_now(),
                              error_message=f"{type(error).__name__}: {error}"[:2000])
                self.write_run(record)

    # -- writes ---------------------------------------------------------------------------
    def shard_path(self, run_id: str, shard_name: str) -> Path:
        return self.results_dir / f"run_id={run_id}" / f"{shard_name}.parquet"

    def write_results(self, run_id: str, shard_name: str, rows: list[dict[str, Any]], schema: pa.Schema) -> Path:
        target = self.shard_path(run_id, shard_name)
        table = rows_to_table(rows, schema)
        with atomic_path(target) as temp:
            pq.write_table(table, temp, compression="zstd")
        return target

    def write_run(self, record: dict[str, Any]) -> Path:
        schema = pa.schema(RUN_FIELDS)
        target = self.runs_dir / f"run-{record['run_id']}.parquet"
        with atomic_path(target) as temp:
            pq.write_table(rows_to_table([record], schema), temp)
        return target

    def save_image(self, image: Image.Image | np.ndarray, kind: str, *, format: str = "png",
                   png_compress_level: int = FAST_PNG_LEVEL, quality: int = 90,
                   webp_lossless: bool = True) -> tuple[str, str]:
        """Store an image addressed by its content hash; returns (path relative to root, sha256).

        PNG at a fast zlib level unless told otherwise; a boolean mask is written as 1-bit PNG.
        """
        data = encode_image(image, format, png_compress_level=png_compress_level, quality=quality,
                            webp_lossless=webp_lossless)
        digest = sha256_bytes(data)
        relative = Path("images") / kind / digest[:2] / f"{digest}.{IMAGE_EXTENSIONS[format]}"
        target = self.root / relative
        if not target.exists():
            atomic_write_bytes(target, data)
        return relative.as_posix(), digest

    # -- reads ----------------------------------------------------------------------------
    def read_runs(self) -> list[dict[str, Any]]:
        if not self.runs_dir.exists():
            return []
        records = []
        for path, _ in run_files(self.runs_dir):  # unreadable or foreign files: skipped with a warning
            records.extend(pq.read_table(path).to_pylist())
        return records

    def run_record(self, run_id: str | None = None) -> dict[str, Any]:
        """The record of `run_id`, or of the newest run when None."""
        runs = sorted(self.read_runs(), key=lambda record: record["run_id"])
        if not runs:
            raise TryonError(f"{self.root} has no runs yet; start one with `tryon run MANIFEST --catalogue {self.root}`")
        if run_id is None:
            return runs[-1]
        for record in runs:
            if record["run_id"] == run_id:
                return record
        known = ", ".join(record["run_id"] for record in runs[-5:])
        raise TryonError(f"run {run_id!r} is not in {self.root}; recent runs: {known}")

    def result_files(self) -> list[Path]:
        """The shard files that are this catalogue's own (see `catalogue.files`)."""
        return [path for path, _ in result_files(self.results_dir)]

    def completed_shards(self, run_id: str) -> set[str]:
        folder = self.results_dir / f"run_id={run_id}"
        return {path.stem for path in folder.glob("*.parquet")} if folder.exists() else set()


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
