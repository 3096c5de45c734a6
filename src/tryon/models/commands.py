"""`tryon models list|pull|verify|lock|build-tiny`: manage pinned weights in the Hugging Face cache."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

from tryon.atomic import atomic_write_text
from tryon.errors import TryonError
from tryon.hashing import sha256_file
from tryon.models import tiny
from tryon.models.lock import COMMIT_SHA, SHA256, dump_lock, get_preset, load_lock, lock_path
from tryon.models.registry import hub_cache_dir, list_presets, pinned_files

__all__ = ["list_presets", "pull", "verify", "lock", "build_tiny", "register_cli"]


def _git_blob_sha1(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _require_online(action: str) -> None:
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise TryonError(f"`tryon models {action}` needs hub access but HF_HUB_OFFLINE is set; unset it on a "
                         "connected machine (loading never downloads, only pull and lock do)")


def verify(preset_name: str, cache_dir: Path | None = None) -> list[str]:
    """Offline check of every pinned file: present, and content matching its hash. Returns the problems.

    A file is checked against its sha256 in the lock when there is one, else against its blob name
    in the HF cache (sha256 for LFS files, git blob sha1 for small ones), which a changed file no
    longer matches.
    """
    preset = get_preset(preset_name)
    cache_dir = Path(cache_dir or hub_cache_dir())
    problems = [f"{component.name} ({component.repo_id}): revision not pinned; run `tryon models lock {preset_name}`"
                for component in preset.unresolved()]
    for component in preset.all_components():
        if not component.resolved:
            continue
        found = pinned_files(component, cache_dir)
        if not found:
            problems.append(f"{component.name} ({component.pinned}): not in {cache_dir}; "
                            f"run `tryon models pull {preset_name}`")
            continue
        for relative in sorted(set(component.sha256) - set(found)):
            problems.append(f"{component.name} ({component.pinned}): {relative} missing; "
                            f"run `tryon models pull {preset_name}`")
        for relative, path in found.items():
            blob_name = Path(os.path.realpath(path)).name
            if relative in component.sha256:
                expected, actual, kind = component.sha256[relative], sha256_file(path), "sha256 in the lock"
            elif SHA256.match(blob_name):
                expected, actual, kind = blob_name, sha256_file(path), "sha256 blob name"
            elif COMMIT_SHA.match(blob_name):
                expected, actual, kind = blob_name, _git_blob_sha1(path), "git blob name"
            else:
                continue
            if expected != actual:
                problems.append(f"{component.name} ({component.pinned}): {relative} does not match its {kind} "
                                f"(expected {expected[:12]}…, found {actual[:12]}…); delete {path} and run "
                                f"`tryon models pull {preset_name}`")
    return problems


def pull(preset_name: str, record_hashes: bool = False) -> Path:
    """Download exactly the pinned files of a preset into the HF cache (needs hub access).

    With `record_hashes`, write each file's sha256 into the lock so `verify` checks against it.
    """
    from huggingface_hub import snapshot_download

    preset = get_preset(preset_name)
    if preset.random_weights:
        raise TryonError(f"preset {preset_name!r} has random test weights; build it with `tryon models build-tiny`")
    preset.require_resolved()
    _require_online("pull")
    cache_dir = hub_cache_dir()
    for component in preset.all_components():
        snapshot_download(component.repo_id, revision=component.revision, cache_dir=str(cache_dir),
                          allow_patterns=list(component.allow_patterns) or None)
    problems = verify(preset_name, cache_dir)
    if problems:
        raise TryonError("downloaded files do not verify:\n  " + "\n  ".join(problems))
    if record_hashes:
        presets = load_lock()
        updated = {name: replace(component, sha256={relative: sha256_file(path) for relative, path in
                                                    pinned_files(component, cache_dir).items()})
                   for name, component in preset.components.items()}
        loras = {name: replace(component, sha256={relative: sha256_file(path) for relative, path in
                                                  pinned_files(component, cache_dir).items()})
                 for name, component in preset.loras.items()}
        presets[preset_name] = replace(preset, components=updated, loras=loras)
        atomic_write_text(lock_path(), dump_lock(presets))
    return cache_dir


def lock(preset_name: str, branch: str = "main", update: bool = False) -> dict[str, str]:
    """Resolve unpinned components (all of them with `update`) from `branch` to commit SHAs and rewrite the lock."""
    from huggingface_hub import HfApi

    presets = load_lock()
    preset = presets.get(preset_name) or get_preset(preset_name)
    if preset.random_weights:
        raise TryonError(f"preset {preset_name!r} has fixed fake test revisions; nothing to resolve")
    _require_online("lock")
    api = HfApi()
    resolved: dict[str, str] = {}
    commits: dict[str, str] = {}

    def pin(component):
        if component.resolved and not update:
            return component
        if component.repo_id not in commits:
            commits[component.repo_id] = api.model_info(component.repo_id, revision=branch).sha
        resolved[component.name] = f"{component.repo_id}@{commits[component.repo_id]}"
        return replace(component, revision=commits[component.repo_id], sha256={},
                       pinned_from=f"`tryon models lock` from branch {branch!r}")

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
    cache_dir = pull(args.preset, record_hashes=args.record_hashes)
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
    print(f"wrote {lock_path()} ({len(resolved)} component(s) pinned)")
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
    command.add_argument("--record-hashes", action="store_true", help="write file sha256s into the lock")
    command.set_defaults(handler=_cmd_pull)
    command = commands.add_parser("verify", help="offline: every pinned file present and unchanged")
    command.add_argument("preset")
    command.set_defaults(handler=_cmd_verify)
    command = commands.add_parser("lock", help="resolve branch -> commit SHA and rewrite the lock (needs hub)")
    command.add_argument("preset")
    command.add_argument("--branch", default="main")
    command.add_argument("--update", action="store_true", help="re-resolve components that are already pinned")
    command.set_defaults(handler=_cmd_lock)
    command = commands.add_parser("build-tiny", help="build the random-weight test preset (no download)")
    command.add_argument("--hf-home", default=None, help="default: $HF_HOME")
    command.set_defaults(handler=_cmd_build_tiny)
