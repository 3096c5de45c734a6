"""Did the engine repaint the masked region at all, or keep (part of) the old garment?"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.metrics.scale import shrink_factor, shrink_image, shrink_mask

WORKING_SIDE = 256  # coarse on purpose: VAE drift and resampling average out, a new garment does not
UNCHANGED_DELTA_E = 8.0  # CIE76 distance in Lab below which a (shrunk) pixel counts as the original's
CORE_ERODE_FRACTION = 0.03  # of the shrunk image's longest side: the mask margin, mostly background, is left out
MIN_HALF_PIXELS = 16


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def mask_core(garment_mask: np.ndarray, erode_px: int) -> np.ndarray:
    """The mask without its outer band (where background and arms legitimately stay as they were)."""
    if erode_px <= 0:
        return garment_mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode_px + 1, 2 * erode_px + 1))
    core = cv2.erode(garment_mask.astype(np.uint8), kernel).astype(bool)
    return core if core.sum() >= 4 * MIN_HALF_PIXELS else garment_mask


def halves(core: np.ndarray) -> list[np.ndarray]:
    """Top, bottom, left and right halves of the core, split at its median row / column."""
    rows, columns = np.nonzero(core)
    row_split, column_split = np.median(rows), np.median(columns)
    grid_rows, grid_columns = np.indices(core.shape)
    return [core & (grid_rows <= row_split), core & (grid_rows > row_split),
            core & (grid_columns <= column_split), core & (grid_columns > column_split)]


def change_metrics(person: np.ndarray, output: np.ndarray, garment_mask: np.ndarray) -> dict[str, float | None]:
    """`garment_unchanged_fraction`: the largest share of a half of the mask core that still looks like the photo.

    1.0 when the old garment was kept; about 0.5+ when only half the mask was repainted; low for a
    real try-on. Measured on area-averaged images so the engine's pixel-level drift is not "change".
    """
    if person.shape != output.shape or garment_mask.shape != output.shape[:2] or not garment_mask.any():
        return {"garment_unchanged_fraction": None}
    factor = shrink_factor(output.shape, WORKING_SIDE)
    mask = shrink_mask(garment_mask, factor, keep="all")
    if mask.sum() < 4 * MIN_HALF_PIXELS:
        return {"garment_unchanged_fraction": None}
    core = mask_core(mask, round(CORE_ERODE_FRACTION * max(mask.shape)))
    distance = np.linalg.norm(_lab(shrink_image(person, factor)) - _lab(shrink_image(output, factor)), axis=2)
    unchanged = distance < UNCHANGED_DELTA_E
    shares = [float(unchanged[half].mean()) for half in halves(core) if half.sum() >= MIN_HALF_PIXELS]
    return {"garment_unchanged_fraction": max(shares) if shares else float(unchanged[core].mean())}
