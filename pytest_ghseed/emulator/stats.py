"""Traffic statistics the tests read: what was asked, how it was answered, and misbehaviour."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

#: Not resources a fetch collects, so fetching them again is no duplicate.
_NOT_RESOURCES = ("/rate_limit", "/user")


class LogRecord(NamedTuple):
    """One answered request."""

    time: float
    token: str
    method: str
    path: str
    status: int
    #: Refused because the client had already been told to wait (see ``Stats.violations``).
    violation: bool = False


@dataclass(frozen=True)
class Stats:
    """A snapshot of the emulator's traffic since start or the last ``reset_stats()``."""

    requests_by_token: dict[str, int] = field(default_factory=dict)
    total_requests: int = 0
    responses_by_status: dict[int, int] = field(default_factory=dict)
    not_modified: int = 0
    forbidden: int = 0
    too_many: int = 0
    secondary_hits: int = 0
    violations: int = 0
    max_concurrency: int = 0
    max_concurrency_by_user: dict[str, int] = field(default_factory=dict)
    fetch_counts: dict[str, int] = field(default_factory=dict)
    log: tuple[LogRecord, ...] = ()
    #: GraphQL points charged to all users' GraphQL budgets.
    graphql_points: int = 0
    #: Pull requests read by number through GraphQL (``pullRequest(number:)`` in an answer that
    #: carried data), ``owner/name#number`` -> times: what a GraphQL crawl fetched, and fetched again.
    graphql_pull_reads: dict[str, int] = field(default_factory=dict)

    @property
    def duplicate_fetches(self) -> int:
        """Successful fetches of a resource beyond its first."""
        return sum(count - 1 for count in self.fetch_counts.values() if count > 1)

    def requests_by_path(self, prefix: str) -> int:
        """Requests (any status) whose canonical path starts with ``prefix``."""
        return sum(1 for record in self.log if record.path.startswith(prefix))


class StatsCollector:
    """Thread-safe collection behind :class:`Stats`; ``log`` keeps the most recent records only."""

    def __init__(self, log_size: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._log_size = log_size
        self._in_flight: Counter[str] = Counter()
        self.reset()

    def reset(self) -> None:
        """Forget everything collected so far (requests in flight stay counted as in flight)."""
        with self._lock:
            self._by_token: Counter[str] = Counter()
            self._by_status: Counter[int] = Counter()
            self._fetches: Counter[str] = Counter()
            self._secondary_hits = 0
            self._violations = 0
            self._graphql_points = 0
            self._graphql_pulls: Counter[str] = Counter()
            self._max_all = 0
            self._max_by_user: dict[str, int] = {}
            self._log: deque[LogRecord] = deque(maxlen=self._log_size)

    def enter(self, user: str) -> None:
        """A request of ``user`` ("" when unauthenticated) is in flight."""
        with self._lock:
            self._in_flight[user] += 1
            self._max_all = max(self._max_all, sum(self._in_flight.values()))
            self._max_by_user[user] = max(self._max_by_user.get(user, 0), self._in_flight[user])

    def leave(self, user: str) -> None:
        """A request of ``user`` has been answered."""
        with self._lock:
            self._in_flight[user] -= 1

    def record(
        self,
        record: LogRecord,
        *,
        resource: str | None,
        secondary_hit: bool = False,
        violation: bool = False,
        points: int = 0,
        pulls: Mapping[str, int] | None = None,
    ) -> None:
        """Count one answered request; ``resource`` is its canonical path+query when it was a GET;
        ``points`` what a GraphQL query was charged, ``pulls`` the pull requests it read by number."""
        with self._lock:
            self._graphql_points += points
            self._graphql_pulls.update(pulls or {})
            self._by_token[record.token] += 1
            self._by_status[record.status] += 1
            self._secondary_hits += secondary_hit
            self._violations += violation
            if violation:
                record = record._replace(violation=True)
            if record.status == 200 and resource is not None and resource not in _NOT_RESOURCES:
                self._fetches[resource] += 1
            self._log.append(record)

    def snapshot(self) -> Stats:
        """A consistent copy of the counters."""
        with self._lock:
            return Stats(
                requests_by_token=dict(self._by_token),
                total_requests=sum(self._by_status.values()),
                responses_by_status=dict(self._by_status),
                not_modified=self._by_status[304],
                forbidden=self._by_status[403],
                too_many=self._by_status[429],
                secondary_hits=self._secondary_hits,
                violations=self._violations,
                max_concurrency=self._max_all,
                max_concurrency_by_user=dict(self._max_by_user),
                fetch_counts=dict(self._fetches),
                log=tuple(self._log),
                graphql_points=self._graphql_points,
                graphql_pull_reads=dict(self._graphql_pulls),
            )
