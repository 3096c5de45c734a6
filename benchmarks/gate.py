"""The quality gate's confusion table on the defect set (prints numbers, asserts nothing).

    python benchmarks/gate.py [--seed 0]
    python benchmarks/gate.py --timing

Good outputs: the preview engine on every upper-body garment x person of data/sample (both blend
modes, mirrored, and each through a half-size canvas without paste-back); defects: every kind of
tryon.metrics.defects applied to each. Prints, per kind, how many the default gate flags and which
bounds fired; with --timing, only the CPU seconds pair_metrics takes per pair at 512, 1024 and 2048 px.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tryon.calibration import confusion_table, sample_good_outputs, score
from tryon.config import DEFAULT_QUALITY_GATE
from tryon.metrics import change_metrics, pair_metrics, pattern_metrics, raw_preservation_metrics, seam_metrics
from tryon.metrics.garment import product_silhouette
from tryon.metrics.defects import make_defects

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def cpu_seconds_per_pair(goods, side: int, repeats: int) -> tuple[float, float]:
    """CPU seconds per pair at `side` px: all of pair_metrics, and the part the gate's new metrics take
    (raw preservation, seam, unchanged fraction, pattern and sharpness)."""
    sample = goods[0]
    scale = side / max(sample.person.shape[:2])
    size = (round(sample.person.shape[1] * scale), round(sample.person.shape[0] * scale))
    person, output, raw, garment = (Image.fromarray(array).resize(size, Image.Resampling.BICUBIC)
                                    for array in (sample.person, sample.output, sample.raw, sample.garment))
    garment_mask = np.asarray(Image.fromarray(sample.garment_mask).resize(size, Image.Resampling.NEAREST))
    person_mask = np.asarray(Image.fromarray(sample.person_mask).resize(size, Image.Resampling.NEAREST))
    pair_metrics(person, output, garment_mask, person_mask, garment, raw_output=raw)
    started = time.process_time()
    for _ in range(repeats):
        pair_metrics(person, output, garment_mask, person_mask, garment, raw_output=raw)
    total = (time.process_time() - started) / repeats
    arrays = [np.asarray(image) for image in (person, output, raw, garment)]
    silhouette = product_silhouette(arrays[3])
    started = time.process_time()
    for _ in range(repeats):
        raw_preservation_metrics(arrays[0], arrays[2], garment_mask)
        seam_metrics(arrays[0], arrays[1], garment_mask)
        change_metrics(arrays[0], arrays[1], garment_mask)
        pattern_metrics(arrays[3], silhouette, arrays[1], garment_mask, person_mask)
    return total, (time.process_time() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timing", action="store_true")
    args = parser.parse_args()
    goods = sample_good_outputs(SAMPLE)
    if args.timing:
        for side in (512, 1024, 2048):
            total, added = cpu_seconds_per_pair(goods, side, 5)
            print(f"{side} px: pair_metrics {total:.3f} CPU s per pair, of which the gate's new metrics {added:.3f}")
        return
    scored = score(goods + make_defects(goods, seed=args.seed), DEFAULT_QUALITY_GATE)
    table = confusion_table(scored)
    print("| kind | samples | flagged | share | bounds broken (samples) |")
    print("| --- | ---: | ---: | ---: | --- |")
    for row in table.to_dict("records"):
        print(f"| {row['kind']} | {row['samples']} | {row['flagged']} | {row['flagged_share']:.0%} | {row['bounds_broken']} |")
    defects = [item for item in scored if item.kind != "good"]
    good = [item for item in scored if item.kind == "good"]
    print(f"\ndefects flagged: {sum(i.flagged for i in defects)}/{len(defects)} "
          f"({sum(i.flagged for i in defects) / len(defects):.1%}); good outputs flagged: "
          f"{sum(i.flagged for i in good)}/{len(good)} ({sum(i.flagged for i in good) / len(good):.1%})")
    for item in good:
        if item.flagged:
            print(f"  good but flagged: {item.name}: {'; '.join(item.reasons)}")
    for item in defects:
        if not item.flagged:
            print(f"  missed: {item.kind} {item.name}")


if __name__ == "__main__":
    main()
