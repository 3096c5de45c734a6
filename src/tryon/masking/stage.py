"""The masking stage: one garment-agnostic inpainting mask per (pair, person image)."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from PIL import Image

from tryon.config import ImageLimits, MaskingConfig
from tryon.errors import PairError
from tryon.hashing import stable_hash
from tryon.images import load_mask, scale_to_long_side, shrink_image
from tryon.masking.body import BodyAnalyzer
from tryon.masking.regions import mask_parts, missing_keypoints
from tryon.pairs import MaskResult, Pair

OVERRIDE_HINT = (
    "or give this row a hand-made mask in the optional manifest column `mask_image` "
    "(white = repaint), which overrides automatic masking"
)


class MaskingStage:
    """Pose + person segmentation (+ optional SAM) -> `MaskResult`, or a `PairError` per pair.

    The region rule is documented in `tryon.masking.regions`; the SAM merge rule in
    `tryon.masking.sam`.
    """

    name = "masking"
    version = "1"

    def __init__(self, config: MaskingConfig, limits: ImageLimits):
        self.config = config
        self.limits = limits
        self._body: BodyAnalyzer | None = None
        self._sam = None

    def setup(self) -> None:
        if self._body is None:
            self._body = BodyAnalyzer(self.config.pose_min_confidence)
        if self.config.sam_checkpoint is not None and self._sam is None:
            import torch

            from tryon.masking.sam import SamRefiner

            device = "cuda" if torch.cuda.is_available() else "cpu"
            self._sam = SamRefiner.load(
                self.config.sam_checkpoint, self.config.sam_model_type, self.config.sam_sha256, device=device
            )

    def fingerprint(self) -> str:
        import mediapipe

        return stable_hash(
            self.name, self.version, mediapipe.__version__,
            self.config.margin_fraction, self.config.min_person_fraction, self.config.pose_min_confidence,
            self.config.working_long_side,
            self.config.sam_model_type if self.config.sam_checkpoint else None,
            self.config.sam_sha256 if self.config.sam_checkpoint else None,
            length=16,
        )

    def __call__(self, batch: Sequence[tuple[Pair, Image.Image]]) -> list[MaskResult | PairError]:
        self.setup()
        results: list[MaskResult | PairError] = []
        for pair, person in batch:
            try:
                results.append(self._mask_one(pair, person))
            except PairError as error:
                results.append(error)
        return results

    def _mask_one(self, pair: Pair, full_person: Image.Image) -> MaskResult:
        # 1. Analyse the body on a working-size copy (mediapipe shrinks its input to 256 px anyway),
        #    so time and memory stay bounded on very large photos; the masks are scaled up once, at the end.
        working_size = scale_to_long_side(full_person.size, self.config.working_long_side)
        person = shrink_image(full_person, working_size)
        rgb = np.ascontiguousarray(np.asarray(person.convert("RGB")))
        analysis, stats = self._body.analyse(rgb)

        # 2. A hand-made mask wins over everything automatic
        if pair.mask_image is not None:
            return self._manual(pair, full_person, _to_size(analysis.person_mask, full_person.size),
                                _scale_keypoints(analysis.keypoints, person.size, full_person.size))

        # 3. Refuse photos the automatic rule cannot handle
        where = f"{pair.label} person_image {pair.person_image}"
        if not analysis.keypoints or stats.person_fraction == 0.0:
            raise PairError("no_person", f"{where}: no person found; use a photo of one person, {OVERRIDE_HINT}")
        if stats.large_blobs > 1:
            raise PairError(
                "multiple_people",
                f"{where}: {stats.large_blobs} separate people-sized figures found; crop the photo to one person, "
                f"{OVERRIDE_HINT}",
            )
        if stats.person_fraction < self.config.min_person_fraction:
            raise PairError(
                "person_too_small",
                f"{where}: the person covers {stats.person_fraction:.1%} of the image, under "
                f"masking.min_person_fraction={self.config.min_person_fraction:.1%}; crop closer to the person, "
                f"{OVERRIDE_HINT}",
            )
        missing = missing_keypoints(analysis.keypoints, pair.category, person.size, self.config.pose_min_confidence)
        if missing:
            raise PairError(
                "person_cut_off",
                f"{where}: category {pair.category} needs {', '.join(missing)} visible in the frame; "
                f"use a photo showing them, {OVERRIDE_HINT}",
            )

        # 4. The pose-derived garment-agnostic region
        parts = mask_parts(
            analysis.keypoints, analysis.person_mask, pair.category,
            self.config.margin_fraction, self.config.pose_min_confidence,
        )
        garment_mask = parts.envelope(analysis.person_mask) & ~parts.protected
        mask_source = "auto"

        # 5. Optional SAM refinement inside the dilated pose region
        if self._sam is not None:
            garment_mask = self._sam.refine(
                rgb, garment_mask, parts, analysis.keypoints, pair.category, self.config.pose_min_confidence
            )
            mask_source = "auto+sam"
        return MaskResult(_to_size(garment_mask, full_person.size), _to_size(analysis.person_mask, full_person.size),
                          _scale_keypoints(analysis.keypoints, person.size, full_person.size), mask_source)

    def _manual(self, pair: Pair, person: Image.Image, person_mask: np.ndarray, keypoints) -> MaskResult:
        garment_mask = load_mask(pair.mask_image, size=person.size, limits=self.limits, label=f"{pair.label} mask_image")
        if not garment_mask.any():
            raise PairError(
                "empty_mask",
                f"{pair.label} mask_image {pair.mask_image}: the mask is all black, so nothing would be repainted; "
                "paint the garment area white, or clear the mask_image cell to use automatic masking",
            )
        if not person_mask.any():
            person_mask = np.ones(garment_mask.shape, bool)
        return MaskResult(garment_mask, person_mask, keypoints, "manual")

    def __getstate__(self) -> dict:
        # Shipped to workers before setup(); the mediapipe graphs and SAM are rebuilt there.
        return {**self.__dict__, "_body": None, "_sam": None}

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None


def _to_size(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A boolean mask scaled to `size` (width, height) with smooth edges (linear, then threshold)."""
    if mask.shape[::-1] == tuple(size):
        return mask
    scaled = cv2.resize(mask.astype(np.uint8) * 255, tuple(size), interpolation=cv2.INTER_LINEAR)
    return scaled >= 128


def _scale_keypoints(keypoints: dict, working_size: tuple[int, int], size: tuple[int, int]) -> dict:
    if working_size == size:
        return keypoints
    scale_x, scale_y = size[0] / working_size[0], size[1] / working_size[1]
    return {name: (x * scale_x, y * scale_y, visibility) for name, (x, y, visibility) in keypoints.items()}
