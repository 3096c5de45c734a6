"""Validate and plan a large manifest (default 1,000,000 rows) whose files exist.

    python benchmarks/manifest_scale.py [--rows 1000000] [--people 2000] [--garments 2000]

A catalogue reuses photos: rows pair `people` person images with `garments` garment
images, as a real catalogue run does. Prints seconds and peak memory (RSS); asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig
from tryon.manifest import validate_manifest
from tryon.session import RunSession


def build(root: Path, rows: int, people: int, garments: int) -> Path:
    (root / "people").mkdir(parents=True)
    (root / "garments").mkdir()
    rng = np.random.default_rng(0)
    for index in range(people):
        Image.fromarray(rng.integers(0, 255, (96, 64, 3), dtype=np.uint8)).save(root / "people" / f"{index:05d}.png")
    for index in range(garments):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(root / "garments" / f"{index:05d}.png")
    person = rng.integers(0, people, rows)
    garment = rng.integers(0, garments, rows)
    frame = pd.DataFrame({
        "pair_id": [f"p{i:07d}" for i in range(rows)],
        "person_image": [f"people/{i:05d}.png" for i in person],
        "garment_image": [f"garments/{i:05d}.png" for i in garment],
        "category": np.array(["upper_body", "lower_body", "dresses"])[rng.integers(0, 3, rows)],
        "sku": [f"SKU-{i % 5000:05d}" for i in range(rows)],
    })
    path = root / "manifest.parquet"
    frame.to_parquet(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--garments", type=int, default=2000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tryon-bench-manifest-"))
    started = time.perf_counter()
    manifest = build(root, args.rows, args.people, args.garments)
    print(f"built {args.rows:,}-row manifest over {args.people + args.garments} images in {time.perf_counter() - started:.1f}s")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    validated = validate_manifest(manifest, limits=RunConfig().limits)
    validate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    session = RunSession(Catalogue(root / "catalogue").create(), RunConfig(), validated)
    shards = session.shards(session.plan())
    plan_seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"validate: {validate_seconds:.1f}s ({len(validated.pairs):,} valid, {len(validated.failures)} failed)")
    print(f"plan: {plan_seconds:.1f}s ({len(shards)} shards)")
    print(f"peak RSS: {peak:.0f} MiB (before validation {rss_before:.0f} MiB)")


if __name__ == "__main__":
    main()
