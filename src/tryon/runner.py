"""Run one shard of pairs through the stages: decode → masking → depth → engine → metrics.

The stages are set up once (`setup()`) and reused for every shard a worker gets.
Preprocessing results are cached by content hash, so reruns skip them; every per-pair
problem becomes a failed row and the shard goes on. By default the stages of consecutive
windows overlap (`tryon.pipelining`); each stage method still works on one window's list of works.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image

from tryon.cache import ArtifactCache
from tryon.catalogue.store import Catalogue
from tryon.conditioning import build_prompt, normalize_control_image
from tryon.config import RunConfig
from tryon.agnostic import garment_agnostic, mask_digest
from tryon.errors import PairError
from tryon.hashing import stable_hash
from tryon.images import load_rgb
from tryon.masking.overlay import OVERLAY_JPEG_QUALITY, small_mask_overlay
from tryon.metrics import pair_metrics
from tryon.metrics.mask import mask_metrics
from tryon.metrics.working_size import metric_inputs
from tryon.pairs import MaskResult, Pair, TryOnRequest
from tryon.pipelining import run_overlapped
from tryon.quality_gate import review_reasons
from tryon.rows import base_row, failed, succeeded, to_json
from tryon.stages import run_isolated, stage_failure

log = logging.getLogger(__name__)


@dataclass
class _Work:
    """A pair on its way through the stages."""

    pair: Pair
    row: dict[str, Any]
    person: Image.Image | None = None
    garment: Image.Image | None = None
    ground_truth: Image.Image | None = None
    mask: MaskResult | None = None
    depth: Image.Image | None = None
    garment_embedding: np.ndarray | None = None
    error: PairError | None = None

    def fail(self, error: PairError) -> None:
        if self.error is None:
            self.error = error


@dataclass
class ShardProcessor:
    """Holds the set-up stages for one worker and turns shards of pairs into catalogue rows."""

    config: RunConfig
    catalogue: Catalogue
    cache: ArtifactCache | None = None
    engine: Any = None
    masking: Any = None
    depth: Any = None
    seconds_by_stage: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    stage_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _ready: bool = False

    def setup(self) -> "ShardProcessor":
        if self._ready:
            return self
        from tryon.depth import DepthStage
        from tryon.engines import build_engine
        from tryon.masking import MaskingStage

        self.cache = self.cache or ArtifactCache(self.catalogue.cache_dir)
        self.engine = self.engine or build_engine(self.config)
        self.masking = self.masking or MaskingStage(self.config.masking, self.config.limits)
        if self.engine.needs_depth and self.depth is None:
            from tryon.models.lock import get_preset

            self.depth = DepthStage(self.config.depth, get_preset(self.config.models), device=self.config.device)
        for stage_name, stage in (("engine", self.engine), ("masking", self.masking), ("depth", self.depth)):
            if stage is None:
                continue
            started = time.perf_counter()
            stage.setup()
            self.seconds_by_stage[f"setup_{stage_name}"] += time.perf_counter() - started
        self._ready = True
        log.info("stages ready: engine=%s depth=%s", self.engine.name, "yes" if self.depth else "no")
        return self

    @property
    def window(self) -> int:
        """Pairs held in memory at once (decoded images are large)."""
        return max(16, 4 * self.config.batch_size)

    def process(self, pairs: Sequence[Pair]) -> list[dict[str, Any]]:
        self.setup()
        if self.cache is None:  # a reused processor pointed at another catalogue
            self.cache = ArtifactCache(self.catalogue.cache_dir)
        windows = [pairs[start : start + self.window] for start in range(0, len(pairs), self.window)]
        if self.overlaps():
            return run_overlapped(self, windows)
        rows: list[dict[str, Any]] = []
        for window in windows:
            rows.extend(self._process_window(window))
        return rows

    def overlaps(self) -> bool:
        """Whether CPU stages run beside the engine (`pipeline.overlap`; "auto": unless the engine is on the CPU)."""
        overlap = self.config.pipeline.overlap
        return not self.engine.computes_on_cpu() if overlap == "auto" else overlap

    def cache_stats(self) -> dict[str, dict[str, int]]:
        """Hits, misses, corrupt entries and writes per cache namespace, for the run record."""
        return {name: counts.as_dict() for name, counts in (self.cache.stats.items() if self.cache else [])}

    # 1. decode → 2. masking → 3. depth → 4. engine → 5. metrics + images
    def _process_window(self, pairs: Sequence[Pair]) -> list[dict[str, Any]]:
        """One window, every stage in turn on this thread (`pipeline.overlap = false`)."""
        works = self._prepare(pairs)
        self._run_engine(works)
        return self._rows(works)

    def _prepare(self, pairs: Sequence[Pair]) -> list[_Work]:
        """Steps 1-3 for one window; `tryon.pipelining` runs this for the next window while the engine works."""
        engine_info = self.engine.model_info()
        config_hash = self.config.config_hash()
        works = [
            _Work(pair, {**base_row(pair, config_hash=config_hash, engine_name=self.engine.name),
                         "engine_version": self.engine.version, **engine_info})
            for pair in pairs
        ]
        self._guarded("decode", self._decode, works)
        self._guarded("masking", self._mask, works)
        if self.depth is not None:
            self._guarded("depth", self._depth, works)
        self._guarded("garment_encode", self._encode_garments, works)
        return works

    @staticmethod
    def _rows(works: Sequence[_Work]) -> list[dict[str, Any]]:
        return [work.row if work.error is None else failed(work.row, work.error.error_type, work.error.message)
                for work in works]

    @staticmethod
    def _guarded(stage: str, method: Callable[[list[_Work]], None], works: list[_Work]) -> None:
        """A stage that raises (a bug, not a bad pair) fails the window's live pairs, not the shard."""
        try:
            method(works)
        except Exception as error:  # noqa: BLE001 - becomes each pair's failed row
            for work in works:
                if work.error is None:
                    work.fail(stage_failure(work.pair.label, stage, error))

    def _timed(self, stage: str, works: Sequence[_Work], started: float) -> None:
        elapsed = time.perf_counter() - started
        self.seconds_by_stage[stage] += elapsed
        share = elapsed / max(len(works), 1)
        for work in works:
            work.row[f"seconds_{stage}"] = round(share, 6)

    def _decode(self, works: list[_Work]) -> None:
        started = time.perf_counter()
        limits = self.config.limits
        for work in works:
            pair = work.pair
            try:
                work.person = load_rgb(pair.person_image, limits=limits, label=f"{pair.label} person_image")
                work.garment = load_rgb(pair.garment_image, limits=limits, label=f"{pair.label} garment_image")
                if pair.ground_truth_image is not None:
                    work.ground_truth = load_rgb(pair.ground_truth_image, limits=limits, label=f"{pair.label} ground_truth_image")
            except PairError as error:
                work.fail(error)
        self._timed("decode", works, started)

    def _cached(self, namespace: str, stage: Any, works: list[_Work], key_of: Callable[[_Work], str],
                input_of: Callable[[_Work], Any], encode: Callable[[Any], tuple[dict, dict]],
                decode: Callable[[Any], Any]) -> list[Any]:
        """The stage's outcome for each work (a result or a PairError), from the cache when
        possible. Pairs sharing an input (one photo, many garments) share one computation."""
        keys = [key_of(work) for work in works]
        groups: dict[str, list[_Work]] = defaultdict(list)
        for key, work in zip(keys, works):
            groups[key].append(work)
        outcomes: dict[str, Any] = {}
        misses: list[tuple[str, _Work]] = []
        for key, group in groups.items():
            entry = self.cache.get(namespace, key)
            if entry is not None:
                outcomes[key] = decode(entry)
            else:
                misses.append((key, group[0]))
        for batch in _chunks(misses, self.config.batch_size):
            results = run_isolated(stage, [input_of(work) for _, work in batch], lambda item: "this pair")
            self.stage_calls[f"{stage.name}_compute"] += 1
            for (key, representative), outcome in zip(batch, results):
                if isinstance(outcome, PairError):
                    outcomes[key] = (outcome, representative)
                    continue
                outcomes[key] = outcome
                images, meta = encode(outcome)
                self.cache.put(namespace, key, images, meta)
        aligned = []
        for key, work in zip(keys, works):
            outcome = outcomes[key]
            if isinstance(outcome, tuple):
                error, representative = outcome
                outcome = _relabel(error, representative, work)
            aligned.append(outcome)
        return aligned

    def _mask(self, works: list[_Work]) -> None:
        started = time.perf_counter()
        live = [work for work in works if work.error is None]
        stage = self.masking
        fingerprint = stage.fingerprint()
        outcomes = self._cached(
            "masks", stage, live,
            key_of=lambda work: stable_hash("masking", stage.version, fingerprint, work.pair.person_sha256,
                                            work.pair.category, work.pair.mask_sha256),
            input_of=lambda work: (work.pair, work.person),
            encode=lambda result: ({"garment_mask": result.garment_mask, "person_mask": result.person_mask},
                                   {"keypoints": result.keypoints, "mask_source": result.mask_source}),
            decode=lambda entry: MaskResult(
                garment_mask=np.asarray(entry.images["garment_mask"].convert("L")) >= 128,
                person_mask=np.asarray(entry.images["person_mask"].convert("L")) >= 128,
                keypoints={name: tuple(value) for name, value in entry.meta["keypoints"].items()},
                mask_source=entry.meta["mask_source"],
            ),
        )
        for work, outcome in zip(live, outcomes):
            if isinstance(outcome, PairError):
                work.fail(outcome)
                continue
            work.mask = outcome
            work.row["mask_image"], _ = self.catalogue.save_image(outcome.garment_mask, "masks")  # 1-bit PNG
            work.row["mask_overlay_image"], _ = self.catalogue.save_image(
                small_mask_overlay(work.person, outcome), "overlays", format="jpeg", quality=OVERLAY_JPEG_QUALITY)
            work.row["mask_source"] = outcome.mask_source
            work.row["mask_coverage_ratio"] = outcome.coverage_ratio
            work.row["mask_area"] = outcome.mask_area
            work.row["person_area"] = outcome.person_area
        self._timed("masking", live, started)

    def _depth(self, works: list[_Work]) -> None:
        started = time.perf_counter()
        live = [work for work in works if work.error is None]
        stage = self.depth
        fingerprint = stage.fingerprint()
        outcomes = self._cached(
            "depth", stage, live,
            key_of=lambda work: self._depth_key(work, stage.version, fingerprint),
            input_of=self._depth_input,
            encode=lambda depth: ({"depth": depth}, {}),
            decode=lambda entry: entry.images["depth"],
        )
        for work, outcome in zip(live, outcomes):
            if isinstance(outcome, PairError):
                work.fail(outcome if work.pair.label in outcome.message
                          else PairError(outcome.error_type, f"{work.pair.label}: {outcome.message}"))
                continue
            work.depth = normalize_control_image(outcome, work.person.size)
            work.row["depth_image"], _ = self.catalogue.save_image(work.depth, "depth")
        self._timed("depth", live, started)

    def _depth_key(self, work: _Work, version: str, fingerprint: str) -> str:
        if self.config.depth.source == "person":
            return stable_hash("depth", version, fingerprint, work.pair.person_sha256)
        return stable_hash("depth", version, fingerprint, work.pair.person_sha256, "agnostic",
                           mask_digest(work.mask.garment_mask))

    def _depth_input(self, work: _Work) -> Image.Image:
        """The photo, or with depth.source = agnostic the photo with the garment region filled in."""
        if self.config.depth.source == "person":
            return work.person
        return garment_agnostic(work.person, work.mask.garment_mask)

    def _encode_garments(self, works: list[_Work]) -> None:
        """The engine's garment embeddings, once per garment content and encoder, kept in the cache:
        a catalogue of G garments x P people encodes G garments (`stage_calls["garment_encode"]`)."""
        encoder = getattr(self.engine, "garment_encoder", None)
        if encoder is None:
            return
        started = time.perf_counter()
        live = [work for work in works if work.error is None]
        fingerprint = encoder.fingerprint()
        encoded_before = encoder.encoded
        outcomes = self._cached(
            "garment_embeddings", encoder, live,
            key_of=lambda work: stable_hash("garment_encode", fingerprint, work.pair.garment_sha256),
            input_of=lambda work: work.garment,
            encode=lambda embedding: ({"embedding": embedding}, {}),
            decode=lambda entry: entry.arrays["embedding"],
        )
        self.stage_calls["garment_encode"] += encoder.encoded - encoded_before
        for work, outcome in zip(live, outcomes):
            if isinstance(outcome, PairError):
                work.fail(outcome)
            else:
                work.garment_embedding = outcome
        self.seconds_by_stage["garment_encode"] += time.perf_counter() - started

    def _run_engine(self, works: list[_Work], finish: Callable[[_Work, Any], None] | None = None) -> None:
        """Engine batches; each generated pair goes to `finish` (default: `_finish_safely`, inline)."""
        finish = finish or self._finish_safely
        live = [work for work in works if work.error is None]
        template = self.config.sdxl.prompt_template
        requests = []
        for work in live:
            prompt = build_prompt(template, work.pair.category, work.pair.garment_description, work.pair.prompt)
            work.row["prompt"] = prompt
            requests.append(TryOnRequest(pair=work.pair, person=work.person, garment=work.garment,
                                         mask=work.mask, depth=work.depth, seed=work.pair.seed, prompt=prompt,
                                         garment_embedding=work.garment_embedding))
        by_bucket: dict[Any, list[tuple[_Work, TryOnRequest]]] = defaultdict(list)
        for work, request in zip(live, requests):
            by_bucket[self.engine.bucket(request)].append((work, request))
        for group in by_bucket.values():
            for batch in _chunks(group, self.config.batch_size):
                started = time.perf_counter()
                outcomes = run_isolated(self.engine, [request for _, request in batch], lambda item: item.pair.label)
                self.stage_calls["engine_compute"] += 1
                self._timed("engine", [work for work, _ in batch], started)
                for (work, _), outcome in zip(batch, outcomes):
                    if isinstance(outcome, PairError):
                        work.fail(outcome)
                    else:
                        finish(work, outcome)

    def _finish_safely(self, work: _Work, outcome) -> None:
        """`_finish`, with anything it raises recorded as this pair's failure."""
        try:
            self._finish(work, outcome)
        except Exception as error:  # noqa: BLE001 - becomes the pair's failed row
            work.fail(stage_failure(work.pair.label, "metrics", error))

    def _finish(self, work: _Work, outcome) -> None:
        started = time.perf_counter()
        output = self.config.output
        work.row["output_image"], work.row["output_sha256"] = self.catalogue.save_image(
            outcome.image, "outputs", format=output.format, png_compress_level=output.png_compress_level,
            quality=output.quality, webp_lossless=output.webp_lossless)
        work.row["output_format"] = output.format
        work.row["engine_parameters"] = to_json(outcome.parameters)
        work.row["device"] = str(outcome.parameters.get("device", "cpu"))
        metrics = pair_metrics(**metric_inputs(
            self.config.pipeline.metrics_long_side,
            person=work.person, output=outcome.image, garment_mask=work.mask.garment_mask,
            person_mask=work.mask.person_mask, garment=work.garment, ground_truth=work.ground_truth,
            raw_output=outcome.raw_image,
        ))
        metrics.update(mask_metrics(work.mask.garment_mask, work.mask.person_mask))  # full-size pixel counts
        work.row["output_resized_from"] = outcome.parameters.get("output_resized_from")
        work.row.update(metrics)
        reasons = review_reasons(metrics, self.config.quality_gate)
        work.row["needs_review"] = bool(reasons)
        work.row["review_reasons"] = "; ".join(reasons) or None
        work.row.update(succeeded(work.row))
        elapsed = time.perf_counter() - started
        self.seconds_by_stage["metrics"] += elapsed
        work.row["seconds_metrics"] = round(elapsed, 6)


def _relabel(error: PairError, representative: _Work, work: _Work) -> PairError:
    """The stage ran once for pairs sharing an input; each pair's row names that pair."""
    if representative is work or representative.pair.label not in error.message:
        return error
    return PairError(error.error_type, error.message.replace(representative.pair.label, work.pair.label))


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
