"""Where shards run: in this process (`LocalExecutor`) or on Ray actors (`RayExecutor`)."""

from __future__ import annotations

from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig
from tryon.executors.base import ExecutorStats, Shard, ShardExecutor
from tryon.executors.local import LocalExecutor

__all__ = ["ExecutorStats", "LocalExecutor", "Shard", "ShardExecutor", "build_executor"]


def build_executor(config: RunConfig, catalogue: Catalogue) -> ShardExecutor:
    """The executor `config.executor` names; Ray is imported only when asked for."""
    if config.executor == "ray":
        from tryon.executors.ray import RayExecutor

        return RayExecutor(config, catalogue, workers=config.workers, address=config.ray_address)
    return LocalExecutor(config, catalogue)
