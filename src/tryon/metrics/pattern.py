"""Alignment-free pattern and sharpness of the generated garment region.

The product shot and the try-on never line up pixel for pixel (pose, folds, scale), so these
compare statistics of gradients, not pixels: which way edges run and how steep they are.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.metrics.change import CORE_ERODE_FRACTION, mask_core

PATTERN_HEIGHT = 160  # both regions are scaled to this height, so stripes of one garment count alike
ORIENTATION_BINS = 8  # over 0..180 degrees: an edge and its opposite are the same stripe
FLAT_GRADIENT = 6.0  # grey levels per pixel (after a 1-px Gaussian) below which a pixel votes "flat"
REBLUR_SIGMA = 1.5
MIN_PIXELS = 64


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _box(mask: np.ndarray) -> tuple[slice, slice]:
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)


def _scaled_crop(image: np.ndarray, mask: np.ndarray, height: int) -> tuple[np.ndarray, np.ndarray]:
    box = _box(mask)
    crop, crop_mask = _gray(image[box]), mask[box]
    scale = height / crop.shape[0]
    size = (max(1, round(crop.shape[1] * scale)), height)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return (cv2.resize(crop, size, interpolation=interpolation),
            cv2.resize(crop_mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool))


def orientation_histogram(gray: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Share of the region's pixels that are flat, or lie on an edge of each orientation (sums to 1)."""
    smooth = cv2.GaussianBlur(gray, (0, 0), 1.0)
    gx, gy = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8.0, cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    magnitude = np.hypot(gx, gy)[region]
    angle = (np.degrees(np.arctan2(gy, gx))[region] % 180.0)
    bins = np.minimum((angle / (180.0 / ORIENTATION_BINS)).astype(int), ORIENTATION_BINS - 1) + 1
    bins[magnitude < FLAT_GRADIENT] = 0
    counts = np.bincount(bins, minlength=ORIENTATION_BINS + 1).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def chi_square(first: np.ndarray, second: np.ndarray) -> float:
    """Symmetric chi-square distance of two histograms that sum to 1 (0 same .. 1 disjoint)."""
    total = first + second
    used = total > 0
    return float(0.5 * ((first[used] - second[used]) ** 2 / total[used]).sum())


def sharpness(gray: np.ndarray, region: np.ndarray) -> float | None:
    """Share of the region's gradient energy a further Gaussian blur removes: high when sharp, near 0 when blurred.

    A ratio of gradients, so it does not depend on the region's contrast.
    """
    if region.sum() < MIN_PIXELS:
        return None
    blurred = cv2.GaussianBlur(gray, (0, 0), REBLUR_SIGMA)
    energy = np.abs(cv2.Laplacian(gray, cv2.CV_32F))[region].sum()
    if energy <= 0:
        return 0.0  # not one edge: nothing there is sharp
    # Clamped: on a flat region the blur can carry more edge energy in from outside than it removes.
    return max(0.0, float(1.0 - np.abs(cv2.Laplacian(blurred, cv2.CV_32F))[region].sum() / energy))


def pattern_metrics(garment: np.ndarray, garment_silhouette: np.ndarray, output: np.ndarray,
                    garment_mask: np.ndarray, person_mask: np.ndarray) -> dict[str, float | None]:
    """Pattern and sharpness of the generated region (the mask without its margin), at one scale.

    The product shot and the region are both scaled to PATTERN_HEIGHT rows, so a stripe is as wide
    in one as in the other: `garment_pattern_distance` compares their flat/edge-orientation
    histograms, `garment_sharpness_ratio` their sharpness. `garment_sharpness_vs_person` compares
    the region with the rest of the person in the output at that same scale.
    """
    result: dict[str, float | None] = dict.fromkeys(
        ("garment_pattern_distance", "garment_sharpness_ratio", "garment_sharpness_vs_person"))
    if garment_mask.shape != output.shape[:2] or garment_mask.sum() < MIN_PIXELS:
        return result
    # The margin is left out at the scaled size: eroding a 2048 px mask by 60 px costs more than all the rest.
    region_gray, region_mask = _scaled_crop(output, garment_mask, PATTERN_HEIGHT)
    scale = PATTERN_HEIGHT / (np.flatnonzero(garment_mask.any(axis=1)).ptp() + 1)
    region_mask = mask_core(region_mask, round(CORE_ERODE_FRACTION * max(garment_mask.shape) * scale))
    region_sharpness = sharpness(region_gray, region_mask)
    if garment_silhouette.sum() >= MIN_PIXELS:
        product_gray, product_region = _scaled_crop(garment, garment_silhouette, PATTERN_HEIGHT)
        result["garment_pattern_distance"] = chi_square(orientation_histogram(product_gray, product_region),
                                                        orientation_histogram(region_gray, region_mask))
        product_sharpness = sharpness(product_gray, product_region)
        if region_sharpness is not None and product_sharpness:
            result["garment_sharpness_ratio"] = region_sharpness / product_sharpness
    # The rest of the person, seen at the region's scale (a few pixels off the mask edge).
    size = (max(1, round(output.shape[1] * scale)), max(1, round(output.shape[0] * scale)))
    person_gray = cv2.resize(_gray(output), size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    near_garment = cv2.dilate(garment_mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    rest = cv2.resize((person_mask & ~near_garment).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    rest_sharpness = sharpness(person_gray, rest)
    if region_sharpness is not None and rest_sharpness:
        result["garment_sharpness_vs_person"] = region_sharpness / rest_sharpness
    return result
