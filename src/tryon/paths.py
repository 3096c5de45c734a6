"""Confine manifest paths to their data root, so a manifest cannot read arbitrary files."""

from __future__ import annotations

import os
from pathlib import Path

from tryon.errors import PairError


def resolve_confined(raw: str, *, manifest_dir: Path, data_root: Path) -> Path:
    """Resolve a manifest path and prove it lies inside `data_root` before anything opens it.

    Relative paths are taken from the manifest's folder. Symlinks are resolved first, so a
    link pointing outside the root is refused like `..` is. Messages name the path; the
    caller prefixes the row and column.
    """
    if "\x00" in raw:
        raise PairError("path_outside_root", f"{raw!r} contains a NUL byte; fix the manifest")
    candidate = Path(raw)
    if not candidate.is_absolute():
        candidate = manifest_dir / candidate
    root = data_root.resolve()
    lexical = Path(os.path.normpath(candidate))
    if not _inside(lexical, root):
        raise PairError(
            "path_outside_root",
            f"{raw!r} points outside the data root {root}; move the file under the root or pass --data-root",
        )
    resolved = candidate.resolve()
    if not _inside(resolved, root):
        raise PairError(
            "path_outside_root",
            f"{raw!r} resolves (through a symlink) to {resolved}, outside the data root {root}; "
            "copy the file under the root instead of linking to it",
        )
    if not resolved.is_file():
        raise PairError("missing_file", f"file {raw!r} does not exist (looked for {resolved}); fix the path or add the file")
    return resolved


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
