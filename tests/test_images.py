import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tryon.config import ImageLimits
from tryon.errors import PairError
from tryon.images import load_rgb, rgb_pixels

LIMITS = ImageLimits(min_side=16)


def test_exif_rotated_jpeg_comes_out_upright(tmp_path: Path):
    # A 40x80 (portrait) image stored as 80x40 with EXIF orientation 6 (rotate 90 CW to view).
    stored = Image.new("RGB", (80, 40), (10, 200, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    stored.save(path, exif=exif.tobytes())
    assert load_rgb(path, limits=LIMITS, label="t").size == (40, 80)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16", "I"])
def test_any_mode_becomes_rgb(tmp_path: Path, mode: str):
    base = Image.new("RGB", (32, 32), (120, 60, 200))
    if mode == "I;16":
        image = Image.fromarray(np.full((32, 32), 40000, dtype=np.uint16))
    elif mode == "I":
        image = Image.fromarray(np.full((32, 32), 200, dtype=np.int32), "I")
    else:
        image = base.convert(mode)
    path = tmp_path / ("x.tif" if mode in ("CMYK", "I;16", "I") else "x.png")
    image.save(path)
    rgb = load_rgb(path, limits=LIMITS, label="t")
    assert rgb.mode == "RGB" and rgb.size == (32, 32)


def test_sixteen_bit_scales_to_eight_bit(tmp_path: Path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((32, 32), 65535, dtype=np.uint16)).save(path)
    assert np.asarray(load_rgb(path, limits=LIMITS, label="t")).min() == 255


def test_transparent_palette_png_gets_white_background(tmp_path: Path):
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0)).convert("P")
    path = tmp_path / "clear.png"
    image.save(path, transparency=0)
    assert np.asarray(load_rgb(path, limits=LIMITS, label="t")).mean() == 255


@pytest.mark.parametrize(
    "content, error_type",
    [(b"", "empty_file"), (b"this is text, not a jpeg", "not_an_image")],
)
def test_bad_files_raise_specific_errors(tmp_path: Path, content: bytes, error_type: str):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(PairError) as caught:
        load_rgb(path, limits=LIMITS, label="row 3")
    assert caught.value.error_type == error_type
    assert "row 3" in caught.value.message and str(path) in caught.value.message


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_is_corrupt(tmp_path: Path, fmt: str):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, format=fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(PairError) as caught:
        load_rgb(path, limits=LIMITS, label="t")
    assert caught.value.error_type == "corrupt_image"


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path):
    path = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(path)  # a few kB on disk, 400 Mpx declared
    assert path.stat().st_size < 200_000
    with pytest.raises(PairError) as caught:
        load_rgb(path, limits=ImageLimits(), label="t")
    assert caught.value.error_type == "image_too_large"


@pytest.mark.parametrize("size, error_type", [((1, 1), "image_too_small"), ((800, 100), "bad_aspect_ratio")])
def test_size_bounds(tmp_path: Path, size, error_type):
    path = tmp_path / "odd.png"
    Image.new("RGB", size).save(path)
    with pytest.raises(PairError) as caught:
        load_rgb(path, limits=LIMITS, label="t")
    assert caught.value.error_type == error_type


@pytest.mark.parametrize("size", [(1, 1), (7, 3), (1536, 2048), (2000, 3000)])  # the last: several Pillow blocks
def test_rgb_pixels_are_the_images_pixels(size):
    pixels = np.random.default_rng(size[0]).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    assert np.array_equal(rgb_pixels(image), pixels)
    grey = Image.fromarray(pixels[..., 0])
    assert np.array_equal(rgb_pixels(grey), pixels[..., 0])  # other modes: as NumPy reads them
