"""What the `tryon` command hides unless run with -v: Prefect's failure tracebacks and third-party start-up noise.

A known error (`TryonError`) is printed by the CLI as one `tryon: error: ...` line; without this
module the same error would also reach the terminal as Prefect's task and flow failure logs, each
with a full traceback. Everything here only changes what the terminal shows: a Prefect server the
run reports to still receives the complete logs.
"""

from __future__ import annotations

import logging
import os
import re
import select
import sys
import threading
import warnings

# Prefect's loggers for flow-run and task-run messages; on failure they log the exception with its
# traceback at ERROR ("Encountered exception during execution", "Finished in state Failed").
PREFECT_RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")

# Lines MediaPipe's C++ graphs (absl logging, TFLite) write straight to file descriptor 2, from their
# own threads, when a graph first runs. They bypass Python's logging and warnings entirely.
NATIVE_NOISE = re.compile(
    rb"^(?:[IW]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\] "
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)"
)
_NOISE_PREFIXES = (b"I", b"W", b"INFO: Created", b"WARNING: All log messages")

# Libraries that read their verbosity from the environment when first imported.
QUIET_ENVIRONMENT = {
    "TRANSFORMERS_VERBOSITY": "error",  # "Token indices sequence length is longer than ..."
    "DIFFUSERS_VERBOSITY": "error",  # "No LoRA keys associated to ...", "modules ... kept in float32"
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # "Loading weights: 100%|..." per model (transformers uses it too)
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "GLOG_minloglevel": "2",
}

# Python warnings raised by third-party imports and loads that a user can do nothing about.
QUIET_WARNINGS = (
    (FutureWarning, r".*(torch\.jit\.script|timm\.models\.|timm\.layers).*"),
    (UserWarning, r"Overwriting tiny_vit_.* in registry"),
    (UserWarning, r"The `local_dir_use_symlinks` argument is deprecated"),
)


class PrefectRunFailureFilter(logging.Filter):
    """Drops Prefect's ERROR records about failed flow and task runs on their way to the console.

    It sits on the run loggers themselves (Prefect re-creates its handlers whenever it configures
    logging, but keeps logger filters), and first hands each dropped record to the logger's own
    handlers that are not console streams, i.e. Prefect's API handler, so the server keeps them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR or not record.name.startswith(PREFECT_RUN_LOGGERS):
            return True
        for handler in logging.getLogger(record.name).handlers:
            if not isinstance(handler, logging.StreamHandler):
                handler.handle(record)
        return False


def hide_prefect_failure_logs() -> None:
    """Install `PrefectRunFailureFilter` once on Prefect's flow-run and task-run loggers."""
    for name in PREFECT_RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, PrefectRunFailureFilter) for existing in logger.filters):
            logger.addFilter(PrefectRunFailureFilter())


def quiet_third_party() -> None:
    """Set the libraries' own verbosity switches (before they are imported) and ignore their import warnings."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    for category, message in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)


class NativeNoiseFilter:
    """Routes file descriptor 2 through a pipe; a thread passes everything on except `NATIVE_NOISE` lines.

    A filter around single calls misses these lines: MediaPipe's graph threads write some of them
    after the call that started the graph has returned. Partial lines (progress bars redrawn with
    "\\r") are passed on at once unless they could still become a noise line.
    """

    def __init__(self) -> None:
        self._terminal_fd: int | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> "NativeNoiseFilter":
        try:
            sys.stderr.flush()
            self._terminal_fd = os.dup(2)
        except (OSError, ValueError):  # no usable fd 2: nothing to filter
            return self
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._thread = threading.Thread(target=self._forward, args=(read_fd,), name="tryon-stderr", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._terminal_fd is None:
            return
        try:
            sys.stderr.flush()
        except ValueError:
            pass
        os.dup2(self._terminal_fd, 2)  # fd 2 is the terminal again; what we wrote before is in the pipe
        self._stopping.set()
        if self._thread is not None:
            # A child that inherited the pipe (Prefect's server) keeps it open, so the thread stops on
            # the flag once the pipe has nothing more to read, rather than on end of file.
            self._thread.join(timeout=2)
            if self._thread.is_alive():
                return  # the thread still writes to the terminal copy; the process exit closes it
        os.close(self._terminal_fd)
        self._terminal_fd = None

    def _forward(self, read_fd: int) -> None:
        pending = b""
        try:
            while True:
                readable, _, _ = select.select([read_fd], [], [], 0.1)
                if not readable:
                    if self._stopping.is_set():
                        break
                    continue
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    break
                pending = self._pass_on(pending + chunk)
            if pending and not NATIVE_NOISE.match(pending):
                self._write(pending)
        finally:
            os.close(read_fd)

    def _pass_on(self, data: bytes) -> bytes:
        """Write the complete lines of `data` that are not noise; return what must wait for more bytes."""
        lines = data.split(b"\n")
        tail = lines.pop()
        out = b"".join(line + b"\n" for line in lines if not NATIVE_NOISE.match(line))
        if tail and not tail.startswith(_NOISE_PREFIXES):
            out, tail = out + tail, b""
        if out:
            self._write(out)
        return tail

    def _write(self, data: bytes) -> None:
        try:
            os.write(self._terminal_fd, data)
        except (OSError, TypeError):
            pass
