"""`rerun_failed`: reprocess exactly the pairs whose latest status is failed, as a new run."""

# No `from __future__ import annotations`: Prefect builds the flow's parameter model from these
# annotations, and postponed (string) ones fail when a deployment loads the flow from its entrypoint.
from typing import Any

import flows  # noqa: F401
from prefect import flow

from flows.catalogue_run import catalogue_run
from tryon.catalogue.store import Catalogue
from tryon.config import config_from_record
from tryon.errors import TryonError
from tryon.failures import failed_pair_ids, rejected_pair_ids, review_pair_ids


@flow(name="rerun-failed")
def rerun_failed(catalogue: str, run_id: str | None = None, include_review: bool = False,
                 show_progress: bool = True, include_rejected: bool = False) -> dict[str, Any]:
    """New run (parent = `run_id`, default the newest run) over the pairs that are failed now.

    With `run_id`, only pairs that failed in that run and are still failed are taken. With
    `include_review`, pairs flagged needs_review are rerun too, each with a new seed; with
    `include_rejected`, so are pairs whose current image a reviewer rejected (`tryon review`).
    """
    root = Catalogue(catalogue)
    parent = root.run_record(run_id)
    pair_ids = failed_pair_ids(root, run_id, include_review=include_review)
    rejected_ids = rejected_pair_ids(root, run_id) if include_rejected else []
    pair_ids = sorted(set(pair_ids) | set(rejected_ids))
    if not pair_ids:
        raise TryonError(f"no failed{' or rejected' if include_rejected else ''} pairs to rerun in {root.root}"
                         + (f" for run {run_id}" if run_id else ""))
    config = config_from_record(parent["config"])
    reseed_ids = sorted(set(review_pair_ids(root)) & set(pair_ids)) if include_review else []
    reseed_ids = sorted(set(reseed_ids) | set(rejected_ids))
    return catalogue_run(
        manifest=parent["manifest"], catalogue=str(root.root), config=config,
        data_root=parent["data_root"], only_pair_ids=pair_ids, parent_run_id=parent["run_id"],
        kind="rerun-failed", reseed_pair_ids=reseed_ids, show_progress=show_progress,
    )
