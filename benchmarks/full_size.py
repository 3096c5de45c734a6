"""The SDXL try-on pipeline at its real shapes with random weights: speed and memory do not depend on
weight values, so this measures what the real models would cost without downloading them.

Architectures come from the published configs in benchmarks/configs/ (SDXL inpainting UNet with 9
input channels, SDXL depth ControlNet, SDXL VAE, CLIP ViT-L and OpenCLIP bigG text towers, ViT-H image
encoder and the IP-Adapter Plus resampler). Weights are initialised on the target device, never on
the CPU first. `scale` < 1 shrinks widths and depths so the same code runs on a CPU in seconds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

CONFIGS = Path(__file__).resolve().parent / "configs"


def load_config(name: str) -> dict:
    config = json.loads((CONFIGS / f"{name}.json").read_text(encoding="utf-8"))
    return {key: value for key, value in config.items() if not key.startswith("_")}


def _width(channels: int, scale: float, multiple: int = 32) -> int:
    return channels if scale == 1 else max(multiple, int(round(channels * scale / multiple)) * multiple)


def _count(layers: int, scale: float) -> int:
    return layers if scale == 1 else max(1, int(round(layers * scale)))


def _heads(width: int) -> int:
    """SDXL uses 64-wide heads; at reduced width keep the largest head count that divides the width."""
    heads = max(1, width // 64)
    while width % heads:
        heads -= 1
    return heads


def scaled_configs(scale: float) -> dict[str, dict]:
    """Every component's constructor arguments at `scale` (1.0: the published configs as they are)."""
    unet, controlnet, vae = load_config("sdxl_inpaint_unet"), load_config("controlnet_depth_sdxl"), load_config("sdxl_vae")
    text_l, text_g = load_config("clip_text_l"), load_config("clip_text_bigg")
    vision, plus = load_config("clip_vision_vit_h"), load_config("ip_adapter_plus_sdxl")
    if scale == 1:
        return dict(unet=unet, controlnet=controlnet, vae=vae, text_l=text_l, text_g=text_g, vision=vision, plus=plus)
    for text in (text_l, text_g):
        text["hidden_size"] = _width(text["hidden_size"], scale, 64)
        text["intermediate_size"] = 4 * text["hidden_size"]
        text["projection_dim"] = text["hidden_size"]
        text["num_hidden_layers"] = _count(text["num_hidden_layers"], scale)
        text["num_attention_heads"] = _heads(text["hidden_size"])
    cross_attention_dim = text_l["hidden_size"] + text_g["hidden_size"]
    time_dim = _width(unet["addition_time_embed_dim"], scale, 8)
    for model in (unet, controlnet):
        model["block_out_channels"] = [_width(channels, scale) for channels in model["block_out_channels"]]
        model["attention_head_dim"] = [_heads(width) for width in model["block_out_channels"]]
        model["transformer_layers_per_block"] = [_count(layers, scale) for layers in model["transformer_layers_per_block"]]
        model["cross_attention_dim"] = cross_attention_dim
        model["addition_time_embed_dim"] = time_dim
        model["projection_class_embeddings_input_dim"] = 6 * time_dim + text_g["projection_dim"]
    controlnet["conditioning_embedding_out_channels"] = [
        _width(channels, scale, 16) for channels in controlnet["conditioning_embedding_out_channels"]]
    vae["block_out_channels"] = [_width(channels, scale) for channels in vae["block_out_channels"]]
    vision["hidden_size"] = _width(vision["hidden_size"], scale, 64)
    vision["intermediate_size"] = 4 * vision["hidden_size"]
    vision["num_hidden_layers"] = _count(vision["num_hidden_layers"], scale)
    vision["num_attention_heads"] = _heads(vision["hidden_size"])
    vision["projection_dim"] = _width(vision["projection_dim"], scale, 64)
    plus.update(embed_dims=vision["hidden_size"], output_dims=cross_attention_dim,
                hidden_dims=_width(plus["hidden_dims"], scale, 64))
    plus["heads"] = max(1, plus["hidden_dims"] // plus["dim_head"])
    return dict(unet=unet, controlnet=controlnet, vae=vae, text_l=text_l, text_g=text_g, vision=vision, plus=plus)


def _attach_ip_adapter_plus(unet, plus: dict, dtype) -> None:
    """The resampler as the UNet's image projection, and IP attention processors on every cross-attention."""
    from diffusers.models.attention_processor import AttnProcessor2_0, IPAdapterAttnProcessor2_0
    from diffusers.models.embeddings import IPAdapterPlusImageProjection, MultiIPAdapterImageProjection

    processors = {}
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            processors[name] = AttnProcessor2_0()
            continue
        attention = unet.get_submodule(name[: -len(".processor")])
        processors[name] = IPAdapterAttnProcessor2_0(hidden_size=attention.to_k.out_features,
                                                     cross_attention_dim=unet.config.cross_attention_dim,
                                                     scale=1.0, num_tokens=(plus["num_queries"],))
    unet.set_attn_processor(processors)
    # Attached after the processors are set: the resampler's own attention keeps its plain processor.
    unet.encoder_hid_proj = MultiIPAdapterImageProjection([IPAdapterPlusImageProjection(**plus)])
    unet.config.encoder_hid_dim_type = "ip_image_proj"
    unet.to(dtype)


def build_models(device: str, dtype, scale: float = 1.0) -> dict:
    """The six networks at real (or scaled) shapes, random weights created directly on `device`
    ("meta" builds shapes only, e.g. to count parameters)."""
    import torch
    from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPVisionConfig
    from transformers import CLIPVisionModelWithProjection

    from tryon.models.tiny import _byte_level_vocab

    configs = scaled_configs(scale)
    vocab = _byte_level_vocab()  # token ids stay below the vocab size; the token count (77) is what costs
    special = dict(bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                   pad_token_id=vocab["<|endoftext|>"])
    with torch.device(device):
        models = dict(
            unet=UNet2DConditionModel(**configs["unet"]),
            controlnet=ControlNetModel(**configs["controlnet"]),
            vae=AutoencoderKL(**configs["vae"]),
            text_encoder=CLIPTextModel(CLIPTextConfig(**configs["text_l"], **special)),
            text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**configs["text_g"], **special)),
            image_encoder=CLIPVisionModelWithProjection(CLIPVisionConfig(**configs["vision"])),
        )
        _attach_ip_adapter_plus(models["unet"], configs["plus"], dtype)
    for model in models.values():
        model.to(dtype).eval()
    return models


def build_pipeline(device: str, dtype, scale: float = 1.0):
    """The try-on pipeline (PerSampleGarmentPipeline) at real (or scaled) shapes, random weights on `device`."""
    from diffusers import EulerDiscreteScheduler
    from transformers import CLIPImageProcessor, CLIPTokenizer

    from tryon.models.pipeline import PerSampleGarmentPipeline
    from tryon.models.tiny import SCHEDULER_CONFIG, _byte_level_vocab

    models = build_models(device, dtype, scale)
    tokenizer = CLIPTokenizer(vocab=_byte_level_vocab(), merges=[], model_max_length=77)
    size = models["image_encoder"].config.image_size
    pipeline = PerSampleGarmentPipeline(
        **models, tokenizer=tokenizer, tokenizer_2=tokenizer, scheduler=EulerDiscreteScheduler(**SCHEDULER_CONFIG),
        feature_extractor=CLIPImageProcessor(size=size, crop_size=size),
        requires_aesthetics_score=False, force_zeros_for_empty_prompt=True,
    )
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def engine_on(pipeline, device: str, dtype, height: int, steps: int):
    """An SdxlEngine driving `pipeline`: the same crop, conditioning and stitch code as a real run, with
    one 3:4 bucket scaled so the canvas is (height * 3/4) x height (768x1024 at height 1024)."""
    from tryon.config import RunConfig
    from tryon.engines.garment import GarmentEncoder
    from tryon.engines.sdxl import SdxlEngine
    from tryon.models.loader import LoadedPipeline

    config = RunConfig(engine="sdxl", models="sdxl", device="cpu" if device == "cpu" else "cuda",
                       sdxl={"steps": steps, "resolution": height, "buckets": [[768, 1024]]})
    engine = SdxlEngine(config)
    engine.device = device
    engine.loaded = LoadedPipeline(pipeline=pipeline, preset=engine.preset, fingerprint="random-weights",
                                   versions={}, lora_names=(), dtype=dtype, device=device)
    engine.garment_encoder = GarmentEncoder(pipeline, device, "random-weights")
    return engine


def run_grid(device: str, dtypes: list[str], batch_sizes: list[int], steps: int, height: int, scale: float,
             compile_options: list[bool], channels_last_options: list[bool], repeats: int, make_request) -> list[dict]:
    """Time every (dtype, compile, channels-last, batch) combination; one printed row per combination."""
    import time

    import torch

    rows = []
    print("| dtype | compile | channels-last | batch | images/s | s/image | peak GPU GiB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for dtype_name in dtypes:
        dtype = getattr(torch, dtype_name)
        pipeline = build_pipeline(device, dtype, scale)
        originals = {name: getattr(pipeline, name) for name in ("unet", "controlnet", "vae")}
        for channels_last in channels_last_options:
            for compiled in compile_options:
                for name, model in originals.items():
                    model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
                    setattr(pipeline, name, torch.compile(model) if compiled and name != "vae" else model)
                engine = engine_on(pipeline, device, dtype, height, steps)
                for batch_size in batch_sizes:
                    batch = [make_request(index, (height * 3 // 4 * 3 // 2, height * 3 // 2)) for index in range(batch_size)]
                    engine(batch)  # warm-up (and compilation for this batch shape)
                    if device == "cuda":
                        torch.cuda.synchronize()
                        torch.cuda.reset_peak_memory_stats()
                    started = time.perf_counter()
                    for _ in range(repeats):
                        engine(batch)
                    if device == "cuda":
                        torch.cuda.synchronize()
                    elapsed = time.perf_counter() - started
                    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else float("nan")
                    row = dict(dtype=dtype_name, compile=compiled, channels_last=channels_last, batch=batch_size,
                               images_per_s=batch_size * repeats / elapsed, s_per_image=elapsed / (batch_size * repeats),
                               peak_gib=peak)
                    rows.append(row)
                    print(f"| {dtype_name} | {compiled} | {channels_last} | {batch_size} | {row['images_per_s']:.3f} | "
                          f"{row['s_per_image']:.3f} | {peak:.1f} |", flush=True)
        del pipeline, originals
        if device == "cuda":
            torch.cuda.empty_cache()
    return rows
