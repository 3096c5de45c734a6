"""One run's lifecycle over a catalogue: start, record invalid rows, plan, write shards, finish.

The Prefect flow calls these steps as tasks; a plain Python loop can call them directly
(see benchmarks/overhead.py). Nothing here knows about Prefect.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from tryon import __version__
from tryon.catalogue.schema import STATUS_SUCCEEDED, result_schema
from tryon.catalogue.store import Catalogue, new_run_id, utc_now
from tryon.config import RunConfig
from tryon.manifest import ValidatedManifest
from tryon.pairs import Pair
from tryon.planning import (PLAN_COLUMNS, REDO_REASONS, RecordedInvalidRows, StoredOutputs, group_identical_work,
                            refresh_reason, select_rows)
from tryon.refresh import refreshed_row
from tryon.rows import follower_row, invalid_manifest_row, storable_row, to_json

log = logging.getLogger(__name__)

INVALID_SHARD = "invalid-rows"
REFRESHED_SHARD = "refreshed-rows"


def library_versions() -> dict[str, str]:
    import importlib.metadata as metadata

    versions = {"tryon": __version__, "python": platform.python_version()}
    for package in ("torch", "torchvision", "diffusers", "transformers", "peft", "mediapipe", "segment-anything",
                    "controlnet-aux", "numpy", "pillow", "opencv-python-headless", "pyarrow", "pandas", "prefect"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def metric_columns() -> list[str]:
    from tryon.metrics import METRIC_COLUMNS

    return list(METRIC_COLUMNS)


@dataclass
class RunSession:
    catalogue: Catalogue
    config: RunConfig
    manifest: ValidatedManifest
    kind: str = "run"
    parent_run_id: str | None = None
    run_id: str = field(default_factory=new_run_id)
    started_at: Any = field(default_factory=utc_now)
    started_clock: float = field(default_factory=time.perf_counter)
    pairs_skipped: int = 0
    pairs_planned: int = 0
    planned_by_reason: Counter = field(default_factory=Counter)
    skipped_by_reason: Counter = field(default_factory=Counter)
    force: bool = False  # redo every pair this run takes, whatever the catalogue holds
    # Filled by plan(): pairs whose work another pair of this run does (leader id -> leader,
    # followers), and pairs whose row is re-written or re-scored without new images.
    followers: dict[str, tuple[Pair, list[Pair]]] = field(default_factory=dict)
    refresh: list[tuple[Pair, str]] = field(default_factory=list)

    @property
    def schema(self) -> pa.Schema:
        return result_schema(metric_columns(), self.manifest.extra_types)

    def record(self, **updates: Any) -> dict[str, Any]:
        base = {
            "run_id": self.run_id, "parent_run_id": self.parent_run_id, "kind": self.kind, "status": "running",
            "started_at": self.started_at, "finished_at": None, "manifest": str(self.manifest.path),
            "manifest_sha256": self.manifest.sha256, "data_root": str(self.manifest.data_root),
            "engine": self.config.engine_label(), "config": self.config.model_dump_json(),
            "config_hash": self.config.config_hash(), "pairs_total": self.manifest.total_rows,
            "pairs_planned": self.pairs_planned, "pairs_skipped": self.pairs_skipped,
            "planned_by_reason": to_json(dict(self.planned_by_reason)),
            "skipped_by_reason": to_json(dict(self.skipped_by_reason)),
            "library_versions": to_json(library_versions()), "host": platform.node(),
            "metric_protocol": to_json(_metric_protocol(self.config)),
        }
        base.update(updates)
        return base

    def start(self) -> None:
        self.catalogue.create()
        self.catalogue.write_run(self.record())
        log.info("run %s started: %s -> %s", self.run_id, self.manifest.path, self.catalogue.root)

    def write_invalid_rows(self) -> int:
        """Record the rows that failed validation, except those recorded already with the same
        error, message and values: a bad manifest run every night adds nothing after the first."""
        if not self.manifest.failures:
            return 0
        recorded = RecordedInvalidRows(self.catalogue)
        rows = []
        for failure in self.manifest.failures:
            row = invalid_manifest_row(failure, config_hash=self.config.config_hash(),
                                       engine_name=self.config.engine_label())
            if recorded.unchanged(failure, row):
                self.skipped_by_reason["unchanged_invalid"] += 1
                continue
            rows.append(row)
        self.pairs_skipped = sum(self.skipped_by_reason.values())
        if rows:
            self._write_rows(INVALID_SHARD, rows)
        return len(rows)

    def plan(self) -> list[Pair]:
        """Pairs still to do. A pair whose newest row came from identical inputs and identical
        output-affecting config is skipped, so a repeated, scheduled or resumed run does no model
        work. Failed pairs are skipped too (the same inputs fail the same way), except in a
        rerun-failed run, which exists to retry them. Why each pair is done or skipped is counted
        for the run record.

        What makes a row stale, by kind: new inputs or config, a deleted output image, or
        `force` redo the work; a new ground truth re-scores the stored output; changed carried
        columns or quality gate re-write the row (`self.refresh`, see write_refreshed_rows).
        Pairs of this run with identical work are done once (`self.followers`)."""
        retry_failed = self.kind == "rerun-failed"
        config_hash = self.config.config_hash()
        gate_hash = self.config.gate_hash()
        latest = {row["pair_id"]: row for row in select_rows(self.catalogue, PLAN_COLUMNS, "latest")}
        outputs = StoredOutputs(self.catalogue)
        todo: list[Pair] = []
        for pair in self.manifest.pairs:
            previous = latest.get(pair.pair_id)
            reason = _plan_reason(previous, pair.input_hash, config_hash, retry_failed)
            if reason.startswith("skip_") and self.force:
                reason = "forced"
            if reason == "skip_unchanged_succeeded" and not outputs.exists(previous.get("output_image")):
                reason = "output_missing"
            if reason.startswith("skip_"):
                reason = refresh_reason(previous, pair, gate_hash) or reason
            if reason.startswith("skip_"):
                self.skipped_by_reason[reason.removeprefix("skip_")] += 1
                continue
            self.planned_by_reason[reason] += 1
            if reason in REDO_REASONS:
                todo.append(pair)
            else:
                self.refresh.append((pair, reason))
        self.pairs_skipped = sum(self.skipped_by_reason.values())
        self.pairs_planned = len(todo) + len(self.refresh)
        todo, self.followers = group_identical_work(todo)
        log.info("plan: %d to do %s (%d computed once for identical pairs), %d skipped %s", self.pairs_planned,
                 dict(self.planned_by_reason), len(todo), self.pairs_skipped, dict(self.skipped_by_reason))
        return todo

    def shards(self, pairs: list[Pair]) -> list[tuple[str, list[Pair]]]:
        size = self.config.shard_size
        return [(f"shard-{index:05d}", pairs[start : start + size])
                for index, start in enumerate(range(0, len(pairs), size))]

    def write_shard(self, shard_name: str, rows: list[dict[str, Any]]) -> None:
        self._write_rows(shard_name, [copy for row in rows for copy in self._with_followers(row)])

    def _with_followers(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        if row["pair_id"] not in self.followers:
            return [row]
        leader, followers = self.followers[row["pair_id"]]
        return [row] + [follower_row(row, leader, follower) for follower in followers]

    def write_refreshed_rows(self) -> int:
        """Re-write (carried columns, gate) or re-score (ground truth) the rows plan() found
        stale without new images: no stage runs, the stored output is reused."""
        if not self.refresh:
            return 0
        wanted = [pair.pair_id for pair, _ in self.refresh]
        previous = {row["pair_id"]: row for row in select_rows(self.catalogue, None, "latest", wanted)}
        rows = [refreshed_row(previous[pair.pair_id], pair, reason, config=self.config, catalogue=self.catalogue)
                for pair, reason in self.refresh]
        self._write_rows(REFRESHED_SHARD, rows)
        return len(rows)

    def _write_rows(self, shard_name: str, rows: list[dict[str, Any]]) -> None:
        """Write a shard; a row Arrow cannot store becomes a `write_failed` row naming the
        column, so one bad value never loses the shard's other rows or stalls the run."""
        gate_hash = self.config.gate_hash()
        for row in rows:
            row["gate_hash"] = gate_hash
        schema = self.schema
        try:
            self.catalogue.write_results(self.run_id, shard_name, rows, schema)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as error:
            log.error("shard %s of run %s: rows Arrow cannot store (%s); recording them as write_failed",
                      shard_name, self.run_id, error)
            self.catalogue.write_results(self.run_id, shard_name, [storable_row(row, schema) for row in rows], schema)

    def finish(self, seconds_by_stage: dict[str, float], cache_stats: dict[str, Any],
               stage_calls: dict[str, int] | None = None) -> dict[str, Any]:
        from tryon.catalogue.views import query

        counts = query(
            self.catalogue.root,
            f"SELECT status, error_type, count(*) AS n FROM results WHERE run_id = '{self.run_id}' GROUP BY ALL",
        ) if self.catalogue.completed_shards(self.run_id) else None
        succeeded = failed = 0
        failures: Counter[str] = Counter()
        if counts is not None:
            for row in counts.to_dict("records"):
                if row["status"] == STATUS_SUCCEEDED:
                    succeeded += int(row["n"])
                else:
                    failed += int(row["n"])
                    failures[row["error_type"]] += int(row["n"])
        summary = self._metric_summary() if succeeded else {}
        seconds = {name: round(value, 3) for name, value in seconds_by_stage.items()}
        seconds["wall"] = round(time.perf_counter() - self.started_clock, 3)
        record = self.record(
            status="finished", finished_at=utc_now(), pairs_succeeded=succeeded, pairs_failed=failed,
            failures_by_type=to_json(dict(failures)), seconds_by_stage=to_json(seconds),
            cache_stats=to_json(cache_stats), stage_calls=to_json(dict(stage_calls or {})),
            pass_rate=succeeded / (succeeded + failed) if succeeded + failed else None,
            metric_summary=to_json(summary),
            # Dataset-level FID/KID need Inception weights; none ship with the installed packages.
            fid=None, kid=None, fid_note="skipped: no Inception weights available locally",
        )
        self.catalogue.write_run(record)
        return record


    def _metric_summary(self) -> dict[str, dict[str, float]]:
        """Median, p10 and p90 of each numeric metric over this run's succeeded rows."""
        from tryon.catalogue.schema import metric_type
        from tryon.catalogue.views import query

        numeric = [name for name in metric_columns() if pa.types.is_floating(metric_type(name))]
        selects = ", ".join(
            f"median({name}) AS \"{name}|median\", quantile_cont({name}, 0.1) AS \"{name}|p10\", "
            f"quantile_cont({name}, 0.9) AS \"{name}|p90\"" for name in numeric
        )
        frame = query(self.catalogue.root,
                      f"SELECT {selects} FROM results WHERE run_id = '{self.run_id}' AND status = 'succeeded'")
        summary: dict[str, dict[str, float]] = {}
        for key, value in frame.iloc[0].items():
            name, statistic = key.split("|")
            if value is not None and value == value:  # NaN when a metric was never computed
                summary.setdefault(name, {})[statistic] = round(float(value), 6)
        return summary


def _metric_protocol(config: RunConfig) -> dict[str, Any]:
    from tryon.metrics import metric_protocol

    protocol = metric_protocol(paste_back=None if config.engine == "external" else config.paste_back)
    # Metrics run on copies shrunk to this long side (0: full size); published tables use full size.
    return protocol | {"metrics_long_side": config.pipeline.metrics_long_side}


def _plan_reason(previous: dict[str, Any] | None, input_hash: str, config_hash: str, retry_failed: bool) -> str:
    if previous is None:
        return "new"
    if previous["input_hash"] != input_hash:
        return "inputs_changed"
    if previous["config_hash"] != config_hash:
        return "config_changed"
    if previous["status"] == STATUS_SUCCEEDED:
        return "skip_unchanged_succeeded"
    return "retry_failed" if retry_failed else "skip_unchanged_failed"


def format_summary(record: dict[str, Any], catalogue_root: Path) -> str:
    """The few lines a run ends with: counts, failures by type, time per stage, where to look."""
    failures = json.loads(record.get("failures_by_type") or "{}")
    seconds = json.loads(record.get("seconds_by_stage") or "{}")
    lines = [
        f"run {record['run_id']} ({record['kind']}, engine={record['engine']}) finished in {seconds.get('wall', 0):.1f}s",
        f"  pairs: {record['pairs_total']} in manifest, {record['pairs_skipped']} skipped (unchanged), "
        f"{record['pairs_succeeded']} succeeded, {record['pairs_failed']} failed",
    ]
    for error_type, count in sorted(failures.items(), key=lambda item: -item[1]):
        lines.append(f"    failed {error_type}: {count}")
    stage_times = ", ".join(f"{name} {value:.2f}s" for name, value in seconds.items() if name != "wall")
    if stage_times:
        lines.append(f"  time by stage: {stage_times}")
    lines.append(f"  catalogue: {catalogue_root}  (query: tryon query --catalogue {catalogue_root} \"SELECT * FROM latest\")")
    if record["pairs_failed"]:
        lines.append(f"  rerun the failed pairs: tryon rerun-failed --catalogue {catalogue_root}")
    return "\n".join(lines)
