"""Shape rules every engine input obeys: control images at the inpaint size with 3 channels,
canvases in multiples of 8, and per-pair seeds that do not depend on batch-mates."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tryon.hashing import sha256_bytes


def normalize_control_image(control: Image.Image | np.ndarray, size: tuple[int, int]) -> Image.Image:
    """Return `control` as an RGB image of exactly `size` (width, height).

    MiDaS returns depth at its own resolution and often with one channel; ControlNet then
    fails with a tensor shape mismatch. Every consumer goes through here first.
    """
    if isinstance(control, np.ndarray):
        array = control
        if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
            array = np.moveaxis(array, 0, -1)  # CHW -> HWC
        if array.ndim == 3 and array.shape[-1] == 1:
            array = array[..., 0]
        if array.dtype != np.uint8:
            array = array.astype(np.float64)
            low, high = float(np.nanmin(array)), float(np.nanmax(array))
            scale = (high - low) or 1.0
            array = np.nan_to_num((array - low) / scale * 255.0).round().clip(0, 255).astype(np.uint8)
        control = Image.fromarray(array)
    if control.mode != "RGB":
        control = control.convert("L").convert("RGB") if control.mode not in ("RGBA", "P") else control.convert("RGB")
    if control.size != tuple(size):
        control = control.resize(tuple(size), Image.BICUBIC)
    return control


def bucket_size(width: int, height: int, longest_side: int) -> tuple[int, int]:
    """Canvas (width, height) with the image's aspect ratio, longest side `longest_side`,
    both sides multiples of 8 (what the VAE's downsampling needs)."""
    scale = longest_side / max(width, height)
    bucket_w = max(8, int(round(width * scale / 8.0)) * 8)
    bucket_h = max(8, int(round(height * scale / 8.0)) * 8)
    return bucket_w, bucket_h


def derive_seed(pair_id: str) -> int:
    """A stable 63-bit seed from the pair id, used when the manifest gives none."""
    return int(sha256_bytes(pair_id.encode("utf-8"))[:15], 16)


def build_prompt(template: str, category: str, garment_description: str | None, prompt: str | None) -> str:
    """The manifest's prompt wins; else the template filled with the description or category."""
    if prompt:
        return prompt
    readable_category = category.replace("_", " ")
    garment = garment_description or f"the garment ({readable_category})"
    return template.format(garment=garment, category=readable_category)
