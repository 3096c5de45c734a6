"""Browsing a large run: every pair reachable by paging (no cap), filters and sorts as pandas says."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from tryon.review.browse import Filters, PairIndex
from tryon.review.decisions import append_decisions, make_decisions

from tests.review.conftest import synthetic_catalogue

PAIRS = 1_500


@pytest.fixture
def large(tmp_path):
    frame = synthetic_catalogue(tmp_path, PAIRS)
    index = PairIndex(tmp_path)
    yield tmp_path, frame, index
    index.close()


def _ids(page) -> list[str]:
    return [row["pair_id"] for row in page.rows]


def test_paging_reaches_every_pair_beyond_500(large):
    _, frame, index = large
    seen = []
    for number in range(1, PAIRS // 200 + 2):
        page = index.page(Filters(page=number, size=200))
        assert page.total == PAIRS and page.pages == 8
        seen += _ids(page)
    assert len(seen) == PAIRS and set(seen) == set(frame["pair_id"])
    assert index.page(Filters(page=99, size=200)).rows == []


def test_worst_first_is_failed_then_flagged_then_lowest_preservation(large):
    _, frame, index = large
    rank = np.where(frame["status"] == "failed", 0, np.where(frame["needs_review"].fillna(False).astype(bool), 1, 2))
    expected = frame.assign(rank=rank).sort_values(["rank", "preserve_ssim", "pair_id"], na_position="last")
    assert _ids(index.page(Filters(size=200))) == expected["pair_id"].head(200).tolist()
    assert _ids(index.page(Filters(size=100, page=12))) == expected["pair_id"].iloc[1100:1200].tolist()


def test_filters_and_metric_sort_match_pandas(large):
    _, frame, index = large
    filters = Filters(status="succeeded", category="dresses", engine="sdxl", needs_review="no",
                      metric="preserve_ssim", min="0.7", max="0.9", sort="garment_texture_ssim", order="desc", size=200)
    chosen = frame[(frame["status"] == "succeeded") & (frame["category"] == "dresses") & (frame["engine"] == "sdxl")
                   & ~frame["needs_review"].fillna(False).astype(bool)
                   & frame["preserve_ssim"].between(0.7, 0.9)]
    expected = chosen.sort_values(["garment_texture_ssim", "pair_id"], ascending=[False, True])
    page = index.page(filters)
    assert page.total == len(chosen) > 0
    assert _ids(page) == expected["pair_id"].head(200).tolist()
    assert _ids(index.page(Filters(pair="s0001", sort="pair_id"))) == [f"s0001{digit}" for digit in range(10)]
    assert index.page(Filters(metric="preserve_ssim", min="not a number")).total == PAIRS  # ignored, not an error
    assert index.page(Filters(sort="'; DROP TABLE x; --")).total == PAIRS  # unknown sort: worst first


def test_decision_filter_follows_new_decisions(large):
    root, frame, index = large
    succeeded = frame[frame["status"] == "succeeded"].head(3)
    items = succeeded[["pair_id", "run_id", "output_sha256"]].to_dict("records")
    assert index.page(Filters(decision="approved")).total == 0
    append_decisions(root, make_decisions(items[:2], "approved", None, None, "me"))
    append_decisions(root, make_decisions(items[2:], "rejected", "artifacts", "smudge", "me"))
    approved = index.page(Filters(decision="approved", sort="pair_id"))
    assert _ids(approved) == [item["pair_id"] for item in items[:2]]
    rejected = index.page(Filters(decision="rejected")).rows
    assert [(row["pair_id"], row["decision_reason"], row["decision_note"]) for row in rejected] == [
        (items[2]["pair_id"], "artifacts", "smudge")]
    assert index.page(Filters(decision="unreviewed")).total == PAIRS - 3
    # The newest decision on the same image wins.
    later = datetime(2099, 1, 1, tzinfo=timezone.utc)
    append_decisions(root, make_decisions(items[:1], "rejected", "other", None, "me", now=later))
    assert index.page(Filters(decision="approved")).total == 1 and index.rejected_now() == 2
