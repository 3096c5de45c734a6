"""Find the pinned MiDaS checkpoint in the local Hugging Face cache, check it, and build the model from it safely."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from tryon.errors import ModelUnavailableError
from tryon.models.checkpoints import load_tensors
from tryon.models.fingerprint import FileHashCache, HASH_CACHE_NAME
from tryon.models.integrity import require_verified
from tryon.models.lock import Component, Preset
from tryon.models.registry import local_file

# controlnet-aux's DPT backbones are built by timm with pretrained=False: nothing is fetched.
# midas_v21 / midas_v21_small fetch their backbone code through torch.hub (GitHub) even for
# random weights, which an offline worker cannot do.
DPT_BACKBONES = {"dpt_hybrid": "vitb_rn50_384", "dpt_large": "vitl16_384"}


def verified_checkpoint(preset: Preset, cache_dir: Path) -> Path:
    """Local path of the preset's depth checkpoint once its size and sha256 match the lock (hashes are
    remembered by size and mtime); ModelUnavailableError names the file and what to run otherwise."""
    component: Component = preset.components["depth"]
    hash_cache = FileHashCache(Path(cache_dir) / HASH_CACHE_NAME)
    try:
        require_verified(preset, Path(cache_dir), hash_cache.sha256, components=[component])
    finally:
        hash_cache.save()
    return local_file(component, component.weight_path, Path(cache_dir))


def _read_state(checkpoint: Path) -> dict:
    if checkpoint.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(checkpoint))
    return load_tensors(checkpoint, "depth checkpoint")


def build_depth_model(model_type: str, checkpoint: Path) -> torch.nn.Module:
    """controlnet-aux's DPT model for `model_type`, weights loaded with weights_only=True."""
    from controlnet_aux.midas.midas.dpt_depth import DPTDepthModel

    if model_type not in DPT_BACKBONES:
        raise ModelUnavailableError(
            f"depth.model_type {model_type!r} needs torch.hub to fetch backbone code from GitHub, which offline "
            f"workers cannot do; use one of {sorted(DPT_BACKBONES)}"
        )
    state = _read_state(checkpoint)
    if isinstance(state, dict) and "optimizer" in state:  # training checkpoints keep the weights under "model"
        state = state["model"]
    state = {key: value.float() if value.is_floating_point() else value for key, value in state.items()}
    # Build on the meta device and adopt the loaded tensors: random init of ~120M parameters
    # would cost seconds for values that are overwritten anyway.
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")  # timm's notice that the old backbone name was renamed
        model = DPTDepthModel(path=None, backbone=DPT_BACKBONES[model_type], non_negative=True)
    model.load_state_dict(state, strict=True, assign=True)
    left_on_meta = [name for name, tensor in (*model.named_parameters(), *model.named_buffers()) if tensor.is_meta]
    if left_on_meta:
        raise ModelUnavailableError(
            f"depth checkpoint {checkpoint} lacks tensors the {model_type} model needs: {', '.join(left_on_meta[:5])}"
        )
    return model.eval()
