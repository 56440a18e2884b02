"""The connection under PyGithub's ``Requester``: lean ``http.client`` keep-alive, and our limits.

Two jobs, one per class of PyGithub's connection protocol (``request``, ``getresponse``, ``close``):

- **Speed.** PyGithub's default connection goes through requests and urllib3, which cost about 1.9 ms
  of CPU per request on this machine (session and environment merging, header parsing three times
  over, cookie jars); ``http.client`` straight costs 0.4 ms (``benchmarks/bench_fetch_cost.py``). A
  crawl sends four requests per pull request from eight threads under one GIL, so that difference
  was a third of the client's CPU. ``LeanHTTPConnection`` does what the crawl needs of requests and
  no more: keep-alive, gzip, timeouts, TLS verified against certifi's bundle as requests does (or
  ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``, or PyGithub's ``verify`` path). Whenever requests would
  do more (a proxy configured for the host), PyGithub's own requests-based classes are kept.
- **Limits.** PyGithub's Requester follows a 301 by calling itself again, with no limit, and answers a
  202 by sleeping 2 s and asking again, with no limit either. Every connection class installed here
  raises ``Intercepted`` for a 202 or a redirect with a ``Location`` before PyGithub sees it, so that
  ``transport.Transport`` applies its own, bounded rules.

Installed per ``Requester`` (its name-mangled ``__connectionClass``, what PyGithub's global
``injectConnectionClasses`` sets for every instance), never globally.
"""

from __future__ import annotations

import codecs
import http.client
import os
import re
import ssl
import types
import urllib.request
import zlib
from typing import IO, Any

from github import Github
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass

from pytest_ghseed.errors import FetchError

#: PyGithub's per-instance attribute holding the connection class (name-mangled ``__connectionClass``).
_HOOK = "_Requester__connectionClass"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Intercepted(Exception):
    """An answer handed back before PyGithub acts on it (a 202, or a redirect with a Location)."""

    def __init__(self, status: int, headers: dict[str, str], body: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers
        self.body = body


def _hold(status: int, headers: list[tuple[str, str]], read: Any) -> None:
    """Raise ``Intercepted`` for what PyGithub would loop on."""
    if status == 202 or status in _REDIRECTS:
        lowered = {str(k).lower(): str(v) for k, v in headers}
        if status == 202 or "location" in lowered:
            raise Intercepted(status, lowered, read())


def install(gh: Github, base_url: str) -> bool:
    """Give ``gh`` our connection classes: lean when it can (True), PyGithub's own otherwise (False).

    Either way every class holds back 202s and redirects. A PyGithub without the hook fails loudly.
    """
    requester = gh.requester
    if not hasattr(requester, _HOOK):  # pragma: no cover - PyGithub renamed it
        msg = "this PyGithub version is not supported by pytest-ghseed (no Requester connection class)"
        raise FetchError(msg)
    scheme = base_url.split("://", 1)[0].lower()
    lean = scheme in ("http", "https") and not _proxied(base_url)
    if lean:
        chosen = LeanHTTPSConnection if scheme == "https" else LeanHTTPConnection
    else:
        chosen = _HeldHTTPS if scheme == "https" else _HeldHTTP
    setattr(requester, _HOOK, chosen)
    return lean


def _proxied(base_url: str) -> bool:
    """Whether requests would send this host's requests through a proxy (then requests keeps them)."""
    proxies = urllib.request.getproxies()
    scheme, _, rest = base_url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if not (proxies.get(scheme.lower()) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(host.split(":", 1)[0])


#: A line the email package's parser takes for a header (its ``email.feedparser.headerRE``); the first
#: line that is not ends the header block there, as it does in ``http.client``.
_HEADER_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")
#: http.client's limits on an answer's header block (its ``_MAXLINE`` and ``_MAXHEADERS``).
_MAX_LINE = 65536
_MAX_HEADERS = 100
#: The charset parameter of a Content-Type (``application/json; charset=utf-8``).
_CHARSET = re.compile(r';\s*charset\s*=\s*"?([^";\s]+)', re.IGNORECASE)
#: Lines as the email parser cuts them: at CRLF, CR or LF, each with its end.
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def parse_headers(
    fp: IO[bytes], _class: type[http.client.HTTPMessage] = http.client.HTTPMessage, **_: Any
) -> http.client.HTTPMessage:
    """``http.client.parse_headers`` without the email package's feed parser: the same message.

    The stdlib reads the header lines (its limits on line length and count), joins them, and has
    ``email.parser`` parse them again. This builds the same ``HTTPMessage`` (compat32: names and raw
    values, folded lines kept, the same lines skipped) straight from the lines: about 50 us instead of 95 us
    for an answer's 14 plain headers on this machine. ``tests/test_transport.py`` holds it to the
    stdlib's result over random header blocks. Keyword arguments of newer Pythons (3.14's
    ``_max_headers``) are accepted and the stdlib's default limits kept.
    """
    lines: list[bytes] = []
    while True:
        line = fp.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > _MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            break
    message = _class()
    parts: list[str] = []
    for line in _LINES.findall(b"".join(lines).decode("iso-8859-1")):
        if not _HEADER_LINE.match(line):
            break  # the blank line, or a line the email parser would take for the start of a body
        if line[0] in " \t":
            if parts:  # a folded line continues the header before it; a first one is dropped
                parts.append(line)
            continue
        if parts:
            message.set_raw(*_header(parts))
            parts = []
        if line.startswith("From "):
            continue  # an mbox "From " line: never a header
        if line.find(":") > 0:  # an empty name is dropped
            parts = [line]
    if parts:
        message.set_raw(*_header(parts))
    return message


def _charset(content_type: str) -> str:
    """The text encoding a Content-Type names, if Python knows it; UTF-8 (the API's) otherwise.

    A server naming an unknown one (``charset=bogus``) gets its answer read as UTF-8, not a crash.
    """
    match = _CHARSET.search(content_type)
    if match is None:
        return "utf-8"
    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return "utf-8"


def _header(lines: list[str]) -> tuple[str, str]:
    """One header from its lines, as the compat32 policy's ``header_source_parse`` makes it."""
    name, value = lines[0].split(":", 1)
    return name, (value.lstrip(" \t") + "".join(lines[1:])).rstrip("\r\n")


class _LeanHTTPResponse(http.client.HTTPResponse):
    """``http.client``'s response, reading its headers with ``parse_headers`` above.

    ``begin`` is the stdlib's own code, run with ``parse_headers`` bound to ours: status line, 1xx
    answers, chunked and length handling stay exactly the stdlib's. A Python whose ``begin`` no
    longer calls ``parse_headers`` keeps its own (slower, still correct).
    """

    if "parse_headers" in http.client.HTTPResponse.begin.__code__.co_names:
        begin = types.FunctionType(
            http.client.HTTPResponse.begin.__code__,
            {**vars(http.client), "parse_headers": parse_headers},
            "begin",
        )


class _Response:
    """What PyGithub reads of an answer: ``status``, ``getheaders()``, ``read()`` (the text)."""

    def __init__(self, status: int, headers: list[tuple[str, str]], text: str) -> None:
        self.status = status
        self._headers = headers
        self._text = text

    def getheaders(self) -> list[tuple[str, str]]:
        return self._headers

    def read(self) -> str:
        return self._text


class LeanHTTPConnection:
    """PyGithub's connection protocol (``request``, ``getresponse``, ``close``) over ``http.client``."""

    protocol = "http"

    def __init__(
        self,
        host: str,
        port: int | None = None,
        strict: bool = False,
        timeout: int | None = None,
        retry: Any = None,
        pool_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.verify: bool | str = kwargs.get("verify", True)
        self._connection: http.client.HTTPConnection | None = None
        self._pending: tuple[str, str, Any, dict[str, str]] | None = None

    def request(self, verb: str, url: str, input: Any, headers: dict[str, str], stream: bool = False) -> None:
        self._pending = (verb, url, input, headers)

    def getresponse(self) -> _Response:
        assert self._pending is not None
        verb, url, body, headers = self._pending
        connection = self._connection or self._connect()
        try:
            connection.request(verb, url, body=body, headers={**headers, "Accept-Encoding": "gzip"})
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            # A broken or stale keep-alive connection: the next request opens a new one (the
            # client's retry layer decides whether to send it).
            self.close()
            raise
        # vcrpy (a user's cassette around the fetch) patches http.client: its response has no
        # ``will_close`` and keeps the real connection itself, so only http.client's own is asked.
        if getattr(response, "will_close", False):
            self.close()
        answer_headers = response.getheaders()
        if (response.getheader("content-encoding") or "").lower() == "gzip":
            data = zlib.decompress(data, 31)
        text = data.decode(_charset(response.getheader("content-type") or ""), errors="replace")
        _hold(response.status, answer_headers, lambda: text)
        return _Response(response.status, answer_headers, text)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self._connection.response_class = _LeanHTTPResponse
        return self._connection


class LeanHTTPSConnection(LeanHTTPConnection):
    """The same over TLS, verified as requests verifies (certifi's bundle unless told otherwise)."""

    protocol = "https"

    def _connect(self) -> http.client.HTTPConnection:
        self._connection = http.client.HTTPSConnection(
            self.host, self.port, timeout=self.timeout, context=_tls_context(self.verify)
        )
        self._connection.response_class = _LeanHTTPResponse
        return self._connection


def _held(base: type[Any]) -> type[Any]:
    class HeldConnection(base):  # type: ignore[misc]  # PyGithub's requests-based classes, subclassed
        def getresponse(self) -> Any:
            response = super().getresponse()
            _hold(int(response.status), list(response.getheaders()), response.read)
            return response

    return HeldConnection


#: PyGithub's requests-based connections (kept where a proxy applies), holding back 202s and redirects.
_HeldHTTP = _held(HTTPRequestsConnectionClass)
_HeldHTTPS = _held(HTTPSRequestsConnectionClass)


def _tls_context(verify: bool | str) -> ssl.SSLContext:
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, str):
        bundle = verify
    else:
        # requests' own order when it trusts the environment, then its default (certifi).
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or _certifi()
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


def _certifi() -> str:
    import certifi

    path: str = certifi.where()
    return path


__all__ = ["Intercepted", "LeanHTTPConnection", "LeanHTTPSConnection", "install"]
