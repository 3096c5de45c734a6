"""Shard-level Prefect tasks: set up the stages, run a shard, write its rows.

Prefect works at shard granularity (hundreds of pairs per task): its per-task overhead is
milliseconds, so one task per image would not scale. Per-pair caching of masks and depth
maps lives in the library (`tryon.cache`), keyed by content hash and integrity-checked,
which is why these tasks use `cache_policy=NONE` (see README, "Caching").
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NONE

from tryon.pairs import Pair
from tryon.runner import ShardProcessor
from tryon.session import RunSession


@task(name="setup-stages", cache_policy=NONE)
def setup_stages(processor: ShardProcessor) -> None:
    processor.setup()


@task(name="process-shard", cache_policy=NONE)
def process_shard(processor: ShardProcessor, shard_name: str, pairs: list[Pair]) -> list[dict[str, Any]]:
    return processor.process(pairs)


@task(name="write-shard", cache_policy=NONE, retries=2, retry_delay_seconds=1)
def write_shard(session: RunSession, shard_name: str, rows: list[dict[str, Any]]) -> int:
    session.write_shard(shard_name, rows)
    return len(rows)
