"""Pose keypoints and person silhouette from mediapipe's legacy Pose and SelfieSegmentation."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tryon.pairs import BodyAnalysis

# Selfie-segmentation probability above which a pixel belongs to a person.
SILHOUETTE_THRESHOLD = 0.5
# A second silhouette blob at least this fraction of the largest one counts as another person.
SECOND_PERSON_FRACTION = 0.25


@dataclass
class SilhouetteStats:
    """What the segmentation says about how many people there are and how big."""

    person_fraction: float  # silhouette pixels / image pixels (all blobs)
    large_blobs: int  # blobs big enough to be a person


class BodyAnalyzer:
    """Holds the two mediapipe graphs; create once per worker (they load their models)."""

    def __init__(self, min_confidence: float):
        import mediapipe as mp

        self._landmark_names = [landmark.name.lower() for landmark in mp.solutions.pose.PoseLandmark]
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=True, model_complexity=1, min_detection_confidence=min_confidence
        )
        # model_selection=0 is the general (256x256) model: cleaner outlines on portraits than
        # the landscape one, which frays hair and picks up held objects less consistently.
        self._segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)

    def close(self) -> None:
        self._pose.close()
        self._segmenter.close()

    def keypoints(self, rgb: np.ndarray) -> dict[str, tuple[float, float, float]]:
        """All 33 landmarks in pixels (they may lie outside the frame), or {} when no pose is found."""
        height, width = rgb.shape[:2]
        result = self._pose.process(rgb)
        if result.pose_landmarks is None:
            return {}
        return {
            name: (float(landmark.x * width), float(landmark.y * height), float(landmark.visibility))
            for name, landmark in zip(self._landmark_names, result.pose_landmarks.landmark)
        }

    def silhouette(self, rgb: np.ndarray) -> tuple[np.ndarray, SilhouetteStats]:
        """The main person's mask (largest blob, holes closed) and blob statistics."""
        probability = self._segmenter.process(rgb).segmentation_mask
        foreground = (probability > SILHOUETTE_THRESHOLD).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(foreground, connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        if count <= 1:
            return np.zeros(foreground.shape, bool), SilhouetteStats(0.0, 0)
        largest = int(np.argmax(areas)) + 1
        large_blobs = int((areas >= SECOND_PERSON_FRACTION * areas.max()).sum())
        person = labels == largest
        person = _close_holes(person)
        return person, SilhouetteStats(float(foreground.mean()), large_blobs)

    def analyse(self, rgb: np.ndarray) -> tuple[BodyAnalysis, SilhouetteStats]:
        person_mask, stats = self.silhouette(rgb)
        return BodyAnalysis(person_mask=person_mask, keypoints=self.keypoints(rgb)), stats


def _close_holes(mask: np.ndarray) -> np.ndarray:
    """Fill interior holes (dark patterns on clothes the segmenter drops)."""
    filled = mask.astype(np.uint8)
    contours, _ = cv2.findContours(filled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled.astype(bool)
