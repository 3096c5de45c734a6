"""Mask quality against the hand-drawn ground truth and CPU time per image (prints numbers, asserts nothing).

    python benchmarks/masking.py [--repeats 5] [--overlays DIR]

For every data/sample/ground_truth/<stem>.json: person IoU (strict, and counting objects the
person holds), coverage of the worn upper garment by the upper_body mask, face pixels masked,
and share of the mask outside the person; then masking CPU seconds per image (setup excluded).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from PIL import Image

from tryon.config import ImageLimits, MaskingConfig
from tryon.masking import MaskingStage
from tryon.masking.overlay import mask_overlay
from tryon.masking.quality import load_ground_truth, measure
from tryon.pairs import MaskResult, Pair

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def sample_pairs() -> list[tuple[Pair, Image.Image, dict]]:
    items = []
    for index, truth_path in enumerate(sorted((SAMPLE / "ground_truth").glob("*.json"))):
        truth = load_ground_truth(truth_path)
        person_path = SAMPLE / truth["image"]
        pair = Pair(
            pair_id=truth_path.stem, row_index=index, person_image=person_path, garment_image=person_path,
            category="upper_body", seed=0, person_sha256="", garment_sha256="",
        )
        items.append((pair, Image.open(person_path).convert("RGB"), truth))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--overlays", type=Path, help="write <stem>_overlay.png debug overlays here")
    args = parser.parse_args()

    stage = MaskingStage(MaskingConfig(), ImageLimits())
    started = time.process_time()
    stage.setup()
    print(f"setup: {time.process_time() - started:.2f} CPU s")
    items = sample_pairs()
    print(f"{'image':<14} {'person IoU':>10} {'fg IoU':>7} {'coverage':>9} {'face':>6} {'outside':>8}")
    for pair, person, truth in items:
        [result] = stage([(pair, person)])
        assert isinstance(result, MaskResult), result
        quality = measure(result, truth)
        print(
            f"{pair.pair_id:<14} {quality.person_iou:>10.3f} {quality.foreground_iou:>7.3f} "
            f"{quality.garment_coverage:>9.3f} {quality.face_masked:>6.3f} {quality.mask_outside_person:>8.3f}"
        )
        if args.overlays:
            args.overlays.mkdir(parents=True, exist_ok=True)
            mask_overlay(person, result).save(args.overlays / f"{pair.pair_id}_overlay.png")
    batch = [(pair, person) for pair, person, _ in items]
    started = time.process_time()
    for _ in range(args.repeats):
        stage(batch)
    per_image = (time.process_time() - started) / (args.repeats * len(batch))
    print(f"masking: {per_image:.3f} CPU s / image (pose + segmentation + region rule, {len(batch)} images x {args.repeats})")
    stage.close()


if __name__ == "__main__":
    main()
