"""Try-on engines: same stage interface, so the flow cannot tell them apart."""

from __future__ import annotations

from tryon.config import RunConfig
from tryon.engines.base import Engine


def build_engine(config: RunConfig) -> Engine:
    """The engine named in the config (not yet set up: call `setup()` once per worker)."""
    if config.engine == "preview":
        from tryon.engines.preview import PreviewEngine

        return PreviewEngine(config.preview, paste_back=config.paste_back)
    if config.engine == "sdxl":
        from tryon.engines.sdxl import SdxlEngine

        return SdxlEngine(config)
    if config.engine == "external":
        from tryon.engines.external import ExternalOutputs

        return ExternalOutputs(config.external_name, config.limits)
    raise ValueError(f"unknown engine {config.engine!r}")
