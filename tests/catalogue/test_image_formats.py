"""Image writes: lossless PNG at a fast level by default, webp/jpeg on request, masks as 1-bit PNG."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tryon.cache import ArtifactCache
from tryon.catalogue.store import Catalogue
from tryon.images import encode_image
from tryon.png import encode_png


def _photo() -> Image.Image:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:120, 0:90]
    pixels = np.stack([xx * 2, yy * 2, (xx + yy) % 256], axis=2) + rng.integers(0, 6, (120, 90, 3))
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


@pytest.mark.parametrize("format, extension, lossless", [("png", "png", True), ("webp", "webp", True),
                                                         ("jpeg", "jpg", False)])
def test_outputs_are_written_in_the_configured_format(tmp_path: Path, format, extension, lossless):
    catalogue = Catalogue(tmp_path).create()
    image = _photo()
    relative, digest = catalogue.save_image(image, "outputs", format=format, quality=80)
    assert relative.endswith(f"{digest}.{extension}")
    with Image.open(tmp_path / relative) as written:
        assert written.format == {"png": "PNG", "webp": "WEBP", "jpeg": "JPEG"}[format]
        same = np.array_equal(np.asarray(written.convert("RGB")), np.asarray(image))
    assert same is lossless


def test_png_levels_are_applied_and_every_level_is_exact():
    image = _photo()
    default, stored = encode_image(image), encode_image(image, png_compress_level=0)
    assert len(stored) > len(default)  # the level is applied: level 0 stores the pixels uncompressed
    for data in (default, stored):
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), np.asarray(image))


def test_masks_are_one_bit_pngs_that_read_back_exactly(tmp_path: Path):
    mask = np.zeros((50, 40), bool)
    mask[10:30, 5:25] = True
    relative, _ = Catalogue(tmp_path).create().save_image(mask, "masks")
    with Image.open(tmp_path / relative) as written:
        assert written.mode == "1"
        assert np.array_equal(np.asarray(written.convert("L")) >= 128, mask)


def test_cached_masks_are_one_bit_and_exact(tmp_path: Path):
    cache = ArtifactCache(tmp_path)
    mask = np.random.default_rng(1).random((33, 47)) > 0.5
    entry_dir = cache.put("masks", "k" * 16, {"garment_mask": mask}, {})
    with Image.open(entry_dir / "garment_mask.png") as stored:
        assert stored.mode == "1"
    entry = cache.get("masks", "k" * 16)
    assert np.array_equal(np.asarray(entry.images["garment_mask"].convert("L")) >= 128, mask)


@pytest.mark.parametrize("level", [0, 1, 6])  # 1: ISA-L's deflate; the others zlib's
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (9, 1), (37, 53), (37, 53, 3), (2, 5, 3)])
def test_own_png_writer_reads_back_exactly_in_pillow_and_opencv(shape, level):
    pixels = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    data = encode_png(pixels, level)
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.format == "PNG" and decoded.mode == ("L" if len(shape) == 2 else "RGB")
        assert np.array_equal(np.asarray(decoded), pixels)
    read = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(read if len(shape) == 2 else cv2.cvtColor(read, cv2.COLOR_BGR2RGB), pixels)


def test_own_png_writer_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((4, 4), np.uint16))
    with pytest.raises(ValueError, match="H x W x 3"):
        encode_png(np.zeros((4, 4, 4), np.uint8))


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (5, 8), (33, 47), (64, 17)])
def test_own_png_writer_writes_masks_as_one_bit_pngs_that_read_back_exactly(shape):
    mask = np.random.default_rng(sum(shape)).random(shape) > 0.5
    data = encode_png(mask)
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.mode == "1"
        assert np.array_equal(np.asarray(decoded.convert("L")) >= 128, mask)
    assert np.array_equal(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE) >= 128, mask)
