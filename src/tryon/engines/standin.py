"""A stand-in engine that sleeps like a GPU: for the pipeline benchmark and the overlap tests."""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
from PIL import Image

from tryon.engines.base import Engine
from tryon.images import rgb_pixels
from tryon.pairs import TryOnOutput, TryOnRequest

STANDIN_TINT = np.array([40, 90, 200], dtype=np.uint8)


class StandInEngine(Engine):
    """Sleeps `seconds_per_image` per request (time.sleep releases the GIL, as a CUDA call
    does), then returns the person with the garment mask painted a flat colour.

    The output is a pure function of the request, so a serial and an overlapped run of
    the same pairs must produce identical files.
    """

    name = "standin"
    version = "1"
    needs_depth = False

    def __init__(self, seconds_per_image: float = 0.0, fail_pair_ids: Sequence[str] = ()):
        self.seconds_per_image = seconds_per_image
        self.fail_pair_ids = set(fail_pair_ids)
        self.busy_seconds = 0.0
        self.cpu_seconds = 0.0
        self.images = 0

    def fingerprint(self) -> str:
        return f"standin-{self.version}"

    def model_info(self) -> dict[str, Any]:
        return {"model_preset": None, "model_fingerprint": None, "model_revisions": None, "random_weights": None}

    def __call__(self, batch: Sequence[TryOnRequest]) -> list[TryOnOutput]:
        started, started_cpu = time.perf_counter(), time.thread_time()
        time.sleep(self.seconds_per_image * len(batch))
        outputs = []
        for request in batch:
            if request.pair.pair_id in self.fail_pair_ids:
                raise RuntimeError(f"stand-in engine told to fail on {request.pair.pair_id}")
            person = request.person if request.person.mode == "RGB" else request.person.convert("RGB")
            pixels = rgb_pixels(person)
            pixels = pixels if pixels.flags.writeable else pixels.copy()
            pixels[request.mask.garment_mask] = STANDIN_TINT
            outputs.append(TryOnOutput(request.pair.pair_id, Image.fromarray(pixels),
                                       {"engine": self.name, "seconds_per_image": self.seconds_per_image}))
        self.busy_seconds += time.perf_counter() - started
        self.cpu_seconds += time.thread_time() - started_cpu  # its own painting: not the pipeline's CPU
        self.images += len(batch)
        return outputs
