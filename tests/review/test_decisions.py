"""Decisions: validated, one atomic file per batch, safe with two writers; the views' semantics."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import tryon.catalogue as cat
from tryon.review.decisions import DecisionError, append_decisions, make_decisions

from tests.review.conftest import synthetic_catalogue

ITEM = {"pair_id": "s00001", "run_id": "r", "output_sha256": "a" * 64}


@pytest.mark.parametrize("decision, reason, note, items, message", [
    ("maybe", None, None, [ITEM], "decision must be one of"),
    ("rejected", None, None, [ITEM], "needs a reason"),
    ("rejected", "ugly", None, [ITEM], "needs a reason"),
    ("approved", "artifacts", None, [ITEM], "takes no reason"),
    ("approved", None, "x" * 2001, [ITEM], "keep it under"),
    ("approved", None, None, [{"pair_id": "s1", "run_id": "r"}], "output_sha256"),
    ("approved", None, None, [], "no pairs selected"),
    ("approved", None, None, [{**ITEM, "pair_id": f"p{i}"} for i in range(1001)], "at most 1000"),
])
def test_bad_requests_say_what_is_wrong(decision, reason, note, items, message):
    with pytest.raises(DecisionError, match=message):
        make_decisions(items, decision, reason, note, "me")


def _write_batches(root: str, writer: int, batches: int) -> None:
    for batch in range(batches):
        items = [{"pair_id": f"s{writer}{batch:03d}{k}", "run_id": "r", "output_sha256": f"{writer}{batch}{k}"}
                 for k in range(5)]
        append_decisions(root, make_decisions(items, "approved", None, f"writer {writer}", f"app{writer}"))


def test_two_apps_writing_at_once_lose_nothing(tmp_path):
    synthetic_catalogue(tmp_path, 10)
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_batches, args=(str(tmp_path), writer, 15)) for writer in (1, 2)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(120)
        assert process.exitcode == 0
    files = sorted((tmp_path / "reviews").iterdir())
    assert len(files) == 30 and all(path.suffix == ".parquet" for path in files)  # no temp file left behind
    assert sum(pq.read_table(path).num_rows for path in files) == 150
    counts = cat.query(tmp_path, "SELECT reviewer, count(*) AS n FROM reviews GROUP BY reviewer ORDER BY reviewer")
    assert counts.to_dict("records") == [{"reviewer": "app1", "n": 75}, {"reviewer": "app2", "n": 75}]


def test_a_decision_holds_for_its_exact_image_only(tmp_path):
    frame = synthetic_catalogue(tmp_path, 20)
    row = frame[frame["status"] == "succeeded"].iloc[0]
    item = {"pair_id": row.pair_id, "run_id": row.run_id, "output_sha256": row.output_sha256}
    first = datetime(2026, 11, 2, tzinfo=timezone.utc)
    append_decisions(tmp_path, make_decisions([item], "approved", None, None, "ann", now=first))
    append_decisions(tmp_path, make_decisions([item], "rejected", "artifacts", "halo", "bob",
                                              now=datetime(2026, 11, 3, tzinfo=timezone.utc)))
    latest = cat.query(tmp_path, "SELECT pair_id, decision, reason, reviewer FROM latest_review")
    assert latest.to_dict("records") == [{"pair_id": row.pair_id, "decision": "rejected", "reason": "artifacts",
                                          "reviewer": "bob"}]
    loaded = cat.load(tmp_path, with_review=True).set_index("pair_id")
    assert loaded.loc[row.pair_id, "review_decision"] == "rejected" and loaded.loc[row.pair_id, "review_note"] == "halo"
    assert loaded["review_decision"].notna().sum() == 1

    # A newer run makes a new image for the pair: it is unreviewed again; the history stays.
    newer = synthetic_catalogue(tmp_path, 20, run_id="20261201T000000-000002")
    assert newer.loc[newer["pair_id"] == row.pair_id, "output_sha256"].item() == row.output_sha256  # same bytes…
    assert len(cat.query(tmp_path, "SELECT * FROM latest_review")) == 1  # …so the decision still holds
    shard = Path(tmp_path) / "results" / "run_id=20261201T000000-000002" / "shard-00000.parquet"
    table = pq.read_table(shard).to_pandas()
    table.loc[table["pair_id"] == row.pair_id, "output_sha256"] = "f" * 64
    table.to_parquet(shard, index=False)
    assert len(cat.query(tmp_path, "SELECT * FROM latest_review")) == 0
    assert len(cat.query(tmp_path, "SELECT * FROM reviews")) == 2
    assert cat.load(tmp_path, with_review=True)["review_decision"].isna().all()
    assert cat.load(tmp_path, run_id=row.run_id, with_review=True).set_index("pair_id").loc[
        row.pair_id, "review_decision"] == "rejected"


def test_no_reviews_yet_gives_empty_typed_views(tmp_path):
    synthetic_catalogue(tmp_path, 5)
    assert cat.query(tmp_path, "SELECT count(*) AS n FROM latest_review")["n"].item() == 0
    described = cat.query(tmp_path, "DESCRIBE reviews")
    assert described["column_name"].tolist() == ["pair_id", "run_id", "output_sha256", "decision", "reason", "note",
                                                 "reviewer", "decided_at"]
