"""RayExecutor on a local Ray instance (2 CPU workers): same rows as in-process, and a worker
killed mid-shard costs only that shard, which is retried and written once."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

import pytest

import tryon.catalogue as cat
from tryon.config import RunConfig
from tryon.executors import LocalExecutor
from tryon.executors.ray import WORKER_LOST, RayExecutor

from tests.executors.conftest import outcome, run_with
from tests.executors.faulty import FaultyRayExecutor, calls, plan_fault

pytestmark = pytest.mark.slow
CONFIG = RunConfig(engine="preview", shard_size=2, executor="ray", workers=2)
PAIR_IDS = ["p001", "p002", "p003", "p004", "p005"]


@pytest.fixture(scope="module")
def local_outcome(sample_manifest, tmp_path_factory) -> list[tuple]:
    catalogue = tmp_path_factory.mktemp("local") / "catalogue"
    run_with(LocalExecutor, sample_manifest, catalogue, CONFIG.with_overrides(executor="local"))
    return outcome(catalogue)


def test_ray_rows_match_local(ray_cluster, sample_manifest, local_outcome, tmp_path):
    record, executor = run_with(partial(RayExecutor, workers=2), sample_manifest, tmp_path / "catalogue", CONFIG)
    assert record["status"] == "finished"
    assert (record["pairs_succeeded"], record["pairs_failed"]) == (4, 1)
    assert outcome(tmp_path / "catalogue") == local_outcome
    assert [pair_id for pair_id, *_ in local_outcome] == PAIR_IDS
    assert local_outcome[-1][1:3] == ("failed", "person_cut_off")
    stats = executor.stats()
    assert stats.stage_calls["engine_compute"] >= 2 and stats.stage_calls["ray_worker_deaths"] == 0
    assert stats.seconds_by_stage["setup_masking"] > 0  # gathered from both workers


def test_worker_killed_mid_shard_retries_only_that_shard(ray_cluster, sample_manifest, local_outcome, tmp_path):
    plan_fault(tmp_path, shard="shard-00001", deaths=1)
    record, executor = run_with(partial(FaultyRayExecutor, workers=2), sample_manifest, tmp_path / "catalogue", CONFIG)
    assert (executor.worker_deaths, executor.shard_retries) == (1, 1)
    assert Counter(calls(tmp_path)) == {"shard-00000": 1, "shard-00001": 2, "shard-00002": 1}
    run_rows = cat.load(tmp_path / "catalogue", run_id=record["run_id"])
    assert sorted(run_rows["pair_id"]) == PAIR_IDS  # every pair once: nothing lost, nothing written twice
    latest = cat.load(tmp_path / "catalogue")
    assert latest["pair_id"].is_unique and sorted(latest["pair_id"]) == PAIR_IDS
    assert outcome(tmp_path / "catalogue") == local_outcome
    assert record["pairs_succeeded"] == 4


def test_shard_whose_worker_keeps_dying_becomes_worker_lost_rows(ray_cluster, sample_manifest, tmp_path):
    plan_fault(tmp_path, shard="shard-00001", deaths=99)
    executor_for = partial(FaultyRayExecutor, workers=2, max_retries=1)
    record, executor = run_with(executor_for, sample_manifest, tmp_path / "catalogue", CONFIG)
    assert (executor.worker_deaths, executor.shard_retries) == (2, 1)
    latest = cat.load(tmp_path / "catalogue").set_index("pair_id")
    assert sorted(latest.index) == PAIR_IDS
    for pair_id in ("p003", "p004"):
        assert latest.loc[pair_id, "error_type"] == WORKER_LOST
        assert pair_id in latest.loc[pair_id, "error_message"] and "rerun-failed" in latest.loc[pair_id, "error_message"]
    assert list(latest.loc[["p001", "p002"], "status"]) == ["succeeded", "succeeded"]
    assert record["status"] == "finished" and record["pairs_failed"] == 3


@pytest.mark.flow
def test_flow_with_ray_executor_matches_local(ray_cluster, sample_manifest, local_outcome, tmp_path):
    from flows.catalogue_run import catalogue_run

    record = catalogue_run(manifest=str(sample_manifest), catalogue=str(tmp_path / "catalogue"), config=CONFIG,
                           show_progress=False)
    assert record["status"] == "finished"
    assert outcome(tmp_path / "catalogue") == local_outcome
    assert '"ray_shard_retries": 0' in record["stage_calls"]
    assert len(list((tmp_path / "catalogue" / "results").glob("run_id=*/shard-*.parquet"))) == 3
