"""The sdxl engine end to end through `catalogue_run` on the sample manifest, with the tiny
random-weight preset (its random-weight MiDaS included), all loaded offline through the production path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import tryon.catalogue as cat
from tests.conftest import SAMPLE_DIR
from tests.tiny_models import tiny_config, tiny_env, tiny_hf_home  # noqa: F401 - fixtures

pytestmark = [pytest.mark.flow, pytest.mark.slow]


def test_tiny_sdxl_catalogue_run(tiny_env, tmp_path):  # noqa: F811
    from flows.catalogue_run import catalogue_run
    from tryon.config import DepthConfig

    config = tiny_config().model_copy(update={"depth": DepthConfig(detect_resolution=64), "batch_size": 2})
    record = catalogue_run(manifest=str(SAMPLE_DIR / "manifest.parquet"), catalogue=str(tmp_path),
                           config=config, show_progress=False)
    assert record["pairs_succeeded"] == 4 and json.loads(record["failures_by_type"]) == {"person_cut_off": 1}
    latest = cat.load(tmp_path).set_index("pair_id")
    done = latest[latest["status"] == "succeeded"]
    assert set(done["model_preset"]) == {"tiny"} and done["random_weights"].all()
    assert done["model_fingerprint"].nunique() == 1 and "tryon-test/tiny-random" in done["model_revisions"].iloc[0]
    parameters = json.loads(done.loc["p001", "engine_parameters"])
    assert parameters["steps"] == 2 and parameters["seed"] == done.loc["p001", "seed"]
    for pair_id, row in done.iterrows():
        person = np.asarray(Image.open(SAMPLE_DIR / "people" / Path(row["person_image"]).name).convert("RGB"))
        depth = Image.open(tmp_path / row["depth_image"])
        output = np.asarray(Image.open(tmp_path / row["output_image"]).convert("RGB"))
        assert depth.mode == "RGB" and depth.size == (person.shape[1], person.shape[0])
        mask = np.asarray(Image.open(tmp_path / row["mask_image"])) > 0
        assert output.shape == person.shape and np.array_equal(output[~mask], person[~mask]), pair_id
    assert json.loads(record["stage_calls"])["depth_compute"] >= 1


# Batch 1 vs the default batch through the CLI, byte for byte: tests/flows/test_cli_errors.py::
# test_tiny_preset_runs_from_the_cli_on_a_fresh_hf_home (the flow path is the same).
