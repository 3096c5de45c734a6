"""Atomic writes: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

# Temp names start with a dot (pyarrow skips hidden files) and end in `.partial` (so a
# DuckDB glob such as `**/*.parquet` never matches them): readers never see half a file.
TEMP_PREFIX = ".tmp-"
TEMP_SUFFIX = ".partial"


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `target`; on success fsync it and rename it over `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f"{TEMP_PREFIX}{target.name}.{uuid.uuid4().hex}{TEMP_SUFFIX}"
    try:
        yield temp
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
        _fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def atomic_write_bytes(target: str | Path, data: bytes) -> Path:
    with atomic_path(target) as temp:
        temp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | Path, text: str) -> Path:
    return atomic_write_bytes(target, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Build a directory under a temp name and rename it into place when complete."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=target.parent))
    try:
        yield temp
        if target.exists():  # a concurrent writer got there first with the same content
            shutil.rmtree(temp)
            return
        os.replace(temp, target)
        _fsync_dir(target.parent)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


def remove_stale_temps(directory: str | Path) -> int:
    """Delete temp files/dirs a killed writer left behind; returns how many."""
    removed = 0
    directory = Path(directory)
    if not directory.exists():
        return 0
    for leftover in directory.rglob(f"{TEMP_PREFIX}*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        removed += 1
    return removed
