"""The full-size benchmark's architectures match the published sizes, and the script runs end to end (scaled)."""

import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from full_size import build_models, scaled_configs  # noqa: E402


def count(model) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def test_configs_are_consistent_with_each_other():
    configs = scaled_configs(1.0)
    unet = configs["unet"]
    assert unet["in_channels"] == 9 and configs["controlnet"]["in_channels"] == 4
    assert unet["cross_attention_dim"] == configs["text_l"]["hidden_size"] + configs["text_g"]["hidden_size"]
    assert unet["projection_class_embeddings_input_dim"] == 6 * unet["addition_time_embed_dim"] + configs["text_g"]["projection_dim"]
    assert configs["plus"]["embed_dims"] == configs["vision"]["hidden_size"]
    assert configs["plus"]["output_dims"] == unet["cross_attention_dim"]


def test_full_size_shapes_have_the_published_parameter_counts():
    """Built on the meta device (shapes only): SDXL UNet ~2.57 B, depth ControlNet ~1.25 B, VAE ~84 M,
    text towers ~123 M + ~695 M, ViT-H image encoder ~632 M."""
    models = build_models("meta", torch.float16)
    unet_without_ip = sum(parameter.numel() for name, parameter in models["unet"].named_parameters()
                          if "_ip" not in name and not name.startswith("encoder_hid_proj"))
    assert 2.56e9 < unet_without_ip < 2.58e9
    assert 1.2e9 < count(models["controlnet"]) < 1.3e9
    assert 8.0e7 < count(models["vae"]) < 8.8e7
    assert 1.2e8 < count(models["text_encoder"]) < 1.3e8 and 6.8e8 < count(models["text_encoder_2"]) < 7.0e8
    assert 6.2e8 < count(models["image_encoder"]) < 6.4e8


@pytest.mark.slow
def test_the_script_runs_scaled_down_on_a_cpu():
    command = [sys.executable, str(REPO_ROOT / "benchmarks" / "engine.py"), "--full-size", "--scale", "0.05",
               "--height", "64", "--steps", "2", "--dtypes", "float32", "--batch-sizes", "1,2", "--compile", "no",
               "--channels-last", "no", "--repeats", "1", "--device", "cpu"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| float32 |")]
    assert len(rows) == 2 and all(float(row.split("|")[5]) > 0 for row in rows)
