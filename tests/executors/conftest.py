"""A local Ray instance on this machine's CPUs, shared by the executor tests, and a runner
that drives any executor through the same session steps as the flow."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig
from tryon.executors import ShardExecutor
from tryon.manifest import validate_manifest
from tryon.session import RunSession

from tests.conftest import SAMPLE_DIR


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def sample_manifest(tmp_path_factory) -> Path:
    sample = tmp_path_factory.mktemp("data") / "sample"
    shutil.copytree(SAMPLE_DIR, sample, ignore=shutil.ignore_patterns("*.py"))
    return sample / "manifest.parquet"


def run_with(executor_for: Any, manifest: Path, catalogue: Path, config: RunConfig) -> tuple[dict, ShardExecutor]:
    """tryon.local.run_local's steps with the shards mapped by `executor_for(config, root)`."""
    root = Catalogue(catalogue)
    validated = validate_manifest(manifest, data_root=config.data_root, limits=config.limits)
    with root.exclusive():
        session = RunSession(root, config, validated)
        session.start()
        session.write_invalid_rows()
        executor = executor_for(config, root)
        with executor:
            for shard_name, rows in executor.map_shards(session.shards(session.plan())):
                session.write_shard(shard_name, rows)
        stats = executor.stats()
        record = session.finish(dict(stats.seconds_by_stage), stats.cache_stats_dict(), dict(stats.stage_calls))
    return record, executor


def outcome(catalogue: Path, run_id: str | None = None) -> list[tuple]:
    """What must not depend on the executor: per pair, status, error type and output hash."""
    import tryon.catalogue as cat

    rows = cat.load(catalogue, run_id=run_id) if run_id else cat.load(catalogue)
    rows = rows.sort_values("pair_id")
    return [(row.pair_id, row.status, row.error_type, row.output_sha256) for row in rows.itertuples()]
