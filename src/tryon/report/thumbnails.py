"""Small inline JPEG thumbnails (data URIs), so the report is one file."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from tryon.config import ImageLimits
from tryon.errors import PairError
from tryon.images import load_rgb

_LIMITS = ImageLimits(min_side=1, max_aspect_ratio=1000.0)


def thumbnail_uri(path: str | Path | None, *, base: Path, size: int = 160) -> str | None:
    """A data URI for the image at `path` (relative to `base` if not absolute), or None."""
    if not path:
        return None
    file_path = Path(path)
    if not file_path.is_absolute():
        file_path = base / file_path
    try:
        image = load_rgb(file_path, limits=_LIMITS, label="report")
    except PairError:
        return None
    image.thumbnail((size, size))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
