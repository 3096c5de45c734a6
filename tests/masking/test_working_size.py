"""Masking a large photo at the working size gives masks at the photo's size, close to a full-size run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tryon.config import ImageLimits, MaskingConfig
from tryon.masking import MaskingStage
from tryon.pairs import MaskResult, Pair

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def _iou(first: np.ndarray, second: np.ndarray) -> float:
    return float((first & second).sum() / max((first | second).sum(), 1))


def test_a_large_photo_is_masked_at_the_working_size_and_scaled_up_once():
    person = Image.open(SAMPLE / "people" / "grace_hopper.jpg").convert("RGB")
    large = person.resize((person.width * 2, person.height * 2), Image.LANCZOS)  # 1024 x 1200
    pair = Pair(pair_id="p1", row_index=0, person_image=SAMPLE / "people" / "grace_hopper.jpg",
                garment_image=SAMPLE / "garments" / "red_tshirt.png", category="upper_body",
                seed=0, person_sha256="0" * 64, garment_sha256="0" * 64)
    working = MaskingStage(MaskingConfig(working_long_side=512), ImageLimits())
    full = MaskingStage(MaskingConfig(working_long_side=0), ImageLimits())
    small_result, = working([(pair, large)])
    full_result, = full([(pair, large)])

    assert isinstance(small_result, MaskResult) and isinstance(full_result, MaskResult)
    assert small_result.garment_mask.shape == (large.height, large.width)
    assert small_result.person_mask.shape == (large.height, large.width)
    assert _iou(small_result.garment_mask, full_result.garment_mask) > 0.9
    assert _iou(small_result.person_mask, full_result.person_mask) > 0.9
    shoulder_small, shoulder_full = small_result.keypoints["left_shoulder"], full_result.keypoints["left_shoulder"]
    assert abs(shoulder_small[0] - shoulder_full[0]) < 0.03 * large.width  # keypoints in full-size pixels
    assert abs(shoulder_small[1] - shoulder_full[1]) < 0.03 * large.height
