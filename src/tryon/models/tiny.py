"""Build the `tiny` preset: deterministic RANDOM-WEIGHT, TEST-ONLY models written into a real HF cache.

Every component a run loads exists here in miniature (inpainting UNet, depth ControlNet, VAE, two
CLIP text encoders and byte-level tokenizers, CLIP image encoder, IP-Adapter, two LoRAs) plus a
random-weight MiDaS DPT-Hybrid for the depth stage, under fake `tryon-test/tiny-random-*` repo ids at
the fixed fake commits of models.lock.toml, so tests and `tryon run --models tiny` load them through
the production path (`from_pretrained(repo_id, revision=sha)`, offline). The build writes each
file's sha256 and size into the lock's `tiny` preset, so `tryon models verify tiny` checks them like
real weights. Their outputs are noise: they prove plumbing, never quality.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from dataclasses import replace

from tryon.atomic import atomic_write_text
from tryon.errors import TryonError
from tryon.hashing import sha256_file
from tryon.models.lock import Component, PinnedFile, Preset, dump_lock, get_preset, load_lock, lock_path
from tryon.models.registry import repo_cache_dir

logger = logging.getLogger(__name__)

BUILD_VERSION = "6"
# safetensors writes its metadata map in hash order: one key only, or builds would differ byte-wise.
SEED = 20240229
NOTICE = "RANDOM WEIGHTS, TEST ONLY: built by tryon.models.tiny; outputs are noise.\n"
TEXT_HIDDEN = 32
CROSS_ATTENTION_DIM = 2 * TEXT_HIDDEN  # SDXL concatenates both text encoders' hidden states
TIME_EMBED_DIM = 8
UNET_CONFIG = dict(
    block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=9, out_channels=4,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
    addition_time_embed_dim=TIME_EMBED_DIM, transformer_layers_per_block=(1, 1),
    projection_class_embeddings_input_dim=6 * TIME_EMBED_DIM + TEXT_HIDDEN, cross_attention_dim=CROSS_ATTENTION_DIM,
)
SCHEDULER_CONFIG = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
    steps_offset=1, timestep_spacing="leading", prediction_type="epsilon",
)


def _byte_level_vocab() -> dict[str, int]:
    """CLIP's byte-to-unicode alphabet, each symbol alone and as a word end, plus the two specials.

    With no merges every word tokenizes to its bytes, which is all a random-weight test needs.
    """
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    codepoints = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            codepoints.append(256 + extra)
            extra += 1
    symbols = [chr(code) for code in codepoints]
    tokens = symbols + [symbol + "</w>" for symbol in symbols] + ["<|startoftext|>", "<|endoftext|>"]
    return {token: index for index, token in enumerate(tokens)}


def _text_encoders(vocab_size: int, bos: int, eos: int):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=TEXT_HIDDEN, intermediate_size=37, num_attention_heads=4,
        num_hidden_layers=2, max_position_embeddings=77, projection_dim=TEXT_HIDDEN, hidden_act="gelu",
        bos_token_id=bos, eos_token_id=eos, pad_token_id=eos,
    )
    torch.manual_seed(SEED + 1)
    text_encoder = CLIPTextModel(config)
    torch.manual_seed(SEED + 2)
    text_encoder_2 = CLIPTextModelWithProjection(config)
    return text_encoder, text_encoder_2


def _ip_adapter_state(unet, image_embed_dim: int) -> dict:
    """IP-Adapter weights in the layout `load_ip_adapter` reads: image_proj.* and ip_adapter.<n>.to_k_ip/to_v_ip."""
    import torch

    generator = torch.Generator().manual_seed(SEED + 7)

    def random(*shape):
        return torch.randn(*shape, generator=generator) * 0.02

    state = {
        "image_proj.proj.weight": random(4 * CROSS_ATTENTION_DIM, image_embed_dim),
        "image_proj.proj.bias": torch.zeros(4 * CROSS_ATTENTION_DIM),
        "image_proj.norm.weight": torch.ones(CROSS_ATTENTION_DIM),
        "image_proj.norm.bias": torch.zeros(CROSS_ATTENTION_DIM),
    }
    block_out = list(unet.config.block_out_channels)
    key_id = 1
    for name in unet.attn_processors:  # same order and numbering diffusers uses when loading
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = block_out[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(block_out))[int(name[len("up_blocks.")])]
        else:
            hidden = block_out[int(name[len("down_blocks.")])]
        state[f"ip_adapter.{key_id}.to_k_ip.weight"] = random(hidden, CROSS_ATTENTION_DIM)
        state[f"ip_adapter.{key_id}.to_v_ip.weight"] = random(hidden, CROSS_ATTENTION_DIM)
        key_id += 2
    return state


def _lora_state(seed: int) -> dict:
    """A peft LoRA on the UNet attention projections, saved the way diffusers' training scripts save one."""
    import torch
    from diffusers import UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(**UNET_CONFIG)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in unet.named_parameters():
            if "lora_" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)
    # the "unet." prefix tells load_lora_weights which pipeline model the keys belong to
    return {f"unet.{key}": value for key, value in convert_state_dict_to_diffusers(get_peft_model_state_dict(unet)).items()}


def random_dpt_hybrid_state() -> dict:
    """Random weights with the exact keys and shapes of controlnet-aux's DPT-Hybrid (MiDaS), in fp16 to
    halve the file (~250 MB: the ViT-B/ResNet backbone has no smaller configuration)."""
    import warnings

    import torch
    from controlnet_aux.midas.midas.dpt_depth import DPTDepthModel

    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")  # timm's notice that the old backbone name was renamed
        shapes = DPTDepthModel(path=None, backbone="vitb_rn50_384", non_negative=True).state_dict()
    generator = torch.Generator().manual_seed(SEED + 9)
    return {
        key: (torch.randn(value.shape, generator=generator) * 0.02).half() if value.is_floating_point()
        else torch.zeros(value.shape, dtype=value.dtype)
        for key, value in shapes.items()
    }


def _build_files(staging: Path, preset: Preset) -> dict[str, Path]:
    """Write each tiny repo's files under staging/<repo folder>; returns component name -> folder."""
    import torch
    from diffusers import (AutoencoderKL, ControlNetModel, EulerDiscreteScheduler,
                           StableDiffusionXLControlNetInpaintPipeline, UNet2DConditionModel)
    from safetensors.torch import save_file
    from transformers import CLIPTokenizer, CLIPVisionConfig, CLIPVisionModelWithProjection

    folders = {name: staging / component.repo_id.replace("/", "--") for name, component in preset.components.items()}
    folders.update({name: staging / component.repo_id.replace("/", "--") for name, component in preset.loras.items()})

    base = folders["base"]
    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(**UNET_CONFIG)
    unet.save_pretrained(base / "unet")
    vocab = _byte_level_vocab()
    for folder in ("tokenizer", "tokenizer_2"):
        CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77).save_pretrained(base / folder)
    text_encoder, text_encoder_2 = _text_encoders(len(vocab), vocab["<|startoftext|>"], vocab["<|endoftext|>"])
    text_encoder.save_pretrained(base / "text_encoder")
    text_encoder_2.save_pretrained(base / "text_encoder_2")
    EulerDiscreteScheduler(**SCHEDULER_CONFIG).save_pretrained(base / "scheduler")
    model_index = {
        "_class_name": StableDiffusionXLControlNetInpaintPipeline.__name__,
        "_tryon_notice": NOTICE.strip(),
        "scheduler": ["diffusers", "EulerDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "tokenizer_2": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"],
    }
    (base / "model_index.json").write_text(json.dumps(model_index, indent=2, sort_keys=True), encoding="utf-8")

    # ControlNet reads the 4 noisy-latent channels (not the UNet's 9), and its conditioning
    # embedding downsamples by 2, matching the 2-block VAE below.
    torch.manual_seed(SEED + 3)
    control_twin = UNet2DConditionModel(**{**UNET_CONFIG, "in_channels": 4})
    ControlNetModel.from_unet(control_twin, conditioning_embedding_out_channels=(16, 32)).save_pretrained(
        folders["controlnet"])

    torch.manual_seed(SEED + 4)
    AutoencoderKL(
        block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), sample_size=64, force_upcast=False,
    ).save_pretrained(folders["vae"])

    torch.manual_seed(SEED + 5)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
        image_size=32, patch_size=4,
    ))
    image_encoder_component = preset.components["image_encoder"]
    image_encoder.save_pretrained(folders["image_encoder"] / image_encoder_component.subfolder)
    ip_component = preset.components["ip_adapter"]
    (folders["ip_adapter"] / ip_component.subfolder).mkdir(parents=True, exist_ok=True)
    save_file(_ip_adapter_state(unet, image_encoder.config.projection_dim),
              str(folders["ip_adapter"] / ip_component.subfolder / ip_component.weight_name),
              metadata={"format": "pt"})

    depth = preset.components["depth"]
    (folders["depth"] / (depth.subfolder or "")).mkdir(parents=True, exist_ok=True)
    save_file(random_dpt_hybrid_state(), str(folders["depth"] / depth.weight_path), metadata={"format": "pt"})
    if "ip_adapter_plus" in preset.components:
        _build_plus_ip_adapter(folders, preset, unet)

    for offset, (name, component) in enumerate(sorted(preset.loras.items())):
        folders[name].mkdir(parents=True, exist_ok=True)
        save_file(_lora_state(SEED + 100 + offset), str(folders[name] / component.weight_name),
                  metadata={"format": "pt"})
    for folder in set(folders.values()):
        (folder / "README.md").write_text(NOTICE, encoding="utf-8")
    return folders


PLUS_HIDDEN = 64  # the resampler's width; diffusers infers heads as to_q rows // 64
PLUS_QUERIES = 4  # image tokens the resampler hands to the UNet (16 in the real adapter)
PLUS_DEPTH = 4  # diffusers builds the resampler with 4 blocks when loading


def _ip_adapter_plus_state(unet, token_dim: int) -> dict:
    """IP-Adapter Plus weights in the original (non-diffusers) layout that `load_ip_adapter` converts:
    image_proj.latents / proj_in / proj_out / norm_out and image_proj.layers.<i>.0 (attention:
    norm1, norm2, to_q, to_kv, to_out) and .1 (feed-forward: 0 LayerNorm, 1 and 3 Linear)."""
    import torch

    generator = torch.Generator().manual_seed(SEED + 8)

    def random(*shape):
        return torch.randn(*shape, generator=generator) * 0.1

    hidden = PLUS_HIDDEN
    state = {
        "image_proj.latents": random(1, PLUS_QUERIES, hidden),
        "image_proj.proj_in.weight": random(hidden, token_dim), "image_proj.proj_in.bias": torch.zeros(hidden),
        "image_proj.proj_out.weight": random(CROSS_ATTENTION_DIM, hidden),
        "image_proj.proj_out.bias": torch.zeros(CROSS_ATTENTION_DIM),
        "image_proj.norm_out.weight": torch.ones(CROSS_ATTENTION_DIM),
        "image_proj.norm_out.bias": torch.zeros(CROSS_ATTENTION_DIM),
    }
    for index in range(PLUS_DEPTH):
        prefix = f"image_proj.layers.{index}."
        for norm in ("0.norm1", "0.norm2", "1.0"):
            state[f"{prefix}{norm}.weight"], state[f"{prefix}{norm}.bias"] = torch.ones(hidden), torch.zeros(hidden)
        state[f"{prefix}0.to_q.weight"] = random(hidden, hidden)
        state[f"{prefix}0.to_kv.weight"] = random(2 * hidden, hidden)
        state[f"{prefix}0.to_out.weight"] = random(hidden, hidden)
        state[f"{prefix}1.1.weight"] = random(4 * hidden, hidden)
        state[f"{prefix}1.3.weight"] = random(hidden, 4 * hidden)
    # The UNet-side to_k_ip / to_v_ip layers have the same shapes as the plain adapter's.
    attention = {key: value for key, value in _ip_adapter_state(unet, 1).items() if key.startswith("ip_adapter.")}
    return state | attention


def _build_plus_ip_adapter(folders: dict[str, Path], preset: Preset, unet) -> None:
    """The tiny IP-Adapter Plus and its own tiny image encoder (stand-in for ViT-H)."""
    import torch
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(SEED + 9)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=48, projection_dim=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=37,
        image_size=32, patch_size=8,
    ))
    encoder_component = preset.components["image_encoder_plus"]
    encoder.save_pretrained(folders["image_encoder_plus"] / encoder_component.subfolder)
    adapter = preset.components["ip_adapter_plus"]
    (folders["ip_adapter_plus"] / adapter.subfolder).mkdir(parents=True, exist_ok=True)
    save_file(_ip_adapter_plus_state(unet, encoder.config.hidden_size),
              str(folders["ip_adapter_plus"] / adapter.subfolder / adapter.weight_name), metadata={"format": "pt"})


def _install_snapshot(source: Path, repo_dir: Path, revision: str) -> None:
    """Lay files out as huggingface_hub does: blobs/<sha256>, snapshots/<sha>/<path> -> symlink, refs/main."""
    blobs = repo_dir / "blobs"
    snapshot = repo_dir / "snapshots" / revision
    blobs.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(source)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        blob = blobs / digest
        if not blob.exists():
            shutil.copyfile(path, blob)
        link = snapshot / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo_dir / "refs").mkdir(exist_ok=True)
    atomic_write_text(repo_dir / "refs" / "main", revision)


def _component_files(component: Component, repo_folder: Path) -> tuple[PinnedFile, ...]:
    """The built files that belong to `component`, with their sha256 and size: its single weight file,
    else everything under its subfolder, else the whole repo (the README notice excepted)."""
    if component.weight_path:
        paths = [repo_folder / component.weight_path]
    else:
        root = repo_folder / component.subfolder if component.subfolder else repo_folder
        paths = [path for path in sorted(root.rglob("*")) if path.is_file() and path.name != "README.md"]
    return tuple(PinnedFile(path.relative_to(repo_folder).as_posix(), sha256=sha256_file(path),
                            size=path.stat().st_size) for path in paths)


def record_pins(preset: Preset, files: dict[str, tuple[PinnedFile, ...]]) -> Preset:
    """Write the built files' sha256 and size into the lock's entry for `preset`, if they differ.

    The build is deterministic for the pinned library versions, so on a checkout with the same
    constraints this rewrites nothing; after a library upgrade it records the new bytes.
    """
    pinned = replace(preset, components={name: replace(component, files=files[name])
                                         for name, component in preset.components.items()},
                     loras={name: replace(component, files=files[name]) for name, component in preset.loras.items()})
    presets = load_lock()
    if presets.get(preset.name) == pinned:
        return pinned
    presets[preset.name] = pinned
    try:
        atomic_write_text(lock_path(), dump_lock(presets))
    except OSError as error:
        raise TryonError(f"cannot record the {preset.name!r} pins in {lock_path()} ({error.strerror}); "
                         "set TRYON_MODELS_LOCK to a writable copy of models.lock.toml") from None
    logger.warning("recorded the sha256 and size of preset %r's files in %s", preset.name, lock_path())
    return pinned


def build_tiny(hf_home: str | Path, preset: Preset | None = None) -> Path:
    """Build the tiny preset into `hf_home`/hub (idempotent) and pin its files in the lock; returns `hf_home`.

    Point HF_HOME at the result (with HF_HUB_OFFLINE=1) and load preset "tiny" as usual.
    """
    hf_home = Path(hf_home)
    preset = preset or get_preset("tiny")
    if not preset.random_weights:
        raise ValueError(f"preset {preset.name!r} is not marked random_weights; build_tiny only builds test presets")
    hub = hf_home / "hub"
    marker = hub / f".tryon-tiny-build-{BUILD_VERSION}.json"
    if marker.is_file():
        built = json.loads(marker.read_text(encoding="utf-8"))
        if built.get("revisions") == preset.revisions():
            record_pins(preset, {name: tuple(PinnedFile(**entry) for entry in entries)
                                 for name, entries in built["files"].items()})
            return hf_home
    logger.warning("building preset %r into %s: %s", preset.name, hub, NOTICE.strip())
    hub.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=hub, prefix=".tiny-staging-") as staging:
        folders = _build_files(Path(staging), preset)
        files = {component.name: _component_files(component, folders[component.name])
                 for component in preset.all_components()}
        for component in preset.all_components():
            _install_snapshot(folders[component.name], repo_cache_dir(component.repo_id, hub), component.revision)
    record_pins(preset, files)
    atomic_write_text(marker, json.dumps({
        "revisions": preset.revisions(),
        "files": {name: [vars(pinned) for pinned in pins] for name, pins in files.items()},
    }, sort_keys=True))
    return hf_home
