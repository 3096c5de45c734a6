"""Prefect flows and the `tryon` command line: the edge where the library meets Prefect."""

import os

# No connection beyond loopback: Prefect's telemetry and server analytics stay off, and
# Prefect's own logging is quiet unless the user asks for more.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
# Prefect's temporary local server gets 20 s to start by default, which a busy CI machine can miss.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
