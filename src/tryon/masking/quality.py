"""Mask quality against hand-drawn ground-truth polygons (data/sample/ground_truth/*.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tryon.pairs import MaskResult


@dataclass
class MaskQuality:
    person_iou: float  # silhouette vs hand-drawn person polygon
    foreground_iou: float  # silhouette vs person + objects the person holds (what segmenters see)
    garment_coverage: float  # fraction of the worn-garment polygon inside the garment mask
    face_masked: float  # fraction of the face polygon inside the garment mask (should be ~0)
    mask_outside_person: float  # garment-mask pixels outside the person polygon / mask pixels


def polygon_mask(points: list[list[float]], size: tuple[int, int]) -> np.ndarray:
    """Rasterise a polygon given as [[x, y], ...] into a bool array of `size` (width, height)."""
    canvas = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillPoly(canvas, [np.round(np.asarray(points)).astype(np.int32)], 1)
    return canvas.astype(bool)


def load_ground_truth(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def measure(result: MaskResult, ground_truth: dict) -> MaskQuality:
    size = tuple(ground_truth["size"])
    person = polygon_mask(ground_truth["person"], size)
    garment = polygon_mask(ground_truth["upper_garment"], size)
    face = polygon_mask(ground_truth["face"], size)
    foreground = person | polygon_mask(ground_truth.get("held_objects", [[0, 0]]), size)
    mask_area = max(result.garment_mask.sum(), 1)
    return MaskQuality(
        person_iou=_iou(person, result.person_mask),
        foreground_iou=_iou(foreground, result.person_mask),
        garment_coverage=float((garment & result.garment_mask).sum() / max(garment.sum(), 1)),
        face_masked=float((face & result.garment_mask).sum() / max(face.sum(), 1)),
        mask_outside_person=float((result.garment_mask & ~person).sum() / mask_area),
    )


def _iou(first: np.ndarray, second: np.ndarray) -> float:
    return float((first & second).sum() / max((first | second).sum(), 1))
