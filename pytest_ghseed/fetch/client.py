"""The one road to GitHub: PyGithub's Requester, one per worker thread and token, under our policy.

Why PyGithub's ``Requester.requestJson`` and not its object API: list items are incomplete objects,
and touching ``raw_data`` or a missing attribute silently costs a GET per object. Reading the JSON
bodies ourselves makes every request visible and countable. PyGithub still does what it does well:
authentication headers, the base URL and Enterprise prefix, and the check that every URL it follows
stays on the base URL's host.

Why our own retry layer and not ``GithubRetry``: GitHub's limits are per user across threads, and
``GithubRetry`` sleeps inside one thread's urllib3 call, unaware of the others; it also misses a 429
without Retry-After and ends in ``RetryError``. So PyGithub is built with ``retry=None`` (no urllib3
retries: one layer, never two that fight) and ``seconds_between_requests=None``: its default 0.25 s
pause per client would throttle each thread blindly, while the TokenPool caps concurrency per user
and halves it on a secondary limit.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from github import Auth, Github

from pytest_ghseed.clock import SYSTEM_CLOCK, Clock
from pytest_ghseed.errors import FetchError, NotFound, UsageError
from pytest_ghseed.fetch import transport
from pytest_ghseed.fetch.ratelimit import (
    Action,
    Reason,
    RetryPolicy,
    decide,
    is_primary_rate_limit,
    parse_rate_headers,
)
from pytest_ghseed.fetch.tokens import Lease, TokenPool, TokenProbe
from pytest_ghseed.secrets import Token
from pytest_ghseed.settings import parse_base_url
from pytest_ghseed.traffic import Exchange, Recorder

_TIMEOUT = 30


@dataclass(frozen=True, slots=True)
class Response:
    """A successful (2xx or 304) answer."""

    status: int
    headers: dict[str, str]
    data: Any

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def next_url(self) -> str | None:
        """The ``rel="next"`` URL of GitHub's Link header, if any."""
        return parse_link_header(self.headers.get("link", "")).get("next")


@dataclass(frozen=True, slots=True)
class Page:
    """A whole list: its items, or ``not_modified`` when the stored ETag still matched (304)."""

    items: list[Any]
    etag: str | None
    not_modified: bool


def parse_link_header(value: str) -> dict[str, str]:
    """``<url>; rel="next", <url>; rel="last"`` -> ``{"next": url, "last": url}``."""
    links: dict[str, str] = {}
    for part in value.split(","):
        section = part.strip()
        if not section.startswith("<") or ">" not in section:
            continue
        url, _, params = section[1:].partition(">")
        for param in params.split(";"):
            key, _, rel = param.strip().partition("=")
            if key == "rel":
                links[rel.strip('"')] = url
    return links


def normalize_base_url(base_url: str) -> str:
    """Check and tidy a base URL; a malformed one is a usage error naming the value."""
    return parse_base_url(base_url, "base URL")


class GitHubClient:
    """Send GET requests with the pool's best token, recording and retrying as GitHub asks."""

    def __init__(
        self,
        base_url: str,
        pool: TokenPool,
        *,
        policy: RetryPolicy | None = None,
        recorder: Recorder | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.pool = pool
        self.policy = policy or RetryPolicy()
        self.recorder = recorder
        self._clock = clock
        self._local = threading.local()
        self._count_lock = threading.Lock()
        self.requests_made = 0

    # -- public ----------------------------------------------------------------------------------

    def get(self, url: str, params: Mapping[str, Any] | None = None, *, etag: str | None = None) -> Response:
        """GET ``url`` (a path under the base URL, or an absolute URL from a Link header).

        Returns 2xx and 304 answers; raises ``FetchError`` when GitHub's answer cannot be fixed by
        waiting (permission, not found, retries exhausted).
        """
        # Failures counted per kind, so that each kind's back-off grows on its own.
        attempts = {"primary": 0, "secondary": 0, "transient": 0}
        while True:
            lease = self.pool.acquire()
            headers: dict[str, str] | None = None
            ok = False
            try:
                if not self.pool.may_send(lease):
                    continue  # another thread was told to wait on this account since the lease was granted
                status, headers, body = self._send(lease, url, params, etag)
                data: Any = None
                if status is not None and (200 <= status < 300 or status == 304):
                    try:
                        data = json.loads(body) if body and status != 304 else None
                        ok = True
                    except ValueError:
                        # A 200 that is not JSON (a proxy's error page): as transient as a 5xx.
                        status, body = None, ""
            finally:
                # Whatever happened, the lease goes back: a leaked one would count as in flight forever.
                self.pool.release(lease, headers, ok=ok)
            if ok:
                assert status is not None
                return Response(status=status, headers=headers or {}, data=data)
            parsed_body = _parse_body(body)
            kind = _failure_kind(status, headers or {}, parsed_body)
            decision = decide(
                status,
                headers or {},
                parsed_body,
                now=self._clock.now(),
                attempt=attempts[kind],
                policy=self.policy,
            )
            attempts[kind] += 1
            if decision.action is Action.FATAL:
                error = NotFound if decision.reason is Reason.NOT_FOUND else FetchError
                raise error(self._fatal_message(decision.message, decision.reason, url, lease))
            if decision.scope == "user":
                self.pool.block(
                    lease.account,
                    decision.wait,
                    decision.message,
                    secondary=decision.reason is Reason.SECONDARY,
                )
            else:
                self.pool.pause(decision.wait)

    def get_all(self, url: str, params: Mapping[str, Any] | None = None, *, etag: str | None = None) -> Page:
        """Every page of a list endpoint joined; ``etag`` revalidates a list that had one page."""
        first = self.get(url, {**(params or {}), "per_page": 100}, etag=etag)
        if first.status == 304:
            return Page(items=[], etag=etag, not_modified=True)
        items: list[Any] = list(first.data or [])
        next_url = first.next_url
        # The first page's ETag says nothing of later pages, so only a one-page list keeps one.
        single_page_etag = first.etag if next_url is None else None
        while next_url:
            page = self.get(next_url)
            items.extend(page.data or [])
            next_url = page.next_url
        return Page(items=items, etag=single_page_etag, not_modified=False)

    # -- internals -------------------------------------------------------------------------------

    def _github(self, token: Token | None) -> Github:
        # PyGithub's connection object is not thread-safe: one Github per thread and token.
        clients: dict[Token | None, Github] | None = getattr(self._local, "clients", None)
        if clients is None:
            clients = {}
            self._local.clients = clients
        gh = clients.get(token)
        if gh is None:
            gh = make_github(self.base_url, token)
            clients[token] = gh
        return gh

    def _send(
        self, lease: Lease, url: str, params: Mapping[str, Any] | None, etag: str | None
    ) -> tuple[int | None, dict[str, str] | None, str]:
        gh = self._github(lease.account.token)
        request_headers = {"If-None-Match": etag} if etag else {}
        with self._count_lock:
            self.requests_made += 1
        try:
            status, headers, body = gh.requester.requestJson(
                "GET", url, dict(params) if params else None, request_headers
            )
        except (requests.RequestException, OSError, http.client.HTTPException):
            # Refused, reset, timed out, truncated: no answer to read, retried with back-off.
            return None, None, ""
        except AssertionError:
            # PyGithub asserts that every URL it follows stays on the base URL's host.
            msg = (
                f"GitHub sent a link away from {self.base_url} ({url}); check --base-url (GitHub Enterprise: "
                "https://HOST/api/v3)"
            )
            raise FetchError(msg) from None
        if self.recorder is not None:
            self.recorder(
                Exchange(
                    method="GET",
                    url=self._absolute(url, params),
                    request_headers=request_headers,
                    status=status,
                    response_headers=dict(headers),
                    body=body,
                )
            )
        return status, dict(headers), body

    def _absolute(self, url: str, params: Mapping[str, Any] | None) -> str:
        absolute = url if "://" in url else self.base_url + url
        if params:
            query = urllib.parse.urlencode(dict(params))
            absolute += ("&" if "?" in absolute else "?") + query
        return absolute

    def _fatal_message(self, detail: str, reason: Reason, url: str, lease: Lease) -> str:
        who = "anonymous" if lease.account.token is None else f"token #{lease.account.position}"
        path = urllib.parse.urlparse(url).path or url
        hint = {
            Reason.NOT_FOUND: "check the repository name, and that the token can read it (private repos need "
            "the repo scope)",
            Reason.PERMISSION: "give the token read access to pull requests and contents of this repository",
            Reason.BAD_CREDENTIALS: "the token was revoked or expired during the run; replace it and rerun "
            "(finished PRs are kept in the checkpoint)",
        }.get(reason, "rerun later: the checkpoint keeps finished PRs")
        return f"GET {path} failed ({who}, {lease.account.login}): {detail}; {hint}"


def make_github(base_url: str, token: Token | None) -> Github:
    """A PyGithub client configured for our own retry layer (see the module docstring)."""
    # The one place a token's value is revealed: PyGithub builds the Authorization header from it.
    auth = Auth.Token(token.reveal()) if token is not None else None
    gh = Github(
        auth=auth,
        base_url=base_url,
        timeout=_TIMEOUT,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        per_page=100,
    )
    # http.client under PyGithub instead of requests: a fifth of the CPU per request (see transport).
    transport.install(gh, base_url)
    return gh


def _failure_kind(status: int | None, headers: Mapping[str, str], body: object) -> str:
    if status is None or status >= 500:
        return "transient"
    if is_primary_rate_limit(status, headers, body):
        return "primary"
    return "secondary"


def _parse_body(body: str) -> object:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def probe_tokens(
    base_url: str,
    tokens: Sequence[Token],
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[TokenProbe]:
    """Check each token with ``/rate_limit`` (free) and name its owner with ``/user``.

    A bad token is a usage error naming its position and fingerprint, never the token. Without
    tokens, one unauthenticated probe (60 requests per hour).
    """
    base = normalize_base_url(base_url)
    retry = policy or RetryPolicy()
    if not tokens:
        limit, remaining, reset = _rate_limit(base, None, position=0)
        return [
            TokenProbe(
                position=0, token=None, login="anonymous", limit=limit, remaining=remaining, reset=reset
            )
        ]
    probes: list[TokenProbe] = []
    for position, token in enumerate(tokens, start=1):
        limit, remaining, reset = _rate_limit(base, token, position=position)
        status, _headers, body = _request_politely(base, token, "/user", position, retry, sleep)
        # App installation tokens cannot read /user: their fingerprint stands in for an owner.
        login = str(json.loads(body)["login"]) if status == 200 else f"token-{token.fingerprint}"
        probes.append(
            TokenProbe(
                position=position, token=token, login=login, limit=limit, remaining=remaining, reset=reset
            )
        )
    return probes


def _request(base: str, token: Token | None, path: str, position: int) -> tuple[int, dict[str, str], str]:
    gh = make_github(base, token)
    try:
        status, headers, body = gh.requester.requestJson("GET", path)
    except (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError) as exc:
        msg = (
            f"cannot reach the GitHub API at {base} ({type(exc).__name__}); check the base URL "
            "(--base-url / GITHUB_API_URL) and the network"
        )
        raise FetchError(msg) from None
    finally:
        gh.close()
    if status == 401:
        who = f"token #{position} ({token.fingerprint})" if token else "the unauthenticated request"
        msg = (
            f"GitHub answered 401 Bad credentials for {who} of {base}: the token is wrong, expired or "
            "revoked. Replace it in GITHUB_TOKENS / GITHUB_TOKEN"
        )
        raise UsageError(msg)
    return status, dict(headers), body if isinstance(body, str) else ""


def _request_politely(
    base: str,
    token: Token | None,
    path: str,
    position: int,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> tuple[int, dict[str, str], str]:
    """``_request`` that waits out a rate limit or a 5xx as the policy says (the pool is not built yet)."""
    attempts = {"primary": 0, "secondary": 0, "transient": 0}
    while True:
        status, headers, body = _request(base, token, path, position)
        if status < 400 or status == 404:
            return status, headers, body
        parsed = _parse_body(body)
        kind = _failure_kind(status, headers, parsed)
        decision = decide(status, headers, parsed, now=time.time(), attempt=attempts[kind], policy=policy)
        attempts[kind] += 1
        if decision.action is Action.FATAL:
            return status, headers, body
        sleep(decision.wait)


def _rate_limit(base: str, token: Token | None, *, position: int) -> tuple[int, int, float]:
    status, headers, body = _request(base, token, "/rate_limit", position)
    info = parse_rate_headers(headers)
    if status == 200 and body:
        core = json.loads(body).get("resources", {}).get("core", {})
        if core:
            return int(core["limit"]), int(core["remaining"]), float(core["reset"])
    if info is not None:
        return info.limit, info.remaining, info.reset
    if status == 404:
        # GitHub Enterprise Server with rate limiting disabled answers 404 here: effectively unlimited.
        return 1_000_000, 1_000_000, time.time() + 3600
    msg = f"GET {base}/rate_limit answered {status}; is {base} a GitHub API? Check --base-url"
    raise FetchError(msg)
