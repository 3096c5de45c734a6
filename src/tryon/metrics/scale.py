"""Shrinking images and masks for metrics that only need coarse structure (cheap and drift-tolerant)."""

from __future__ import annotations

import cv2
import numpy as np


def shrink_factor(shape: tuple[int, ...], longest_side: int) -> int:
    """The integer factor that brings the longest side to at most `longest_side` (1 when it already is)."""
    return max(1, -(-max(shape[:2]) // longest_side))


def shrink_image(image: np.ndarray, factor: int) -> np.ndarray:
    """Area-average `image` by an integer factor (a box low-pass, so pixel-level drift averages out)."""
    if factor == 1:
        return image
    height, width = image.shape[:2]
    return cv2.resize(image, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)


def shrink_mask(mask: np.ndarray, factor: int, *, keep: str = "any") -> np.ndarray:
    """A bool mask at the shrunk size: a cell is set when `any` (or `all`) of its pixels are."""
    if factor == 1:
        return mask.astype(bool)
    coverage = shrink_image(mask.astype(np.float32), factor)
    return coverage > 0.0 if keep == "any" else coverage >= 1.0 - 1e-6
