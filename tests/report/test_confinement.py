"""`tryon report` inlines only images validation accepted or the catalogue wrote: rows that
failed with path_outside_root (absolute, `..`, relative to the catalogue, symlink) show none."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from tryon.config import RunConfig
from tryon.local import run_local
from tryon.report import write_report

from tests.conftest import SAMPLE_DIR

MAGENTA = (255, 0, 255)


def _thumbnails(page: str) -> list[np.ndarray]:
    uris = re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", page)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(uri))).convert("RGB")).astype(int) for uri in uris]


def test_report_never_inlines_a_file_outside_the_data_root_or_catalogue(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR, data, ignore=shutil.ignore_patterns("*.py"))
    secret = tmp_path / "secret.png"
    Image.new("RGB", (200, 200), MAGENTA).save(secret)
    os.symlink(secret, data / "people" / "link.png")
    catalogue = tmp_path / "catalogue"
    good = {"person_image": "people/astronaut.png", "garment_image": "garments/red_tshirt.png",
            "category": "upper_body"}
    rows = [
        {"pair_id": "good", **good},
        {"pair_id": "absolute", **good, "person_image": str(secret)},
        {"pair_id": "dotdot", **good, "garment_image": "../secret.png"},  # also ../secret.png from catalogue/
        {"pair_id": "symlink", **good, "person_image": "people/link.png"},
        {"pair_id": "dotdot_inside", **good, "person_image": "people/../../secret.png"},
    ]
    manifest = data / "hostile.parquet"
    pd.DataFrame(rows).to_parquet(manifest, index=False)
    run_local(manifest, catalogue, RunConfig(engine="preview"))

    page = write_report(catalogue, tmp_path / "report.html").read_text()
    cards = re.findall(r"<div class='pair (\w+)'.*?</div></div>", page)
    assert sorted(cards) == ["failed"] * 4 + ["succeeded"] and "path_outside_root" in page
    thumbnails = _thumbnails(page)
    assert len(thumbnails) == 4  # the good pair's person, garment, mask overlay and result
    for thumbnail in thumbnails:
        magenta = (np.abs(thumbnail - MAGENTA).sum(axis=-1) < 60).mean()
        assert magenta < 0.2, "the report inlined the file outside the data root"
