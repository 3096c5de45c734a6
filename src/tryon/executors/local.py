"""Shards one after another through one ShardProcessor in this process."""

from __future__ import annotations

from typing import Any, Callable, Iterator

from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig
from tryon.executors.base import ExecutorStats, Shard, ShardExecutor
from tryon.pairs import Pair
from tryon.runner import ShardProcessor

ProcessShard = Callable[[ShardProcessor, str, list[Pair]], list[dict[str, Any]]]


def _process(processor: ShardProcessor, shard_name: str, pairs: list[Pair]) -> list[dict[str, Any]]:
    return processor.process(pairs)


class LocalExecutor(ShardExecutor):
    """One worker: this process. `process_shard` lets a caller wrap each shard's call (the
    Prefect flow passes its `process-shard` task, so every shard stays a Prefect task)."""

    def __init__(self, config: RunConfig, catalogue: Catalogue, processor: ShardProcessor | None = None,
                 process_shard: ProcessShard = _process):
        self.processor = processor or ShardProcessor(config, catalogue)
        self.process_shard = process_shard

    def start(self) -> None:
        self.processor.setup()

    def map_shards(self, shards: list[Shard]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        for shard_name, pairs in shards:
            yield shard_name, self.process_shard(self.processor, shard_name, pairs)

    def stats(self) -> ExecutorStats:
        stats = ExecutorStats()
        stats.add(self.processor.seconds_by_stage, self.processor.stage_calls, self.processor.cache_stats())
        return stats

    def stop(self) -> None:
        pass
