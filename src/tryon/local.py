"""Run a manifest without Prefect: the same library steps the flow composes, in a plain loop.

For notebooks, tests and the overhead benchmark; production runs go through
`flows/catalogue_run.py`, which adds Prefect's orchestration around exactly these calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig
from tryon.executors.local import LocalExecutor
from tryon.manifest import validate_manifest
from tryon.runner import ShardProcessor
from tryon.session import RunSession


def run_local(manifest: str | Path, catalogue: str | Path, config: RunConfig = RunConfig(),
              processor: ShardProcessor | None = None, only_pair_ids: list[str] | None = None,
              kind: str = "run", parent_run_id: str | None = None, force: bool = False) -> dict[str, Any]:
    """Validate, plan, process and record one run; returns the run record.

    Pass a set-up `processor` to reuse loaded models across runs (its catalogue is replaced).
    """
    root = Catalogue(Path(catalogue))
    validated = validate_manifest(manifest, data_root=config.data_root, limits=config.limits,
                                  only_pair_ids=only_pair_ids)
    with root.exclusive():
        session = RunSession(root, config, validated, kind=kind, parent_run_id=parent_run_id, force=force)
        session.start()
        session.write_invalid_rows()
        todo = session.plan()
        session.write_refreshed_rows()
        if processor is None:
            processor = ShardProcessor(config, root)
        else:
            processor.catalogue, processor.cache = root, None
            processor.seconds_by_stage.clear()
            processor.stage_calls.clear()
        executor = LocalExecutor(config, root, processor)
        if todo:
            with executor:
                for shard_name, rows in executor.map_shards(session.shards(todo)):
                    session.write_shard(shard_name, rows)
        stats = executor.stats()
        return session.finish(dict(stats.seconds_by_stage), stats.cache_stats_dict(), dict(stats.stage_calls))
