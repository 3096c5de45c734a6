"""Shared fixtures: a private copy of the sample data and small image factories."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data" / "sample"

# Tests never reach a model hub and never phone home.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    """A writable copy of data/sample (people, garments, manifest)."""
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def write_manifest(path: Path, rows: list[dict]) -> Path:
    frame = pd.DataFrame(rows)
    if "seed" in frame.columns:
        frame["seed"] = frame["seed"].astype("Int64")
    frame.to_parquet(path, index=False)
    return path


def make_image(path: Path, size=(128, 128), mode="RGB", colour=(200, 30, 40), fmt=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    array = np.asarray(image).copy()
    array[: size[1] // 2] //= 2
    image = Image.fromarray(array)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path, format=fmt)
    return path


TYPED_EXTRAS_WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def typed_extras() -> dict[str, pa.Array]:
    """Three rows of carried columns in Arrow types pandas would mangle (lists of any length,
    structs, maps, dictionaries, timestamps, uint64)."""
    when = TYPED_EXTRAS_WHEN
    return {
        "colours": pa.array([["red"], ["red", "blue", "green"], []], pa.list_(pa.string())),
        "sizes": pa.array([[1, 2], None, [3]], pa.list_(pa.int32())),
        "dims": pa.array([{"w": 1.5, "unit": "cm"}, None, {"w": 2.0, "unit": "in"}]),
        "season": pa.array(["ss26", "aw26", "ss26"]).dictionary_encode(),
        "listed_at": pa.array([when, None, when], pa.timestamp("ms", tz="UTC")),
        "attributes": pa.array([[("fit", "slim")], [], None], pa.map_(pa.string(), pa.string())),
        "stock": pa.array([1, 2**40, None], pa.uint64()),
    }
