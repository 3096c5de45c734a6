"""Which IP-Adapter a run loads: Plus (patch tokens, garment detail; the default) or plain (one global embedding)."""

from __future__ import annotations

from dataclasses import replace

from tryon.errors import ConfigError
from tryon.models.lock import Preset

# Lock roles of the Plus pair; the plain pair keeps the required roles "ip_adapter" and "image_encoder".
PLUS_ROLES = {"ip_adapter": "ip_adapter_plus", "image_encoder": "image_encoder_plus"}


def select_ip_adapter(preset: Preset, kind: str) -> Preset:
    """The preset with only the chosen adapter and its image encoder, under the roles the loader reads.

    Plain `ip-adapter_sdxl` conditions on the ViT-bigG pooled embedding (colour, overall style);
    `ip-adapter-plus_sdxl_vit-h` resamples the ViT-H patch tokens (stripes, checks, logos). Each needs
    its own encoder, so the unused pair is dropped: it is neither required in the cache nor hashed
    into the model fingerprint, and the two choices give different fingerprints.
    """
    components = dict(preset.components)
    plus = {role: components.pop(plus_role, None) for role, plus_role in PLUS_ROLES.items()}
    if kind == "plain":
        return replace(preset, components=components)
    if kind != "plus":
        raise ConfigError(f"sdxl.ip_adapter = {kind!r}; choose 'plus' or 'plain'")
    missing = [PLUS_ROLES[role] for role, component in plus.items() if component is None]
    if missing:
        raise ConfigError(f"preset {preset.name!r} pins no {' / '.join(missing)} in models.lock.toml; add them "
                          "or set sdxl.ip_adapter = 'plain'")
    return replace(preset, components=components | plus)
