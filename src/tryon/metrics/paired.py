"""Full-reference scores against a ground-truth photo of the person wearing the garment."""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

from tryon.metrics.preservation import capped_psnr, luma

PerceptualDistance = Callable[[Image.Image, Image.Image], float]


def paired_metrics(output: Image.Image, ground_truth: Image.Image | None,
                   perceptual_distance: PerceptualDistance | None = None) -> dict[str, float | None]:
    """gt_ssim (luma), gt_psnr (capped) and gt_lpips (only with a perceptual model); None without ground truth."""
    if ground_truth is None:
        return {"gt_ssim": None, "gt_psnr": None, "gt_lpips": None}
    reference = ground_truth.convert("RGB")
    if reference.size != output.size:
        reference = reference.resize(output.size, Image.Resampling.BICUBIC)
    reference_array, output_array = np.asarray(reference), np.asarray(output.convert("RGB"))
    return {
        "gt_ssim": float(structural_similarity(luma(reference_array), luma(output_array), data_range=255)),
        "gt_psnr": capped_psnr(reference_array, output_array),
        "gt_lpips": float(perceptual_distance(output, reference)) if perceptual_distance is not None else None,
    }
