"""The executor settings pick where shards run, never what they produce."""

from __future__ import annotations

from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig
from tryon.executors import LocalExecutor, build_executor


def test_executor_settings_do_not_change_the_config_hash():
    scaled = RunConfig(executor="ray", workers=8, ray_address="ray://head:10001")
    assert scaled.config_hash() == RunConfig().config_hash()


def test_local_is_the_default_executor(tmp_path):
    assert isinstance(build_executor(RunConfig(), Catalogue(tmp_path)), LocalExecutor)


def test_local_executor_yields_rows_per_shard_through_the_given_call(sample_dir, tmp_path):
    from tests.executors.conftest import outcome, run_with

    seen: list[tuple[str, int]] = []

    def process_shard(processor, shard_name, pairs):
        seen.append((shard_name, len(pairs)))
        return processor.process(pairs)

    config = RunConfig(engine="preview", shard_size=3)
    record, executor = run_with(lambda config, root: LocalExecutor(config, root, process_shard=process_shard),
                                sample_dir / "manifest.parquet", tmp_path / "catalogue", config)
    assert seen == [("shard-00000", 3), ("shard-00001", 2)]
    assert [status for _, status, *_ in outcome(tmp_path / "catalogue")].count("succeeded") == 4
    assert executor.stats().stage_calls["engine_compute"] >= 1 and record["pairs_succeeded"] == 4
