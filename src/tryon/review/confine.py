"""Which files the review app may serve: only files inside the catalogue or a run's data root."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

# Only what a browser shows as an image; anything else under a root (Parquet, configs) is 404.
SERVABLE_SUFFIXES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                     ".webp": "image/webp", ".gif": "image/gif"}


def openable_path(raw: str | os.PathLike | None, *, base: Path, roots: Sequence[Path]) -> Path | None:
    """The file a row's path names, if it lies inside one of `roots`; else None.

    Relative paths are taken from `base` (the catalogue for its images). The path must be
    inside a root both as written (`..` normalised away) and after resolving symlinks, so a
    link that points out of the root is refused like `..` is. NUL bytes, missing files and
    folders give None too: callers answer 404 and never say why.
    """
    if raw is None or str(raw) == "" or "\x00" in str(raw):
        return None
    candidate = Path(raw)
    if not candidate.is_absolute():
        candidate = base / candidate
    lexical = Path(os.path.normpath(candidate))
    for root in roots:
        root = Path(root).resolve()
        if not _inside(lexical, root):
            continue
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        return resolved if _inside(resolved, root) and resolved.is_file() else None
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


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
