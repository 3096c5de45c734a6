"""One manifest mixing good rows with every kind of bad input: each bad row becomes a failed row
with a specific error_type naming the file; awkward-but-valid images (CMYK, 16-bit, palette,
grayscale, EXIF-rotated) are converted and succeed; every good row succeeds."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import tryon.catalogue as cat
from tryon.config import RunConfig
from tryon.local import run_local

from tests.conftest import SAMPLE_DIR


def _person() -> Image.Image:
    # The astronaut: MediaPipe also finds her in grayscale (it misses Grace Hopper's grey portrait,
    # which would fail as no_person, a model limit rather than a decoding one).
    return Image.open(SAMPLE_DIR / "people" / "astronaut.png").convert("RGB")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-inputs")
    data = root / "data"
    (data / "people").mkdir(parents=True)
    garment = data / "garment.png"
    garment.write_bytes((SAMPLE_DIR / "garments" / "red_tshirt.png").read_bytes())
    person = _person()
    people: dict[str, str] = {}

    def save(name: str, image: Image.Image | None = None, data_bytes: bytes | None = None, **save_args) -> str:
        path = data / "people" / name
        if data_bytes is not None:
            path.write_bytes(data_bytes)
        else:
            image.save(path, **save_args)
        return f"people/{name}"

    people["good"] = save("good.png", person)
    people["good2"] = save("good2.jpg", person, quality=90)
    # Awkward but valid: converted on decode, must succeed.
    people["cmyk"] = save("cmyk.jpg", person.convert("CMYK"))
    people["sixteen_bit"] = save("deep.png", Image.fromarray((np.asarray(person.convert("L")).astype(np.uint16) * 257)))
    people["palette"] = save("palette.png", person.convert("P", palette=Image.ADAPTIVE), transparency=0)
    people["grayscale"] = save("gray.png", person.convert("L"))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: viewers turn it 90° clockwise
    people["exif_rotated"] = save("rotated.jpg", person.transpose(Image.ROTATE_90), exif=exif.tobytes())
    # Bad.
    buffer = io.BytesIO()
    person.save(buffer, format="PNG")
    people["truncated_png"] = save("cut.png", data_bytes=buffer.getvalue()[: len(buffer.getvalue()) // 3])
    buffer = io.BytesIO()
    person.save(buffer, format="JPEG")
    people["truncated_jpeg"] = save("cut.jpg", data_bytes=buffer.getvalue()[: len(buffer.getvalue()) // 3])
    people["zero_byte"] = save("empty.png", data_bytes=b"")
    people["text_as_jpg"] = save("notes.jpg", data_bytes=b"meeting notes, not a photo\n")
    people["bomb"] = save("bomb.png", Image.new("1", (12000, 12000)))
    people["one_pixel"] = save("dot.png", Image.new("RGB", (1, 1)))
    people["extreme_aspect"] = save("strip.png", Image.new("RGB", (2000, 100)))
    people["missing"] = "people/nobody.png"
    people["dotdot"] = "../../../etc/passwd"
    people["absolute_outside"] = "/etc/hostname"
    outside = root / "outside.png"
    person.save(outside)
    os.symlink(outside, data / "people" / "link.png")
    people["symlink_outside"] = "people/link.png"
    # A file whose name on disk is Latin-1 bytes (not UTF-8): the manifest (UTF-8 strings) can only
    # name it as "café.png", which is another file name, so it is reported missing, not crashed on.
    person.save(data / os.fsdecode(b"people/caf\xe9.png"))
    people["non_utf8_name"] = "people/café.png"
    people["unicode_name"] = save("카페-사진.png", person)

    rows = [{"pair_id": key, "person_image": value, "garment_image": "garment.png", "category": "upper_body"}
            for key, value in people.items()]
    rows.append({"pair_id": "good", "person_image": people["good"], "garment_image": "garment.png",
                 "category": "upper_body"})  # duplicate id
    rows.append({"pair_id": "hat", "person_image": people["good"], "garment_image": "garment.png", "category": "hats"})
    manifest = data / "manifest.parquet"
    pd.DataFrame(rows).to_parquet(manifest, index=False)
    catalogue = root / "catalogue"
    record = run_local(manifest, catalogue, RunConfig(engine="preview", limits={"max_pixels": 50_000_000}))
    return record, cat.load(catalogue), cat.load(catalogue, run_id=record["run_id"]), catalogue


SUCCEED = ["good", "good2", "cmyk", "sixteen_bit", "palette", "grayscale", "exif_rotated", "unicode_name"]
FAIL = {
    "truncated_png": "corrupt_image", "truncated_jpeg": "corrupt_image", "zero_byte": "empty_file",
    "text_as_jpg": "not_an_image", "bomb": "image_too_large", "one_pixel": "image_too_small",
    "extreme_aspect": "bad_aspect_ratio", "missing": "missing_file", "dotdot": "path_outside_root",
    "absolute_outside": "path_outside_root", "symlink_outside": "path_outside_root", "hat": "unknown_category",
    "non_utf8_name": "missing_file",
}


def test_good_and_awkward_rows_succeed(outcome):
    record, latest, _, _ = outcome
    rows = latest.set_index("pair_id")
    for pair_id in SUCCEED:
        assert rows.loc[pair_id, "status"] == "succeeded", (pair_id, rows.loc[pair_id, "error_message"])
    assert record["status"] == "finished"


@pytest.mark.parametrize("pair_id, error_type", sorted(FAIL.items()))
def test_each_bad_row_fails_with_a_specific_error(outcome, pair_id, error_type):
    _, latest, _, _ = outcome
    row = latest.set_index("pair_id").loc[pair_id]
    assert row["status"] == "failed" and row["error_type"] == error_type, row["error_message"]
    assert f"pair_id {pair_id!r}" in row["error_message"]


def test_duplicate_id_is_recorded_without_hiding_the_original(outcome):
    _, latest, this_run, _ = outcome
    duplicates = this_run[this_run["error_type"] == "duplicate_pair_id"]
    assert duplicates["pair_id"].tolist() == ["good"]
    assert latest.set_index("pair_id").loc["good", "status"] == "succeeded"


def test_exif_rotated_person_comes_out_upright(outcome):
    _, latest, _, catalogue = outcome
    row = latest.set_index("pair_id").loc["exif_rotated"]
    output = np.asarray(Image.open(catalogue / row["output_image"]).convert("RGB")).astype(int)
    mask = np.asarray(Image.open(catalogue / row["mask_image"])) > 0
    upright = np.asarray(_person()).astype(int)
    # Paste-back keeps unmasked pixels: they match the photo as viewed (JPEG noise aside), not as stored.
    assert np.abs(output[~mask] - upright[~mask]).mean() < 4

