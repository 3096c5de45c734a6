"""Scale-out: throughput of the same pairs on 1 and 2 Ray workers (and in-process, for reference).

    python benchmarks/scale.py [--pairs 40] [--shard-size 5] [--workers 1 2] [--gpu-pairs 16]

CPU: the preview engine, one worker per CPU. With CUDA: the `sdxl` engine on 1..N GPUs (one
worker each), images/s per GPU, when its weights are cached. Start-up (Ray, the workers' model
loading) is timed apart from the shards. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from synthetic import build_manifest

from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig
from tryon.errors import TryonError
from tryon.executors import LocalExecutor
from tryon.executors.ray import RayExecutor
from tryon.manifest import validate_manifest
from tryon.session import RunSession


def timed_run(manifest: Path, catalogue: Path, config: RunConfig, executor_for) -> tuple[float, float, int]:
    """Start-up seconds, shard seconds and succeeded pairs of one cold run into a new catalogue."""
    root = Catalogue(catalogue)
    validated = validate_manifest(manifest, data_root=None, limits=config.limits)
    with root.exclusive():
        session = RunSession(root, config, validated)
        session.start()
        shards = session.shards(session.plan())
        executor = executor_for(config, root)
        started = time.perf_counter()
        executor.start()
        setup = time.perf_counter() - started
        try:
            started = time.perf_counter()
            succeeded = 0
            for shard_name, rows in executor.map_shards(shards):
                session.write_shard(shard_name, rows)
                succeeded += sum(row["status"] == "succeeded" for row in rows)
            work = time.perf_counter() - started
        finally:
            executor.stop()
    return setup, work, succeeded


def report(label: str, pairs: int, setup: float, work: float, succeeded: int, per: int = 1) -> None:
    print(f"{label:<28} start-up {setup:6.1f}s | {pairs} pairs in {work:6.1f}s | {pairs / work:6.2f} pairs/s"
          f" | {pairs / work / per:6.2f} per worker | succeeded {succeeded}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--shard-size", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--gpu-pairs", type=int, default=16)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tryon-bench-scale-"))
    manifest = build_manifest(root / "data", args.pairs)

    # 1. CPU, preview engine: in-process, then 1..N Ray workers (each run starts its own Ray).
    config = RunConfig(engine="preview", device="cpu", shard_size=args.shard_size)
    report("preview, local (in-process)", args.pairs,
           *timed_run(manifest, root / "local", config, LocalExecutor))
    for workers in args.workers:
        executor_for = lambda config, catalogue, workers=workers: RayExecutor(config, catalogue, workers=workers)
        report(f"preview, ray x{workers} CPU", args.pairs,
               *timed_run(manifest, root / f"ray-{workers}", config, executor_for), per=workers)

    # 2. CUDA, sdxl engine: one worker per GPU.
    import torch

    if not torch.cuda.is_available():
        print("sdxl on GPU: skipped (no CUDA device)")
        return
    gpu_manifest = build_manifest(root / "gpu-data", args.gpu_pairs)
    sdxl = RunConfig(engine="sdxl", models="sdxl", device="cuda", shard_size=max(1, args.gpu_pairs // 8))
    for gpus in sorted({1, torch.cuda.device_count()}):
        executor_for = lambda config, catalogue, gpus=gpus: RayExecutor(config, catalogue, workers=gpus)
        try:
            report(f"sdxl, ray x{gpus} GPU", args.gpu_pairs,
                   *timed_run(gpu_manifest, root / f"sdxl-{gpus}", sdxl, executor_for), per=gpus)
        except TryonError as error:
            print(f"sdxl on GPU: skipped ({str(error).splitlines()[0][:300]})")
            return


if __name__ == "__main__":
    main()
