"""Find the pinned MiDaS checkpoint in the local Hugging Face cache and build the model from it safely."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch

from tryon.config import DepthConfig
from tryon.errors import ConfigError, ModelUnavailableError
from tryon.models.checkpoints import load_tensors

COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
# controlnet-aux's DPT backbones are built by timm with pretrained=False: nothing is fetched.
# midas_v21 / midas_v21_small fetch their backbone code through torch.hub (GitHub) even for
# random weights, which an offline worker cannot do.
DPT_BACKBONES = {"dpt_hybrid": "vitb_rn50_384", "dpt_large": "vitl16_384"}


def pull_command(config: DepthConfig) -> str:
    return (
        f"huggingface-cli download {config.repo_id} {config.filename} --revision {config.revision}"
    )


def locate_checkpoint(config: DepthConfig, cache_dir: str | Path | None = None) -> Path:
    """Path of the checkpoint in the local HF cache; never touches the network."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    if not COMMIT_SHA.match(config.revision):
        raise ConfigError(
            f"depth.revision {config.revision!r} is not a 40-character commit SHA; pin the commit so the weights cannot move"
        )
    try:
        path = hf_hub_download(
            config.repo_id, config.filename, revision=config.revision, cache_dir=cache_dir, local_files_only=True
        )
    except (LocalEntryNotFoundError, FileNotFoundError, OSError) as error:
        raise ModelUnavailableError(
            f"depth checkpoint {config.repo_id}@{config.revision} file {config.filename} is not in the local "
            f"Hugging Face cache ({cache_dir or 'HF_HUB_CACHE'}): {type(error).__name__}. On a machine with hub access run "
            f"`{pull_command(config)}` and copy the cache to this worker"
        ) from None
    return Path(path)


def build_depth_model(model_type: str, checkpoint: Path) -> torch.nn.Module:
    """controlnet-aux's DPT model for `model_type`, weights loaded with weights_only=True."""
    from controlnet_aux.midas.midas.dpt_depth import DPTDepthModel

    if model_type not in DPT_BACKBONES:
        raise ModelUnavailableError(
            f"depth.model_type {model_type!r} needs torch.hub to fetch backbone code from GitHub, which offline "
            f"workers cannot do; use one of {sorted(DPT_BACKBONES)}"
        )
    state = load_tensors(checkpoint, "depth checkpoint")
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
