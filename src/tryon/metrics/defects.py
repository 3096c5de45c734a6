"""Synthetic defects made from a good try-on output, to measure what the quality gate catches.

Each defect imitates one way a real engine fails (kept the old garment, wrong colour, blurred,
blank region, degraded the whole photo, left a seam, painted another garment, painted half the
mask). A defect changes the engine's raw image; the final image is the raw one pasted back onto
the photo when the good sample was pasted back, exactly as the engines do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import cv2
import numpy as np

from tryon.metrics.change import CORE_ERODE_FRACTION, halves, mask_core


@dataclass(frozen=True)
class GateSample:
    """One scored try-on: the inputs, the engine's raw image, the final image, and what it is."""

    kind: str  # "good" or a defect name
    name: str  # which good output (and variant) it came from
    person: np.ndarray  # HxWx3 uint8
    garment: np.ndarray  # the product shot, HxWx3 uint8
    garment_mask: np.ndarray  # bool HxW
    person_mask: np.ndarray  # bool HxW
    raw: np.ndarray  # the engine's image before paste-back
    pasted_back: bool  # whether the final image is `raw` with unmasked pixels copied from `person`

    @property
    def output(self) -> np.ndarray:
        if not self.pasted_back:
            return self.raw
        final = self.raw.copy()
        final[~self.garment_mask] = self.person[~self.garment_mask]
        return final


def _ramp(mask: np.ndarray, width_px: float) -> np.ndarray:
    """0 outside the mask rising to 1 at `width_px` inside it: edits that should not create a seam."""
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    return np.clip(inside / max(width_px, 1.0), 0.0, 1.0)[..., None]


def _mix(base: np.ndarray, edited: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return (edited.astype(np.float32) * weight + base.astype(np.float32) * (1.0 - weight)).round().clip(0, 255).astype(np.uint8)


def _feather(sample: GateSample) -> float:
    return 0.02 * max(sample.garment_mask.shape)


def old_garment_kept(sample: GateSample, rng: np.random.Generator, others: list[GateSample]) -> np.ndarray:
    """The engine reproduced the photo inside the mask (with a little of a decoder's softness and noise)."""
    redrawn = cv2.GaussianBlur(sample.person, (0, 0), 0.8).astype(np.float32) + rng.normal(0, 2.0, sample.person.shape)
    return _mix(sample.raw, redrawn.round().clip(0, 255).astype(np.uint8), _ramp(sample.garment_mask, 2))


def hue_shifted(sample: GateSample, rng: np.random.Generator, others: list[GateSample]) -> np.ndarray:
    """The garment came out in another colour: hue turned by 50-130 degrees inside the mask."""
    hsv = cv2.cvtColor(sample.raw, cv2.COLOR_RGB2HSV_FULL).astype(np.int32)
    turn = int(rng.uniform(50, 130) * 256 / 360) * int(rng.choice([-1, 1]))
    hsv[..., 0] = (hsv[..., 0] + turn) % 256
    shifted = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB_FULL)
    return _mix(sample.raw, shifted, _ramp(sample.garment_mask, _feather(sample)))


def garment_blurred(sample: GateSample, rng: np.random.Generator, others: list[GateSample]) -> np.ndarray:
    """The garment came out soft: a Gaussian blur of 0.6-1 % of the image side inside the mask."""
    sigma = rng.uniform(0.006, 0.01) * max(sample.raw.shape[:2])
    return _mix(sample.raw, cv2.GaussianBlur(sample.raw, (0, 0), sigma), _ramp(sample.garment_mask, _feather(sample)))


def _filled(sample: GateSample, fill: np.ndarray) -> np.ndarray:
    raw = sample.raw.copy()
    raw[sample.garment_mask] = fill[sample.garment_mask]
    return raw


def blank_region(sample: GateSample, rng: np.random.Generator, others: list[GateSample]) -> np.ndarray:
    """The mask painted one flat colour (the region's mean colour, so it is not trivially dark)."""
    colour = sample.raw[sample.garment_mask].mean(axis=0)
    return _filled(sample, np.broadcast_to(colour.round().astype(np.uint8), sample.raw.shape))


def black_region(sample: GateSample, rng: np.random.Generator, others: list[GateSample]) -> np.ndarray:
    """The mask painted (near-)black, as a NaN'd VAE decode clipped to 0 would leave it."""
    return _filled(sample, rng.integers(0, 4, sample.raw.shape, dtype=np.uint8))


def noise_region(sample: GateSample, rng: np.random.Generator, others: list[GateSample]) -> np.ndarray:
    """The mask filled with colour noise, as undenoised latents decode."""
    return _filled(sample, rng.integers(0, 256, sample.raw.shape, dtype=np.uint8))


def degraded_outside(sample: GateSample, rng: np.random.Generator, others: list[GateSample]) -> np.ndarray:
    """The whole raw image degraded (blur, noise, JPEG blocking or a colour cast); paste-back hides it
    outside the mask in the final image, the raw-output metrics do not."""
    raw, side = sample.raw, max(sample.raw.shape[:2])
    how = int(rng.integers(0, 4))
    if how == 0:
        return cv2.GaussianBlur(raw, (0, 0), rng.uniform(0.004, 0.008) * side)
    if how == 1:
        return (raw.astype(np.float32) + rng.normal(0, rng.uniform(10, 20), raw.shape)).round().clip(0, 255).astype(np.uint8)
    if how == 2:
        quality = int(rng.integers(5, 15))
        _, data = cv2.imencode(".jpg", cv2.cvtColor(raw, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    gains = 1.0 + rng.choice([-1, 1], 3) * rng.uniform(0.08, 0.15, 3)
    return (raw.astype(np.float32) * gains).round().clip(0, 255).astype(np.uint8)


def visible_seam(sample: GateSample, rng: np.random.Generator, others: list[GateSample]) -> np.ndarray:
    """The generated region pasted with a hard edge: a band along the mask edge 20-35 levels off the photo."""
    offset = rng.uniform(20, 35) * rng.choice([-1, 1])
    band = 1.0 - _ramp(sample.garment_mask, 0.03 * max(sample.raw.shape[:2]))
    band[~sample.garment_mask] = 0.0
    return (sample.raw.astype(np.float32) + offset * band).round().clip(0, 255).astype(np.uint8)


def wrong_garment(sample: GateSample, rng: np.random.Generator, others: list[GateSample]) -> np.ndarray:
    """Another pair's output for the same photo and mask (another garment), scored against this garment."""
    candidates = [other for other in others if other.kind == "good" and other.garment_mask.shape == sample.garment_mask.shape
                  and np.array_equal(other.person, sample.person) and not np.array_equal(other.garment, sample.garment)]
    if not candidates:
        raise ValueError(f"{sample.name}: no other garment's output on the same photo to swap in")
    return candidates[int(rng.integers(0, len(candidates)))].raw


def half_painted(sample: GateSample, rng: np.random.Generator, others: list[GateSample]) -> np.ndarray:
    """Only half the mask was repainted; the other half (top, bottom, left or right) still shows the photo."""
    core = mask_core(sample.garment_mask, round(CORE_ERODE_FRACTION * max(sample.garment_mask.shape)))
    untouched = halves(core)[int(rng.integers(0, 4))]
    # Grow the half back out to the mask edge, so the old garment shows to the border of the mask.
    grown = cv2.dilate(untouched.astype(np.uint8), np.ones((3, 3), np.uint8),
                       iterations=round(CORE_ERODE_FRACTION * max(sample.garment_mask.shape)) + 1).astype(bool) & sample.garment_mask
    raw = sample.raw.copy()
    raw[grown] = sample.person[grown]
    return raw


DEFECTS: dict[str, Callable[[GateSample, np.random.Generator, list[GateSample]], np.ndarray]] = {
    "old_garment_kept": old_garment_kept,
    "hue_shifted": hue_shifted,
    "garment_blurred": garment_blurred,
    "blank_region": blank_region,
    "black_region": black_region,
    "noise_region": noise_region,
    "degraded_outside": degraded_outside,
    "visible_seam": visible_seam,
    "wrong_garment": wrong_garment,
    "half_painted": half_painted,
}


def make_defects(goods: list[GateSample], seed: int = 0) -> list[GateSample]:
    """Every defect of DEFECTS applied to every good sample (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    defects = []
    for sample in goods:
        for kind, make in DEFECTS.items():
            defects.append(replace(sample, kind=kind, raw=make(sample, rng, goods)))
    return defects
