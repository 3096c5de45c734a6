"""The metrics that can fail: raw preservation, seam, unchanged garment, pattern, sharpness, paired protocol."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

from tests.metrics.test_pair_metrics import composite, garment, scene
from tryon.metrics import MetricModels, metric_protocol, pair_metrics


def pasted(raw: Image.Image, person: Image.Image, garment_mask: np.ndarray) -> Image.Image:
    final = np.asarray(raw).copy()
    final[~garment_mask] = np.asarray(person)[~garment_mask]
    return Image.fromarray(final)


def test_paste_back_hides_a_degraded_raw_output_but_the_raw_columns_do_not():
    person, garment_mask, person_mask = scene()
    raw = Image.fromarray(cv2.GaussianBlur(np.asarray(composite(person, garment_mask, "red_tshirt")), (0, 0), 3))
    metrics = pair_metrics(person, pasted(raw, person, garment_mask), garment_mask, person_mask, garment("red_tshirt"),
                           raw_output=raw)
    assert metrics["preserve_ssim"] == 1.0 and metrics["preserve_changed_fraction"] == 0.0
    assert metrics["raw_preserve_ssim"] < 0.95 and metrics["raw_preserve_psnr"] < 35


def test_without_a_raw_image_the_output_is_the_raw_one():
    person, garment_mask, person_mask = scene()
    output = Image.fromarray(cv2.GaussianBlur(np.asarray(person), (0, 0), 3))
    implicit = pair_metrics(person, output, garment_mask, person_mask, garment("red_tshirt"))
    explicit = pair_metrics(person, output, garment_mask, person_mask, garment("red_tshirt"), raw_output=output)
    assert implicit == explicit and implicit["raw_preserve_ssim"] < 0.95


def test_a_colour_cast_shows_in_the_raw_colour_shift_not_only_in_psnr():
    person, garment_mask, person_mask = scene()
    cast = Image.fromarray((np.asarray(person) * np.array([1.12, 1.0, 0.9])).clip(0, 255).astype(np.uint8))
    clean = pair_metrics(person, person, garment_mask, person_mask, garment("red_tshirt"))
    tinted = pair_metrics(person, cast, garment_mask, person_mask, garment("red_tshirt"))
    assert clean["raw_preserve_color_shift"] == pytest.approx(0.0, abs=1e-6)
    assert tinted["raw_preserve_color_shift"] > 2.0


def test_seam_edge_fraction_sees_an_offset_along_the_mask_edge():
    person, garment_mask, person_mask = scene()
    offset = np.asarray(person).astype(np.int16)
    offset[garment_mask] += 40
    seamed = Image.fromarray(offset.clip(0, 255).astype(np.uint8))
    assert pair_metrics(person, person, garment_mask, person_mask, garment("red_tshirt"))["seam_edge_fraction"] == 0.0
    assert pair_metrics(person, seamed, garment_mask, person_mask, garment("red_tshirt"))["seam_edge_fraction"] > 0.9


def test_unchanged_fraction_is_one_for_the_old_garment_and_high_for_half_a_repaint():
    person, garment_mask, person_mask = scene()
    new = composite(person, garment_mask, "green_check_shirt")
    half = np.asarray(new).copy()
    half[:330] = np.asarray(person)[:330]  # the mask spans rows 180..480: the top half keeps the photo
    scores = {name: pair_metrics(person, image, garment_mask, person_mask, garment("green_check_shirt"))
              ["garment_unchanged_fraction"] for name, image in
              {"kept": person, "new": new, "half": Image.fromarray(half)}.items()}
    assert scores["kept"] == 1.0 and scores["new"] < 0.2 and scores["half"] > 0.9


def test_pattern_distance_tells_stripes_from_checks_without_alignment():
    person, garment_mask, person_mask = scene()
    stripes = garment("navy_striped_tshirt")
    # Shifted by a few pixels: an aligned score would change, the histogram barely does.
    striped_output = np.roll(np.asarray(composite(person, garment_mask, "navy_striped_tshirt")), 7, axis=0)
    striped = pair_metrics(person, Image.fromarray(striped_output), garment_mask, person_mask, stripes)
    checked = pair_metrics(person, composite(person, garment_mask, "green_check_shirt"), garment_mask, person_mask, stripes)
    assert striped["garment_pattern_distance"] < checked["garment_pattern_distance"]


def test_sharpness_ratio_drops_when_the_garment_is_blurred():
    person, garment_mask, person_mask = scene()
    sharp = composite(person, garment_mask, "navy_striped_tshirt")
    soft = np.asarray(sharp).copy()
    soft[garment_mask] = cv2.GaussianBlur(soft, (0, 0), 4)[garment_mask]
    scores = [pair_metrics(person, image, garment_mask, person_mask, garment("navy_striped_tshirt"))
              for image in (sharp, Image.fromarray(soft))]
    assert scores[1]["garment_sharpness_ratio"] < 0.8 * scores[0]["garment_sharpness_ratio"]
    assert scores[1]["garment_sharpness_vs_person"] < scores[0]["garment_sharpness_vs_person"]


def test_paired_metrics_follow_the_papers_protocol():
    person, garment_mask, person_mask = scene()
    output = composite(person, garment_mask, "red_tshirt")
    ground_truth = output.resize((300, 300), Image.Resampling.BILINEAR)
    seen = {}

    def distance(first: np.ndarray, second: np.ndarray) -> float:
        seen.update(low=min(first.min(), second.min()), high=max(first.max(), second.max()), shape=first.shape)
        return 0.1

    metrics = pair_metrics(person, output, garment_mask, person_mask, garment("red_tshirt"), ground_truth=ground_truth,
                           models=MetricModels(perceptual_distance=distance, lpips_backbone="alex"))
    expected_reference = np.asarray(ground_truth.resize(output.size, Image.Resampling.LANCZOS)) / 255.0
    expected = structural_similarity(expected_reference, np.asarray(output) / 255.0, data_range=1.0, channel_axis=2,
                                     gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert metrics["gt_ssim"] == pytest.approx(expected, abs=1e-4)
    assert -1.0 <= seen["low"] < -0.5 and 0.5 < seen["high"] <= 1.0 and seen["shape"] == (512, 512, 3)
    protocol = metric_protocol(paste_back=True, models=MetricModels(lpips_backbone="alex"))
    assert protocol["lpips_backbone"] == "alex" and "Lanczos" in protocol["ground_truth_resize"]
    assert protocol["lpips_input_range"] == "[-1, 1]" and protocol["paste_back"] is True


def test_readme_metrics_table_lists_every_column_with_its_source():
    from pathlib import Path

    from tryon.metrics import METRIC_COLUMNS, METRIC_SOURCES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Quality metrics"):readme.index("**Quality gate.**")]
    for column in METRIC_COLUMNS:
        assert f"| `{column}` | {METRIC_SOURCES[column]} |" in section, column
