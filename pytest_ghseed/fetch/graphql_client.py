"""GraphQL queries sent with the pool's best token for GitHub's GraphQL budget, retried as GitHub asks.

``GraphQLClient.query`` is the GraphQL twin of ``GitHubClient.get`` (whose waiting and giving up it
shares): a lease on the ``graphql`` budget of an account, a POST through this thread's
``Transport`` (recorded once used, like every answer), and on a failure the pure policy's decision. GraphQL
fails its own ways: a spent budget is an HTTP 200 whose ``errors`` say ``RATE_LIMITED`` (or
``RATE_LIMIT``), which parks that account's GraphQL budget until its reset (its REST budget goes
on); a query that ran too long is a 502, which a caller that can ask less at once hears about at
once (:class:`QueryTimeout`) instead of waiting. Partial errors beside data are the caller's: the
answer carries both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_ghseed.errors import FetchError
from pytest_ghseed.fetch.client import GitHubClient
from pytest_ghseed.fetch.ratelimit import Action, Reason, graphql_rate_limited
from pytest_ghseed.traffic import read_json


class QueryTimeout(FetchError):
    """GitHub gave up on the query (502, "This may be the result of a timeout"): ask less at once."""


@dataclass(frozen=True, slots=True)
class GraphQLAnswer:
    """A GraphQL answer with data: the data, the errors beside it, and what GitHub said it cost."""

    data: Mapping[str, Any]
    errors: tuple[Mapping[str, Any], ...]
    cost: int


#: What the fetch calls GraphQL's endpoint in messages (the path differs for GitHub Enterprise).
ENDPOINT = "POST /graphql"


class GraphQLClient(GitHubClient):
    """``GitHubClient`` (REST, GET) that also sends GraphQL queries on the accounts' GraphQL budgets."""

    queries_made = 0

    def query(
        self, document: str, variables: Mapping[str, Any], *, may_shrink: bool = False
    ) -> GraphQLAnswer:
        """Send one query; return its data, or raise ``FetchError`` (``NotFound`` when there is no
        GraphQL API: a 404) for what waiting cannot fix, ``QueryTimeout`` when ``may_shrink``."""
        attempts = {"primary": 0, "secondary": 0, "transient": 0, "other": 0}
        payload = {"query": document, "variables": dict(variables)}
        while True:
            lease = self.pool.acquire("graphql")
            status: int | None = None
            headers: dict[str, str] | None = None
            body = ""
            answer: GraphQLAnswer | None = None
            try:
                if not self.pool.may_send(lease):
                    continue  # another thread was told to wait on this account since the lease was granted
                with self._count_lock:
                    self.queries_made += 1
                sent = self._transport().post_graphql(lease.account.token, payload, {})
                exchanges = sent.exchanges
                status, headers, body = sent.status, sent.headers, sent.body
                if status == 200:
                    parsed = _parse(body)
                    if not isinstance(parsed, dict):
                        # A 200 that is not JSON (a proxy's page) is as transient as a 5xx, as for REST.
                        status, body = None, ""
                    elif not graphql_rate_limited(parsed):
                        answer = _read(parsed)
            finally:
                # Whatever happened, the lease goes back: a leaked one would count as in flight forever.
                self.pool.release(lease, headers if status is not None else None, ok=answer is not None)
            if answer is not None:
                self.record(exchanges)
                return answer
            # A spent budget (200), a query GitHub refused (200 with errors only), limits, faults.
            decision = self._decide(status, headers or {}, body, attempts)
            if decision.action is Action.FATAL:
                self.record(exchanges)
            if may_shrink and decision.reason is Reason.TIMEOUT:
                raise QueryTimeout(f"{ENDPOINT}: {self.scrubber.redact(decision.message)}")
            self._act(decision, status, lease, ENDPOINT, "graphql")


def _parse(body: str) -> Any:
    try:
        return read_json(body)
    except (ValueError, RecursionError):
        return None


def _read(parsed: dict[str, Any]) -> GraphQLAnswer | None:
    """The answer of a 200 that carries data; None when it carries none (errors only)."""
    if not isinstance(parsed.get("data"), dict):
        return None
    data: dict[str, Any] = parsed["data"]
    raw_errors = parsed.get("errors")
    errors = tuple(e for e in raw_errors if isinstance(e, dict)) if isinstance(raw_errors, list) else ()
    rate = data.get("rateLimit")
    cost = rate.get("cost") if isinstance(rate, dict) else None
    return GraphQLAnswer(data=data, errors=errors, cost=cost if isinstance(cost, int) else 0)
