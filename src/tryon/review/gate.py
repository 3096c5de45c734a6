"""How well the automatic quality gate agrees with reviewers (to tune `[quality_gate]`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tryon.catalogue.views import connect

# Current decisions only (`latest_review`: about each pair's newest image).
AGREEMENT_SQL = """
SELECT d.decision,
       count(*) AS pairs,
       count(*) FILTER (WHERE coalesce(l.needs_review, false)) AS gate_flagged,
       count(*) FILTER (WHERE NOT coalesce(l.needs_review, false)) AS gate_passed
FROM latest l JOIN latest_review d USING (pair_id)
GROUP BY d.decision ORDER BY d.decision
"""

# Per gate rule (the metric named in `review_reasons`): how many flagged pairs people approved anyway.
GATE_RULES_SQL = """
WITH flagged AS (
    SELECT d.decision, unnest(string_split(l.review_reasons, '; ')) AS gate_reason
    FROM latest l JOIN latest_review d USING (pair_id)
    WHERE coalesce(l.needs_review, false) AND l.review_reasons IS NOT NULL
)
SELECT regexp_extract(gate_reason, '^[A-Za-z0-9_]+') AS gate_rule,
       count(*) AS reviewed,
       count(*) FILTER (WHERE decision = 'approved') AS approved_by_people,
       count(*) FILTER (WHERE decision = 'rejected') AS rejected_by_people
FROM flagged GROUP BY gate_rule ORDER BY reviewed DESC, gate_rule
"""

# Per reviewer's reason: how many rejected pairs the gate let through.
REJECT_REASONS_SQL = """
SELECT d.reason,
       count(*) AS rejected,
       count(*) FILTER (WHERE NOT coalesce(l.needs_review, false)) AS gate_passed,
       count(*) FILTER (WHERE coalesce(l.needs_review, false)) AS gate_flagged
FROM latest l JOIN latest_review d USING (pair_id)
WHERE d.decision = 'rejected'
GROUP BY d.reason ORDER BY rejected DESC, d.reason
"""


def gate_vs_people(root: Path) -> dict[str, list[dict[str, Any]]]:
    """The three tables of the gate page; empty lists before anyone has decided."""
    tables = {}
    with connect(root) as connection:
        has_gate = connection.execute(
            "SELECT count(*) FROM (DESCRIBE results) WHERE column_name IN ('needs_review', 'review_reasons')"
        ).fetchall()[0][0] == 2
        for name, sql in (("agreement", AGREEMENT_SQL), ("gate_rules", GATE_RULES_SQL),
                          ("reject_reasons", REJECT_REASONS_SQL)):
            if not has_gate:
                tables[name] = []
                continue
            cursor = connection.execute(sql)
            names = [description[0] for description in cursor.description]
            tables[name] = [dict(zip(names, values)) for values in cursor.fetchall()]
    return tables
