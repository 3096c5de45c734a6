"""Overlap one worker's stages so the engine (the GPU) never waits for CPU work.

While the engine generates window k on the caller's thread, one thread decodes, masks and
depth-estimates window k+1 and another computes metrics and writes images for the pairs the
engine has finished. Each thread runs its stage in the same order a serial run does, so rows
and files are identical (tests/test_pipelining.py); Pillow, OpenCV, NumPy and torch release
the GIL for the heavy parts, so the threads really run side by side.

Memory stays flat over any number of pairs: at most one window is being prepared, one is in
the engine and two are finishing, and a pair's images are dropped as soon as its row is done.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from tryon.pairs import Pair
    from tryon.runner import ShardProcessor, _Work

FINISHING_WINDOWS = 1  # windows whose metrics and writes may still run while the engine starts the next


def run_overlapped(processor: "ShardProcessor", windows: Sequence[Sequence["Pair"]]) -> list[dict[str, Any]]:
    """Rows of every pair of `windows`, in order, the same as `processor._process_window` on each in turn."""
    rows: list[dict[str, Any]] = []
    if not windows:
        return rows
    preparer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tryon-prepare")
    finisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tryon-finish")
    finishing: deque[tuple[list["_Work"], list[Future]]] = deque()
    try:
        prepared = preparer.submit(processor._prepare, windows[0])
        for index in range(len(windows)):
            works = prepared.result()
            if index + 1 < len(windows):
                prepared = preparer.submit(processor._prepare, windows[index + 1])
            futures: list[Future] = []
            processor._run_engine(works, finish=lambda work, outcome: futures.append(
                finisher.submit(_finish_and_release, processor, work, outcome)))
            finishing.append((works, futures))
            while len(finishing) > FINISHING_WINDOWS:
                rows.extend(_collect(processor, *finishing.popleft()))
        while finishing:
            rows.extend(_collect(processor, *finishing.popleft()))
    finally:
        # On an interrupt, queued work is dropped; running steps end on their own (atomic writes).
        preparer.shutdown(wait=True, cancel_futures=True)
        finisher.shutdown(wait=True, cancel_futures=True)
    return rows


def _finish_and_release(processor: "ShardProcessor", work: "_Work", outcome: Any) -> None:
    processor._finish_safely(work, outcome)
    _release(work)


def _collect(processor: "ShardProcessor", works: list["_Work"], futures: list[Future]) -> list[dict[str, Any]]:
    for future in futures:
        future.result()  # _finish_safely records failures on the pair; nothing is expected to raise
    for work in works:
        _release(work)  # pairs that failed before the engine still hold their images
    return processor._rows(works)


def _release(work: "_Work") -> None:
    """Drop a finished pair's images; only its row is kept."""
    work.person = work.garment = work.ground_truth = work.depth = None
    work.mask = None
