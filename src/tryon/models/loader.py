"""Load a preset's pinned components from the local HF cache into one SDXL ControlNet inpainting pipeline.

Every component goes through `from_pretrained(repo_id, revision=<commit sha>, ...)` with
`local_files_only=True`: loading never downloads (that is `tryon models pull`), never runs remote
code, and reads safetensors only.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

from tryon.errors import ModelUnavailableError
from tryon.models.fingerprint import FileHashCache, HASH_CACHE_NAME, library_versions, model_fingerprint
from tryon.models.integrity import require_verified
from tryon.models.lock import TENSOR_CHECKPOINT_ROLES, Component, Preset
from tryon.models.registry import hub_cache_dir

logger = logging.getLogger(__name__)


@dataclass
class LoadedPipeline:
    """A ready pipeline plus what identifies it in the catalogue."""

    pipeline: object  # StableDiffusionXLControlNetInpaintPipeline
    preset: Preset
    fingerprint: str
    versions: dict[str, str]
    lora_names: tuple[str, ...]
    dtype: object  # torch.dtype
    device: str


def torch_dtype_for(component: Component, device: str, random_weights: bool = False):
    """The lock's dtype on an accelerator; float32 on the CPU (half precision there is slow and lossy).

    Test presets (random weights, tiny) run in float64 on the CPU: BLAS picks its kernel by matrix
    shape, so a batch of 4 sums in another order than a batch of 1 (~1e-7 relative in float32), which
    can flip an 8-bit rounding. In float64 that noise (~1e-16) cannot reach an 8-bit level, so the
    batch-independence tests see only real dependence between batch-mates.
    """
    import torch

    if device == "cpu":
        return torch.float64 if random_weights else torch.float32
    return getattr(torch, component.torch_dtype)


def component_dtypes(preset: Preset, device: str) -> dict[str, object]:
    """Each component's torch dtype from the lock; refused when they cannot run together.

    The pipeline hands tensors from the text and image encoders to the ControlNet, the UNet and the
    VAE without casting them, so a mixed set fails deep inside the first step; say so at load instead.
    """
    # Depth and SAM checkpoints are loaded by their own stages, outside the pipeline, in their own dtype.
    dtypes = {name: torch_dtype_for(component, device, preset.random_weights)
              for name, component in preset.components.items() if name not in TENSOR_CHECKPOINT_ROLES}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name}={str(dtype).replace('torch.', '')}" for name, dtype in sorted(dtypes.items()))
        raise ModelUnavailableError(
            f"preset {preset.name!r} mixes torch dtypes ({listed}); the SDXL pipeline passes tensors between these "
            "components uncast, so give them one torch_dtype in models.lock.toml")
    return dtypes


def _pretrained(cls, component: Component, cache_dir: Path, dtype, subfolder: str | None = None, *,
                transformers_model: bool = False, weights: bool = True):
    kwargs = dict(revision=component.revision, cache_dir=str(cache_dir), local_files_only=True)
    subfolder = subfolder if subfolder is not None else component.subfolder
    if subfolder:
        kwargs["subfolder"] = subfolder
    if weights:
        kwargs["use_safetensors"] = True
        if component.variant:
            kwargs["variant"] = component.variant
        # transformers renamed torch_dtype to dtype; diffusers still calls it torch_dtype
        kwargs["dtype" if transformers_model else "torch_dtype"] = dtype
    try:
        return cls.from_pretrained(component.repo_id, **kwargs)
    except (OSError, ValueError) as error:
        raise ModelUnavailableError(
            f"cannot load {component.name} ({component.pinned}, subfolder {subfolder!r}) from {cache_dir}: {error}; "
            "run `tryon models verify <preset>` and `tryon models pull <preset>`") from error


def model_files_fingerprint(preset: Preset, cache_dir: Path | None = None) -> tuple[str, dict[str, str]]:
    """Fingerprint of the cached pinned files (no model is loaded).

    Every pinned file must be present with its pinned size and sha256, else ModelUnavailableError
    names the file. Hashes are remembered by (size, mtime), so a warm start does not re-hash.
    """
    cache_dir = Path(cache_dir or hub_cache_dir())
    versions = library_versions()
    hash_cache = FileHashCache(cache_dir / HASH_CACHE_NAME)
    try:
        digests = require_verified(preset, cache_dir, hash_cache.sha256)
    finally:
        hash_cache.save()
    return model_fingerprint(preset, digests, versions), versions


def load_pipeline(preset: Preset, device: str, cache_dir: Path | None = None) -> LoadedPipeline:
    """Build the try-on pipeline from `preset`, with IP-Adapter and every LoRA loaded (not active)."""
    from diffusers import AutoencoderKL, ControlNetModel, EulerDiscreteScheduler, UNet2DConditionModel
    from transformers import (CLIPImageProcessor, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer,
                              CLIPVisionModelWithProjection)

    cache_dir = Path(cache_dir or hub_cache_dir())
    fingerprint, versions = model_files_fingerprint(preset, cache_dir)
    if preset.random_weights:
        logger.warning("model preset %r has RANDOM WEIGHTS (test only): outputs are noise", preset.name)
    base = preset.components["base"]
    dtypes = component_dtypes(preset, device)
    dtype = dtypes["base"]

    # 1. Base pipeline parts from the inpainting repo
    unet = _pretrained(UNet2DConditionModel, base, cache_dir, dtype, "unet")
    text_encoder = _pretrained(CLIPTextModel, base, cache_dir, dtype, "text_encoder", transformers_model=True)
    text_encoder_2 = _pretrained(CLIPTextModelWithProjection, base, cache_dir, dtype, "text_encoder_2",
                                 transformers_model=True)
    tokenizer = _pretrained(CLIPTokenizer, base, cache_dir, dtype, "tokenizer", weights=False)
    tokenizer_2 = _pretrained(CLIPTokenizer, base, cache_dir, dtype, "tokenizer_2", weights=False)
    scheduler = _pretrained(EulerDiscreteScheduler, base, cache_dir, dtype, "scheduler", weights=False)

    # 2. Separate repos: depth ControlNet, fp16-safe VAE, CLIP image encoder
    controlnet = _pretrained(ControlNetModel, preset.components["controlnet"], cache_dir, dtypes["controlnet"])
    vae = _pretrained(AutoencoderKL, preset.components["vae"], cache_dir, dtypes["vae"])
    # Loaded here rather than by load_ip_adapter, which would not pass our pinned revision on.
    image_encoder = _pretrained(CLIPVisionModelWithProjection, preset.components["image_encoder"], cache_dir,
                                dtypes["image_encoder"], transformers_model=True)
    image_size = image_encoder.config.image_size
    from tryon.models.pipeline import PerSampleGarmentPipeline

    pipeline = PerSampleGarmentPipeline(
        vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2, tokenizer=tokenizer,
        tokenizer_2=tokenizer_2, unet=unet, controlnet=controlnet, scheduler=scheduler,
        image_encoder=image_encoder, feature_extractor=CLIPImageProcessor(size=image_size, crop_size=image_size),
        requires_aesthetics_score=False, force_zeros_for_empty_prompt=True,
    )

    # 3. IP-Adapter projection + attention processors
    ip_adapter = preset.components["ip_adapter"]
    try:
        pipeline.load_ip_adapter(ip_adapter.repo_id, subfolder=ip_adapter.subfolder or "",
                                 weight_name=ip_adapter.weight_name, revision=ip_adapter.revision,
                                 cache_dir=str(cache_dir), local_files_only=True, image_encoder_folder=None)
    except (OSError, ValueError) as error:
        raise ModelUnavailableError(f"cannot load IP-Adapter {ip_adapter.pinned}: {error}; "
                                    f"run `tryon models verify {preset.name}`") from error

    # 4. Every LoRA once, by adapter name; engines switch with set_adapters (never fuse)
    for name, lora in preset.loras.items():
        try:
            with warnings.catch_warnings():
                # several named adapters on one model is the design, not the accident peft warns about
                warnings.filterwarnings("ignore", message="Already found a `peft_config`")
                pipeline.load_lora_weights(lora.repo_id, weight_name=lora.weight_name, revision=lora.revision,
                                           subfolder=lora.subfolder, cache_dir=str(cache_dir),
                                           local_files_only=True, adapter_name=name)
        except (OSError, ValueError) as error:
            raise ModelUnavailableError(f"cannot load LoRA {name!r} ({lora.pinned}): {error}; "
                                        f"run `tryon models verify {preset.name}`") from error
    if preset.loras:
        pipeline.disable_lora()

    pipeline.to(device=device)
    pipeline.set_progress_bar_config(disable=True)
    return LoadedPipeline(pipeline=pipeline, preset=preset, fingerprint=fingerprint, versions=versions,
                          lora_names=tuple(preset.loras), dtype=dtype, device=device)
