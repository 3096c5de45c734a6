"""Carried columns keep their Arrow types through a run, and a shard that cannot be written
fails its rows clearly and never leaves the run `running` (issue 14, item 3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tryon.catalogue as cat
import tryon.runner
from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig
from tryon.local import run_local

from tests.conftest import SAMPLE_DIR, typed_extras

PREVIEW = RunConfig(engine="preview")
EXTRAS = typed_extras()


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, target, ignore=shutil.ignore_patterns("*.py"))
    return target


def _manifest(sample: Path, rows: list[dict], extras: dict[str, pa.Array] | None = None) -> Path:
    table = pa.Table.from_pylist(rows)
    for name, values in (extras or {}).items():
        table = table.append_column(name, values)
    path = sample / "typed.parquet"
    pq.write_table(table, path)
    return path


def _pair(pair_id: str, person: str = "people/astronaut.png", category: str = "upper_body", **more) -> dict:
    return {"pair_id": pair_id, "person_image": person, "garment_image": "garments/red_tshirt.png",
            "category": category, **more}


def test_typed_extras_are_stored_with_their_types_and_values(sample: Path, tmp_path: Path):
    rows = [_pair("ok"), _pair("dress", category="dresses"), _pair("gone", person="people/nobody.png")]
    manifest = _manifest(sample, rows, EXTRAS)  # a success, a stage failure and a validation failure
    record = run_local(manifest, tmp_path / "c", PREVIEW)
    assert record["status"] == "finished" and record["pairs_succeeded"] == 1 and record["pairs_failed"] == 2
    stored = pq.read_table(tmp_path / "c" / "results" / f"run_id={record['run_id']}")
    for name, values in EXTRAS.items():
        assert stored.schema.field(name).type == values.type, name
    by_id = {row["pair_id"]: row for row in stored.to_pylist()}
    expected = pa.table(EXTRAS).to_pylist()
    for index, pair_id in enumerate(["ok", "dress", "gone"]):
        for name in EXTRAS:
            assert by_id[pair_id][name] == expected[index][name], (pair_id, name)
    latest = cat.load(tmp_path / "c").set_index("pair_id")
    assert list(latest.loc["ok", "colours"]) == ["red"]  # not split into characters


def test_an_unstorable_value_fails_its_row_and_the_run_finishes(sample: Path, tmp_path: Path, monkeypatch):
    real_metrics = tryon.runner.pair_metrics
    calls = []

    def one_bad_metric(**kwargs):
        metrics = real_metrics(**kwargs)
        calls.append(1)
        if len(calls) == 1:
            metrics["quality_blur_effect"] = "a lot"  # a stage bug: a string in a float column
        return metrics

    monkeypatch.setattr(tryon.runner, "pair_metrics", one_bad_metric)
    manifest = _manifest(sample, [_pair("first"), _pair("second", person="people/grace_hopper.jpg")])
    catalogue = tmp_path / "c"
    record = run_local(manifest, catalogue, RunConfig(engine="preview", batch_size=1))
    assert record["status"] == "finished"
    assert json.loads(record["failures_by_type"]) == {"write_failed": 1} and record["pairs_succeeded"] == 1
    latest = cat.load(catalogue).set_index("pair_id")
    failed = latest[latest["status"] == "failed"].iloc[0]
    assert failed["error_type"] == "write_failed" and "quality_blur_effect" in failed["error_message"]
    assert f"pair_id {failed.name!r}" in failed["error_message"] and "rerun-failed" in failed["error_message"]
    # A plain rerun does not repeat it; rerun-failed (the stage fixed) does.
    monkeypatch.setattr(tryon.runner, "pair_metrics", real_metrics)
    again = run_local(manifest, catalogue, PREVIEW)
    assert again["pairs_planned"] == 0
    retry = run_local(manifest, catalogue, PREVIEW, only_pair_ids=[failed.name], kind="rerun-failed")
    assert retry["pairs_succeeded"] == 1 and cat.load(catalogue)["status"].eq("succeeded").all()


def test_a_shard_that_cannot_be_written_closes_the_run_as_failed(sample: Path, tmp_path: Path, monkeypatch):
    real_write = Catalogue.write_results

    def disk_full(self, run_id, shard_name, rows, schema):
        if shard_name.startswith("shard-"):
            raise OSError(28, "No space left on device")
        return real_write(self, run_id, shard_name, rows, schema)

    monkeypatch.setattr(Catalogue, "write_results", disk_full)
    manifest = _manifest(sample, [_pair("first")])
    catalogue = Catalogue(tmp_path / "c")
    with pytest.raises(OSError, match="No space left"):
        run_local(manifest, catalogue.root, PREVIEW)
    record = catalogue.run_record()
    assert record["status"] == "failed" and "No space left on device" in record["error_message"]
    assert record["finished_at"] is not None
    monkeypatch.setattr(Catalogue, "write_results", real_write)
    later = run_local(manifest, catalogue.root, PREVIEW)
    assert later["pairs_succeeded"] == 1
    statuses = {run["run_id"]: run["status"] for run in catalogue.read_runs()}
    assert statuses == {record["run_id"]: "failed", later["run_id"]: "finished"}
