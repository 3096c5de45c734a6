"""Cold run, identical warm run, and rerun-failed with 1 % of pairs failed (preview engine, CPU).

    python benchmarks/rerun.py [--pairs 200]

Prints each wall time and its share of the cold run; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from synthetic import build_manifest

import flows  # noqa: F401
from tryon.config import RunConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    args = parser.parse_args()
    from flows.catalogue_run import catalogue_run
    from flows.rerun_failed import rerun_failed

    root = Path(tempfile.mkdtemp(prefix="tryon-bench-rerun-"))
    manifest = build_manifest(root / "data", args.pairs)
    config = RunConfig(engine="preview")
    catalogue = str(root / "catalogue")
    warmup = Path(tempfile.mkdtemp())
    catalogue_run(manifest=str(build_manifest(warmup, 1)), catalogue=str(warmup / "c"), config=config, show_progress=False)

    started = time.perf_counter()
    catalogue_run(manifest=str(manifest), catalogue=catalogue, config=config, show_progress=False)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    catalogue_run(manifest=str(manifest), catalogue=catalogue, config=config, show_progress=False)
    warm = time.perf_counter() - started
    # Break 1 % of the person images, run (they fail), repair them, then rerun only those.
    broken = sorted((root / "data" / "people").glob("*.png"))[: max(1, args.pairs // 100)]
    saved = {path: path.read_bytes() for path in broken}
    for path in broken:
        path.write_bytes(b"broken")
    catalogue_run(manifest=str(manifest), catalogue=catalogue, config=config, show_progress=False)
    for path, data in saved.items():
        path.write_bytes(data)
    started = time.perf_counter()
    record = rerun_failed(catalogue=catalogue, show_progress=False)
    rerun = time.perf_counter() - started
    print(f"N={args.pairs}: cold {cold:.1f}s | warm {warm:.2f}s ({warm / cold:.1%} of cold) | "
          f"rerun-failed of {record['pairs_planned']} pairs {rerun:.2f}s ({rerun / cold:.1%} of cold)")


if __name__ == "__main__":
    main()
