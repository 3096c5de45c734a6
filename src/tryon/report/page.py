"""Build the report page: run summary, metric histograms, and a worst-first grid of pairs."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tryon.atomic import atomic_write_text
from tryon.catalogue.row_files import RowFiles
from tryon.catalogue.store import Catalogue
from tryon.errors import TryonError
from tryon.report.histogram import histogram_svg
from tryon.report.thumbnails import thumbnail_uri

IMAGE_COLUMNS = (("person", "person_image"), ("garment", "garment_image"), ("mask", "mask_overlay_image"),
                 ("depth", "depth_image"), ("result", "output_image"))
# Lower is worse for these; the grid sorts by the first one present.
WORST_FIRST_KEYS = ("preserve_ssim", "garment_texture_ssim")

STYLE = """
body{font:14px system-ui,sans-serif;margin:20px;color:#222}
h1{font-size:20px} table.summary td{padding:2px 12px 2px 0}
.hists{display:flex;flex-wrap:wrap;gap:12px} .hist svg rect{fill:#4a78c2} .hist .t{font-size:11px} .hist .a{font-size:10px}
.filters{margin:14px 0} .filters label{margin-right:16px}
.pair{border:1px solid #ddd;border-radius:6px;margin:10px 0;padding:8px;display:flex;gap:12px;align-items:flex-start}
.pair.failed{border-color:#d33;background:#fff6f6} .pair.needs_review{border-color:#e0a000;background:#fffbea}
.imgs{display:flex;gap:6px} .imgs figure{margin:0;text-align:center;font-size:11px;color:#666}
.imgs img,.imgs .none{width:120px;height:120px;object-fit:contain;background:#f3f3f3;display:block}
.imgs .none{line-height:120px;color:#aaa}
.meta{font-size:12px} .meta td{padding:0 8px 0 0} .err{color:#b00;max-width:520px}
"""

SCRIPT = """
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
function applyFilters() {
  var status = document.getElementById('f-status').value;
  var category = document.getElementById('f-category').value;
  var shown = 0;
  document.querySelectorAll('.pair').forEach(function (card) {
    var ok = (!status || card.dataset.status === status) && (!category || card.dataset.category === category);
    card.style.display = ok ? '' : 'none';
    if (ok) shown++;
  });
  document.getElementById('shown').textContent = shown;
  document.body.dataset.shown = shown;
}
document.addEventListener('DOMContentLoaded', function () {
  document.getElementById('f-status').addEventListener('change', applyFilters);
  document.getElementById('f-category').addEventListener('change', applyFilters);
  applyFilters();
  document.body.dataset.ready = 'yes';
  document.body.dataset.errors = window.__errors.length;
});
"""


def _escape(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _metric_columns(frame: pd.DataFrame) -> list[str]:
    try:
        from tryon.metrics import METRIC_COLUMNS
    except ImportError:  # pragma: no cover
        METRIC_COLUMNS = []
    return [column for column in METRIC_COLUMNS if column in frame.columns]


def _worst_first(frame: pd.DataFrame) -> pd.DataFrame:
    order = {"failed": 0, "needs_review": 1}
    frame = frame.assign(_status_rank=frame["status"].map(lambda status: order.get(status, 2)))
    keys = ["_status_rank"] + [key for key in WORST_FIRST_KEYS if key in frame.columns][:1] + ["pair_id"]
    return frame.sort_values(keys, na_position="last").drop(columns="_status_rank")


def build_report(root: str | Path, run_id: str | None = None, max_pairs: int = 500) -> str:
    import tryon.catalogue as cat

    catalogue = Catalogue(Path(root))
    frame = cat.load(catalogue.root, run_id=run_id)
    record = catalogue.run_record(run_id)
    metrics = _metric_columns(frame)
    total = len(frame)
    succeeded = int((frame["status"] == "succeeded").sum()) if total else 0
    title = f"tryon report — {'run ' + run_id if run_id else 'latest result per pair'}"

    summary_rows = [
        ("catalogue", catalogue.root), ("run", record["run_id"]), ("engine", record.get("engine")),
        ("pairs", total), ("succeeded", succeeded), ("failed", total - succeeded),
        ("pass rate", f"{succeeded / total:.1%}" if total else "—"),
        ("failures by type", ", ".join(f"{k}: {v}" for k, v in json.loads(record.get("failures_by_type") or "{}").items()) or "—"),
        ("time by stage (s)", ", ".join(f"{k} {v}" for k, v in json.loads(record.get("seconds_by_stage") or "{}").items()) or "—"),
    ]
    if frame.get("random_weights") is not None and frame["random_weights"].fillna(False).astype(bool).any():
        summary_rows.append(("WARNING", "rows made with RANDOM-WEIGHT TEST MODELS (tiny preset): not real try-on results"))
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>",
             f"<h1>{html.escape(title)}</h1><table class='summary'>"]
    parts += [f"<tr><td>{html.escape(str(k))}</td><td>{_escape(v)}</td></tr>" for k, v in summary_rows]
    parts.append("</table><h2>Metrics</h2><div class='hists'>")
    for column in metrics:
        if column.startswith(("is_", "has_")):
            continue  # flags: counted in the cards, a histogram of 0/1 says little
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float) if total else np.array([])
        parts.append(histogram_svg(values, column))
    parts.append("</div>")

    shown_status = frame["status"].where(~frame.get("needs_review", pd.Series(False, index=frame.index))
                                         .fillna(False).astype(bool), "needs_review") if total else frame["status"]
    statuses = sorted(shown_status.dropna().unique()) if total else []
    categories = sorted(frame["category"].dropna().unique()) if total else []
    parts.append("<div class='filters'><label>status <select id='f-status'><option value=''>all</option>"
                 + "".join(f"<option>{html.escape(s)}</option>" for s in statuses)
                 + "</select></label><label>category <select id='f-category'><option value=''>all</option>"
                 + "".join(f"<option>{html.escape(c)}</option>" for c in categories)
                 + f"</select></label>showing <span id='shown'>0</span> of {min(total, max_pairs)} pairs"
                 + (f" (the {max_pairs} worst of {total})" if total > max_pairs else "") + "</div>")

    files = RowFiles(catalogue)
    for row in _worst_first(frame).head(max_pairs).to_dict("records"):
        parts.append(_pair_card(row, metrics, files))
    parts.append("</body></html>")
    return "".join(parts)


def _pair_card(row: dict[str, Any], metrics: list[str], files: RowFiles) -> str:
    figures = []
    for caption, column in IMAGE_COLUMNS:
        # Only files validation accepted or the catalogue wrote: a row's raw path may point anywhere.
        path = files.path(row, column)
        uri = thumbnail_uri(path, base=files.catalogue.root) if path else None
        inner = f"<img src='{uri}' alt='{caption}'>" if uri else "<div class='none'>none</div>"
        figures.append(f"<figure>{inner}<figcaption>{caption}</figcaption></figure>")
    cells = "".join(f"<tr><td>{html.escape(m)}</td><td>{_escape(row.get(m))}</td></tr>" for m in metrics
                    if not pd.isna(row.get(m)))
    if row.get("needs_review") is True:
        cells = f"<tr><td>needs review</td><td>{_escape(row.get('review_reasons'))}</td></tr>" + cells
    error = (f"<div class='err'>{_escape(row.get('error_type'))}: {_escape(row.get('error_message'))}</div>"
             if row.get("status") == "failed" else "")
    status = html.escape(str(row.get("status")))
    if status == "succeeded" and row.get("needs_review") is True:
        status = "needs_review"
    return (f"<div class='pair {status}' data-status='{status}' data-category='{_escape(row.get('category'))}'>"
            f"<div class='imgs'>{''.join(figures)}</div><div class='meta'><b>{_escape(row.get('pair_id'))}</b> "
            f"{status} · {_escape(row.get('category'))} · seed {_escape(row.get('seed'))}{error}"
            f"<table>{cells}</table></div></div>")


def write_report(root: str | Path, target: str | Path, run_id: str | None = None, max_pairs: int = 500) -> Path:
    target = Path(target)
    _check_report_request(target, max_pairs)
    html_text = build_report(root, run_id=run_id, max_pairs=max_pairs)
    try:
        atomic_write_text(target, html_text)
    except OSError as error:
        raise TryonError(f"cannot write the report to {target}: {error.strerror or error}; pass another --out") from None
    return target


def _check_report_request(target: Path, max_pairs: int) -> None:
    """Refuse, before any work, a report that cannot be written or would show nothing."""
    if isinstance(max_pairs, bool) or not isinstance(max_pairs, int) or max_pairs < 1:
        raise TryonError(f"--max-pairs must be a whole number of at least 1 (got {max_pairs!r})")
    if target.is_dir():
        raise TryonError(f"report target {target} is a folder; pass a file name such as {target / 'report.html'}")
    if target.parent.exists() and not target.parent.is_dir():
        raise TryonError(f"report target {target}: {target.parent} is a file, not a folder")
