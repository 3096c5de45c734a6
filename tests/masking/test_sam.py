"""SAM refinement path with a tiny random-weight SAM (same classes as segment_anything, small config)."""

from functools import partial

import pytest
import torch

from tryon.config import ImageLimits, MaskingConfig
from tryon.errors import ModelUnavailableError
from tryon.hashing import sha256_file
from tryon.masking import MaskingStage, sam
from tryon.masking.quality import load_ground_truth, polygon_mask
from tryon.pairs import MaskResult


def build_tiny_sam(checkpoint=None):
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    assert checkpoint is None, "the stage must load weights itself"
    torch.manual_seed(0)
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=2, embed_dim=32, img_size=256, mlp_ratio=2, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=2, patch_size=16, qkv_bias=True, use_rel_pos=True, global_attn_indexes=[1], window_size=4,
            out_chans=32,
        ),
        prompt_encoder=PromptEncoder(embed_dim=32, image_embedding_size=(16, 16), input_image_size=(256, 256), mask_in_chans=4),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3, transformer=TwoWayTransformer(depth=1, embedding_dim=32, mlp_dim=64, num_heads=2),
            transformer_dim=32, iou_head_depth=2, iou_head_hidden_dim=32,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    ).eval()


@pytest.fixture
def tiny_sam(tmp_path, monkeypatch):
    monkeypatch.setitem(sam.SAM_BUILDERS, "vit_b", build_tiny_sam)
    checkpoint = tmp_path / "sam_tiny.pth"
    torch.save(build_tiny_sam().state_dict(), checkpoint)
    return checkpoint


def test_sam_path_runs_and_respects_protected_parts(tiny_sam, masking_stage, people, make_pair, sample_dir, monkeypatch):
    stage = MaskingStage(MaskingConfig(sam_checkpoint=tiny_sam, sam_sha256=sha256_file(tiny_sam)), ImageLimits())
    stage.setup()
    embeddings = []
    monkeypatch.setattr(stage._sam.predictor, "set_image", _counting(stage._sam.predictor.set_image, embeddings))
    path, person = people["astronaut"]
    grace_path, grace = people["grace_hopper"]
    results = stage([(make_pair(path), person), (make_pair(grace_path), grace), (make_pair(path, category="dresses"), person)])
    stage.close()
    refined, refined_grace, cut_off = results
    assert isinstance(refined, MaskResult) and refined.mask_source == "auto+sam"
    assert refined.garment_mask.shape == (person.height, person.width) and refined.garment_mask.dtype == bool
    assert cut_off.error_type == "person_cut_off"
    assert len(embeddings) == 2  # once per image that reached SAM
    [auto] = masking_stage([(make_pair(path), person)])
    assert (refined.garment_mask >= auto.garment_mask).all()  # SAM only adds
    face = polygon_mask(load_ground_truth(sample_dir / "ground_truth" / "astronaut.json")["face"], person.size)
    assert not (refined.garment_mask & face).any()
    assert refined_grace.mask_source == "auto+sam"


def test_sam_checksum_mismatch_is_refused(tiny_sam):
    stage = MaskingStage(MaskingConfig(sam_checkpoint=tiny_sam, sam_sha256="f" * 64), ImageLimits())
    with pytest.raises(ModelUnavailableError, match="sam_sha256"):
        stage.setup()


def test_missing_sam_checkpoint_is_refused(tmp_path):
    stage = MaskingStage(MaskingConfig(sam_checkpoint=tmp_path / "nope.pth", sam_sha256="f" * 64), ImageLimits())
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        stage.setup()


class _Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_sam_checkpoint_with_code_is_refused(tiny_sam, tmp_path):
    evil = tmp_path / "evil.pth"
    torch.save({"weight": _Payload()}, evil)
    stage = MaskingStage(MaskingConfig(sam_checkpoint=evil, sam_sha256=sha256_file(evil)), ImageLimits())
    with pytest.raises(ModelUnavailableError, match="unpickled unsafely"):
        stage.setup()


def test_fingerprint_includes_sam_checksum(tiny_sam):
    first = MaskingStage(MaskingConfig(sam_checkpoint=tiny_sam, sam_sha256="a" * 64), ImageLimits()).fingerprint()
    second = MaskingStage(MaskingConfig(sam_checkpoint=tiny_sam, sam_sha256="b" * 64), ImageLimits()).fingerprint()
    plain = MaskingStage(MaskingConfig(), ImageLimits()).fingerprint()
    assert len({first, second, plain}) == 3


def _counting(function, calls):
    def wrapper(*args, **kwargs):
        calls.append(1)
        return function(*args, **kwargs)

    return wrapper
