"""Where a pinned component lives in the Hugging Face cache, and which of its files the lock pins."""

from __future__ import annotations

import fnmatch
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


def matches_pins(relative_path: str, component: Component) -> bool:
    return any(fnmatch.fnmatch(relative_path, pattern) for pattern in component.allow_patterns)


def pinned_files(component: Component, cache_dir: Path) -> dict[str, Path]:
    """Repo-relative path -> local path of every cached file the lock pins for `component`."""
    root = snapshot_dir(component, cache_dir)
    if not root.is_dir():
        return {}
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and matches_pins(relative, component):
            found[relative] = path
    return found


def require_cached(preset: Preset, cache_dir: Path) -> dict[str, dict[str, Path]]:
    """Pinned files of every component, or ModelUnavailableError naming what is missing and what to run."""
    preset.require_resolved()
    files = {}
    for component in preset.all_components():
        found = pinned_files(component, cache_dir)
        expected_single = component.weight_name and not any(
            name.endswith(component.weight_name) for name in found)
        if not found or expected_single or any(path not in found for path in component.sha256):
            hint = (f"run `tryon models build-tiny` (test-only random weights)" if preset.random_weights
                    else f"run `tryon models pull {preset.name}` on a machine with hub access")
            raise ModelUnavailableError(
                f"preset {preset.name!r}: {component.name} ({component.pinned}) is not in the Hugging Face cache "
                f"{cache_dir}; {hint}, or point HF_HOME at a cache that has it")
        files[component.name] = found
    return files


def list_presets(path: Path | str | None = None) -> list[dict]:
    """One summary per preset in the lock file, for `tryon models list`."""
    cache_dir = hub_cache_dir()
    summaries = []
    for preset in load_lock(path).values():
        cached = all(pinned_files(component, cache_dir) for component in preset.all_components())
        summaries.append({
            "preset": preset.name,
            "description": preset.description,
            "random_weights": preset.random_weights,
            "components": preset.revisions(),
            "loras": sorted(preset.loras),
            "unresolved": [component.name for component in preset.unresolved()],
            "cached": cached,
        })
    return summaries
