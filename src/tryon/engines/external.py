"""Outputs made elsewhere (an earlier run, IDM-VTON, CatVTON, a vendor), judged like our own.

`ExternalOutputs` is an engine only in shape: for each request it returns the try-on named in
the manifest's `output_image` column, so decoding, masking, metrics, the quality gate and the
catalogue writes are exactly those of `tryon run`.
"""

from __future__ import annotations

from typing import Any, Sequence

from PIL import Image

from tryon.config import ImageLimits
from tryon.engines.base import Engine
from tryon.errors import PairError
from tryon.hashing import stable_hash
from tryon.images import load_rgb
from tryon.pairs import TryOnOutput, TryOnRequest

# A try-on within this relative aspect-ratio difference of the person photo is resized onto it
# (a system that works at 768x1024 on a 1536x2048 photo); beyond it the framing differs and
# pixel-wise comparisons with the photo would be meaningless.
MAX_ASPECT_DIFFERENCE = 0.03


class ExternalOutputs(Engine):
    """Hands back each pair's `output_image`, at the person photo's size (Lanczos when resized)."""

    version = "1"
    needs_depth = False

    def __init__(self, name: str = "external", limits: ImageLimits = ImageLimits()):
        self.name = name
        self.limits = limits

    def fingerprint(self) -> str:
        return stable_hash("external", self.name, self.version, length=16)

    def model_info(self) -> dict[str, Any]:
        return {
            "model_preset": None, "model_fingerprint": self.fingerprint(), "model_revisions": "{}",
            "diffusers_version": None, "transformers_version": None, "torch_version": None,
            "random_weights": False,
        }

    def __call__(self, batch: Sequence[TryOnRequest]) -> list[TryOnOutput | PairError]:
        results: list[TryOnOutput | PairError] = []
        for request in batch:
            try:
                results.append(self.load(request))
            except PairError as error:
                results.append(error)
        return results

    def load(self, request: TryOnRequest) -> TryOnOutput:
        pair = request.pair
        if pair.output_image is None:
            raise PairError("missing_output", f"{pair.label}: column 'output_image' is empty; give the path of the "
                            "try-on image to score")
        output = load_rgb(pair.output_image, limits=self.limits, label=f"{pair.label} output_image")
        width, height = request.person.size
        parameters: dict[str, Any] = {"engine": self.name, "source_image": str(pair.output_image),
                                      "source_sha256": pair.output_sha256, "output_resized_from": None}
        if output.size != (width, height):
            output_ratio, person_ratio = output.width / output.height, width / height
            if abs(output_ratio / person_ratio - 1.0) > MAX_ASPECT_DIFFERENCE:
                raise PairError(
                    "output_aspect_mismatch",
                    f"{pair.label} output_image {pair.output_image}: {output.width}x{output.height} has aspect ratio "
                    f"{output_ratio:.3f}, the person photo {pair.person_image} {width}x{height} has {person_ratio:.3f} "
                    f"(more than {MAX_ASPECT_DIFFERENCE:.0%} apart); give the try-on made from this photo, uncropped")
            parameters["output_resized_from"] = f"{output.width}x{output.height}"
            output = output.resize((width, height), Image.Resampling.LANCZOS)
        return TryOnOutput(pair_id=pair.pair_id, image=output, parameters=parameters)
