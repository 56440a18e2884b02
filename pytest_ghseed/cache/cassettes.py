"""Cassettes: the raw HTTP traffic of every fetch, in vcrpy's format, scrubbed of secrets.

Why not vcrpy's own recording: vcrpy 9.4 patches connection classes process-wide and is not
thread-safe (vcrpy issue #849); from a threaded crawl it silently loses most interactions. So the
fetcher hands every exchange to a ``CassetteRecorder`` (under a lock), and the recorder writes it
with vcrpy's own serializer API (``vcr.serialize.serialize``, ``vcr.request.Request``): the files
are vcrpy cassettes, loadable by ``vcr.use_cassette`` in a user's own test.

Sharded (see ``layout``: one shard per listing answer, one cassette per pull request, and one per
GraphQL query) so that each file is written once, when its unit of work is finished: a kill loses
nothing that the checkpoint counts as done, and memory holds no more than the answers of the pull
requests in flight. A listing answer (the repository, a page of the pull-request list or of a
repository-wide comment list) is written the moment it arrives, to a new shard of its own: nothing is
read back and rewritten, so the listing of a 5,000-PR crawl costs no more memory than one page. A
refresh holds its listing answers until it finds a change (``hold_listing``), and drops them if it
finds none. A GraphQL query answers for many pull requests at once, so its exchange gets a shard of
its own (``graphql-000001``, numbered in the order of the answers); its request body is recorded with
its ``Content-Type``, so vcrpy's ``body`` matcher finds it.
Files are gzip-compressed vcrpy JSON cassettes (see README, "Cassette format", for the measurement
behind that choice), compressed by ``compress`` alone (zlib-ng; any gzip reader reads them).
``GzipJsonPersister`` lets plain vcrpy load them; ``load_interactions`` reads them without vcrpy's
replay machinery (whose matching is O(n^2)).

Scrubbing, in depth: request headers are limited to what identifies the request (never
``Authorization``); cookies are dropped; a pseudonymized recording's people are replaced first, by
the ``people`` filter (``pseudonyms``); then the ``secrets`` module's ``Scrubber.clean`` takes the
exact text about to be written, once: it replaces the pool's token values (raw, JSON-escaped and
base64) and token-shaped strings in URLs, headers and bodies, proves the result clean, or refuses to
save.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zlib_ng import zlib_ng

from pytest_ghseed._files import atomic_write_bytes, fsync_dir, move_aside
from pytest_ghseed.cache.layout import (
    LISTING_SHARD,
    SHARD_SUFFIX,
    graphql_shard,
    graphql_shard_number,
    listing_sequence,
    listing_shard,
    pr_shard,
)
from pytest_ghseed.errors import CacheError, CorruptFile
from pytest_ghseed.pseudonyms import NO_PEOPLE, PeopleFilter
from pytest_ghseed.secrets import Scrubber, Token
from pytest_ghseed.traffic import Exchange, read_json

if TYPE_CHECKING:
    from vcr.request import Request

#: The version of vcrpy's cassette format (``vcr.serialize.CASSETTE_FORMAT_VERSION``) these files are.
_VCR_FORMAT = 1

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


#: zlib-ng at zlib's usual level: half of zlib's CPU time for files of the same size (real GitHub
#: answers 0.999x, the emulator's 1.02x; ``benchmarks/bench_compression.py``). Compressing was the
#: largest single cost of writing a crawl's cassettes.
COMPRESS_LEVEL = 6


def compress(text: str) -> bytes:
    """A cassette's text as its file's bytes (gzip): equal texts give equal bytes, whatever the day."""
    # wbits 31: a gzip header and trailer. The header's time is 0; its system byte, which zlib sets to
    # the system it was built for, becomes 255 ("unknown", RFC 1952) so the bytes do not name it.
    packed = zlib_ng.compress(text.encode("utf-8"), COMPRESS_LEVEL, wbits=31)
    return packed[:9] + b"\xff" + packed[10:]


class _CompactJson:
    """vcrpy's JSON serializer without indentation (vcrpy's json loader reads it unchanged)."""

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        return json.dumps(cassette_dict, ensure_ascii=False, separators=(",", ":")) + "\n"

    @staticmethod
    def deserialize(cassette_string: str) -> Any:
        # An escape in a committed cassette can spell a lone surrogate, which no UTF-8 file can hold
        # (writing this cassette again, the snapshot, or a replayed body would fail): it becomes U+FFFD.
        return read_json(cassette_string)


#: Where GraphQL exchanges wait until ``flush_graphql`` gives them a numbered shard.
_GRAPHQL = "graphql"


def shard_of(url: str) -> str:
    """The cassette an exchange belongs to: its pull request's, or the listing."""
    # The path is what precedes the query (a cheaper cut than urlsplit, asked on every request).
    match = _PR_PATH.search(url.partition("?")[0].partition("#")[0])
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
    """Collect exchanges from many threads; write each shard when its unit of work is finished.

    ``people``: replaces real people in what is written (a pseudonymized recording); ``hold_listing``:
    keep listing answers in memory until ``flush_listing`` (then write them and every later one as it
    arrives) or ``discard_listing`` (a refresh that changed nothing).
    """

    def __init__(
        self,
        cassette_dir: Path,
        secrets: Iterable[Token | str | None],
        people: PeopleFilter | None = None,
        *,
        hold_listing: bool = False,
    ) -> None:
        self.cassette_dir = cassette_dir
        self.scrubber = Scrubber(secrets)
        #: Replaces real people before anything is written, in a pseudonymized recording.
        self.people = people or NO_PEOPLE
        self._lock = threading.Lock()
        self._pending: dict[str, list[Exchange]] = {}
        self._graphql_next: int | None = None
        self._hold = hold_listing
        self._held: list[Exchange] = []
        self._next_listing: int | None = None
        #: Whether ``flush_pr`` wrote a cassette since the last ``sync``.
        self._unsynced = False
        self._sync_lock = threading.Lock()
        self.recorded = 0

    def __call__(self, exchange: Exchange) -> None:
        shard = _GRAPHQL if exchange.is_graphql else shard_of(exchange.url)
        with self._lock:
            if shard != LISTING_SHARD:
                self._pending.setdefault(shard, []).append(exchange)
                return
            if self._hold:
                self._held.append(exchange)
                return
            name = self._allocate_listing()
        # Written before the request returns to the fetcher: whatever it builds on this answer
        # (a pinned plan, comments of a PR the checkpoint will count as done) is on disk first.
        self._write(name, [exchange])

    def flush_pr(self, number: int) -> None:
        """Write the pending exchanges of pull request ``number`` (appended to its cassette), durable
        once ``sync`` returns: the writer of a crawl makes a batch of PRs durable with one fsync of the
        folder instead of one each (``fetch.fetcher._WRITE_WINDOW``)."""
        with self._lock:
            exchanges = self._pending.pop(pr_shard(number), [])
        if exchanges:
            self._write(pr_shard(number), exchanges, sync_dir=False)
            with self._lock:
                self._unsynced = True

    def sync(self) -> None:
        """Make every cassette ``flush_pr`` wrote durable: one fsync of the folder for them all.

        Under a lock of its own, held through the fsync: a thread whose cassette another thread's
        sync is already flushing waits for that fsync instead of returning before it is done (the
        GraphQL crawl finishes PRs in several threads).
        """
        with self._sync_lock:
            with self._lock:
                unsynced, self._unsynced = self._unsynced, False
            if unsynced:
                fsync_dir(self.cassette_dir)

    def discard_pr(self, number: int) -> None:
        """Forget the pending exchanges of pull request ``number`` (its cassette already holds its data)."""
        with self._lock:
            self._pending.pop(pr_shard(number), None)

    def flush_listing(self) -> None:
        """Write the held listing answers (one shard) and, from now on, each one as it arrives."""
        with self._lock:
            held, self._held, self._hold = self._held, [], False
            name = self._allocate_listing() if held else None
        if name is not None:
            self._write(name, held)

    def discard_listing(self) -> None:
        """Forget the held listing answers: a refresh that found nothing new writes no cassette."""
        with self._lock:
            self._held = []

    def discard_graphql(self) -> None:
        """Forget the GraphQL exchanges not yet written: a refresh that found nothing new writes no cassette."""
        with self._lock:
            self._pending.pop(_GRAPHQL, None)

    def flush_graphql(self) -> None:
        """Write the GraphQL exchanges received so far into the next numbered GraphQL shard."""
        with self._lock:
            if not self._pending.get(_GRAPHQL):
                return
            if self._graphql_next is None:
                # After a resumed crawl's shards: the numbers keep the order of every answer ever recorded.
                found = [graphql_shard_number(name) for name in self._shard_names()]
                self._graphql_next = max((n for n in found if n is not None), default=0) + 1
            name = graphql_shard(self._graphql_next)
            self._graphql_next += 1
            self._pending[name] = self._pending.pop(_GRAPHQL)
        self.flush(name)

    def flush(self, name: str) -> None:
        """Append the pending exchanges of one shard to its cassette file (atomically)."""
        with self._lock:
            exchanges = self._pending.pop(name, [])
        if exchanges:
            self._write(name, exchanges)

    def _shard_names(self) -> list[str]:
        try:
            return [p.name for p in self.cassette_dir.glob(f"*{SHARD_SUFFIX}")]
        except OSError:
            return []

    def _allocate_listing(self) -> str:
        """The next listing shard's name (called under the lock): one more than the highest on disk."""
        if self._next_listing is None:
            sequences = [n for n in map(listing_sequence, self._shard_names()) if n is not None]
            self._next_listing = max(sequences, default=0) + 1
        name = listing_shard(self._next_listing)
        self._next_listing += 1
        return name

    def _write(self, name: str, exchanges: list[Exchange], *, sync_dir: bool = True) -> None:
        exchanges = self.people.exchanges(name, exchanges)
        path = self.cassette_dir / f"{name}{SHARD_SUFFIX}"
        interactions: list[dict[str, Any]] = []
        if path.exists():
            from vcr.serializers.compat import convert_to_unicode

            try:
                old_requests, old_responses = _read_raw(path)
            except CorruptFile:
                # The new traffic is whole; the unreadable old file is kept aside, never deleted.
                move_aside(path)
            else:
                interactions.extend(
                    {"request": request._to_dict(), "response": convert_to_unicode(response)}
                    for request, response in zip(old_requests, old_responses, strict=True)
                )
        interactions.extend(_interaction(exchange) for exchange in exchanges)
        # vcrpy's own cassette layout (what ``vcr.serialize.serialize`` writes), without building
        # vcrpy's request objects only to turn them back into these dicts.
        text = _CompactJson.serialize({"version": _VCR_FORMAT, "interactions": interactions})
        # The one scan: the exact text about to be written.
        text = self.scrubber.clean(text, path)
        try:
            atomic_write_bytes(path, compress(text), sync_dir=sync_dir)
        except OSError as exc:
            msg = (
                f"cannot write the cassette {path}: {exc.strerror or exc}; check free space and permissions "
                "(finished PRs are kept in the checkpoint: rerun to go on)"
            )
            raise CacheError(msg) from exc
        with self._lock:
            self.recorded += len(exchanges)


def _interaction(exchange: Exchange) -> dict[str, Any]:
    """An exchange as one interaction of a vcrpy cassette, with only the headers worth keeping
    (unscrubbed: the writer scrubs the serialized text as a whole)."""
    request = {
        "method": exchange.method,
        "uri": exchange.url,
        # A GraphQL query's JSON, as vcrpy writes a str body; None for a GET.
        "body": exchange.request_body,
        "headers": {
            k: [v] for k, v in exchange.request_headers.items() if k.lower() in _KEPT_REQUEST_HEADERS
        },
    }
    response_headers = {
        k: [v] for k, v in exchange.response_headers.items() if k.lower() in _KEPT_RESPONSE_HEADERS
    }
    response = {
        "status": {"code": exchange.status, "message": _STATUS_TEXT.get(exchange.status, "")},
        "headers": response_headers,
        # A str: vcrpy's serializer writes it as it is (bytes would be decoded again).
        "body": {"string": exchange.body},
    }
    return {"request": request, "response": response}


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


def read_cassette_data(path: Path) -> Any:
    """The JSON of the cassette at ``path``, read as the recorder wrote it (a lone surrogate spelled by
    its escapes becomes U+FFFD, as wherever a recording is read); ``CorruptFile`` when it is not JSON."""
    try:
        return _CompactJson.deserialize(read_gzip(path).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CorruptFile(path, f"not a JSON cassette ({exc.__class__.__name__}: {str(exc)[:200]})") from None


def _read_raw(path: Path) -> tuple[list[Request], list[dict[str, Any]]]:
    from vcr.serialize import deserialize

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
    from vcr.request import Request
    from vcr.serialize import serialize

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
    atomic_write_bytes(path, compress(text))
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


def _gzip_json_persister() -> Any:
    """``GzipJsonPersister``, made on first use: vcrpy is imported only by what replays or reads."""
    from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
    from vcr.serialize import deserialize, serialize

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
            # Our own files: read as we write them (whatever serializer the user's VCR names).
            return deserialize(read_gzip(path).decode("utf-8"), _CompactJson)

        @staticmethod
        def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
            path = Path(cassette_path)
            if not path.name.endswith(".gz"):
                FilesystemPersister.save_cassette(cassette_path, cassette_dict, serializer)
                return
            text = serialize(cassette_dict, serializer)
            atomic_write_bytes(path, compress(text))

    GzipJsonPersister.__module__ = __name__
    GzipJsonPersister.__qualname__ = "GzipJsonPersister"
    return GzipJsonPersister


def __getattr__(name: str) -> Any:
    # ``GzipJsonPersister`` subclasses a vcrpy class: built on first access, so that recording (which
    # writes vcrpy's format itself) does not pay vcrpy's import.
    if name == "GzipJsonPersister":
        persister = _gzip_json_persister()
        globals()[name] = persister
        return persister
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def replay_vcr() -> Any:
    """A ``vcr.VCR`` set up to replay ghseed cassettes (gzip JSON) and never touch the network."""
    import vcr

    my_vcr = vcr.VCR(serializer="json", record_mode="none", decode_compressed_response=False)
    my_vcr.register_persister(__getattr__("GzipJsonPersister"))
    return my_vcr
