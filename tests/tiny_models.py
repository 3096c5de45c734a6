"""Fixtures for the random-weight `tiny` model preset: built once per session into a temp HF cache.

Import the fixtures into a test module (`from tests.tiny_models import tiny_hf_home, tiny_env`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tryon.config import RunConfig
from tryon.models.tiny import build_tiny
from tryon.pairs import MaskResult, Pair, TryOnRequest


@pytest.fixture(scope="session")
def tiny_hf_home(tmp_path_factory) -> Path:
    """HF_HOME holding the tiny preset (idempotent: modules importing this share one build)."""
    return build_tiny(tmp_path_factory.getbasetemp() / "tiny-hf-home")


def use_hf_home(monkeypatch, hf_home: Path) -> None:
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("TRYON_MODELS_LOCK", raising=False)


@pytest.fixture
def tiny_env(monkeypatch, tiny_hf_home) -> Path:
    """This test sees the tiny cache as its HF_HOME, offline."""
    use_hf_home(monkeypatch, tiny_hf_home)
    return tiny_hf_home


def tiny_config(**sdxl) -> RunConfig:
    settings = {"steps": 2, "resolution": 64, "guidance_scale": 5.0} | sdxl
    return RunConfig(engine="sdxl", models="tiny", device="cpu", sdxl=settings)


def make_request(index: int, size=(64, 48), seed: int | None = None, prompt: str = "a red shirt",
                 depth="same") -> TryOnRequest:
    """A request with random person/garment pixels and a rectangular garment mask."""
    width, height = size
    random = np.random.RandomState(index)
    person = Image.fromarray((random.rand(height, width, 3) * 255).astype(np.uint8))
    garment = Image.fromarray((random.rand(40, 32, 3) * 255).astype(np.uint8))
    garment_mask = np.zeros((height, width), dtype=bool)
    garment_mask[height // 4: 3 * height // 4, width // 4: 3 * width // 4] = True
    person_mask = np.ones((height, width), dtype=bool)
    if isinstance(depth, str) and depth == "same":
        depth = Image.fromarray((random.rand(height, width, 3) * 255).astype(np.uint8))
    pair = Pair(pair_id=f"pair-{index}", row_index=index, person_image=Path(f"person-{index}.png"),
                garment_image=Path(f"garment-{index}.png"), category="upper_body", seed=index,
                person_sha256="0" * 64, garment_sha256="1" * 64)
    return TryOnRequest(pair=pair, person=person, garment=garment,
                        mask=MaskResult(garment_mask, person_mask, {}, "manual"), depth=depth,
                        seed=index if seed is None else seed, prompt=prompt)
