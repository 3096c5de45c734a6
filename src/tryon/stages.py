"""The stage contract: a small class that loads once in `setup()` and processes one batch per call.

Every stage returns one entry per input, in order: a result, or a `PairError` for that
item alone, so one bad pair never takes down its batch-mates.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, TypeVar, runtime_checkable

from tryon.errors import PairError

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
    lands only on the items that cause it. Unexpected exceptions become `stage_error` rows."""
    try:
        return list(stage(items))
    except PairError:
        raise
    except Exception:  # noqa: BLE001 - isolate the failing item below
        if len(items) == 1:
            raise
    results: list[Any] = []
    for item in items:
        try:
            results.extend(stage([item]))
        except PairError as error:
            results.append(error)
        except Exception as error:  # noqa: BLE001
            results.append(
                PairError(
                    "stage_error",
                    f"{label_of(item)}: {getattr(stage, 'name', type(stage).__name__)} failed: "
                    f"{type(error).__name__}: {error}. Rerun with `tryon rerun-failed`; report it if it repeats",
                )
            )
    return results
