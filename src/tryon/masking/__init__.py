"""Garment-agnostic inpainting masks: pose keypoints, person silhouette, optional SAM refinement."""

from tryon.masking.stage import MaskingStage

__all__ = ["MaskingStage"]
