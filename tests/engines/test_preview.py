"""The preview engine on drawn people and the real sample garments."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tryon.config import PreviewConfig
from tryon.engines.preview import PreviewEngine, garment_silhouette
from tryon.errors import PairError
from tryon.pairs import MaskResult, Pair, TryOnOutput, TryOnRequest

GARMENTS = Path(__file__).resolve().parents[2] / "data" / "sample" / "garments"
OLD_GARMENT_COLOUR = (40, 140, 200)  # blue-ish, far from every sample garment but the navy one


def drawn_person(size: int = 512, waist_up: bool = True):
    """A person-like picture: head, blue top, arms; its garment mask, silhouette and pose keypoints."""
    yy, xx = np.mgrid[0:size, 0:size]
    picture = np.stack([120 + 60 * yy / size, 130 + 40 * xx / size, 110 + 0 * xx], axis=2).astype(np.uint8)
    person_mask = np.zeros((size, size), np.uint8)
    s = size / 512
    cv2.circle(person_mask, (int(256 * s), int(110 * s)), int(60 * s), 1, -1)
    torso = np.array([[150, 190], [362, 190], [350, 511 if waist_up else 400], [162, 511 if waist_up else 400]]) * s
    cv2.fillPoly(person_mask, [torso.astype(np.int32)], 1)
    picture[person_mask.astype(bool)] = (225, 180, 150)  # skin for the head
    top = np.zeros((size, size), np.uint8)
    cv2.fillPoly(top, [torso.astype(np.int32)], 1)
    picture[top.astype(bool)] = OLD_GARMENT_COLOUR
    garment_mask = cv2.dilate(top, np.ones((7, 7), np.uint8)).astype(bool)
    keypoints = {
        "right_shoulder": (175 * s, 200 * s, 0.99),  # the person's right appears on the image's left
        "left_shoulder": (337 * s, 200 * s, 0.99),
        "right_elbow": (140 * s, 330 * s, 0.9),
        "left_elbow": (372 * s, 330 * s, 0.9),
    }
    if not waist_up:
        keypoints.update({"right_hip": (200 * s, 390 * s, 0.95), "left_hip": (312 * s, 390 * s, 0.95)})
    else:
        keypoints.update({"right_hip": (200 * s, 560 * s, 0.05), "left_hip": (312 * s, 560 * s, 0.05)})
    mask = MaskResult(garment_mask=garment_mask, person_mask=person_mask.astype(bool) | garment_mask,
                      keypoints=keypoints, mask_source="auto")
    return Image.fromarray(picture), mask


def request_for(person, mask, garment, category="upper_body", garment_name="red_tshirt.png", seed=7):
    pair = Pair(pair_id="p001", row_index=3, person_image=Path("people/drawn.png"),
                garment_image=Path(f"garments/{garment_name}"), category=category, seed=seed,
                person_sha256="0" * 64, garment_sha256="1" * 64)
    return TryOnRequest(pair=pair, person=person, garment=garment, mask=mask, depth=None, seed=seed, prompt="")


def sample_garment(name: str) -> Image.Image:
    return Image.open(GARMENTS / f"{name}.png").convert("RGB")


def run_one(engine, request) -> TryOnOutput:
    (result,) = engine([request])
    assert isinstance(result, TryOnOutput), getattr(result, "message", result)
    return result


@pytest.mark.parametrize("blend", ["seamless", "alpha"])
@pytest.mark.parametrize("waist_up", [True, False])
def test_red_tshirt_turns_the_masked_region_red_and_keeps_the_rest(blend, waist_up):
    person, mask = drawn_person(waist_up=waist_up)
    engine = PreviewEngine(PreviewConfig(blend=blend), paste_back=True)
    result = run_one(engine, request_for(person, mask, sample_garment("red_tshirt")))

    output = np.asarray(result.image)
    before = np.asarray(person)
    assert result.image.size == person.size and result.image.mode == "RGB"
    assert np.array_equal(output[~mask.garment_mask], before[~mask.garment_mask])
    masked_before = before[mask.garment_mask].mean(axis=0)
    masked_after = output[mask.garment_mask].mean(axis=0)
    red = np.array([196, 30, 45])
    assert np.linalg.norm(masked_after - red) < 0.5 * np.linalg.norm(masked_before - red)
    assert masked_after[0] > masked_after[1] + 60 and masked_after[0] > masked_after[2] + 60
    assert result.parameters["blend"] == blend and result.parameters["blend_used"] == blend
    assert np.asarray(result.parameters["transform"]).shape == (2, 3)
    expected_bottom = "extrapolated_from_mask_extent" if waist_up else ["right_hip", "left_hip"]
    assert result.parameters["anchors"]["keypoints"]["bottom"] == expected_bottom
    assert result.parameters["seed"] == 7


@pytest.mark.parametrize("name", ["red_tshirt", "navy_striped_tshirt", "green_check_shirt", "yellow_dress", "denim_trousers"])
def test_every_sample_garment_is_cut_out_whole(name):
    silhouette = garment_silhouette(np.asarray(sample_garment(name)))
    rows = np.flatnonzero(silhouette.any(axis=1))
    assert 0.25 < silhouette.mean() < 0.45
    assert rows[0] <= 62 and rows[-1] >= 458  # the light stripes at the shoulders are not lost


def test_old_garment_does_not_show_where_the_new_one_does_not_reach():
    person, mask = drawn_person()
    result = run_one(PreviewEngine(PreviewConfig(blend="alpha")), request_for(person, mask, sample_garment("yellow_dress"),
                                                                             category="dresses"))
    output = np.asarray(result.image).astype(int)
    old_colour = np.abs(output - OLD_GARMENT_COLOUR).max(axis=2) < 12
    assert (old_colour & mask.garment_mask).mean() < 0.01


@pytest.mark.parametrize("category,garment_name", [("dresses", "yellow_dress"), ("lower_body", "denim_trousers")])
def test_other_categories_use_their_own_anchors(category, garment_name):
    person, mask = drawn_person(waist_up=False)
    mask.keypoints.update({"right_knee": (205, 470, 0.9), "left_knee": (307, 470, 0.9)})
    result = run_one(PreviewEngine(PreviewConfig()), request_for(person, mask, sample_garment(garment_name), category=category))
    expected = {"dresses": ["right_knee", "left_knee"], "lower_body": ["right_knee", "left_knee"]}[category]
    assert result.parameters["anchors"]["keypoints"]["bottom"] == expected
    # Trousers reach the knees about halfway down; a dress hem sits at the knees.
    assert result.parameters["anchors"]["keypoints"]["garment_fraction"] == (0.55 if category == "lower_body" else 1.0)
    top = result.parameters["anchors"]["keypoints"]["top"]
    assert top == (["right_hip", "left_hip"] if category == "lower_body" else ["right_shoulder", "left_shoulder"])


def test_same_inputs_give_identical_bytes_and_seed_is_only_recorded():
    person, mask = drawn_person()
    engine = PreviewEngine(PreviewConfig())
    first = run_one(engine, request_for(person, mask, sample_garment("navy_striped_tshirt"), seed=1))
    second = run_one(engine, request_for(person, mask, sample_garment("navy_striped_tshirt"), seed=1))
    other_seed = run_one(engine, request_for(person, mask, sample_garment("navy_striped_tshirt"), seed=2))
    assert first.image.tobytes() == second.image.tobytes() == other_seed.image.tobytes()
    assert first.parameters == second.parameters


def test_missing_shoulders_fail_only_that_pair_with_a_useful_message():
    person, mask = drawn_person()
    good = request_for(person, mask, sample_garment("red_tshirt"))
    _, bad_mask = drawn_person()
    bad_mask.keypoints["left_shoulder"] = (337.0, 200.0, 0.1)
    bad = request_for(person, bad_mask, sample_garment("red_tshirt"))
    results = PreviewEngine(PreviewConfig())([good, bad])
    assert isinstance(results[0], TryOnOutput)
    assert isinstance(results[1], PairError) and results[1].error_type == "pose_keypoints_missing"
    assert "row 3 (pair_id 'p001')" in results[1].message and "people/drawn.png" in results[1].message
    assert "left_shoulder" in results[1].message


def test_lower_body_needs_hips():
    person, mask = drawn_person(waist_up=True)
    (result,) = PreviewEngine(PreviewConfig())([request_for(person, mask, sample_garment("denim_trousers"), category="lower_body")])
    assert isinstance(result, PairError) and result.error_type == "pose_keypoints_missing"
    assert "right_hip" in result.message


@pytest.mark.parametrize("garment", [Image.new("RGB", (300, 300), "white"), Image.new("RGB", (300, 300), (30, 30, 30))])
def test_blank_garment_image_is_garment_not_found(garment):
    person, mask = drawn_person()
    (result,) = PreviewEngine(PreviewConfig())([request_for(person, mask, garment, garment_name="blank.png")])
    assert isinstance(result, PairError) and result.error_type == "garment_not_found"
    assert "garments/blank.png" in result.message and "row 3" in result.message


def test_model_info_and_fingerprint_follow_the_config():
    engine = PreviewEngine(PreviewConfig())
    info = engine.model_info()
    assert info["model_preset"] == "preview" and info["random_weights"] is False
    assert info["model_fingerprint"] == engine.fingerprint() == PreviewEngine(PreviewConfig()).fingerprint()
    assert PreviewEngine(PreviewConfig(feather_px=5)).fingerprint() != engine.fingerprint()
    assert PreviewEngine(PreviewConfig(blend="alpha")).fingerprint() != engine.fingerprint()
    assert engine.name == "preview" and engine.needs_depth is False


def test_a_512_pair_takes_well_under_a_second_on_cpu():
    person, mask = drawn_person()
    engine = PreviewEngine(PreviewConfig())
    request = request_for(person, mask, sample_garment("green_check_shirt"))
    run_one(engine, request)
    started = time.perf_counter()
    for _ in range(3):
        run_one(engine, request)
    assert (time.perf_counter() - started) / 3 < 0.5


def test_seamless_falls_back_to_feathered_alpha_when_opencv_refuses(monkeypatch):
    def refuse(*args, **kwargs):
        raise cv2.error("seamlessClone refused")

    monkeypatch.setattr(cv2, "seamlessClone", refuse)
    person, mask = drawn_person()
    result = run_one(PreviewEngine(PreviewConfig(blend="seamless")), request_for(person, mask, sample_garment("red_tshirt")))
    assert result.parameters["blend"] == "seamless" and result.parameters["blend_used"] == "alpha"
    assert np.array_equal(np.asarray(result.image)[~mask.garment_mask], np.asarray(person)[~mask.garment_mask])


def test_without_paste_back_nothing_outside_the_mask_changes_either():
    person, mask = drawn_person()
    for blend in ("seamless", "alpha"):
        result = run_one(PreviewEngine(PreviewConfig(blend=blend), paste_back=False),
                         request_for(person, mask, sample_garment("green_check_shirt")))
        assert np.array_equal(np.asarray(result.image)[~mask.garment_mask], np.asarray(person)[~mask.garment_mask])
        assert result.parameters["paste_back"] is False


def test_hips_above_the_shoulders_are_refused_not_warped():
    person, mask = drawn_person(waist_up=False)
    mask.keypoints.update({"right_hip": (200, 190, 0.95), "left_hip": (312, 195, 0.95)})
    (result,) = PreviewEngine(PreviewConfig())([request_for(person, mask, sample_garment("red_tshirt"))])
    assert isinstance(result, PairError) and result.error_type == "pose_keypoints_missing"
    assert "implausible" in result.message and "people/drawn.png" in result.message


def test_raw_image_is_the_blend_before_paste_back_and_matches_it_inside_the_mask():
    person, mask = drawn_person()
    request = request_for(person, mask, sample_garment("navy_striped_tshirt"))
    pasted = run_one(PreviewEngine(PreviewConfig(), paste_back=True), request)
    unpasted = run_one(PreviewEngine(PreviewConfig(), paste_back=False), request)
    assert pasted.raw_image is not None and pasted.raw_image.size == pasted.image.size
    assert np.array_equal(np.asarray(pasted.raw_image), np.asarray(unpasted.image))
    inside = mask.garment_mask
    assert np.array_equal(np.asarray(pasted.raw_image)[inside], np.asarray(pasted.image)[inside])
