"""`tryon serve` against a real Prefect server started on loopback: the deployment registers with
its cron schedule, runs triggered through the API complete and write the catalogue, and the
second (unchanged) run skips every pair."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import tryon.catalogue as cat

from tests.conftest import REPO_ROOT, SAMPLE_DIR

pytestmark = [pytest.mark.flow, pytest.mark.slow]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, KeyError):
            result = None
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def prefect_server(tmp_path):
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_API_URL": api,
           "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_RUNNER_POLL_FREQUENCY": "2",
           "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"}
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 120, "the Prefect server")
        yield api, env
    finally:
        server.terminate()
        server.wait(30)


def test_served_deployment_runs_on_demand_and_incrementally(prefect_server, tmp_path):
    api, env = prefect_server
    catalogue = tmp_path / "catalogue"
    serving = subprocess.Popen(
        [str(BIN / "tryon"), "serve", str(SAMPLE_DIR / "manifest.parquet"), "--catalogue", str(catalogue),
         "--cron", "0 2 * * *", "--name", "test-nightly"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deployment = _wait(
            lambda: httpx.get(f"{api}/deployments/name/catalogue-run/test-nightly", timeout=5).raise_for_status().json(),
            120, "the deployment to register",
        )
        crons = [entry["schedule"].get("cron") for entry in deployment["schedules"]]
        assert crons == ["0 2 * * *"] and deployment["parameters"]["config"]["engine"] == "preview"

        def run_once() -> dict:
            flow_run = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run", json={},
                                  timeout=10).raise_for_status().json()
            return _wait(lambda: (lambda state: state if state["type"] in ("COMPLETED", "FAILED", "CRASHED") else None)(
                httpx.get(f"{api}/flow_runs/{flow_run['id']}", timeout=5).json()["state"]), 300, "the flow run")

        first = run_once()
        assert first["type"] == "COMPLETED", first.get("message")
        assert len(cat.load(catalogue)) == 5
        second = run_once()
        assert second["type"] == "COMPLETED", second.get("message")
        runs = cat.runs(catalogue)
        assert len(runs) == 2
        assert json.loads(runs.iloc[-1]["skipped_by_reason"]) == {"unchanged_succeeded": 4, "unchanged_failed": 1}
        assert runs.iloc[-1]["pairs_planned"] == 0
    finally:
        serving.terminate()
        try:
            serving.wait(30)
        except subprocess.TimeoutExpired:
            serving.kill()
