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
# Roles a diffusion preset must provide; the engine maps each to a loader class.
REQUIRED_ROLES = ("base", "controlnet", "vae", "ip_adapter", "image_encoder")
DTYPES = ("float32", "float16", "bfloat16")


class LockError(ConfigError):
    """models.lock.toml is malformed or pins something that can move."""


@dataclass(frozen=True)
class Component:
    """One pinned piece of a preset: a repo (or a subfolder of one) at one commit."""

    name: str
    repo_id: str
    revision: str  # full commit SHA; "" while unresolved
    subfolder: str | None = None
    variant: str | None = None
    torch_dtype: str = "float16"  # dtype on an accelerator; the CPU always runs float32
    weight_name: str | None = None  # single-file weights (IP-Adapter, LoRA)
    allow_patterns: tuple[str, ...] = ()
    sha256: dict[str, str] = field(default_factory=dict, hash=False)  # repo path -> sha256
    pinned_from: str = ""  # where the revision came from, for the reader of the lock

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


def _component(preset: str, name: str, table: dict, where: Path) -> Component:
    label = f"{where}: presets.{preset}.{name}"
    unknown = set(table) - {"repo_id", "revision", "subfolder", "variant", "torch_dtype", "weight_name",
                            "allow_patterns", "sha256", "pinned_from"}
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
    if weight_name and not weight_name.endswith(".safetensors"):
        raise LockError(f"{label}: weight_name {weight_name!r} is not a .safetensors file; pickled weights "
                        "(.bin/.pt/.ckpt) can run code when loaded and are refused")
    sha256 = dict(table.get("sha256", {}))
    for path, digest in sha256.items():
        if not SHA256.match(str(digest)):
            raise LockError(f"{label}: sha256 of {path!r} is not 64 lowercase hex characters")
    return Component(
        name=name,
        repo_id=table["repo_id"],
        revision=revision,
        subfolder=table.get("subfolder") or None,
        variant=table.get("variant") or None,
        torch_dtype=torch_dtype,
        weight_name=weight_name,
        allow_patterns=tuple(table.get("allow_patterns", ())),
        sha256=sha256,
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
    if component.allow_patterns:
        lines.append(f"allow_patterns = {_toml_value(list(component.allow_patterns))}")
    if component.pinned_from:
        lines.append(f"pinned_from = {_toml_value(component.pinned_from)}")
    if component.sha256:
        lines.append(f"[{header}.sha256]")
        lines += [f"{_toml_value(path)} = {_toml_value(digest)}" for path, digest in sorted(component.sha256.items())]
    return lines + [""]


def dump_lock(presets: dict[str, Preset]) -> str:
    """Lock-file text for `presets` (what `tryon models lock` writes)."""
    lines = ["# Pinned model components. Revisions are full commit SHAs; edit with `tryon models lock <preset>`.", ""]
    for preset in presets.values():
        lines += [f"[presets.{preset.name}]", f"description = {_toml_value(preset.description)}",
                  f"random_weights = {_toml_value(preset.random_weights)}", ""]
        for name, component in preset.components.items():
            lines += _component_toml(f"presets.{preset.name}.components.{name}", component)
        for name, component in preset.loras.items():
            lines += _component_toml(f'presets.{preset.name}.loras."{name}"', component)
    return "\n".join(lines)
