"""The derived snapshot: a local, disposable binary copy of ``snapshot.json`` that reads only what is asked.

``snapshot.json`` stays the committed, human-readable truth. Parsing it is what every session paid:
a 5,000-PR snapshot is 80 MB of JSON (``json.loads`` about 0.8 s here, the models another 0.6 s),
whatever the session selects. The derived file holds the same snapshot as one ``marshal`` blob per
pull request (``codec``) and, at its end, an index (number, state, creation time, place of the blob):
a session that selects 100 PRs reads the index and those 100 blobs; one that takes them all builds
them in less than half the time ``json.loads`` alone takes. Measured in ``benchmarks/bench_session.py``.
Why ``marshal`` and not pickle or a database: see ``codec``; sqlite would add a query and a row per
PR for the same blobs.

Where and how long: in the system's temporary folder, per user (``layout.derived_dir``, mode 0700,
never in the cache dir, never committed), named by the snapshot's place and the SHA-256 of its
content. A changed ``snapshot.json`` has another hash, so its derived file is simply another file,
built on first use; the older ones of that place are deleted then. Hashing 80 MB costs about 60 ms,
so the hash is remembered beside it with the file's identity (device, inode, size, modification and
change times): a file whose identity did not change is not read again. Git's "racily clean" rule
applies: an identity is remembered only once the file's change time is a few seconds old, so a
rewrite within the file system's timestamp granularity is never mistaken for the old content.

Safe to share: files are written atomically (temporary name, ``os.replace``), so pytest-xdist workers
and other processes see a whole file or none; a file that does not check out (magic, format of the
models, hash, lengths, a CRC-32 per blob) is ignored and rebuilt. Nothing here touches the cache dir:
``ProjectStore.read_snapshot`` stays a pure read, and errors of ``snapshot.json`` itself
(``MissingFile``, ``CorruptFile``, ``IncompatibleSchema``) reach the caller unchanged, which heals.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import marshal
import mmap
import os
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from pytest_ghseed._files import atomic_write_bytes, atomic_write_chunks, file_identity
from pytest_ghseed.cache import codec
from pytest_ghseed.cache.layout import derived_dir, derived_key
from pytest_ghseed.cache.metadata import Metadata
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.errors import CacheError
from pytest_ghseed.models import FetchParams, PullRequest, Repository, Snapshot, bulk_loading, choose

_MAGIC = b"GHSEEDv1"
_FOOTER = 16  # the header's length (8 bytes, little-endian), then the magic
_SUFFIX = ".snap"
_MEMO_SUFFIX = ".stat"
#: An identity is remembered only when the file's change time is at least this old (seconds).
_RACY_SECONDS = 3.0
#: Derived files unused this long are deleted when another one is written (a file in use is touched
#: at most once a day, so that it stays).
_UNUSED_SECONDS = 14 * 86400
_TOUCH_SECONDS = 86400


class _Entry(NamedTuple):
    """One pull request in the index: what a selection needs, and where its blob is."""

    number: int
    state: str
    created_at: datetime
    offset: int
    length: int
    crc: int


class CachedSnapshot:
    """A cached snapshot: its header at once, pull requests built only when a selection asks for them."""

    def __init__(
        self,
        repository: Repository,
        recorded_at: datetime,
        params: FetchParams,
        *,
        full: Snapshot | None = None,
        path: Path | None = None,
        entries: Sequence[_Entry] = (),
        fallback: Callable[[], Snapshot] | None = None,
    ) -> None:
        self.repository = repository
        self.recorded_at = recorded_at
        self.params = params
        self._full = full
        self._path = path
        self._entries = tuple(entries)
        self._built: dict[int, PullRequest] = {}
        #: Where the PRs come from if the derived file breaks between its header and its blobs.
        self._fallback = fallback
        #: sha256 of the ``snapshot.json`` it was read from, when known (``load`` knows it).
        self.digest: str | None = None

    @property
    def numbers(self) -> tuple[int, ...]:
        """The pull-request numbers, in the snapshot's order (no pull request is built)."""
        if self._full is not None:
            return tuple(pr.number for pr in self._full.prs)
        return tuple(entry.number for entry in self._entries)

    def pulls(self, numbers: Sequence[int]) -> list[PullRequest]:
        """The pull requests of ``numbers`` that the snapshot holds, building only those."""
        wanted = set(numbers)
        if self._full is not None:
            return [pr for pr in self._full.prs if pr.number in wanted]
        prs = self._build([entry for entry in self._entries if entry.number in wanted])
        if prs is None:
            return [pr for pr in self._broken().prs if pr.number in wanted]
        return prs

    @classmethod
    def of(cls, snapshot: Snapshot) -> CachedSnapshot:
        """A snapshot already in memory (parsed from JSON, rebuilt from the cassettes)."""
        return cls(snapshot.repository, snapshot.recorded_at, snapshot.params, full=snapshot)

    def full(self) -> Snapshot:
        """Every pull request (built once)."""
        if self._full is None:
            prs = self._build(self._entries)
            if prs is None:
                return self._broken()
            self._full = Snapshot(
                repository=self.repository, recorded_at=self.recorded_at, prs=tuple(prs), params=self.params
            )
        return self._full

    def select(self, params: FetchParams) -> Snapshot:
        """``self.full().select(params)``, building only the pull requests it keeps."""
        if self._full is not None:
            return self._full.select(params)
        chosen = choose(self._entries, params)
        if len(chosen) == len(self._entries) and self.params == params:
            return self.full()
        prs = self._build(chosen)
        if prs is None:
            return self._broken().select(params)
        return Snapshot(
            repository=self.repository, recorded_at=self.recorded_at, prs=tuple(prs), params=params
        )

    def _build(self, entries: Sequence[_Entry]) -> list[PullRequest] | None:
        """The pull requests of ``entries``; None if the derived file broke since its header was read."""
        missing = [entry for entry in entries if entry.number not in self._built]
        if missing:
            assert self._path is not None
            try:
                with bulk_loading():
                    self._built.update(_read_pulls(self._path, missing))
            except CorruptDerived:
                return None
        return [self._built[entry.number] for entry in entries]

    def _broken(self) -> Snapshot:
        """The snapshot from the JSON, once the derived file turned out unusable (it is deleted)."""
        assert self._fallback is not None
        self._full = self._fallback()
        return self._full


def load(store: ProjectStore) -> CachedSnapshot:
    """The project's snapshot, from its derived file when there is a sound one, else from the JSON.

    Raises what ``store.read_snapshot`` raises (``MissingFile``, ``CorruptFile``, ``IncompatibleSchema``,
    ``CacheError``): the derived file only ever replaces a successful read of ``snapshot.json``.
    """
    folder = _own_folder()
    source = store.snapshot_path
    identity = file_identity(source)
    if folder is None or identity is None:
        return CachedSnapshot.of(store.read_snapshot())
    _prime_metadata(store, folder)
    key = derived_key(source)
    digest = _remembered_digest(folder / f"{key}{_MEMO_SUFFIX}", identity)
    if digest is not None:
        path = folder / f"{key}-{digest[:32]}{_SUFFIX}"
        found = _open(path, digest, store.read_snapshot)
        if found is not None:
            _touch(path)
            found.digest = digest
            return found
    raw = store.read_snapshot_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    sound = identity == file_identity(source)  # unchanged while it was read: the digest is of this identity
    derived = folder / f"{key}-{digest[:32]}{_SUFFIX}"
    found = _open(derived, digest, store.read_snapshot)
    if found is None:
        snapshot = store.parse_snapshot(raw)
        del raw
        _write(derived, snapshot, digest)
        _forget_others(folder, key, derived)
        found = CachedSnapshot.of(snapshot)
    if sound:
        _remember(folder / f"{key}{_MEMO_SUFFIX}", identity, digest)
    found.digest = digest
    return found


# -- the derived file ----------------------------------------------------------------------------------


def _write(path: Path, snapshot: Snapshot, digest: str) -> None:
    """Blobs first, as they are encoded (never all in memory), then the index and the footer."""
    entries: list[tuple[Any, ...]] = []

    def chunks() -> Iterator[bytes]:
        offset = 0
        for pr in snapshot.prs:
            # Equal strings of one PR (logins, emails, file statuses) stored once: fewer objects to build.
            blob = marshal.dumps(_shared_strings(codec.encode_pull(pr), {}))
            entries.append(
                (pr.number, pr.state, pr.created_at.isoformat(), offset, len(blob), zlib.crc32(blob))
            )
            offset += len(blob)
            yield blob
        header = marshal.dumps(
            (
                codec.FORMAT,
                digest,
                codec.encode_repository(snapshot.repository),
                snapshot.recorded_at.isoformat(),
                codec.encode_params(snapshot.params),
                tuple(entries),
                offset,
            )
        )
        yield header + len(header).to_bytes(8, "little") + _MAGIC

    # Optional by nature: a full disk or a read-only temp folder only costs the next load its speed.
    with contextlib.suppress(OSError, ValueError):
        atomic_write_chunks(path, chunks())


def _open(path: Path, digest: str, fallback: Callable[[], Snapshot]) -> CachedSnapshot | None:
    """The derived file's header as a ``CachedSnapshot``, or None if it is absent or does not check out."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size < _FOOTER:
                return None
            handle.seek(size - _FOOTER)
            footer = handle.read(_FOOTER)
            header_length = int.from_bytes(footer[:8], "little")
            if footer[8:] != _MAGIC or not 0 < header_length <= size - _FOOTER:
                return None
            handle.seek(size - _FOOTER - header_length)
            header = marshal.loads(handle.read(header_length))
        file_format, file_digest, repository, recorded_at, params, index, blobs_end = header
        if (
            file_format != codec.FORMAT
            or file_digest != digest
            or blobs_end != size - _FOOTER - header_length
        ):
            return None
        # tuple.__new__ straight: the named tuple's own __new__ is Python code, and there is one per PR.
        new, iso = tuple.__new__, datetime.fromisoformat
        entries: list[_Entry] = [
            new(_Entry, (number, state, iso(created), offset, length, crc))
            for number, state, created, offset, length, crc in index
        ]
        if any(entry.offset < 0 or entry.offset + entry.length > blobs_end for entry in entries):
            return None
        return CachedSnapshot(
            codec.decode_repository(repository),
            datetime.fromisoformat(recorded_at),
            codec.decode_params(params),
            path=path,
            entries=entries,
            fallback=fallback,
        )
    except (OSError, ValueError, EOFError, TypeError, IndexError, OverflowError):
        return None


def _read_pulls(path: Path, entries: Sequence[_Entry]) -> dict[int, PullRequest]:
    """The pull requests of ``entries``, read from ``path``; ``CorruptDerived`` if one does not check out.

    Through ``mmap``: the blobs are decoded straight from the page cache, never copied into one big
    bytes object first (for a full load that copy alone was 68 MB).
    """
    built: dict[int, PullRequest] = {}
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                for entry in entries:
                    blob = view[entry.offset : entry.offset + entry.length]
                    try:
                        if len(blob) != entry.length or zlib.crc32(blob) != entry.crc:
                            raise CorruptDerived(path)
                        pr = codec.decode_pull(marshal.loads(blob))
                    finally:
                        blob.release()  # the map cannot close while a view of it is alive
                    if pr.number != entry.number:
                        raise CorruptDerived(path)
                    built[entry.number] = pr
            finally:
                view.release()
    except (OSError, ValueError, EOFError, TypeError, IndexError, OverflowError, BufferError) as exc:
        raise CorruptDerived(path) from exc
    return built


class CorruptDerived(Exception):
    """A derived file changed or broke after its header was read (it is deleted; the next load rebuilds)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"derived snapshot {path} is unusable")
        with contextlib.suppress(OSError):
            path.unlink()


def _shared_strings(value: Any, seen: dict[str, str]) -> Any:
    if isinstance(value, str):
        return seen.setdefault(value, value)
    if isinstance(value, tuple):
        return tuple(_shared_strings(item, seen) for item in value)
    return value


# -- the metadata, remembered parsed -------------------------------------------------------------------

_META_SUFFIX = ".meta"
#: The metadata fields the memo carries, in order; a ``Metadata`` with other fields never uses it.
_META_FIELDS = (
    "project",
    "repository",
    "recorded_at",
    "tool_version",
    "schema_version",
    "pr_count",
    "params",
    "base_url",
    "pr_etags",
    "repository_etag",
    "covered",
    "numbers",
    "snapshot_sha256",
    "crawl",
    "pseudonymized",
    "pseudonym_salt",
    "graphql",
    "checked_at",
)


def _prime_metadata(store: ProjectStore, folder: Path) -> None:
    """Hand ``store`` its parsed metadata from a memo when ``metadata.json`` did not change since.

    At 5,000 PRs ``metadata.json`` is 2 MB of ETags: parsing and checking it costs 40-60 ms, more than
    reading 100 PRs from the derived file; the memo (``marshal``) costs a few. Same identity and
    racily-clean rules as the snapshot's digest. The store still reads the JSON itself when there is
    no sound memo, and a corrupt file reaches the caller as always.
    """
    if tuple(f.name for f in dataclasses.fields(Metadata)) != _META_FIELDS:
        return  # Metadata gained or lost a field: the memo would not carry it
    source = store.metadata_path
    identity = file_identity(source)
    if identity is None:
        return
    memo = folder / f"{derived_key(source)}{_META_SUFFIX}"
    try:
        remembered, encoded = marshal.loads(memo.read_bytes())
        if tuple(remembered) == identity:
            store.remember_metadata(identity, _decode_metadata(encoded))
            return
    except (OSError, ValueError, EOFError, TypeError, IndexError, KeyError):
        pass
    try:
        metadata = store.read_metadata()
    except CacheError:
        return
    if identity == file_identity(source) and time.time() - identity[-1] / 1e9 >= _RACY_SECONDS:
        with contextlib.suppress(OSError, ValueError):
            atomic_write_bytes(memo, marshal.dumps((identity, _encode_metadata(metadata))))


def _encode_metadata(metadata: Metadata) -> tuple[Any, ...]:
    return (
        metadata.project,
        metadata.repository,
        metadata.recorded_at.isoformat(),
        metadata.tool_version,
        metadata.schema_version,
        metadata.pr_count,
        codec.encode_params(metadata.params),
        metadata.base_url,
        metadata.pr_etags,
        metadata.repository_etag,
        tuple(codec.encode_params(selection) for selection in metadata.covered),
        metadata.numbers,
        metadata.snapshot_sha256,
        metadata.crawl,
        metadata.pseudonymized,
        metadata.pseudonym_salt,
        metadata.graphql,
        metadata.checked_at.isoformat() if metadata.checked_at is not None else None,
    )


def _decode_metadata(encoded: Sequence[Any]) -> Metadata:
    values = dict(zip(_META_FIELDS, encoded, strict=True))
    checked = values["checked_at"]
    return Metadata(
        **{
            **values,
            "recorded_at": datetime.fromisoformat(values["recorded_at"]),
            "params": codec.decode_params(values["params"]),
            "covered": tuple(codec.decode_params(selection) for selection in values["covered"]),
            "numbers": tuple(values["numbers"]),
            "graphql": tuple(values["graphql"]),
            "checked_at": datetime.fromisoformat(checked) if checked is not None else None,
        }
    )


# -- where, and the remembered digests -----------------------------------------------------------------


def _own_folder() -> Path | None:
    """The per-user folder of derived files, created private; None if it is not safely ours."""
    folder = derived_dir()
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        st = folder.lstat()
    except OSError:
        return None
    getuid = getattr(os, "getuid", None)
    # A folder someone else created (or a symbolic link) in a shared temp folder is not used.
    if folder.is_symlink() or (getuid is not None and st.st_uid != getuid()):
        return None
    return folder


def _remembered_digest(memo: Path, identity: tuple[int, ...]) -> str | None:
    try:
        remembered, digest = marshal.loads(memo.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return digest if tuple(remembered) == identity and isinstance(digest, str) else None


def _remember(memo: Path, identity: tuple[int, ...], digest: str) -> None:
    ctime = identity[-1] / 1e9
    if time.time() - ctime < _RACY_SECONDS:
        return  # racily clean: a same-size rewrite within the clock's granularity would look the same
    with contextlib.suppress(OSError, ValueError):
        atomic_write_bytes(memo, marshal.dumps((identity, digest)))


def _forget_others(folder: Path, key: str, keep: Path) -> None:
    """Delete the derived files of older contents of the same snapshot file, and any unused for long."""
    unused = time.time() - _UNUSED_SECONDS
    with contextlib.suppress(OSError):
        for path in folder.iterdir():
            stale = path.name.startswith(f"{key}-") and path.name.endswith(_SUFFIX) and path != keep
            with contextlib.suppress(OSError):
                if stale or (path != keep and path.stat().st_mtime < unused):
                    path.unlink()


def _touch(path: Path) -> None:
    """Mark a derived file as in use (at most once a day: a read should not write)."""
    with contextlib.suppress(OSError):
        if time.time() - path.stat().st_mtime > _TOUCH_SECONDS:
            os.utime(path)


__all__ = ["CachedSnapshot", "CorruptDerived", "load"]
