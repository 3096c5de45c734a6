"""Is the output an image at all, and how sharp is the generated part (no reference needed)?"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

MIN_CROP_SIDE = 16  # smaller mask boxes are scored on the whole image
BLUR_FILTER_SIZE = 11  # skimage.measure.blur_effect's h_size default
_SOBEL_SMOOTH = np.array([1, 2, 1], np.float64) / 4  # skimage.filters.sobel's weights
_SOBEL_EDGE = np.array([1, 0, -1], np.float64)


def sanity_flags(output: np.ndarray) -> dict[str, bool]:
    """Same thresholds as the engines' `check_output_sane`, so the catalogue agrees with the guard."""
    finite = np.isfinite(output) if np.issubdtype(output.dtype, np.floating) else np.ones(output.shape, bool)
    values = output[finite]
    if values.size == 0:
        return {"is_blank": True, "is_black": True, "has_nan": True}
    return {
        "is_blank": bool(float(values.max()) - float(values.min()) <= 1),
        "is_black": bool(values.max() <= 3),
        "has_nan": bool(not finite.all()),
    }


def mask_box(garment_mask: np.ndarray) -> tuple[slice, slice] | None:
    rows = np.flatnonzero(garment_mask.any(axis=1))
    columns = np.flatnonzero(garment_mask.any(axis=0))
    if rows.size == 0 or rows[-1] - rows[0] + 1 < MIN_CROP_SIDE or columns[-1] - columns[0] + 1 < MIN_CROP_SIDE:
        return None
    return slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)


def blur_effect(gray: np.ndarray, h_size: int = BLUR_FILTER_SIZE) -> float:
    """The blur effect of Crete et al. (0 sharp .. 1 blurred) exactly as skimage.measure.blur_effect
    defines it (same box re-blur, Sobel weights, reflected borders, inner slice, max over both axes),
    computed with OpenCV in float32: an eighth of the CPU of skimage's float64 SciPy filters, and
    within 1e-6 of its value (tests/metrics/test_fast_paths.py)."""
    image = gray.astype(np.float32) * np.float32(1 / 255)
    inner = (slice(2, image.shape[0] - 1), slice(2, image.shape[1] - 1))
    scores = []
    for axis in (0, 1):
        box, (kernel_x, kernel_y) = ((h_size, 1), (_SOBEL_EDGE, _SOBEL_SMOOTH)) if axis == 1 else \
            ((1, h_size), (_SOBEL_SMOOTH, _SOBEL_EDGE))
        blurred = cv2.blur(image, box, borderType=cv2.BORDER_REFLECT)
        sharp = np.abs(cv2.sepFilter2D(image, cv2.CV_32F, kernel_x, kernel_y, borderType=cv2.BORDER_REFLECT))
        soft = np.abs(cv2.sepFilter2D(blurred, cv2.CV_32F, kernel_x, kernel_y, borderType=cv2.BORDER_REFLECT))
        sharp_sum = cv2.sumElems(sharp[inner])[0]
        kept_sum = cv2.sumElems(cv2.max(cv2.subtract(sharp, soft), 0)[inner])[0]
        # skimage floors both maps at machine epsilon, so a flat image scores 1 there too.
        scores.append(abs(sharp_sum - kept_sum) / sharp_sum if sharp_sum > 0 else 1.0)
    return float(max(scores))


def blur_score(output: np.ndarray, garment_mask: np.ndarray) -> float:
    """scikit-image's blur effect (0 sharp .. 1 blurred) over the generated region's bounding box.

    Unmasked pixels are the person's own, so they would only dilute the score.
    """
    box = mask_box(garment_mask) if garment_mask.shape == output.shape[:2] else None
    crop = output[box] if box is not None else output
    return float(blur_effect(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)))


def brisque_score(output: np.ndarray, model_file: Path, range_file: Path) -> float:
    """OpenCV contrib BRISQUE (0 best .. 100 worst); needs the LIVE model and range YAML files."""
    return float(cv2.quality.QualityBRISQUE_compute(cv2.cvtColor(output, cv2.COLOR_RGB2BGR),
                                                    str(model_file), str(range_file))[0])
