"""Is everything outside the garment mask still the person's own picture?"""

from __future__ import annotations

import math

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from tryon.metrics.scale import shrink_factor, shrink_image, shrink_mask

# Identical images have infinite PSNR; a finite cap keeps Parquet statistics and averages usable.
PSNR_CAP_DB = 100.0
# Half of skimage's 7x7 SSIM window: a square erosion this size keeps masked pixels out of every
# window the preserved SSIM averages, and leaves blends room to touch the pixels next to the mask.
PRESERVE_ERODE_PX = 3
CHANGED_LEVELS = 2  # JPEG-free pipelines should not move an unmasked pixel by more than this
# The raw output's SSIM is taken on copies area-shrunk to this longest side (thumbnail size):
# blur, noise, blocking and ringing a viewer sees survive it, while the pixel-level drift of a
# decoder or a resampled canvas averages out, and the SSIM map costs next to nothing.
RAW_SSIM_SIDE = 256


def capped_psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB for uint8 data, capped at PSNR_CAP_DB (identical inputs give the cap)."""
    with np.errstate(divide="ignore"):
        value = peak_signal_noise_ratio(reference, test, data_range=255)
    return PSNR_CAP_DB if not math.isfinite(value) else min(float(value), PSNR_CAP_DB)


def masked_mean(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Per-channel mean over the region (OpenCV: no boolean-indexed copy of a large image)."""
    channels = 1 if image.ndim == 2 else image.shape[2]
    return np.array(cv2.mean(image, mask=region.astype(np.uint8))[:channels])


def psnr_in_region(first: np.ndarray, second: np.ndarray, region: np.ndarray) -> float:
    """PSNR in dB (uint8 peak 255) over the region, capped at PSNR_CAP_DB: skimage's formula,
    with the squared error averaged by OpenCV."""
    difference = cv2.absdiff(first, second)
    mean_squared = float(masked_mean(cv2.multiply(difference, difference, dtype=cv2.CV_32F), region).mean())
    if mean_squared == 0.0:
        return PSNR_CAP_DB
    return min(10.0 * math.log10(255.0**2 / mean_squared), PSNR_CAP_DB)


def channel_max(image: np.ndarray) -> np.ndarray:
    """The largest channel per pixel: `image.max(axis=2)` by whole-plane maxima (about a tenth of
    the CPU: NumPy reduces the short last axis pixel by pixel)."""
    if image.ndim == 2:
        return image
    largest = image[..., 0].copy()
    for channel in range(1, image.shape[2]):
        np.maximum(largest, image[..., channel], out=largest)
    return largest


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
    largest = channel_max(cv2.absdiff(person, output))
    if not cv2.countNonZero(cv2.bitwise_and(largest, largest, mask=(~garment_mask).astype(np.uint8))):
        # Paste-back: every SSIM window around a preserved pixel holds only identical unmasked
        # pixels, so the map is 1 there; skip the full-resolution map.
        preserved_ssim = 1.0
    else:
        _, ssim_map = structural_similarity(luma(person), luma(output), data_range=255, full=True)
        preserved_ssim = float(ssim_map[region].mean())
    return {
        "preserve_psnr": psnr_in_region(person, output, region),
        "preserve_ssim": preserved_ssim,
        "preserve_changed_fraction": float(masked_mean((largest > CHANGED_LEVELS).astype(np.uint8), region)[0]),
    }


def raw_preservation_metrics(person: np.ndarray, raw_output: np.ndarray,
                             garment_mask: np.ndarray) -> dict[str, float | None]:
    """The engine's own pixels outside the mask, before any paste-back, against the person photo.

    `raw_preserve_psnr` (full resolution), `raw_preserve_ssim` (luma, longest side <= RAW_SSIM_SIDE)
    and `raw_preserve_color_shift` (CIEDE2000 between the mean colours: a cast over the whole image).
    """
    empty = {"raw_preserve_psnr": None, "raw_preserve_ssim": None, "raw_preserve_color_shift": None}
    if person.shape != raw_output.shape:
        return empty
    region = preserved_region(garment_mask)
    if not region.any():
        return empty
    factor = shrink_factor(person.shape, RAW_SSIM_SIDE)
    small_region = ~shrink_mask(~region, factor, keep="any")
    if small_region.any():
        _, ssim_map = structural_similarity(luma(shrink_image(person, factor)), luma(shrink_image(raw_output, factor)),
                                            data_range=255, full=True)
        raw_ssim = float(ssim_map[small_region].mean())
    else:
        raw_ssim = None
    person_mean = rgb2lab(masked_mean(person, region).reshape(1, 1, 3) / 255.0)
    raw_mean = rgb2lab(masked_mean(raw_output, region).reshape(1, 1, 3) / 255.0)
    return {
        "raw_preserve_psnr": psnr_in_region(person, raw_output, region),
        "raw_preserve_ssim": raw_ssim,
        "raw_preserve_color_shift": float(deltaE_ciede2000(person_mean, raw_mean).ravel()[0]),
    }
