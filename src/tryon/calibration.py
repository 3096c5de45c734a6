"""Calibrating the quality gate: good try-ons of the sample, defects made from them, and what the gate flags.

The good outputs are the preview engine's own results on the sample photos (every upper-body
garment on every person, both blend modes, mirrored, and once through a half-size canvas with no
paste-back, as an outside system or a diffusion engine working at a lower resolution returns).
`tests/test_gate_calibration.py` enforces the gate's catch rates on them and
`benchmarks/gate.py` prints the confusion table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from PIL import Image

from tryon.config import DEFAULT_QUALITY_GATE, ImageLimits, MaskingConfig, MetricBounds, PreviewConfig
from tryon.errors import PairError
from tryon.metrics import pair_metrics
from tryon.metrics.defects import GateSample, make_defects
from tryon.pairs import Pair, TryOnRequest
from tryon.quality_gate import review_reasons

CANVAS_SCALE = 0.5


@dataclass(frozen=True)
class Scored:
    kind: str
    name: str
    reasons: list[str]
    metrics: dict[str, Any]

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)


def _pair(pair_id: str, person: Path, garment: Path) -> Pair:
    return Pair(pair_id=pair_id, row_index=0, person_image=person, garment_image=garment, category="upper_body",
                seed=0, person_sha256=pair_id, garment_sha256=pair_id)


def sample_good_outputs(sample_dir: Path) -> list[GateSample]:
    """Preview-engine outputs of every upper-body garment on every person of the sample manifest."""
    from tryon.engines.preview import PreviewEngine
    from tryon.masking import MaskingStage

    manifest = pd.read_parquet(sample_dir / "manifest.parquet")
    people = sorted(set(manifest["person_image"]))
    garments = sorted(set(manifest.loc[manifest["category"] == "upper_body", "garment_image"]))
    masking = MaskingStage(MaskingConfig(), ImageLimits())
    engines = {blend: PreviewEngine(PreviewConfig(blend=blend), paste_back=True) for blend in ("seamless", "alpha")}
    goods: list[GateSample] = []
    try:
        for person_name in people:
            for mirrored in (False, True):
                person = Image.open(sample_dir / person_name).convert("RGB")
                if mirrored:
                    person = person.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
                stem = Path(person_name).stem + ("_mirrored" if mirrored else "")
                pair = _pair(stem, sample_dir / person_name, sample_dir / garments[0])
                mask = masking([(pair, person)])[0]
                if isinstance(mask, PairError):
                    continue
                for garment_name in garments:
                    garment = Image.open(sample_dir / garment_name).convert("RGB")
                    for blend, engine in engines.items():
                        name = f"{stem}/{Path(garment_name).stem}/{blend}"
                        request = TryOnRequest(pair=_pair(name, sample_dir / person_name, sample_dir / garment_name),
                                               person=person, garment=garment, mask=mask, depth=None, seed=0,
                                               prompt="")
                        output = engine([request])[0]
                        if isinstance(output, PairError):
                            continue
                        goods.append(GateSample(
                            kind="good", name=name, person=np.asarray(person), garment=np.asarray(garment),
                            garment_mask=mask.garment_mask, person_mask=mask.person_mask,
                            raw=np.asarray(output.raw_image if output.raw_image is not None else output.image),
                            pasted_back=True))
    finally:
        masking.close()
    return goods + [through_canvas(sample) for sample in goods]


def through_canvas(sample: GateSample) -> GateSample:
    """The same output as an engine working on a half-size canvas returns it: resampled, not pasted back."""
    height, width = sample.raw.shape[:2]
    small = cv2.resize(sample.raw, (round(width * CANVAS_SCALE), round(height * CANVAS_SCALE)),
                       interpolation=cv2.INTER_AREA)
    return replace(sample, name=f"{sample.name}/canvas", raw=cv2.resize(small, (width, height),
                                                                       interpolation=cv2.INTER_CUBIC),
                   pasted_back=False)


def score(samples: list[GateSample], gate: dict[str, MetricBounds] = DEFAULT_QUALITY_GATE) -> list[Scored]:
    scored = []
    for sample in samples:
        metrics = pair_metrics(Image.fromarray(sample.person), Image.fromarray(sample.output), sample.garment_mask,
                               sample.person_mask, Image.fromarray(sample.garment),
                               raw_output=Image.fromarray(sample.raw))
        scored.append(Scored(sample.kind, sample.name, review_reasons(metrics, gate), metrics))
    return scored


def defect_set(sample_dir: Path, seed: int = 0) -> list[GateSample]:
    """The good outputs of the sample followed by every defect made from each of them."""
    goods = sample_good_outputs(sample_dir)
    return goods + make_defects(goods, seed=seed)


def confusion_table(scored: list[Scored]) -> pd.DataFrame:
    """Per kind: how many samples, how many the gate flagged, the share, and which bounds fired most."""
    rows = []
    for kind in dict.fromkeys(item.kind for item in scored):
        items = [item for item in scored if item.kind == kind]
        flagged = sum(item.flagged for item in items)
        bounds = Counter(reason.split("=")[0].split(" ")[0] for item in items for reason in item.reasons)
        rows.append({"kind": kind, "samples": len(items), "flagged": flagged, "flagged_share": flagged / len(items),
                     "bounds_broken": ", ".join(f"{name} {count}" for name, count in bounds.most_common())})
    return pd.DataFrame(rows)
