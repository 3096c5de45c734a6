"""Cheaper computations that must give what the plain rule they replace gives (exactly, or within a stated bound)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tryon.metrics.garment import (
    BACKGROUND_TOLERANCE, MAX_COLOUR_SAMPLES, colour_samples, distinct_rows, product_silhouette,
)
from tryon.metrics.preservation import channel_max
from tryon.metrics.sanity import blur_effect

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


def test_colour_samples_are_the_masked_pixels_at_the_k_means_stride():
    rng = np.random.default_rng(5)
    for count in (0, 1, MAX_COLOUR_SAMPLES - 1, MAX_COLOUR_SAMPLES, 2 * MAX_COLOUR_SAMPLES + 7, 30_000):
        image = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
        mask = np.zeros(200 * 300, bool)
        mask[rng.choice(mask.size, count, replace=False)] = True
        mask = mask.reshape(200, 300)
        step = max(1, count // MAX_COLOUR_SAMPLES)
        assert np.array_equal(colour_samples(image, mask), image[mask][::step])


def test_channel_max_is_the_largest_channel():
    rng = np.random.default_rng(2)
    for shape in ((5, 7, 3), (1, 1, 3), (6, 4, 4), (6, 4)):
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        assert np.array_equal(channel_max(image), image if len(shape) == 2 else image.max(axis=2))


def test_blur_effect_matches_scikit_image_within_a_millionth():
    from skimage.measure import blur_effect as skimage_blur_effect

    rng = np.random.default_rng(11)
    photo = cv2.cvtColor(np.asarray(Image.open(SAMPLE / "people" / "grace_hopper.jpg").convert("RGB")),
                         cv2.COLOR_RGB2GRAY)
    grays = [photo, cv2.GaussianBlur(photo, (0, 0), 3), rng.integers(0, 256, (37, 23), dtype=np.uint8),
             rng.integers(0, 256, (5, 5), dtype=np.uint8), np.full((40, 30), 7, np.uint8)]
    for gray in grays:
        assert blur_effect(gray) == pytest.approx(skimage_blur_effect(gray), abs=1e-6)
