"""Inline SVG histograms of metric columns."""

from __future__ import annotations

import html

import numpy as np


def histogram_svg(values: np.ndarray, title: str, bins: int = 20, width: int = 260, height: int = 110) -> str:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return ""
    counts, edges = np.histogram(values, bins=bins)
    peak = max(int(counts.max()), 1)
    bar_width = width / bins
    bars = "".join(
        f'<rect x="{index * bar_width:.1f}" y="{height - 20 - count / peak * (height - 35):.1f}" '
        f'width="{bar_width - 1:.1f}" height="{count / peak * (height - 35):.1f}"><title>{edges[index]:.3g}–'
        f'{edges[index + 1]:.3g}: {count}</title></rect>'
        for index, count in enumerate(counts)
    )
    return (
        f'<figure class="hist"><svg width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">'
        f'<text x="0" y="11" class="t">{html.escape(title)} (n={values.size})</text>{bars}'
        f'<text x="0" y="{height - 4}" class="a">{edges[0]:.3g}</text>'
        f'<text x="{width}" y="{height - 4}" class="a" text-anchor="end">{edges[-1]:.3g}</text></svg></figure>'
    )
