"""Optional Segment Anything refinement of the pose-derived garment mask.

Prompts come from the pose: positive points on the garment region (chest, upper arms, hips,
thighs, depending on the category), negative points on the face and on visible hands, and the
bounding box of the pose-derived mask. The image embedding is computed once per image.

Merge rule: `final = (pose_mask | (sam_mask & envelope)) & ~protected`, where `envelope` is the
pose garment region dilated by three margins (not clipped to the silhouette). SAM can therefore
only ADD garment pixels near where the pose says the garment is (a loose coat the silhouette
missed), never remove pose-derived pixels, and never touch the protected head, hands and
body parts the category leaves alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tryon.errors import ModelUnavailableError
from tryon.models.checkpoints import load_tensors, verify_sha256
from tryon.masking.regions import MaskParts, dilate, is_visible

def _registry() -> dict:
    from segment_anything import sam_model_registry

    return dict(sam_model_registry)


# Model type -> builder, called with checkpoint=None so segment_anything never calls torch.load
# itself. Empty means segment_anything's registry; tests register a tiny architecture here.
SAM_BUILDERS: dict = {}

POSITIVE_POINTS = {
    "upper_body": (("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
                   ("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow")),
    "lower_body": (("left_hip", "right_hip"), ("left_hip", "left_knee"), ("right_hip", "right_knee")),
    "dresses": (("left_shoulder", "right_shoulder", "left_hip", "right_hip"), ("left_hip", "left_knee"),
                ("right_hip", "right_knee")),
}
NEGATIVE_POINTS = ("nose", "left_index", "right_index")
ENVELOPE_MARGINS = 3.0


class SamRefiner:
    """A SamPredictor around a checkpoint whose sha256 was checked before loading."""

    def __init__(self, model: torch.nn.Module):
        from segment_anything import SamPredictor

        self.predictor = SamPredictor(model)

    @classmethod
    def load(cls, checkpoint: Path, model_type: str, sha256: str | None, device: str = "cpu") -> "SamRefiner":
        checkpoint = Path(checkpoint)
        if not checkpoint.is_file():
            raise ModelUnavailableError(
                f"masking.sam_checkpoint {checkpoint} does not exist; download the SAM {model_type} checkpoint "
                "there, or remove masking.sam_checkpoint to mask without SAM"
            )
        if sha256 is None:
            raise ModelUnavailableError("masking.sam_checkpoint needs masking.sam_sha256 so a swapped file is refused")
        verify_sha256(checkpoint, sha256, "masking.sam_sha256")
        builder = SAM_BUILDERS.get(model_type) or _registry()[model_type]
        model = builder(checkpoint=None)
        model.load_state_dict(load_tensors(checkpoint, "masking.sam_checkpoint"))
        return cls(model.eval().to(device))

    def refine(
        self, rgb: np.ndarray, pose_mask: np.ndarray, parts: MaskParts, keypoints, category: str, min_confidence: float
    ) -> np.ndarray:
        height, width = pose_mask.shape
        # 1. Prompts from the pose
        positives = [
            np.mean([keypoints[name][:2] for name in names], axis=0)
            for names in POSITIVE_POINTS[category]
            if all(name in keypoints for name in names)
        ]
        positives = [point for point in positives if _inside(point, pose_mask)]
        negatives = [
            np.array(keypoints[name][:2]) for name in NEGATIVE_POINTS
            if is_visible(keypoints, name, (width, height), min_confidence)
        ]
        if not positives:
            return pose_mask
        rows, cols = np.nonzero(pose_mask)
        box = np.array([cols.min(), rows.min(), cols.max(), rows.max()], dtype=np.float32)
        points = np.array(positives + negatives, dtype=np.float32)
        labels = np.array([1] * len(positives) + [0] * len(negatives))
        # 2. One embedding per image, one prediction
        self.predictor.set_image(rgb)
        masks, scores, _ = self.predictor.predict(point_coords=points, point_labels=labels, box=box, multimask_output=True)
        sam_mask = masks[int(np.argmax(scores))].astype(bool)
        # 3. Merge (module docstring)
        envelope = dilate(parts.region, ENVELOPE_MARGINS * parts.margin)
        return (pose_mask | (sam_mask & envelope)) & ~parts.protected


def _inside(point: np.ndarray, mask: np.ndarray) -> bool:
    x, y = int(round(point[0])), int(round(point[1]))
    return 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1] and bool(mask[y, x])
