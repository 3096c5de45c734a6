"""Child process for the crash tests: run a manifest and SIGKILL ourselves at a chosen point.

    python crash_child.py MANIFEST CATALOGUE POINT N

The patch is applied here, in the child, so production code carries no fault hooks.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from tryon.config import RunConfig


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str, nth: int) -> None:
    calls = {"n": 0}

    def hit() -> bool:
        calls["n"] += 1
        return calls["n"] == nth

    if point == "masking":
        from tryon.masking import MaskingStage

        original = MaskingStage.__call__
        MaskingStage.__call__ = lambda self, batch: die() if hit() else original(self, batch)
    elif point == "engine":
        from tryon.engines.preview import PreviewEngine

        original = PreviewEngine.__call__
        PreviewEngine.__call__ = lambda self, batch: die() if hit() else original(self, batch)
    elif point in ("shard-rename", "cache-rename"):
        import tryon.atomic as atomic

        original_replace = os.replace
        wanted = "results" if point == "shard-rename" else "cache"

        def replace(source, target):
            if wanted in Path(target).parts and hit():
                die()  # the temp file/dir is complete but not yet renamed
            return original_replace(source, target)

        atomic.os.replace = replace
    elif point == "after-shard":
        from tryon.catalogue.store import Catalogue

        original_write = Catalogue.write_results

        def write_results(self, *args, **kwargs):
            path = original_write(self, *args, **kwargs)
            if hit():
                die()
            return path

        Catalogue.write_results = write_results
    elif point == "run-finish":
        from tryon.catalogue.store import Catalogue

        original_run = Catalogue.write_run

        def write_run(self, record):
            if record.get("status") == "finished" and hit():
                die()
            return original_run(self, record)

        Catalogue.write_run = write_run
    else:
        raise SystemExit(f"unknown kill point {point}")


def main() -> None:
    manifest, catalogue, point, nth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    arm(point, nth)
    from tryon.local import run_local

    run_local(manifest, catalogue, RunConfig(engine="preview", shard_size=2, batch_size=2))


if __name__ == "__main__":
    main()
