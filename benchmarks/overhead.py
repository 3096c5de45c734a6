"""Prefect's cost: the same N pairs through `catalogue_run` vs a plain loop over the same
library calls (`tryon.local.run_local`), preview engine, CPU.

    python benchmarks/overhead.py [--pairs 200 1000] [--shard-size 256]

Prints both wall times and their ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from synthetic import build_manifest

import flows  # noqa: F401
from tryon.config import RunConfig
from tryon.local import run_local


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--shard-size", type=int, default=256)
    args = parser.parse_args()
    from flows.catalogue_run import catalogue_run

    config = RunConfig(engine="preview", shard_size=args.shard_size)
    warm = Path(tempfile.mkdtemp(prefix="tryon-bench-warmup-"))
    catalogue_run(manifest=str(build_manifest(warm / "data", 2)), catalogue=str(warm / "c"), config=config,
                  show_progress=False)  # Prefect's temporary server starts once, outside the timings
    for pairs in args.pairs:
        root = Path(tempfile.mkdtemp(prefix="tryon-bench-overhead-"))
        manifest = build_manifest(root / "data", pairs)
        started = time.perf_counter()
        record = run_local(manifest, root / "plain", config)
        plain = time.perf_counter() - started
        assert record["pairs_succeeded"] == pairs, f"benchmark input broken: {record['failures_by_type']}"
        started = time.perf_counter()
        catalogue_run(manifest=str(manifest), catalogue=str(root / "flow"), config=config, show_progress=False)
        flow = time.perf_counter() - started
        print(f"N={pairs:>5}: plain loop {plain:7.1f}s ({pairs / plain:5.1f} pairs/s) | "
              f"catalogue_run {flow:7.1f}s | ratio {flow / plain:.3f}")


if __name__ == "__main__":
    main()
