"""How much of the person the garment mask covers."""

from __future__ import annotations

import numpy as np


def mask_metrics(garment_mask: np.ndarray, person_mask: np.ndarray) -> dict[str, float | int | None]:
    mask_area = int(garment_mask.sum())
    person_area = int(person_mask.sum())
    return {
        "mask_coverage_ratio": mask_area / person_area if person_area else None,
        "mask_area": mask_area,
        "person_area": person_area,
    }
