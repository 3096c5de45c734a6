"""Crop-and-stitch: inpaint the garment region at the model's native resolution, then blend it back.

Squeezing a 3000x4000 photo to one megapixel and upscaling the result makes a soft garment beside
sharp original pixels. Instead the engine inpaints a crop around the mask (plus context), resized
to the nearest SDXL resolution bucket, and stitches the result back with a feathered alpha that
is zero outside the mask, so every pixel outside it stays the original.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class CropPlan:
    """Where one pair is inpainted: `box` in person pixels, generated as a `bucket`-sized canvas."""

    box: tuple[int, int, int, int]  # left, top, right, bottom (right/bottom exclusive)
    bucket: tuple[int, int]  # canvas (width, height)

    @property
    def size(self) -> tuple[int, int]:
        left, top, right, bottom = self.box
        return right - left, bottom - top


def scaled_buckets(buckets, resolution: int) -> list[tuple[int, int]]:
    """The bucket list (defined at SDXL's 1024 scale) at `resolution`, sides multiples of 8, no repeats."""
    scale = resolution / 1024
    scaled = []
    for width, height in buckets:
        bucket = (max(8, int(width * scale / 8 + 0.5) * 8), max(8, int(height * scale / 8 + 0.5) * 8))
        if bucket not in scaled:
            scaled.append(bucket)
    return scaled


def nearest_bucket(width: int, height: int, buckets) -> tuple[int, int]:
    """The bucket whose aspect ratio is closest (in log space, so 2:1 and 1:2 are equally far from 1:1)."""
    ratio = math.log(width / height)
    return min(buckets, key=lambda bucket: (abs(math.log(bucket[0] / bucket[1]) - ratio), -bucket[0] * bucket[1]))


def _grow(start: int, end: int, length: int, limit: int) -> tuple[int, int]:
    """[start, end) widened to `length` around its centre, shifted to stay inside [0, limit)."""
    length = min(length, limit)
    new_start = int(round((start + end - length) / 2))
    new_start = min(max(new_start, 0), limit - length)
    return new_start, new_start + length


def plan_crop(mask: np.ndarray, buckets, margin: float) -> CropPlan:
    """The mask's bounding box plus `margin` of its size on each side, grown to the nearest bucket's
    aspect ratio and clipped to the image. An empty mask plans the whole image."""
    height, width = mask.shape
    rows, columns = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        box = (0, 0, width, height)
    else:
        left, right, top, bottom = int(columns[0]), int(columns[-1]) + 1, int(rows[0]), int(rows[-1]) + 1
        pad_x, pad_y = int(round(margin * (right - left))), int(round(margin * (bottom - top)))
        box = (max(left - pad_x, 0), max(top - pad_y, 0), min(right + pad_x, width), min(bottom + pad_y, height))
    left, top, right, bottom = box
    bucket_width, bucket_height = nearest_bucket(right - left, bottom - top, buckets)
    if (right - left) * bucket_height < (bottom - top) * bucket_width:  # too narrow: widen
        left, right = _grow(left, right, int(round((bottom - top) * bucket_width / bucket_height)), width)
    else:  # too flat: heighten
        top, bottom = _grow(top, bottom, int(round((right - left) * bucket_height / bucket_width)), height)
    # Clipping at the image edge can leave another aspect ratio: take the bucket nearest to what is left.
    return CropPlan((left, top, right, bottom), nearest_bucket(right - left, bottom - top, buckets))


def feather_alpha(mask: np.ndarray, feather_px: int) -> np.ndarray:
    """Blend weight of the generated pixels: 0 outside the mask, rising to 1 over `feather_px` pixels
    inside its edge (no seam, and nothing outside the mask changes)."""
    if feather_px <= 0:
        return mask.astype(np.float64)
    import cv2

    distance = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    return np.clip(distance.astype(np.float64) / feather_px, 0.0, 1.0)


def generated_to_crop(generated: Image.Image, plan: CropPlan) -> Image.Image:
    """The bucket-sized result back at the crop's size (Lanczos: sharp, little ringing)."""
    return generated if generated.size == plan.size else generated.resize(plan.size, Image.LANCZOS)


def replace_crop(person: Image.Image, crop: Image.Image, plan: CropPlan) -> Image.Image:
    """The person photo with the crop region replaced as is: the engine's raw output, before paste-back."""
    raw = person.convert("RGB").copy()
    raw.paste(crop, plan.box[:2])
    return raw


def stitch(person: Image.Image, crop: Image.Image, plan: CropPlan, mask: np.ndarray, feather_px: int) -> Image.Image:
    """The person photo with the generated crop blended in through the feathered mask."""
    left, top, right, bottom = plan.box
    result = np.asarray(person.convert("RGB")).copy()
    alpha = feather_alpha(mask, feather_px)[top:bottom, left:right, None]
    original = result[top:bottom, left:right].astype(np.float64)
    blended = alpha * np.asarray(crop, dtype=np.float64) + (1.0 - alpha) * original
    result[top:bottom, left:right] = np.rint(blended).clip(0, 255).astype(np.uint8)
    return Image.fromarray(result)
