"""Time, as the fetcher sees it: the current moment, and waiting on a condition until a timeout.

Every wait of a crawl (a rate-limit reset, a back-off, a busy pool) goes through a ``Clock``, so
tests drive hour-long waits with a ``ManualClock`` in microseconds instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """The current time, and a wait on a condition (whose lock the caller holds)."""

    def now(self) -> float:
        """Epoch seconds, comparable with GitHub's ``x-ratelimit-reset``."""
        ...

    def wait(self, condition: threading.Condition, timeout: float) -> None:
        """Wait until ``condition`` is notified or ``timeout`` seconds pass."""
        ...


class SystemClock:
    """The real clock: ``time.time()`` and ``Condition.wait``."""

    def now(self) -> float:
        return time.time()

    def wait(self, condition: threading.Condition, timeout: float) -> None:
        condition.wait(timeout=max(timeout, 0.0))


SYSTEM_CLOCK = SystemClock()


class ManualClock:
    """A clock that moves only when told to, or when someone waits on it (for tests).

    ``wait`` advances the time by the whole timeout at once and returns, as if the wait had run its
    course with nobody notifying: a one-hour reset is waited for in no time, and the test can read
    how long the code under test would have waited (``waited``).
    """

    def __init__(self, now: float = 1_000_000.0) -> None:
        self._now = now
        self.waited = 0.0

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def wait(self, condition: threading.Condition, timeout: float) -> None:
        step = max(timeout, 0.0)
        self._now += step
        self.waited += step
