"""The person photo with the garment region filled from its surroundings, for garment-agnostic depth."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tryon.hashing import sha256_bytes

FILL_LONG_SIDE = 512  # the fill is smooth anyway; inpainting at full size would only cost time


def mask_digest(mask: np.ndarray) -> str:
    """A short content hash of a boolean mask (shape included), for cache keys."""
    return sha256_bytes(np.asarray(mask.shape, dtype=np.int64).tobytes() + np.packbits(mask.astype(bool)).tobytes())[:16]


def garment_agnostic(person: Image.Image, mask: np.ndarray) -> Image.Image:
    """`person` with the masked pixels replaced by a smooth fill from the pixels around the mask.

    Depth of the original photo carries the old garment's silhouette, collar and folds, and the
    ControlNet then draws them into the new garment. Filled from the surroundings (OpenCV's Telea
    inpainting on a downscaled copy), the region keeps the body's outline and pose but loses the
    old garment's detail; pixels outside the mask are untouched.
    """
    import cv2

    rgb = np.asarray(person.convert("RGB"))
    mask = mask.astype(bool)
    if not mask.any():
        return person.convert("RGB")
    height, width = mask.shape
    scale = min(1.0, FILL_LONG_SIDE / max(height, width))
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small_rgb = cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask.astype(np.uint8) * 255, small_size, interpolation=cv2.INTER_AREA) > 0
    filled = cv2.inpaint(small_rgb, small_mask.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
    filled = cv2.resize(filled, (width, height), interpolation=cv2.INTER_LINEAR)
    result = rgb.copy()
    result[mask] = filled[mask]
    return Image.fromarray(result)
