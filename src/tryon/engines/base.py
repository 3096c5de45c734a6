"""The engine contract shared by the preview and diffusion engines."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Hashable, Sequence

import numpy as np
from PIL import Image

from tryon.errors import PairError
from tryon.pairs import TryOnOutput, TryOnRequest


class Engine(ABC):
    """A try-on stage: `setup()` loads once per worker, `__call__` runs one batch.

    Subclasses set `name`, `needs_depth`, and say in `model_info()` what produced an image
    (model fingerprint, library versions) so each catalogue row can be reproduced.
    """

    name: str = "engine"
    version: str = "1"
    needs_depth: bool = False
    is_random_weights: bool = False  # True for test presets: rows say so

    def computes_on_cpu(self) -> bool:
        """True when generating keeps the CPU busy (a CPU engine): overlapping the CPU stages with it
        then only makes them compete for the same cores (`pipeline.overlap = "auto"`)."""
        return False

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Load models once per worker."""

    @abstractmethod
    def fingerprint(self) -> str:
        """Hash of model identity + parameters; part of the output cache key."""

    @abstractmethod
    def model_info(self) -> dict[str, Any]:
        """Columns recorded in every row: model_fingerprint, model_preset, versions."""

    def bucket(self, request: TryOnRequest) -> Hashable:
        """Requests with the same bucket may share a batch (same tensor shapes)."""
        return request.person.size

    @abstractmethod
    def __call__(self, batch: Sequence[TryOnRequest]) -> list[TryOnOutput | PairError]:
        """Run one batch; one entry per request, in order."""


def paste_back_unmasked(generated: Image.Image, person: Image.Image, mask: np.ndarray) -> Image.Image:
    """Keep every pixel outside the mask exactly as in the person image."""
    generated_array = np.asarray(generated.convert("RGB")).copy()
    person_array = np.asarray(person.convert("RGB"))
    keep = ~mask.astype(bool)
    generated_array[keep] = person_array[keep]
    return Image.fromarray(generated_array)


def check_output_sane(image: Image.Image, label: str) -> None:
    """Refuse blank or black outputs (the fp16 SDXL VAE NaN failure) instead of saving them."""
    array = np.asarray(image)
    if array.size == 0 or not np.isfinite(array).all():
        raise PairError("nan_output", f"{label}: the engine produced NaN/inf pixels; run in fp32 or use the fp16-fix VAE")
    if array.max() <= 3:
        raise PairError("nan_output", f"{label}: the engine produced an all-black image (NaN latents upstream); "
                        "run in fp32 or use the fp16-fix VAE, then `tryon rerun-failed`")
    if int(array.max()) - int(array.min()) <= 1:
        raise PairError("blank_output", f"{label}: the engine produced a blank single-colour image; check the mask and inputs")
