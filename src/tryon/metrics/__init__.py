"""Per-pair quality metrics: one flat dict per output, every column always present."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tryon.metrics.garment import GarmentEmbedder, garment_metrics
from tryon.metrics.mask import mask_metrics
from tryon.metrics.paired import PerceptualDistance, paired_metrics
from tryon.metrics.preservation import PSNR_CAP_DB, preservation_metrics
from tryon.metrics.sanity import blur_score, brisque_score, sanity_flags

METRIC_COLUMNS: list[str] = [
    "preserve_psnr",
    "preserve_ssim",
    "preserve_changed_fraction",
    "garment_color_delta_e",
    "garment_texture_ssim",
    "garment_embedding_similarity",
    "is_blank",
    "is_black",
    "has_nan",
    "quality_blur_effect",
    "quality_brisque",
    "mask_coverage_ratio",
    "mask_area",
    "person_area",
    "gt_ssim",
    "gt_psnr",
    "gt_lpips",
]

METRIC_SOURCES: dict[str, str] = {
    "preserve_psnr": f"skimage.metrics.peak_signal_noise_ratio on unmasked pixels (mask eroded 3 px), capped at {PSNR_CAP_DB:g} dB",
    "preserve_ssim": "skimage.metrics.structural_similarity (luma, full map) averaged over unmasked pixels (mask eroded 3 px)",
    "preserve_changed_fraction": "numpy: share of unmasked pixels (mask eroded 3 px) changed by more than 2 levels",
    "garment_color_delta_e": "skimage.color.rgb2lab + deltaE_ciede2000 between OpenCV k-means (k=3) dominant colours",
    "garment_texture_ssim": "skimage.metrics.structural_similarity (luma) of garment and masked-region crops at 128x128",
    "garment_embedding_similarity": "cosine similarity from MetricModels.garment_embedder; None when none is configured",
    "is_blank": "numpy: max - min <= 1 (same rule as the engines' output guard)",
    "is_black": "numpy: max <= 3 (same rule as the engines' output guard)",
    "has_nan": "numpy: non-finite pixel values",
    "quality_blur_effect": "skimage.measure.blur_effect over the garment mask's bounding box (0 sharp .. 1 blurred)",
    "quality_brisque": "cv2.quality.QualityBRISQUE_compute; None unless MetricModels has the BRISQUE model/range YAML files",
    "mask_coverage_ratio": "numpy: mask_area / person_area",
    "mask_area": "numpy: garment-mask pixel count",
    "person_area": "numpy: person-mask pixel count",
    "gt_ssim": "skimage.metrics.structural_similarity (luma) against the ground truth resized to the output size",
    "gt_psnr": f"skimage.metrics.peak_signal_noise_ratio against the ground truth, capped at {PSNR_CAP_DB:g} dB",
    "gt_lpips": "MetricModels.perceptual_distance (e.g. LPIPS); None when no local weights are configured",
}


@dataclass(frozen=True)
class MetricModels:
    """Optional scorers that need weights or model files; a None here leaves its column None."""

    garment_embedder: GarmentEmbedder | None = None  # image -> vector, e.g. a CLIP/DINO image encoder
    perceptual_distance: PerceptualDistance | None = None  # (output, ground_truth) -> distance, e.g. LPIPS
    brisque_model_file: Path | None = None  # brisque_model_live.yml from opencv_contrib's quality samples
    brisque_range_file: Path | None = None  # brisque_range_live.yml


def pair_metrics(person: Image.Image, output: Image.Image, garment_mask: np.ndarray, person_mask: np.ndarray,
                 garment: Image.Image, ground_truth: Image.Image | None = None,
                 models: MetricModels = MetricModels()) -> dict[str, float | bool | int | None]:
    """Every column of METRIC_COLUMNS for one try-on output; None where a metric does not apply."""
    person_array = np.asarray(person.convert("RGB"))
    raw_output = np.asarray(output)
    output_array = np.asarray(output.convert("RGB"))
    garment_mask = np.asarray(garment_mask, dtype=bool)
    person_mask = np.asarray(person_mask, dtype=bool)

    metrics: dict[str, float | bool | int | None] = dict.fromkeys(METRIC_COLUMNS)
    metrics.update(preservation_metrics(person_array, output_array, garment_mask))
    metrics.update(garment_metrics(np.asarray(garment.convert("RGB")), output_array, garment_mask,
                                   embedder=models.garment_embedder))
    metrics.update(sanity_flags(raw_output))
    metrics["quality_blur_effect"] = blur_score(output_array, garment_mask)
    if models.brisque_model_file is not None and models.brisque_range_file is not None:
        metrics["quality_brisque"] = brisque_score(output_array, models.brisque_model_file, models.brisque_range_file)
    metrics.update(mask_metrics(garment_mask, person_mask))
    metrics.update(paired_metrics(output, ground_truth, perceptual_distance=models.perceptual_distance))
    return metrics
