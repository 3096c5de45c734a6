"""A corrupt or foreign file in results/ or runs/ is skipped with a warning that names it:
readers, runs, rerun-failed and the report go on, and no junk row is ever merged in."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tryon.catalogue as cat
from tryon.catalogue.schema import result_schema
from tryon.catalogue.store import Catalogue, utc_now
from tryon.failures import failed_pair_ids
from tryon.planning import select_rows

RUN_ID = "20260101T000000-aaaaaa"


def _good_catalogue(root: Path) -> Catalogue:
    catalogue = Catalogue(root).create()
    schema = result_schema(["preserve_ssim"], {})
    rows = [{"pair_id": "good", "status": "failed", "error_type": "no_person", "row_index": 0, "finished_at": utc_now()}]
    catalogue.write_results(RUN_ID, "shard-00000", rows, schema)
    catalogue.write_run({"run_id": RUN_ID, "status": "finished", "kind": "run"})
    return catalogue


def _truncated(path: Path) -> bytes:
    data = path.read_bytes()
    return data[: len(data) // 2]


def _foreign(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


JUNK = {
    "empty": lambda good, path: path.write_bytes(b""),
    "not_parquet": lambda good, path: path.write_bytes(b"PAR1 this is not parquet at all PAR1"),
    "truncated": lambda good, path: path.write_bytes(_truncated(good)),
    "foreign_columns": lambda good, path: _foreign(pa.table({"pair_id": ["junk"], "x": [1]}), path),
    "wrong_types": lambda good, path: _foreign(
        pa.table({"pair_id": ["junk"], "row_index": ["zero"], "status": ["succeeded"], "error_type": [None],
                  "input_hash": ["h"], "config_hash": ["c"], "finished_at": [utc_now()]}), path),
    "a_folder": lambda good, path: path.mkdir(),
}


@pytest.mark.parametrize("kind", sorted(JUNK))
@pytest.mark.parametrize("where", ["same_run", "own_run_folder"])
def test_junk_in_results_is_skipped_with_a_warning_naming_it(tmp_path: Path, caplog, kind: str, where: str):
    catalogue = _good_catalogue(tmp_path / "c")
    good = catalogue.shard_path(RUN_ID, "shard-00000")
    folder = good.parent if where == "same_run" else catalogue.results_dir / "run_id=20270101T000000-ffffff"
    folder.mkdir(parents=True, exist_ok=True)
    junk = folder / "shard-00001.parquet"
    JUNK[kind](good, junk)
    with caplog.at_level(logging.WARNING):
        latest = cat.load(catalogue.root)
        assert latest["pair_id"].tolist() == ["good"]  # no junk row, nothing lost
        assert failed_pair_ids(catalogue) == ["good"]
        assert select_rows(catalogue, ["pair_id", "status"], "latest") == [{"pair_id": "good", "status": "failed"}]
    if kind != "a_folder":  # a folder is not a file: nothing to say about it
        assert any(str(junk) in record.getMessage() and "skipping" in record.getMessage()
                   for record in caplog.records), caplog.text


@pytest.mark.parametrize("kind", ["empty", "not_parquet", "truncated", "foreign_columns"])
def test_junk_in_runs_is_skipped_with_a_warning_naming_it(tmp_path: Path, caplog, kind: str):
    catalogue = _good_catalogue(tmp_path / "c")
    junk = catalogue.runs_dir / "run-20270101T000000-ffffff.parquet"
    JUNK[kind](catalogue.runs_dir / f"run-{RUN_ID}.parquet", junk)
    with caplog.at_level(logging.WARNING):
        assert [record["run_id"] for record in catalogue.read_runs()] == [RUN_ID]
        assert catalogue.run_record()["run_id"] == RUN_ID
        assert cat.runs(catalogue.root)["run_id"].tolist() == [RUN_ID]
    assert str(junk) in caplog.text


def test_report_and_cli_name_the_skipped_file(tmp_path: Path, capsys, caplog):
    from flows.cli import main

    catalogue = _good_catalogue(tmp_path / "c")
    junk = catalogue.shard_path(RUN_ID, "shard-00001")
    junk.write_bytes(b"garbage")
    caplog.set_level(logging.WARNING)
    assert main(["report", "--catalogue", str(catalogue.root), "--out", str(tmp_path / "r.html")]) == 0
    assert main(["query", "--catalogue", str(catalogue.root), "--format", "csv", "SELECT pair_id FROM latest"]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == ["pair_id", "good"]
    assert str(junk) in caplog.text and "Traceback" not in captured.err
    assert "good" in (tmp_path / "r.html").read_text()


@pytest.mark.slow  # ~20 s on 2 loaded cores: masking set-up
def test_a_run_over_a_catalogue_with_junk_finishes(sample_dir: Path, tmp_path: Path, caplog):
    from tryon.config import RunConfig
    from tryon.local import run_local

    manifest = sample_dir / "one.parquet"
    pd.read_parquet(sample_dir / "manifest.parquet").head(1).to_parquet(manifest, index=False)
    catalogue = _good_catalogue(tmp_path / "c")
    junk = catalogue.shard_path(RUN_ID, "shard-00001")
    _foreign(pa.table({"pair_id": ["p001"], "status": ["succeeded"]}), junk)
    with caplog.at_level(logging.WARNING):
        record = run_local(manifest, catalogue.root, RunConfig(engine="preview"))
    assert record["status"] == "finished" and record["pairs_planned"] == 1  # the junk row did not count as done
    assert sorted(cat.load(catalogue.root)["pair_id"]) == ["good", "p001"]
    assert str(junk) in caplog.text


@pytest.mark.parametrize("first_type, first_value, expected", [
    (pa.int64(), 5, ["5", "S"]),  # read as text
    (pa.list_(pa.string()), ["a", "b"], None),  # cannot be text: left out of the views
])
def test_a_carried_column_whose_type_changed_between_runs(tmp_path: Path, caplog, first_type, first_value, expected):
    catalogue = Catalogue(tmp_path / "c").create()
    for run_id, value, value_type in [("20260101T000000-aaaaaa", first_value, first_type),
                                      ("20260102T000000-bbbbbb", "S", pa.string())]:
        rows = [{"pair_id": run_id[-1], "status": "succeeded", "row_index": 0, "finished_at": utc_now(), "sku": value}]
        catalogue.write_results(run_id, "shard-00000", rows, result_schema([], {"sku": value_type}))
    with caplog.at_level(logging.WARNING):
        frame = cat.query(catalogue.root, "SELECT * FROM results ORDER BY run_id")
    assert frame["pair_id"].tolist() == ["a", "b"]
    if expected is None:
        assert "sku" not in frame.columns
    else:
        assert frame["sku"].tolist() == expected
    assert "'sku' has different types" in caplog.text
