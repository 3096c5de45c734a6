"""Prefect's API, made ready before a flow starts: the temporary server shielded from Ctrl-C,
or the configured PREFECT_API_URL checked to answer.

With no PREFECT_API_URL, Prefect starts a uvicorn subprocess in tryon's own process group. A
Ctrl-C in the terminal goes to the whole foreground group, so the server died with tryon, and
the flow then spent over a minute retrying the dead API before failing with a ConnectError.
Started here first, in its own session, the server outlives the interrupt long enough for
Prefect to record the crash; Prefect reuses it (it keeps one instance per port) and stops it
at exit.
"""

from __future__ import annotations

import logging
import subprocess
import types

import flows  # noqa: F401 - Prefect defaults before any prefect import
from tryon.errors import TryonError

INTERRUPT_MESSAGE = "aborted by an interrupt signal"  # Prefect's message for a KeyboardInterrupt crash


def uses_temporary_server() -> bool:
    """True when no Prefect API is configured, so Prefect would start its temporary server."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    return not PREFECT_API_URL.value() and bool(PREFECT_SERVER_EPHEMERAL_ENABLED.value())


def prepare_prefect_api() -> None:
    """Before any flow: start the shielded temporary server, or check the configured API answers
    (an unreachable one otherwise fails only after Prefect's retries, as a traceback)."""
    if uses_temporary_server():
        start_shielded_server()
    else:
        check_api_reachable()
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addFilter(_drop_interrupt_reports)


def _drop_interrupt_reports(record: logging.LogRecord) -> bool:
    """After Ctrl-C, Prefect logs 'Crash detected! … interrupt signal' per task and flow; the
    CLI's own line says it once. The flow run's Crashed state is still recorded in Prefect."""
    return INTERRUPT_MESSAGE not in record.getMessage()


def check_api_reachable(timeout_s: float = 10.0) -> None:
    import httpx
    from prefect.settings import PREFECT_API_URL

    url = str(PREFECT_API_URL.value()).rstrip("/")
    try:
        # Any HTTP answer will do (Prefect Cloud may answer 401/404 here); only no answer is refused.
        httpx.get(f"{url}/health", timeout=timeout_s)
    except (httpx.TransportError, httpx.InvalidURL, ValueError) as error:
        raise TryonError(f"the Prefect API at {url} (PREFECT_API_URL) does not answer ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else 'no response'}); start that server, "
                         "or unset PREFECT_API_URL to use a temporary local one") from None


def start_shielded_server() -> None:
    """Start Prefect's temporary server in a new session (no-op with a configured API)."""
    if not uses_temporary_server():
        return
    import prefect.server.api.server as server_module

    class _ShieldedServer(server_module.SubprocessASGIServer):
        def _run_uvicorn_command(self) -> subprocess.Popen:
            # Prefect builds the uvicorn command; only the session changes. The module's
            # `subprocess` name is swapped just for this call (main thread, before any flow).
            def popen_in_new_session(*args, **kwargs):
                return subprocess.Popen(*args, start_new_session=True, **kwargs)

            original = server_module.subprocess
            server_module.subprocess = types.SimpleNamespace(**{**vars(subprocess), "Popen": popen_in_new_session})
            try:
                return super()._run_uvicorn_command()
            finally:
                server_module.subprocess = original

    # SubprocessASGIServer() (no port) returns the instance registered for port None: this one.
    # At least a minute to start: Prefect's default gives up too early on a busy machine.
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    _ShieldedServer().start(timeout=max(60, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
