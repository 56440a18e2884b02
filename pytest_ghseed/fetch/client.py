"""The crawl's requests: each one sent with the pool's best token, retried and waited for as GitHub asks.

``GitHubClient.get`` is the one loop around a request: take a lease on a token (``TokenPool``), send
through this thread's ``Transport`` (PyGithub underneath), and on a failure ask the pure policy
(``ratelimit.decide``) whether to wait and how long. Every wait is capped by ``max_wait`` (a server
that asks for a billion seconds gets a clear message, not a silent hang) and shown as a progress
event; every message that echoes the server is masked with the pool's own token values.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_ghseed.clock import SYSTEM_CLOCK, Clock
from pytest_ghseed.errors import FetchError, NotFound, RateLimitWaitTooLong
from pytest_ghseed.fetch.ratelimit import Action, Decision, Reason, RetryPolicy, decide, failure_kind
from pytest_ghseed.fetch.tokens import Lease, Resource, TokenPool
from pytest_ghseed.fetch.transport import Transport
from pytest_ghseed.parsing import parse_base_url
from pytest_ghseed.secrets import Scrubber
from pytest_ghseed.traffic import Exchange, Recorder, read_json


@dataclass(frozen=True, slots=True)
class Response:
    """A successful (200 or 304) answer, its JSON body parsed."""

    status: int
    headers: dict[str, str]
    data: Any
    url: str = ""

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


class PaginationLoop(FetchError):
    """A list's ``rel="next"`` links go round in a circle, or bring nothing new page after page."""


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
        self.scrubber = Scrubber(account.token for account in pool.accounts)
        self._clock = clock
        self._local = threading.local()
        self._transports: list[Transport] = []
        self._count_lock = threading.Lock()
        self.requests_made = 0

    # -- public ----------------------------------------------------------------------------------

    def get(self, url: str, params: Mapping[str, Any] | None = None, *, etag: str | None = None) -> Response:
        """GET ``url`` (a path under the base URL, or an absolute URL from a Link header).

        Returns 200 and 304 answers; raises ``FetchError`` when GitHub's answer cannot be fixed by
        waiting (permission, not found, retries exhausted, a wait longer than ``max_wait``).
        """
        # Failures counted per kind, so that each kind's back-off grows on its own.
        attempts = {"primary": 0, "secondary": 0, "transient": 0, "other": 0}
        request_headers = {"If-None-Match": etag} if etag else {}
        while True:
            lease = self.pool.acquire()
            status: int | None = None
            headers: dict[str, str] | None = None
            body = ""
            ok = False
            try:
                if not self.pool.may_send(lease):
                    continue  # another thread was told to wait on this account since the lease was granted
                with self._count_lock:
                    self.requests_made += 1
                answer = self._transport().send(lease.account.token, url, params, request_headers)
                exchanges = answer.exchanges
                status, headers, body = answer.status, answer.headers, answer.body
                data: Any = None
                unreadable: str | None = None
                if status in (200, 304):
                    try:
                        data = read_json(body) if body and status == 200 else None
                        ok = True
                    except (ValueError, RecursionError) as exc:
                        # A 200 that is not JSON (a proxy's error page), or JSON nested absurdly deep:
                        # as transient as a 5xx.
                        what = "nested too deeply" if isinstance(exc, RecursionError) else "not JSON"
                        unreadable = f"an answer that is {what} (HTTP 200, {len(body)} bytes)"
                        status, body = None, ""
            finally:
                # Whatever happened, the lease goes back: a leaked one would count as in flight forever.
                self.pool.release(lease, headers if status is not None else None, ok=ok)
            if ok:
                assert status is not None
                self.record(exchanges)
                return Response(status=status, headers=headers or {}, data=data, url=url)
            decision = self._decide(status, headers or {}, body, attempts, unreadable=unreadable)
            if decision.action is Action.FATAL:
                self.record(exchanges)  # GitHub's last word on it (a 404 for a deleted PR)
            self._act(decision, status, lease, f"GET {_path(url)}")

    def get_all(self, url: str, params: Mapping[str, Any] | None = None, *, etag: str | None = None) -> Page:
        """Every page of a list endpoint joined; ``etag`` revalidates a list that had one page."""
        first = self.get(url, {**(params or {}), "per_page": 100}, etag=etag)
        if first.status == 304:
            return Page(items=[], etag=etag, not_modified=True)
        items: list[Any] = list(list_of(first, "a list"))
        # The first page's ETag says nothing of later pages, so only a one-page list keeps one.
        single_page_etag = first.etag if first.next_url is None else None
        for page in self.following(first):
            items.extend(list_of(page, "a list"))
        return Page(items=items, etag=single_page_etag, not_modified=False)

    def following(self, first: Response) -> Any:
        """The pages after ``first``, by its ``rel="next"`` links; a link seen before is a loop."""
        seen = {_key(first.url)}
        page = first
        while page.next_url:
            key = _key(page.next_url)
            if key in seen:
                msg = (
                    f"the server's pagination goes round in a circle at {_path(page.next_url)} (a page links "
                    f"back to one already read); is {self.base_url} a GitHub API? Check --base-url"
                )
                raise PaginationLoop(msg)
            seen.add(key)
            page = self.get(page.next_url)
            yield page

    def record(self, exchanges: Sequence[Exchange]) -> None:
        """Hand an answer's exchanges to the recorder: only answers the crawl used, or gave up on."""
        if self.recorder is not None:
            for exchange in exchanges:
                self.recorder(exchange)

    def close(self) -> None:
        """Close every thread's connections."""
        for transport in self._transports:
            transport.close()

    # -- internals -------------------------------------------------------------------------------

    def _decide(
        self,
        status: int | None,
        headers: Mapping[str, str],
        body: str,
        attempts: dict[str, int],
        *,
        unreadable: str | None = None,
    ) -> Decision:
        """The policy's decision on a failed answer, counting it against its kind's attempts."""
        kind = failure_kind(status, headers, body)
        decision = decide(
            status,
            headers,
            body,
            now=self._clock.now(),
            attempt=attempts[kind],
            policy=self.policy,
            unreadable=unreadable,
        )
        attempts[kind] += 1
        return decision

    def _act(
        self, decision: Decision, status: int | None, lease: Lease, what: str, resource: Resource = "core"
    ) -> None:
        """Carry out ``decision``: raise when fatal or too long to wait, else wait as it says (shown)."""
        message = self.scrubber.redact(decision.message)
        if decision.action is Action.FATAL:
            error = NotFound if decision.reason is Reason.NOT_FOUND else FetchError
            failure = error(self._fatal_message(message, decision.reason, what, lease))
            failure.status = status
            raise failure
        if decision.wait > self.pool.max_wait:
            msg = (
                f"{what}: {message}; that is longer than max_wait={self.pool.max_wait:.0f}s, so "
                "the fetch stops here. Raise --max-wait or rerun later: the checkpoint keeps finished PRs"
            )
            raise RateLimitWaitTooLong(msg)
        if decision.scope == "user":
            self.pool.block(
                lease.account,
                decision.wait,
                message,
                secondary=decision.reason is Reason.SECONDARY,
                resource=resource,
            )
        else:
            self.pool.pause(decision.wait, message)

    def _transport(self) -> Transport:
        # PyGithub's connection object is not thread-safe: one Transport (clients per token) per thread.
        transport: Transport | None = getattr(self._local, "transport", None)
        if transport is None:
            transport = Transport(self.base_url)
            self._local.transport = transport
            with self._count_lock:
                self._transports.append(transport)
        return transport

    def _fatal_message(self, detail: str, reason: Reason, what: str, lease: Lease) -> str:
        who = "anonymous" if lease.account.token is None else f"token #{lease.account.position}"
        hint = {
            Reason.NOT_FOUND: "check the repository name, and that the token can read it (private repos need "
            "the repo scope)",
            Reason.PERMISSION: "give the token read access to pull requests and contents of this repository",
            Reason.BAD_CREDENTIALS: "the token was revoked or expired during the run; replace it and rerun "
            "(finished PRs are kept in the checkpoint)",
        }.get(reason, "rerun later: the checkpoint keeps finished PRs")
        return f"{what} failed ({who}, {lease.account.login}): {detail}; {hint}"


def list_of(response: Response, what: str) -> list[dict[str, Any]]:
    """The body as a list of JSON objects, or a ``FetchError`` saying what came instead."""
    data = response.data
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise MalformedAnswer(response, what, _shape(data))
    return data


def object_of(response: Response, what: str) -> dict[str, Any]:
    """The body as a JSON object, or a ``FetchError`` saying what came instead."""
    if not isinstance(response.data, dict):
        raise MalformedAnswer(response, what, _shape(response.data))
    return response.data


class MalformedAnswer(FetchError):
    """A 200 whose body is not what GitHub sends for this resource."""

    def __init__(self, response: Response, what: str, detail: str) -> None:
        super().__init__(
            f"the answer to GET {_path(response.url)} is not {what} ({detail}); GitHub's API never answers "
            "like this: is the base URL a GitHub API (or a proxy in front of one)? Check --base-url"
        )


def _shape(data: object) -> str:
    if isinstance(data, list):
        odd = next((item for item in data if not isinstance(item, dict)), None)
        return f"a list holding {type(odd).__name__}" if odd is not None else "a list"
    return f"got {type(data).__name__}"


def _key(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + "?" + "&".join(sorted(parts.query.split("&")))


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path or url
