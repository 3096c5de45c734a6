"""MaskingStage contract: one entry per input, specific errors, manual override, overlay."""

import numpy as np
from PIL import Image

from tryon.config import ImageLimits, MaskingConfig
from tryon.errors import PairError
from tryon.masking import MaskingStage
from tryon.masking.overlay import mask_overlay
from tryon.pairs import MaskResult


def test_batch_keeps_order_and_isolates_failures(masking_stage, people, make_pair):
    astronaut_path, astronaut = people["astronaut"]
    grace_path, grace = people["grace_hopper"]
    results = masking_stage([
        (make_pair(astronaut_path), astronaut),
        (make_pair(astronaut_path, category="dresses"), astronaut),
        (make_pair(grace_path), grace),
    ])
    assert [type(result) for result in results] == [MaskResult, PairError, MaskResult]
    for result, person in ((results[0], astronaut), (results[2], grace)):
        assert result.mask_source == "auto"
        assert result.garment_mask.shape == result.person_mask.shape == (person.height, person.width)
        assert result.garment_mask.dtype == bool and result.mask_area > 0
        # the preview engine anchors its warp on these
        for name in ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "nose"):
            x, y, visibility = result.keypoints[name]
            assert 0.0 <= visibility <= 1.0
        left_x, left_y, _ = result.keypoints["left_shoulder"]
        assert 0 <= left_x < person.width and 0 <= left_y < person.height


def test_dress_on_waist_up_photo_is_cut_off(masking_stage, people, make_pair):
    path, person = people["astronaut"]
    [error] = masking_stage([(make_pair(path, category="dresses", pair_id="p005"), person)])
    assert error.error_type == "person_cut_off"
    assert "row 3 (pair_id 'p005')" in error.message and str(path) in error.message
    assert "knee" in error.message and "mask_image" in error.message


def test_lower_body_on_waist_up_photo_is_cut_off(masking_stage, people, make_pair):
    path, person = people["grace_hopper"]
    [error] = masking_stage([(make_pair(path, category="lower_body"), person)])
    assert error.error_type == "person_cut_off"


def test_empty_scene_is_no_person(masking_stage, make_pair, tmp_path):
    blank = Image.new("RGB", (320, 256), (128, 140, 150))
    [error] = masking_stage([(make_pair(tmp_path / "wall.png"), blank)])
    assert error.error_type == "no_person"
    assert "wall.png" in error.message and "mask_image" in error.message


def test_small_person_is_refused(people, make_pair):
    path, person = people["grace_hopper"]
    stage = MaskingStage(MaskingConfig(min_person_fraction=0.9), ImageLimits())
    [error] = stage([(make_pair(path), person)])
    stage.close()
    assert error.error_type == "person_too_small"
    assert "min_person_fraction" in error.message


def test_two_people_side_by_side(masking_stage, people, make_pair, tmp_path):
    _, person = people["grace_hopper"]
    canvas = Image.new("RGB", (2 * person.width + 200, person.height), (90, 130, 200))
    canvas.paste(person, (0, 0))
    canvas.paste(person, (person.width + 200, 0))
    [error] = masking_stage([(make_pair(tmp_path / "two.png"), canvas)])
    assert error.error_type == "multiple_people"


def test_manual_mask_overrides(masking_stage, people, make_pair, tmp_path):
    path, person = people["astronaut"]
    hand_made = np.zeros((100, 100), np.uint8)
    hand_made[40:80, 20:70] = 255
    mask_path = tmp_path / "mask.png"
    Image.fromarray(hand_made).save(mask_path)
    # manual masks are used even where auto-masking would refuse the pair
    [result] = masking_stage([(make_pair(path, category="dresses", mask_image=mask_path), person)])
    assert result.mask_source == "manual"
    assert result.garment_mask.shape == (person.height, person.width)
    assert result.garment_mask[300, 200] and not result.garment_mask[50, 50]
    assert result.person_mask.any()


def test_black_manual_mask_is_refused(masking_stage, people, make_pair, tmp_path):
    path, person = people["astronaut"]
    mask_path = tmp_path / "black.png"
    Image.new("L", (64, 64), 0).save(mask_path)
    [error] = masking_stage([(make_pair(path, mask_image=mask_path), person)])
    assert error.error_type == "empty_mask" and "black.png" in error.message


def test_fingerprint_follows_parameters():
    base = MaskingStage(MaskingConfig(), ImageLimits()).fingerprint()
    assert base == MaskingStage(MaskingConfig(), ImageLimits()).fingerprint()
    assert base != MaskingStage(MaskingConfig(margin_fraction=0.05), ImageLimits()).fingerprint()


def test_overlay_is_rgb_at_person_size(masking_stage, people, make_pair):
    path, person = people["astronaut"]
    [result] = masking_stage([(make_pair(path), person)])
    overlay = mask_overlay(person, result)
    assert overlay.mode == "RGB" and overlay.size == person.size
    tinted = np.asarray(overlay)[result.garment_mask].astype(int)
    original = np.asarray(person)[result.garment_mask].astype(int)
    assert np.abs(tinted - original).mean() > 20


def test_stage_pickles_without_its_models(masking_stage):
    import pickle

    copy = pickle.loads(pickle.dumps(masking_stage))
    assert copy._body is None and copy.fingerprint() == masking_stage.fingerprint()


def test_overlay_darkens_outside_the_person_and_tints_the_garment_by_the_stated_weights():
    pixels = np.random.default_rng(3).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    person_mask = np.zeros((40, 30), bool)
    person_mask[5:35, 5:25] = True
    garment_mask = np.zeros((40, 30), bool)
    garment_mask[10:20, 0:15] = True  # partly outside the person: tinted after darkening
    overlay = np.asarray(mask_overlay(Image.fromarray(pixels), MaskResult(garment_mask, person_mask, {}, "auto")))
    expected = pixels.astype(np.float64)
    expected[~person_mask] *= 0.6
    expected[garment_mask] = 0.45 * expected[garment_mask].round() + 0.55 * np.array([255, 0, 160])
    assert np.abs(overlay.astype(int) - expected.round().astype(int)).max() <= 1
