"""Which files the review app may serve: only files inside the catalogue or a run's data root."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import quote

from tryon.catalogue.store import Catalogue
from tryon.paths import confined_file

# Only what a browser shows as an image; anything else under a root (Parquet, configs) is 404.
SERVABLE_SUFFIXES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                     ".webp": "image/webp", ".gif": "image/gif"}


def openable_path(raw: str | os.PathLike | None, *, base: Path, roots: Sequence[Path]) -> Path | None:
    """The file a row's path names, if it lies inside one of `roots`; else None.

    The project's one rule for paths read back from rows (`tryon.paths.confined_file`, also behind
    the report's `RowFiles`): relative paths are taken from `base` (the catalogue for its images),
    and the path must be inside a root both as written and after resolving symlinks. NUL bytes,
    missing files and folders give None too: callers answer 404 and never say why.
    """
    if raw is None or str(raw) == "":
        return None
    relative_to = None if Path(raw).is_absolute() else base
    for root in roots:
        found = confined_file(raw, root, base=relative_to)
        if found is not None:
            return found
    return None


def servable_file(root: Path, relative: str) -> tuple[Path, str] | None:
    """(file, media type) for a URL path under `root`, or None (404) for anything else:
    an absolute path, `..` anywhere, a symlink out of the root, or a non-image file."""
    if not relative or relative.startswith(("/", "\\")) or "\\" in relative:
        return None
    if any(part in ("..", "") for part in relative.split("/")):
        return None
    path = openable_path(relative, base=root, roots=[root])
    if path is None:
        return None
    media_type = SERVABLE_SUFFIXES.get(path.suffix.lower())
    return (path, media_type) if media_type else None


class FileRoots:
    """The folders files may be served from: the catalogue (`c`) and each run's data root (`d0`, `d1`…);
    also the list of runs, both re-read only when runs/ changes."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self._runs_seen: tuple = ()
        self._roots: dict[str, Path] = {"c": catalogue.root}
        self._run_ids: list[str] = []
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        """Re-read runs/ only when a run record was added or rewritten."""
        with self._lock:
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        seen = tuple(sorted((path.name, path.stat().st_mtime_ns) for path in self.catalogue.runs_dir.glob("run-*.parquet")))
        if seen != self._runs_seen:
            records = self.catalogue.read_runs()
            data_roots = sorted({str(Path(record["data_root"]).resolve()) for record in records if record.get("data_root")})
            self._roots = {"c": self.catalogue.root, **{f"d{index}": Path(root) for index, root in enumerate(data_roots)}}
            self._run_ids = sorted((record["run_id"] for record in records), reverse=True)
            self._runs_seen = seen

    def roots(self) -> dict[str, Path]:
        self._refresh()
        return self._roots

    def run_ids(self) -> list[str]:
        """Every run, newest first."""
        self._refresh()
        return self._run_ids

    def url(self, raw: Any) -> str | None:
        """The /file/ URL for a path in a row, or None when it lies in no servable root."""
        if not raw:
            return None
        path = Path(str(raw))
        roots = self.roots()
        if not path.is_absolute():
            return "/file/c/" + quote(path.as_posix())
        for key, root in roots.items():
            if root == path or root in path.parents:
                return f"/file/{key}/" + quote(path.relative_to(root).as_posix())
        return None
