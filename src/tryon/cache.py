"""Content-addressed, integrity-checked disk cache for preprocessing artifacts (masks, depth maps,
garment embeddings).

An entry is a folder of PNG/JSON files (masks as 1-bit PNG: exact and the cheapest to write) plus `entry.json` listing each file's sha256. It is
built under a temp name and renamed into place, so readers never see half an entry. A
missing file or hash mismatch counts as corrupt: the entry is dropped and recomputed.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tryon.atomic import atomic_directory
from tryon.hashing import sha256_bytes, sha256_file
from tryon.images import encode_image

ENTRY_FILE = "entry.json"


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    corrupt: int = 0
    writes: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(hits=self.hits, misses=self.misses, corrupt=self.corrupt, writes=self.writes)


@dataclass
class CacheEntry:
    images: dict[str, Image.Image]
    meta: dict[str, Any]
    path: Path
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # float arrays, kept exactly (.npy)


@dataclass
class ArtifactCache:
    root: Path
    stats: dict[str, CacheStats] = field(default_factory=dict)

    def _stats(self, namespace: str) -> CacheStats:
        return self.stats.setdefault(namespace, CacheStats())

    def entry_dir(self, namespace: str, key: str) -> Path:
        return Path(self.root) / namespace / key[:2] / key

    def get(self, namespace: str, key: str) -> CacheEntry | None:
        directory = self.entry_dir(namespace, key)
        stats = self._stats(namespace)
        if not directory.exists():
            stats.misses += 1
            return None
        try:
            record = json.loads((directory / ENTRY_FILE).read_text())
            images: dict[str, Image.Image] = {}
            arrays: dict[str, np.ndarray] = {}
            for name, expected in record["files"].items():
                file_path = directory / name
                if sha256_file(file_path) != expected:
                    raise ValueError(f"hash mismatch in {file_path}")
                if name.endswith(".png"):
                    with Image.open(file_path) as opened:
                        opened.load()
                        images[name[: -len(".png")]] = opened.copy()
                elif name.endswith(".npy"):
                    arrays[name[: -len(".npy")]] = np.load(file_path, allow_pickle=False)
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            stats.corrupt += 1
            stats.misses += 1
            shutil.rmtree(directory, ignore_errors=True)
            return None
        stats.hits += 1
        return CacheEntry(images=images, meta=record.get("meta", {}), path=directory, arrays=arrays)

    def put(self, namespace: str, key: str, images: dict[str, Image.Image | np.ndarray], meta: dict[str, Any]) -> Path:
        target = self.entry_dir(namespace, key)
        with atomic_directory(target) as temp:
            files = {}
            for name, image in images.items():
                if isinstance(image, np.ndarray) and np.issubdtype(image.dtype, np.floating):
                    # Embeddings: stored bit-exact, so a cache hit gives the same image as a miss.
                    np.save(temp / f"{name}.npy", image, allow_pickle=False)
                    files[f"{name}.npy"] = sha256_file(temp / f"{name}.npy")
                    continue
                file_name = f"{name}.png"
                data = encode_image(image, "png")  # fast zlib level; a boolean mask as exact 1-bit PNG
                (temp / file_name).write_bytes(data)
                files[file_name] = sha256_bytes(data)
            (temp / ENTRY_FILE).write_text(json.dumps({"files": files, "meta": meta}, sort_keys=True))
        self._stats(namespace).writes += 1
        return target
