"""The overlapped pipeline: the same rows and files as a serial run, failures stay per pair,
and memory stays flat over a long shard."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import tryon.runner
from tryon.catalogue.store import Catalogue
from tryon.config import RunConfig
from tryon.engines.standin import StandInEngine
from tryon.manifest import validate_manifest
from tryon.runner import ShardProcessor

from tests.conftest import SAMPLE_DIR

# Differ between any two runs, serial or not.
TIMING_COLUMNS = {"seconds_decode", "seconds_masking", "seconds_depth", "seconds_engine", "seconds_metrics",
                  "finished_at"}
METRICS_FAIL_SIZE = (301, 333)  # a garment of this size makes the metrics step raise (see the fixture)


WINDOW = 4  # pairs per window in these tests (16 in a real run), so 13 pairs make four windows


@pytest.fixture
def small_windows(monkeypatch):
    monkeypatch.setattr(ShardProcessor, "window", property(lambda self: WINDOW))


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """13 pairs (half-size sample photos): good ones, an engine failure, a metrics failure, a damaged photo."""
    root = tmp_path_factory.mktemp("pipelining") / "sample"
    shutil.copytree(SAMPLE_DIR, root, ignore=shutil.ignore_patterns("*.py"))
    for name in ("people/astronaut.png", "people/grace_hopper.jpg"):
        image = Image.open(root / name)
        image.resize((image.width // 2, image.height // 2), Image.LANCZOS).save(root / name)
    Image.open(root / "garments/red_tshirt.png").resize(METRICS_FAIL_SIZE).save(root / "garments/odd.png")
    data = (root / "people/grace_hopper.jpg").read_bytes()
    (root / "people/damaged.jpg").write_bytes(data[: len(data) * 2 // 3])
    people, garments = ["people/astronaut.png", "people/grace_hopper.jpg"], ["garments/red_tshirt.png",
                                                                              "garments/navy_striped_tshirt.png"]
    rows = [{"pair_id": f"p{index:03d}", "person_image": people[index % 2], "garment_image": garments[index // 2 % 2],
             "category": "upper_body"} for index in range(10)]
    rows += [{"pair_id": "metrics-fails", "person_image": people[0], "garment_image": "garments/odd.png",
              "category": "upper_body"},
             {"pair_id": "damaged-person", "person_image": "people/damaged.jpg", "garment_image": garments[0],
              "category": "upper_body"},
             {"pair_id": "engine-fails", "person_image": people[1], "garment_image": garments[1],
              "category": "upper_body"}]
    pd.DataFrame(rows).to_parquet(root / "manifest.parquet", index=False)
    return validate_manifest(root / "manifest.parquet", data_root=None, limits=RunConfig().limits).pairs


@pytest.fixture
def failing_metrics(monkeypatch):
    real = tryon.runner.pair_metrics

    def pair_metrics(**inputs):
        if inputs["garment"].size == METRICS_FAIL_SIZE:
            raise RuntimeError("metrics exploded")
        return real(**inputs)

    monkeypatch.setattr(tryon.runner, "pair_metrics", pair_metrics)


def _run(pairs, catalogue: Path, overlap: bool) -> list[dict]:
    config = RunConfig(batch_size=3).model_copy(update={"pipeline": RunConfig().pipeline.model_copy(
        update={"overlap": overlap})})
    processor = ShardProcessor(config, Catalogue(catalogue).create(), engine=StandInEngine(fail_pair_ids=["engine-fails"]))
    return processor.process(pairs)


def _files(catalogue: Path) -> dict[str, str]:
    return {path.relative_to(catalogue).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted((catalogue / "images").rglob("*")) if path.is_file()}


def test_overlapped_run_matches_serial_run(pairs, failing_metrics, small_windows, tmp_path):
    serial = _run(pairs, tmp_path / "serial", overlap=False)
    overlapped = _run(pairs, tmp_path / "overlapped", overlap=True)

    assert len(pairs) > 3 * WINDOW  # preparing, generating and finishing really overlap
    strip = lambda rows: [{key: value for key, value in row.items() if key not in TIMING_COLUMNS} for row in rows]
    assert strip(overlapped) == strip(serial)
    assert _files(tmp_path / "overlapped") == _files(tmp_path / "serial")
    assert len(_files(tmp_path / "serial")) > 0

    by_id = {row["pair_id"]: row for row in overlapped}
    assert by_id["engine-fails"]["status"] == "failed" and by_id["engine-fails"]["error_type"] == "stage_error"
    assert by_id["metrics-fails"]["status"] == "failed"
    assert "metrics failed: RuntimeError: metrics exploded" in by_id["metrics-fails"]["error_message"]
    assert by_id["damaged-person"]["error_type"] == "corrupt_image"
    good = [row for row in overlapped if row["pair_id"].startswith("p")]
    assert all(row["status"] == "succeeded" and row["output_format"] == "png" for row in good)
    assert [row["pair_id"] for row in overlapped] == [pair.pair_id for pair in pairs]


def test_a_stage_that_raises_fails_its_window_pairs_not_the_shard(pairs, monkeypatch, small_windows, tmp_path):
    def broken_mask(self, works):
        raise MemoryError("out of memory while masking")

    monkeypatch.setattr(ShardProcessor, "_mask", broken_mask)
    rows = _run(pairs[:5], tmp_path / "c", overlap=True)
    assert [row["status"] for row in rows] == ["failed"] * 5
    assert all("masking failed: MemoryError" in row["error_message"] for row in rows)


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


RSS_GROWTH_BOUND_MIB = 40  # RSS after 2,000 pairs may exceed RSS after 200 by at most this


def test_memory_stays_flat_over_a_long_shard(tmp_path):
    """2,000 pairs of small synthetic photos (hand-made masks, so masking is mostly cache hits)
    through the overlapped pipeline with the stand-in engine, in real-size windows (16 pairs)."""
    people, garments = tmp_path / "people", tmp_path / "garments"
    people.mkdir(), garments.mkdir()
    mask = np.zeros((80, 64), np.uint8)
    mask[25:70, 12:52] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    for index in range(8):
        person = np.full((80, 64, 3), 40 + 20 * index, np.uint8)
        person[20:75, 10:54] = (200, 150 - 10 * index, 120)
        Image.fromarray(person).save(people / f"{index}.png")
        garment = np.full((64, 64, 3), 255, np.uint8)  # a product shot: one colour on white
        garment[12:56, 14:50] = (30 * index, 90, 200 - 20 * index)
        Image.fromarray(garment).save(garments / f"{index}.png")
    rows = [{"pair_id": f"m{index:05d}", "person_image": f"people/{index % 8}.png",
             "garment_image": f"garments/{index // 8 % 8}.png", "category": "upper_body", "mask_image": "mask.png"}
            for index in range(2000)]
    pd.DataFrame(rows).to_parquet(tmp_path / "manifest.parquet", index=False)
    pairs = validate_manifest(tmp_path / "manifest.parquet", data_root=None, limits=RunConfig().limits).pairs
    processor = ShardProcessor(RunConfig(), Catalogue(tmp_path / "catalogue").create(), engine=StandInEngine())

    first = processor.process(pairs[:200])
    after_200 = _rss_mib()
    rest = processor.process(pairs[200:])
    after_2000 = _rss_mib()

    assert [row["status"] for row in first + rest] == ["succeeded"] * 2000
    print(f"RSS after 200 pairs {after_200:.1f} MiB, after 2,000 {after_2000:.1f} MiB")
    assert after_2000 - after_200 <= RSS_GROWTH_BOUND_MIB, (after_200, after_2000)


def test_auto_overlaps_beside_an_accelerator_engine_but_not_beside_a_cpu_engine(tmp_path):
    """`pipeline.overlap = "auto"` (the default): a CPU-bound engine would only fight the CPU stages for cores."""
    from tryon.engines.preview import PreviewEngine

    config = RunConfig(batch_size=3)
    assert config.pipeline.overlap == "auto"
    catalogue = Catalogue(tmp_path / "c").create()
    assert ShardProcessor(config, catalogue, engine=StandInEngine()).overlaps()
    assert not ShardProcessor(config, catalogue, engine=PreviewEngine(config.preview)).overlaps()
    forced = config.model_copy(update={"pipeline": config.pipeline.model_copy(update={"overlap": True})})
    assert ShardProcessor(forced, catalogue, engine=PreviewEngine(forced.preview)).overlaps()
