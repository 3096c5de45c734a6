"""Test-only Ray workers that die mid-shard, so production code carries no fault hooks.

The plan lives in `fault.json` next to the catalogue: {"shard": name, "deaths": n}. A worker
given that shard processes its first half (writing images), records the death in `deaths/` and
exits the process, n times in all; every `process` call is logged to `calls.log`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tryon.executors.ray import RayExecutor, ShardWorker


class DyingShardWorker(ShardWorker):
    def __init__(self, config, catalogue_root: str):
        super().__init__(config, catalogue_root)
        self.test_dir = Path(catalogue_root).parent

    def process(self, shard_name, pairs):
        with open(self.test_dir / "calls.log", "a") as log:
            log.write(shard_name + "\n")
        plan = json.loads((self.test_dir / "fault.json").read_text())
        deaths = self.test_dir / "deaths"
        deaths.mkdir(exist_ok=True)
        if shard_name == plan["shard"] and len(list(deaths.iterdir())) < plan["deaths"]:
            self.processor.process(pairs[: len(pairs) // 2])
            (deaths / f"death-{os.getpid()}").touch()
            os._exit(1)
        return super().process(shard_name, pairs)


class FaultyRayExecutor(RayExecutor):
    worker_class = DyingShardWorker


def plan_fault(test_dir: Path, shard: str, deaths: int) -> None:
    (test_dir / "fault.json").write_text(json.dumps({"shard": shard, "deaths": deaths}))


def calls(test_dir: Path) -> list[str]:
    return (test_dir / "calls.log").read_text().split()
