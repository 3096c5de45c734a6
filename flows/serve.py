"""`tryon serve`: a Prefect deployment of `catalogue_run` on a cron schedule, served by this process.

Each scheduled run is incremental: pairs whose inputs and config are unchanged are skipped
(see `RunSession.plan`), so a nightly run over an unchanged catalogue finishes in seconds.
"""

from __future__ import annotations

from pathlib import Path

import flows  # noqa: F401
from flows.catalogue_run import catalogue_run
from tryon.config import RunConfig
from tryon.errors import TryonError


def validate_schedule(cron: str, timezone: str) -> None:
    """Refuse a bad cron string or timezone in one line, with Prefect's own schedule rules."""
    from pydantic import ValidationError
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=cron, timezone=timezone)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors())
        raise TryonError(f"bad schedule (--cron {cron!r} --timezone {timezone!r}): {problems}; "
                         'e.g. --cron "0 2 * * *" --timezone Europe/Paris') from None


def deployment_parameters(manifest: Path, catalogue: Path, config: RunConfig) -> dict:
    """Parameters stored with the deployment: absolute paths, the full validated config."""
    return {"manifest": str(Path(manifest).resolve()), "catalogue": str(Path(catalogue).resolve()),
            "config": config.model_dump(mode="json"), "show_progress": False}


def serve(manifest: Path, catalogue: Path, config: RunConfig, cron: str, name: str, timezone: str = "UTC") -> None:
    """Register (or update) the deployment and run its schedule until interrupted."""
    from prefect.schedules import Cron

    catalogue_run.serve(
        name=name,
        schedule=Cron(cron, timezone=timezone),
        parameters=deployment_parameters(manifest, catalogue, config),
        description=f"tryon catalogue run of {manifest} into {catalogue}",
        tags=["tryon"],
        pause_on_shutdown=False,
    )
