"""Review before publishing: a local web app to browse, compare and approve try-ons.

Decisions go to `reviews/` in the catalogue (DuckDB views `reviews`, `review_by_output`,
`latest_review`); `tryon rerun-failed --include-rejected` redoes the rejected pairs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register_cli"]


def register_cli(commands) -> None:
    review = commands.add_parser("review", help="local web app to browse, compare and approve/reject try-ons")
    review.add_argument("--catalogue", type=Path, required=True)
    review.add_argument("--run", help="show this run's rows (default: the newest row per pair)")
    review.add_argument("--port", type=int, default=8765)
    review.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1, this machine only)")
    review.add_argument("--no-auth", action="store_true", help="no token for writes (loopback addresses only)")
    review.add_argument("--reviewer", help="name stored with each decision (default: your login name)")
    review.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from tryon.review.server import serve_forever

    serve_forever(args.catalogue, run=args.run, host=args.host, port=args.port, no_auth=args.no_auth,
                  reviewer=args.reviewer)
    return 0
