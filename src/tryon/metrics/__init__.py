"""Per-pair quality metrics: one flat dict per output, every column always present."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tryon.images import rgb_pixels
from tryon.metrics.change import change_metrics
from tryon.metrics.garment import GarmentEmbedder, garment_metrics, product_silhouette
from tryon.metrics.mask import mask_metrics
from tryon.metrics.paired import PAIRED_PROTOCOL, PerceptualDistance, paired_metrics
from tryon.metrics.pattern import pattern_metrics
from tryon.metrics.preservation import PSNR_CAP_DB, RAW_SSIM_SIDE, preservation_metrics, raw_preservation_metrics
from tryon.metrics.sanity import blur_score, brisque_score, sanity_flags

__all__ = [
    "METRIC_COLUMNS", "METRIC_SOURCES", "MetricModels", "metric_protocol", "pair_metrics", "change_metrics",
    "garment_metrics", "mask_metrics", "paired_metrics", "pattern_metrics", "preservation_metrics",
    "raw_preservation_metrics", "sanity_flags", "seam_metrics",
]
from tryon.metrics.seam import seam_metrics

METRIC_COLUMNS: list[str] = [
    "preserve_psnr",
    "preserve_ssim",
    "preserve_changed_fraction",
    "raw_preserve_psnr",
    "raw_preserve_ssim",
    "raw_preserve_color_shift",
    "seam_edge_fraction",
    "garment_unchanged_fraction",
    "garment_color_delta_e",
    "garment_texture_ssim",
    "garment_pattern_distance",
    "garment_sharpness_ratio",
    "garment_sharpness_vs_person",
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
    "preserve_psnr": f"after paste-back: PSNR (numpy, skimage's formula) on unmasked pixels (mask eroded 3 px), capped at {PSNR_CAP_DB:g} dB",
    "preserve_ssim": "after paste-back: skimage.metrics.structural_similarity (luma, full map) averaged over unmasked pixels (mask eroded 3 px)",
    "preserve_changed_fraction": "after paste-back: numpy: share of unmasked pixels (mask eroded 3 px) changed by more than 2 levels",
    "raw_preserve_psnr": f"before paste-back (the engine's raw output): PSNR (numpy, skimage's formula) on unmasked pixels (mask eroded 3 px), capped at {PSNR_CAP_DB:g} dB",
    "raw_preserve_ssim": f"before paste-back: skimage.metrics.structural_similarity (luma) averaged over unmasked pixels, on copies area-shrunk (OpenCV) to a longest side <= {RAW_SSIM_SIDE}",
    "raw_preserve_color_shift": "before paste-back: skimage.color.deltaE_ciede2000 between the mean CIELAB colours of the unmasked pixels (a colour cast)",
    "seam_edge_fraction": "numpy/OpenCV: share of 4-neighbour pixel pairs straddling the mask edge where the output's luma step exceeds the person photo's by more than 12 levels",
    "garment_unchanged_fraction": "OpenCV: largest share, over the top/bottom/left/right halves of the eroded mask, of pixels whose colour (area-shrunk to 256 px, CIELAB) is within 8 of the person photo's",
    "garment_color_delta_e": "skimage.color.rgb2lab + deltaE_ciede2000 between OpenCV k-means (k=3) dominant colours",
    "garment_texture_ssim": "skimage.metrics.structural_similarity (luma) of garment and masked-region crops at 128x128",
    "garment_pattern_distance": "OpenCV Sobel: chi-square distance between flat/edge-orientation histograms of the product shot and the eroded mask region, both scaled to 160 px high (alignment-free)",
    "garment_sharpness_ratio": "OpenCV Laplacian: share of the Laplacian energy a 1.5 px Gaussian re-blur removes, eroded mask region / product shot, both scaled to 160 px high",
    "garment_sharpness_vs_person": "the same sharpness, eroded mask region / the rest of the person (person mask minus the mask and 3 px), in the output at the region's scale",
    "garment_embedding_similarity": "cosine similarity from MetricModels.garment_embedder; None when none is configured",
    "is_blank": "numpy: max - min <= 1 (same rule as the engines' output guard)",
    "is_black": "numpy: max <= 3 (same rule as the engines' output guard)",
    "has_nan": "numpy: non-finite pixel values",
    "quality_blur_effect": "skimage.measure.blur_effect's definition (h_size 11; computed in float32 OpenCV, within 1e-6 of skimage's) over the garment mask's bounding box (0 sharp .. 1 blurred)",
    "quality_brisque": "cv2.quality.QualityBRISQUE_compute; None unless MetricModels has the BRISQUE model/range YAML files",
    "mask_coverage_ratio": "numpy: mask_area / person_area",
    "mask_area": "numpy: garment-mask pixel count",
    "person_area": "numpy: person-mask pixel count",
    "gt_ssim": "skimage.metrics.structural_similarity on RGB in [0, 1] (Gaussian sigma 1.5) against the ground truth Lanczos-resized to the output size (the papers' protocol)",
    "gt_psnr": f"skimage.metrics.peak_signal_noise_ratio against the Lanczos-resized ground truth, capped at {PSNR_CAP_DB:g} dB",
    "gt_lpips": "MetricModels.perceptual_distance on images in [-1, 1] (e.g. LPIPS); None when no local weights are configured",
}


@dataclass(frozen=True)
class MetricModels:
    """Optional scorers that need weights or model files; a None here leaves its column None."""

    garment_embedder: GarmentEmbedder | None = None  # image -> vector, e.g. a CLIP/DINO image encoder
    perceptual_distance: PerceptualDistance | None = None  # (output, ground_truth) in [-1, 1] -> distance, e.g. LPIPS
    lpips_backbone: str | None = None  # e.g. "alex" or "vgg": recorded in the run's metric protocol
    brisque_model_file: Path | None = None  # brisque_model_live.yml from opencv_contrib's quality samples
    brisque_range_file: Path | None = None  # brisque_range_live.yml


def metric_protocol(paste_back: bool | None, models: MetricModels = MetricModels()) -> dict[str, object]:
    """How this run's metrics were computed, for the run record (compare gt_* with published tables)."""
    return {**PAIRED_PROTOCOL, "paste_back": paste_back, "lpips_backbone": models.lpips_backbone,
            "embedding_model": None if models.garment_embedder is None else type(models.garment_embedder).__name__}


def _rgb_pixels(image: Image.Image) -> np.ndarray:
    """RGB pixels; no Pillow copy for an image that is RGB already (convert would make one)."""
    return rgb_pixels(image if image.mode == "RGB" else image.convert("RGB"))


def pair_metrics(person: Image.Image, output: Image.Image, garment_mask: np.ndarray, person_mask: np.ndarray,
                 garment: Image.Image, ground_truth: Image.Image | None = None,
                 models: MetricModels = MetricModels(),
                 raw_output: Image.Image | None = None) -> dict[str, float | bool | int | None]:
    """Every column of METRIC_COLUMNS for one try-on output; None where a metric does not apply.

    `raw_output` is the engine's image before paste-back; without one, `output` is taken as raw
    (an engine or outside system that pastes nothing back).
    """
    person_array = _rgb_pixels(person)
    output_array = _rgb_pixels(output)
    output_pixels = output_array if output.mode == "RGB" else np.asarray(output)
    raw_array = output_array if raw_output is None else _rgb_pixels(raw_output)
    garment_array = _rgb_pixels(garment)
    garment_mask = np.asarray(garment_mask, dtype=bool)
    person_mask = np.asarray(person_mask, dtype=bool)

    metrics: dict[str, float | bool | int | None] = dict.fromkeys(METRIC_COLUMNS)
    metrics.update(preservation_metrics(person_array, output_array, garment_mask))
    metrics.update(raw_preservation_metrics(person_array, raw_array, garment_mask))
    metrics.update(seam_metrics(person_array, output_array, garment_mask))
    metrics.update(change_metrics(person_array, output_array, garment_mask))
    silhouette = product_silhouette(garment_array)
    metrics.update(garment_metrics(garment_array, output_array, garment_mask, embedder=models.garment_embedder,
                                   silhouette=silhouette))
    metrics.update(pattern_metrics(garment_array, silhouette, output_array, garment_mask, person_mask))
    metrics.update(sanity_flags(output_pixels))
    metrics["quality_blur_effect"] = blur_score(output_array, garment_mask)
    if models.brisque_model_file is not None and models.brisque_range_file is not None:
        metrics["quality_brisque"] = brisque_score(output_array, models.brisque_model_file, models.brisque_range_file)
    metrics.update(mask_metrics(garment_mask, person_mask))
    metrics.update(paired_metrics(output, ground_truth, perceptual_distance=models.perceptual_distance))
    return metrics
