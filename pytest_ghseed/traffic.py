"""One HTTP exchange with GitHub: what the fetcher hands to a recorder (the cassettes).

A neutral module, so that ``fetch`` (which produces exchanges) and ``cache`` (which records them)
need not import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request and its answer, before any scrubbing."""

    method: str
    url: str  # absolute, with query
    request_headers: dict[str, str]
    status: int
    response_headers: dict[str, str]
    body: str
    #: What a POST sent (a GraphQL query and its variables, as JSON text); None for a GET.
    request_body: str | None = None

    @property
    def is_graphql(self) -> bool:
        """Whether this is a GraphQL query (a POST: the crawl posts nothing else)."""
        return self.method == "POST"


Recorder = Callable[[Exchange], None]


class TrafficSink(Protocol):
    """A recorder that also learns when a unit of work is finished, so it can persist it or drop it."""

    def __call__(self, exchange: Exchange) -> None: ...

    def flush_listing(self) -> None:
        """Make every listing exchange so far durable (before a PR that may rely on it counts as done)."""

    def discard_listing(self) -> None:
        """Drop listing exchanges not yet written: the crawl changed nothing."""

    def flush_pr(self, number: int) -> None:
        """Make PR ``number``'s exchanges durable: its data changed."""

    def discard_pr(self, number: int) -> None:
        """Drop PR ``number``'s exchanges: its recorded traffic already gives the same data."""

    def discard_graphql(self) -> None:
        """Drop GraphQL exchanges not yet written: the crawl changed nothing."""

    def flush_graphql(self) -> None:
        """Make every GraphQL exchange so far durable (before the PRs it completed count as done)."""
