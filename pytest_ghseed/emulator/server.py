"""The HTTP side: a threaded stdlib server that answers like api.github.com, and its lifecycle.

Per request, in GitHub's order: authentication, injected latency, 5xx faults, then rate limits,
then the resource (with conditional requests answered 304 for free). Every response carries the
``X-RateLimit-*`` headers of the caller's account.
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from pytest_ghseed.emulator.api import JSON_TYPE, ApiResult, error_body, link_header, resolve
from pytest_ghseed.emulator.config import EmulatorConfig, SecondaryVariant
from pytest_ghseed.emulator.data import API, Project
from pytest_ghseed.emulator.graphql.endpoint import GRAPHQL_PATHS, serve_graphql
from pytest_ghseed.emulator.limits import Quota, RateLimiter, Verdict
from pytest_ghseed.emulator.protocol import (
    VERSIONS_DOCS,
    api_version_error,
    etag_for,
    media_type,
    none_match,
)
from pytest_ghseed.emulator.stats import LogRecord, Stats, StatsCollector
from pytest_ghseed.emulator.synthetic import SyntheticProject, login_id, pool_user
from pytest_ghseed.emulator.views import profile_json

if TYPE_CHECKING:
    from pytest_ghseed.models import PullRequest

ENTERPRISE_PREFIX = "/api/v3"
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)
ABUSE_MESSAGE = (
    "You have triggered an abuse detection mechanism. Please wait a few minutes before you try again."
)


class Emulator:
    """A running GitHub REST API emulator; also a context manager that stops it on exit."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self.tokens: dict[str, str] = dict(config.tokens)
        self.projects: dict[str, Project] = {}
        for item in config.projects:
            self.add_project(item if isinstance(item, Project) else SyntheticProject(item))
        self.limiter = RateLimiter(config)
        self._stats = StatsCollector()
        self._faults = random.Random(config.fault_seed)
        self._request_ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns self."""
        server = _QuietServer((self.config.host, self.config.port), _Handler)
        server.daemon_threads = True
        server.emulator = self  # type: ignore[attr-defined]
        self._server = server
        # A short poll interval: stop() waits for the serving loop to notice, and tests stop often.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="ghseed-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None, "the emulator is not running"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The GitHub.com-layout base URL (API at ``/``)."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def enterprise_url(self) -> str:
        """The GitHub Enterprise-layout base URL (API at ``/api/v3``)."""
        return f"{self.base_url}{ENTERPRISE_PREFIX}"

    # -- control ------------------------------------------------------------------------------------

    def add_project(self, project: Project) -> None:
        """Serve one more project (synthetic, or recorded data via ``Project.from_raw``)."""
        with self._lock:
            self.projects[project.full_name.lower()] = project

    def project(self, full_name: str) -> Project:
        """The project served as ``owner/name`` (its live data: mutations show at once)."""
        return self.projects[full_name.lower()]

    def truth(self, full_name: str) -> list[PullRequest]:
        """What a perfect fetch of ``owner/name`` must produce, ordered by pull request number."""
        return self.project(full_name).truth()

    def add_token(self, token: str, user: str) -> None:
        """Accept ``token`` as ``user`` from now on."""
        with self._lock:
            self.tokens[token] = user

    def revoke_token(self, token: str) -> None:
        """Answer 401 Bad credentials to ``token`` from now on."""
        with self._lock:
            self.tokens.pop(token, None)

    def inject_secondary(
        self,
        count: int = 1,
        user: str = "",
        variant: SecondaryVariant | None = None,
        abuse_message: bool = False,
    ) -> None:
        """Refuse the next ``count`` requests of ``user`` ("" = unauthenticated from 127.0.0.1) with a
        secondary limit, which then blocks the user for ``secondary_block_seconds``."""
        identity = user or "ip:127.0.0.1"
        self.limiter.inject(identity, count, variant or self.config.secondary_variant, abuse_message)

    def set_faults(self, fault_5xx_rate: float | None = None, latency_seconds: float | None = None) -> None:
        """Change the fault rate and the latency while running."""
        with self._lock:
            config = self.config
            self.config = replace(
                config,
                fault_5xx_rate=config.fault_5xx_rate if fault_5xx_rate is None else fault_5xx_rate,
                latency_seconds=config.latency_seconds if latency_seconds is None else latency_seconds,
            )
            self.limiter.config = self.config

    @property
    def stats(self) -> Stats:
        """A snapshot of the traffic so far."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        """Start counting afresh."""
        self._stats.reset()

    # -- used by the handler ------------------------------------------------------------------------

    def _fault(self) -> int | None:
        with self._lock:
            if self.config.fault_5xx_rate <= 0:
                return None
            roll, kind = self._faults.random(), self._faults.random()
        if roll >= self.config.fault_5xx_rate:
            return None
        return 502 if kind < 0.5 else 503

    def _request_id(self) -> str:
        n = next(self._request_ids)
        return f"{n & 0xFFFF:04X}:{(n * 40503) & 0xFFFF:04X}:{n * 7919:X}:{n * 104729:X}:{int(time.time()):X}"


#: The largest request body read (a GraphQL query is a few kilobytes).
MAX_BODY_BYTES = 1024 * 1024
#: Hosts the GitHub CLI talks plain HTTP to in development mode (``GH_HOST=github.localhost``).
_DEVELOPMENT_HOSTS = ("api.github.localhost", "github.localhost")


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (a killed fetch, Ctrl-C) is normal here, not an error to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)


__all__ = ["Emulator", "etag_for", "start"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus delayed ACKs would
    # add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        """GitHub's ``Server`` header."""
        return "GitHub.com"

    @property
    def emu(self) -> Emulator:
        return self.server.emulator  # type: ignore[attr-defined, no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the emulator's stats are the log."""

    # -- plumbing -----------------------------------------------------------------------------------

    #: (identity, user) of the request being answered, until it stops counting as in flight.
    _in_flight: tuple[str, str] | None = None

    def _leave(self) -> None:
        """End this request's in-flight count, once."""
        in_flight = self._in_flight
        if in_flight is not None:
            self._in_flight = None
            identity, user = in_flight
            self.emu.limiter.leave(identity)
            self.emu._stats.leave(user)

    def _send(
        self,
        status: int,
        text: str | None,
        quota: Quota,
        request_id: str,
        extra: Mapping[str, str] | None = None,
        content_type: str = JSON_TYPE,
        resource: str = "core",
    ) -> None:
        payload = b"" if text is None else text.encode()
        # The request stops counting as in flight before its answer can reach the client: otherwise a
        # client's next request could overlap it in the concurrency count without overlapping in fact.
        self._leave()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("X-RateLimit-Limit", str(quota.limit))
        self.send_header("X-RateLimit-Remaining", str(quota.remaining))
        self.send_header("X-RateLimit-Reset", str(quota.reset))
        self.send_header("X-RateLimit-Used", str(quota.used))
        self.send_header("X-RateLimit-Resource", resource)
        version = "v4" if resource == "graphql" else "v3"
        media = content_type.split(";", 1)[0].rsplit(".", 1)[-1] if "vnd.github" in content_type else "json"
        self.send_header("X-GitHub-Media-Type", f"github.{version}; format={media}")
        self.send_header("X-GitHub-Request-Id", request_id)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        # HEAD: the headers a GET would get, Content-Length included, and no body (RFC 9110, 9.3.2).
        if status != 304 and self.command != "HEAD":
            self.wfile.write(payload)

    def _origin(self, prefix: str) -> str:
        """The address links and bodies name: the one the client used, if it is one of ours.

        A client reaching the server as ``localhost`` (or, through a proxy, as the GitHub CLI's
        development host ``api.github.localhost``) must stay on that address; any other ``Host`` header
        (a hostile client's) is not copied into bodies: the server's own address is used.
        """
        own = f"{self.emu.config.host}:{self.emu.port}"
        host = (self.headers.get("Host") or "").strip()
        port = f":{self.emu.port}"
        ours = {own, f"127.0.0.1{port}", f"localhost{port}", f"[::1]{port}", *_DEVELOPMENT_HOSTS}
        return f"http://{host if host in ours else own}{prefix}"

    def _token(self) -> str | None:
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("token", "bearer") and value.strip():
            return value.strip()
        return None

    # -- verbs --------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._read()

    def do_HEAD(self) -> None:
        self._read()

    def _read(self) -> None:
        """GET or HEAD: authenticate, check the API version, then serve (HEAD without the body)."""
        emu = self.emu
        request_id = emu._request_id()
        split = urlsplit(self.path)
        path = split.path
        prefix = (
            ENTERPRISE_PREFIX if path == ENTERPRISE_PREFIX or path.startswith(f"{ENTERPRISE_PREFIX}/") else ""
        )
        path = path[len(prefix) :] or "/"
        query = parse_qsl(split.query, keep_blank_values=True)
        token = self._token()
        user = emu.tokens.get(token, emu.config.any_token_user) if token is not None else ""
        identity = f"ip:{self.client_address[0]}" if token is None else user or ""
        now = time.time()
        log = LogRecord(now, token or "", self.command, path, 0)

        if user is None:
            quota = emu.limiter.quota(f"ip:{self.client_address[0]}", now)
            emu._stats.record(log._replace(status=401), resource=None)
            self._send(401, error_body(401, "Bad credentials"), quota, request_id)
            return

        version_error = api_version_error(self.headers.get("X-GitHub-Api-Version"))
        if version_error is not None:
            # Refused before any work, so it costs no quota.
            quota = emu.limiter.quota(identity, now)
            emu._stats.record(log._replace(status=400), resource=None)
            self._send(400, error_body(400, version_error, VERSIONS_DOCS), quota, request_id)
            return

        emu._stats.enter(user)
        emu.limiter.enter(identity)
        self._in_flight = (identity, user)
        try:
            self._serve(identity, user, path, prefix, query, request_id, log)
        finally:
            self._leave()

    def _serve(
        self,
        identity: str,
        user: str,
        path: str,
        prefix: str,
        query: list[tuple[str, str]],
        request_id: str,
        log: LogRecord,
    ) -> None:
        emu = self.emu
        if emu.config.latency_seconds > 0:
            time.sleep(emu.config.latency_seconds)
        now = time.time()

        fault = emu._fault()
        if fault is not None:
            message = "Server Error" if fault == 502 else "Service Unavailable"
            emu._stats.record(log._replace(status=fault), resource=None)
            self._send(fault, error_body(fault, message), emu.limiter.quota(identity, now), request_id)
            return

        if path == "/rate_limit":
            quota = emu.limiter.quota(identity, now)
            emu._stats.record(log._replace(status=200), resource=None)
            graphql = emu.limiter.graphql_quota(identity, now)
            self._send(200, json.dumps(_rate_limit_body(quota, graphql)), quota, request_id)
            return

        verdict = emu.limiter.admit(identity, now, log.time)
        if verdict.kind != "ok":
            status, text, hints = self._refusal(verdict, identity, user, request_id)
            # Counted before answering, so a client that reads the stats right after sees this one.
            emu._stats.record(
                log._replace(status=status),
                resource=None,
                secondary_hit=verdict.kind == "secondary" and not verdict.violation,
                violation=verdict.violation,
            )
            self._send(status, text, verdict.quota, request_id, hints)
            emu.limiter.told(identity, verdict, verdict.quota, time.time())
            return

        if path == "/user":
            if not user:
                quota = emu.limiter.refund(identity, now)
                body = error_body(401, "Requires authentication", "https://docs.github.com/rest/users/users")
                emu._stats.record(log._replace(status=401), resource=None)
                self._send(401, body, quota, request_id)
                return
            result = ApiResult(200, json.dumps(_user_body(user)), "/user")
        else:
            result = resolve(
                emu.projects,
                path,
                query,
                media=media_type(self.headers.get("Accept")),
                repo_comment_lists=emu.config.repo_comment_lists,
            )

        quota = verdict.quota
        extra: dict[str, str] = dict(result.headers)
        if result.status == 200:
            etag = etag_for(result.text)
            extra["ETag"] = etag
            extra["Cache-Control"] = "private, max-age=60, s-maxage=60"
            extra["Vary"] = "Accept, Authorization, Cookie, X-GitHub-OTP"
            if none_match(self.headers.get("If-None-Match"), etag):
                # A revalidation that matches costs no quota, as on GitHub.
                quota = emu.limiter.refund(identity, now)
                emu._stats.record(log._replace(path=result.resource, status=304), resource=result.resource)
                self._send(304, None, quota, request_id, extra)
                emu.limiter.told(identity, verdict, quota, time.time())
                return
            link = link_header(self._origin(prefix), result, query)
            if link is not None:
                extra["Link"] = link
        text = result.text.replace(API, self._origin(prefix))
        emu._stats.record(log._replace(path=result.resource, status=result.status), resource=result.resource)
        self._send(result.status, text, quota, request_id, extra, result.content_type)
        emu.limiter.told(identity, verdict, quota, time.time())

    def _refusal(
        self, verdict: Verdict, identity: str, user: str, request_id: str
    ) -> tuple[int, str, dict[str, str]]:
        cfg = self.emu.config
        if verdict.kind == "primary":
            status = cfg.primary_status
            who = (
                f"user ID {login_id(user)}."
                if user
                else (
                    f"{identity.removeprefix('ip:')}. (But here's the good news: "
                    "Authenticated requests get a higher rate limit. Check out the documentation for more "
                    "details.)"
                )
            )
            message = (
                f"API rate limit exceeded for {who} If you reach out to GitHub Support for help, please "
                f"include the request ID {request_id}."
            )
            return status, error_body(status, message, RATE_DOCS), {}
        status = cfg.secondary_status
        message = ABUSE_MESSAGE if verdict.abuse_message else SECONDARY_MESSAGE.format(request_id=request_id)
        extra = {"Retry-After": str(verdict.retry_after)} if verdict.variant == "retry-after" else {}
        return status, error_body(status, message, SECONDARY_DOCS), extra

    def read_body(self) -> bytes | None:
        """The request body, or None after answering 400/413 for a Content-Length that is not a size we read.

        Checked before anything is read: a non-number (``abc``) or a huge one (``1e12``) from a hostile
        client gets a clear refusal, and the connection is closed (its unread body would poison it).
        """
        text = (self.headers.get("Content-Length") or "0").strip()
        emu = self.emu
        quota = emu.limiter.quota(f"ip:{self.client_address[0]}", time.time())
        if not text.isdigit():
            self.close_connection = True
            self._send(
                400,
                error_body(400, f"Content-Length must be a number of bytes, got {text[:40]!r}"),
                quota,
                emu._request_id(),
            )
            return None
        length = int(text)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            message = f"Request body too large: {length} bytes; at most {MAX_BODY_BYTES} are read"
            self._send(413, error_body(413, message), quota, emu._request_id())
            return None
        return self.rfile.read(length) if length else b""

    def _not_allowed(self) -> None:
        if self.read_body() is None:
            return
        emu = self.emu
        quota = emu.limiter.quota(f"ip:{self.client_address[0]}", time.time())
        self._send(404, error_body(404, "Not Found"), quota, emu._request_id())

    def do_POST(self) -> None:
        if urlsplit(self.path).path in GRAPHQL_PATHS and self.emu.config.graphql:
            serve_graphql(self)
            return
        self._not_allowed()

    do_PUT = do_PATCH = do_DELETE = _not_allowed


def _rate_limit_body(core: Quota, graphql: Quota) -> dict[str, Any]:
    def entry(limit: int, remaining: int, used: int, reset: int) -> dict[str, int]:
        return {"limit": limit, "used": used, "remaining": remaining, "reset": reset}

    core_entry = entry(core.limit, core.remaining, core.used, core.reset)
    hour = int(time.time()) + 3600
    return {
        "resources": {
            "core": core_entry,
            "search": entry(30, 30, 0, int(time.time()) + 60),
            "graphql": entry(graphql.limit, graphql.remaining, graphql.used, graphql.reset),
            "integration_manifest": entry(5000, 5000, 0, hour),
            "source_import": entry(100, 100, 0, int(time.time()) + 60),
            "code_scanning_upload": entry(1000, 1000, 0, hour),
            "actions_runner_registration": entry(10000, 10000, 0, hour),
            "scim": entry(15000, 15000, 0, hour),
            "dependency_snapshots": entry(100, 100, 0, int(time.time()) + 60),
            "code_search": entry(10, 10, 0, int(time.time()) + 60),
        },
        "rate": core_entry,
    }


def _user_body(login: str) -> dict[str, Any]:
    """``GET /user``: the pool-style user object plus the profile keys of the authenticated user."""
    return profile_json(pool_user(login), name=login.capitalize(), public_repos=3, followers=1, following=1)


def start(config: EmulatorConfig) -> Emulator:
    """Start an emulator for ``config`` and return it (use it as a context manager to stop it)."""
    return Emulator(config).start()
