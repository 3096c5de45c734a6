"""Loading single-file checkpoints (MiDaS, SAM) safely: hash check first, tensors only."""

from __future__ import annotations

from pathlib import Path

import torch

from tryon.errors import ModelUnavailableError
from tryon.hashing import sha256_file


def verify_sha256(path: Path, expected: str | None, setting: str) -> None:
    """Refuse a file whose sha256 differs from the configured one (`setting` names the option)."""
    if expected is None:
        return
    actual = sha256_file(path)
    if actual != expected.lower():
        raise ModelUnavailableError(
            f"{path} has sha256 {actual}, but {setting} expects {expected}; the file is corrupt or not "
            f"the pinned one: delete it and download it again, or fix {setting}"
        )


def load_tensors(path: Path, what: str) -> dict[str, torch.Tensor]:
    """`torch.load(weights_only=True)`: a checkpoint that needs unpickling code is refused."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - unpickling errors have many types
        raise ModelUnavailableError(
            f"{what} {path} cannot be loaded as plain weights ({type(error).__name__}: {error}); "
            "it is refused rather than unpickled unsafely: use the pinned checkpoint"
        ) from None
