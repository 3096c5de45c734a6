"""A lossless 8-bit RGB / grey (and 1-bit mask) PNG writer tuned for photos: NumPy's "Up" filter + a fast deflate.

Why not OpenCV's or Pillow's writer: both let libpng/Pillow try every PNG filter on every row
(adaptive filtering), which costs about as much as the compression itself. On camera photos a
single "Up" filter (each row minus the row above, computed by NumPy in one pass) compresses
about as well (issue 13's measurement: 2.10 MB vs OpenCV's 2.06 MB for a 1536x2048 photo) for
about half the CPU (85 ms vs 167 ms at zlib level 1), and ISA-L's deflate at level 1 (see
`deflate`) cuts the compression itself to about a quarter. The file is a plain PNG (one IHDR,
one IDAT, IEND; PNG spec, filter type 2), read back pixel for pixel by any decoder.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

try:  # ISA-L's deflate: the same zlib stream format at about a quarter of zlib's CPU at level 1
    from isal import isal_zlib
except ImportError:  # pragma: no cover - a pinned dependency; plain zlib still writes valid PNGs
    isal_zlib = None

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILTER_UP = 2
COLOUR_TYPES = {1: 0, 3: 2}  # channels -> PNG colour type: 0 greyscale, 2 truecolour


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)))


def deflate(data: np.ndarray, level: int) -> bytes:
    """A zlib stream of `data`. Level 1 (the fast default) by ISA-L when installed: 21 ms instead of
    81 ms for a filtered 1536x2048 photo, 2 % larger (issue 13); other levels, or no ISA-L, by
    zlib with the run-length strategy (level 0 stores, 9 is smallest)."""
    if level == 1 and isal_zlib is not None:
        return isal_zlib.compress(data, 1)
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS, 9, zlib.Z_RLE)
    return compressor.compress(data) + compressor.flush()


def encode_png(pixels: np.ndarray, level: int = 1) -> bytes:
    """PNG bytes of an H x W (grey) or H x W x 3 (RGB) uint8 array at zlib `level` (0-9); an
    H x W boolean mask goes out as a 1-bit greyscale PNG (Pillow reads it back as mode "1")."""
    if pixels.dtype == np.bool_ and pixels.ndim == 2:
        height, width = pixels.shape
        rows, bit_depth, colour_type = np.packbits(pixels, axis=1), 1, 0  # 8 pixels a byte, first pixel high
    elif pixels.dtype == np.uint8 and (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)):
        height, width = pixels.shape[:2]
        channels = 1 if pixels.ndim == 2 else 3
        rows = np.ascontiguousarray(pixels).reshape(height, width * channels)
        bit_depth, colour_type = 8, COLOUR_TYPES[channels]
    else:
        raise ValueError(f"encode_png takes H x W bool, or H x W or H x W x 3 uint8 pixels, not {pixels.dtype} {pixels.shape}")
    filtered = np.empty((height, rows.shape[1] + 1), np.uint8)
    filtered[:, 0] = FILTER_UP
    filtered[0, 1:] = rows[0]  # the row above the first is zero
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # modulo 256, as the spec wants
    data = deflate(filtered, level)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
