"""Where a pinned component lives in the Hugging Face cache, and which of its files the lock pins."""

from __future__ import annotations

import os
from pathlib import Path

from tryon.errors import ModelUnavailableError
from tryon.models.lock import Component, Preset, load_lock


def hub_cache_dir() -> Path:
    """The hub cache, read from the environment at call time ($HF_HUB_CACHE, else $HF_HOME/hub).

    huggingface_hub reads these once at import; reading them here lets a worker (or a test)
    point at another cache after import.
    """
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface")
    return Path(hf_home) / "hub"


def repo_cache_dir(repo_id: str, cache_dir: Path) -> Path:
    return Path(cache_dir) / ("models--" + repo_id.replace("/", "--"))


def snapshot_dir(component: Component, cache_dir: Path) -> Path:
    return repo_cache_dir(component.repo_id, cache_dir) / "snapshots" / component.revision


def local_file(component: Component, repo_path: str, cache_dir: Path) -> Path:
    """Where huggingface_hub keeps `repo_path` of the pinned commit (the file may not exist)."""
    return snapshot_dir(component, cache_dir) / repo_path


def pinned_files(component: Component, cache_dir: Path) -> dict[str, Path]:
    """Repo path -> local path of each file the lock lists for `component` that is in the cache."""
    if not component.resolved:
        return {}
    found = {}
    for pinned in component.files:
        path = local_file(component, pinned.path, cache_dir)
        if path.is_file():
            found[pinned.path] = path
    return found


def require_cached(preset: Preset, cache_dir: Path) -> dict[str, dict[str, Path]]:
    """Local paths of every pinned file of every component, or ModelUnavailableError naming the first
    missing file and what to run."""
    preset.require_resolved()
    files = {}
    for component in preset.all_components():
        found = pinned_files(component, cache_dir)
        missing = [pinned.path for pinned in component.files if pinned.path not in found]
        if missing:
            hint = (f"run `tryon models build-tiny` (test-only random weights)" if preset.random_weights
                    else f"run `tryon models pull {preset.name}` on a machine with hub access")
            raise ModelUnavailableError(
                f"preset {preset.name!r}: {component.name} file {missing[0]} ({component.pinned}) is not in the "
                f"Hugging Face cache {cache_dir}; {hint}, or point HF_HOME at a cache that has it")
        files[component.name] = found
    return files


def list_presets(path: Path | str | None = None) -> list[dict]:
    """One summary per preset in the lock file, for `tryon models list`."""
    cache_dir = hub_cache_dir()
    summaries = []
    for preset in load_lock(path).values():
        cached = all(len(pinned_files(component, cache_dir)) == len(component.files)
                     for component in preset.all_components())
        summaries.append({
            "preset": preset.name,
            "description": preset.description,
            "random_weights": preset.random_weights,
            "components": preset.revisions(),
            "loras": sorted(preset.loras),
            "unresolved": [component.name for component in preset.unresolved()],
            "unpinned_files": sum(not pinned.hash_pinned for component in preset.all_components()
                                  for pinned in component.files),
            "cached": cached,
        })
    return summaries
