"""Truncated or garbage cache entries are detected by their hashes, recomputed, and counted."""

import json

import tryon.catalogue as cat
from tryon.config import RunConfig
from tryon.local import run_local

from tests.conftest import SAMPLE_DIR


def test_corrupt_mask_entries_are_recomputed_and_counted(tmp_path):
    run_local(SAMPLE_DIR / "manifest.parquet", tmp_path, RunConfig(engine="preview"))
    entries = sorted(path.parent for path in (tmp_path / "cache" / "masks").rglob("entry.json"))
    assert len(entries) == 2  # two distinct person photos
    truncated = entries[0] / "garment_mask.png"
    truncated.write_bytes(truncated.read_bytes()[:20])
    (entries[1] / "entry.json").write_text("garbage{")

    record = run_local(SAMPLE_DIR / "manifest.parquet", tmp_path,
                       RunConfig(engine="preview", preview={"feather_px": 6}))  # new config: every pair again
    stats = json.loads(record["cache_stats"])["masks"]
    assert stats["corrupt"] == 2 and stats["writes"] == 2
    assert json.loads(record["stage_calls"])["masking_compute"] >= 1
    assert record["pairs_succeeded"] == 4
    assert (cat.load(tmp_path)["status"] == "succeeded").sum() == 4
