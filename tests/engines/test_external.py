"""ExternalOutputs: hands back the manifest's output_image, resized onto the photo or refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tryon.config import RunConfig
from tryon.engines import build_engine
from tryon.engines.external import ExternalOutputs
from tryon.errors import PairError
from tryon.pairs import MaskResult, Pair, TryOnRequest


def request_for(tmp_path: Path, output_size: tuple[int, int] | None, person_size=(200, 300)) -> TryOnRequest:
    person = Image.new("RGB", person_size, (10, 20, 30))
    output_path = None
    if output_size is not None:
        output_path = tmp_path / "made_elsewhere.png"
        Image.fromarray(np.full((output_size[1], output_size[0], 3), 200, np.uint8)).save(output_path)
    pair = Pair(pair_id="p1", row_index=3, person_image=tmp_path / "person.png", garment_image=tmp_path / "g.png",
                category="upper_body", seed=0, person_sha256="a", garment_sha256="b", output_image=output_path,
                output_sha256="c" if output_path else None)
    mask = MaskResult(np.zeros(person_size[::-1], bool), np.zeros(person_size[::-1], bool), {}, "auto")
    return TryOnRequest(pair=pair, person=person, garment=person, mask=mask, depth=None, seed=0, prompt="")


def test_same_size_output_comes_back_unchanged_and_named(tmp_path):
    engine = build_engine(RunConfig(engine="external", external_name="idm-vton"))
    assert isinstance(engine, ExternalOutputs) and engine.name == "idm-vton" and not engine.needs_depth
    [output] = engine([request_for(tmp_path, (200, 300))])
    assert output.image.size == (200, 300) and output.raw_image is None
    assert np.asarray(output.image).max() == 200
    assert output.parameters["output_resized_from"] is None and output.parameters["engine"] == "idm-vton"


def test_a_smaller_output_of_the_same_aspect_is_resized_and_says_so(tmp_path):
    [output] = ExternalOutputs()([request_for(tmp_path, (100, 150))])
    assert output.image.size == (200, 300)
    assert output.parameters["output_resized_from"] == "100x150"


def test_another_aspect_ratio_or_no_output_fails_that_pair_clearly(tmp_path):
    wrong, missing = ExternalOutputs()([request_for(tmp_path, (300, 300)), request_for(tmp_path, None)])
    assert isinstance(wrong, PairError) and wrong.error_type == "output_aspect_mismatch"
    assert "row 3" in wrong.message and "made_elsewhere.png" in wrong.message and "300x300" in wrong.message
    assert isinstance(missing, PairError) and missing.error_type == "missing_output"


def test_external_config_hash_follows_the_name_and_leaves_other_engines_alone():
    assert RunConfig(engine="external").config_hash() != RunConfig(engine="external", external_name="x").config_hash()
    assert RunConfig().config_hash() == RunConfig(external_name="x").config_hash()
    assert RunConfig(engine="external", external_name="x").engine_label() == "x"
    assert RunConfig().engine_label() == "preview"


@pytest.mark.parametrize("content", [b"", b"not an image"])
def test_unreadable_output_is_a_pair_error(tmp_path, content):
    request = request_for(tmp_path, (200, 300))
    request.pair.output_image.write_bytes(content)
    [outcome] = ExternalOutputs()([request])
    assert isinstance(outcome, PairError) and "output_image" in outcome.message
