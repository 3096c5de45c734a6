"""Cheaper computations that must give exactly what the plain NumPy rule they replace gives."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tryon.metrics.garment import BACKGROUND_TOLERANCE, distinct_rows, product_silhouette

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def _numpy_silhouette(garment: np.ndarray) -> np.ndarray:
    border = np.concatenate([garment[0], garment[-1], garment[:, 0], garment[:, -1]])
    background = np.median(border, axis=0)  # may be a half level: an even number of border pixels
    foreground = np.abs(garment.astype(np.int16) - background).max(axis=2) > BACKGROUND_TOLERANCE
    return cv2.morphologyEx(foreground.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)


def test_silhouette_equals_the_numpy_rule_on_random_and_sample_garments():
    rng = np.random.default_rng(13)
    garments = []
    for index in range(200):
        height, width = rng.integers(3, 50, 2)
        base = rng.integers(0, 256, 3)  # near 0 and 255 the tolerance range is clipped
        garment = np.clip(base + rng.integers(-20, 21, (height, width, 3)), 0, 255).astype(np.uint8)
        if index % 2:
            garment[:, : width // 2] = rng.integers(0, 256, (height, width // 2, 3))
        garments.append(garment)
    for name in ("red_tshirt.png", "navy_striped_tshirt.png", "green_check_shirt.png"):
        garments.append(np.asarray(Image.open(SAMPLE / "garments" / name).convert("RGB")))
    for garment in garments:
        assert np.array_equal(product_silhouette(garment), _numpy_silhouette(garment))


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_distinct_rows_counts_like_np_unique_up_to_the_limit(limit):
    rng = np.random.default_rng(limit)
    for size in (0, 1, 2, 7, 100):
        for palette in (1, 2, 3, 4, 50):
            colours = rng.random((palette, 3)).astype(np.float32)
            rows = colours[rng.integers(0, palette, size)]
            assert distinct_rows(rows, limit) == min(limit, len(np.unique(rows, axis=0)))
