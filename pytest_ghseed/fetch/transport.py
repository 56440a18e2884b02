"""One request through PyGithub's Requester, with limits on the two things PyGithub would do forever.

PyGithub's Requester follows a 301 by calling itself again, with no limit (a redirect loop ends in a
``RecursionError`` after thousands of requests) and without the query string; and it answers a 202
by sleeping 2 s and asking again, with no limit either. So each Requester here is given connection
classes (``connection``: lean ``http.client`` ones, or PyGithub's own behind a proxy) that hand a 202
or a redirect back to us before PyGithub sees it; ``Transport.send`` (GET) and ``Transport.post_graphql`` (a GraphQL query, POSTed to PyGithub's
``graphql_url``: ``/graphql``, or ``/api/graphql`` for GitHub Enterprise) then follow a redirect only
on the base URL's own scheme, host and port, at most ``MAX_REDIRECTS`` times and never to a URL
already visited (a POST is sent again, body and all, as a 307 asks), and return a 202 as an answer
for the retry policy. An ``Authorization`` header therefore never leaves the base URL's host.

Why PyGithub's ``Requester.requestJson`` and not its object API: list items are incomplete objects,
and touching ``raw_data`` or a missing attribute silently costs a GET per object. Reading the JSON
bodies ourselves makes every request visible and countable. PyGithub still does the authentication
headers, the base URL and Enterprise prefix.

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
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from github import Auth, Github

from pytest_ghseed.errors import FetchError
from pytest_ghseed.fetch.connection import Intercepted, install
from pytest_ghseed.secrets import Token
from pytest_ghseed.traffic import Exchange

#: Seconds to wait for a connection or for the next bytes of an answer.
TIMEOUT = 30
#: Redirects followed for one request (GitHub redirects a renamed repository once).
MAX_REDIRECTS = 3


def make_github(base_url: str, token: Token | None) -> Github:
    """A PyGithub client configured for our own retry layer and our limits (see the module docstring)."""
    # The one place a token's value is revealed: PyGithub builds the Authorization header from it.
    auth = Auth.Token(token.reveal()) if token is not None else None
    gh = Github(
        auth=auth,
        base_url=base_url,
        timeout=TIMEOUT,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        per_page=100,
    )
    install(gh, base_url)
    return gh


@dataclass(frozen=True, slots=True)
class Answer:
    """What one request came back with; ``status`` None when no answer came (refused, reset, timeout)."""

    status: int | None
    headers: dict[str, str]
    body: str
    #: The exchanges that led to it (redirect hops, then the answer itself), for the recording. The
    #: client records them once it uses the answer: an answer retried away (a 5xx, a rate limit, a body
    #: it cannot read) is not GitHub's data and would only stand in a replay's way.
    exchanges: tuple[Exchange, ...] = ()


class Transport:
    """One thread's road to the API: a PyGithub client per token, same-origin redirects, and the
    exchanges of each answer (``Answer.exchanges``) for the caller to record."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        origin = urllib.parse.urlsplit(base_url)
        self._origin = (origin.scheme, origin.hostname, origin.port)
        self._clients: dict[Token | None, Github] = {}

    def send(
        self, token: Token | None, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str]
    ) -> Answer:
        """GET ``url`` (a path under the base URL, or an absolute URL on its origin) and return the answer."""
        return self._request("GET", token, url, params, headers, None)

    def post_graphql(
        self, token: Token | None, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Answer:
        """POST ``body`` (``{"query": ..., "variables": ...}``) to the GraphQL endpoint; the answer."""
        return self._request("POST", token, None, None, headers, body)

    def _request(
        self,
        verb: str,
        token: Token | None,
        url: str | None,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        payload: Mapping[str, Any] | None,
    ) -> Answer:
        gh = self._clients.get(token)
        if gh is None:
            gh = self._clients[token] = make_github(self.base_url, token)
        if url is None:
            url = str(gh.requester.graphql_url)
        target = self._absolute(url, params)
        self._check_origin(target, "a link")
        visited = {target}
        query = dict(params) if params else None
        # PyGithub sends ``json.dumps(input)``: the same text is recorded, so a replay can match on it.
        sent = json.dumps(payload) if payload is not None else None
        request_headers = dict(headers)
        if sent is not None:
            request_headers.setdefault("Content-Type", "application/json")
        hops: list[Exchange] = []

        def exchange(status: int, answer_headers: dict[str, str], text: str) -> Exchange:
            return Exchange(
                method=verb,
                url=target,
                request_headers=dict(request_headers),
                status=status,
                response_headers=answer_headers,
                body=text,
                request_body=sent,
            )

        for _hop in range(MAX_REDIRECTS + 1):
            try:
                status, answer_headers, body = gh.requester.requestJson(
                    verb, url, query, dict(headers), None if payload is None else dict(payload)
                )
            except Intercepted as held:
                hops.append(exchange(held.status, held.headers, held.body))
                if held.status == 202:
                    return Answer(202, held.headers, held.body, tuple(hops))
                location = urllib.parse.urljoin(target, held.headers["location"])
                self._check_origin(location, f"a redirect (HTTP {held.status})")
                if location in visited:
                    msg = f"the server redirects {_path(target)} in a loop (back to {_path(location)})"
                    raise FetchError(f"{msg}; is {self.base_url} a GitHub API? Check --base-url") from None
                visited.add(location)
                url, target, query = location, location, None
                continue
            except (requests.RequestException, OSError, http.client.HTTPException):
                # Refused, reset, timed out, truncated: no answer to read, retried with back-off.
                return Answer(None, {}, "")
            except AssertionError:
                # PyGithub asserts that a URL stays under the base URL's path prefix.
                msg = f"the server sent a link outside {self.base_url} ({_path(target)}); check --base-url"
                raise FetchError(msg) from None
            text = body if isinstance(body, str) else ""
            lowered = {str(k).lower(): str(v) for k, v in answer_headers.items()}
            hops.append(exchange(status, lowered, text))
            return Answer(status, lowered, text, tuple(hops))
        msg = (
            f"the server redirected {_path(target)} more than {MAX_REDIRECTS} times; is {self.base_url} a "
            "GitHub API? Check --base-url"
        )
        raise FetchError(msg)

    def close(self) -> None:
        for gh in self._clients.values():
            gh.close()
        self._clients.clear()

    def _absolute(self, url: str, params: Mapping[str, Any] | None) -> str:
        absolute = url if "://" in url else self.base_url + url
        if params:
            query = urllib.parse.urlencode(dict(params))
            absolute += ("&" if "?" in absolute else "?") + query
        return absolute

    def _check_origin(self, url: str, what: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if (parts.scheme, parts.hostname, parts.port) != self._origin:
            where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            msg = (
                f"the server sent {what} to another host ({where}), away from {self.base_url}; nothing was "
                "sent there. Check --base-url (GitHub Enterprise: https://HOST/api/v3)"
            )
            raise FetchError(msg)


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path or url
