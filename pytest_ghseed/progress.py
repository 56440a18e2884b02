"""Progress events of a fetch, and the one renderer that shows them (``ghseed`` and the pytest plugin).

Kept free of third-party imports so that renderers can import it without loading PyGithub.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TextIO

EventKind = Literal["plan", "pr_done", "wait", "note", "done"]


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One thing worth telling the user while a fetch runs.

    ``quota`` maps each token owner (a GitHub login, never a token) to the remaining primary quota
    last seen in a response. ``wait`` and ``reason`` are set on ``kind="wait"``: how long and why
    every request of ``user`` pauses.
    """

    kind: EventKind
    repo: str
    prs_done: int = 0
    prs_total: int = 0
    requests: int = 0
    quota: dict[str, int] = field(default_factory=dict)
    wait: float | None = None
    reason: str | None = None
    user: str | None = None
    message: str = ""

    def describe(self) -> str:
        """One human line, the same for every renderer."""
        if self.kind == "note":
            return f"{self.repo}: {self.message}"
        quota = ", ".join(f"{login} {left}" for login, left in sorted(self.quota.items()))
        head = f"{self.repo}: {self.prs_done}/{self.prs_total} PRs, {self.requests} requests"
        if quota:
            head += f", quota left: {quota}"
        if self.kind == "wait" and self.wait is not None:
            who = f" ({self.user})" if self.user else ""
            return f"{head} -- waiting {self.wait:.1f}s{who}: {self.reason}"
        if self.message:
            return f"{head} -- {self.message}"
        return head


class ProgressOutput(Protocol):
    """Where progress goes: whole lines, and (on a terminal) one status line rewritten in place."""

    def line(self, text: str) -> None: ...

    def status(self, text: str) -> None:
        """Show ``text`` in place of the previous status line."""
        ...

    def end_status(self) -> None:
        """Leave the status line as it is and go on below it."""
        ...

    @property
    def live(self) -> bool:
        """Whether ``status`` rewrites in place (a terminal); otherwise only ``line`` is used."""
        ...


class StreamOutput:
    """Progress on a text stream (the ``ghseed`` command's stderr): a bar on a terminal, lines otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self._status_shown = False

    def line(self, text: str) -> None:
        self.end_status()
        self.stream.write(text + "\n")
        self.stream.flush()

    def status(self, text: str) -> None:
        self.stream.write(f"\r{text[:_STATUS_WIDTH]}\x1b[K")
        self.stream.flush()
        self._status_shown = True

    def end_status(self) -> None:
        if self._status_shown:
            self.stream.write("\n")
            self.stream.flush()
            self._status_shown = False


_STATUS_WIDTH = 200
_BAR_WIDTH = 30


class ProgressRenderer:
    """The one renderer of fetch progress, for the ``ghseed`` command and the pytest plugin alike.

    Waits and notes are always whole lines (they say why nothing moves). Progress itself is a bar
    rewritten in place on a terminal (at most every ``interval`` seconds), or, elsewhere (a CI log, a
    pipe), a line at the plan, at every tenth of the work and at the end.
    """

    def __init__(
        self,
        output: ProgressOutput,
        *,
        prefix: str = "",
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.output = output
        self.prefix = prefix
        self.interval = interval
        self._clock = clock
        self._last_status = float("-inf")
        self._last_decile = -1
        self._last_line = ""  # the final event repeats the last tenth's line: shown once
        self._last_progress: ProgressEvent | None = None
        self._lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            if event.kind in ("wait", "note") and not event.prs_total and self._last_progress is not None:
                # The pool's waits know nothing of the crawl's progress: say where it stands, not "0/0".
                last = self._last_progress
                event = dataclasses.replace(
                    event, prs_done=last.prs_done, prs_total=last.prs_total, requests=last.requests
                )
            elif event.kind in ("plan", "pr_done", "done"):
                self._last_progress = event
            text = self.prefix + event.describe()
            if event.kind in ("wait", "note"):
                self.output.line(text)
                return
            if self.output.live:
                now = self._clock()
                if event.kind == "pr_done" and now - self._last_status < self.interval:
                    return
                self._last_status = now
                total = event.prs_total
                filled = _BAR_WIDTH * event.prs_done // total if total else _BAR_WIDTH
                self.output.status(f"[{'#' * filled}{'-' * (_BAR_WIDTH - filled)}] {text}")
                if event.kind == "done":
                    self.output.end_status()
                return
            decile = 10 * event.prs_done // event.prs_total if event.prs_total else 10
            if (event.kind in ("plan", "done") or decile > self._last_decile) and text != self._last_line:
                self._last_decile = decile
                self._last_line = text
                self.output.line(text)
