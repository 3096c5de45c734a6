"""Gate vs people: agreement of the quality gate with reviewers, by rule and by reason."""

from __future__ import annotations

import json

from flows.cli import main as tryon_main
from tryon.review.decisions import append_decisions, make_decisions
from tryon.review.gate import AGREEMENT_SQL, gate_vs_people

from tests.review.conftest import synthetic_catalogue


def _items(rows):
    return rows[["pair_id", "run_id", "output_sha256"]].to_dict("records")


def test_gate_vs_people_counts(tmp_path, capsys):
    frame = synthetic_catalogue(tmp_path, 400)
    flagged = frame[frame["needs_review"].fillna(False).astype(bool)]
    passed = frame[(frame["status"] == "succeeded") & ~frame["needs_review"].fillna(False).astype(bool)]
    append_decisions(tmp_path, make_decisions(_items(flagged.head(3)), "approved", None, None, "me"))  # false alarms
    append_decisions(tmp_path, make_decisions(_items(flagged.iloc[3:5]), "rejected", "artifacts", None, "me"))
    append_decisions(tmp_path, make_decisions(_items(passed.head(4)), "approved", None, None, "me"))
    append_decisions(tmp_path, make_decisions(_items(passed.iloc[4:6]), "rejected", "garment_wrong", None, "me"))  # misses
    tables = gate_vs_people(tmp_path)
    assert tables["agreement"] == [
        {"decision": "approved", "pairs": 7, "gate_flagged": 3, "gate_passed": 4},
        {"decision": "rejected", "pairs": 4, "gate_flagged": 2, "gate_passed": 2},
    ]
    assert tables["gate_rules"] == [{"gate_rule": "preserve_ssim", "reviewed": 5, "approved_by_people": 3,
                                     "rejected_by_people": 2}]
    assert tables["reject_reasons"] == [
        {"reason": "artifacts", "rejected": 2, "gate_passed": 0, "gate_flagged": 2},
        {"reason": "garment_wrong", "rejected": 2, "gate_passed": 2, "gate_flagged": 0},
    ]
    # The README's query, through `tryon query`.
    capsys.readouterr()
    assert tryon_main(["query", "--catalogue", str(tmp_path), "--format", "json", " ".join(AGREEMENT_SQL.split())]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert rows == tables["agreement"]
