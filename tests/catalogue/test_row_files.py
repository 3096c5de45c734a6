"""RowFiles: a catalogue row's path is opened only inside the data root (validated inputs) or
the catalogue's images/ folder (what the catalogue wrote), whatever the row holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tryon.catalogue.row_files import RowFiles
from tryon.catalogue.store import Catalogue

from tests.conftest import make_image

RUN = "20260101T000000-aaaaaa"


@pytest.fixture
def setup(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_image(tmp_path / "outside" / "secret.png")
    inside = make_image(data / "in.png")
    (data / "folder").mkdir()
    os.symlink(secret, data / "link.png")
    catalogue = Catalogue(tmp_path / "catalogue").create()
    catalogue.write_run({"run_id": RUN, "status": "finished", "data_root": str(data)})
    output = make_image(catalogue.images_dir / "outputs" / "ok.png")
    os.symlink(secret, catalogue.images_dir / "outputs" / "link.png")
    return RowFiles(catalogue), data, secret, inside, output, catalogue


def test_validated_inputs_inside_the_data_root_open(setup):
    files, data, secret, inside, output, catalogue = setup
    row = {"run_id": RUN, "input_hash": "abc", "person_image": str(inside)}
    assert files.path(row, "person_image") == inside
    assert files.path({"output_image": "images/outputs/ok.png"}, "output_image") == output


@pytest.mark.parametrize("raw", [
    "{secret}", "{data}/../outside/secret.png", "{data}/link.png", "in.png", "../outside/secret.png",
    "{data}/folder", "{data}/in.png\x00.txt", "", None, 42,
])
def test_input_paths_outside_or_unvalidated_never_open(setup, raw):
    files, data, secret, inside, output, catalogue = setup
    if isinstance(raw, str):
        raw = raw.format(data=data, secret=secret)
    for column in ("person_image", "garment_image", "ground_truth_image"):
        assert files.path({"run_id": RUN, "input_hash": "abc", column: raw}, column) is None


def test_a_row_that_failed_validation_opens_no_input_even_inside_the_root(setup):
    files, data, secret, inside, output, catalogue = setup
    assert files.path({"run_id": RUN, "input_hash": None, "person_image": str(inside)}, "person_image") is None
    assert files.path({"run_id": "unknown-run", "input_hash": "abc", "person_image": str(inside)},
                      "person_image") is None


@pytest.mark.parametrize("raw", [
    "{secret}", "{output}", "../outside/secret.png", "images/../../outside/secret.png",
    "images/outputs/link.png", "runs/run-" + RUN + ".parquet", "images/../runs/run-" + RUN + ".parquet",
    "images/outputs", "images/outputs/none.png",
])
def test_catalogue_columns_open_only_under_images(setup, raw):
    files, data, secret, inside, output, catalogue = setup
    raw = raw.format(secret=secret, output=output)
    for column in ("output_image", "mask_image", "mask_overlay_image", "depth_image"):
        assert files.path({"run_id": RUN, "input_hash": "abc", column: raw}, column) is None


def test_other_columns_are_never_paths(setup):
    files, data, secret, inside, output, catalogue = setup
    assert files.path({"sku": str(inside), "run_id": RUN, "input_hash": "abc"}, "sku") is None
