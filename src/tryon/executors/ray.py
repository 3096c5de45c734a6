"""Shards on a pool of Ray actors: one per GPU (or CPU slot), each loading its models once.

Why Ray actors driven from the Prefect flow, and not prefect-ray's `RayTaskRunner`: a task
runner turns each Prefect task into a Ray task, a fresh call with no state, so every shard
would load SDXL, ControlNet, MiDaS and MediaPipe again (tens of seconds and gigabytes per
shard) or need a process-wide model cache, which the project rules out. An actor is a
long-lived worker: it sets its stages up once in its constructor and keeps them on its GPU for
every shard it is given. Prefect still sees the run (the flow, and one `write-shard` task per
shard, written as shards arrive); Ray only does the placement, the restarts and the transport.

A worker that dies (out of memory, a segfault in native code, a lost node) is restarted by
Ray (`max_restarts`), which reruns the constructor and so reloads the models; the shard it was
running is sent again, to whichever worker is free, at most `max_retries` times. After that its
pairs become failed rows with `error_type = "worker_lost"`, which `tryon rerun-failed` retries.
A shard's rows are returned, and so written, once, whatever happened to the attempts before:
images are content-addressed and written atomically, so a half-done attempt leaves nothing
that a later one could duplicate.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from pathlib import Path
from typing import Any, Iterator

from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig
from tryon.errors import TryonError
from tryon.executors.base import ExecutorStats, Shard, ShardExecutor
from tryon.pairs import Pair
from tryon.rows import base_row, failed
from tryon.runner import ShardProcessor

log = logging.getLogger(__name__)

WORKER_LOST = "worker_lost"


class ShardWorker:
    """The state of one Ray actor: a set-up ShardProcessor. Setting up in the constructor
    means a restarted actor (Ray reruns the constructor) has its models again."""

    def __init__(self, config: RunConfig, catalogue_root: str):
        self.processor = ShardProcessor(config, Catalogue(Path(catalogue_root))).setup()

    def ready(self) -> bool:
        return True

    def process(self, shard_name: str, pairs: list[Pair]) -> list[dict[str, Any]]:
        return self.processor.process(pairs)

    def stats(self) -> tuple[dict[str, float], dict[str, int], dict[str, dict[str, int]]]:
        return (dict(self.processor.seconds_by_stage), dict(self.processor.stage_calls),
                self.processor.cache_stats())


class RayExecutor(ShardExecutor):
    """`workers` Ray actors, each holding one ShardProcessor; shards go to whichever is idle.

    `address`: a Ray cluster to join; else `$RAY_ADDRESS`; else a local Ray instance on this
    machine's CPUs and GPUs, shut down again by `stop()`. A Ray already initialised in this
    process is used as it is. With GPUs in the cluster (and `device` not "cpu") each actor
    asks for `gpus_per_worker` GPUs, else for one CPU.
    """

    worker_class: type = ShardWorker

    def __init__(self, config: RunConfig, catalogue: Catalogue, workers: int = 1, gpus_per_worker: float = 1.0,
                 address: str | None = None, max_retries: int = 2, max_restarts: int | None = None):
        self.config = config
        self.catalogue = catalogue
        self.workers = workers
        self.gpus_per_worker = gpus_per_worker
        self.address = address
        self.max_retries = max_retries
        self.max_restarts = max_retries if max_restarts is None else max_restarts
        self.actors: list[Any] = []
        self.worker_deaths = 0
        self.shard_retries = 0
        self._owns_ray = False
        self._final_stats: ExecutorStats | None = None

    # 1. Connect to (or start) Ray and place one actor per worker.
    def start(self) -> None:
        import ray

        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS")
            if address:
                try:
                    ray.init(address=address, log_to_driver=False)
                except ConnectionError as error:
                    raise TryonError(
                        f"cannot join the Ray cluster at {address} ({error}): check the address (`ray status` on the "
                        "head); a cluster with token authentication also needs RAY_AUTH_MODE=token and its token "
                        "(RAY_AUTH_TOKEN or ~/.ray/auth_token)") from None
            else:
                ray.init(address="local", num_cpus=max(self.workers, os.cpu_count() or 1),
                         include_dashboard=False, log_to_driver=False)
            self._owns_ray = True
        try:
            resources = self._actor_resources(ray.cluster_resources())
            remote_class = ray.remote(self.worker_class).options(
                max_restarts=self.max_restarts, max_task_retries=0, **resources)
            self.actors = [remote_class.remote(self.config, str(self.catalogue.root)) for _ in range(self.workers)]
            ray.get([actor.ready.remote() for actor in self.actors])
        except ray.exceptions.RayActorError as error:
            self.stop()
            raise TryonError(f"a Ray worker could not set up its stages: {error}") from None
        except BaseException:
            self.stop()
            raise
        log.info("ray: %d workers ready (%s each)", self.workers, resources)

    def _actor_resources(self, cluster: dict[str, float]) -> dict[str, float]:
        gpus = cluster.get("GPU", 0.0)
        if self.config.device == "cuda" and not gpus:
            raise TryonError("device = cuda but the Ray cluster has no GPUs: join a GPU cluster "
                             "(ray_address / RAY_ADDRESS) or use device = auto")
        if gpus and self.config.device != "cpu":
            needed = self.workers * self.gpus_per_worker
            if needed > gpus:
                raise TryonError(f"{self.workers} workers x {self.gpus_per_worker} GPU need {needed:g} GPUs; "
                                 f"the Ray cluster has {gpus:g}: lower --workers")
            return {"num_gpus": self.gpus_per_worker}
        cpus = cluster.get("CPU", 0.0)
        if self.workers > cpus:
            raise TryonError(f"{self.workers} workers need {self.workers} CPUs; the Ray cluster has {cpus:g}: "
                             "lower --workers")
        return {"num_cpus": 1}

    # 2. Keep every idle actor busy; yield each shard's rows as it completes.
    def map_shards(self, shards: list[Shard]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        import ray
        from ray.exceptions import RayActorError

        pending = deque((shard_name, pairs, 0) for shard_name, pairs in shards)
        idle = deque(self.actors)
        running: dict[Any, tuple[Any, str, list[Pair], int]] = {}
        restarting: dict[Any, Any] = {}
        while pending or running:
            while pending and idle:
                actor = idle.popleft()
                shard_name, pairs, retries = pending.popleft()
                running[actor.process.remote(shard_name, pairs)] = (actor, shard_name, pairs, retries)
            if not running and not restarting:
                for shard_name, pairs, _ in pending:
                    yield shard_name, self._lost_rows(shard_name, pairs, "no Ray worker was left to run it")
                return
            (ref,), _ = ray.wait([*running, *restarting], num_returns=1)
            if ref in restarting:
                actor = restarting.pop(ref)
                try:
                    ray.get(ref)
                    idle.append(actor)
                except RayActorError:
                    self.actors.remove(actor)
                    log.warning("ray: a worker used up its %d restarts and is gone", self.max_restarts)
                continue
            actor, shard_name, pairs, retries = running.pop(ref)
            try:
                rows = ray.get(ref)
            except RayActorError as error:
                self.worker_deaths += 1
                # Calls to a restarting actor fail at once unless retried: wait for it to be back.
                restarting[actor.ready.options(max_task_retries=-1).remote()] = actor
                if retries < self.max_retries:
                    self.shard_retries += 1
                    log.warning("ray: worker died running %s; retrying it (%d/%d)", shard_name, retries + 1,
                                self.max_retries)
                    pending.appendleft((shard_name, pairs, retries + 1))
                else:
                    yield shard_name, self._lost_rows(
                        shard_name, pairs, f"the Ray worker running it died {retries + 1} times: {_first_line(error)}")
                continue
            idle.append(actor)
            yield shard_name, rows

    def _lost_rows(self, shard_name: str, pairs: list[Pair], reason: str) -> list[dict[str, Any]]:
        config_hash = self.config.config_hash()
        message = (f"{shard_name} was not processed: {reason}; `tryon rerun-failed --catalogue "
                   f"{self.catalogue.root}` retries these pairs; if they keep failing, run them with "
                   "--executor local to find the one that crashes the worker")
        return [failed(base_row(pair, config_hash=config_hash, engine_name=self.config.engine), WORKER_LOST,
                       f"{pair.label} person_image {pair.person_image}: {message}") for pair in pairs]

    # 3. Counts and timings, summed over the live workers (a restarted worker starts from zero).
    def stats(self) -> ExecutorStats:
        return self._final_stats if self._final_stats is not None else self._collect_stats()

    def _collect_stats(self) -> ExecutorStats:
        stats = ExecutorStats()
        if self.actors:
            import ray

            for actor in self.actors:
                try:
                    stats.add(*ray.get(actor.stats.options(max_task_retries=-1).remote(), timeout=60))
                except ray.exceptions.RayError as error:
                    log.warning("ray: no stats from a worker: %s", _first_line(error))
        stats.stage_calls["ray_worker_deaths"] = self.worker_deaths
        stats.stage_calls["ray_shard_retries"] = self.shard_retries
        return stats

    def stop(self) -> None:
        import ray

        if not ray.is_initialized():
            return
        self._final_stats = self._collect_stats()
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
