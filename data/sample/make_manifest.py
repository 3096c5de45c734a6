"""Write the sample manifest (data/sample/manifest.parquet). Run from the repo root:

    python data/sample/make_manifest.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent

ROWS = [
    # pair_id, person, garment, category, garment_description, seed, sku
    ("p001", "people/astronaut.png", "garments/red_tshirt.png", "upper_body", "a plain red cotton t-shirt", None, "TS-RED-01"),
    ("p002", "people/grace_hopper.jpg", "garments/navy_striped_tshirt.png", "upper_body", "a navy and white striped t-shirt", 1234, "TS-NVY-02"),
    ("p003", "people/astronaut.png", "garments/green_check_shirt.png", "upper_body", "a green checked shirt", None, "SH-GRN-03"),
    ("p004", "people/grace_hopper.jpg", "garments/red_tshirt.png", "upper_body", None, 7, "TS-RED-01"),
    ("p005", "people/astronaut.png", "garments/yellow_dress.png", "dresses", "a yellow summer dress", None, "DR-YEL-05"),
]


def main() -> None:
    frame = pd.DataFrame(
        ROWS, columns=["pair_id", "person_image", "garment_image", "category", "garment_description", "seed", "sku"]
    )
    frame["seed"] = frame["seed"].astype("Int64")
    frame.to_parquet(HERE / "manifest.parquet", index=False)
    print(f"wrote {len(frame)} rows to {HERE / 'manifest.parquet'}")


if __name__ == "__main__":
    main()
