"""One HTTP exchange with GitHub: what the fetcher hands to a recorder (the cassettes).

A neutral module, so that ``fetch`` (which produces exchanges) and ``cache`` (which records them)
need not import each other. ``read_json`` reads an answer's body, the same way for the crawl and for a
rebuild from its cassettes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


def read_json(text: str) -> Any:
    """The JSON value of an answer's body: GitHub's answer during a crawl, or its recording.

    ``json.loads``, but a lone surrogate (half of an emoji's ``\\ud83d\\ude00`` escape, cut off) becomes
    U+FFFD: no UTF-8 file can hold it, and the crawl crashed writing its checkpoint. The cassette keeps
    the escape as it came. ``ValueError`` (or ``RecursionError``, nested absurdly deep) when it is not JSON.
    """
    value = json.loads(text)
    # Only an escape makes a surrogate (a text decoded from UTF-8 holds none): a scan of the text is
    # far cheaper than a walk of every answer's value.
    return _mended(value) if _escapes_surrogate(text) else value


#: ``\\uD800`` to ``\\uDFFF``, after an even number of backslashes (``\\\\ud83d`` is text, not an escape).
_SURROGATE_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escapes_surrogate(text: str) -> bool:
    # The substring tests are fast and nearly always false; the regex confirms the rare rest.
    return ("\\ud" in text or "\\uD" in text) and _SURROGATE_ESCAPE.search(text) is not None


def _mended(value: Any) -> Any:
    """``value`` with each surrogate replaced by U+FFFD (``json.loads`` has joined the paired ones);
    one frame a level (no comprehensions), so it goes as deep as ``json.loads`` did."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        items = []
        for item in value:
            items.append(_mended(item))
        return items
    if isinstance(value, dict):
        mended = {}
        for key, item in value.items():
            mended[_SURROGATE.sub("\ufffd", key)] = _mended(item)
        return mended
    return value


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
        """Write PR ``number``'s exchanges (its data changed); durable once ``sync`` returns."""

    def sync(self) -> None:
        """Make every PR's exchanges written so far durable (before the checkpoint counts those PRs)."""

    def discard_pr(self, number: int) -> None:
        """Drop PR ``number``'s exchanges: its recorded traffic already gives the same data."""

    def discard_graphql(self) -> None:
        """Drop GraphQL exchanges not yet written: the crawl changed nothing."""

    def flush_graphql(self) -> None:
        """Make every GraphQL exchange so far durable (before the PRs it completed count as done)."""
