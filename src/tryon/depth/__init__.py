"""Depth control images (MiDaS through controlnet-aux) from a pinned, locally cached checkpoint."""

from tryon.depth.stage import DepthStage

__all__ = ["DepthStage"]
