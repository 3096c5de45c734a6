"""Start the review app with uvicorn: pick the token, check the bind address, print the URL."""

from __future__ import annotations

import getpass
import ipaddress
import secrets
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from tryon.errors import TryonError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ReviewServer:
    """One running app: `url` (with the token when auth is on) and a way to stop it (tests, benchmarks)."""

    url: str
    token: str | None
    server: object
    thread: threading.Thread | None = None

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)


def _build(catalogue: Path, *, run: str | None, host: str, port: int, no_auth: bool, reviewer: str | None):
    import uvicorn

    from tryon.review.app import create_app

    if no_auth and not is_loopback(host):
        raise TryonError(f"--no-auth is only allowed on a loopback address (127.0.0.1), not {host}; drop --no-auth "
                         "and give reviewers the printed URL with its token")
    token = None if no_auth else secrets.token_urlsafe(24)
    extra_hosts = () if host in ("127.0.0.1", "localhost") else (host, socket.gethostname())
    app = create_app(catalogue, run=run, token=token, reviewer=reviewer or getpass.getuser(), extra_hosts=extra_hosts)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    return uvicorn.Server(config), token


def _url(host: str, port: int, token: str | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve_forever(catalogue: Path, *, run: str | None = None, host: str = "127.0.0.1", port: int = 8765,
                  no_auth: bool = False, reviewer: str | None = None) -> None:
    """Run until Ctrl-C (the `tryon review` command)."""
    server, token = _build(catalogue, run=run, host=host, port=port, no_auth=no_auth, reviewer=reviewer)
    print(f"tryon review: {Path(catalogue).resolve()}\n  open {_url(host, port, token)}\n"
          + ("  (writes need the token in this URL; keep it to yourself)\n" if token else "  (--no-auth: loopback only)\n")
          + "  Ctrl-C stops the app", file=sys.stderr, flush=True)
    server.run()


def start_in_thread(catalogue: Path, *, run: str | None = None, host: str = "127.0.0.1", port: int = 0,
                    no_auth: bool = False, reviewer: str | None = None) -> ReviewServer:
    """Start the app on a free port in a background thread; returns once it accepts connections."""
    server, token = _build(catalogue, run=run, host=host, port=port, no_auth=no_auth, reviewer=reviewer)
    server.install_signal_handlers = lambda: None  # uvicorn < 0.29 compatibility; harmless otherwise
    thread = threading.Thread(target=server.run, name="tryon-review", daemon=True)
    thread.start()
    import time

    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise TryonError("the review app did not start")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return ReviewServer(_url(host, bound, token), token, server, thread)
