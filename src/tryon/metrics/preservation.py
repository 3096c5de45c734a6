"""Is everything outside the garment mask still the person's own picture?"""

from __future__ import annotations

import math

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

# Identical images have infinite PSNR; a finite cap keeps Parquet statistics and averages usable.
PSNR_CAP_DB = 100.0
# Half of skimage's 7x7 SSIM window: a square erosion this size keeps masked pixels out of every
# window the preserved SSIM averages, and leaves blends room to touch the pixels next to the mask.
PRESERVE_ERODE_PX = 3
CHANGED_LEVELS = 2  # JPEG-free pipelines should not move an unmasked pixel by more than this


def capped_psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB for uint8 data, capped at PSNR_CAP_DB (identical inputs give the cap)."""
    with np.errstate(divide="ignore"):
        value = peak_signal_noise_ratio(reference, test, data_range=255)
    return PSNR_CAP_DB if not math.isfinite(value) else min(float(value), PSNR_CAP_DB)


def luma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def preserved_region(garment_mask: np.ndarray, erode_px: int = PRESERVE_ERODE_PX) -> np.ndarray:
    """The unmasked pixels at least `erode_px` away from the mask."""
    keep = (~garment_mask).astype(np.uint8)
    if erode_px > 0:
        kernel = np.ones((2 * erode_px + 1, 2 * erode_px + 1), np.uint8)
        keep = cv2.erode(keep, kernel, borderType=cv2.BORDER_REPLICATE)
    return keep.astype(bool)


def preservation_metrics(person: np.ndarray, output: np.ndarray, garment_mask: np.ndarray) -> dict[str, float | None]:
    """PSNR, mean SSIM (luma SSIM map averaged over the region) and changed fraction outside the mask."""
    empty = {"preserve_psnr": None, "preserve_ssim": None, "preserve_changed_fraction": None}
    if person.shape != output.shape:
        return empty
    region = preserved_region(garment_mask)
    if not region.any():
        return empty
    _, ssim_map = structural_similarity(luma(person), luma(output), data_range=255, full=True)
    changed = np.abs(person.astype(np.int16) - output.astype(np.int16)).max(axis=2) > CHANGED_LEVELS
    return {
        "preserve_psnr": capped_psnr(person[region], output[region]),
        "preserve_ssim": float(ssim_map[region].mean()),
        "preserve_changed_fraction": float(changed[region].mean()),
    }
