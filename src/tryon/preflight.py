"""Checks a run can pass before any work starts: config, manifest, models verified against the lock, device.

The CLI calls `check_run` before Prefect starts, so a run that cannot work stops in a second with
one message saying what to run, instead of failing inside a flow after the server has started.
"""

from __future__ import annotations

from pathlib import Path

from tryon.config import RunConfig
from tryon.errors import ConfigError


def check_device(device: str) -> None:
    """`cuda` must exist here; `auto` and `cpu` always work."""
    if device != "cuda":
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch sees no CUDA device here; "
                          "use --device cpu (or auto), or run on a GPU machine")


def check_models(config: RunConfig, cache_dir: Path | None = None) -> None:
    """The configured preset exists in the lock (whatever the engine: a typo is refused, not kept for
    later); for the sdxl engine, every file of it present, of its pinned size and sha256.

    Hashes go through the same (size, mtime) cache as the loader, so the check costs one hashing
    pass the first time and stat calls afterwards.
    """
    from tryon.models.lock import get_preset

    preset = get_preset(config.models)
    if config.engine != "sdxl":
        return
    from tryon.models.fingerprint import HASH_CACHE_NAME, FileHashCache
    from tryon.models.integrity import require_verified
    from tryon.models.registry import hub_cache_dir

    cache_dir = Path(cache_dir or hub_cache_dir())
    hash_cache = FileHashCache(cache_dir / HASH_CACHE_NAME)
    try:
        require_verified(preset, cache_dir, hash_cache.sha256)
    finally:
        hash_cache.save()


def check_run(config: RunConfig, manifest: str | Path | None = None):
    """Raise the first TryonError a run would hit at start: unreadable manifest, unusable models, no device.

    Returns the manifest as read (a DataFrame), or None when no manifest was given."""
    frame = None
    if manifest is not None:
        from tryon.manifest import read_manifest

        frame = read_manifest(manifest)
    check_device(config.device)
    check_models(config)
    return frame
