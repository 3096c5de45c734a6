"""The depth stage: person image -> RGB depth control image at the person's size."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from tryon.conditioning import normalize_control_image
from tryon.config import DepthConfig
from tryon.errors import PairError
from tryon.hashing import stable_hash
from tryon.models.lock import Preset


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class DepthStage:
    """MiDaS (DPT) relative depth, min-max scaled to 0-255 and made RGB at the input size."""

    name = "depth"
    version = "1"

    def __init__(self, config: DepthConfig, preset: Preset, device: str = "auto", cache_dir: str | Path | None = None):
        self.config = config
        self.preset = preset  # its `depth` component pins the checkpoint
        self.device = resolve_device(device)
        self.cache_dir = cache_dir
        self._model: torch.nn.Module | None = None

    def setup(self) -> None:
        if self._model is not None:
            return
        from tryon.depth.checkpoint import build_depth_model, verified_checkpoint
        from tryon.models.registry import hub_cache_dir

        # The hub cache is read from the environment now, as the model loader does (huggingface_hub
        # itself fixes it at import), so workers and tests can point HF_HOME elsewhere.
        checkpoint = verified_checkpoint(self.preset, Path(self.cache_dir or hub_cache_dir()))
        self._model = build_depth_model(self.config.model_type, checkpoint).to(self.device)

    def __getstate__(self) -> dict:
        # Shipped to workers before setup(); the model is loaded there.
        return {**self.__dict__, "_model": None}

    def fingerprint(self) -> str:
        config, checkpoint = self.config, self.preset.components["depth"]
        return stable_hash(
            self.name, self.version, checkpoint.pinned, [(pinned.path, pinned.sha256) for pinned in checkpoint.files],
            config.model_type, config.detect_resolution, length=16,
        )

    def __call__(self, batch: Sequence[Image.Image]) -> list[Image.Image | PairError]:
        self.setup()
        # Sizes differ from photo to photo, so images go through one at a time.
        return [self._depth_one(person) for person in batch]

    @torch.inference_mode()
    def _depth_one(self, person: Image.Image) -> Image.Image:
        from controlnet_aux.util import resize_image

        # 1. Resize so the short side is detect_resolution (sides multiples of 64, as controlnet-aux does)
        rgb = resize_image(np.asarray(person.convert("RGB")), self.config.detect_resolution)
        # 2. Scale to [-1, 1], the DPT models' normalisation
        pixels = torch.from_numpy(rgb).to(self.device, torch.float32).permute(2, 0, 1)[None] / 127.5 - 1.0
        # 3. Predict relative inverse depth (near = bright)
        depth = self._model(pixels)[0].float().cpu().numpy()
        # 4. Min-max to 8 bits, 3 channels, the person's exact size
        return normalize_control_image(depth, person.size)
