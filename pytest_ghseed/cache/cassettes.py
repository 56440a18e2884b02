"""Cassettes: the raw HTTP traffic of every fetch, in vcrpy's format, scrubbed of secrets.

Why not vcrpy's own recording: vcrpy 9.4 patches connection classes process-wide and is not
thread-safe (vcrpy issue #849); from a threaded crawl it silently loses most interactions. So the
fetcher hands every exchange to a ``CassetteRecorder`` (under a lock), and the recorder writes it
with vcrpy's own serializer API (``vcr.serialize.serialize``, ``vcr.request.Request``): the files
are vcrpy cassettes, loadable by ``vcr.use_cassette`` in a user's own test.

Sharded (see ``layout``: the listing, one cassette per pull request, and one per GraphQL query) so
that each file is written once per finished unit of work: a kill loses nothing that the checkpoint
counts as done. A GraphQL query answers for many pull requests at once, so its exchange gets a shard
of its own (``graphql-000001``, numbered in the order of the answers), written as soon as it came;
its request body is recorded with its ``Content-Type``, so vcrpy's ``body`` matcher finds it.
Files are gzip-compressed vcrpy JSON cassettes (see README, "Cassette format", for the measurement
behind that choice). ``GzipJsonPersister`` lets plain vcrpy load them; ``load_interactions`` reads
them without vcrpy's replay machinery (whose matching is O(n^2)).

Scrubbing, in depth: request headers are limited to what identifies the request (never
``Authorization``); cookies are dropped; the ``secrets`` module's ``Scrubber`` replaces the pool's
token values (raw and base64) and token-shaped strings in URLs, headers and bodies; then its leak
guard checks the exact text about to be written and refuses to save. A pseudonymized recording's
people are replaced first, by the ``people`` filter (``pseudonyms``), at the same two places.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.request import Request
from vcr.serialize import deserialize, serialize

from pytest_ghseed._files import atomic_write_bytes, move_aside
from pytest_ghseed.cache.layout import (
    LISTING_SHARD,
    SHARD_SUFFIX,
    graphql_shard,
    graphql_shard_number,
    pr_shard,
)
from pytest_ghseed.errors import CacheError, CorruptFile
from pytest_ghseed.pseudonyms import NO_PEOPLE, PeopleFilter
from pytest_ghseed.secrets import Scrubber, Token
from pytest_ghseed.traffic import Exchange

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
_KEPT_REQUEST_HEADERS = {"accept", "if-none-match", "content-type"}
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


#: Where GraphQL exchanges wait until ``flush_graphql`` gives them a numbered shard.
_GRAPHQL = "graphql"


def shard_of(url: str) -> str:
    """The cassette an exchange belongs to: its pull request's, or the listing."""
    match = _PR_PATH.search(urllib.parse.urlsplit(url).path)
    return pr_shard(int(match.group(1))) if match else LISTING_SHARD


@dataclass(frozen=True, slots=True)
class Interaction:
    """One recorded request and response, scrubbed; what ``load_interactions`` yields."""

    method: str
    uri: str
    status: int
    headers: dict[str, str]
    body: str
    #: What a POST sent (a GraphQL query and its variables); None for a GET.
    request_body: str | None = None


class CassetteRecorder:
    """Collect exchanges from many threads; write each shard when its unit of work is finished."""

    def __init__(
        self, cassette_dir: Path, secrets: Iterable[Token | str | None], people: PeopleFilter | None = None
    ) -> None:
        self.cassette_dir = cassette_dir
        self.scrubber = Scrubber(secrets)
        #: Replaces real people before anything is written, in a pseudonymized recording.
        self.people = people or NO_PEOPLE
        self._lock = threading.Lock()
        self._pending: dict[str, list[Exchange]] = {}
        self._graphql_next: int | None = None
        self.recorded = 0

    def __call__(self, exchange: Exchange) -> None:
        with self._lock:
            key = _GRAPHQL if exchange.is_graphql else shard_of(exchange.url)
            self._pending.setdefault(key, []).append(exchange)

    def scrub_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A checkpoint record with secrets scrubbed like the cassettes (it lives in the cache folder)."""
        record = self.people.record(record)
        text = json.dumps(record, ensure_ascii=False)
        scrubbed = self.scrubber.scrub(text)
        if scrubbed == text:
            return record
        cleaned: dict[str, Any] = json.loads(scrubbed)
        return cleaned

    def flush_pr(self, number: int) -> None:
        self.flush(pr_shard(number))

    def flush_listing(self) -> None:
        self.flush(LISTING_SHARD)

    def flush_graphql(self) -> None:
        """Write the GraphQL exchanges received so far into the next numbered GraphQL shard."""
        with self._lock:
            if not self._pending.get(_GRAPHQL):
                return
            if self._graphql_next is None:
                # After a resumed crawl's shards: the numbers keep the order of every answer ever recorded.
                found = [graphql_shard_number(p.name) for p in self.cassette_dir.glob(f"*{SHARD_SUFFIX}")]
                self._graphql_next = max((n for n in found if n is not None), default=0) + 1
            name = graphql_shard(self._graphql_next)
            self._graphql_next += 1
            self._pending[name] = self._pending.pop(_GRAPHQL)
        self.flush(name)

    def flush(self, name: str) -> None:
        """Append the pending exchanges of one shard to its cassette file (atomically)."""
        with self._lock:
            exchanges = self._pending.pop(name, [])
        if not exchanges:
            return
        exchanges = self.people.exchanges(name, exchanges)
        path = self.cassette_dir / f"{name}{SHARD_SUFFIX}"
        requests: list[Request] = []
        responses: list[dict[str, Any]] = []
        if path.exists():
            try:
                old_requests, old_responses = _read_raw(path)
            except CorruptFile:
                # The new traffic is whole; the unreadable old file is kept aside, never deleted.
                move_aside(path)
            else:
                requests.extend(old_requests)
                responses.extend(old_responses)
        for exchange in exchanges:
            request, response = self._to_vcr(exchange)
            requests.append(request)
            responses.append(response)
        text = serialize({"requests": requests, "responses": responses}, _CompactJson)
        self.scrubber.check(text, path)
        try:
            atomic_write_bytes(path, gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0))
        except OSError as exc:
            msg = (
                f"cannot write the cassette {path}: {exc.strerror or exc}; check free space and permissions "
                "(finished PRs are kept in the checkpoint: rerun to go on)"
            )
            raise CacheError(msg) from exc
        with self._lock:
            self.recorded += len(exchanges)

    def _to_vcr(self, exchange: Exchange) -> tuple[Request, dict[str, Any]]:
        scrub = self.scrubber.scrub
        request_headers = {
            k: scrub(v) for k, v in exchange.request_headers.items() if k.lower() in _KEPT_REQUEST_HEADERS
        }
        body = scrub(exchange.request_body) if exchange.request_body is not None else None
        request = Request(exchange.method, scrub(exchange.url), body, request_headers)
        response_headers = {
            k: [scrub(v)] for k, v in exchange.response_headers.items() if k.lower() in _KEPT_RESPONSE_HEADERS
        }
        response = {
            "status": {"code": exchange.status, "message": _STATUS_TEXT.get(exchange.status, "")},
            "headers": response_headers,
            "body": {"string": scrub(exchange.body).encode("utf-8")},
        }
        return request, response


#: A cassette inflates to at most this many times its compressed size (real ones: about 12x), and
#: never beyond ``_MAX_INFLATED``: a committed "gzip bomb" is reported as corrupt, not unpacked.
_MAX_RATIO = 50
_MIN_INFLATED = 16 * 1024 * 1024
_MAX_INFLATED = 1024 * 1024 * 1024


def read_gzip(path: Path) -> bytes:
    """The decompressed bytes of a gzip file, bounded; ``CorruptFile`` when it is not one or too big."""
    import zlib

    try:
        compressed = path.read_bytes()
    except OSError as exc:
        raise CorruptFile(path, f"cannot be read ({exc.strerror or exc})") from None
    limit = min(_MAX_INFLATED, max(_MIN_INFLATED, _MAX_RATIO * len(compressed)))
    inflater = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
    try:
        data = inflater.decompress(compressed, limit)
        if inflater.unconsumed_tail:
            raise CorruptFile(path, f"inflates to more than {limit:,} bytes (a gzip bomb?)")
        if not inflater.eof:
            raise CorruptFile(path, "truncated gzip data")
    except zlib.error as exc:
        raise CorruptFile(path, f"not gzip data ({exc})") from None
    return data


def _read_raw(path: Path) -> tuple[list[Request], list[dict[str, Any]]]:
    try:
        text = read_gzip(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFile(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        loaded = deserialize(text, _CompactJson)
        requests, responses = list(loaded[0]), list(loaded[1])
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as exc:
        raise CorruptFile(
            path, f"not a vcrpy cassette ({exc.__class__.__name__}: {str(exc)[:200]})"
        ) from None
    if len(requests) != len(responses):
        raise CorruptFile(path, f"{len(requests)} requests but {len(responses)} responses")
    return requests, responses


def rewrite_cassette(
    path: Path, edit: Callable[[str, str], str], check: Callable[[str, object], None]
) -> bool:
    """Rewrite a cassette's request URIs, header values and bodies with ``edit(part, text)``.

    ``part`` is ``"uri"``, ``"header"`` or ``"body"``. The new text passes ``check`` (the leak guard)
    before it replaces the file, atomically. Returns whether anything changed (nothing is written if not).
    """
    requests, responses = _read_raw(path)
    changed = False

    def apply(part: str, text: str) -> str:
        nonlocal changed
        new = edit(part, text)
        changed = changed or new != text
        return new

    new_requests = [
        Request(
            request.method,
            apply("uri", request.uri),
            request.body,
            {name: apply("header", str(value)) for name, value in request.headers.items()},
        )
        for request in requests
    ]
    for response in responses:
        body = response["body"]["string"]
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
        except UnicodeDecodeError as exc:
            raise CorruptFile(path, f"a body is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        response["body"]["string"] = apply("body", text).encode("utf-8")
        response["headers"] = {
            name: [apply("header", str(value)) for value in values]
            for name, values in response["headers"].items()
        }
    if not changed:
        return False
    text = serialize({"requests": new_requests, "responses": responses}, _CompactJson)
    check(text, path)
    atomic_write_bytes(path, gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0))
    return True


def load_interactions(path: Path) -> Iterator[Interaction]:
    """The interactions of one cassette, in recorded order (no vcrpy replay involved).

    A cassette is committed data that anyone can edit: a malformed interaction raises ``CorruptFile``.
    """
    requests, responses = _read_raw(path)
    for index, (request, response) in enumerate(zip(requests, responses, strict=True)):
        try:
            body = response["body"]["string"]
            status = response["status"]["code"]
            if isinstance(status, bool) or not isinstance(status, int):
                raise TypeError(f"status code {status!r} is not a number")
            headers = {str(k).lower(): str(v[0]) for k, v in response["headers"].items() if v}
            text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
            uri, method = str(request.uri), str(request.method)
            sent = request.body
            sent_text = (
                sent.decode("utf-8") if isinstance(sent, bytes) else None if sent is None else str(sent)
            )
        except (KeyError, TypeError, AttributeError, IndexError, UnicodeDecodeError) as exc:
            why = f"interaction {index + 1} is malformed ({exc.__class__.__name__}: {str(exc)[:120]})"
            raise CorruptFile(path, why) from None
        yield Interaction(
            method=method, uri=uri, status=status, headers=headers, body=text, request_body=sent_text
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
        return deserialize(read_gzip(path).decode("utf-8"), serializer)

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
