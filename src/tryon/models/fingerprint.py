"""Model fingerprint: one hash over pinned component identities, file contents and library versions."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tryon.atomic import atomic_write_text
from tryon.hashing import canonical_json, sha256_file, stable_hash
from tryon.models.lock import Preset

HASH_CACHE_NAME = ".tryon-sha256-cache.json"


class FileHashCache:
    """sha256 of files, remembered by (real path, size, mtime) in a JSON file beside the hub cache.

    Hashing ~10 GB of SDXL weights takes tens of seconds; a worker that restarts reuses the
    result unless the file changed. Any change of size or mtime forces a rehash.
    """

    def __init__(self, cache_file: Path | None):
        self.cache_file = cache_file
        self.entries: dict[str, str] = {}
        self.hashed = 0
        if cache_file is not None and cache_file.is_file():
            try:
                self.entries = json.loads(cache_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    def sha256(self, path: Path) -> str:
        real = Path(os.path.realpath(path))
        stat = real.stat()
        key = f"{real}|{stat.st_size}|{stat.st_mtime_ns}"
        if key not in self.entries:
            self.entries[key] = sha256_file(real)
            self.hashed += 1
        return self.entries[key]

    def save(self) -> None:
        if self.cache_file is None or not self.hashed:
            return
        try:
            atomic_write_text(self.cache_file, canonical_json(self.entries))
        except OSError:  # a read-only cache still works, only slower next time
            pass


def library_versions() -> dict[str, str]:
    import diffusers
    import torch
    import transformers

    return {"diffusers_version": diffusers.__version__, "transformers_version": transformers.__version__,
            "torch_version": torch.__version__}


def file_digests(files: dict[str, dict[str, Path]], hash_cache: FileHashCache) -> dict[str, dict[str, str]]:
    """Component -> repo path -> sha256, for every pinned file (configs and weights)."""
    digests = {component: {relative: hash_cache.sha256(path) for relative, path in sorted(paths.items())}
               for component, paths in files.items()}
    hash_cache.save()
    return digests


def model_fingerprint(preset: Preset, digests: dict[str, dict[str, str]], versions: dict[str, str]) -> str:
    identity = {component.name: {"repo_id": component.repo_id, "revision": component.revision,
                                 "subfolder": component.subfolder, "variant": component.variant,
                                 "weight_name": component.weight_name}
                for component in preset.all_components()}
    return stable_hash(preset.name, identity, digests, versions, length=32)


def model_info(preset: Preset, fingerprint: str, versions: dict[str, str]) -> dict:
    """Catalogue columns that say which weights and libraries produced a row."""
    return {
        "model_preset": preset.name,
        "model_fingerprint": fingerprint,
        "model_revisions": json.dumps(preset.revisions(), sort_keys=True),
        **versions,
        "random_weights": preset.random_weights,
    }
