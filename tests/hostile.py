"""A misbehaving GitHub: a proxy on 127.0.0.1 in front of the emulator that breaks answers on purpose.

Each mode is a function of one request that returns a crafted answer, or None to pass the request on
to the emulator (whose links are rewritten to the proxy, as a real reverse proxy would). Modes model
what the attack run found: malformed JSON shapes, redirects away and in loops, pagination loops,
absurd waits, a limit of 0, endless 202s, answers for another repository, tokens echoed in bodies,
links and base64. Used by ``tests/attacks.py``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


@dataclass(frozen=True)
class Request:
    """What the proxy received."""

    method: str
    path: str  # without the query
    query: dict[str, str]
    headers: dict[str, str]
    raw_path: str

    @property
    def token(self) -> str:
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        return value.strip() if scheme.lower() in ("token", "bearer") else ""


@dataclass
class Answer:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


Forward = Callable[[Request], Answer]
Mode = Callable[[Request, Forward], Answer | None]


class Hostile:
    """The proxy: ``with Hostile(upstream, mode) as proxy: ... proxy.base_url``."""

    def __init__(self, upstream: str, mode: Mode) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = mode
        self.requests = 0
        self._lock = threading.Lock()
        self._session = threading.local()
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Hostile:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def forward(self, request: Request) -> Answer:
        """The emulator's answer, its addresses rewritten to the proxy's."""
        session = getattr(self._session, "value", None)
        if session is None:
            session = self._session.value = requests.Session()
        headers = {
            k: v for k, v in request.headers.items() if k in ("authorization", "if-none-match", "accept")
        }
        upstream = session.request(
            request.method,
            self.upstream + request.raw_path,
            headers=headers,
            timeout=30,
            allow_redirects=False,
        )
        kept = {
            k: v.replace(self.upstream, self.base_url)
            for k, v in upstream.headers.items()
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")
        }
        return Answer(upstream.status_code, upstream.text.replace(self.upstream, self.base_url), kept)


class _Handler(BaseHTTPRequestHandler):
    proxy: Hostile
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        request = Request(
            method="GET",
            path=split.path,
            query=dict(urllib.parse.parse_qsl(split.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            raw_path=self.path,
        )
        with self.proxy._lock:
            self.proxy.requests += 1
        try:
            answer = self.proxy.mode(request, self.proxy.forward) or self.proxy.forward(request)
        except (BrokenPipeError, ConnectionResetError):
            return
        payload = answer.body.encode()
        try:
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            if answer.status != 304:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if answer.status != 304:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            return


# -- modes ------------------------------------------------------------------------------------------------

PULLS = "/pulls"


def is_list(request: Request) -> bool:
    return request.path.endswith("/pulls") and "/repos/" in request.path


def is_detail(request: Request) -> bool:
    parts = request.path.split("/")
    return len(parts) >= 6 and parts[-2] == "pulls" and parts[-1].isdigit()


def is_repository(request: Request) -> bool:
    parts = request.path.strip("/").split("/")
    return len(parts) == 3 and parts[0] == "repos"


def replace_json(request: Request, forward: Forward, change: Callable[[Any], Any]) -> Answer:
    answer = forward(request)
    if answer.status == 200:
        answer.body = json.dumps(change(json.loads(answer.body)))
    return answer


def echo_token_403(request: Request, forward: Forward) -> Answer | None:
    if is_detail(request):
        message = f"Resource not accessible by personal access token: {request.token}"
        return Answer(403, json.dumps({"message": message, "documentation_url": "https://docs.github.com"}))
    return None


def echo_token_401(request: Request, forward: Forward) -> Answer | None:
    if request.path == "/rate_limit":
        return Answer(401, json.dumps({"message": f"Bad credentials: token {request.token}"}))
    return None


def link_access_token(request: Request, forward: Forward) -> Answer | None:
    """The first list page links to a second one whose URL carries the caller's token."""
    if not is_list(request) or "page" in request.query:
        return None
    answer = forward(request)
    answer.headers.pop("link", None)
    answer.headers["Link"] = f'<{request.raw_path}&page=2&access_token={request.token}>; rel="next"'
    return answer


def base64_token_in_body(request: Request, forward: Forward) -> Answer | None:
    if not is_detail(request):
        return None

    def plant(detail: Any) -> Any:
        secret = base64.b64encode(f"x-access-token:{request.token}".encode()).decode()
        detail["body"] = (detail.get("body") or "") + f"\n\nAuthorization: Basic {secret}\n"
        return detail

    return replace_json(request, forward, plant)


def pulls_list_dict(request: Request, forward: Forward) -> Answer | None:
    return Answer(200, json.dumps({"message": "not a list"})) if is_list(request) else None


def pulls_list_strings(request: Request, forward: Forward) -> Answer | None:
    return Answer(200, json.dumps(["1", "2"])) if is_list(request) else None


def detail_list(request: Request, forward: Forward) -> Answer | None:
    return Answer(200, json.dumps([1, 2, 3])) if is_detail(request) else None


def detail_without(key: str) -> Mode:
    def mode(request: Request, forward: Forward) -> Answer | None:
        if not is_detail(request):
            return None
        return replace_json(request, forward, lambda d: {k: v for k, v in d.items() if k != key})

    return mode


def additions_1e400(request: Request, forward: Forward) -> Answer | None:
    if not is_detail(request):
        return None
    answer = forward(request)
    answer.body = answer.body.replace('"additions":', '"additions":1e400,"ignored_additions":', 1)
    return answer


def deep_json(request: Request, forward: Forward) -> Answer | None:
    return Answer(200, "[" * 200_000 + "]" * 200_000) if is_repository(request) else None


def redirect_other_host(request: Request, forward: Forward) -> Answer | None:
    if is_repository(request):
        return Answer(
            301, "", {"Location": "http://127.0.0.2:9/repos/elsewhere/x", "Content-Type": "text/plain"}
        )
    return None


def redirect_loop(request: Request, forward: Forward) -> Answer | None:
    if is_repository(request):
        # Back and forth between two addresses of the same host.
        target = request.raw_path + ("&" if "?" in request.raw_path else "?") + "again=1"
        if "again=1" in request.raw_path:
            target = request.raw_path.replace("?again=1", "").replace("&again=1", "")
        return Answer(301, "", {"Location": target, "Content-Type": "text/plain"})
    return None


def redirect_same_host(status: int) -> Mode:
    def mode(request: Request, forward: Forward) -> Answer | None:
        if is_repository(request) and "moved=1" not in request.raw_path:
            return Answer(
                status, "", {"Location": request.raw_path + "?moved=1", "Content-Type": "text/plain"}
            )
        return None

    return mode


def user_html(request: Request, forward: Forward) -> Answer | None:
    if request.path == "/user":
        return Answer(200, "<html><body>Sign in</body></html>", {"Content-Type": "text/html"})
    return None


def link_self_loop(request: Request, forward: Forward) -> Answer | None:
    if not is_list(request):
        return None
    answer = forward(request)
    answer.headers.pop("link", None)
    own = request.raw_path
    answer.headers["Link"] = f'<{own}>; rel="next"'
    return answer


def retry_after_huge(request: Request, forward: Forward) -> Answer | None:
    if is_detail(request):
        return Answer(503, json.dumps({"message": "Service Unavailable"}), {"Retry-After": "1000000000"})
    return None


def rate_limit_zero(request: Request, forward: Forward) -> Answer | None:
    if request.path != "/rate_limit":
        return None
    past = int(time.time()) - 100
    core = {"limit": 0, "remaining": 0, "used": 0, "reset": past}
    return Answer(200, json.dumps({"resources": {"core": core}, "rate": core}))


def always_202(request: Request, forward: Forward) -> Answer | None:
    return Answer(202, "{}")


def other_repository(request: Request, forward: Forward) -> Answer | None:
    if not is_repository(request):
        return None
    return replace_json(request, forward, lambda r: {**r, "full_name": "evil/other", "name": "other"})


def pr_of_other_repository(request: Request, forward: Forward) -> Answer | None:
    if not is_detail(request):
        return None

    def move(detail: Any) -> Any:
        detail["base"]["repo"]["full_name"] = "evil/other"
        return detail

    return replace_json(request, forward, move)


def silent_details(request: Request, forward: Forward) -> Answer | None:
    """PR details never answer (for Ctrl-C): the server holds the request open."""
    if is_detail(request):
        time.sleep(60)
        return Answer(504, "{}")
    return None
