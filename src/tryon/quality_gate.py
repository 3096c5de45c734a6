"""The quality gate: metric thresholds that flag succeeded pairs for human review."""

from __future__ import annotations

import math
from typing import Any

from tryon.config import MetricBounds


def review_reasons(metrics: dict[str, Any], gate: dict[str, MetricBounds]) -> list[str]:
    """Why a pair needs review (empty when it passes). Flags such as is_blank always count."""
    reasons = [name for name in ("is_blank", "is_black", "has_nan") if metrics.get(name) is True]
    for name, bounds in gate.items():
        value = metrics.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if bounds.min is not None and value < bounds.min:
            reasons.append(f"{name}={value:.4g} < {bounds.min:g}")
        if bounds.max is not None and value > bounds.max:
            reasons.append(f"{name}={value:.4g} > {bounds.max:g}")
    return reasons
