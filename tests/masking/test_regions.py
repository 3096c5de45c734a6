"""The region rule on a synthetic, full-body stick figure (no models involved)."""

import numpy as np
import pytest

from tryon.masking.regions import agnostic_mask, missing_keypoints

# A front-facing figure in a 200x400 image: head at the top, ankles near the bottom.
FIGURE = {
    "nose": (100, 40), "left_eye": (108, 34), "right_eye": (92, 34), "left_ear": (116, 38), "right_ear": (84, 38),
    "mouth_left": (106, 50), "mouth_right": (94, 50),
    "left_shoulder": (130, 90), "right_shoulder": (70, 90), "left_elbow": (140, 150), "right_elbow": (60, 150),
    "left_wrist": (145, 200), "right_wrist": (55, 200),
    "left_pinky": (147, 215), "left_index": (145, 217), "left_thumb": (141, 212),
    "right_pinky": (53, 215), "right_index": (55, 217), "right_thumb": (59, 212),
    "left_hip": (120, 200), "right_hip": (80, 200), "left_knee": (118, 290), "right_knee": (82, 290),
    "left_ankle": (116, 370), "right_ankle": (84, 370),
}
KEYPOINTS = {name: (float(x), float(y), 0.99) for name, (x, y) in FIGURE.items()}
PERSON = np.zeros((400, 200), bool)
PERSON[10:390, 30:170] = True


@pytest.mark.parametrize("category", ["upper_body", "lower_body", "dresses"])
def test_full_figure_needs_nothing(category):
    assert missing_keypoints(KEYPOINTS, category, (200, 400), 0.5) == []


def test_low_visibility_or_out_of_frame_is_missing():
    keypoints = dict(KEYPOINTS, left_knee=(118.0, 290.0, 0.1), right_knee=(82.0, 450.0, 0.99))
    assert missing_keypoints(keypoints, "lower_body", (200, 400), 0.5) == ["left_knee", "right_knee"]


def test_upper_body_covers_torso_and_sleeves_not_face_legs_or_hands():
    mask = agnostic_mask(KEYPOINTS, PERSON, "upper_body", 0.025, 0.5)
    assert mask[150, 100] and mask[95, 130] and mask[150, 140]  # chest, shoulder, sleeve
    assert not mask[40, 100]  # face
    assert not mask[320, 100]  # legs stay
    assert not mask[216, 145]  # visible hand stays
    assert not mask[5, 100] and not mask[200, 5]  # outside the dilated silhouette


def test_lower_body_covers_legs_not_chest():
    mask = agnostic_mask(KEYPOINTS, PERSON, "lower_body", 0.025, 0.5)
    assert mask[250, 100] and mask[340, 110]
    assert not mask[120, 100] and not mask[40, 100]


def test_dress_spans_shoulders_to_below_knees():
    mask = agnostic_mask(KEYPOINTS, PERSON, "dresses", 0.025, 0.5)
    assert mask[100, 100] and mask[250, 100] and mask[300, 100]
    assert not mask[40, 100] and not mask[385, 100]
