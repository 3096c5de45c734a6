"""pair_metrics end to end: stable columns, preservation, garment colour, sanity flags, paired scores."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tryon.catalogue.schema import metric_type
from tryon.metrics import METRIC_COLUMNS, METRIC_SOURCES, MetricModels, pair_metrics
from tryon.metrics.preservation import PSNR_CAP_DB

GARMENTS = Path(__file__).resolve().parents[2] / "data" / "sample" / "garments"
SIZE = 512


def scene():
    """A textured person picture, a torso-shaped garment mask inside a person mask."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    picture = np.stack([100 + 80 * np.sin(xx / 17.0), 120 + 60 * np.cos(yy / 23.0), 90 + 0.2 * xx], axis=2)
    picture = (picture + rng.normal(0, 8, picture.shape)).clip(0, 255).astype(np.uint8)
    garment_mask = np.zeros((SIZE, SIZE), bool)
    garment_mask[180:480, 150:360] = True
    person_mask = np.zeros((SIZE, SIZE), bool)
    person_mask[60:512, 120:392] = True
    return Image.fromarray(picture), garment_mask, person_mask


def composite(person: Image.Image, garment_mask: np.ndarray, garment_name: str) -> Image.Image:
    """The product shot's garment box stretched over the mask's box: a perfectly aligned (if crude) engine."""
    garment = np.asarray(Image.open(GARMENTS / f"{garment_name}.png").convert("RGB"))
    inside = np.nonzero((garment < 250).any(axis=2))
    crop = garment[inside[0].min() : inside[0].max() + 1, inside[1].min() : inside[1].max() + 1]
    rows, columns = np.nonzero(garment_mask)
    height, width = rows.max() - rows.min() + 1, columns.max() - columns.min() + 1
    patch = np.asarray(Image.fromarray(crop).resize((width, height)))
    output = np.asarray(person).copy()
    output[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1] = patch
    return Image.fromarray(output)


def garment(name: str) -> Image.Image:
    return Image.open(GARMENTS / f"{name}.png").convert("RGB")


def test_every_column_is_always_present_with_its_catalogue_type():
    person, garment_mask, person_mask = scene()
    metrics = pair_metrics(person, person, garment_mask, person_mask, garment("red_tshirt"))
    assert list(metrics) == METRIC_COLUMNS
    assert set(METRIC_SOURCES) == set(METRIC_COLUMNS)
    for name, value in metrics.items():
        if value is None:
            continue
        expected = {"bool": bool, "int64": int, "double": float}[str(metric_type(name))]
        assert type(value) is expected, (name, value)


def test_identical_output_scores_perfect_preservation_with_the_psnr_cap():
    person, garment_mask, person_mask = scene()
    metrics = pair_metrics(person, person.copy(), garment_mask, person_mask, garment("red_tshirt"))
    assert metrics["preserve_psnr"] == PSNR_CAP_DB == 100.0
    assert metrics["preserve_ssim"] == pytest.approx(1.0, abs=1e-9)
    assert metrics["preserve_changed_fraction"] == 0.0


def test_changes_inside_the_mask_leave_preservation_perfect():
    person, garment_mask, person_mask = scene()
    output = composite(person, garment_mask, "green_check_shirt")
    metrics = pair_metrics(person, output, garment_mask, person_mask, garment("green_check_shirt"))
    assert metrics["preserve_psnr"] == 100.0 and metrics["preserve_changed_fraction"] == 0.0
    assert metrics["preserve_ssim"] == pytest.approx(1.0, abs=1e-9)


def test_degrading_outside_the_mask_lowers_psnr_and_ssim():
    person, garment_mask, person_mask = scene()
    rng = np.random.default_rng(1)

    def with_noise(sigma: float) -> Image.Image:
        noisy = np.asarray(person).astype(np.int16) + rng.normal(0, sigma, (SIZE, SIZE, 3)).astype(np.int16)
        return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))

    slightly = pair_metrics(person, with_noise(12), garment_mask, person_mask, garment("red_tshirt"))
    badly = pair_metrics(person, with_noise(40), garment_mask, person_mask, garment("red_tshirt"))
    assert 20 < slightly["preserve_psnr"] < 40 and slightly["preserve_ssim"] < 0.9
    assert slightly["preserve_changed_fraction"] > 0.5
    assert badly["preserve_psnr"] < slightly["preserve_psnr"] and badly["preserve_ssim"] < slightly["preserve_ssim"]


def test_red_composite_is_close_in_colour_to_the_red_garment_and_far_from_the_blue_one():
    person, garment_mask, person_mask = scene()
    output = composite(person, garment_mask, "red_tshirt")
    red = pair_metrics(person, output, garment_mask, person_mask, garment("red_tshirt"))
    blue = pair_metrics(person, output, garment_mask, person_mask, garment("denim_trousers"))
    assert red["garment_color_delta_e"] < 5
    assert blue["garment_color_delta_e"] > 30


def test_aligned_stripes_score_high_texture_ssim():
    person, garment_mask, person_mask = scene()
    striped = pair_metrics(person, composite(person, garment_mask, "navy_striped_tshirt"), garment_mask, person_mask,
                           garment("navy_striped_tshirt"))
    unchanged = pair_metrics(person, person, garment_mask, person_mask, garment("navy_striped_tshirt"))
    checked = pair_metrics(person, composite(person, garment_mask, "green_check_shirt"), garment_mask, person_mask,
                           garment("navy_striped_tshirt"))
    assert striped["garment_texture_ssim"] > 0.8
    assert striped["garment_texture_ssim"] > max(unchanged["garment_texture_ssim"], checked["garment_texture_ssim"]) + 0.3
    assert striped["garment_color_delta_e"] < unchanged["garment_color_delta_e"]


def test_blank_and_black_outputs_are_flagged():
    person, garment_mask, person_mask = scene()
    grey = pair_metrics(person, Image.new("RGB", person.size, (128, 128, 128)), garment_mask, person_mask, garment("red_tshirt"))
    black = pair_metrics(person, Image.new("RGB", person.size, (0, 0, 0)), garment_mask, person_mask, garment("red_tshirt"))
    fine = pair_metrics(person, person, garment_mask, person_mask, garment("red_tshirt"))
    assert grey["is_blank"] and not grey["is_black"]
    assert black["is_blank"] and black["is_black"]
    assert not (fine["is_blank"] or fine["is_black"] or fine["has_nan"])


def test_nan_pixels_in_a_float_output_are_flagged():
    person, garment_mask, person_mask = scene()
    values = np.asarray(person.convert("L"), dtype=np.float32).copy()
    values[10, 10] = np.nan
    metrics = pair_metrics(person, Image.fromarray(values, mode="F"), garment_mask, person_mask, garment("red_tshirt"))
    assert metrics["has_nan"] is True


def test_mask_columns_count_pixels():
    person, garment_mask, person_mask = scene()
    metrics = pair_metrics(person, person, garment_mask, person_mask, garment("red_tshirt"))
    assert metrics["mask_area"] == 300 * 210 and metrics["person_area"] == 452 * 272
    assert metrics["mask_coverage_ratio"] == pytest.approx(300 * 210 / (452 * 272))


def test_blur_effect_rises_when_the_generated_region_is_blurred():
    person, garment_mask, person_mask = scene()
    sharp = composite(person, garment_mask, "green_check_shirt")
    blurred = np.asarray(sharp).copy()
    soft = np.asarray(sharp.resize((128, 128)).resize((SIZE, SIZE), Image.Resampling.BILINEAR))
    blurred[garment_mask] = soft[garment_mask]
    scores = [pair_metrics(person, image, garment_mask, person_mask, garment("green_check_shirt"))["quality_blur_effect"]
              for image in (sharp, Image.fromarray(blurred))]
    assert 0.0 <= scores[0] < scores[1] <= 1.0


def test_paired_metrics_only_with_ground_truth_which_is_resized_to_the_output():
    person, garment_mask, person_mask = scene()
    output = composite(person, garment_mask, "red_tshirt")
    without = pair_metrics(person, output, garment_mask, person_mask, garment("red_tshirt"))
    assert without["gt_ssim"] is None and without["gt_psnr"] is None and without["gt_lpips"] is None
    same = pair_metrics(person, output, garment_mask, person_mask, garment("red_tshirt"), ground_truth=output.resize((256, 256)))
    assert 0.5 < same["gt_ssim"] <= 1.0 and 20 < same["gt_psnr"] < 100
    exact = pair_metrics(person, output, garment_mask, person_mask, garment("red_tshirt"), ground_truth=output)
    assert exact["gt_ssim"] == pytest.approx(1.0) and exact["gt_psnr"] == 100.0
    assert exact["gt_lpips"] is None


def test_optional_model_hooks_fill_their_columns():
    person, garment_mask, person_mask = scene()
    output = composite(person, garment_mask, "red_tshirt")

    def mean_colour(image: Image.Image) -> np.ndarray:
        return np.asarray(image, dtype=np.float64).reshape(-1, 3).mean(axis=0)

    models = MetricModels(garment_embedder=mean_colour, perceptual_distance=lambda first, second: 0.25)
    metrics = pair_metrics(person, output, garment_mask, person_mask, garment("red_tshirt"), ground_truth=output,
                           models=models)
    assert 0.9 < metrics["garment_embedding_similarity"] <= 1.0
    assert metrics["gt_lpips"] == 0.25
    assert metrics["quality_brisque"] is None  # no BRISQUE model files configured


def test_a_512_pair_scores_in_under_a_fifth_of_a_second():
    person, garment_mask, person_mask = scene()
    output = composite(person, garment_mask, "navy_striped_tshirt")
    pair_metrics(person, output, garment_mask, person_mask, garment("navy_striped_tshirt"))
    # CPU time, not wall time: the bound is about the metrics' cost, not about a busy machine.
    started = time.process_time()
    for _ in range(3):
        pair_metrics(person, output, garment_mask, person_mask, garment("navy_striped_tshirt"))
    assert (time.process_time() - started) / 3 < 0.2


def test_same_inputs_give_the_same_numbers():
    person, garment_mask, person_mask = scene()
    output = composite(person, garment_mask, "navy_striped_tshirt")
    runs = [pair_metrics(person, output, garment_mask, person_mask, garment("navy_striped_tshirt")) for _ in range(2)]
    assert runs[0] == runs[1]


def test_an_output_of_the_wrong_size_leaves_comparisons_empty_instead_of_crashing():
    person, garment_mask, person_mask = scene()
    metrics = pair_metrics(person, person.resize((256, 256)), garment_mask, person_mask, garment("red_tshirt"))
    assert list(metrics) == METRIC_COLUMNS
    assert metrics["preserve_psnr"] is None and metrics["garment_color_delta_e"] is None
    assert metrics["is_blank"] is False and metrics["mask_area"] == 300 * 210
