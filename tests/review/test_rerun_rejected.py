"""`tryon rerun-failed --include-rejected`: the rejected pairs are redone with a new seed, and
their new images are unreviewed again."""

from __future__ import annotations

import pytest

import tryon.catalogue as cat
from tryon.catalogue.store import Catalogue
from tryon.failures import rejected_pair_ids
from tryon.review.decisions import append_decisions, make_decisions


def _reject(catalogue, pair_ids):
    rows = cat.load(catalogue)
    chosen = rows[rows["pair_id"].isin(pair_ids)][["pair_id", "run_id", "output_sha256"]].to_dict("records")
    append_decisions(catalogue, make_decisions(chosen, "rejected", "garment_distorted", None, "me"))
    return rows.set_index("pair_id")


def test_rejected_pair_ids_are_the_current_rejections(writable_catalogue):
    catalogue, (first_run, second_run) = writable_catalogue
    _reject(catalogue, ["p002"])
    assert rejected_pair_ids(Catalogue(catalogue)) == ["p002"]
    assert rejected_pair_ids(Catalogue(catalogue), run_id=second_run) == ["p002"]
    assert rejected_pair_ids(Catalogue(catalogue), run_id=first_run) == []


@pytest.mark.flow
def test_rerun_failed_include_rejected(writable_catalogue):
    from flows.rerun_failed import rerun_failed

    catalogue, _ = writable_catalogue
    before = _reject(catalogue, ["p002", "p004"])
    record = rerun_failed(catalogue=str(catalogue), include_rejected=True, show_progress=False)
    assert record["kind"] == "rerun-failed" and record["pairs_planned"] == 3  # p002, p004 and the failed p005
    after = cat.load(catalogue, with_review=True).set_index("pair_id")
    still_rejected = 0
    for pair_id in ("p002", "p004"):
        assert after.loc[pair_id, "run_id"] == record["run_id"]
        assert after.loc[pair_id, "seed"] != before.loc[pair_id, "seed"]
        # A decision is about exact bytes: a new image is unreviewed again; the same image (the
        # preview engine ignores the seed) is still the image someone rejected.
        same_image = after.loc[pair_id, "output_sha256"] == before.loc[pair_id, "output_sha256"]
        assert after.loc[pair_id, "review_decision"] == ("rejected" if same_image else None)
        still_rejected += same_image
    assert after.loc["p001", "run_id"] == before.loc["p001", "run_id"]  # not rejected: untouched
    assert len(cat.query(catalogue, "SELECT * FROM latest_review")) == still_rejected
    assert len(cat.query(catalogue, "SELECT * FROM reviews")) == 2  # the history stays
