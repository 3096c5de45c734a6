import multiprocessing
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tryon.catalogue as cat
from tryon.catalogue.schema import result_schema
from tryon.catalogue.store import Catalogue, CatalogueBusyError, utc_now


def _row(pair_id: str, status: str = "succeeded", row_index: int = 0, **extra) -> dict:
    return {"pair_id": pair_id, "status": status, "row_index": row_index, "finished_at": utc_now(), **extra}


def _schema() -> pa.Schema:
    return result_schema(["preserve_psnr", "is_blank", "mask_area"], {"sku": pa.string()})


def test_results_are_partitioned_by_run_and_readable_everywhere(tmp_path: Path):
    catalogue = Catalogue(tmp_path / "c").create()
    catalogue.write_results("20260101T000000-aaaaaa", "shard-00000", [_row("a", preserve_psnr=30.0, sku="S1")], _schema())
    catalogue.write_results("20260102T000000-bbbbbb", "shard-00000", [_row("a", "failed"), _row("b", row_index=1)], _schema())
    table = pq.read_table(catalogue.results_dir)
    assert table.num_rows == 3 and "run_id" in table.column_names
    assert table.schema.field("is_blank").type == pa.bool_() and table.schema.field("mask_area").type == pa.int64()
    latest = cat.load(catalogue.root)
    assert latest.set_index("pair_id")["status"].to_dict() == {"a": "failed", "b": "succeeded"}
    first_run = cat.load(catalogue.root, run_id="20260101T000000-aaaaaa")
    assert first_run["sku"].tolist() == ["S1"]


def test_latest_prefers_first_manifest_row_within_a_run(tmp_path: Path):
    catalogue = Catalogue(tmp_path).create()
    now = utc_now()
    rows = [
        {"pair_id": "a", "status": "failed", "row_index": 3, "error_type": "duplicate_pair_id", "finished_at": now},
        {"pair_id": "a", "status": "succeeded", "row_index": 0, "finished_at": now},
    ]
    catalogue.write_results("20260101T000000-aaaaaa", "shard-00000", rows, _schema())
    assert cat.load(tmp_path)["status"].tolist() == ["succeeded"]


def test_images_are_content_addressed(tmp_path: Path):
    import numpy as np

    catalogue = Catalogue(tmp_path).create()
    mask = np.zeros((4, 4), dtype=bool)
    first = catalogue.save_image(mask, "masks")
    assert catalogue.save_image(mask.copy(), "masks") == first
    assert (tmp_path / first[0]).is_file() and first[0].startswith("images/masks/")


def _hold_lock(root: str, ready, release) -> None:
    with Catalogue(Path(root)).exclusive():
        ready.set()
        release.wait(10)


def test_second_concurrent_run_refuses_and_lock_dies_with_its_process(tmp_path: Path):
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    assert ready.wait(10)
    with pytest.raises(CatalogueBusyError, match="another tryon run"):
        with Catalogue(tmp_path).exclusive():
            pass
    holder.kill()  # SIGKILL: the kernel drops the flock
    holder.join()
    with Catalogue(tmp_path).exclusive():
        pass


def test_runs_left_running_by_a_killed_process_become_interrupted(tmp_path: Path):
    catalogue = Catalogue(tmp_path).create()
    catalogue.write_run({"run_id": "20260101T000000-aaaaaa", "status": "running"})
    with catalogue.exclusive():
        pass
    assert catalogue.run_record()["status"] == "interrupted"



def test_run_ids_sort_by_time_within_one_second_and_after_older_ids():
    from datetime import datetime, timedelta, timezone

    from tryon.catalogue.store import new_run_id

    start = datetime(2026, 11, 30, 8, 13, 12, 5, tzinfo=timezone.utc)
    for _ in range(20):  # whatever the random suffixes, ids of one second sort by time
        ids = [new_run_id(start + timedelta(microseconds=step)) for step in (0, 1, 999_000)]
        assert sorted(reversed(ids)) == ids
    assert "20261130T081312-ffffff" < ids[0]  # an id written before microseconds were added
