"""`score_outputs`: judge try-ons made elsewhere with the same masks, metrics and gate as `catalogue_run`."""

# No `from __future__ import annotations`: Prefect builds the flow's parameter model from these annotations.
from typing import Any

import flows  # noqa: F401 - Prefect defaults before prefect is imported
from prefect import flow

from flows.catalogue_run import catalogue_run
from tryon.config import RunConfig, load_config
from tryon.errors import ManifestError
from tryon.manifest import read_manifest


def require_output_column(manifest: str) -> None:
    """`tryon score` needs the try-on to judge; say so before anything starts."""
    if "output_image" not in read_manifest(manifest).columns:
        raise ManifestError(f"manifest {manifest} has no 'output_image' column; `tryon score` needs, per pair, the "
                            "path of the try-on image to judge (relative to the manifest's folder)")


@flow(name="score-outputs", validate_parameters=True)
def score_outputs(
    manifest: str,
    catalogue: str,
    engine_name: str = "external",
    config: RunConfig | None = None,
    config_file: str | None = None,
    data_root: str | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Write one catalogue row per manifest pair for its `output_image`, with `engine = engine_name`.

    It is `catalogue_run` with the `external` engine, so the rows, the run record, resuming and
    `tryon report` are the same as for try-ons made here.
    """
    require_output_column(manifest)
    base = config if config is not None else load_config(config_file, data_root=data_root)
    score_config = base.with_overrides(engine="external", external_name=engine_name, data_root=data_root)
    return catalogue_run(manifest=manifest, catalogue=catalogue, config=score_config, show_progress=show_progress)
