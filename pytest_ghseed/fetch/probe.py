"""Before the crawl: which tokens work, whose they are, and how much quota each has.

Each token is checked with ``/rate_limit`` (free) and named by its owner with ``/user`` (tokens of
one owner share one budget). A token GitHub refuses (401), or for which it reports no usable quota,
is dropped with a note naming it by position and fingerprint, never by value; the crawl goes on with
the others and stops only when none is usable. Every answer is checked before it is believed: a
server that sends HTML, a limit of 0, or a reset in the past gets a clear message, not a loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from pytest_ghseed.defaults import DEFAULT_MAX_WAIT
from pytest_ghseed.errors import FetchError, RateLimitWaitTooLong, UsageError
from pytest_ghseed.fetch.ratelimit import Action, RetryPolicy, decide, failure_kind, parse_rate_headers
from pytest_ghseed.fetch.tokens import TokenProbe
from pytest_ghseed.fetch.transport import Answer, Transport
from pytest_ghseed.secrets import Token, redact
from pytest_ghseed.traffic import read_json

#: What GitHub Enterprise Server answers to /rate_limit with rate limiting switched off: no limit.
_UNLIMITED = 1_000_000
#: A reset further than this is not a real rate-limit window (GitHub's is an hour).
_MAX_WINDOW = 24 * 3600


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The usable tokens, and what the user should be told about the others."""

    probes: list[TokenProbe]
    notes: list[str] = field(default_factory=list)


class _Dropped(Exception):
    """This token cannot be used; the message says why (masked)."""


def probe_tokens(
    base_url: str,
    tokens: Sequence[Token],
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_wait: float = DEFAULT_MAX_WAIT,
    now: Callable[[], float] = time.time,
) -> ProbeResult:
    """Probe every token; raise ``UsageError`` when none is usable, ``FetchError`` when the API is unreachable."""
    prober = _Prober(base_url, policy or RetryPolicy(), sleep, max_wait, now, list(tokens))
    try:
        if not tokens:
            probe = prober.probe(None, position=0)
            notes = [
                "no GitHub token found (GITHUB_TOKENS and GITHUB_TOKEN are unset or blank): fetching "
                f"unauthenticated, {probe.limit} requests per hour for this machine's address. Set "
                "GITHUB_TOKENS=tok1,tok2 for 5,000 requests per hour per token owner"
            ]
            return ProbeResult([probe], notes)
        probes: list[TokenProbe] = []
        notes = []
        for position, token in enumerate(tokens, start=1):
            try:
                probes.append(prober.probe(token, position))
            except _Dropped as exc:
                notes.append(f"token #{position} ({token.fingerprint}) {exc}; it is not used")
        if not probes:
            msg = (
                f"no usable token among the {len(tokens)} given: " + "; ".join(notes) + ". Replace them in "
                "GITHUB_TOKENS / GITHUB_TOKEN"
            )
            raise UsageError(msg)
        if notes:
            notes.append(f"going on with {len(probes)} of {len(tokens)} tokens")
        return ProbeResult(probes, notes)
    finally:
        prober.close()


class _Prober:
    def __init__(
        self,
        base_url: str,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        max_wait: float,
        now: Callable[[], float],
        tokens: list[Token],
    ) -> None:
        self.base_url = base_url
        self.policy = policy
        self.sleep = sleep
        self.max_wait = max_wait
        self.now = now
        self.tokens = tokens
        self.transport = Transport(base_url)

    def close(self) -> None:
        self.transport.close()

    def probe(self, token: Token | None, position: int) -> TokenProbe:
        (limit, remaining, reset), graphql = self._rate_limit(token)
        login = "anonymous"
        if token is not None:
            login = self._owner(token)
        return TokenProbe(
            position=position,
            token=token,
            login=login,
            limit=limit,
            remaining=remaining,
            reset=reset,
            graphql=graphql,
        )

    # -- the two requests ----------------------------------------------------------------------------

    def _rate_limit(
        self, token: Token | None
    ) -> tuple[tuple[int, int, float], tuple[int, int, float] | None]:
        """The REST (core) figures, and the GraphQL ones when the body has them (None: not reported)."""
        answer = self._get(token, "/rate_limit")
        if answer.status == 404:
            # GitHub Enterprise Server with rate limiting disabled answers 404 here: effectively unlimited.
            unlimited = (_UNLIMITED, _UNLIMITED, self.now() + 3600)
            return unlimited, unlimited
        if answer.status != 200:
            msg = f"GET {self.base_url}/rate_limit answered HTTP {answer.status}; is it a GitHub API? Check --base-url"
            raise FetchError(msg)
        figures = _figures(answer.body, "core")
        if figures is None:
            info = parse_rate_headers(answer.headers)
            if info is None:
                msg = (
                    f"GET {self.base_url}/rate_limit answered without rate-limit figures (neither a JSON body "
                    "nor x-ratelimit headers); is it a GitHub API? Check --base-url"
                )
                raise FetchError(msg)
            figures = (info.limit, info.remaining, info.reset)
        limit, remaining, reset = figures
        now = self.now()
        if limit < 1:
            raise _Dropped(f"has a rate limit of {limit} requests (GitHub reported no usable quota)")
        if not math.isfinite(reset) or reset > now + _MAX_WINDOW:
            # Not a window GitHub would report: believe the quota, assume a fresh hour.
            reset = now + 3600
        graphql = _figures(answer.body, "graphql")
        if graphql is not None:
            g_limit, g_remaining, g_reset = graphql
            sane = g_limit >= 1 and math.isfinite(g_reset) and g_reset <= now + _MAX_WINDOW
            graphql = (g_limit, max(0, min(g_remaining, g_limit)), g_reset) if sane else None
        return (limit, max(0, min(remaining, limit)), reset), graphql

    def _owner(self, token: Token) -> str:
        answer = self._get(token, "/user")
        if answer.status == 200:
            try:
                data = read_json(answer.body)
            except (ValueError, RecursionError):
                data = None
            if isinstance(data, dict) and isinstance(data.get("login"), str) and data["login"].strip():
                return str(data["login"])
        # App installation tokens cannot read /user (403/404); any other odd answer is treated alike:
        # the token's fingerprint stands in for an owner (two such tokens are never merged).
        return f"token-{token.fingerprint}"

    def _get(self, token: Token | None, path: str) -> Answer:
        """GET ``path``, waiting out a rate limit or a 5xx as the policy says (the pool is not built yet)."""
        attempts = {"primary": 0, "secondary": 0, "transient": 0}
        while True:
            answer = self.transport.send(token, path, None, {})
            if answer.status is None:
                msg = (
                    f"cannot reach the GitHub API at {self.base_url}; check the base URL "
                    "(--base-url / GITHUB_API_URL) and the network"
                )
                raise FetchError(msg)
            if answer.status == 401:
                if token is None:
                    msg = f"{self.base_url} refuses unauthenticated requests (401); set GITHUB_TOKENS"
                    raise UsageError(msg)
                raise _Dropped("was refused by GitHub (401 Bad credentials: wrong, expired or revoked)")
            if answer.status in (200, 304, 404) or (400 <= answer.status < 500 and not _rate_limited(answer)):
                return answer
            kind = failure_kind(answer.status, answer.headers, answer.body)
            decision = decide(
                answer.status,
                answer.headers,
                answer.body,
                now=self.now(),
                attempt=attempts[kind],
                policy=self.policy,
            )
            attempts[kind] += 1
            if decision.action is Action.FATAL:
                msg = f"GET {self.base_url}{path}: {redact(decision.message, self.tokens)}"
                raise FetchError(msg)
            if decision.wait > self.max_wait:
                msg = (
                    f"GET {path}: {redact(decision.message, self.tokens)}, longer than max_wait="
                    f"{self.max_wait:.0f}s; raise --max-wait or rerun later"
                )
                raise RateLimitWaitTooLong(msg)
            self.sleep(decision.wait)


def _rate_limited(answer: Answer) -> bool:
    assert answer.status is not None
    return answer.status == 429 or (
        answer.status == 403 and failure_kind(answer.status, answer.headers, answer.body) != "other"
    )


def _figures(body: str, resource: str) -> tuple[int, int, float] | None:
    """``(limit, remaining, reset)`` of ``resource`` in a /rate_limit body, or None if unreadable."""
    try:
        data: Any = read_json(body) if body else None
    except (ValueError, RecursionError):
        return None
    resources = data.get("resources") if isinstance(data, dict) else None
    core = resources.get(resource) if isinstance(resources, dict) else None
    if not isinstance(core, dict):
        return None
    limit, remaining, reset = core.get("limit"), core.get("remaining"), core.get("reset")
    if not (_finite(limit) and _finite(remaining) and _finite(reset)):
        return None
    return int(limit), int(remaining), float(reset)


def _finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
