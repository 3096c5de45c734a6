"""The weight-free preview engine: cut the garment out, warp it onto the pose, blend it in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import cv2
import numpy as np
from PIL import Image

from tryon.config import PreviewConfig
from tryon.engines.base import Engine, check_output_sane, paste_back_unmasked
from tryon.errors import PairError
from tryon.hashing import stable_hash
from tryon.pairs import TryOnOutput, TryOnRequest

MIN_VISIBILITY = 0.5
# Light stripes differ from a white background by only ~10 levels, so the tolerance follows the
# background's own noise (JPEG, paper grain) instead of being a fixed large margin.
MIN_BACKGROUND_TOLERANCE = 8.0
MIN_GARMENT_FRACTION = 0.01  # a silhouette smaller than this share of the product shot is not a garment
MAX_GARMENT_FRACTION = 0.95  # larger means no plain background was found
INPAINT_RADIUS = 3
SEAMLESS_PAD = 2  # seamlessClone needs the mask off the image border

# Person keypoints are joint centres; the body (and the garment on it) is wider than them.
SHOULDER_WIDEN = 1.2
HIP_WIDEN = 1.6
SHOULDER_RAISE = 0.1  # the shoulder seam lies above the shoulder joint
WAIST_RAISE = 0.25  # a waistband lies above the hip joints
# Shoulder joint to hip joint is about 1.3 shoulder spans on an adult; used when hips are out of frame.
TORSO_LENGTH_PER_SHOULDER_SPAN = 1.3
KNEE_FRACTION = 0.55  # knees sit a little over halfway down full-length trousers
MIN_LENGTH_PER_SPAN = 0.25  # a garment shorter than this many top spans means the keypoints are wrong


@dataclass(frozen=True)
class CategoryRule:
    """Which garment rows and person keypoints anchor the warp for one category."""

    top_keypoints: tuple[str, str]
    top_widen: float
    top_raise: float  # keypoints are joints; the garment's top edge sits this many top spans above them
    bottom_keypoints: tuple[tuple[str, str, float], ...]  # (right, left, garment height fraction), tried in order
    garment_top_row: float  # fraction of the garment's height where the top anchors sit
    garment_width_rows: tuple[float, float]  # rows whose median width is the garment's body width


CATEGORY_RULES: dict[str, CategoryRule] = {
    # The torso below the sleeves gives the body width; the hem goes to the hips.
    "upper_body": CategoryRule(("right_shoulder", "left_shoulder"), SHOULDER_WIDEN, SHOULDER_RAISE,
                               (("right_hip", "left_hip", 1.0),), 0.06, (0.6, 0.95)),
    # The bodice (top third) gives the width; a dress hem goes to the knees, else the ankles.
    "dresses": CategoryRule(("right_shoulder", "left_shoulder"), SHOULDER_WIDEN, SHOULDER_RAISE,
                            (("right_knee", "left_knee", 1.0), ("right_ankle", "left_ankle", 1.0)), 0.06, (0.05, 0.3)),
    # The waistband gives the width; the hem goes to the ankles, else the knees to about half the leg.
    "lower_body": CategoryRule(("right_hip", "left_hip"), HIP_WIDEN, WAIST_RAISE,
                               (("right_ankle", "left_ankle", 1.0), ("right_knee", "left_knee", KNEE_FRACTION)), 0.02,
                               (0.0, 0.08)),
}


def garment_silhouette(garment: np.ndarray) -> np.ndarray:
    """Bool mask of the garment in a product shot: differs from the border colour, largest blob, holes filled."""
    border = np.concatenate([garment[0], garment[-1], garment[:, 0], garment[:, -1]])
    background = np.median(border, axis=0)
    noise = 1.4826 * np.median(np.abs(border - background), axis=0).max()  # robust std of the background
    tolerance = max(MIN_BACKGROUND_TOLERANCE, 4.0 * noise)
    foreground = (np.abs(garment.astype(np.int16) - background).max(axis=2) > tolerance).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, kernel)
    foreground = cv2.morphologyEx(foreground, cv2.MORPH_CLOSE, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(foreground, connectivity=8)
    if count < 2:
        return np.zeros(foreground.shape, dtype=bool)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    contours, _ = cv2.findContours((labels == largest).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros(foreground.shape, dtype=np.uint8)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)  # fills stripes/prints close to white
    return filled.astype(bool)


def garment_anchors(silhouette: np.ndarray, rule: CategoryRule, bottom_fraction: float = 1.0) -> np.ndarray:
    """Top-left, top-right and bottom-centre anchor points (x, y) of a garment silhouette."""
    rows = np.flatnonzero(silhouette.any(axis=1))
    top, bottom = int(rows[0]), int(rows[-1])
    height = bottom - top + 1
    first = top + int(rule.garment_width_rows[0] * height)
    last = max(first + 1, top + int(rule.garment_width_rows[1] * height))
    lefts, rights, centres = [], [], []
    for row in silhouette[first:last]:
        columns = np.flatnonzero(row)
        if columns.size:
            lefts.append(columns[0])
            rights.append(columns[-1])
    half_width = (np.median(rights) - np.median(lefts)) / 2.0
    centre_x = (np.median(rights) + np.median(lefts)) / 2.0
    top_y = top + rule.garment_top_row * height
    bottom_y = top + bottom_fraction * (height - 1)
    return np.array([[centre_x - half_width, top_y], [centre_x + half_width, top_y], [centre_x, bottom_y]],
                    dtype=np.float32)


def _usable(keypoints: dict, name: str) -> tuple[float, float] | None:
    point = keypoints.get(name)
    if point is None or len(point) < 2 or not np.isfinite(point[:2]).all():
        return None
    if len(point) > 2 and point[2] is not None and point[2] < MIN_VISIBILITY:
        return None
    return float(point[0]), float(point[1])


def person_anchors(keypoints: dict, garment_mask: np.ndarray, rule: CategoryRule) -> tuple[np.ndarray, dict[str, Any]]:
    """Person points matching `garment_anchors`, and a note of which keypoints (or extrapolations) gave them.

    The note's "garment_fraction" says how far down the garment the bottom point sits.

    Raises KeyError naming the missing top keypoints, ValueError when the points make no body
    (the bottom point not clearly below the top line).
    """
    top_points = [_usable(keypoints, name) for name in rule.top_keypoints]
    if any(point is None for point in top_points) or abs(top_points[0][0] - top_points[1][0]) < 2:
        raise KeyError(", ".join(rule.top_keypoints))
    # Sort by x so the garment is never mirrored, whichever way the keypoint labels fall.
    left, right = sorted((np.array(point) for point in top_points), key=lambda point: point[0])
    span = float(np.linalg.norm(right - left))
    across = (right - left) / span
    up = np.array([across[1], -across[0]])  # perpendicular to the shoulder (or hip) line, towards the head
    centre = (left + right) / 2.0 + up * rule.top_raise * span
    half = (right - left) / 2.0 * rule.top_widen
    note: dict[str, Any] = {"top": list(rule.top_keypoints)}
    for right_name, left_name, garment_fraction in rule.bottom_keypoints:
        points = [_usable(keypoints, name) for name in (right_name, left_name)]
        if all(point is not None for point in points):
            bottom = (np.array(points[0]) + np.array(points[1])) / 2.0
            note.update(bottom=[right_name, left_name], garment_fraction=garment_fraction)
            break
    else:
        # Waist-up photo: the garment ends where the mask ends, or (mask cut by the frame) where the body would.
        mask_rows = np.flatnonzero(garment_mask.any(axis=1))
        bottom_y = float(mask_rows[-1])
        if mask_rows[-1] >= garment_mask.shape[0] - 2:
            bottom_y = max(bottom_y, float(centre[1]) + TORSO_LENGTH_PER_SHOULDER_SPAN * span)
        bottom = np.array([centre[0], bottom_y])
        note.update(bottom="extrapolated_from_mask_extent", garment_fraction=1.0)
    if float(np.dot(bottom - centre, up)) > -MIN_LENGTH_PER_SPAN * span:
        raise ValueError(f"the {note['bottom']} point is not below the {' / '.join(rule.top_keypoints)} line")
    anchors = np.array([centre - half, centre + half, bottom], dtype=np.float32)
    return anchors, note


def feathered_alpha(mask: np.ndarray, feather_px: int) -> np.ndarray:
    """1 deep inside the mask, ramping to 0 at its edge over `feather_px` pixels; 0 outside."""
    if feather_px <= 0:
        return mask.astype(np.float32)
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    return np.clip(inside / float(feather_px), 0.0, 1.0).astype(np.float32)


def seamless_blend(composite: np.ndarray, person: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Poisson blend of `composite` into `person` over `mask`, also where the mask touches the border.

    The frame is padded with the composite itself, so along the image border the blend keeps the
    composite's colours instead of pulling them toward the old garment. Raises cv2.error if it cannot run.
    """
    hard = person.copy()
    hard[mask] = composite[mask]
    pad = SEAMLESS_PAD
    source = cv2.copyMakeBorder(composite, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    target = cv2.copyMakeBorder(hard, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    padded_mask = cv2.copyMakeBorder(mask.astype(np.uint8) * 255, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    x, y, width, height = cv2.boundingRect(padded_mask)
    blended = cv2.seamlessClone(source, target, padded_mask, (x + width // 2, y + height // 2), cv2.NORMAL_CLONE)
    # The Poisson solve is only defined inside the mask; OpenCV also rounds a few pixels around it by a level.
    hard[mask] = blended[pad:-pad, pad:-pad][mask]
    return hard


class PreviewEngine(Engine):
    """Pose-guided affine warp of the product shot, inpainted gaps, seamless or alpha blend. CPU, no weights."""

    name = "preview"
    version = "1"
    needs_depth = False

    def computes_on_cpu(self) -> bool:
        return True  # warp and Poisson blend in NumPy/OpenCV

    def __init__(self, config: PreviewConfig, paste_back: bool = True):
        self.config = config
        self.paste_back = paste_back

    def fingerprint(self) -> str:
        return stable_hash(self.name, self.version, self.config.model_dump(mode="json"), self.paste_back, length=16)

    def model_info(self) -> dict[str, Any]:
        return {
            "model_preset": "preview",
            "model_fingerprint": self.fingerprint(),
            "model_revisions": "{}",
            "diffusers_version": None,
            "transformers_version": None,
            "torch_version": None,
            "random_weights": False,
        }

    def __call__(self, batch: Sequence[TryOnRequest]) -> list[TryOnOutput | PairError]:
        results: list[TryOnOutput | PairError] = []
        for request in batch:
            try:
                results.append(self.try_on(request))
            except PairError as error:
                results.append(error)
        return results

    def try_on(self, request: TryOnRequest) -> TryOnOutput:
        """One pair. Raises PairError for problems with this pair's inputs."""
        pair = request.pair
        # 1. Check inputs
        rule = CATEGORY_RULES.get(pair.category)
        if rule is None:
            raise PairError("unknown_category", f"{pair.label}: category {pair.category!r} is not one of "
                            f"{sorted(CATEGORY_RULES)}; fix the manifest's category column")
        person = np.asarray(request.person.convert("RGB"))
        garment = np.asarray(request.garment.convert("RGB"))
        garment_mask = request.mask.garment_mask.astype(bool)
        if garment_mask.shape != person.shape[:2]:
            raise PairError("mask_size_mismatch", f"{pair.label}: mask is {garment_mask.shape[::-1]} but person image "
                            f"{pair.person_image} is {person.shape[1::-1]}; regenerate the mask for this image")
        if not garment_mask.any():
            raise PairError("empty_mask", f"{pair.label}: the garment mask for {pair.person_image} is empty; "
                            "check the mask file or the person detection for this row")

        # 2. Cut the garment out of its product shot
        silhouette = garment_silhouette(garment)
        share = silhouette.mean()
        if not MIN_GARMENT_FRACTION <= share <= MAX_GARMENT_FRACTION:
            raise PairError("garment_not_found", f"{pair.label}: could not separate the garment from the background in "
                            f"{pair.garment_image} (garment covers {share:.0%} of the image); use a product shot on a "
                            "plain light background with the whole garment in frame")

        # 3. Match garment anchors to the pose
        try:
            target, used = person_anchors(request.mask.keypoints, garment_mask, rule)
        except KeyError as missing:
            raise PairError("pose_keypoints_missing", f"{pair.label}: no usable {missing.args[0]} keypoints "
                            f"(visibility >= {MIN_VISIBILITY}) in {pair.person_image} for category {pair.category}; "
                            "use a front-facing photo where they are visible") from None
        except ValueError as implausible:
            raise PairError("pose_keypoints_missing", f"{pair.label}: the pose keypoints in {pair.person_image} are "
                            f"implausible for category {pair.category} ({implausible}); use an upright, front-facing "
                            "photo or check the pose detection for this row") from None
        source = garment_anchors(silhouette, rule, bottom_fraction=used["garment_fraction"])
        transform = cv2.getAffineTransform(source, target)

        # 4. Warp the garment and its silhouette onto the person
        height, width = garment_mask.shape
        warped = cv2.warpAffine(garment, transform, (width, height), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        cover = cv2.warpAffine(silhouette.astype(np.float32), transform, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        cover *= garment_mask

        # 5. Fill the whole mask from outside it, so the old garment never shows where the new one does not reach
        filled = cv2.inpaint(person, garment_mask.astype(np.uint8), INPAINT_RADIUS, cv2.INPAINT_TELEA)
        composite = (warped * cover[..., None] + filled * (1.0 - cover[..., None])).round().astype(np.uint8)

        # 6. Blend into the person
        blend_used = self.config.blend
        blended = None
        if self.config.blend == "seamless":
            try:
                blended = seamless_blend(composite, person, garment_mask)
            except cv2.error:
                blend_used = "alpha"
        if blended is None:
            alpha = feathered_alpha(garment_mask, self.config.feather_px)[..., None]
            blended = (composite * alpha + person * (1.0 - alpha)).round().astype(np.uint8)
        image = raw_image = Image.fromarray(blended)
        if self.paste_back:
            image = paste_back_unmasked(image, request.person, garment_mask)
        check_output_sane(image, pair.label)

        parameters = {
            "engine": self.name,
            "engine_version": self.version,
            "blend": self.config.blend,
            "blend_used": blend_used,
            "feather_px": self.config.feather_px,
            "paste_back": self.paste_back,
            "seed": request.seed,  # recorded only: the preview is deterministic
            "transform": np.round(transform, 6).tolist(),
            "anchors": {
                "garment": np.round(source, 2).tolist(),
                "person": np.round(target, 2).tolist(),
                "keypoints": used,
            },
            "garment_coverage": round(float(cover.sum() / garment_mask.sum()), 4),
        }
        return TryOnOutput(pair_id=pair.pair_id, image=image, parameters=parameters, raw_image=raw_image)
