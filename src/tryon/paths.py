"""Confine paths to their root: manifest paths to the data root, row paths to theirs."""

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


def confined_file(raw: str | os.PathLike | None, root: Path, *, base: Path | None = None) -> Path | None:
    """The existing file `raw` names, or None unless it lies inside `root`.

    The rule for every path read back from a catalogue row (a row can hold anything a
    manifest or an old version wrote): with `base`, `raw` must be relative and is taken from
    there; without, it must be absolute. Symlinks are resolved before the check, so a link out
    of `root` is refused like `..` is. Nothing is opened here.
    """
    if not raw or not isinstance(raw, (str, os.PathLike)) or "\x00" in str(raw):
        return None
    candidate = Path(raw)
    if candidate.is_absolute() == (base is not None):
        return None
    if base is not None:
        candidate = base / candidate
    root = Path(root).resolve()
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    if not (_inside(Path(os.path.normpath(candidate)), root) and _inside(resolved, root)) or not resolved.is_file():
        return None
    return resolved
