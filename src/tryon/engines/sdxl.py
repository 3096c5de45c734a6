"""The diffusion try-on engine: SDXL inpainting + depth ControlNet + IP-Adapter garment prompt (+ LoRA)."""

from __future__ import annotations

import logging
from typing import Any, Hashable, Sequence

import numpy as np
from PIL import Image

from tryon.conditioning import normalize_control_image
from tryon.config import RunConfig
from tryon.engines.base import Engine, check_output_sane
from tryon.engines.crop import CropPlan, generated_to_crop, plan_crop, replace_crop, scaled_buckets, stitch
from tryon.engines.garment import GarmentEncoder
from tryon.errors import PairError, RunStoppingError, TryonError
from tryon.hashing import stable_hash
from tryon.models.fingerprint import model_info
from tryon.models.ip_adapter import select_ip_adapter
from tryon.models.lock import Preset, get_preset
from tryon.models.loader import LoadedPipeline, load_pipeline, model_files_fingerprint
from tryon.pairs import TryOnOutput, TryOnRequest

logger = logging.getLogger(__name__)

# config.sdxl.scheduler -> (diffusers class name, extra config)
SCHEDULERS: dict[str, tuple[str, dict]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "ddim": ("DDIMScheduler", {}),
}


class EngineOutOfMemoryError(RunStoppingError):
    """The host ran out of memory: no batch split can help, so the run stops with advice."""


def resolve_device(option: str) -> str:
    import torch

    if option == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if option == "cuda" and not torch.cuda.is_available():
        raise TryonError("device = 'cuda' but torch sees no CUDA device; use device = 'cpu' or 'auto'")
    return option


def _is_cpu_oom(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, MemoryError) or "can't allocate memory" in text or "not enough memory" in text


class SdxlEngine(Engine):
    """Loads the preset once in `setup()`; each call inpaints one bucket-shaped batch."""

    name = "sdxl"
    version = "1"
    needs_depth = True

    def computes_on_cpu(self) -> bool:
        return (self.device or resolve_device(self.config.device)) == "cpu"

    def __init__(self, config: RunConfig, preset: Preset | None = None):
        self.config = config
        self.settings = config.sdxl
        self.preset = select_ip_adapter(preset or get_preset(config.models), self.settings.ip_adapter)
        self.is_random_weights = self.preset.random_weights
        self.device: str | None = None
        self.loaded: LoadedPipeline | None = None
        self.garment_encoder: GarmentEncoder | None = None  # set up with the pipeline
        self._model_fingerprint: str | None = None
        self._versions: dict[str, str] | None = None
        self.lora_name = self.settings.lora
        self.lora_scale = self.settings.lora_scale
        self._check_lora(self.lora_name)

    # --- identity -------------------------------------------------------------------------

    def _check_lora(self, lora_name: str | None) -> None:
        if lora_name is not None and lora_name not in self.preset.loras:
            raise TryonError(f"sdxl.lora = {lora_name!r} is not a LoRA of preset {self.preset.name!r}; "
                             f"choose one of {sorted(self.preset.loras)} or leave it unset")

    def _identity(self) -> tuple[str, dict[str, str]]:
        if self._model_fingerprint is None:
            self._model_fingerprint, self._versions = model_files_fingerprint(self.preset)
        return self._model_fingerprint, self._versions

    def fingerprint(self) -> str:
        model_fingerprint, _ = self._identity()
        settings = self.settings.model_dump(mode="json") | {"lora": self.lora_name, "lora_scale": self.lora_scale}
        return stable_hash(self.name, self.version, model_fingerprint, settings, self.config.paste_back, length=32)

    def model_info(self) -> dict[str, Any]:
        model_fingerprint, versions = self._identity()
        return model_info(self.preset, model_fingerprint, versions)

    # --- setup ----------------------------------------------------------------------------

    def setup(self) -> None:
        """Load the pipeline, IP-Adapter and every LoRA of the preset once per worker."""
        if self.loaded is not None:
            return
        self.device = resolve_device(self.config.device)
        self.loaded = load_pipeline(self.preset, self.device)
        self._model_fingerprint, self._versions = self.loaded.fingerprint, self.loaded.versions
        pipeline = self.loaded.pipeline
        self.garment_encoder = GarmentEncoder(pipeline, self.device, self._model_fingerprint)
        if self.settings.scheduler != "default":
            import diffusers

            class_name, extra = SCHEDULERS[self.settings.scheduler]
            scheduler_class = getattr(diffusers, class_name)
            pipeline.scheduler = scheduler_class.from_config(pipeline.scheduler.config, **extra)
        if self.preset.random_weights:
            logger.warning("sdxl engine runs preset %r: RANDOM WEIGHTS, TEST ONLY", self.preset.name)

    def set_lora(self, lora_name: str | None, scale: float = 1.0) -> None:
        """Choose the LoRA for the next batches (None: none). Switches adapters; weights are never fused."""
        self._check_lora(lora_name)
        self.lora_name, self.lora_scale = lora_name, scale

    def _activate_lora(self) -> None:
        pipeline = self.loaded.pipeline
        if not self.loaded.lora_names:
            return
        if self.lora_name is None:
            pipeline.disable_lora()
        else:
            pipeline.enable_lora()
            pipeline.set_adapters([self.lora_name], adapter_weights=[self.lora_scale])

    # --- batches --------------------------------------------------------------------------

    def crop_plan(self, request: TryOnRequest) -> CropPlan:
        """Where this pair is inpainted: mask box + context, at the nearest bucket's aspect ratio."""
        buckets = scaled_buckets(self.settings.buckets, self.settings.resolution)
        return plan_crop(request.mask.garment_mask, buckets, self.settings.crop_margin)

    def bucket(self, request: TryOnRequest) -> Hashable:
        return self.crop_plan(request).bucket

    def parameters(self, request: TryOnRequest, size: tuple[int, int]) -> dict[str, Any]:
        settings = self.settings
        plan = self.crop_plan(request)
        return {
            "steps": settings.steps, "guidance_scale": settings.guidance_scale, "strength": settings.strength,
            "controlnet_conditioning_scale": settings.controlnet_conditioning_scale,
            "control_guidance_start": settings.control_guidance_start,
            "control_guidance_end": settings.control_guidance_end,
            "ip_adapter_scale": settings.ip_adapter_scale,
            "lora": self.lora_name, "lora_scale": self.lora_scale if self.lora_name else None,
            "scheduler": settings.scheduler, "scheduler_class": type(self.loaded.pipeline.scheduler).__name__,
            "resolution": list(size), "seed": request.seed, "prompt": request.prompt,
            "negative_prompt": settings.negative_prompt, "dtype": str(self.loaded.dtype).replace("torch.", ""),
            "device": self.device, "model_preset": self.preset.name, "random_weights": self.preset.random_weights,
            "paste_back": self.config.paste_back,
            "crop_box": list(plan.box), "bucket": list(plan.bucket), "crop_margin": settings.crop_margin,
            "feather_px": settings.feather_px, "depth_source": self.config.depth.source,
            "ip_adapter": "plus" if self.garment_encoder.patch_tokens else "plain",
        }

    def __call__(self, batch: Sequence[TryOnRequest]) -> list[TryOnOutput | PairError]:
        """Inpaint one batch of same-bucket requests; one output or PairError per request, in order."""
        if self.loaded is None:
            self.setup()
        results: list[TryOnOutput | PairError | None] = [None] * len(batch)
        # 1. Check inputs: every request must share the first one's bucket and carry a depth map
        ready = []
        size = self.bucket(batch[0]) if batch else None
        for index, request in enumerate(batch):
            if self.bucket(request) != size:
                raise ValueError(f"{request.pair.label}: bucket {self.bucket(request)} differs from the batch's "
                                 f"{size}; group requests with engine.bucket() before calling")
            if request.depth is None:
                results[index] = PairError("missing_depth", f"{request.pair.label}: the sdxl engine needs a depth "
                                           f"map (person image {request.pair.person_image}); run the depth stage")
                continue
            ready.append(index)
        # 2. Generate, halving the batch on CUDA out-of-memory
        self._activate_lora()
        self.loaded.pipeline.set_ip_adapter_scale(self.settings.ip_adapter_scale)
        generated = self._generate_splitting([batch[index] for index in ready], size)
        # 3. Back to the person's size, paste unmasked pixels back, refuse NaN/black outputs
        for index, (array, oom_splits) in zip(ready, generated):
            request = batch[index]
            if isinstance(array, PairError):
                results[index] = array
                continue
            results[index] = self._finish(request, array, size, oom_splits)
        return results

    def _finish(self, request: TryOnRequest, array: np.ndarray, size, oom_splits: int) -> TryOnOutput | PairError:
        label = f"{request.pair.label}, person image {request.pair.person_image}"
        try:
            if not np.isfinite(array).all():
                raise PairError("nan_output", f"{label}: the engine produced NaN/inf pixels; run in fp32 or use the "
                                "fp16-fix VAE, then `tryon rerun-failed`")
            image = Image.fromarray((array * 255.0).round().clip(0, 255).astype(np.uint8))
            check_output_sane(image, label)
        except PairError as error:
            return error
        # Back to the crop's size, into the photo: raw (crop replaced as is) and stitched (feathered inside the mask)
        plan = self.crop_plan(request)
        crop = generated_to_crop(image, plan)
        raw_image = replace_crop(request.person, crop, plan)
        image = raw_image
        if self.config.paste_back:
            image = stitch(request.person, crop, plan, request.mask.garment_mask, self.settings.feather_px)
        parameters = self.parameters(request, size) | {"oom_splits": oom_splits}
        return TryOnOutput(pair_id=request.pair.pair_id, image=image, parameters=parameters, raw_image=raw_image)

    def _generate_splitting(self, requests: list[TryOnRequest], size, splits: int = 0) -> list[tuple[Any, int]]:
        if not requests:
            return []
        import torch

        try:
            return [(array, splits) for array in self._generate(requests, size)]
        except torch.cuda.OutOfMemoryError:
            pass  # recover below: the traceback held here keeps the failed call's tensors alive
        except (MemoryError, RuntimeError) as error:
            if _is_cpu_oom(error):
                raise EngineOutOfMemoryError(
                    f"host memory ran out generating {len(requests)} images at {size[0]}x{size[1]} on {self.device}; "
                    "lower batch_size or sdxl.resolution, or run on a GPU") from error
            raise
        # Out of the except block, the exception and its frames are gone, so empty_cache can free them.
        torch.cuda.empty_cache()
        if len(requests) == 1:
            request = requests[0]
            error = PairError("out_of_memory", f"{request.pair.label}: CUDA out of memory even alone at "
                              f"{size[0]}x{size[1]}; lower sdxl.resolution or use a larger GPU")
            return [(error, splits)]
        half = len(requests) // 2
        logger.warning("CUDA out of memory on a batch of %d; retrying as %d + %d", len(requests), half,
                       len(requests) - half)
        return (self._generate_splitting(requests[:half], size, splits + 1)
                + self._generate_splitting(requests[half:], size, splits + 1))

    def _inputs(self, request: TryOnRequest, size: tuple[int, int]) -> dict[str, Image.Image]:
        """The crop of person, mask and depth, resized to the bucket canvas `size`."""
        box = self.crop_plan(request).box
        garment_mask = Image.fromarray(request.mask.garment_mask.astype(np.uint8) * 255).crop(box)
        # Bilinear then "any coverage": a thin strap the resize would drop stays inside the inpaint mask.
        mask_canvas = garment_mask.resize(size, Image.BILINEAR).point(lambda value: 255 if value > 0 else 0)
        depth = normalize_control_image(request.depth, request.person.size).crop(box)
        return {
            "image": request.person.convert("RGB").crop(box).resize(size, Image.LANCZOS),
            "mask_image": mask_canvas,
            "control_image": normalize_control_image(depth, size),
        }

    def _garment_embeds(self, requests: list[TryOnRequest], guided: bool):
        """IP-Adapter embeddings laid out as the UNet reads them: (2B, 1, ...) = [B negatives, B positives].

        One image per sample (the 1), never the batch's garments as several images of one prompt;
        PerSampleGarmentPipeline passes this tensor on without repeating it.
        """
        import torch

        encoder = self.garment_encoder
        positives = np.stack([request.garment_embedding if request.garment_embedding is not None
                              else encoder([request.garment])[0] for request in requests])
        embeds = torch.from_numpy(positives)[:, None]
        if guided:
            negatives = np.stack([encoder.negative()] * len(requests))
            embeds = torch.cat([torch.from_numpy(negatives)[:, None], embeds])
        return embeds.to(device=self.device, dtype=self.loaded.pipeline.unet.dtype)

    def _generate(self, requests: list[TryOnRequest], size: tuple[int, int]) -> list[np.ndarray]:
        """One pipeline call; float HxWx3 arrays in [0, 1] (NaN kept, so it can be reported)."""
        import torch

        pipeline = self.loaded.pipeline
        settings = self.settings
        width, height = size
        inputs = [self._inputs(request, size) for request in requests]
        ip_embeds = self._garment_embeds(requests, settings.guidance_scale > 1)
        # One generator per sample, seeded from the pair: an image never depends on its batch-mates.
        generators = [torch.Generator(device="cpu").manual_seed(request.seed) for request in requests]
        output = pipeline(
            prompt=[request.prompt for request in requests],
            negative_prompt=[settings.negative_prompt] * len(requests),
            image=[item["image"] for item in inputs],
            mask_image=[item["mask_image"] for item in inputs],
            control_image=[item["control_image"] for item in inputs],
            ip_adapter_image_embeds=[ip_embeds],
            height=height, width=width,
            num_inference_steps=settings.steps, guidance_scale=settings.guidance_scale, strength=settings.strength,
            controlnet_conditioning_scale=settings.controlnet_conditioning_scale,
            control_guidance_start=settings.control_guidance_start, control_guidance_end=settings.control_guidance_end,
            generator=generators, output_type="np",
        )
        return list(output.images)
