"""Full-reference scores against a ground-truth photo of the person wearing the garment.

They follow the protocol of the published try-on evaluations (CatVTON's and VtonEval's scripts),
so numbers can be set beside their tables: the ground truth is resized with Lanczos to the
prediction's size, SSIM is computed on RGB images scaled to [0, 1] (Gaussian window, sigma 1.5,
as torchmetrics' StructuralSimilarityIndexMeasure), and LPIPS gets images scaled to [-1, 1].
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

from tryon.metrics.preservation import capped_psnr

# (output, ground_truth) -> distance; both are float32 HxWx3 arrays in [-1, 1], same size.
PerceptualDistance = Callable[[np.ndarray, np.ndarray], float]

PAIRED_PROTOCOL = {
    "ground_truth_resize": "PIL Lanczos to the output's size",
    "resolution": "the output's own size (the person photo's)",
    "ssim": "skimage structural_similarity on RGB in [0, 1], Gaussian window sigma 1.5, population covariance",
    "psnr": "skimage peak_signal_noise_ratio on uint8 RGB, capped at 100 dB",
    "lpips_input_range": "[-1, 1]",
}


def protocol_ssim(reference: np.ndarray, output: np.ndarray) -> float:
    """SSIM as the try-on papers compute it: RGB in [0, 1], 11-tap Gaussian window, sigma 1.5."""
    return float(structural_similarity(reference.astype(np.float32) / 255.0, output.astype(np.float32) / 255.0,
                                       data_range=1.0, channel_axis=2, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


def paired_metrics(output: Image.Image, ground_truth: Image.Image | None,
                   perceptual_distance: PerceptualDistance | None = None) -> dict[str, float | None]:
    """gt_ssim, gt_psnr (capped) and gt_lpips (only with a perceptual model); None without ground truth."""
    if ground_truth is None:
        return {"gt_ssim": None, "gt_psnr": None, "gt_lpips": None}
    reference = ground_truth.convert("RGB")
    if reference.size != output.size:
        reference = reference.resize(output.size, Image.Resampling.LANCZOS)
    reference_array, output_array = np.asarray(reference), np.asarray(output.convert("RGB"))
    lpips = None
    if perceptual_distance is not None:
        lpips = float(perceptual_distance(output_array.astype(np.float32) / 127.5 - 1.0,
                                          reference_array.astype(np.float32) / 127.5 - 1.0))
    return {
        "gt_ssim": protocol_ssim(reference_array, output_array),
        "gt_psnr": capped_psnr(reference_array, output_array),
        "gt_lpips": lpips,
    }
