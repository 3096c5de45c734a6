"""`catalogue_run`: manifest → masking/depth (cached) → batched try-on → metrics → catalogue."""

# No `from __future__ import annotations`: Prefect builds the flow's parameter model from these
# annotations, and postponed (string) ones fail when a deployment loads the flow from its entrypoint.
import logging
import sys
from pathlib import Path
from typing import Any

import flows  # noqa: F401 - sets Prefect's privacy/quiet defaults before prefect is imported
from prefect import flow
from prefect.utilities.annotations import quote
from tqdm.auto import tqdm

from tasks.manifest import validate_manifest_task
from tasks.shards import process_shard, setup_stages, write_shard
from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig, load_config
from tryon.executors import LocalExecutor
from tryon.failures import reseed
from tryon.runner import ShardProcessor
from tryon.session import RunSession, format_summary

log = logging.getLogger("tryon.flow")


@flow(name="catalogue-run", validate_parameters=True)
def catalogue_run(
    manifest: str,
    catalogue: str,
    config: RunConfig | None = None,
    config_file: str | None = None,
    engine: str | None = None,
    models: str | None = None,
    data_root: str | None = None,
    only_pair_ids: list[str] | None = None,
    parent_run_id: str | None = None,
    kind: str = "run",
    reseed_pair_ids: list[str] | None = None,
    show_progress: bool = True,
    force: bool = False,
) -> dict[str, Any]:
    """Process every valid pair of `manifest` into `catalogue` and return the run record.

    Pairs already done with identical inputs and config are skipped, so rerunning a killed
    or finished run only does what is missing; `force` redoes every pair the run takes
    (all, or `only_pair_ids`).
    """
    # 1. Configuration, validated once here and passed down.
    run_config = config if config is not None else load_config(config_file, engine=engine, models=models,
                                                               data_root=data_root)
    if config is not None and (engine or models or data_root):
        run_config = run_config.with_overrides(engine=engine, models=models, data_root=data_root)
    root = Catalogue(Path(catalogue))

    # 2. Manifest: manifest-level errors stop here, row-level ones become failed rows.
    validated = validate_manifest_task(
        manifest, str(run_config.data_root) if run_config.data_root else None, run_config.limits, only_pair_ids
    )

    with root.exclusive():
        # 3. Record the run and the rows that failed validation.
        session = RunSession(root, run_config, validated, kind=kind, parent_run_id=parent_run_id, force=force)
        if reseed_pair_ids:
            validated.pairs = reseed(validated.pairs, reseed_pair_ids, salt=session.run_id)
        session.start()
        session.write_invalid_rows()

        # 4. Plan: skip what is already done, split the rest into shards.
        todo = session.plan()
        session.write_refreshed_rows()  # stale rows that need no new images: re-written/re-scored here
        shards = session.shards(todo)
        if run_config.executor == "ray":
            from tryon.executors.ray import RayExecutor

            executor = RayExecutor(run_config, root, workers=run_config.workers, address=run_config.ray_address)
        else:
            processor = ShardProcessor(run_config, root)
            if todo:
                setup_stages(quote(processor))
            executor = LocalExecutor(run_config, root, processor, process_shard=lambda processor, shard_name, pairs:
                                     process_shard(quote(processor), shard_name, quote(pairs)))

        # 5. Shards: a Prefect task each here, or on Ray actors; rows land atomically per shard, as it finishes.
        with tqdm(total=len(todo), desc="try-on", unit="pair", disable=not show_progress or not todo,
                  file=sys.stderr, dynamic_ncols=True) as progress:
            if todo:
                with executor:
                    for shard_name, rows in executor.map_shards(shards):
                        write_shard(quote(session), shard_name, quote(rows))
                        progress.update(len(rows))

        # 6. Close the run record with counts and timings.
        stats = executor.stats()
        record = session.finish(dict(stats.seconds_by_stage), stats.cache_stats_dict(), dict(stats.stage_calls))
    if show_progress:
        print(format_summary(record, root.root), file=sys.stderr)
    return record
