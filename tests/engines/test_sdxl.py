import hashlib
import json
import sys

import diffusers
import numpy as np
import pytest
import torch
from PIL import Image

from tests.tiny_models import make_request, tiny_config, tiny_hf_home, use_hf_home  # noqa: F401 - fixture
from tryon.engines.sdxl import SCHEDULERS, EngineOutOfMemoryError, SdxlEngine
from tryon.errors import PairError, TryonError
from tryon.pairs import TryOnOutput


@pytest.fixture(scope="module")
def engine(tiny_hf_home):
    with pytest.MonkeyPatch.context() as patch:
        use_hf_home(patch, tiny_hf_home)
        engine = SdxlEngine(tiny_config())
        engine.setup()
        engine.fingerprint()  # identity is computed while the tiny cache is HF_HOME
    return engine


@pytest.fixture
def tiny_engine(engine):
    yield engine
    engine.set_lora(None)


def pixels(output) -> np.ndarray:
    assert isinstance(output, TryOnOutput), output
    return np.asarray(output.image).astype(np.int16)


def base_unet_checksum(unet) -> str:
    """Hash of the UNet's own weights, LoRA and IP-Adapter layers excluded, names as in the file on disk."""
    digest = hashlib.sha256()
    for name, tensor in sorted(unet.state_dict().items()):
        if "lora_" in name or "_ip." in name or name.startswith("encoder_hid_proj."):
            continue
        digest.update(name.replace(".base_layer", "").encode())
        digest.update(tensor.detach().to(torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def test_outputs_match_person_size_and_record_parameters(tiny_engine):
    request = make_request(0, size=(60, 44))
    output = tiny_engine([request])[0]
    assert output.image.size == (60, 44) and output.image.mode == "RGB"
    parameters = output.parameters
    assert parameters["seed"] == 0 and parameters["prompt"] == "a red shirt"
    assert parameters["resolution"] == parameters["bucket"] == list(tiny_engine.crop_plan(request).bucket)
    assert parameters["steps"] == 2 and parameters["dtype"] == "float64" and parameters["device"] == "cpu"
    assert parameters["oom_splits"] == 0 and parameters["lora"] is None and parameters["random_weights"] is True
    for key in ("guidance_scale", "strength", "controlnet_conditioning_scale", "control_guidance_start",
                "control_guidance_end", "ip_adapter_scale", "lora_scale", "scheduler", "negative_prompt"):
        assert key in parameters
    info = tiny_engine.model_info()
    assert info["model_preset"] == "tiny" and info["random_weights"] is True
    assert "tryon-test/tiny-random-sdxl-inpaint@7e57" in info["model_revisions"]
    assert {"model_fingerprint", "diffusers_version", "transformers_version", "torch_version"} <= set(info)
    assert tiny_engine.bucket(make_request(1, size=(640, 480))) == (64, 48)  # 4:3 crop -> the 1024x768 bucket, scaled


def test_lora_switching_is_exact_and_never_touches_base_weights(tiny_engine, tiny_hf_home):
    base = tiny_engine.preset.components["base"]
    from_disk = diffusers.UNet2DConditionModel.from_pretrained(
        base.repo_id, revision=base.revision, subfolder="unet", cache_dir=str(tiny_hf_home / "hub"),
        local_files_only=True)
    unet = tiny_engine.loaded.pipeline.unet
    assert base_unet_checksum(unet) == base_unet_checksum(from_disk)
    request = make_request(2)

    def run(lora):
        tiny_engine.set_lora(lora, 1.0)
        output = tiny_engine([request])[0]
        assert output.parameters["lora"] == lora
        return pixels(output)

    none_first, a_first, b_only, a_again, none_again = (run(name) for name in
                                                       (None, "tiny-lora-a", "tiny-lora-b", "tiny-lora-a", None))
    assert np.array_equal(a_first, a_again)
    assert np.array_equal(none_first, none_again)
    assert not np.array_equal(a_first, b_only) and not np.array_equal(a_first, none_first)
    assert base_unet_checksum(unet) == base_unet_checksum(from_disk)
    with pytest.raises(TryonError, match="not a LoRA of preset 'tiny'"):
        tiny_engine.set_lora("tiny-lora-c")


def _other_garment(index: int):
    request = make_request(index, prompt=f"a striped coat number {index}")
    request.garment = Image.fromarray(np.random.RandomState(1000 + index).randint(0, 256, (56, 24, 3), dtype=np.uint8))
    return request


@pytest.mark.parametrize("batch_size, position", [(2, 0), (4, 3)])
def test_same_pair_same_image_bit_for_bit_whatever_the_batch(tiny_engine, batch_size, position):
    """Batch-mates with other garments, prompts and seeds cannot move a pair's 8-bit image by one level."""
    target = make_request(3)
    alone = pixels(tiny_engine([target])[0])
    mates = [_other_garment(100 + index) for index in range(batch_size - 1)]
    outputs = tiny_engine(mates[:position] + [target] + mates[position:])
    assert np.array_equal(pixels(outputs[position]), alone)
    assert not any(np.array_equal(pixels(output), alone) for index, output in enumerate(outputs) if index != position)


def test_ip_adapter_embeddings_reach_the_unet_one_garment_per_sample(tiny_engine, monkeypatch):
    """The UNet gets (2B, 1, ...) image embeddings (diffusers would repeat given ones B times: issue 9813)."""
    unet = tiny_engine.loaded.pipeline.unet
    shapes = []
    original = unet.forward

    def spy(*args, **kwargs):
        shapes.append(tuple(kwargs["added_cond_kwargs"]["image_embeds"][0].shape))
        return original(*args, **kwargs)

    monkeypatch.setattr(unet, "forward", spy)
    tiny_engine([make_request(7), _other_garment(8), _other_garment(9)])
    assert shapes and all(shape[:2] == (6, 1) for shape in shapes), shapes


def test_mismatched_depth_maps_do_not_crash(tiny_engine):
    depths = [
        Image.new("L", (17, 23), 128),                                    # other size, one channel
        np.random.RandomState(0).rand(30, 20).astype(np.float32) * 7.5,   # float metres, other size
        np.full((10, 10, 1), 200, dtype=np.uint8),                        # HxWx1
        Image.new("RGBA", (64, 48), (10, 20, 30, 255)),
    ]
    outputs = tiny_engine([make_request(10 + index, depth=depth) for index, depth in enumerate(depths)])
    assert all(isinstance(output, TryOnOutput) and output.image.size == (64, 48) for output in outputs)


def test_missing_depth_fails_only_that_pair(tiny_engine):
    outputs = tiny_engine([make_request(20, depth=None), make_request(21)])
    assert isinstance(outputs[0], PairError) and outputs[0].error_type == "missing_depth"
    assert "row 20" in outputs[0].message and isinstance(outputs[1], TryOnOutput)


def test_paste_back_keeps_unmasked_pixels_exactly(tiny_engine):
    request = make_request(30, size=(50, 37))
    image = np.asarray(tiny_engine([request])[0].image)
    person = np.asarray(request.person)
    keep = ~request.mask.garment_mask
    assert np.array_equal(image[keep], person[keep])
    assert not np.array_equal(image[~keep], person[~keep])


@pytest.mark.parametrize("broken_value", [float("nan"), -1.0])
def test_nan_or_black_decode_becomes_nan_output(tiny_engine, monkeypatch, broken_value):
    vae = tiny_engine.loaded.pipeline.vae
    original = vae.decode

    def broken_decode(latents, return_dict=True, **kwargs):
        sample = original(latents, return_dict=False, **kwargs)[0]
        return (torch.full_like(sample, broken_value),)

    monkeypatch.setattr(vae, "decode", broken_decode)
    outputs = tiny_engine([make_request(40), make_request(41)])
    assert [output.error_type for output in outputs] == ["nan_output", "nan_output"]
    assert "row 40" in outputs[0].message


def test_cuda_oom_splits_the_batch_and_retries(tiny_engine, monkeypatch):
    batch = [make_request(50), make_request(51), make_request(52)]
    expected = [pixels(output) for output in tiny_engine(batch)]
    original = tiny_engine._generate
    sizes = []

    def flaky(requests, size):
        sizes.append(len(requests))
        # The retry runs after the except block is left: no live exception holds the failed call's tensors.
        assert sys.exc_info() == (None, None, None)
        if len(sizes) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")
        return original(requests, size)

    monkeypatch.setattr(tiny_engine, "_generate", flaky)
    outputs = tiny_engine(batch)
    assert sizes == [3, 1, 2]
    assert [output.parameters["oom_splits"] for output in outputs] == [1, 1, 1]
    for output, reference in zip(outputs, expected):
        assert np.array_equal(pixels(output), reference)


def test_cuda_oom_on_a_single_pair_fails_that_pair(tiny_engine, monkeypatch):
    def always_oom(requests, size):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(tiny_engine, "_generate", always_oom)
    outputs = tiny_engine([make_request(60), make_request(61)])
    assert [output.error_type for output in outputs] == ["out_of_memory", "out_of_memory"]


def _host_oom(requests, size):
    raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")


def test_host_oom_stops_with_a_clear_error(tiny_engine, monkeypatch):
    monkeypatch.setattr(tiny_engine, "_generate", _host_oom)
    with pytest.raises(EngineOutOfMemoryError, match="lower batch_size or sdxl.resolution"):
        tiny_engine([make_request(70)])


class _BoxMasking:
    """Masks the centre of every photo (the runner test is about the engine, not masking)."""

    name, version = "box-masking", "1"

    def setup(self):
        pass

    def fingerprint(self):
        return "box"

    def __call__(self, batch):
        return [make_request(0, size=person.size).mask for _, person in batch]


class _FlatDepth:
    name, version = "flat-depth", "1"

    def setup(self):
        pass

    def fingerprint(self):
        return "flat"

    def __call__(self, batch):
        return [Image.new("RGB", person.size, (128, 128, 128)) for person in batch]


def test_host_oom_stops_the_run_instead_of_failing_every_pair(tiny_engine, monkeypatch, tmp_path):
    """Through the runner: stage isolation must not turn host OOM into a stage_error row per pair."""
    from tests.conftest import SAMPLE_DIR
    from tryon.catalogue.store import Catalogue
    from tryon.local import run_local
    from tryon.runner import ShardProcessor

    monkeypatch.setattr(tiny_engine, "_generate", _host_oom)
    config = tiny_config()
    processor = ShardProcessor(config, Catalogue(tmp_path), engine=tiny_engine, masking=_BoxMasking(),
                               depth=_FlatDepth())
    with pytest.raises(EngineOutOfMemoryError, match="host memory ran out"):
        run_local(SAMPLE_DIR / "manifest.parquet", tmp_path, config, processor=processor)


def test_scheduler_names_map_to_diffusers_schedulers(tiny_engine):
    config = tiny_engine.loaded.pipeline.scheduler.config
    for name, (class_name, extra) in SCHEDULERS.items():
        scheduler = getattr(diffusers, class_name).from_config(config, **extra)
        assert type(scheduler).__name__ == class_name, name
    assert type(tiny_engine.loaded.pipeline.scheduler).__name__ == "EulerDiscreteScheduler"


def test_fingerprint_follows_settings(tiny_engine):
    before = tiny_engine.fingerprint()
    tiny_engine.set_lora("tiny-lora-b", 0.5)
    assert tiny_engine.fingerprint() != before
    tiny_engine.set_lora(None)
    assert tiny_engine.fingerprint() == before


def test_garment_and_prompt_reach_the_model(tiny_engine):
    request = make_request(80)
    reference = pixels(tiny_engine([request])[0])
    other_garment = make_request(80)
    other_garment.garment = Image.new("RGB", (40, 32), (250, 10, 10))
    other_prompt = make_request(80, prompt="a green coat")
    assert not np.array_equal(pixels(tiny_engine([other_garment])[0]), reference)
    assert not np.array_equal(pixels(tiny_engine([other_prompt])[0]), reference)


def test_large_photo_is_inpainted_as_a_crop_at_the_bucket_and_stitched_back(tiny_engine, monkeypatch):
    """A 2400x3200 photo keeps its size; only the crop (not the photo) reaches the model, at the bucket size;
    nothing outside the mask changes."""
    request = make_request(90, size=(2400, 3200))
    plan = tiny_engine.crop_plan(request)
    pipeline = tiny_engine.loaded.pipeline
    canvases = []
    original_call = type(pipeline).__call__

    def spy(self, *args, **kwargs):
        canvases.append(kwargs["image"][0].copy())
        return original_call(self, *args, **kwargs)

    monkeypatch.setattr(type(pipeline), "__call__", spy)
    output = tiny_engine([request])[0]
    assert output.image.size == (2400, 3200) and output.raw_image.size == (2400, 3200)
    expected_canvas = request.person.crop(plan.box).resize(plan.bucket, Image.LANCZOS)
    assert canvases[0].size == plan.bucket and np.array_equal(np.asarray(canvases[0]), np.asarray(expected_canvas))
    assert plan.size[0] < 2400 and plan.size[1] < 3200
    assert output.parameters["crop_box"] == list(plan.box) and output.parameters["bucket"] == list(plan.bucket)
    image, person, mask = np.asarray(output.image), np.asarray(request.person), request.mask.garment_mask
    assert np.array_equal(image[~mask], person[~mask])
    assert not np.array_equal(image[mask], person[mask])
    left, top, right, bottom = plan.box
    raw = np.asarray(output.raw_image)
    assert np.array_equal(raw[:top], person[:top]) and not np.array_equal(raw[top:bottom], person[top:bottom])


def test_mask_touching_the_image_border(tiny_engine):
    request = make_request(91, size=(90, 120))
    mask = np.zeros((120, 90), dtype=bool)
    mask[:50, 60:] = True  # top-right corner
    request.mask.garment_mask = mask
    output = tiny_engine([request])[0]
    assert isinstance(output, TryOnOutput) and output.image.size == (90, 120)
    left, top, right, bottom = output.parameters["crop_box"]
    assert top == 0 and right == 90
    image, person = np.asarray(output.image), np.asarray(request.person)
    assert np.array_equal(image[~mask], person[~mask]) and not np.array_equal(image[mask], person[mask])


def test_each_garment_is_encoded_once_per_catalogue(tiny_engine, tmp_path, sample_dir):
    """2 garments x 2 people: the runner encodes 2 garments, not 4; a later run over the same cache none."""
    from tests.conftest import write_manifest
    from tryon.catalogue.store import Catalogue
    from tryon.local import run_local
    from tryon.runner import ShardProcessor

    people = ["people/astronaut.png", "people/grace_hopper.jpg"]
    garments = ["garments/red_tshirt.png", "garments/navy_striped_tshirt.png"]
    rows = [{"pair_id": f"p{index}", "person_image": person, "garment_image": garment, "category": "upper_body"}
            for index, (person, garment) in enumerate((p, g) for p in people for g in garments)]
    config = tiny_config()
    processor = ShardProcessor(config, Catalogue(tmp_path / "cat"), engine=tiny_engine, masking=_BoxMasking(),
                               depth=_FlatDepth())
    record = run_local(write_manifest(sample_dir / "grid.parquet", rows), tmp_path / "cat", config, processor=processor)
    assert record["pairs_succeeded"] == 4
    assert json.loads(record["stage_calls"])["garment_encode"] == 2
    again = [{**rows[0], "pair_id": "p0-again"}]
    record = run_local(write_manifest(sample_dir / "again.parquet", again), tmp_path / "cat", config,
                       processor=processor)
    assert record["pairs_succeeded"] == 1 and json.loads(record["stage_calls"]).get("garment_encode", 0) == 0


class _SpyDepth(_FlatDepth):
    def __init__(self):
        self.inputs = []

    def __call__(self, batch):
        self.inputs.extend(batch)
        return super().__call__(batch)


def test_depth_is_computed_on_the_garment_agnostic_person_by_default(tiny_engine, tmp_path):
    from tests.conftest import SAMPLE_DIR
    from tryon.catalogue.store import Catalogue
    from tryon.local import run_local
    from tryon.runner import ShardProcessor

    config = tiny_config()
    assert config.depth.source == "agnostic" and config.sdxl.control_guidance_end < 1.0
    depth = _SpyDepth()
    processor = ShardProcessor(config, Catalogue(tmp_path), engine=tiny_engine, masking=_BoxMasking(), depth=depth)
    run_local(SAMPLE_DIR / "manifest.parquet", tmp_path, config, processor=processor)
    assert len(depth.inputs) == 2  # two distinct people (and masks) in the sample
    person = Image.open(SAMPLE_DIR / "people" / "astronaut.png").convert("RGB")
    depth_input = next(image for image in depth.inputs if image.size == person.size)
    mask = _BoxMasking()([(None, person)])[0].garment_mask
    assert np.array_equal(np.asarray(depth_input)[~mask], np.asarray(person)[~mask])
    assert not np.array_equal(np.asarray(depth_input)[mask], np.asarray(person)[mask])
    import tryon.catalogue as cat

    parameters = [json.loads(value) for value in cat.load(tmp_path)["engine_parameters"].dropna()]
    assert parameters and all(item["depth_source"] == "agnostic" for item in parameters)


def test_ip_adapter_plus_is_the_default_and_sees_the_whole_tall_garment(tiny_engine):
    from diffusers.models.embeddings import IPAdapterPlusImageProjection

    projection = tiny_engine.loaded.pipeline.unet.encoder_hid_proj.image_projection_layers[0]
    assert isinstance(projection, IPAdapterPlusImageProjection)
    assert tiny_engine.preset.components["ip_adapter"].name == "ip_adapter_plus"
    tall = np.random.RandomState(5).randint(0, 256, (200, 60, 3), dtype=np.uint8)
    other_hem = tall.copy()
    other_hem[:20] = 255 - other_hem[:20]  # differs only where a centre crop would cut
    first, second = tiny_engine.garment_encoder([Image.fromarray(tall), Image.fromarray(other_hem)])
    assert first.ndim == 2 and first.shape[0] > 1  # patch tokens, not one pooled vector
    assert not np.array_equal(first, second)


def test_plain_ip_adapter_is_selectable(tiny_hf_home, monkeypatch):
    from diffusers.models.embeddings import ImageProjection

    use_hf_home(monkeypatch, tiny_hf_home)
    plain = SdxlEngine(tiny_config(ip_adapter="plain"))
    assert "ip_adapter_plus" not in plain.model_info()["model_revisions"]
    plain.setup()
    assert isinstance(plain.loaded.pipeline.unet.encoder_hid_proj.image_projection_layers[0], ImageProjection)
    output = plain([make_request(95)])[0]
    assert isinstance(output, TryOnOutput) and output.parameters["ip_adapter"] == "plain"
    assert plain.fingerprint() != SdxlEngine(tiny_config()).fingerprint()
