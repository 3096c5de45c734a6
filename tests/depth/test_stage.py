"""DepthStage through the real loading path: the tiny preset's random DPT-Hybrid weights, pinned in the lock."""

import time
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from tests.depth.conftest import write_checkpoint
from tryon.config import DepthConfig
from tryon.depth import DepthStage
from tryon.errors import ModelUnavailableError
from tryon.hashing import sha256_file
from tryon.models.lock import PinnedFile

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "people"


def with_depth(preset, **changes):
    """`preset` whose depth component has `changes` (e.g. another revision or files)."""
    return replace(preset, components={**preset.components, "depth": replace(preset.components["depth"], **changes)})


@pytest.fixture(scope="module")
def depth_stage(hf_cache, tiny_preset, fake_depth_config):
    stage = DepthStage(fake_depth_config, tiny_preset, device="cpu", cache_dir=hf_cache)
    stage.setup()
    return stage


def test_depth_is_rgb_at_each_input_size(depth_stage):
    astronaut = Image.open(SAMPLE / "astronaut.png").convert("RGB")
    odd = Image.open(SAMPLE / "grace_hopper.jpg").convert("RGB").resize((301, 233))
    gray = astronaut.convert("L")
    results = depth_stage([astronaut, odd, gray])
    for result, person in zip(results, (astronaut, odd, gray)):
        assert isinstance(result, Image.Image)
        assert result.mode == "RGB" and result.size == person.size


def test_setup_is_idempotent(depth_stage):
    model = depth_stage._model
    depth_stage.setup()
    assert depth_stage._model is model


@pytest.mark.slow
def test_cpu_time_for_one_image_at_default_resolution(depth_stage):
    astronaut = Image.open(SAMPLE / "astronaut.png").convert("RGB")
    small_config = depth_stage.config
    depth_stage.config = small_config.model_copy(update={"detect_resolution": DepthConfig().detect_resolution})
    try:
        started = time.process_time()
        [depth] = depth_stage([astronaut])
        cpu_seconds = time.process_time() - started
    finally:
        depth_stage.config = small_config
    print(f"\ndepth (dpt_hybrid, random weights, {DepthConfig().detect_resolution}px): {cpu_seconds:.1f} CPU s / image")
    assert depth.size == astronaut.size


def test_fingerprint_follows_the_lock(tiny_preset, fake_depth_config):
    base = DepthStage(fake_depth_config, tiny_preset, device="cpu").fingerprint()
    assert base != DepthStage(fake_depth_config.model_copy(update={"detect_resolution": 512}), tiny_preset,
                              device="cpu").fingerprint()
    assert base != DepthStage(fake_depth_config, with_depth(tiny_preset, revision="f" * 40), device="cpu").fingerprint()


def test_absent_checkpoint_says_what_to_run(hf_cache, tiny_preset, fake_depth_config):
    preset = with_depth(tiny_preset, revision="a" * 40)
    with pytest.raises(ModelUnavailableError, match="(?s)depth file dpt_hybrid-midas-random.safetensors .* is missing.*"
                                                    "tryon models build-tiny"):
        DepthStage(fake_depth_config, preset, device="cpu", cache_dir=hf_cache).setup()


def test_sha256_mismatch_is_refused_naming_the_file(hf_cache, tiny_preset, fake_depth_config):
    depth = tiny_preset.components["depth"]
    [pinned] = depth.files
    preset = with_depth(tiny_preset, files=(replace(pinned, sha256="0" * 64),))
    with pytest.raises(ModelUnavailableError, match=f"depth file {pinned.path} .* has sha256 .* the lock pins 000000000000"):
        DepthStage(fake_depth_config, preset, device="cpu", cache_dir=hf_cache).setup()


class _Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def _pt_depth(tiny_preset, revision: str):
    """A depth component whose checkpoint is a .pt file, as the real MiDaS release is."""
    return replace(tiny_preset.components["depth"], revision=revision, weight_name="midas.pt",
                   files=(PinnedFile("midas.pt"),))


def test_pickled_code_is_refused(tmp_path, tiny_preset, fake_depth_config):
    component = _pt_depth(tiny_preset, "b" * 40)
    path = write_checkpoint(tmp_path, component, {"weight": _Payload()})
    component = replace(component, files=(PinnedFile("midas.pt", sha256_file(path), path.stat().st_size),))
    preset = with_depth(tiny_preset, **{key: getattr(component, key) for key in ("revision", "weight_name", "files")})
    with pytest.raises(ModelUnavailableError, match="refused rather than unpickled"):
        DepthStage(fake_depth_config, preset, device="cpu", cache_dir=tmp_path).setup()


def test_hub_only_model_types_are_refused(tmp_path, tiny_preset, fake_depth_config):
    component = _pt_depth(tiny_preset, "c" * 40)
    path = write_checkpoint(tmp_path, component, {})
    preset = with_depth(tiny_preset, revision=component.revision, weight_name="midas.pt",
                        files=(PinnedFile("midas.pt", sha256_file(path), path.stat().st_size),))
    config = fake_depth_config.model_copy(update={"model_type": "midas_v21_small"})
    with pytest.raises(ModelUnavailableError, match="torch.hub"):
        DepthStage(config, preset, device="cpu", cache_dir=tmp_path).setup()


def test_stage_pickles_without_its_model(depth_stage):
    import pickle

    copy = pickle.loads(pickle.dumps(depth_stage))
    assert copy._model is None and copy.fingerprint() == depth_stage.fingerprint()
