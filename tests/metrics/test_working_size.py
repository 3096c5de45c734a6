"""Metrics at the working size (long side 1024) stay close to full-resolution metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tryon.metrics import pair_metrics
from tryon.metrics.working_size import metric_inputs, shrink_mask

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SCALE = 3  # the 512-600 px sample photos become 1536 px catalogue photos

# Largest allowed |working - full| per metric at long side 1024, for the sample below (measured
# largest moves: psnr 0.015 dB, ssim 0.0001, changed 0.0011, delta E 0.50, texture SSIM 0.065,
# blur 0.059, gt SSIM 0.016, gt PSNR 0.023).
TOLERANCE = {
    "preserve_psnr": 0.25, "preserve_ssim": 0.005, "preserve_changed_fraction": 0.005,
    "garment_color_delta_e": 1.0, "garment_texture_ssim": 0.1, "quality_blur_effect": 0.1,
    "gt_ssim": 0.03, "gt_psnr": 0.1,
}


def catalogue_scene(person_name: str, garment_name: str) -> dict:
    """A sample photo at catalogue size, the sample garment pasted over a torso box, and a band
    above it brightened by 6 levels (a preservation fault the metrics must still see)."""
    person = Image.open(SAMPLE / "people" / person_name).convert("RGB")
    person = person.resize((person.width * SCALE, person.height * SCALE), Image.LANCZOS)
    height, width = person.height, person.width
    garment_mask = np.zeros((height, width), bool)
    garment_mask[int(height * 0.45) : int(height * 0.95), int(width * 0.25) : int(width * 0.75)] = True
    person_mask = np.zeros((height, width), bool)
    person_mask[int(height * 0.1) :, int(width * 0.15) : int(width * 0.85)] = True
    garment = Image.open(SAMPLE / "garments" / garment_name).convert("RGB")
    garment = garment.resize((garment.width * SCALE, garment.height * SCALE), Image.LANCZOS)
    pixels = np.asarray(garment)
    inside = np.nonzero((pixels < 250).any(axis=2))
    crop = pixels[inside[0].min() : inside[0].max() + 1, inside[1].min() : inside[1].max() + 1]
    rows, columns = np.nonzero(garment_mask)
    patch = Image.fromarray(crop).resize((columns.max() - columns.min() + 1, rows.max() - rows.min() + 1))
    output = np.asarray(person).copy()
    output[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1] = np.asarray(patch)
    output[: height // 8] = np.clip(output[: height // 8].astype(int) + 6, 0, 255)
    return {"person": person, "output": Image.fromarray(output), "garment_mask": garment_mask,
            "person_mask": person_mask, "garment": garment, "ground_truth": person}


@pytest.mark.parametrize("person_name, garment_name", [("grace_hopper.jpg", "navy_striped_tshirt.png"),
                                                       ("astronaut.png", "red_tshirt.png")])
def test_working_size_metrics_stay_within_tolerance_of_full_size(person_name, garment_name):
    inputs = catalogue_scene(person_name, garment_name)
    working = metric_inputs(1024, **inputs)
    assert max(working["output"].size) == 1024 and working["person"].size == working["output"].size
    assert working["garment_mask"].shape == working["output"].size[::-1]

    full, small = pair_metrics(**inputs), pair_metrics(**working)
    for name, tolerance in TOLERANCE.items():
        assert abs(small[name] - full[name]) <= tolerance, (name, full[name], small[name])
    assert full["preserve_changed_fraction"] > 0.1  # the brightened band is seen at both sizes


def test_small_images_and_zero_long_side_pass_through_unchanged():
    inputs = catalogue_scene("astronaut.png", "red_tshirt.png")
    assert metric_inputs(0, **inputs)["output"] is inputs["output"]
    assert metric_inputs(4096, **inputs)["garment_mask"] is inputs["garment_mask"]


def test_a_shrunk_mask_keeps_every_partly_masked_pixel():
    mask = np.zeros((8, 8), bool)
    mask[3, 5] = True  # one pixel of a 2x2 block
    shrunk = shrink_mask(mask, (4, 4))
    assert shrunk.sum() == 1 and shrunk[1, 2]
