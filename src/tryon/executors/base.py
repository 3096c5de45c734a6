"""The executor interface: start workers, map shards of pairs to catalogue rows, stop."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator

from tryon.pairs import Pair

Shard = tuple[str, list[Pair]]


@dataclass
class ExecutorStats:
    """What the workers did, summed over workers: for the run record."""

    seconds_by_stage: Counter = field(default_factory=Counter)
    stage_calls: Counter = field(default_factory=Counter)
    cache_stats: dict[str, Counter] = field(default_factory=dict)

    def add(self, seconds_by_stage: dict[str, float], stage_calls: dict[str, int],
            cache_stats: dict[str, dict[str, int]]) -> None:
        self.seconds_by_stage.update(seconds_by_stage)
        self.stage_calls.update(stage_calls)
        for namespace, counts in cache_stats.items():
            self.cache_stats.setdefault(namespace, Counter()).update(counts)

    def cache_stats_dict(self) -> dict[str, dict[str, int]]:
        return {namespace: dict(counts) for namespace, counts in self.cache_stats.items()}


class ShardExecutor:
    """Runs shards through set-up stages. `start()` loads the models once per worker,
    `map_shards()` yields `(shard_name, rows)` as each shard completes (not in order),
    `stop()` releases the workers. Also a context manager: start on enter, stop on exit."""

    def start(self) -> None:
        raise NotImplementedError

    def map_shards(self, shards: list[Shard]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        raise NotImplementedError

    def stats(self) -> ExecutorStats:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> "ShardExecutor":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
