"""DepthStage through the real loading path, with random DPT-Hybrid weights in a fake local HF cache."""

import time
from pathlib import Path

import pytest
from PIL import Image

from tryon.config import DepthConfig
from tryon.depth import DepthStage
from tryon.errors import ConfigError, ModelUnavailableError

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "people"


@pytest.fixture(scope="module")
def depth_stage(hf_cache, fake_depth_config):
    cache_dir, _ = hf_cache
    stage = DepthStage(fake_depth_config, device="cpu", cache_dir=cache_dir)
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


def test_fingerprint_follows_pinning(fake_depth_config):
    base = DepthStage(fake_depth_config, device="cpu").fingerprint()
    assert base != DepthStage(fake_depth_config.model_copy(update={"detect_resolution": 512}), device="cpu").fingerprint()
    assert base != DepthStage(fake_depth_config.model_copy(update={"revision": "f" * 40}), device="cpu").fingerprint()


def test_absent_checkpoint_says_what_to_run(hf_cache, fake_depth_config):
    cache_dir, _ = hf_cache
    config = fake_depth_config.model_copy(update={"revision": "a" * 40})
    with pytest.raises(ModelUnavailableError, match="huggingface-cli download tryon-tests/random-midas"):
        DepthStage(config, device="cpu", cache_dir=cache_dir).setup()


def test_moving_revision_is_refused(hf_cache, fake_depth_config):
    cache_dir, _ = hf_cache
    with pytest.raises(ConfigError, match="commit SHA"):
        DepthStage(fake_depth_config.model_copy(update={"revision": "main"}), device="cpu", cache_dir=cache_dir).setup()


def test_sha256_mismatch_is_refused(hf_cache, fake_depth_config):
    cache_dir, _ = hf_cache
    config = fake_depth_config.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(ModelUnavailableError, match="sha256"):
        DepthStage(config, device="cpu", cache_dir=cache_dir).setup()


class _Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_code_is_refused(tmp_path, write_hf_cache, fake_depth_config):
    revision = "b" * 40
    write_hf_cache(tmp_path, fake_depth_config.repo_id, revision, fake_depth_config.filename, {"weight": _Payload()})
    config = fake_depth_config.model_copy(update={"revision": revision, "sha256": None})
    with pytest.raises(ModelUnavailableError, match="refused rather than unpickled"):
        DepthStage(config, device="cpu", cache_dir=tmp_path).setup()


def test_hub_only_model_types_are_refused(tmp_path, write_hf_cache, fake_depth_config):
    revision = "c" * 40
    write_hf_cache(tmp_path, fake_depth_config.repo_id, revision, fake_depth_config.filename, {})
    config = fake_depth_config.model_copy(update={"revision": revision, "sha256": None, "model_type": "midas_v21_small"})
    with pytest.raises(ModelUnavailableError, match="torch.hub"):
        DepthStage(config, device="cpu", cache_dir=tmp_path).setup()


def test_stage_pickles_without_its_model(depth_stage):
    import pickle

    copy = pickle.loads(pickle.dumps(depth_stage))
    assert copy._model is None and copy.fingerprint() == depth_stage.fingerprint()
