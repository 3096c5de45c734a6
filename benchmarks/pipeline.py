"""Per-pair CPU cost and GPU-busy fraction of one worker, at catalogue resolution.

    python benchmarks/pipeline.py [--pairs 24] [--size 1536x2048] [--engine-seconds 0.5]

Three measurements over N distinct pairs (every person photo differs, so masking always misses
the cache):

1. cpu: CPU seconds per pair of everything but the engine (decode, masking, metrics, all
   writes), serial, single-threaded, with a stand-in engine that sleeps 0 s; the CPU its own
   painting takes (thread time, measured inside it) is left out, and printed with it.
2. busy: a stand-in engine that sleeps `--engine-seconds` per image without holding the GIL
   (as a GPU would); prints engine time / wall time and pairs/s, overlapped and serial.
3. preview: pairs/s of the preview engine, serial and overlapped.

Asserts nothing; prints numbers.
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
from tryon.engines.standin import StandInEngine
from tryon.manifest import validate_manifest
from tryon.runner import ShardProcessor

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
PEOPLE = ["people/astronaut.png", "people/grace_hopper.jpg"]
WARMUP_PAIRS = 2
GARMENTS = ["garments/red_tshirt.png", "garments/navy_striped_tshirt.png", "garments/green_check_shirt.png"]


def build_inputs(root: Path, pairs: int, size: tuple[int, int]) -> Path:
    """N distinct person JPEGs and three garment JPEGs, all upscaled to `size` (catalogue photos)."""
    (root / "people").mkdir(parents=True, exist_ok=True)
    (root / "garments").mkdir(exist_ok=True)
    for name in GARMENTS:
        Image.open(SAMPLE / name).convert("RGB").resize(size, Image.BICUBIC).save(root / name.replace(".png", ".jpg"), quality=90)
    people = {name: np.asarray(Image.open(SAMPLE / name).convert("RGB").resize(size, Image.BICUBIC)) for name in PEOPLE}
    rows = []
    for index in range(pairs):
        person = people[PEOPLE[index % len(PEOPLE)]].copy()
        person[:8, :8] = index % 251  # a corner patch: a new file, the same photo
        target = root / "people" / f"{index:06d}.jpg"
        Image.fromarray(person).save(target, quality=90)
        rows.append({"pair_id": f"p{index:06d}", "person_image": f"people/{target.name}",
                     "garment_image": GARMENTS[index % len(GARMENTS)].replace(".png", ".jpg"), "category": "upper_body"})
    manifest = root / "manifest.parquet"
    pd.DataFrame(rows).to_parquet(manifest, index=False)
    return manifest


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(manifest: Path, catalogue: Path, config: RunConfig, engine=None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, succeeded pairs) of processing every pair but the first WARMUP_PAIRS,
    with models loaded and lazy imports done by the warm-up pairs."""
    validated = validate_manifest(manifest, data_root=config.data_root, limits=config.limits)
    processor = ShardProcessor(config, Catalogue(catalogue).create(), engine=engine).setup()
    processor.process(validated.pairs[:WARMUP_PAIRS])
    if isinstance(engine, StandInEngine):  # count only the timed pairs' engine time
        engine.busy_seconds = engine.cpu_seconds = 0.0
    wall, cpu = time.perf_counter(), cpu_seconds()
    rows = processor.process(validated.pairs[WARMUP_PAIRS:])
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    failed = [row for row in rows if row.get("status") != "succeeded"]
    assert not failed, f"benchmark input broken: {failed[0].get('error_message')}"
    return wall, cpu, len(rows)


def settings(config: RunConfig, overlap: bool) -> RunConfig:
    if "pipeline" in RunConfig.model_fields:
        return config.model_copy(update={"pipeline": config.pipeline.model_copy(update={"overlap": overlap})})
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--size", default="1536x2048")
    parser.add_argument("--engine-seconds", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--only", choices=["cpu", "busy", "preview"], nargs="+", default=["cpu", "busy", "preview"])
    parser.add_argument("--metrics-long-side", type=int, help="override pipeline.metrics_long_side")
    parser.add_argument("--format", choices=["png", "webp", "jpeg"], help="override output.format")
    parser.add_argument("--modes", choices=["overlapped", "serial"], nargs="+", default=["overlapped", "serial"])
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.split("x"))
    root = Path(tempfile.mkdtemp(prefix="tryon-bench-pipeline-"))
    manifest = build_inputs(root / "data", args.pairs + WARMUP_PAIRS, (width, height))
    config = RunConfig(engine="preview", batch_size=args.batch_size)
    if args.metrics_long_side is not None:
        config = config.model_copy(update={"pipeline": config.pipeline.model_copy(
            update={"metrics_long_side": args.metrics_long_side})})
    if args.format is not None:
        config = config.model_copy(update={"output": config.output.model_copy(update={"format": args.format})})
    print(f"{args.pairs} distinct pairs at {width}x{height}, batch size {args.batch_size}, "
          f"settings {getattr(config, 'output', None)} {getattr(config, 'pipeline', None)}")
    if "cpu" in args.only:
        engine = StandInEngine(0.0)
        wall, cpu, pairs = run(manifest, root / "cpu", settings(config, overlap=False), engine)
        print(f"cpu:     {(cpu - engine.cpu_seconds) / pairs:.3f} CPU s/pair (decode, masking, metrics, writes; serial; "
              f"wall {wall / pairs:.3f} s/pair); with the stand-in engine's own painting "
              f"{cpu / pairs:.3f} CPU s/pair")
    if "busy" in args.only:
        for overlap in (mode == "overlapped" for mode in args.modes):
            engine = StandInEngine(args.engine_seconds)
            wall, cpu, pairs = run(manifest, root / f"busy-{overlap}", settings(config, overlap), engine)
            print(f"busy:    {'overlapped' if overlap else 'serial    '} engine {args.engine_seconds} s/image: "
                  f"busy {engine.busy_seconds / wall:.3f}, {pairs / wall:.2f} pairs/s, wall {wall:.1f} s")
    if "preview" in args.only:
        for overlap in (mode == "overlapped" for mode in args.modes):
            wall, cpu, pairs = run(manifest, root / f"preview-{overlap}", settings(config, overlap))
            print(f"preview: {'overlapped' if overlap else 'serial    '} {pairs / wall:.2f} pairs/s "
                  f"({cpu / pairs:.3f} CPU s/pair, wall {wall:.1f} s)")


if __name__ == "__main__":
    main()
