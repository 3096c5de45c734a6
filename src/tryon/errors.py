"""Errors a user can cause, split into run-stopping and per-pair kinds."""

from __future__ import annotations


class TryonError(Exception):
    """Base for errors that carry a user-facing message."""


class ManifestError(TryonError):
    """The manifest as a whole cannot be used: the run stops before any work."""


class ConfigError(TryonError):
    """The run configuration is invalid."""


class ModelUnavailableError(TryonError):
    """Weights a preset needs are not in the local cache (or do not match the lock)."""


class RunStoppingError(TryonError):
    """Raised inside a stage when no pair can succeed until the user changes something (e.g. the host
    ran out of memory): stage isolation lets it through, so the run stops with its advice instead of
    writing the same failure on every pair."""


class PairError(TryonError):
    """One pair cannot be processed; it becomes a `failed` catalogue row and the run goes on.

    `error_type` is a short machine-readable slug (queried by analysts), the message says
    which row and file, and what to do.
    """

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type
        self.message = message

    def __reduce__(self):  # keep picklable across process pools
        return (type(self), (self.error_type, self.message))
