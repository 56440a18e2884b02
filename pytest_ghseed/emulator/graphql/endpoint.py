"""``POST /graphql`` (and ``/api/graphql``, GitHub Enterprise's path) over the emulator's HTTP server.

Per request, in GitHub's order: authentication (GraphQL has no anonymous access), latency, 5xx
faults, secondary limits (shared with REST: blocks and concurrency are the account's; GitHub's
2,000 points a minute are GraphQL's own, a query weighing 1), an exhausted budget, then the query
(:mod:`execute`, imported on first use so that importing the emulator never loads graphql-core).
Responses carry the ``X-RateLimit-*`` headers of the user's GraphQL budget, resource ``graphql``.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from pytest_ghseed.emulator.api import error_body
from pytest_ghseed.emulator.stats import LogRecord
from pytest_ghseed.emulator.synthetic import login_id

if TYPE_CHECKING:
    from pytest_ghseed.emulator.server import _Handler

GRAPHQL_PATHS = ("/graphql", "/api/graphql")
#: Canonical path in the stats (Enterprise's is counted as the same endpoint).
LOG_PATH = "/graphql"
DOCS = "https://docs.github.com/graphql"
AUTH_DOCS = "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql"

#: GitHub's secondary-limit weight of a GraphQL request: 1 point, 5 for a mutation.
_MUTATION = re.compile(r"^\s*mutation\b")


def serve_graphql(handler: _Handler) -> None:
    """Answer one GraphQL POST on ``handler``'s connection."""
    emu = handler.emu
    raw = handler.read_body()
    if raw is None:
        return
    request_id = emu._request_id()
    token = handler._token()
    # ``ghseed serve`` takes any token (config.any_token_user); GraphQL has no anonymous access.
    user = emu.tokens.get(token, emu.config.any_token_user) if token is not None else None
    now = time.time()
    log = LogRecord(now, token or "", "POST", LOG_PATH, 0)
    if user is None:
        message = "This endpoint requires you to be authenticated." if token is None else "Bad credentials"
        quota = emu.limiter.quota(f"ip:{handler.client_address[0]}", now)
        emu._stats.record(log._replace(status=401), resource=None)
        handler._send(401, error_body(401, message, AUTH_DOCS), quota, request_id)
        return
    emu._stats.enter(user)
    emu.limiter.enter(user)
    handler._in_flight = (user, user)
    try:
        _serve(handler, user, raw, request_id, log)
    finally:
        handler._leave()


def _decode(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw or b"null")
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def _serve(handler: _Handler, user: str, raw: bytes, request_id: str, log: LogRecord) -> None:
    emu = handler.emu
    config = emu.config
    if config.latency_seconds > 0:
        time.sleep(config.latency_seconds)
    now = time.time()

    fault = emu._fault()
    if fault is not None:
        message = "Server Error" if fault == 502 else "Service Unavailable"
        emu._stats.record(log._replace(status=fault), resource=None)
        quota = emu.limiter.graphql_quota(user, now)
        handler._send(fault, error_body(fault, message), quota, request_id, resource="graphql")
        return

    body = _decode(raw)
    query = body.get("query") if body is not None else None
    points = 5 if isinstance(query, str) and _MUTATION.match(query) else 1
    verdict = emu.limiter.admit_graphql(user, now, log.time, points)
    if verdict.kind == "secondary":
        status, text, hints = handler._refusal(verdict, user, user, request_id)
        emu._stats.record(
            log._replace(status=status),
            resource=None,
            secondary_hit=not verdict.violation,
            violation=verdict.violation,
        )
        handler._send(status, text, verdict.quota, request_id, hints, resource="graphql")
        emu.limiter.told(user, verdict, verdict.quota, time.time())
        return
    if verdict.kind == "primary":
        from pytest_ghseed.emulator.graphql.execute import rate_limited

        text = json.dumps(rate_limited(config.graphql_rate_limit_type, login_id(user)))
        emu._stats.record(log._replace(status=200), resource=None, violation=verdict.violation)
        handler._send(200, text, verdict.quota, request_id, resource="graphql")
        emu.limiter.told_graphql(user, verdict.quota, time.time())
        return
    if body is None:
        quota = emu.limiter.graphql_quota(user, now)
        emu._stats.record(log._replace(status=400), resource=None)
        handler._send(
            400, error_body(400, "Problems parsing JSON", DOCS), quota, request_id, resource="graphql"
        )
        return

    from pytest_ghseed.emulator.graphql.execute import Request, run

    request = Request(
        body=body,
        viewer=user,
        user_id=login_id(user),
        request_id=request_id,
        rate_limit_type=config.graphql_rate_limit_type,
        timeout_nodes=config.graphql_timeout_nodes,
    )
    answer = run(
        request, dict(emu.projects), lambda cost: emu.limiter.charge_graphql(user, time.time(), cost)
    )
    quota = answer.quota or emu.limiter.graphql_quota(user, time.time())
    emu._stats.record(
        log._replace(status=answer.status), resource=None, points=answer.charged, pulls=answer.pulls
    )
    handler._send(answer.status, json.dumps(answer.body), quota, request_id, resource="graphql")
    emu.limiter.told_graphql(user, quota, time.time())
