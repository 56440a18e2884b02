"""Progress events of a fetch, rendered by the CLI (a bar or plain lines) and the pytest plugin.

Kept free of third-party imports so that renderers can import it without loading PyGithub.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
