"""Check a preset's cached files against the lock: each one present, of its pinned size, with its pinned sha256.

`tryon models verify` hashes every file afresh; the loader and the run preflight hash through a
`FileHashCache` (keyed by size and mtime), so a warm start does not re-read gigabytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tryon.errors import ModelUnavailableError
from tryon.models.lock import Component, PinnedFile, Preset
from tryon.models.registry import local_file

# Problem kinds, in the order a user has to fix them.
UNRESOLVED, MISSING, WRONG_SIZE, CHANGED, UNPINNED_HASH = "unresolved", "missing", "wrong_size", "changed", "unpinned"


@dataclass(frozen=True)
class FileProblem:
    """One pinned file that cannot be used, and why."""

    preset: Preset
    component: Component
    pinned: PinnedFile | None  # None for an unresolved revision (no file can be found)
    local_path: Path | None
    kind: str
    found: str = ""  # the size or sha256 found, for wrong_size / changed

    def describe(self) -> str:
        component = self.component
        if self.kind == UNRESOLVED:
            return f"{component.name} ({component.repo_id}): revision not pinned to a commit SHA"
        where = f"{component.name} file {self.pinned.path} ({component.pinned})"
        if self.kind == MISSING:
            return f"{where} is missing from the cache"
        if self.kind == WRONG_SIZE:
            return (f"{where} has {self.found} bytes, the lock pins {self.pinned.size}: truncated or not the "
                    f"pinned file ({self.local_path})")
        if self.kind == CHANGED:
            return (f"{where} has sha256 {self.found[:12]}…, the lock pins {self.pinned.sha256[:12]}…: "
                    f"altered or corrupted ({self.local_path})")
        return f"{where}: unpinned hash (the lock has no sha256 for it yet)"

    def advice(self) -> str:
        return fix_command(self.preset, self.kind)


def fix_command(preset: Preset, kind: str) -> str:
    """What the user runs to fix a problem of `kind`."""
    if kind in (UNRESOLVED, UNPINNED_HASH):
        return (f"run `tryon models lock {preset.name}` on a connected machine (it records revisions, sha256 and "
                "sizes) and commit models.lock.toml")
    if preset.random_weights:
        return "run `tryon models build-tiny` (test-only random weights)"
    prefix = "delete it and " if kind in (WRONG_SIZE, CHANGED) else ""
    return f"{prefix}run `tryon models pull {preset.name}` on a machine with hub access, or point HF_HOME at a cache that has it"


def check_file(preset: Preset, component: Component, pinned: PinnedFile, cache_dir: Path,
               sha256_of: Callable[[Path], str]) -> FileProblem | None:
    """The problem with one pinned file, or None when it is present and matches the lock."""
    path = local_file(component, pinned.path, cache_dir)
    if not path.is_file():
        return FileProblem(preset, component, pinned, path, MISSING)
    if pinned.size is not None and path.stat().st_size != pinned.size:
        return FileProblem(preset, component, pinned, path, WRONG_SIZE, found=str(path.stat().st_size))
    if not pinned.hash_pinned:
        return FileProblem(preset, component, pinned, path, UNPINNED_HASH)
    actual = sha256_of(path)
    if actual != pinned.sha256:
        return FileProblem(preset, component, pinned, path, CHANGED, found=actual)
    return None


def check_files(preset: Preset, cache_dir: Path, sha256_of: Callable[[Path], str],
                components: list[Component] | None = None) -> list[FileProblem]:
    """Every problem of the preset's pinned files (or of `components`), in lock order."""
    problems: list[FileProblem] = []
    for component in components if components is not None else preset.all_components():
        if not component.resolved:
            problems.append(FileProblem(preset, component, None, None, UNRESOLVED))
            continue
        for pinned in component.files:
            problem = check_file(preset, component, pinned, Path(cache_dir), sha256_of)
            if problem is not None:
                problems.append(problem)
    return problems


def summary(preset: Preset, problems: list[FileProblem], cache_dir: Path) -> str:
    """One or two lines for a run that cannot start: the first problem by the order to fix them, and what to run."""
    order = (UNRESOLVED, MISSING, WRONG_SIZE, CHANGED, UNPINNED_HASH)
    first = min(problems, key=lambda problem: order.index(problem.kind))
    more = f" (and {len(problems) - 1} more problem(s): `tryon models verify {preset.name}` lists them)" \
        if len(problems) > 1 else ""
    text = f"model preset {preset.name!r} is not ready in {cache_dir}: {first.describe()}{more}\n{first.advice()}"
    unpinned = sum(not pinned.hash_pinned for component in preset.all_components() for pinned in component.files)
    if first.kind not in (UNRESOLVED, UNPINNED_HASH) and unpinned:
        text += (f"; first run `tryon models lock {preset.name}` there: {unpinned} file(s) have no pinned sha256 "
                 "in models.lock.toml yet")
    return text


def require_verified(preset: Preset, cache_dir: Path, sha256_of: Callable[[Path], str],
                     components: list[Component] | None = None) -> dict[str, dict[str, str]]:
    """Component -> repo path -> sha256 of every pinned file, or ModelUnavailableError naming the first
    unusable file and what to run."""
    problems = check_files(preset, cache_dir, sha256_of, components)
    if problems:
        raise ModelUnavailableError(summary(preset, problems, cache_dir))
    return {component.name: {pinned.path: pinned.sha256 for pinned in component.files}
            for component in (components if components is not None else preset.all_components())}
