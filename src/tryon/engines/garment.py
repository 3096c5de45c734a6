"""Garment image -> IP-Adapter image-encoder embedding, one garment at a time, cacheable by content."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from tryon.hashing import stable_hash

GARMENT_BACKGROUND = (255, 255, 255)


def pad_to_square(garment: Image.Image, background: tuple[int, int, int] = GARMENT_BACKGROUND) -> Image.Image:
    """The garment centred on a plain square canvas.

    CLIP's image processor resizes the short side and centre-crops: a tall dress would lose its hem
    and neckline. Padded to a square first, the whole garment reaches the encoder.
    """
    garment = garment.convert("RGB")
    side = max(garment.size)
    canvas = Image.new("RGB", (side, side), background)
    canvas.paste(garment, ((side - garment.width) // 2, (side - garment.height) // 2))
    return canvas


class GarmentEncoder:
    """The image-encoder side of the IP-Adapter, as a stage whose output depends only on garment bytes.

    Plain IP-Adapter takes the encoder's pooled `image_embeds` (one vector: colour and style); IP-Adapter
    Plus takes the patch tokens of the penultimate layer (`hidden_states[-2]`), which carry stripes,
    checks and logos. Garments are encoded one by one, never batched, so an embedding (and the image
    made from it) cannot depend on which garments happened to share a batch; a garment is encoded
    once per catalogue anyway, because the runner keeps the result in its content-hash cache.
    """

    name = "garment_encode"
    version = "1"

    def __init__(self, pipeline, device: str, model_fingerprint: str):
        from diffusers.models.embeddings import ImageProjection

        self.pipeline = pipeline
        self.device = device
        self.model_fingerprint = model_fingerprint
        projection = pipeline.unet.encoder_hid_proj.image_projection_layers[0]
        self.patch_tokens = not isinstance(projection, ImageProjection)
        self.encoded = 0  # garments run through the encoder (cache hits excluded), for the run record
        self._negative: np.ndarray | None = None

    def setup(self) -> None:
        """Loaded with the engine's pipeline."""

    def fingerprint(self) -> str:
        return stable_hash(self.name, self.version, self.model_fingerprint, self.patch_tokens, GARMENT_BACKGROUND,
                           length=16)

    def __call__(self, batch: Sequence[Image.Image]) -> list[np.ndarray]:
        embeddings = []
        for garment in batch:
            positive, _ = self._encode(pad_to_square(garment))
            embeddings.append(positive)
            self.encoded += 1
        return embeddings

    def negative(self) -> np.ndarray:
        """The unconditional embedding (what classifier-free guidance steers away from), the same for all garments."""
        if self._negative is None:
            _, self._negative = self._encode(pad_to_square(Image.new("RGB", (8, 8), GARMENT_BACKGROUND)))
        return self._negative

    def _encode(self, square: Image.Image) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.no_grad():
            positive, negative = self.pipeline.encode_image([square], self.device, 1, self.patch_tokens)
        return (positive[0].float().cpu().numpy(), negative[0].float().cpu().numpy())
