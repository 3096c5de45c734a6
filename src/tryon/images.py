"""Safe image decoding: bomb limit, EXIF orientation, any mode to RGB, size bounds."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
from PIL import Image, ImageOps, UnidentifiedImageError

from tryon.config import ImageLimits
from tryon.errors import PairError
from tryon.png import encode_png

# Pillow's own guard is global state; threads must not flip it. Its hard limit (twice
# MAX_IMAGE_PIXELS) stays on; the configurable limit is enforced from the header by
# `_check_size` before any pixel is decoded, so the warning below adds nothing.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode (L, LA, P, RGBA, CMYK, I;16, I, F) to 8-bit RGB."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        gray = np.clip(np.round(array / peak * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        gray = np.clip(np.round(array * (255.0 if array.max() <= 1.0 else 1.0)), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        # Transparent pixels become white, the usual background of product shots.
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def load_rgb(path: str | Path, *, limits: ImageLimits, label: str) -> Image.Image:
    """Decode an image file into an upright RGB image, or raise PairError saying what is wrong.

    `label` names the row and column for messages ("row 3 (pair_id 'p1') person_image").
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PairError("unreadable_file", f"{label}: cannot read {path}: {error.strerror}; check permissions") from None
    if not data:
        raise PairError("empty_file", f"{label}: {path} is empty (0 bytes); replace it with a real image")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            _check_size(width, height, limits=limits, label=label, path=path)
            opened.load()
            # In place: without an orientation tag the copying form returns a full copy (~3 ms at 1536x2048).
            ImageOps.exif_transpose(opened, in_place=True)
            rgb = _to_rgb(opened)
            rgb.load()
    except Image.DecompressionBombError:
        raise PairError(
            "image_too_large",
            f"{label}: {path} declares more than {limits.max_pixels:,} pixels (decompression-bomb guard); "
            "resize it or raise limits.max_pixels",
        ) from None
    except UnidentifiedImageError:
        raise PairError("not_an_image", f"{label}: {path} is not an image Pillow can read; re-export it as PNG or JPEG") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise PairError("corrupt_image", f"{label}: {path} is damaged or truncated ({error}); re-export the file") from None
    return rgb


def _check_size(width: int, height: int, *, limits: ImageLimits, label: str, path: Path) -> None:
    if width * height > limits.max_pixels:
        raise PairError(
            "image_too_large",
            f"{label}: {path} is {width}x{height}, over the {limits.max_pixels:,}-pixel limit; resize it",
        )
    if min(width, height) < limits.min_side:
        raise PairError(
            "image_too_small",
            f"{label}: {path} is {width}x{height}; both sides must be at least {limits.min_side} px",
        )
    if max(width, height) > limits.max_side:
        raise PairError(
            "image_too_large",
            f"{label}: {path} is {width}x{height}; sides over {limits.max_side} px are refused; resize it",
        )
    if max(width, height) / min(width, height) > limits.max_aspect_ratio:
        raise PairError(
            "bad_aspect_ratio",
            f"{label}: {path} is {width}x{height}, more elongated than {limits.max_aspect_ratio}:1; crop it",
        )


def load_mask(path: str | Path, *, size: tuple[int, int], limits: ImageLimits, label: str) -> np.ndarray:
    """Load a hand-made mask as a boolean array of `size` (width, height); white = inpaint."""
    image = load_rgb(path, limits=limits, label=label)
    if image.size != size:
        image = image.resize(size, Image.NEAREST)
    return np.asarray(image.convert("L")) >= 128


# zlib level 1: ~4x faster than Pillow's default 6 for files ~10 % larger (issue 13's profile).
FAST_PNG_LEVEL = 1
IMAGE_EXTENSIONS = {"png": "png", "webp": "webp", "jpeg": "jpg"}


def as_pil(image: Image.Image | np.ndarray) -> Image.Image:
    """An image or array as Pillow; a boolean mask becomes a 1-bit image (exact, 8x smaller to encode)."""
    if isinstance(image, Image.Image):
        return image
    return Image.fromarray(image)  # Pillow maps a bool array to mode "1"


def encode_image(image: Image.Image | np.ndarray, format: str = "png", *, png_compress_level: int = FAST_PNG_LEVEL,
                 quality: int = 90, webp_lossless: bool = True) -> bytes:
    """The file bytes of `image` in `format` (png | webp | jpeg); boolean masks go out as 1-bit PNG."""
    if format == "png" and isinstance(image, np.ndarray) and image.dtype == np.bool_ and image.ndim == 2:
        return encode_png(image, png_compress_level)  # a mask: 1-bit PNG without a Pillow copy
    image = as_pil(image)
    buffer = io.BytesIO()
    if format == "png" and image.mode in ("RGB", "L", "1"):
        # NumPy "Up" filter + zlib run-length strategy (tryon.png): about half the CPU of
        # OpenCV's or Pillow's adaptive-filter writers on photos, for files of about the same size.
        return encode_png(rgb_pixels(image), png_compress_level)
    if format == "png":
        image.save(buffer, format="PNG", compress_level=png_compress_level)
    elif format == "webp":
        # method 0 is the fastest encoder setting; lossless stays exact at any method.
        image.save(buffer, format="WEBP", lossless=webp_lossless, quality=quality, method=0)
    elif format == "jpeg":
        image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    else:
        raise ValueError(f"unknown image format {format!r}; use png, webp or jpeg")
    return buffer.getvalue()


def rgb_pixels(image: Image.Image) -> np.ndarray:
    """An RGB image's pixels as an H x W x 3 uint8 array (a copy; read-only when it falls back).

    `np.asarray(image)` costs ~8 ms at 1536x2048 (Pillow serialises its 4-byte RGBX pixels row
    block by row block, then joins them); Pillow's Arrow export is a zero-copy view of the same
    memory, from which OpenCV drops the padding byte in ~1 ms. Images Pillow keeps in more than
    one memory block (over 16 MiB by default, e.g. 2000x3000) or of other modes take the plain path.
    """
    if image.mode == "RGB":
        try:
            values = pa.array(image).buffers()[-1]
        except (ValueError, TypeError, AttributeError, pa.ArrowException):
            values = None
        width, height = image.size
        if values is not None and values.size >= width * height * 4:
            padded = np.frombuffer(values, np.uint8, count=width * height * 4).reshape(height, width, 4)
            return cv2.cvtColor(padded, cv2.COLOR_RGBA2RGB)
    return np.asarray(image)


def shrink_image(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` scaled down to `size` by area averaging (OpenCV: ~20x less CPU than Pillow's bilinear)."""
    if image.size == tuple(size):
        return image
    return Image.fromarray(cv2.resize(rgb_pixels(image), tuple(size), interpolation=cv2.INTER_AREA))


def scale_to_long_side(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(width, height) shrunk so the longer side is at most `long_side`; unchanged when 0 or already small."""
    width, height = size
    if long_side <= 0 or max(width, height) <= long_side:
        return size
    factor = long_side / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def save_png(image: Image.Image | np.ndarray, target: Path) -> None:
    """Write a PNG atomically."""
    from tryon.atomic import atomic_path

    with atomic_path(target) as temp:
        temp.write_bytes(encode_image(image, "png"))
