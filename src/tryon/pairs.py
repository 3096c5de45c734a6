"""The unit of work: one validated manifest row, and what the stages produce for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Pair:
    """A manifest row that passed validation; paths are resolved and confined to the data root."""

    pair_id: str
    row_index: int
    person_image: Path
    garment_image: Path
    category: str
    seed: int
    person_sha256: str
    garment_sha256: str
    prompt: str | None = None
    garment_description: str | None = None
    ground_truth_image: Path | None = None
    mask_image: Path | None = None
    mask_sha256: str | None = None
    ground_truth_sha256: str | None = None
    output_image: Path | None = None  # a finished try-on to score (`tryon score`), not made here
    output_sha256: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How messages name this pair."""
        return f"row {self.row_index} (pair_id {self.pair_id!r})"

    @cached_property
    def input_hash(self) -> str:
        """Hash of everything in the inputs that can change the output."""
        from tryon.hashing import stable_hash

        parts = [self.person_sha256, self.garment_sha256, self.mask_sha256, self.category,
                 self.seed, self.prompt, self.garment_description]
        if self.output_sha256 is not None:  # only scored outputs: other pairs keep their hashes
            parts.append(self.output_sha256)
        return stable_hash(*parts, length=16)

    @property
    def work_key(self) -> tuple[str, str | None]:
        """Pairs with equal keys (and one run's config) make the same images and scores: a run
        computes them once. The ground truth is in it because it changes the gt_* metrics."""
        return self.input_hash, self.ground_truth_sha256

    @cached_property
    def extras_hash(self) -> str:
        """Hash of the carried manifest columns: a change re-writes the row, no new image."""
        return extras_hash(self.extras)


def extras_hash(extras: dict[str, Any]) -> str:
    from tryon.hashing import stable_hash

    return stable_hash(extras, length=16)


@dataclass
class BodyAnalysis:
    """Pose keypoints and person silhouette of one person image (pixel coordinates)."""

    person_mask: np.ndarray  # bool HxW
    keypoints: dict[str, tuple[float, float, float]]  # name -> (x, y, visibility)


@dataclass
class MaskResult:
    """Output of the masking stage for one pair. Arrays are at the person image's size."""

    garment_mask: np.ndarray  # bool HxW, True = inpaint
    person_mask: np.ndarray  # bool HxW
    keypoints: dict[str, tuple[float, float, float]]
    mask_source: str  # "auto" | "auto+sam" | "manual"

    @property
    def mask_area(self) -> int:
        return int(self.garment_mask.sum())

    @property
    def person_area(self) -> int:
        return int(self.person_mask.sum())

    @property
    def coverage_ratio(self) -> float:
        return self.mask_area / max(self.person_area, 1)


@dataclass
class TryOnRequest:
    """Everything an engine needs for one pair; images already decoded and upright."""

    pair: Pair
    person: Image.Image  # RGB
    garment: Image.Image  # RGB
    mask: MaskResult
    depth: Image.Image | None  # RGB control image at the person's size, when the engine uses depth
    seed: int
    prompt: str
    garment_embedding: np.ndarray | None = None  # image-encoder output for the garment, from the runner's cache


@dataclass
class TryOnOutput:
    """An engine's result for one pair: the image and the parameters that made it."""

    pair_id: str
    image: Image.Image  # RGB, same size as the person image
    parameters: dict[str, Any]  # recorded in the catalogue as JSON
    # The engine's own pixels before paste-back (same size), so preservation can be measured where
    # paste-back would hide it; None when the engine has no separate raw image (then `image` is raw).
    raw_image: Image.Image | None = None
