"""Read and write models.lock.toml: presets of Hugging Face components pinned to commit SHAs."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import tryon
from tryon.errors import ConfigError, ModelUnavailableError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOCK_ENV = "TRYON_MODELS_LOCK"
LOCK_NAME = "models.lock.toml"
COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Roles a diffusion preset must provide; the engine maps each to a loader class, the depth stage reads "depth".
REQUIRED_ROLES = ("base", "controlnet", "vae", "ip_adapter", "image_encoder", "depth")
# Single-file checkpoints that exist only as PyTorch tensors files; they are loaded with
# torch.load(weights_only=True), which refuses anything that needs code to unpickle.
TENSOR_CHECKPOINT_ROLES = ("depth", "sam")
DTYPES = ("float32", "float16", "bfloat16")
# What the lock says for a file whose sha256 or size is not known yet (e.g. pinned offline from a
# snapshot name): `tryon models lock PRESET` on a connected machine fills it in; until then the
# file does not verify and runs refuse it.
UNPINNED = "unpinned"


class LockError(ConfigError):
    """models.lock.toml is malformed or pins something that can move."""


@dataclass(frozen=True)
class PinnedFile:
    """One file of a component, by its path in the repo, with the content the lock expects.

    `sha256`/`size` are None where the lock says "unpinned": the file is named, but its content
    is not known yet, so it cannot be verified.
    """

    path: str
    sha256: str | None = None
    size: int | None = None

    @property
    def hash_pinned(self) -> bool:
        return self.sha256 is not None


@dataclass(frozen=True)
class Component:
    """One pinned piece of a preset: a repo (or a subfolder of one) at one commit."""

    name: str
    repo_id: str
    revision: str  # full commit SHA; "" while unresolved
    subfolder: str | None = None
    variant: str | None = None
    torch_dtype: str = "float16"  # dtype on an accelerator; the CPU always runs float32
    weight_name: str | None = None  # single-file weights (IP-Adapter, LoRA, depth checkpoint)
    files: tuple[PinnedFile, ...] = ()  # every file this component needs, exactly; nothing else is pulled
    pinned_from: str = ""  # where the revision came from, for the reader of the lock

    def file(self, path: str) -> PinnedFile:
        for pinned in self.files:
            if pinned.path == path:
                return pinned
        raise KeyError(f"{self.name} pins no file {path!r}")

    @property
    def weight_path(self) -> str | None:
        """Repo path of the single weight file (subfolder/weight_name), if this component has one."""
        if not self.weight_name:
            return None
        return f"{self.subfolder}/{self.weight_name}" if self.subfolder else self.weight_name

    @property
    def resolved(self) -> bool:
        return bool(COMMIT_SHA.match(self.revision))

    @property
    def pinned(self) -> str:
        return f"{self.repo_id}@{self.revision or 'UNRESOLVED'}"


@dataclass(frozen=True)
class Preset:
    """A named set of components; `random_weights` marks test-only presets."""

    name: str
    description: str
    random_weights: bool
    components: dict[str, Component]
    loras: dict[str, Component] = field(default_factory=dict)

    def all_components(self) -> list[Component]:
        return list(self.components.values()) + list(self.loras.values())

    def unresolved(self) -> list[Component]:
        return [component for component in self.all_components() if not component.resolved]

    def require_resolved(self) -> None:
        """Refuse to load a preset with any component not pinned to a commit."""
        missing = self.unresolved()
        if missing:
            names = ", ".join(f"{component.name} ({component.repo_id})" for component in missing)
            raise ModelUnavailableError(
                f"preset {self.name!r} has components without a pinned commit SHA in {lock_path()}: {names}; "
                f"run `tryon models lock {self.name}` on a machine with hub access, then `tryon models pull {self.name}`"
            )

    def revisions(self) -> dict[str, str]:
        return {component.name: component.pinned for component in self.all_components()}


def lock_path() -> Path:
    """$TRYON_MODELS_LOCK, else the repo root next to src/, else the copy shipped in the package."""
    if os.environ.get(LOCK_ENV):
        return Path(os.environ[LOCK_ENV])
    package_dir = Path(tryon.__file__).resolve().parent
    for candidate in (package_dir.parents[1] / LOCK_NAME, package_dir / LOCK_NAME):
        if candidate.is_file():
            return candidate
    return package_dir.parents[1] / LOCK_NAME


def _pinned_file(label: str, path: str, entry) -> PinnedFile:
    """`"path" = { sha256 = "<64 hex>" | "unpinned", size = <bytes> | "unpinned" }`."""
    if not isinstance(entry, dict) or set(entry) - {"sha256", "size"}:
        raise LockError(f'{label}: files."{path}" must be {{ sha256 = "<64 hex>", size = <bytes> }} '
                        f'(or "{UNPINNED}" for a value not known yet)')
    digest = entry.get("sha256", UNPINNED)
    size = entry.get("size", UNPINNED)
    if digest != UNPINNED and not SHA256.match(str(digest)):
        raise LockError(f'{label}: sha256 of {path!r} is not 64 lowercase hex characters or "{UNPINNED}"')
    if size != UNPINNED and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise LockError(f'{label}: size of {path!r} is not a byte count or "{UNPINNED}"')
    return PinnedFile(path=path, sha256=None if digest == UNPINNED else digest,
                      size=None if size == UNPINNED else size)


def _component(preset: str, name: str, table: dict, where: Path) -> Component:
    label = f"{where}: presets.{preset}.{name}"
    if "allow_patterns" in table or "sha256" in table:
        raise LockError(f"{label}: allow_patterns and sha256 were replaced by a [files] table that lists every file "
                        'with its sha256 and size ("path" = { sha256 = "...", size = N }); '
                        f"list the files, then run `tryon models lock {preset}` on a connected machine")
    unknown = set(table) - {"repo_id", "revision", "subfolder", "variant", "torch_dtype", "weight_name",
                            "files", "pinned_from"}
    if unknown:
        raise LockError(f"{label}: unknown keys {sorted(unknown)}")
    if not table.get("repo_id"):
        raise LockError(f"{label}: repo_id is missing")
    revision = str(table.get("revision", ""))
    if revision and not COMMIT_SHA.match(revision):
        raise LockError(
            f"{label}: revision {revision!r} is not a full 40-hex commit SHA; branch and tag names move and short "
            f"SHAs are ambiguous. Run `tryon models lock {preset}` on a machine with hub access to pin it"
        )
    torch_dtype = table.get("torch_dtype", "float16")
    if torch_dtype not in DTYPES:
        raise LockError(f"{label}: torch_dtype {torch_dtype!r} is not one of {DTYPES}")
    weight_name = table.get("weight_name") or None
    tensor_file = name in TENSOR_CHECKPOINT_ROLES and weight_name and weight_name.endswith((".pt", ".pth"))
    if weight_name and not weight_name.endswith(".safetensors") and not tensor_file:
        raise LockError(f"{label}: weight_name {weight_name!r} is not a .safetensors file; pickled weights "
                        "(.bin/.pt/.ckpt) can run code when loaded and are refused "
                        f"(only {', '.join(TENSOR_CHECKPOINT_ROLES)} may be .pt/.pth, read with weights_only=True)")
    files = tuple(_pinned_file(label, str(path), entry) for path, entry in sorted(table.get("files", {}).items()))
    if not files:
        raise LockError(f'{label}: no [files] listed; name every file the component needs '
                        '("path" = { sha256 = "...", size = N }), or sha256 = "unpinned" until '
                        f"`tryon models lock {preset}` fills them in")
    subfolder = table.get("subfolder") or None
    weight_path = (f"{subfolder}/{weight_name}" if subfolder else weight_name) if weight_name else None
    if weight_path and weight_path not in {pinned.path for pinned in files}:
        raise LockError(f"{label}: weight file {weight_path!r} is not listed in its [files]")
    return Component(
        name=name,
        repo_id=table["repo_id"],
        revision=revision,
        subfolder=subfolder,
        variant=table.get("variant") or None,
        torch_dtype=torch_dtype,
        weight_name=weight_name,
        files=files,
        pinned_from=table.get("pinned_from", ""),
    )


def parse_lock(text: str, where: Path | str = LOCK_NAME) -> dict[str, Preset]:
    """Parse lock-file text into presets, refusing anything that is not pinned to a commit."""
    where = Path(where)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LockError(f"{where} is not valid TOML: {error}") from None
    presets = {}
    for preset_name, table in data.get("presets", {}).items():
        components = {name: _component(preset_name, name, body, where)
                      for name, body in table.get("components", {}).items()}
        missing = [role for role in REQUIRED_ROLES if role not in components]
        if missing:
            raise LockError(f"{where}: preset {preset_name!r} lacks components {missing}")
        loras = {name: _component(preset_name, f"loras.{name}", body, where)
                 for name, body in table.get("loras", {}).items()}
        loras = {name: replace(component, name=name) for name, component in loras.items()}
        presets[preset_name] = Preset(
            name=preset_name,
            description=table.get("description", ""),
            random_weights=bool(table.get("random_weights", False)),
            components=components,
            loras=loras,
        )
    return presets


def load_lock(path: Path | str | None = None) -> dict[str, Preset]:
    path = Path(path) if path is not None else lock_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockError(f"model lock file {path} does not exist; set ${LOCK_ENV} to its path") from None
    return parse_lock(text, path)


def get_preset(name: str, path: Path | str | None = None) -> Preset:
    presets = load_lock(path)
    if name not in presets:
        raise ConfigError(f"unknown model preset {name!r}; {lock_path() if path is None else path} "
                          f"defines {sorted(presets)}")
    return presets[name]


LOCK_HEADER = """\
# Every model a run uses, pinned: each component's Hugging Face repo at a full 40-hex commit SHA, and every
# file it needs with its sha256 and size in bytes. `tryon models verify PRESET` checks the local cache against
# this file; `tryon models pull PRESET` downloads exactly these files; `tryon models lock PRESET [--update]`
# (on a connected machine) writes revisions, sizes and hashes. "unpinned" marks a value not known yet: such a
# file does not verify and runs refuse it until `tryon models lock PRESET` has filled it in.
# The `tiny` preset is RANDOM WEIGHTS for tests: `tryon models build-tiny` builds it and writes its pins."""


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _component_toml(header: str, component: Component) -> list[str]:
    lines = [f"[{header}]", f"repo_id = {_toml_value(component.repo_id)}",
             f"revision = {_toml_value(component.revision)}"]
    for key in ("subfolder", "variant", "weight_name"):
        if getattr(component, key):
            lines.append(f"{key} = {_toml_value(getattr(component, key))}")
    lines.append(f"torch_dtype = {_toml_value(component.torch_dtype)}")
    if component.pinned_from:
        lines.append(f"pinned_from = {_toml_value(component.pinned_from)}")
    lines.append(f"[{header}.files]")
    for pinned in component.files:
        size = UNPINNED if pinned.size is None else pinned.size
        lines.append(f"{_toml_value(pinned.path)} = {{ sha256 = {_toml_value(pinned.sha256 or UNPINNED)}, "
                     f"size = {size if isinstance(size, int) else _toml_value(size)} }}")
    return lines + [""]


def dump_lock(presets: dict[str, Preset]) -> str:
    """Lock-file text for `presets` (what `tryon models lock` writes)."""
    lines = [LOCK_HEADER, ""]
    for preset in presets.values():
        lines += [f"[presets.{preset.name}]", f"description = {_toml_value(preset.description)}",
                  f"random_weights = {_toml_value(preset.random_weights)}", ""]
        for name, component in preset.components.items():
            lines += _component_toml(f"presets.{preset.name}.components.{name}", component)
        for name, component in preset.loras.items():
            lines += _component_toml(f'presets.{preset.name}.loras."{name}"', component)
    return "\n".join(lines)
