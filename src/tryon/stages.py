"""The stage contract: a small class that loads once in `setup()` and processes one batch per call.

Every stage returns one entry per input, in order: a result, or a `PairError` for that
item alone, so one bad pair never takes down its batch-mates.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, TypeVar, runtime_checkable

from tryon.errors import PairError, RunStoppingError

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)


@runtime_checkable
class Stage(Protocol[In, Out]):
    name: str
    version: str  # bump when the stage's output for the same input changes

    def setup(self) -> None:
        """Load models once per worker. Idempotent."""

    def fingerprint(self) -> str:
        """Hash of the parameters and model identity that determine the output (cache-key part)."""

    def __call__(self, batch: Sequence[In]) -> list[Out | PairError]:
        """Process one batch."""


def run_isolated(stage: Any, items: Sequence[Any], label_of) -> list[Any]:
    """Call a stage on a batch; if the whole batch raises, retry item by item so the error
    lands only on the items that cause it. An unexpected exception on one item becomes its
    `stage_error` row, so a run never dies of one bad pair; only a `RunStoppingError` (nothing
    can succeed until the user acts, e.g. host out of memory) escapes and stops the run."""
    try:
        return list(stage(items))
    except RunStoppingError:
        raise
    except Exception as error:  # noqa: BLE001 - isolate the failing item below
        if len(items) == 1:
            return [_as_pair_error(stage, items[0], error, label_of)]
    results: list[Any] = []
    for item in items:
        try:
            results.extend(stage([item]))
        except RunStoppingError:
            raise
        except Exception as error:  # noqa: BLE001
            results.append(_as_pair_error(stage, item, error, label_of))
    return results


def _as_pair_error(stage: Any, item: Any, error: Exception, label_of) -> PairError:
    if isinstance(error, PairError):
        return error
    return stage_failure(label_of(item), getattr(stage, "name", type(stage).__name__), error)


def stage_failure(label: str, stage_name: str, error: Exception) -> PairError:
    """An unexpected exception in a stage, as the failed row of the pair it hit."""
    return PairError(
        "stage_error",
        f"{label}: {stage_name} failed: {type(error).__name__}: {error}. "
        "Rerun with `tryon rerun-failed`; report it if it repeats",
    )
