"""The `tryon` command line. Every command has --help; user errors exit 2 with one line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Callable

import flows  # noqa: F401 - Prefect defaults before any prefect import

from tryon.errors import TryonError

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MANIFEST = REPO_ROOT / "data" / "sample" / "manifest.parquet"


def _run(args: argparse.Namespace) -> int:
    from tryon.catalogue.store import Catalogue
    from tryon.config import load_config
    from tryon.preflight import check_run

    config = load_config(args.config, engine=args.engine, models=args.models, data_root=args.data_root,
                         device=args.device, shard_size=args.shard_size, batch_size=args.batch_size,
                         executor=args.executor, workers=args.workers)
    frame = check_run(config, args.manifest)  # manifest, models, device: one message here, before Prefect starts
    _check_only(args.only, frame, args.manifest)
    Catalogue(args.catalogue).check_writable()  # a file, no permission, or busy: one line, before Prefect

    from flows.catalogue_run import catalogue_run
    from flows.prefect_server import prepare_prefect_api

    prepare_prefect_api()  # Ctrl-C stops the run, not Prefect's temporary server; a dead API URL: one line

    record = catalogue_run(manifest=str(args.manifest), catalogue=str(args.catalogue), config=config,
                           show_progress=not args.quiet, force=args.force, only_pair_ids=args.only)
    return 0 if record["status"] == "finished" else 1


def _check_only(only: list[str] | None, frame, manifest: Path) -> None:
    unknown = sorted(set(only or ()) - set(frame["pair_id"]))
    if unknown:
        raise TryonError(f"--only names pair_id(s) that are not in {manifest}: {', '.join(unknown[:10])}")


def _score(args: argparse.Namespace) -> int:
    from tryon.config import load_config

    config = load_config(args.config, data_root=args.data_root, shard_size=args.shard_size,
                         engine="external", external_name=args.engine_name)
    from flows.score import require_output_column, score_outputs

    require_output_column(str(args.manifest))  # one line here, before Prefect starts
    record = score_outputs(manifest=str(args.manifest), catalogue=str(args.catalogue), engine_name=args.engine_name,
                           config=config, show_progress=not args.quiet)
    return 0 if record["status"] == "finished" else 1


def _demo(args: argparse.Namespace) -> int:
    from flows.catalogue_run import catalogue_run
    from flows.prefect_server import prepare_prefect_api
    from tryon.catalogue.store import Catalogue
    from tryon.config import load_config

    config = load_config(None, engine="preview")
    print(f"tryon demo: {SAMPLE_MANIFEST.relative_to(REPO_ROOT)} with the preview engine (no downloads, CPU)",
          file=sys.stderr)
    Catalogue(args.catalogue).check_writable()
    prepare_prefect_api()
    catalogue_run(manifest=str(SAMPLE_MANIFEST), catalogue=str(args.catalogue), config=config)
    _maybe_report(args.catalogue)
    print(f"\nlook at the results:\n  tryon query --catalogue {args.catalogue} "
          "\"SELECT pair_id, status, error_type, output_image FROM latest\"", file=sys.stderr)
    print(f"  review them in a browser: tryon review --catalogue {args.catalogue}", file=sys.stderr)
    return 0


def _maybe_report(catalogue: Path) -> None:
    try:
        from tryon.report import write_report
    except ImportError:
        return
    target = Path(catalogue) / "report.html"
    write_report(Path(catalogue), target)
    print(f"  report: {target}", file=sys.stderr)


def _rerun_failed(args: argparse.Namespace) -> int:
    from tryon.catalogue.store import Catalogue
    from tryon.config import config_from_record
    from tryon.preflight import check_run

    if not Catalogue(args.catalogue).exists():
        raise TryonError(f"{args.catalogue} is not a tryon catalogue (no runs/ folder); run `tryon run` first")
    Catalogue(args.catalogue).check_writable()
    parent = Catalogue(args.catalogue).run_record(args.run)
    check_run(config_from_record(parent["config"]), parent["manifest"])
    from flows.prefect_server import prepare_prefect_api
    from flows.rerun_failed import rerun_failed

    prepare_prefect_api()
    record = rerun_failed(catalogue=str(args.catalogue), run_id=args.run, include_review=args.include_review,
                          include_rejected=args.include_rejected, show_progress=not args.quiet)
    return 0 if record["status"] == "finished" else 1


def _serve(args: argparse.Namespace) -> int:
    from tryon.config import load_config
    from tryon.preflight import check_run

    config = load_config(args.config, engine=args.engine, models=args.models, data_root=args.data_root)
    check_run(config, args.manifest)
    if Path(args.catalogue).exists() and not Path(args.catalogue).is_dir():
        raise TryonError(f"catalogue {args.catalogue} is a file, not a folder; pass a folder (it is created if missing)")
    from flows.prefect_server import prepare_prefect_api
    from flows.serve import serve, validate_schedule

    validate_schedule(args.cron, args.timezone)
    prepare_prefect_api()

    print(f"tryon serve: deployment catalogue-run/{args.name}, cron {args.cron!r} ({args.timezone}); "
          "Ctrl-C stops serving", file=sys.stderr)
    serve(args.manifest, args.catalogue, config, cron=args.cron, name=args.name, timezone=args.timezone)
    return 0


def _query(args: argparse.Namespace) -> int:
    from tryon.catalogue.views import query

    if not (Path(args.catalogue) / "runs").is_dir():
        raise TryonError(f"{args.catalogue} is not a tryon catalogue (no runs/ folder); run `tryon run` first")
    try:
        frame = query(args.catalogue, args.sql)
    except Exception as error:  # duckdb raises many error classes; all are user SQL errors here
        raise TryonError(f"query failed: {str(error).splitlines()[0]}") from None
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        sys.stdout.write(frame.to_json(orient="records", date_format="iso", lines=True))
    elif args.format == "parquet":
        if not args.out:
            raise TryonError("--format parquet needs --out FILE")
        frame.to_parquet(args.out, index=False)
        print(f"wrote {len(frame)} rows to {args.out}", file=sys.stderr)
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 200, "display.max_columns", 50, "display.width", 200):
            print(frame.to_string(index=False) if len(frame) else "(no rows)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tryon", description="Batch virtual try-on over a Parquet manifest.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the bundled sample with the preview engine (no downloads, CPU)")
    demo.add_argument("--catalogue", type=Path, default=Path("tryon-demo-catalogue"), help="output folder")
    demo.set_defaults(handler=_demo)

    run = commands.add_parser("run", help="process a manifest into a catalogue")
    run.add_argument("manifest", type=Path, help="Parquet manifest (pair_id, person_image, garment_image, category)")
    run.add_argument("--catalogue", type=Path, required=True, help="output folder (created if missing)")
    run.add_argument("--engine", choices=["preview", "sdxl"], help="try-on engine (default: preview)")
    run.add_argument("--models", help="model preset for the sdxl engine (see `tryon models list`)")
    run.add_argument("--config", type=Path, help="TOML config file (see README, Configuration)")
    run.add_argument("--data-root", type=Path, help="folder that absolute manifest paths must lie in")
    run.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where models run (default auto)")
    run.add_argument("--shard-size", type=int, help="pairs per Prefect task (default 256)")
    run.add_argument("--batch-size", type=int, help="pairs per engine call (default 4)")
    run.add_argument("--executor", choices=["local", "ray"],
                     help="where shards run: this process (default) or Ray actors (README, Scale-out)")
    run.add_argument("--workers", type=int, help="Ray workers, one per GPU (default 1; with --executor ray)")
    run.add_argument("--force", action="store_true",
                     help="redo the pairs even if the catalogue has them done (all pairs, or those of --only)")
    run.add_argument("--only", nargs="+", metavar="PAIR_ID", help="take only these pairs of the manifest")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    run.set_defaults(handler=_run)

    score = commands.add_parser("score", help="judge try-ons made elsewhere (manifest column output_image) "
                                "with the same masks, metrics and quality gate")
    score.add_argument("manifest", type=Path, help="the usual manifest plus an output_image column")
    score.add_argument("--catalogue", type=Path, required=True, help="output folder (created if missing)")
    score.add_argument("--engine-name", default="external",
                       help="recorded as the rows' engine, e.g. idm-vton (default: external)")
    score.add_argument("--config", type=Path, help="TOML config file (masking, limits, quality_gate)")
    score.add_argument("--data-root", type=Path, help="folder that absolute manifest paths must lie in")
    score.add_argument("--shard-size", type=int, help="pairs per Prefect task (default 256)")
    score.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    score.set_defaults(handler=_score)

    serve = commands.add_parser("serve", help="serve a Prefect deployment that runs a manifest on a cron schedule")
    serve.add_argument("manifest", type=Path)
    serve.add_argument("--catalogue", type=Path, required=True)
    serve.add_argument("--cron", required=True, help='e.g. "0 2 * * *" (every night at 02:00)')
    serve.add_argument("--timezone", default="UTC")
    serve.add_argument("--name", default="nightly", help="deployment name (default: nightly)")
    serve.add_argument("--engine", choices=["preview", "sdxl"])
    serve.add_argument("--models")
    serve.add_argument("--config", type=Path)
    serve.add_argument("--data-root", type=Path)
    serve.set_defaults(handler=_serve)

    rerun = commands.add_parser("rerun-failed", help="reprocess the pairs whose latest status is failed")
    rerun.add_argument("--catalogue", type=Path, required=True)
    rerun.add_argument("--run", help="only pairs that failed in this run (default: all failed now)")
    rerun.add_argument("--include-review", action="store_true",
                       help="also rerun pairs flagged needs_review by the quality gate, with a new seed")
    rerun.add_argument("--include-rejected", action="store_true",
                       help="also rerun pairs whose current image a reviewer rejected (`tryon review`), with a new seed")
    rerun.add_argument("-q", "--quiet", action="store_true")
    rerun.set_defaults(handler=_rerun_failed)

    query = commands.add_parser("query", help="SQL over the catalogue (DuckDB views: results, latest, runs)")
    query.add_argument("sql", help='e.g. "SELECT status, count(*) FROM latest GROUP BY status"')
    query.add_argument("--catalogue", type=Path, required=True)
    query.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table")
    query.add_argument("--out", type=Path, help="output file for --format parquet")
    query.set_defaults(handler=_query)

    try:
        from tryon.models.commands import register_cli
    except ImportError:
        pass
    else:
        register_cli(commands)
    try:
        from tryon.report import register_cli as register_report
    except ImportError:
        pass
    else:
        register_report(commands)
    try:
        from tryon.review import register_cli as register_review
    except ImportError:
        pass
    else:
        register_review(commands)
    return parser


def run_handled(command: Callable[[], int | None], verbose: bool) -> int:
    """Run one CLI command; the exit code it returns, or 2 with one `tryon: error:` line for a TryonError.

    The error may be raised here or inside a Prefect flow or task (Prefect re-raises it from the flow
    call). Unless `verbose`, Prefect's own failure logs with their tracebacks and known third-party
    start-up noise are kept off the terminal (flows/quiet.py), so a known error reads as that line.
    """
    from flows.quiet import NativeNoiseFilter, hide_prefect_failure_logs, quiet_third_party

    native_filter = None
    if not verbose:
        quiet_third_party()
        hide_prefect_failure_logs()
        native_filter = NativeNoiseFilter().start()
    try:
        return int(command() or 0)
    except TryonError as error:
        print(f"tryon: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tryon: interrupted; finished shards are saved, rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        if native_filter is not None:
            native_filter.stop()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.verbose:
        logging.getLogger("tryon").setLevel(logging.INFO)
    return run_handled(lambda: args.handler(args), verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
