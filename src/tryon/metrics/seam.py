"""Is there a visible edge along the mask boundary where the generated region meets the photo?"""

from __future__ import annotations

import numpy as np

from tryon.metrics.preservation import luma

# A jump this many grey levels larger than the photo's own step at the same place is visible
# on a flat background; drift of a decoder or a resampled canvas stays well under it.
SEAM_EXCESS_LEVELS = 12.0
MIN_BOUNDARY_PAIRS = 32


def boundary_steps(image: np.ndarray, garment_mask: np.ndarray) -> np.ndarray:
    """|luma inside - luma outside| for every 4-neighbour pixel pair that straddles the mask edge."""
    gray = luma(image).astype(np.float32)
    steps = []
    for axis in (0, 1):
        first = [slice(None), slice(None)]
        second = [slice(None), slice(None)]
        first[axis], second[axis] = slice(None, -1), slice(1, None)
        first, second = tuple(first), tuple(second)
        straddles = garment_mask[first] != garment_mask[second]
        steps.append(np.abs(gray[first][straddles] - gray[second][straddles]))
    return np.concatenate(steps)


def seam_metrics(person: np.ndarray, output: np.ndarray, garment_mask: np.ndarray) -> dict[str, float | None]:
    """`seam_edge_fraction`: share of the mask edge where the output jumps across it by more than
    SEAM_EXCESS_LEVELS grey levels beyond the person photo's own step there.

    A hard paste, a colour offset or a halo runs along most of the edge; a garment that merely
    reaches the edge in places, or a flat background, does not.
    """
    if person.shape != output.shape or garment_mask.shape != output.shape[:2] or not garment_mask.any():
        return {"seam_edge_fraction": None}
    # Only the mask's bounding box (one pixel wider) holds edge pairs.
    rows, columns = np.flatnonzero(garment_mask.any(axis=1)), np.flatnonzero(garment_mask.any(axis=0))
    box = (slice(max(rows[0] - 1, 0), rows[-1] + 2), slice(max(columns[0] - 1, 0), columns[-1] + 2))
    person, output, garment_mask = person[box], output[box], garment_mask[box]
    output_steps = boundary_steps(output, garment_mask)
    if output_steps.size < MIN_BOUNDARY_PAIRS:
        return {"seam_edge_fraction": None}
    excess = output_steps - boundary_steps(person, garment_mask)
    return {"seam_edge_fraction": float((excess > SEAM_EXCESS_LEVELS).mean())}
