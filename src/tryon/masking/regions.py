"""Garment-agnostic inpainting regions per category, drawn from pose keypoints and the silhouette.

The rule (all lengths in pixels of the person image):

1. Scale. `shoulder_width` is the distance between the shoulders; `margin` is
   `margin_fraction * person_height`, where person height is the height of the silhouette's
   bounding box (the visible part of the person).
2. Garment region, by category. It covers where the new garment will lie AND the whole garment
   worn there now, whatever its cut, so nothing of the old garment survives the inpaint:
   - upper_body: torso = convex hull of the shoulders (raised and widened by 0.2 and 0.1
     shoulder widths, for the shoulder seam and collar), the chin (neckline: high collars and
     turtlenecks included) and the hips (widened by 0.15 shoulder widths); plus both arms as
     thick segments shoulder-elbow-wrist (full sleeves), radius 0.22 shoulder widths (half that
     for a forearm whose wrist is hidden, visibility < 0.2, so an object held in front of it
     is not repainted).
   - lower_body: convex hull of the hips (raised by a quarter of the hip-knee distance, for the
     waistband, and widened), knees and ankles (widened), down to the ankles.
   - dresses: the upper_body region plus the hull from hips to below the knees (half way to
     the ankles; mediapipe estimates ankles even when they are out of frame).
   Keypoints that mediapipe extrapolates outside the frame are used as they are, so a torso whose
   hips are below the frame reaches the bottom edge.
3. Dilate the region by `margin`, then intersect it with the silhouette dilated by `margin`:
   the new garment may be a little wider than the person, but the background far away stays.
4. Protected parts are removed last and always win: the head (an ellipse over face and hair,
   from the face landmarks) and visible hands (a disc beyond each visible wrist); for tops also
   every row below the hips + 2 margins (the legs), for lower_body every row above the waist
   and below the ankles + margin (the feet). Row cuts assume an upright person.

A category's required keypoints (REQUIRED) must be visible (visibility >= pose_min_confidence)
and inside the frame, otherwise the pair fails as `person_cut_off`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

REQUIRED: dict[str, tuple[str, ...]] = {
    "upper_body": ("left_shoulder", "right_shoulder"),
    "lower_body": ("left_hip", "right_hip", "left_knee", "right_knee"),
    "dresses": ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee", "right_knee"),
}
FACE_POINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "mouth_left", "mouth_right")
HAND_POINTS = {"left": ("left_pinky", "left_index", "left_thumb"), "right": ("right_pinky", "right_index", "right_thumb")}

# Below this visibility a wrist is hidden (behind an object held in front of the body): its
# forearm is drawn at half radius so the occluder is not repainted as sleeve.
OCCLUDED_VISIBILITY = 0.2

Keypoints = dict[str, tuple[float, float, float]]


def is_visible(keypoints: Keypoints, name: str, size: tuple[int, int], min_confidence: float) -> bool:
    """Seen with enough confidence and inside the frame (`size` is width, height)."""
    if name not in keypoints:
        return False
    x, y, visibility = keypoints[name]
    width, height = size
    return visibility >= min_confidence and 0 <= x < width and 0 <= y < height


def missing_keypoints(keypoints: Keypoints, category: str, size: tuple[int, int], min_confidence: float) -> list[str]:
    return [name for name in REQUIRED[category] if not is_visible(keypoints, name, size, min_confidence)]


def person_height(person_mask: np.ndarray) -> int:
    rows = np.flatnonzero(person_mask.any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else person_mask.shape[0]


def _point(keypoints: Keypoints, name: str) -> np.ndarray:
    return np.array(keypoints[name][:2], dtype=np.float64)


def _fill_hull(canvas: np.ndarray, points: list[np.ndarray]) -> None:
    hull = cv2.convexHull(np.round(np.array(points)).astype(np.int32))
    cv2.fillConvexPoly(canvas, hull, 1)


def _draw_limb(canvas: np.ndarray, points: list[np.ndarray], radius: float) -> None:
    thickness = max(1, int(round(2 * radius)))
    for start, end in zip(points, points[1:]):
        cv2.line(canvas, tuple(int(v) for v in np.round(start)), tuple(int(v) for v in np.round(end)), 1, thickness)
    for point in points:
        cv2.circle(canvas, tuple(int(v) for v in np.round(point)), int(round(radius)), 1, -1)


def _chin(keypoints: Keypoints) -> np.ndarray:
    eyes = (_point(keypoints, "left_eye") + _point(keypoints, "right_eye")) / 2
    mouth = (_point(keypoints, "mouth_left") + _point(keypoints, "mouth_right")) / 2
    return mouth + 0.85 * (mouth - eyes)


def _upper_body(canvas: np.ndarray, keypoints: Keypoints) -> None:
    left_shoulder, right_shoulder = _point(keypoints, "left_shoulder"), _point(keypoints, "right_shoulder")
    shoulder_width = float(np.linalg.norm(left_shoulder - right_shoulder)) or 1.0
    outward = (left_shoulder - right_shoulder) / shoulder_width  # towards the person's left
    up = np.array([0.0, -1.0])
    hull = [
        left_shoulder + 0.1 * shoulder_width * outward + 0.2 * shoulder_width * up,
        right_shoulder - 0.1 * shoulder_width * outward + 0.2 * shoulder_width * up,
        _point(keypoints, "left_hip") + 0.15 * shoulder_width * outward,
        _point(keypoints, "right_hip") - 0.15 * shoulder_width * outward,
    ]
    if all(name in keypoints for name in FACE_POINTS):
        hull.append(_chin(keypoints))
    _fill_hull(canvas, hull)
    for side in ("left", "right"):
        arm = [_point(keypoints, f"{side}_{joint}") for joint in ("shoulder", "elbow", "wrist")]
        _draw_limb(canvas, arm[:2], 0.22 * shoulder_width)
        occluded = keypoints[f"{side}_wrist"][2] < OCCLUDED_VISIBILITY
        _draw_limb(canvas, arm[1:], (0.11 if occluded else 0.22) * shoulder_width)


def _legs_hull(keypoints: Keypoints, down_to: str, size: tuple[int, int]) -> list[np.ndarray]:
    left_hip, right_hip = _point(keypoints, "left_hip"), _point(keypoints, "right_hip")
    left_knee, right_knee = _point(keypoints, "left_knee"), _point(keypoints, "right_knee")
    hip_width = float(np.linalg.norm(left_hip - right_hip)) or 1.0
    outward = (left_hip - right_hip) / hip_width
    waist_lift = np.array([0.0, -0.25 * np.linalg.norm((left_knee + right_knee - left_hip - right_hip) / 2)])
    hull = [
        left_hip + 0.35 * hip_width * outward + waist_lift,
        right_hip - 0.35 * hip_width * outward + waist_lift,
        left_knee + 0.3 * hip_width * outward,
        right_knee - 0.3 * hip_width * outward,
    ]
    ankles = [_point(keypoints, "left_ankle"), _point(keypoints, "right_ankle")]
    if down_to == "ankles":
        hull += [ankles[0] + 0.25 * hip_width * outward, ankles[1] - 0.25 * hip_width * outward]
    else:  # below the knees, half way to the ankles (mediapipe extrapolates them out of frame)
        hull += [(left_knee + ankles[0]) / 2 + 0.3 * hip_width * outward, (right_knee + ankles[1]) / 2 - 0.3 * hip_width * outward]
    return hull


def garment_region(keypoints: Keypoints, category: str, size: tuple[int, int]) -> np.ndarray:
    """Step 2 of the rule: where the garment is and will be, before margin and silhouette."""
    width, height = size
    canvas = np.zeros((height, width), np.uint8)
    if category in ("upper_body", "dresses"):
        _upper_body(canvas, keypoints)
    if category == "lower_body":
        _fill_hull(canvas, _legs_hull(keypoints, "ankles", size))
    if category == "dresses":
        _fill_hull(canvas, _legs_hull(keypoints, "below_knees", size))
    return canvas.astype(bool)


def protected_region(
    keypoints: Keypoints, category: str, size: tuple[int, int], min_confidence: float, margin: float
) -> np.ndarray:
    """Step 4 of the rule: head, visible hands, and the body parts the category leaves alone."""
    width, height = size
    canvas = np.zeros((height, width), np.uint8)
    if all(name in keypoints for name in FACE_POINTS):
        eyes_y = (keypoints["left_eye"][1] + keypoints["right_eye"][1]) / 2
        mouth_y = (keypoints["mouth_left"][1] + keypoints["mouth_right"][1]) / 2
        eye_to_mouth = max(mouth_y - eyes_y, 1.0)
        top, bottom = eyes_y - 2.2 * eye_to_mouth, _chin(keypoints)[1]
        ears = _point(keypoints, "left_ear"), _point(keypoints, "right_ear")
        half_width = max(abs(ears[0][0] - ears[1][0]), 1.2 * eye_to_mouth)
        center = (int(round((ears[0][0] + ears[1][0]) / 2)), int(round((top + bottom) / 2)))
        cv2.ellipse(canvas, center, (int(round(half_width)), int(round((bottom - top) / 2))), 0, 0, 360, 1, -1)
    for side, fingers in HAND_POINTS.items():
        wrist_name = f"{side}_wrist"
        if not (is_visible(keypoints, wrist_name, size, min_confidence) and all(name in keypoints for name in fingers)):
            continue
        wrist = _point(keypoints, wrist_name)
        hand_center = np.mean([_point(keypoints, name) for name in fingers], axis=0)
        radius = max(1.3 * float(np.linalg.norm(hand_center - wrist)), 4.0)
        cv2.circle(canvas, tuple(int(v) for v in np.round(hand_center)), int(round(radius)), 1, -1)
    hips_y = (keypoints["left_hip"][1] + keypoints["right_hip"][1]) / 2 if "left_hip" in keypoints else None
    if category == "upper_body" and hips_y is not None:
        canvas[max(0, int(round(hips_y + 2 * margin))):, :] = 1
    if category == "lower_body" and hips_y is not None:
        knees_y = (keypoints["left_knee"][1] + keypoints["right_knee"][1]) / 2
        canvas[: max(0, int(round(hips_y - 0.35 * (knees_y - hips_y) - margin))), :] = 1
        ankles_y = max(keypoints["left_ankle"][1], keypoints["right_ankle"][1])
        canvas[max(0, int(round(ankles_y + margin))):, :] = 1
    return canvas.astype(bool)


def dilate(mask: np.ndarray, radius: float) -> np.ndarray:
    radius = int(round(radius))
    if radius <= 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


@dataclass
class MaskParts:
    """The pieces of the rule, kept apart so a refiner (SAM) can respect them."""

    region: np.ndarray  # step 2, before the margin
    protected: np.ndarray  # step 4
    margin: float  # pixels

    def envelope(self, person_mask: np.ndarray) -> np.ndarray:
        """Step 3: the region dilated by the margin, inside the silhouette dilated by the margin."""
        return dilate(self.region, self.margin) & dilate(person_mask, self.margin)


def mask_parts(
    keypoints: Keypoints, person_mask: np.ndarray, category: str, margin_fraction: float, min_confidence: float
) -> MaskParts:
    height, width = person_mask.shape
    margin = margin_fraction * person_height(person_mask)
    return MaskParts(
        region=garment_region(keypoints, category, (width, height)),
        protected=protected_region(keypoints, category, (width, height), min_confidence, margin),
        margin=margin,
    )


def agnostic_mask(
    keypoints: Keypoints, person_mask: np.ndarray, category: str, margin_fraction: float, min_confidence: float
) -> np.ndarray:
    """The whole rule (module docstring): True where the inpaint may paint."""
    parts = mask_parts(keypoints, person_mask, category, margin_fraction, min_confidence)
    return parts.envelope(person_mask) & ~parts.protected
