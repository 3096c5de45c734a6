"""Is the output an image at all, and how sharp is the generated part (no reference needed)?"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage.measure import blur_effect

MIN_CROP_SIDE = 16  # smaller mask boxes are scored on the whole image


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
