from pathlib import Path

import numpy as np
from PIL import Image

from tryon.cache import ArtifactCache


def _put(cache: ArtifactCache) -> Path:
    mask = np.zeros((8, 8), dtype=bool)
    mask[2:5] = True
    return cache.put("masks", "ab" * 32, {"garment_mask": mask}, {"mask_source": "auto"})


def test_roundtrip_counts_hits_and_misses(tmp_path: Path):
    cache = ArtifactCache(tmp_path)
    assert cache.get("masks", "ab" * 32) is None
    _put(cache)
    entry = cache.get("masks", "ab" * 32)
    assert entry.meta == {"mask_source": "auto"}
    assert (np.asarray(entry.images["garment_mask"]) > 0).sum() == 24
    assert cache.stats["masks"].as_dict() == {"hits": 1, "misses": 1, "corrupt": 0, "writes": 1}


def test_truncated_or_garbage_entry_is_dropped_and_counted(tmp_path: Path):
    cache = ArtifactCache(tmp_path)
    directory = _put(cache)
    png = directory / "garment_mask.png"
    png.write_bytes(png.read_bytes()[:10])
    assert cache.get("masks", "ab" * 32) is None
    assert not directory.exists()
    assert cache.stats["masks"].corrupt == 1
    directory = _put(cache)
    (directory / "entry.json").write_text("{garbage")
    assert cache.get("masks", "ab" * 32) is None
    assert cache.stats["masks"].corrupt == 2
