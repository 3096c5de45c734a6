"""Draw the sample garment product shots (flat lays on white). Run from the repo root:

    python data/sample/make_garments.py

They are drawn here (our own work, CC0) because no freely licensed product photos ship
with the packages we depend on. Deterministic: same script, same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).parent / "garments"
SIZE = 512


def _tshirt_outline() -> list[tuple[int, int]]:
    return [(176, 70), (216, 60), (256, 92), (296, 60), (336, 70), (450, 150), (405, 220), (360, 190),
            (360, 460), (152, 460), (152, 190), (107, 220), (62, 150)]


def _dress_outline() -> list[tuple[int, int]]:
    return [(200, 40), (230, 40), (256, 80), (282, 40), (312, 40), (330, 140), (310, 210),
            (410, 480), (102, 480), (202, 210), (182, 140)]


def _trousers_outline() -> list[tuple[int, int]]:
    return [(160, 40), (352, 40), (372, 480), (286, 480), (256, 170), (226, 480), (140, 480)]


def _pattern(kind: str, colour: tuple[int, int, int], rng: np.random.Generator) -> Image.Image:
    canvas = np.zeros((SIZE, SIZE, 3), dtype=np.float64) + colour
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    if kind == "stripes":
        canvas[(yy // 24) % 2 == 0] = (245, 245, 240)
    elif kind == "checks":
        canvas[((yy // 32) + (xx // 32)) % 2 == 0] *= 0.6
    canvas += rng.normal(0, 6, canvas.shape)  # a little fabric grain
    return Image.fromarray(canvas.clip(0, 255).astype(np.uint8))


def draw(name: str, outline: list[tuple[int, int]], kind: str, colour: tuple[int, int, int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    silhouette = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(silhouette).polygon(outline, fill=255)
    shade = silhouette.filter(ImageFilter.GaussianBlur(6))
    fabric = _pattern(kind, colour, rng)
    shaded = Image.composite(fabric, Image.new("RGB", (SIZE, SIZE), (200, 200, 200)), shade)
    product = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    product.paste(shaded, (0, 0), silhouette)
    HERE.mkdir(parents=True, exist_ok=True)
    product.save(HERE / f"{name}.png", format="PNG", optimize=False)


def main() -> None:
    draw("red_tshirt", _tshirt_outline(), "plain", (196, 30, 45), seed=1)
    draw("navy_striped_tshirt", _tshirt_outline(), "stripes", (25, 40, 90), seed=2)
    draw("green_check_shirt", _tshirt_outline(), "checks", (40, 120, 60), seed=3)
    draw("yellow_dress", _dress_outline(), "plain", (230, 190, 40), seed=4)
    draw("denim_trousers", _trousers_outline(), "plain", (60, 90, 140), seed=5)


if __name__ == "__main__":
    main()
