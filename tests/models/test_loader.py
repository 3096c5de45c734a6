import diffusers
import pytest

from tests.tiny_models import tiny_env, tiny_hf_home  # noqa: F401 - fixtures
from tryon.errors import ModelUnavailableError
from tryon.models.lock import get_preset
from tryon.models.loader import load_pipeline


def test_tiny_loads_offline_through_pinned_from_pretrained(tiny_env, monkeypatch):
    calls = []
    original = diffusers.UNet2DConditionModel.from_pretrained.__func__

    def spy(cls, repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        return original(cls, repo_id, **kwargs)

    monkeypatch.setattr(diffusers.UNet2DConditionModel, "from_pretrained", classmethod(spy))
    preset = get_preset("tiny")
    loaded = load_pipeline(preset, "cpu")

    base = preset.components["base"]
    assert calls == [(base.repo_id, {"revision": base.revision, "cache_dir": str(tiny_env / "hub"),
                                     "local_files_only": True, "subfolder": "unet", "use_safetensors": True,
                                     "torch_dtype": loaded.dtype})]
    pipeline = loaded.pipeline
    assert isinstance(pipeline, diffusers.StableDiffusionXLControlNetInpaintPipeline)
    assert pipeline.unet.config.in_channels == 9
    assert pipeline.image_encoder is not None and pipeline.unet.encoder_hid_proj is not None
    assert set(pipeline.get_list_adapters()["unet"]) == {"tiny-lora-a", "tiny-lora-b"}
    assert loaded.lora_names == ("tiny-lora-a", "tiny-lora-b")


def test_sdxl_without_weights_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    with pytest.raises(ModelUnavailableError, match="run `tryon models pull sdxl`"):
        load_pipeline(get_preset("sdxl"), "cpu")


def test_tiny_without_build_points_to_build_tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    with pytest.raises(ModelUnavailableError, match="tryon models build-tiny"):
        load_pipeline(get_preset("tiny"), "cpu")


def test_a_tampered_weight_file_is_refused_at_load(tiny_hf_home, tmp_path, monkeypatch):
    import shutil

    from tryon.models.lock import load_lock
    from tryon.models.registry import pinned_files

    copy = tmp_path / "hf-home"
    shutil.copytree(tiny_hf_home, copy, symlinks=True)
    monkeypatch.setenv("HF_HOME", str(copy))
    preset = load_lock()["tiny"]
    weights = pinned_files(preset.components["controlnet"], copy / "hub")["diffusion_pytorch_model.safetensors"]
    with open(weights, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelUnavailableError, match="controlnet file diffusion_pytorch_model.safetensors .* bytes, "
                                                    "the lock pins"):
        load_pipeline(preset, "cpu", copy / "hub")


def test_each_component_dtype_comes_from_the_lock_and_a_mixed_set_is_refused():
    import dataclasses

    import torch

    from tryon.errors import ModelUnavailableError
    from tryon.models.loader import component_dtypes

    preset = get_preset("sdxl")
    assert set(component_dtypes(preset, "cuda").values()) == {torch.float16}
    bf16 = {name: dataclasses.replace(component, torch_dtype="bfloat16") for name, component in preset.components.items()}
    assert set(component_dtypes(dataclasses.replace(preset, components=bf16), "cuda").values()) == {torch.bfloat16}
    mixed = dict(preset.components, vae=dataclasses.replace(preset.components["vae"], torch_dtype="float32"))
    with pytest.raises(ModelUnavailableError, match="vae=float32"):
        component_dtypes(dataclasses.replace(preset, components=mixed), "cuda")
    assert set(component_dtypes(preset, "cpu").values()) == {torch.float32}
    assert set(component_dtypes(get_preset("tiny"), "cpu").values()) == {torch.float64}
