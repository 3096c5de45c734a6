"""Depth that arrives in the wrong shape is made into an RGB control image of the exact size."""

import numpy as np
import pytest
from PIL import Image

from tryon.conditioning import normalize_control_image

TARGET = (300, 200)  # width, height


@pytest.mark.parametrize(
    "depth",
    [
        np.random.default_rng(0).random((96, 128), dtype=np.float32) * 7.5,  # float HxW, MiDaS scale
        np.random.default_rng(1).random((1, 96, 128)).astype(np.float64),  # CHW single channel
        np.random.default_rng(2).random((96, 128, 1)).astype(np.float32),  # HWC single channel
        np.full((50, 50), 3.0, np.float32),  # constant depth (no division by zero)
        np.where(np.eye(64, dtype=bool), np.nan, 1.0),  # NaNs from a broken model
        Image.fromarray(np.arange(64 * 48, dtype=np.uint32).reshape(48, 64).astype(np.uint8), "L"),
    ],
)
def test_mismatched_depth_becomes_rgb_at_target_size(depth):
    control = normalize_control_image(depth, TARGET)
    assert control.mode == "RGB" and control.size == TARGET
    pixels = np.asarray(control)
    assert pixels.dtype == np.uint8 and pixels.shape == (200, 300, 3)
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()


def test_float_depth_uses_full_range():
    ramp = np.linspace(0.2, 9.0, 64 * 64, dtype=np.float32).reshape(64, 64)
    pixels = np.asarray(normalize_control_image(ramp, (64, 64)))
    assert pixels.min() == 0 and pixels.max() == 255
