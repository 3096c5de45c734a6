"""End-to-end through the Prefect flows on the sample manifest with the preview engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

import tryon.catalogue as cat
from tryon.catalogue.schema import RESULT_FIELDS
from tryon.config import RunConfig

pytestmark = pytest.mark.flow
SAMPLE_MANIFEST = Path(__file__).resolve().parents[2] / "data" / "sample" / "manifest.parquet"


@pytest.fixture(scope="module")
def flows_module():
    from flows.catalogue_run import catalogue_run
    from flows.rerun_failed import rerun_failed

    return catalogue_run, rerun_failed


@pytest.fixture(scope="module")
def first_run(flows_module, tmp_path_factory):
    """One real run of the sample, shared by the tests that only read it."""
    from tests.conftest import SAMPLE_DIR

    catalogue_run, _ = flows_module
    sample = tmp_path_factory.mktemp("data") / "sample"
    shutil.copytree(SAMPLE_DIR, sample, ignore=shutil.ignore_patterns("*.py"))
    catalogue = tmp_path_factory.mktemp("catalogue")
    record = catalogue_run(manifest=str(sample / "manifest.parquet"), catalogue=str(catalogue),
                           config=RunConfig(engine="preview", shard_size=2), show_progress=False)
    return sample, catalogue, record


def test_first_run_writes_one_row_per_pair(first_run):
    sample, catalogue, record = first_run
    assert record["status"] == "finished" and record["pairs_total"] == 5
    assert record["pairs_succeeded"] + record["pairs_failed"] == 5
    latest = cat.load(catalogue).set_index("pair_id")
    assert sorted(latest.index) == ["p001", "p002", "p003", "p004", "p005"]
    for pair_id in ["p001", "p002", "p003", "p004"]:
        assert latest.loc[pair_id, "status"] == "succeeded", latest.loc[pair_id, "error_message"]
    p005 = latest.loc["p005"]
    assert p005["status"] == "failed" and p005["error_type"] == "person_cut_off"
    assert "p005" in p005["error_message"] and "mask_image" in p005["error_message"]
    # 5 pairs in shards of 2 -> 3 shard files, all whole Parquet files
    files = sorted((catalogue / "results").glob("run_id=*/*.parquet"))
    assert [path.name for path in files] == ["shard-00000.parquet", "shard-00001.parquet", "shard-00002.parquet"]
    assert sum(pq.read_metadata(path).num_rows for path in files) == 5


def test_rows_record_what_reproduces_them(first_run):
    sample, catalogue, record = first_run
    row = cat.load(catalogue).set_index("pair_id").loc["p002"]
    for field in RESULT_FIELDS:
        assert field.name in row.index or field.name == "pair_id"
    assert row["seed"] == 1234 and row["sku"] == "TS-NVY-02"
    assert row["engine"] == "preview" and row["model_fingerprint"] and row["config_hash"] == RunConfig().config_hash()
    assert json.loads(row["engine_parameters"])["blend"] in ("seamless", "alpha")
    assert row["prompt"].startswith("a photo of a person wearing a navy and white striped t-shirt")
    for column in ("output_image", "mask_image", "mask_overlay_image"):
        assert (catalogue / row[column]).is_file(), column
    assert row["depth_image"] is None  # the preview engine does not use depth
    assert row["seconds_masking"] > 0 and row["seconds_engine"] > 0
    assert 0.05 < row["mask_coverage_ratio"] < 1.0


def test_output_keeps_unmasked_pixels_and_changes_masked_ones(first_run):
    sample, catalogue, record = first_run
    row = cat.load(catalogue).set_index("pair_id").loc["p001"]
    output = np.asarray(Image.open(catalogue / row["output_image"]).convert("RGB")).astype(int)
    person = np.asarray(Image.open(sample / "people" / "astronaut.png").convert("RGB")).astype(int)
    mask = np.asarray(Image.open(catalogue / row["mask_image"])) > 0
    assert output.shape == person.shape
    assert np.array_equal(output[~mask], person[~mask])
    assert np.abs(output[mask] - person[mask]).mean() > 10


def test_run_record_has_counts_timings_and_versions(first_run):
    sample, catalogue, record = first_run
    runs = cat.runs(catalogue)
    assert len(runs) == 1 and runs.loc[0, "status"] == "finished"
    assert json.loads(runs.loc[0, "failures_by_type"]) == {"person_cut_off": 1}
    assert "torch" in json.loads(runs.loc[0, "library_versions"])
    assert RunConfig.model_validate_json(runs.loc[0, "config"]).engine == "preview"
    assert runs.loc[0, "pass_rate"] == pytest.approx(0.8)
    summary = json.loads(runs.loc[0, "metric_summary"])
    assert summary["preserve_ssim"]["p10"] <= summary["preserve_ssim"]["median"] <= summary["preserve_ssim"]["p90"]
    assert runs.loc[0, "fid_note"].startswith("skipped")


def test_repeat_run_does_no_stage_work_and_adds_no_latest_rows(flows_module, first_run, tmp_path):
    catalogue_run, _ = flows_module
    sample, catalogue, first = first_run
    copy = tmp_path / "catalogue"
    shutil.copytree(catalogue, copy)
    record = catalogue_run(manifest=str(sample / "manifest.parquet"), catalogue=str(copy),
                           config=RunConfig(engine="preview"), show_progress=False)
    assert record["pairs_skipped"] == 5 and record["pairs_planned"] == 0
    assert json.loads(record["stage_calls"]) == {}
    assert len(cat.load(copy)) == 5


def test_changed_garment_reruns_only_its_pairs_and_reuses_cached_masks(flows_module, first_run, tmp_path):
    catalogue_run, _ = flows_module
    sample, catalogue, first = first_run
    copy_catalogue, copy_sample = tmp_path / "catalogue", tmp_path / "sample"
    shutil.copytree(catalogue, copy_catalogue)
    shutil.copytree(sample, copy_sample)
    garment = copy_sample / "garments" / "green_check_shirt.png"
    Image.open(garment).transpose(Image.FLIP_LEFT_RIGHT).save(garment)
    record = catalogue_run(manifest=str(copy_sample / "manifest.parquet"), catalogue=str(copy_catalogue),
                           config=RunConfig(engine="preview"), show_progress=False)
    assert record["pairs_planned"] == 1  # p003 only
    calls = json.loads(record["stage_calls"])
    assert calls.get("masking_compute", 0) == 0 and calls["engine_compute"] == 1
    assert json.loads(record["cache_stats"])["masks"]["hits"] == 1


def test_deleted_cache_entry_is_recomputed(flows_module, first_run, tmp_path):
    catalogue_run, _ = flows_module
    sample, catalogue, first = first_run
    copy = tmp_path / "catalogue"
    shutil.copytree(catalogue, copy)
    shutil.rmtree(copy / "cache")
    record = catalogue_run(manifest=str(sample / "manifest.parquet"), catalogue=str(copy),
                           config=RunConfig(engine="preview", preview={"feather_px": 5}), show_progress=False)
    assert record["pairs_planned"] == 5  # new config hash -> everything again
    assert json.loads(record["stage_calls"])["masking_compute"] >= 1
    assert record["pairs_succeeded"] == 4


def test_rerun_failed_takes_exactly_the_failed_pairs(flows_module, first_run, tmp_path):
    _, rerun_failed = flows_module
    sample, catalogue, first = first_run
    copy = tmp_path / "catalogue"
    shutil.copytree(catalogue, copy)
    record = rerun_failed(catalogue=str(copy), show_progress=False)
    assert record["kind"] == "rerun-failed" and record["parent_run_id"] == first["run_id"]
    assert record["pairs_total"] == 1 and record["pairs_planned"] == 1
    rows = cat.load(copy, run_id=record["run_id"])
    assert rows["pair_id"].tolist() == ["p005"]
    assert len(cat.load(copy)) == 5


def test_cli_query_and_user_errors(first_run, tmp_path, capsys):
    from flows.cli import main

    sample, catalogue, record = first_run
    assert main(["query", "--catalogue", str(catalogue), "--format", "csv",
                 "SELECT pair_id, status FROM latest ORDER BY pair_id"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "pair_id,status" and out[1] == "p001,succeeded" and len(out) == 6
    assert main(["query", "--catalogue", str(catalogue), "SELECT nope FROM latest"]) == 2
    assert "query failed" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.parquet"), "--catalogue", str(tmp_path / "c"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]
    assert not (tmp_path / "c" / "results").exists()


def test_demo_command_runs_the_sample_and_writes_a_report(tmp_path, capsys):
    from flows.cli import main

    assert main(["demo", "--catalogue", str(tmp_path / "demo")]) == 0
    err = capsys.readouterr().err
    assert "4 succeeded, 1 failed" in err and "report:" in err
    assert (tmp_path / "demo" / "report.html").is_file()
    assert len(cat.load(tmp_path / "demo")) == 5


def test_rerun_failed_include_review_reseeds_flagged_pairs(flows_module, tmp_path):
    catalogue_run, rerun_failed = flows_module
    strict = RunConfig(engine="preview", quality_gate={"preserve_ssim": {"min": 1.5}})  # nothing can pass
    first = catalogue_run(manifest=str(SAMPLE_MANIFEST), catalogue=str(tmp_path), config=strict,
                          show_progress=False)
    flagged = cat.load(tmp_path).set_index("pair_id")
    assert flagged.loc["p001", "needs_review"] and "preserve_ssim" in flagged.loc["p001", "review_reasons"]
    record = rerun_failed(catalogue=str(tmp_path), include_review=True, show_progress=False)
    assert record["parent_run_id"] == first["run_id"] and record["pairs_planned"] == 5
    again = cat.load(tmp_path).set_index("pair_id")
    for pair_id in ["p001", "p002", "p003", "p004"]:
        assert again.loc[pair_id, "seed"] != flagged.loc[pair_id, "seed"]
        assert json.loads(again.loc[pair_id, "engine_parameters"])["seed"] == again.loc[pair_id, "seed"]


def test_cli_force_only_redoes_the_named_pairs(first_run, tmp_path, capsys):
    from flows.cli import main

    sample, catalogue, first = first_run
    copy = tmp_path / "catalogue"
    shutil.copytree(catalogue, copy)
    manifest = str(sample / "manifest.parquet")
    assert main(["run", manifest, "--catalogue", str(copy), "--only", "p404", "-q"]) == 2
    assert "p404" in capsys.readouterr().err
    assert main(["run", manifest, "--catalogue", str(copy), "--force", "--only", "p002", "p003", "-q"]) == 0
    record = cat.runs(copy).iloc[-1]
    assert json.loads(record["planned_by_reason"]) == {"forced": 2}
    assert sorted(cat.load(copy, run_id=record["run_id"])["pair_id"]) == ["p002", "p003"]
