"""`tryon score` end to end: earlier outputs scored into a new catalogue, queried and reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import tryon.catalogue as cat
from tests.conftest import SAMPLE_DIR
from tryon.config import RunConfig

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
def scored_catalogue(tmp_path_factory):
    """A preview run of the sample, then a manifest of its outputs (plus bad rows) scored with `tryon score`."""
    from flows.catalogue_run import catalogue_run
    from flows.cli import main

    work = tmp_path_factory.mktemp("score")
    shutil.copytree(SAMPLE_DIR, work / "sample", ignore=shutil.ignore_patterns("*.py"))
    first = work / "first"
    catalogue_run(manifest=str(work / "sample" / "manifest.parquet"), catalogue=str(first),
                  config=RunConfig(engine="preview"), show_progress=False)
    earlier = cat.load(first).set_index("pair_id")
    manifest = pd.read_parquet(work / "sample" / "manifest.parquet")
    manifest = manifest[manifest["pair_id"].isin(["p001", "p002", "p003", "p004"])].copy()
    manifest["person_image"] = "sample/" + manifest["person_image"]
    manifest["garment_image"] = "sample/" + manifest["garment_image"]
    outputs = work / "outputs"
    outputs.mkdir()
    for pair_id in manifest["pair_id"]:
        shutil.copy(first / earlier.loc[pair_id, "output_image"], outputs / f"{pair_id}.png")
    # p002 came back at half size (same framing); p003's file is missing; p004 is a square crop.
    p002 = Image.open(outputs / "p002.png")
    p002.resize((p002.width // 2, p002.height // 2), Image.Resampling.LANCZOS).save(outputs / "p002.png")
    (outputs / "p003.png").unlink()
    p004 = Image.open(outputs / "p004.png")
    p004.crop((0, 0, p004.width, p004.width - 100)).save(outputs / "p004.png")
    manifest["output_image"] = ["outputs/" + f"{pair_id}.png" for pair_id in manifest["pair_id"]]
    manifest.to_parquet(work / "scored.parquet", index=False)

    second = work / "second"
    assert main(["score", str(work / "scored.parquet"), "--catalogue", str(second), "--engine-name", "tryon-preview",
                 "-q"]) == 0
    return work, earlier, second


def test_each_pair_gets_an_ordinary_row_named_by_the_engine(scored_catalogue):
    work, earlier, second = scored_catalogue
    latest = cat.load(second).set_index("pair_id")
    assert sorted(latest.index) == ["p001", "p002", "p003", "p004"]
    assert set(latest["engine"]) == {"tryon-preview"}
    p001 = latest.loc["p001"]
    assert p001["status"] == "succeeded" and p001["output_resized_from"] is None
    # a copy inside the new catalogue (paths are relative to it), pixel for pixel the earlier output
    assert not Path(p001["output_image"]).is_absolute() and (second / p001["output_image"]).is_file()
    assert np.array_equal(np.asarray(Image.open(second / p001["output_image"])),
                          np.asarray(Image.open(work / "first" / earlier.loc["p001", "output_image"])))
    # same photo, same mask rule: the metrics are those of the run that made the output
    for column in ("garment_color_delta_e", "garment_unchanged_fraction", "seam_edge_fraction", "garment_pattern_distance"):
        assert p001[column] == pytest.approx(earlier.loc["p001", column], abs=1e-9), column
    assert p001["needs_review"] == earlier.loc["p001", "needs_review"]


def test_bad_outputs_follow_the_row_rules(scored_catalogue):
    work, _, second = scored_catalogue
    latest = cat.load(second).set_index("pair_id")
    assert latest.loc["p002", "status"] == "succeeded" and latest.loc["p002", "output_resized_from"] == "256x300"
    assert latest.loc["p003", "status"] == "failed" and latest.loc["p003", "error_type"] == "missing_file"
    assert "output_image" in latest.loc["p003", "error_message"] and "p003" in latest.loc["p003", "error_message"]
    assert latest.loc["p004", "error_type"] == "output_aspect_mismatch" and "p004" in latest.loc["p004", "error_message"]


def test_scored_rows_are_queryable_with_the_same_sql_and_the_run_records_the_protocol(scored_catalogue):
    work, _, second = scored_catalogue
    frame = cat.query(second, "SELECT engine, status, count(*) AS n FROM latest GROUP BY ALL ORDER BY status")
    assert frame.to_dict("records") == [{"engine": "tryon-preview", "status": "failed", "n": 2},
                                        {"engine": "tryon-preview", "status": "succeeded", "n": 2}]
    run = cat.query(second, "SELECT engine, metric_protocol, config_hash FROM runs").iloc[0]
    protocol = json.loads(run["metric_protocol"])
    assert run["engine"] == "tryon-preview" and protocol["paste_back"] is None and protocol["lpips_backbone"] is None
    assert "Lanczos" in protocol["ground_truth_resize"]


def test_report_draws_the_scored_rows(scored_catalogue):
    from tryon.report import write_report

    work, _, second = scored_catalogue
    html = write_report(second, work / "report.html").read_text(encoding="utf-8")
    assert "tryon-preview" in html and all(pair_id in html for pair_id in ("p001", "p002", "p003", "p004"))


def test_a_manifest_without_output_image_is_refused_in_one_line(scored_catalogue, capsys):
    from flows.cli import main

    work, _, _ = scored_catalogue
    assert main(["score", str(work / "sample" / "manifest.parquet"), "--catalogue", str(work / "third")]) == 2
    assert "output_image" in capsys.readouterr().err
