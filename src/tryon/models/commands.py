"""`tryon models list|pull|verify|lock|build-tiny`: manage pinned weights in the Hugging Face cache."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from tryon.atomic import atomic_write_text
from tryon.errors import TryonError
from tryon.hashing import sha256_file
from tryon.models import tiny
from tryon.models.integrity import check_files
from tryon.models.lock import Component, PinnedFile, dump_lock, get_preset, load_lock, lock_path
from tryon.models.registry import hub_cache_dir, list_presets

__all__ = ["list_presets", "pull", "verify", "lock", "build_tiny", "register_cli"]


def _require_online(action: str) -> None:
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise TryonError(f"`tryon models {action}` needs hub access but HF_HUB_OFFLINE is set; unset it on a "
                         "connected machine (loading never downloads, only pull and lock do)")


def verify(preset_name: str, cache_dir: Path | None = None) -> list[str]:
    """Offline check of every pinned file, hashed afresh: present, of its pinned size, with its pinned
    sha256. Returns one line per problem, each naming the file and what to run."""
    preset = get_preset(preset_name)
    cache_dir = Path(cache_dir or hub_cache_dir())
    return [f"{problem.describe()}; {problem.advice()}" for problem in check_files(preset, cache_dir, sha256_file)]


def pull(preset_name: str) -> Path:
    """Download exactly the pinned files of a preset into the HF cache (needs hub access), then verify them."""
    from huggingface_hub import snapshot_download

    preset = get_preset(preset_name)
    if preset.random_weights:
        raise TryonError(f"preset {preset_name!r} has random test weights; build it with `tryon models build-tiny`")
    preset.require_resolved()
    unpinned = [f"{component.name} {pinned.path}" for component in preset.all_components()
                for pinned in component.files if not pinned.hash_pinned]
    if unpinned:
        raise TryonError(f"preset {preset_name!r} has {len(unpinned)} file(s) without a pinned sha256 (e.g. "
                         f"{unpinned[0]}), so a download could not be checked; run `tryon models lock {preset_name}` "
                         "first (it records them from the hub) and commit models.lock.toml")
    _require_online("pull")
    cache_dir = hub_cache_dir()
    for component in preset.all_components():
        snapshot_download(component.repo_id, revision=component.revision, cache_dir=str(cache_dir),
                          allow_patterns=[pinned.path for pinned in component.files])
    problems = verify(preset_name, cache_dir)
    if problems:
        raise TryonError("downloaded files do not verify:\n  " + "\n  ".join(problems))
    return cache_dir


def _hub_pins(api, component: Component, revision: str, cache_dir: Path) -> tuple[PinnedFile, ...]:
    """sha256 and size of each listed file at `revision`: the hub's LFS metadata for large files, a
    download and a local hash for small (non-LFS) ones, whose sha256 the hub does not publish."""
    from huggingface_hub import hf_hub_download

    paths = [pinned.path for pinned in component.files]
    infos = {info.path: info for info in api.get_paths_info(component.repo_id, paths, revision=revision)}
    pins = []
    for path in paths:
        info = infos.get(path)
        if info is None or not hasattr(info, "size"):
            raise TryonError(f"{component.name}: {path} does not exist in {component.repo_id}@{revision}; "
                             "fix its [files] in models.lock.toml")
        if info.lfs is not None:
            pins.append(PinnedFile(path, sha256=info.lfs.sha256, size=int(info.lfs.size)))
            continue
        local = Path(hf_hub_download(component.repo_id, path, revision=revision, cache_dir=str(cache_dir)))
        pins.append(PinnedFile(path, sha256=sha256_file(local), size=local.stat().st_size))
    return tuple(pins)


def lock(preset_name: str, branch: str = "main", update: bool = False) -> dict[str, str]:
    """Pin a preset on a connected machine and rewrite the lock.

    Without `update`: resolve components with no revision (from `branch`) and record the sha256
    and size of every file still "unpinned". With `update`: move every component to the newest
    commit of `branch` and record every file's sha256 and size anew.
    """
    from huggingface_hub import HfApi

    presets = load_lock()
    preset = presets.get(preset_name) or get_preset(preset_name)
    if preset.random_weights:
        raise TryonError(f"preset {preset_name!r} has random test weights; `tryon models build-tiny` writes its pins")
    _require_online("lock")
    api = HfApi()
    cache_dir = hub_cache_dir()
    resolved: dict[str, str] = {}
    commits: dict[str, str] = {}

    def pin(component: Component) -> Component:
        needs_hashes = any(not (pinned.hash_pinned and pinned.size is not None) for pinned in component.files)
        if component.resolved and not update and not needs_hashes:
            return component
        revision, pinned_from = component.revision, component.pinned_from
        if update or not component.resolved:
            if component.repo_id not in commits:
                commits[component.repo_id] = api.model_info(component.repo_id, revision=branch).sha
            revision, pinned_from = commits[component.repo_id], f"`tryon models lock` from branch {branch!r}"
        resolved[component.name] = f"{component.repo_id}@{revision}"
        return replace(component, revision=revision, pinned_from=pinned_from,
                       files=_hub_pins(api, replace(component, revision=revision), revision, cache_dir))

    presets[preset_name] = replace(
        preset, components={name: pin(component) for name, component in preset.components.items()},
        loras={name: pin(component) for name, component in preset.loras.items()})
    atomic_write_text(lock_path(), dump_lock(presets))
    return resolved


def build_tiny(hf_home: str | Path | None = None) -> Path:
    """Build the random-weight `tiny` preset (tests only) into `hf_home` (default $HF_HOME)."""
    hf_home = hf_home or os.environ.get("HF_HOME") or hub_cache_dir().parent
    return tiny.build_tiny(hf_home)


# --- argparse wiring ------------------------------------------------------------------------------

def _cmd_list(args) -> int:
    print(json.dumps(list_presets(), indent=2))
    return 0


def _cmd_pull(args) -> int:
    cache_dir = pull(args.preset)
    print(f"preset {args.preset!r} is in {cache_dir} and verifies")
    return 0


def _cmd_verify(args) -> int:
    problems = verify(args.preset)
    for problem in problems:
        print(problem)
    print(f"preset {args.preset!r}: " + (f"{len(problems)} problem(s)" if problems else "all pinned files verify"))
    return 1 if problems else 0


def _cmd_lock(args) -> int:
    resolved = lock(args.preset, branch=args.branch, update=args.update)
    for name, pinned in resolved.items():
        print(f"{name}: {pinned}")
    print(f"wrote {lock_path()} ({len(resolved)} component(s) pinned with file sha256 and sizes); commit it")
    return 0


def _cmd_build_tiny(args) -> int:
    hf_home = build_tiny(args.hf_home)
    print(f"built RANDOM-WEIGHT TEST preset 'tiny' into {hf_home}; use HF_HOME={hf_home} HF_HUB_OFFLINE=1")
    return 0


def register_cli(subparsers) -> None:
    """Add `models` and its subcommands to an argparse subparsers object; handlers return exit codes."""
    models = subparsers.add_parser("models", help="list, pull, verify and pin model weights")
    commands = models.add_subparsers(dest="models_command", required=True)
    commands.add_parser("list", help="presets in models.lock.toml and whether they are cached").set_defaults(
        handler=_cmd_list)
    command = commands.add_parser("pull", help="download a preset's pinned files into the HF cache (needs hub)")
    command.add_argument("preset")
    command.set_defaults(handler=_cmd_pull)
    command = commands.add_parser("verify", help="offline: every pinned file present and unchanged")
    command.add_argument("preset")
    command.set_defaults(handler=_cmd_verify)
    command = commands.add_parser("lock", help="record revisions, file sha256 and sizes in the lock (needs hub)")
    command.add_argument("preset")
    command.add_argument("--branch", default="main")
    command.add_argument("--update", action="store_true",
                         help="move every component to the newest commit of --branch and re-record every file")
    command.set_defaults(handler=_cmd_lock)
    command = commands.add_parser("build-tiny", help="build the random-weight test preset (no download)")
    command.add_argument("--hf-home", default=None, help="default: $HF_HOME")
    command.set_defaults(handler=_cmd_build_tiny)
