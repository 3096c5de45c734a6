"""Planning against an existing catalogue (issue 14, items 4 and 11): what makes a row stale
and what each kind costs, `force`, and work that is never repeated (unchanged invalid rows,
identical pairs within a run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import tryon.catalogue as cat
from tryon.config import RunConfig
from tryon.local import run_local

from tests.conftest import SAMPLE_DIR

PREVIEW = RunConfig(engine="preview")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, Path, dict]:
    """The sample run once with the preview engine; scenarios work on copies of it."""
    sample = tmp_path_factory.mktemp("data") / "sample"
    shutil.copytree(SAMPLE_DIR, sample, ignore=shutil.ignore_patterns("*.py"))
    catalogue = tmp_path_factory.mktemp("catalogue") / "c"
    record = run_local(sample / "manifest.parquet", catalogue, PREVIEW)
    assert record["pairs_succeeded"] == 4
    return sample, catalogue, record


@pytest.fixture
def scenario(base, tmp_path) -> tuple[Path, Path, dict]:
    sample, catalogue, record = base
    copy = tmp_path / "c"
    shutil.copytree(catalogue, copy)
    return sample, copy, record


def _manifest(sample: Path, frame: pd.DataFrame, name: str) -> Path:
    path = sample / f"{name}.parquet"
    frame.to_parquet(path, index=False)
    return path


def _sample_frame(sample: Path) -> pd.DataFrame:
    return pd.read_parquet(sample / "manifest.parquet")


def _latest(catalogue: Path) -> pd.DataFrame:
    return cat.load(catalogue).set_index("pair_id")


def test_new_ground_truth_is_scored_against_the_stored_output(scenario):
    sample, catalogue, first = scenario
    before = _latest(catalogue)
    frame = _sample_frame(sample)
    frame["ground_truth_image"] = [None] * len(frame)
    frame.loc[frame["pair_id"] == "p001", "ground_truth_image"] = "people/astronaut.png"
    manifest = _manifest(sample, frame, "with-gt")
    record = run_local(manifest, catalogue, PREVIEW)
    assert json.loads(record["planned_by_reason"]) == {"ground_truth_changed": 1}
    assert json.loads(record["stage_calls"]) == {}  # no image made again
    after = _latest(catalogue)
    row = after.loc["p001"]
    assert row["gt_ssim"] > 0 and row["gt_psnr"] > 0 and row["ground_truth_sha256"]
    assert row["output_sha256"] == before.loc["p001", "output_sha256"]
    assert row["reused_from_run_id"] == first["run_id"] and row["run_id"] == record["run_id"]
    # The re-score gives what a full run would.
    forced = run_local(manifest, catalogue, PREVIEW, only_pair_ids=["p001"], force=True)
    assert json.loads(forced["planned_by_reason"]) == {"forced": 1}
    assert _latest(catalogue).loc["p001", "gt_ssim"] == pytest.approx(row["gt_ssim"])


def test_changed_carried_column_rewrites_the_row_without_new_images(scenario):
    sample, catalogue, _ = scenario
    before = _latest(catalogue)
    frame = _sample_frame(sample)
    frame.loc[frame["pair_id"] == "p002", "sku"] = "TS-NVY-99"
    record = run_local(_manifest(sample, frame, "new-sku"), catalogue, PREVIEW)
    assert json.loads(record["planned_by_reason"]) == {"extras_changed": 1}
    assert json.loads(record["stage_calls"]) == {}
    after = _latest(catalogue)
    assert after.loc["p002", "sku"] == "TS-NVY-99"
    assert after.loc["p002", "output_sha256"] == before.loc["p002", "output_sha256"]
    assert after.loc["p002", "preserve_ssim"] == before.loc["p002", "preserve_ssim"]
    # A failed pair's row is re-written too: it keeps its error, with the new carried value.
    frame.loc[frame["pair_id"] == "p005", "sku"] = "DR-YEL-99"
    run_local(_manifest(sample, frame, "new-sku-2"), catalogue, PREVIEW)
    p005 = _latest(catalogue).loc["p005"]
    assert p005["sku"] == "DR-YEL-99" and p005["error_type"] == "person_cut_off"


def test_tighter_quality_gate_rejudges_the_stored_metrics(scenario):
    sample, catalogue, _ = scenario
    strict = RunConfig(engine="preview", quality_gate={"preserve_ssim": {"min": 1.5}})
    assert strict.config_hash() == PREVIEW.config_hash()  # the gate changes no image
    record = run_local(sample / "manifest.parquet", catalogue, strict)
    assert json.loads(record["planned_by_reason"]) == {"gate_changed": 4}
    assert json.loads(record["stage_calls"]) == {}
    succeeded = _latest(catalogue).query("status == 'succeeded'")
    assert len(succeeded) == 4 and succeeded["needs_review"].all()
    assert succeeded["review_reasons"].str.contains("preserve_ssim").all()
    again = run_local(sample / "manifest.parquet", catalogue, strict)
    assert again["pairs_planned"] == 0  # judged once per gate


def test_deleted_output_image_is_made_again(scenario):
    sample, catalogue, _ = scenario
    output = catalogue / _latest(catalogue).loc["p001", "output_image"]
    output.unlink()
    record = run_local(sample / "manifest.parquet", catalogue, PREVIEW)
    assert json.loads(record["planned_by_reason"]) == {"output_missing": 1}
    assert json.loads(record["stage_calls"])["engine_compute"] == 1
    assert output.is_file()


def test_force_redoes_every_pair_or_only_the_named_ones(scenario):
    sample, catalogue, _ = scenario
    record = run_local(sample / "manifest.parquet", catalogue, PREVIEW, only_pair_ids=["p002"], force=True)
    assert json.loads(record["planned_by_reason"]) == {"forced": 1}
    assert cat.load(catalogue, run_id=record["run_id"])["pair_id"].tolist() == ["p002"]
    record = run_local(sample / "manifest.parquet", catalogue, PREVIEW, force=True)
    assert json.loads(record["planned_by_reason"]) == {"forced": 5}
    assert json.loads(record["stage_calls"])["engine_compute"] >= 1


def _bad_rows_frame(sample: Path, missing: str = "people/nobody.png") -> pd.DataFrame:
    frame = _sample_frame(sample).iloc[:2].copy()
    bad = pd.DataFrame([
        {"pair_id": "gone", "person_image": missing, "garment_image": "garments/red_tshirt.png",
         "category": "upper_body", "sku": "X1"},
        {"pair_id": "p001", "person_image": "people/astronaut.png", "garment_image": "garments/red_tshirt.png",
         "category": "upper_body", "sku": "X2"},  # duplicate id
        {"pair_id": "hat", "person_image": "people/astronaut.png", "garment_image": "garments/red_tshirt.png",
         "category": "hats", "sku": "X3"},
    ])
    return pd.concat([frame, bad], ignore_index=True)


def test_unchanged_invalid_rows_are_recorded_once(scenario):
    sample, catalogue, _ = scenario
    manifest = _manifest(sample, _bad_rows_frame(sample), "bad")
    first = run_local(manifest, catalogue, PREVIEW)
    assert first["pairs_failed"] == 3
    second = run_local(manifest, catalogue, PREVIEW)
    assert json.loads(second["skipped_by_reason"])["unchanged_invalid"] == 3
    assert not (catalogue / "results" / f"run_id={second['run_id']}").exists()
    # A bad row that changed (another missing file, a new carried value) is recorded again.
    changed = _bad_rows_frame(sample, missing="people/somebody.png")
    changed.loc[changed["pair_id"] == "hat", "sku"] = "X9"
    third = run_local(_manifest(sample, changed, "bad2"), catalogue, PREVIEW)
    rows = cat.load(catalogue, run_id=third["run_id"])
    assert sorted(rows["pair_id"]) == ["gone", "hat"]
    assert "somebody.png" in rows.set_index("pair_id").loc["gone", "error_message"]


def test_identical_pairs_are_computed_once_and_each_gets_its_row(scenario):
    sample, catalogue, _ = scenario
    same = {"person_image": "people/astronaut.png", "garment_image": "garments/red_tshirt.png",
            "category": "upper_body", "garment_description": "a plain red cotton t-shirt", "seed": 11}
    dress = {"person_image": "people/astronaut.png", "garment_image": "garments/yellow_dress.png",
             "category": "dresses", "garment_description": None, "seed": 12}
    rows = [{"pair_id": f"same-{n}", **same, "sku": f"S{n}"} for n in range(4)]
    rows += [{"pair_id": f"dress-{n}", **dress, "sku": f"D{n}"} for n in range(2)]
    rows.append({"pair_id": "other-seed", **same, "seed": 13, "sku": "S9"})  # another seed: other work
    manifest = _manifest(sample, pd.DataFrame(rows), "identical")
    record = run_local(manifest, catalogue, RunConfig(engine="preview", batch_size=1))
    assert record["pairs_planned"] == 7 and record["pairs_succeeded"] == 5 and record["pairs_failed"] == 2
    assert json.loads(record["stage_calls"])["engine_compute"] == 2
    latest = _latest(catalogue)
    same_rows = latest.loc[[f"same-{n}" for n in range(4)]]
    assert same_rows["output_sha256"].nunique() == 1 and same_rows["status"].eq("succeeded").all()
    assert latest.loc["other-seed", "seed"] == 13 and same_rows["seed"].eq(11).all()
    assert same_rows["sku"].tolist() == ["S0", "S1", "S2", "S3"]
    assert same_rows["row_index"].tolist() == [0, 1, 2, 3]
    for n in range(2):
        row = latest.loc[f"dress-{n}"]
        assert row["error_type"] == "person_cut_off" and f"pair_id 'dress-{n}'" in row["error_message"]
        assert f"row {4 + n} " in row["error_message"]
