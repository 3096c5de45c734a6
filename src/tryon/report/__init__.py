"""A self-contained static HTML report of a catalogue run (no server, no network)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tryon.report.page import build_report, write_report

__all__ = ["build_report", "register_cli", "write_report"]


def register_cli(commands) -> None:
    report = commands.add_parser("report", help="write a static HTML report of a run (thumbnails, metrics, worst first)")
    report.add_argument("--catalogue", type=Path, required=True)
    report.add_argument("--run", help="run id (default: the newest pairs of every run, i.e. the latest view)")
    report.add_argument("--out", type=Path, default=Path("report.html"))
    report.add_argument("--max-pairs", type=int, default=500, help="pairs shown in the grid, worst first")
    report.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    import sys

    path = write_report(args.catalogue, args.out, run_id=args.run, max_pairs=args.max_pairs)
    print(f"wrote {path}", file=sys.stderr)
    return 0
