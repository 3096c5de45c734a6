"""Metric inputs scaled to a working size: the one place metrics trade resolution for speed.

Full-resolution SSIM maps and k-means cost seconds on a 1536x2048 photo; at a long side of
1024 the same numbers move by little (tests/metrics/test_working_size.py states how little)
for a fraction of the time. Person and output shrink with the same filter, so pixels the
engine kept stay equal; a mask pixel is set where any full-size pixel under it was set, so
changed pixels at the mask's edge stay inside the mask.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from PIL import Image

from tryon.images import scale_to_long_side, shrink_image


def shrink_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Any-of downscale: area average above zero."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape[::-1] == tuple(size):
        return mask
    return cv2.resize(mask.astype(np.uint8) * 255, tuple(size), interpolation=cv2.INTER_AREA) > 0


def metric_inputs(long_side: int, *, person: Image.Image, output: Image.Image, garment_mask: np.ndarray,
                  person_mask: np.ndarray, garment: Image.Image,
                  ground_truth: Image.Image | None = None,
                  raw_output: Image.Image | None = None) -> dict[str, Any]:
    """`pair_metrics` keyword arguments at a long side of at most `long_side` (0: unchanged)."""
    size = scale_to_long_side(output.size, long_side)
    return {
        "person": shrink_image(person, size),
        "output": shrink_image(output, size),
        "garment_mask": shrink_mask(garment_mask, size),
        "person_mask": shrink_mask(person_mask, size),
        "garment": shrink_image(garment, scale_to_long_side(garment.size, long_side)),
        "ground_truth": None if ground_truth is None else shrink_image(ground_truth, size),
        "raw_output": None if raw_output is None else shrink_image(raw_output, size),
    }
