"""Debug overlay: the person with the garment mask tinted and the pose drawn on top."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from tryon.images import scale_to_long_side, shrink_image
from tryon.pairs import MaskResult

OVERLAY_LONG_SIDE = 512  # overlays are debug views: small JPEGs
OVERLAY_JPEG_QUALITY = 85

MASK_TINT = np.array([255, 0, 160], dtype=np.uint8)
BONES = (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
)


def mask_overlay(person: Image.Image, mask_result: MaskResult, visible_from: float = 0.5) -> Image.Image:
    """RGB image: garment mask tinted, person outline darkened outside, keypoints as dots
    (green when visibility >= `visible_from`, grey otherwise) joined by bones."""
    # Whole-frame OpenCV blends copied in under the masks: no boolean-indexed float64 copies.
    pixels = np.array(person if person.mode == "RGB" else person.convert("RGB"))
    if mask_result.person_mask.shape == pixels.shape[:2]:
        outside = (~mask_result.person_mask).view(np.uint8)
        cv2.copyTo(cv2.convertScaleAbs(pixels, alpha=0.6), outside, pixels)
    garment = mask_result.garment_mask.view(np.uint8)
    tint = np.empty_like(pixels)
    tint[:] = MASK_TINT
    cv2.copyTo(cv2.addWeighted(pixels, 0.45, tint, 0.55, 0.0), garment, pixels)
    overlay = Image.fromarray(pixels)
    draw = ImageDraw.Draw(overlay)
    keypoints = mask_result.keypoints
    radius = max(2, round(min(overlay.size) / 150))
    for start, end in BONES:
        if start in keypoints and end in keypoints:
            draw.line([keypoints[start][:2], keypoints[end][:2]], fill=(255, 255, 0), width=max(1, radius // 2))
    for x, y, visibility in keypoints.values():
        colour = (0, 230, 0) if visibility >= visible_from else (150, 150, 150)
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)
    return overlay


def small_mask_overlay(person: Image.Image, mask_result: MaskResult, long_side: int = OVERLAY_LONG_SIDE) -> Image.Image:
    """`mask_overlay` drawn on a copy scaled to `long_side`: a debug view needs no more, and it
    costs a fraction of the full-size one to draw and to write."""
    size = scale_to_long_side(person.size, long_side)
    if size == person.size:
        return mask_overlay(person, mask_result)
    scale_x, scale_y = size[0] / person.size[0], size[1] / person.size[1]
    small = MaskResult(
        garment_mask=cv2.resize(mask_result.garment_mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0,
        person_mask=cv2.resize(mask_result.person_mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0,
        keypoints={name: (x * scale_x, y * scale_y, visibility) for name, (x, y, visibility) in mask_result.keypoints.items()},
        mask_source=mask_result.mask_source,
    )
    return mask_overlay(shrink_image(person, size), small)
