"""Errors raised by pytest-ghseed.

Every message says what went wrong, the value received, and the next step. Callers at the edge
(the CLI, the pytest plugin) turn a ``GhseedError`` into a clean message and an exit code, never a
traceback.
"""

from __future__ import annotations


class GhseedError(Exception):
    """Base class of every error pytest-ghseed raises on purpose."""

    #: Exit code the ``ghseed`` command uses for this error.
    exit_code: int = 1


class UsageError(GhseedError):
    """The user gave a value we cannot use (malformed project name, bad option, bad token)."""

    exit_code = 2


class FetchError(GhseedError):
    """Fetching from GitHub failed for a reason retries cannot fix."""

    #: The HTTP status GitHub answered, when the failure was an answer (None: no answer, or not HTTP).
    status: int | None = None


class NotFound(FetchError):
    """GitHub answered 404: the repository or the resource does not exist (or the token cannot see it)."""


class RateLimitWaitTooLong(FetchError):
    """Every token is parked and the earliest reset is further away than ``max_wait``."""


class CacheError(GhseedError):
    """The cache on disk is missing, corrupt, or from an incompatible version."""


class SecretLeakError(CacheError):
    """Something that looks like a secret was about to be written to disk."""


class CorruptFile(CacheError):
    """A cache file exists but cannot be used; ``path`` and ``why`` say which and why."""

    def __init__(self, path: object, why: str) -> None:
        self.path = path
        self.why = why
        super().__init__(f"{path} is corrupt: {why}")


class MissingFile(CacheError):
    """A cache file that should exist does not."""


class IncompatibleSchema(CacheError):
    """The snapshot was written with another schema version: rebuild it from the cassettes."""


class PseudonymError(GhseedError):
    """Pseudonymization cannot go on safely: no salt, another salt, or real and pseudonymized data would mix."""
