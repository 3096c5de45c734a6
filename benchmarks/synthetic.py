"""A manifest of N distinct pairs made from the sample photos (a few pixels changed per copy,
so every pair has its own content hash and nothing is served from cache by accident)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
GOOD_PAIRS = [("people/astronaut.png", "garments/red_tshirt.png"),
              ("people/grace_hopper.jpg", "garments/navy_striped_tshirt.png"),
              ("people/astronaut.png", "garments/green_check_shirt.png"),
              ("people/grace_hopper.jpg", "garments/red_tshirt.png")]


def build_manifest(root: Path, pairs: int) -> Path:
    (root / "people").mkdir(parents=True, exist_ok=True)
    (root / "garments").mkdir(exist_ok=True)
    for _, garment_name in GOOD_PAIRS:
        (root / garment_name).write_bytes((SAMPLE / garment_name).read_bytes())
    originals = {name: np.asarray(Image.open(SAMPLE / name).convert("RGB")) for name, _ in GOOD_PAIRS}
    rows = []
    for index in range(pairs):
        person_name, garment_name = GOOD_PAIRS[index % len(GOOD_PAIRS)]
        person = originals[person_name].copy()
        person[0, index % person.shape[1]] ^= np.uint8(index % 251 + 1)  # one corner pixel: a new file, same photo
        target = root / "people" / f"{index:06d}.png"
        Image.fromarray(person).save(target)
        rows.append({"pair_id": f"b{index:06d}", "person_image": f"people/{target.name}",
                     "garment_image": garment_name, "category": "upper_body"})
    path = root / "manifest.parquet"
    pd.DataFrame(rows).to_parquet(path, index=False)
    return path
