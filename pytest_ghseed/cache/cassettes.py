"""Cassettes: the raw HTTP traffic of every fetch, in vcrpy's format, scrubbed of secrets.

Why not vcrpy's own recording: vcrpy 9.4 patches connection classes process-wide and is not
thread-safe (vcrpy issue #849); from a threaded crawl it silently loses most interactions. So the
fetcher hands every exchange to a ``CassetteRecorder`` (under a lock), and the recorder writes it
with vcrpy's own serializer API (``vcr.serialize.serialize``, ``vcr.request.Request``): the files
are vcrpy cassettes, loadable by ``vcr.use_cassette`` in a user's own test.

Layout, sharded so that each file is written once per finished unit of work (a kill loses nothing
that the checkpoint counts as done):

    cassettes/listing.json.gz       the repository and the pull-request list pages
    cassettes/pr-000042.json.gz     every request of pull request #42 (detail, reviews, commits, ...)

Files are gzip-compressed vcrpy JSON cassettes (see README, "Cassette format", for the measurement
behind that choice). ``GzipJsonPersister`` lets plain vcrpy load them; ``load_interactions`` reads
them without vcrpy's replay machinery (whose matching is O(n^2)).

Scrubbing, in depth: request headers are limited to what identifies the request (never
``Authorization``); cookies are dropped; the pool's actual token values and token-shaped strings
(``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``) are replaced anywhere in URLs,
headers and bodies; then a leak guard scans the exact bytes about to be written and refuses to save.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.request import Request
from vcr.serialize import deserialize, serialize

from pytest_ghseed._files import atomic_write_bytes
from pytest_ghseed.errors import CacheError, SecretLeakError
from pytest_ghseed.traffic import Exchange

LISTING = "listing"
SUFFIX = ".json.gz"
TOKEN_PLACEHOLDER = "<GITHUB_TOKEN>"
REDACTED = "<REDACTED>"

#: Token formats GitHub issues: classic PAT, OAuth, user-to-server, server-to-server, refresh, fine-grained PAT.
TOKEN_PATTERN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{50,255})\b")
#: Response headers worth keeping: what a replay or a reader of the cassette needs.
_KEPT_RESPONSE_HEADERS = {
    "content-type",
    "etag",
    "last-modified",
    "link",
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-resource",
    "x-ratelimit-used",
    "x-github-request-id",
}
_KEPT_REQUEST_HEADERS = {"accept", "if-none-match"}
_PR_PATH = re.compile(r"/(?:pulls|issues)/(\d+)(?:/|$)")
_STATUS_TEXT = {
    200: "OK",
    304: "Not Modified",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class _CompactJson:
    """vcrpy's JSON serializer without indentation (vcrpy's json loader reads it unchanged)."""

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        return json.dumps(cassette_dict, ensure_ascii=False, separators=(",", ":")) + "\n"

    @staticmethod
    def deserialize(cassette_string: str) -> Any:
        return json.loads(cassette_string)


class Scrubber:
    """Replace secrets in text; and check that none is left."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        # Longest first, so a token that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, TOKEN_PLACEHOLDER)
        return TOKEN_PATTERN.sub(REDACTED, text)

    def find_leak(self, text: str) -> str | None:
        """A masked description of the first secret found in ``text``, or ``None``."""
        for secret in self.secrets:
            if secret in text:
                return f"a token of this run ({mask(secret)})"
        match = TOKEN_PATTERN.search(text)
        if match:
            return f"a token-shaped string ({mask(match.group(0))})"
        return None


def check_no_leak(scrubber: Scrubber, text: str, path: Path) -> None:
    """The leak guard: refuse to write ``text`` to ``path`` if any secret is left in it."""
    leak = scrubber.find_leak(text)
    if leak is not None:
        msg = (
            f"refusing to write {path}: it would contain {leak}. Nothing was saved; please report this "
            "as a pytest-ghseed bug"
        )
        raise SecretLeakError(msg)


def mask(secret: str) -> str:
    """Show only a secret's kind and length: ``ghp_…(40 chars)``."""
    prefix = secret.split("_", 1)[0] + "_" if "_" in secret[:11] else ""
    return f"{prefix}…({len(secret)} chars)"


def shard_of(url: str) -> str:
    """The cassette an exchange belongs to: its pull request's, or the listing."""
    match = _PR_PATH.search(urllib.parse.urlsplit(url).path)
    return f"pr-{int(match.group(1)):06d}" if match else LISTING


@dataclass(frozen=True, slots=True)
class Interaction:
    """One recorded request and response, scrubbed; what ``load_interactions`` yields."""

    method: str
    uri: str
    status: int
    headers: dict[str, str]
    body: str


class CassetteRecorder:
    """Collect exchanges from many threads; write each shard when its unit of work is finished."""

    def __init__(self, cassette_dir: Path, secrets: Iterable[str | None]) -> None:
        self.cassette_dir = cassette_dir
        self.scrubber = Scrubber(secrets)
        self._lock = threading.Lock()
        self._pending: dict[str, list[Exchange]] = {}
        self.recorded = 0

    def __call__(self, exchange: Exchange) -> None:
        with self._lock:
            self._pending.setdefault(shard_of(exchange.url), []).append(exchange)

    def scrub_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A checkpoint record with secrets scrubbed like the cassettes (it lives in the cache folder)."""
        text = json.dumps(record, ensure_ascii=False)
        scrubbed = self.scrubber.scrub(text)
        if scrubbed == text:
            return record
        cleaned: dict[str, Any] = json.loads(scrubbed)
        return cleaned

    def flush_pr(self, number: int) -> None:
        self.flush(f"pr-{number:06d}")

    def flush_listing(self) -> None:
        self.flush(LISTING)

    def flush(self, name: str) -> None:
        """Append the pending exchanges of one shard to its cassette file (atomically)."""
        with self._lock:
            exchanges = self._pending.pop(name, [])
        if not exchanges:
            return
        path = self.cassette_dir / f"{name}{SUFFIX}"
        requests: list[Request] = []
        responses: list[dict[str, Any]] = []
        if path.exists():
            old_requests, old_responses = _read_raw(path)
            requests.extend(old_requests)
            responses.extend(old_responses)
        for exchange in exchanges:
            request, response = self._to_vcr(exchange)
            requests.append(request)
            responses.append(response)
        text = serialize({"requests": requests, "responses": responses}, _CompactJson)
        check_no_leak(self.scrubber, text, path)
        atomic_write_bytes(path, gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0))
        with self._lock:
            self.recorded += len(exchanges)

    def _to_vcr(self, exchange: Exchange) -> tuple[Request, dict[str, Any]]:
        scrub = self.scrubber.scrub
        request_headers = {
            k: scrub(v) for k, v in exchange.request_headers.items() if k.lower() in _KEPT_REQUEST_HEADERS
        }
        request = Request(exchange.method, scrub(exchange.url), None, request_headers)
        response_headers = {
            k: [scrub(v)] for k, v in exchange.response_headers.items() if k.lower() in _KEPT_RESPONSE_HEADERS
        }
        response = {
            "status": {"code": exchange.status, "message": _STATUS_TEXT.get(exchange.status, "")},
            "headers": response_headers,
            "body": {"string": scrub(exchange.body).encode("utf-8")},
        }
        return request, response


def _read_raw(path: Path) -> tuple[list[Request], list[dict[str, Any]]]:
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        loaded = deserialize(text, _CompactJson)
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        msg = f"cassette {path} cannot be read ({exc.__class__.__name__}: {exc})"
        raise CacheError(msg) from None
    return list(loaded[0]), list(loaded[1])


def cassette_files(cassette_dir: Path) -> list[Path]:
    """Every cassette of a project, listing first, then by pull-request number."""
    return sorted(cassette_dir.glob(f"*{SUFFIX}"), key=lambda p: (p.name != f"{LISTING}{SUFFIX}", p.name))


def load_interactions(path: Path) -> Iterator[Interaction]:
    """The interactions of one cassette, in recorded order (no vcrpy replay involved)."""
    requests, responses = _read_raw(path)
    for request, response in zip(requests, responses, strict=True):
        body = response["body"]["string"]
        yield Interaction(
            method=request.method,
            uri=request.uri,
            status=int(response["status"]["code"]),
            headers={k.lower(): v[0] for k, v in response["headers"].items()},
            body=body.decode("utf-8") if isinstance(body, bytes) else str(body),
        )


class GzipJsonPersister(FilesystemPersister):  # type: ignore[misc]  # vcrpy is untyped
    """A vcrpy persister for ``.json.gz`` cassettes; other paths load as vcrpy always does.

    Use: ``my_vcr = vcr.VCR(); my_vcr.register_persister(GzipJsonPersister)``, then
    ``my_vcr.use_cassette(path, serializer="json", record_mode="none")``.
    """

    @classmethod
    def load_cassette(cls, cassette_path: Any, serializer: Any) -> Any:
        path = Path(cassette_path)
        if not path.name.endswith(".gz"):
            return FilesystemPersister.load_cassette(cassette_path, serializer)
        if not path.is_file():
            raise CassetteNotFoundError()
        return deserialize(gzip.decompress(path.read_bytes()).decode("utf-8"), serializer)

    @staticmethod
    def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        path = Path(cassette_path)
        if not path.name.endswith(".gz"):
            FilesystemPersister.save_cassette(cassette_path, cassette_dict, serializer)
            return
        text = serialize(cassette_dict, serializer)
        atomic_write_bytes(path, gzip.compress(text.encode("utf-8"), mtime=0))


def replay_vcr() -> Any:
    """A ``vcr.VCR`` set up to replay ghseed cassettes (gzip JSON) and never touch the network."""
    import vcr

    my_vcr = vcr.VCR(serializer="json", record_mode="none", decode_compressed_response=False)
    my_vcr.register_persister(GzipJsonPersister)
    return my_vcr
