"""Server-rendered HTML of the review app. Every value from the catalogue is escaped here."""

from __future__ import annotations

import html
import math
from datetime import datetime
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

from tryon.review.browse import DECISION_FILTERS, Filters, Page
from tryon.review.compare import Comparison
from tryon.review.decisions import REJECT_REASONS

ImageUrl = Callable[[Any], "str | None"]
IMAGE_COLUMNS = (("person", "person_image"), ("garment", "garment_image"), ("mask overlay", "mask_overlay_image"),
                 ("result", "output_image"))


def e(value: Any) -> str:
    """Escape for text and quoted attributes; None/NaN show as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return html.escape(value.strftime("%Y-%m-%d %H:%M:%S"))
    return html.escape(str(value), quote=True)


def layout(title: str, body: str, *, active: str, catalogue: str) -> str:
    nav = "".join(f"<a href='{href}' class='{'on' if name == active else ''}'>{label}</a>"
                  for name, href, label in (("browse", "/", "Browse"), ("compare", "/compare", "Compare"),
                                            ("gate", "/gate", "Gate vs people")))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>"
            "<link rel='stylesheet' href='/static/review.css'><script src='/static/review.js' defer></script>"
            f"</head><body data-ready='no'><header><b>tryon review</b> <nav>{nav}</nav>"
            f"<span class='cat'>{e(catalogue)}</span></header><main>{body}</main></body></html>")


def _options(values: Iterable[str], selected: str, labels: dict[str, str] | None = None, blank: str | None = "all") -> str:
    parts = [f"<option value=''>{e(blank)}</option>"] if blank is not None else []
    for value in values:
        mark = " selected" if str(value) == selected else ""
        parts.append(f"<option value='{e(value)}'{mark}>{e((labels or {}).get(value, value))}</option>")
    return "".join(parts)


def _select(name: str, label: str, values: Iterable[str], selected: str, **kwargs: Any) -> str:
    return f"<label>{e(label)} <select name='{name}' id='f-{name}'>{_options(values, selected, **kwargs)}</select></label>"


def filter_form(filters: Filters, page: Page, runs: list[str]) -> str:
    snapshot = page.snapshot
    sorts = ["worst", "pair_id", *snapshot.metrics]
    return ("<form class='filters' method='get' action='/'>"
            + _select("run", "run", runs, filters.run, blank="latest (newest row per pair)")
            + _select("status", "status", ["succeeded", "failed"], filters.status)
            + _select("category", "category", snapshot.categories, filters.category)
            + _select("engine", "engine", snapshot.engines, filters.engine)
            + _select("needs_review", "gate flagged", ["yes", "no"], filters.needs_review)
            + _select("decision", "decision", DECISION_FILTERS, filters.decision)
            + f"<label>pair id contains <input name='pair' id='f-pair' value='{e(filters.pair)}' size='10'></label>"
            + _select("metric", "metric", snapshot.metrics, filters.metric, blank="(range on)")
            + f"<input name='min' id='f-min' placeholder='min' size='5' value='{e(filters.min)}'>"
            + f"<input name='max' id='f-max' placeholder='max' size='5' value='{e(filters.max)}'>"
            + _select("sort", "sort", sorts, filters.sort, blank=None, labels={"worst": "worst first"})
            + _select("order", "", ["asc", "desc"], filters.order, blank=None)
            + f"<input type='hidden' name='size' value='{filters.size}'><button id='apply'>apply</button></form>")


def _pager(path: str, current: int, pages: int, query: Callable[[int], str]) -> str:
    previous = f"<a id='prev' href='{path}?{e(query(current - 1))}'>← previous</a>" if current > 1 else ""
    following = f"<a id='next' href='{path}?{e(query(current + 1))}'>next →</a>" if current < pages else ""
    return f"<div class='pager'>{previous} page {current} of {pages} {following}</div>"


def browse_page(page: Page, runs: list[str], image_url: ImageUrl, catalogue: str, rerun_command: str,
                rejected_now: int) -> str:
    filters = page.filters
    cards = "".join(pair_card(row, page.snapshot.metrics, image_url) for row in page.rows)
    reasons = "".join(f"<option value='{e(key)}'>{index}. {e(label)}</option>"
                      for index, (key, label) in enumerate(REJECT_REASONS.items(), start=1))
    body = (filter_form(filters, page, runs)
            + f"<div class='summary'><span id='total'>{page.total}</span> pairs match"
            + _pager("/", filters.page, page.pages, lambda number: filters.query_string(page=number)) + "</div>"
            + "<div class='help'>keys: <kbd>↑</kbd>/<kbd>↓</kbd> move · <kbd>a</kbd> approve · <kbd>r</kbd> reject"
              " · <kbd>x</kbd> select · <kbd>Enter</kbd> full size · <kbd>n</kbd>/<kbd>p</kbd> page ·"
              " a/r act on the selection when there is one"
              " <button id='approve-selected'>approve selected</button>"
              " <button id='reject-selected'>reject selected</button> <span id='message'></span></div>"
            + f"<div id='cards'>{cards or '<p>no pairs match these filters</p>'}</div>"
            + _pager("/", filters.page, page.pages, lambda number: filters.query_string(page=number))
            + f"<div class='act'>Rejected now: <b id='rejected-now'>{rejected_now}</b>. To redo them with a new seed"
              f" (run it where the GPU is; this app starts no work):<pre id='rerun-command'>{e(rerun_command)}</pre></div>"
            + "<div id='reject-dialog' hidden><b>reject</b> <select id='reject-reason'>" + reasons + "</select>"
              " <input id='reject-note' placeholder='note (optional)' size='30' maxlength='2000'>"
              " <button id='reject-confirm'>reject (Enter)</button> <button id='reject-cancel'>cancel (Esc)</button></div>"
            + "<div id='lightbox' hidden><img id='lightbox-img' alt='full size'></div>")
    return layout("tryon review", body, active="browse", catalogue=catalogue)


def _figure(caption: str, url: str | None) -> str:
    inner = (f"<img src='{e(url)}' alt='{e(caption)}' loading='lazy' data-full='{e(url)}'>" if url
             else "<div class='none'>none</div>")
    return f"<figure>{inner}<figcaption>{e(caption)}</figcaption></figure>"


def decision_badge(row: dict[str, Any]) -> str:
    decision = row.get("decision")
    if not decision:
        return "<span class='badge unreviewed'>unreviewed</span>"
    reason = f": {e(REJECT_REASONS.get(row.get('decision_reason'), row.get('decision_reason')))}" \
        if row.get("decision_reason") else ""
    note = f" — {e(row.get('decision_note'))}" if row.get("decision_note") else ""
    return (f"<span class='badge {e(decision)}'>{e(decision)}{reason}{note}</span>"
            f" <small>{e(row.get('decision_reviewer'))} {e(row.get('decision_at'))}</small>")


def pair_card(row: dict[str, Any], metrics: list[str], image_url: ImageUrl) -> str:
    figures = "".join(_figure(caption, image_url(row.get(column))) for caption, column in IMAGE_COLUMNS)
    status = str(row.get("status"))
    flagged = row.get("needs_review") is True
    cells = "".join(f"<tr><td>{e(metric)}</td><td>{e(row.get(metric))}</td></tr>" for metric in metrics
                    if row.get(metric) is not None and not (isinstance(row.get(metric), float) and math.isnan(row[metric])))
    reasons = f"<div class='reasons'>gate: {e(row.get('review_reasons'))}</div>" if flagged else ""
    error = (f"<div class='err'>{e(row.get('error_type'))}: {e(row.get('error_message'))}</div>"
             if status == "failed" else "")
    decidable = "yes" if row.get("output_sha256") else "no"
    classes = f"card {'failed' if status == 'failed' else ''} {'flagged' if flagged else ''}"
    return (f"<div class='{classes}' tabindex='-1' data-pair='{e(row.get('pair_id'))}' data-run='{e(row.get('run_id'))}'"
            f" data-sha='{e(row.get('output_sha256') or '')}' data-decidable='{decidable}'"
            f" data-decision='{e(row.get('decision') or '')}'>"
            f"<input type='checkbox' class='pick' aria-label='select'>"
            f"<div class='imgs'>{figures}</div><div class='meta'><b class='pid'>{e(row.get('pair_id'))}</b>"
            f" {e(status)}{' · gate flagged' if flagged else ''} · {e(row.get('category'))} · {e(row.get('engine'))}"
            f" · seed {e(row.get('seed'))} · run {e(row.get('run_id'))}"
            f"<div class='decision'>{decision_badge(row)}</div>{reasons}{error}<table>{cells}</table></div></div>")


def compare_page(comparison: Comparison, image_url: ImageUrl, catalogue: str) -> str:
    a, b = (str(side) if side else "" for side in (comparison.a, comparison.b))
    form = ("<form class='filters' method='get' action='/compare'>"
            + _select("a", "A", comparison.choices, a, blank=None) + _select("b", "B", comparison.choices, b, blank=None)
            + _select("sort", "largest change in", comparison.metrics, comparison.sort, blank=None)
            + "<button id='apply'>compare</button></form>")
    if not comparison.a or not comparison.b:
        return layout("compare", form + "<p>The catalogue needs two runs (or engines) to compare.</p>",
                      active="compare", catalogue=catalogue)
    summary = "".join(f"<tr><td>{e(item['metric'])}</td><td>{item['pairs']}</td><td>{e(item['median_a'])}</td>"
                      f"<td>{e(item['median_b'])}</td><td>{e(item['median_delta'])}</td><td>{e(item['mean_delta'])}</td></tr>"
                      for item in comparison.summary)
    rows = "".join(_compare_row(row, comparison.metrics, image_url) for row in comparison.rows)
    def page_query(number: int) -> str:
        return urlencode({"a": a, "b": b, "sort": comparison.sort, "page": number})

    body = (form + f"<h2>A = <span id='side-a'>{e(a)}</span> · B = <span id='side-b'>{e(b)}</span></h2>"
            f"<p><span id='common'>{comparison.total}</span> pairs on both sides; Δ = B − A.</p>"
            "<table class='deltas'><tr><th>metric</th><th>pairs</th><th>median A</th><th>median B</th>"
            f"<th>median Δ</th><th>mean Δ</th></tr>{summary}</table>"
            + _pager("/compare", comparison.page, comparison.pages, page_query)
            + f"<div id='compare-rows'>{rows}</div>")
    return layout("compare", body, active="compare", catalogue=catalogue)


def _compare_row(row: dict[str, Any], metrics: list[str], image_url: ImageUrl) -> str:
    cells = []
    for metric in metrics:
        before, after = row.get(f"a:{metric}"), row.get(f"b:{metric}")
        if before is None and after is None:
            continue
        delta = after - before if isinstance(before, (int, float)) and isinstance(after, (int, float)) else None
        cells.append(f"<tr><td>{e(metric)}</td><td>{e(before)}</td><td>{e(after)}</td><td class='delta'>{e(delta)}</td></tr>")
    figures = (_figure("person", image_url(row.get("a_person_image"))) + _figure("garment", image_url(row.get("a_garment_image")))
               + _figure(f"A {row.get('a_status')}", image_url(row.get("a_output_image")))
               + _figure(f"B {row.get('b_status')}", image_url(row.get("b_output_image"))))
    return (f"<div class='card compare' data-pair='{e(row.get('pair_id'))}'><div class='imgs'>{figures}</div>"
            f"<div class='meta'><b class='pid'>{e(row.get('pair_id'))}</b> A run {e(row.get('a_run_id'))} · B run"
            f" {e(row.get('b_run_id'))}<table><tr><th></th><th>A</th><th>B</th><th>Δ</th></tr>{''.join(cells)}"
            "</table></div></div>")


def _table(rows: list[dict[str, Any]], table_id: str) -> str:
    if not rows:
        return f"<p id='{table_id}'>no decisions yet</p>"
    head = "".join(f"<th>{e(name)}</th>" for name in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{e(value)}</td>" for value in row.values()) + "</tr>" for row in rows)
    return f"<table id='{table_id}' class='deltas'><tr>{head}</tr>{body}</table>"


def gate_page(tables: dict[str, list[dict[str, Any]]], catalogue: str, sql_examples: str) -> str:
    body = ("<h2>Gate vs people</h2><p>Current decisions (about each pair's newest image) against the automatic"
            " quality gate (<code>needs_review</code>). Approved pairs the gate flagged are false alarms; rejected"
            " pairs it passed are misses. Tune <code>[quality_gate]</code> with these.</p>"
            + "<h3>Agreement</h3>" + _table(tables["agreement"], "agreement")
            + "<h3>Flagged pairs by gate rule</h3>" + _table(tables["gate_rules"], "gate-rules")
            + "<h3>Rejected pairs by reviewer's reason</h3>" + _table(tables["reject_reasons"], "reject-reasons")
            + f"<h3>The same with <code>tryon query</code></h3><pre>{e(sql_examples)}</pre>")
    return layout("gate vs people", body, active="gate", catalogue=catalogue)
