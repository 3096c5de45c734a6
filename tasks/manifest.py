"""Manifest validation as a Prefect task."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NONE

from tryon.config import ImageLimits
from tryon.manifest import ValidatedManifest, validate_manifest


@task(name="validate-manifest", cache_policy=NONE)
def validate_manifest_task(manifest: str, data_root: str | None, limits: ImageLimits,
                           only_pair_ids: list[str] | None = None) -> ValidatedManifest:
    return validate_manifest(manifest, data_root=data_root, limits=limits, only_pair_ids=only_pair_ids)
