"""A project's cache folder: pure reads, atomic writes, and quarantine as a separate, explicit step.

Like pytest's own cache: the folder is created atomically (built under a temporary name with its tag,
then renamed), every write is atomic (temp file, fsync, ``os.replace``). Reads change nothing: a file
that cannot be used raises ``CorruptFile`` (or ``IncompatibleSchema``) and stays where it is; the
caller that heals the cache (``seed``) decides to ``quarantine`` it, which moves it aside with the
reason, never deleting it. Read-only tools (``ghseed status``, ``ghseed verify``) just read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pytest_ghseed._files import UMASK, atomic_write_bytes, atomic_write_chunks, file_identity, move_aside
from pytest_ghseed.cache.layout import TAG, TAG_TEXT, ProjectLayout, is_our_tag, names_in
from pytest_ghseed.cache.metadata import Metadata
from pytest_ghseed.errors import CacheError, CorruptFile, IncompatibleSchema, MissingFile
from pytest_ghseed.jsontext import compact
from pytest_ghseed.models import SCHEMA_VERSION, PullRequest, Snapshot, bulk_loading
from pytest_ghseed.projects import fetch_command, project_name_of_folder
from pytest_ghseed.secrets import Scrubber


class ProjectStore:
    """The cache folder of one project: its layout, and the operations on its files."""

    def __init__(self, cache_dir: Path, folder: str) -> None:
        self.layout = ProjectLayout(Path(cache_dir), folder)
        self.cache_dir = self.layout.cache_dir
        self.path = self.layout.path
        self.name = folder
        #: The project's name as the ``ghseed`` command takes it (for the commands messages suggest).
        self.project = project_name_of_folder(folder)
        # The last metadata read, by the file's identity: one load reads it once, not once per question.
        self._metadata_memo: tuple[tuple[int, ...], Metadata] | None = None

    # -- paths (the layout's, for callers that hold a store) ---------------------------------------

    @property
    def snapshot_path(self) -> Path:
        return self.layout.snapshot

    @property
    def metadata_path(self) -> Path:
        return self.layout.metadata

    @property
    def checkpoint_path(self) -> Path:
        return self.layout.checkpoint

    @property
    def cassette_dir(self) -> Path:
        return self.layout.cassette_dir

    # -- state -------------------------------------------------------------------------------------

    def is_ours(self) -> bool:
        """Whether the folder exists and carries pytest-ghseed's own tag."""
        return not self.path.is_symlink() and is_our_tag(self.layout.tag)

    def exists(self) -> bool:
        """Whether a finished recording is here (metadata is written last, after the snapshot)."""
        return self.is_ours() and self.metadata_path.is_file()

    def lock(self, *, create: bool = True) -> contextlib.AbstractContextManager[None]:
        """One process (or thread) at a time writes the projects of this cache dir (xdist workers wait).

        An advisory ``flock`` on the cache dir itself: no lock file to pile up, to plant a symbolic link
        at, or to share with other users of the machine; released by the kernel if the process dies.
        The cache dir is created first if needed and ``create`` (a read-only one still locks: locking
        needs no write); without ``create``, a missing cache dir has nothing to protect.
        """
        if not create and not self.cache_dir.is_dir():
            return contextlib.nullcontext()
        return _directory_lock(self.cache_dir)

    # -- reading (pure) ----------------------------------------------------------------------------

    def read_metadata(self) -> Metadata:
        """The metadata; ``MissingFile`` or ``CorruptFile`` when it cannot be used. Changes nothing.

        Read again only when the file changed (another inode, size or time) since this store read it:
        at 5,000 PRs it is 2 MB of ETags, and one load asks for it several times.
        """
        identity = file_identity(self.metadata_path)
        memo = self._metadata_memo
        if memo is not None and identity is not None and memo[0] == identity:
            return memo[1]
        data = self._read_json(self.metadata_path)
        try:
            metadata = Metadata.from_dict(data)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise CorruptFile(self.metadata_path, f"unexpected content ({_describe(exc)})") from None
        if identity is not None and identity == file_identity(self.metadata_path):
            self._metadata_memo = (identity, metadata)
        return metadata

    def remember_metadata(self, identity: tuple[int, ...], metadata: Metadata) -> None:
        """Take ``metadata`` as the content of ``metadata.json`` while the file keeps ``identity``
        (``cache.derived`` hands over a parsed copy it kept; nothing is written)."""
        self._metadata_memo = (identity, metadata)

    def read_snapshot(self) -> Snapshot:
        """The snapshot; ``MissingFile``, ``CorruptFile`` or ``IncompatibleSchema``. Changes nothing."""
        return self.parse_snapshot(self.read_snapshot_bytes())

    def read_snapshot_bytes(self) -> bytes:
        """The bytes of ``snapshot.json``; ``MissingFile`` or ``CacheError``. Changes nothing."""
        return self._read_bytes(self.snapshot_path)

    def parse_snapshot(self, raw: bytes) -> Snapshot:
        """The snapshot in ``raw`` (the bytes of ``snapshot.json``); ``CorruptFile``, ``IncompatibleSchema``."""
        with bulk_loading():
            data = self._parse_json(self.snapshot_path, raw)
            version = data.get("schema_version") if isinstance(data, dict) else None
            if version != SCHEMA_VERSION:
                msg = (
                    f"{self.snapshot_path} has schema_version {version!r}; this pytest-ghseed reads "
                    f"{SCHEMA_VERSION}. Run `ghseed rebuild {self.project} --cache-dir {self.cache_dir}` to "
                    "rebuild it from the cassettes"
                )
                raise IncompatibleSchema(msg)
            try:
                return Snapshot.from_dict(data)
            except (KeyError, TypeError, ValueError, OverflowError) as exc:
                raise CorruptFile(self.snapshot_path, f"unexpected content ({_describe(exc)})") from None

    def _read_json(self, path: Path) -> Any:
        return self._parse_json(path, self._read_bytes(path))

    def _read_bytes(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            msg = f"{path} does not exist; record it with `{fetch_command(self.project, self.cache_dir)}`"
            raise MissingFile(msg) from None
        except OSError as exc:
            msg = f"cannot read {path}: {exc.strerror or exc}; check its permissions"
            raise CacheError(msg) from None

    def _parse_json(self, path: Path, raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise CorruptFile(path, f"not valid JSON ({_describe(exc)})") from None

    # -- writing -----------------------------------------------------------------------------------

    def ensure(self) -> Path:
        """Create the project folder atomically with its tag; return it."""
        if self.is_ours():
            return self.path
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{self.name}.", dir=self.cache_dir))
            staging.chmod(0o777 & ~UMASK)  # mkdtemp creates 0700
            (staging / TAG).write_text(TAG_TEXT, encoding="utf-8")
            try:
                staging.rename(self.path)
            except OSError:
                # Another process (an xdist worker) made it first, or an older folder without a tag exists.
                shutil.rmtree(staging, ignore_errors=True)
                self.path.mkdir(parents=True, exist_ok=True)
                if not is_our_tag(self.layout.tag):
                    atomic_write_bytes(self.layout.tag, TAG_TEXT.encode())
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        return self.path

    def save(
        self,
        snapshot: Snapshot,
        metadata: Metadata,
        scrubber: Scrubber | None = None,
        written: Callable[[PullRequest], str | None] | None = None,
    ) -> Snapshot:
        """Write snapshot then metadata; metadata last, so its presence means the snapshot is whole.

        The snapshot is written as it is serialized, one pull request at a time (the whole text of a
        5,000-PR snapshot is 80 MB, and its dicts several times that). With a ``scrubber``, every
        piece passes its ``clean`` on the way to the file (the one scan for secrets); a pull request
        it changed is read back, so the snapshot returned is exactly the one on disk. The metadata
        records the sha256 of the bytes written, so that a crash between the two writes is seen
        (``snapshot_matches``).

        ``written``: a pull request's JSON (``dump_json(pr.to_dict())``) already serialized and scanned
        by the same scrubber on its way to another file (the checkpoint), or None; such text is
        written as it is, not serialized and scanned a second time.
        """
        scrubbed: dict[int, PullRequest] = {}
        digest = hashlib.sha256()
        # Pieces meet at JSON punctuation, which no token contains: scanning them one by one is
        # scanning the whole, unless a configured secret itself contains such punctuation.
        by_piece = scrubber is None or not scrubber.spans(",{}[]")

        def chunks() -> Iterator[bytes]:
            for pr, piece, reused in snapshot_json_pieces(snapshot, written):
                if reused:
                    pass  # scanned when the checkpoint wrote it: the same bytes, the same scrubber
                elif scrubber is not None:
                    cleaned = scrubber.clean(piece, self.snapshot_path)
                    if cleaned is not piece:
                        if pr is None:
                            raise _FrameChanged  # the repository's own fields: written whole below
                        scrubbed[pr.number] = PullRequest.from_dict(json.loads(cleaned.lstrip(",")))
                    piece = cleaned
                chunk = piece.encode("utf-8")
                digest.update(chunk)
                yield chunk

        try:
            self.ensure()
            try:
                if not by_piece:
                    raise _FrameChanged
                atomic_write_chunks(self.snapshot_path, chunks())
            except _FrameChanged:
                assert scrubber is not None
                cleaned = scrubber.clean(dump_json(snapshot.to_dict()).decode("utf-8"), self.snapshot_path)
                snapshot, scrubbed = Snapshot.from_dict(json.loads(cleaned)), {}
                data = cleaned.encode("utf-8")
                digest = hashlib.sha256(data)
                atomic_write_bytes(self.snapshot_path, data)
            self.save_metadata(dataclasses.replace(metadata, snapshot_sha256=digest.hexdigest()), scrubber)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        if scrubbed:
            prs = tuple(scrubbed.get(pr.number, pr) for pr in snapshot.prs)
            snapshot = Snapshot(
                repository=snapshot.repository,
                recorded_at=snapshot.recorded_at,
                prs=prs,
                params=snapshot.params,
            )
        return snapshot

    def save_metadata(self, metadata: Metadata, scrubber: Scrubber | None = None) -> None:
        """Write ``metadata.json`` alone, beside the snapshot already on disk (a refresh that found nothing
        new, or metadata described again for an intact snapshot). It records ``metadata.snapshot_sha256``
        as given; ``snapshot_digest`` computes it for the file on disk."""
        text = dump_json(metadata.to_dict(), indent=2).decode("utf-8")
        if scrubber is not None:
            text = scrubber.clean(text, self.metadata_path)
        try:
            self.ensure()
            atomic_write_bytes(self.metadata_path, text.encode("utf-8"))
        except OSError as exc:
            raise _write_error(self.path, exc) from exc

    def snapshot_digest(self) -> str | None:
        """sha256 of snapshot.json as it is on disk, or None when it cannot be read."""
        digest = hashlib.sha256()
        try:
            with self.snapshot_path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
        except OSError:
            return None
        return digest.hexdigest()

    def snapshot_matches(self, metadata: Metadata) -> bool:
        """Whether snapshot.json is the one written with ``metadata`` (older metadata does not say: True)."""
        if metadata.snapshot_sha256 is None:
            return True
        return self.snapshot_digest() == metadata.snapshot_sha256

    def clear_leftovers(self) -> list[str]:
        """Remove what an interrupted write leaves behind; the caller holds the lock. Returns notes.

        Temporary files of atomic writes (``.<name>.<random>.tmp``) beside the project's files and
        cassettes, and staging folders (``.<name>.<random>``) of folder creation in the cache dir:
        while the lock is held nobody else is writing them, so they are debris of a killed process.
        """
        removed: list[str] = []
        for folder in (self.path, self.cassette_dir):
            # Names first: the cassette folder of a 5,000-PR cache has 5,000 entries, and this runs on
            # every load (14 ms with a Path per entry, 6 ms without).
            for name in names_in(folder):
                if not (name.startswith(".") and name.endswith(".tmp")):
                    continue
                leftover = folder / name
                if leftover.is_file():
                    with contextlib.suppress(OSError):
                        leftover.unlink()
                        removed.append(name)
        for staging in _entries(self.cache_dir):
            # Only a staging folder holds nothing but our own tag (a user's hidden folder is left).
            if (
                staging.name.startswith(".")
                and staging.is_dir()
                and not staging.is_symlink()
                and {p.name for p in _entries(staging)} == {TAG}
                and is_our_tag(staging / TAG)
            ):
                shutil.rmtree(staging, ignore_errors=True)
                removed.append(staging.name)
        if not removed:
            return []
        shown = ", ".join(removed[:3]) + (" ..." if len(removed) > 3 else "")
        return [f"removed {len(removed)} file(s) left by an interrupted run ({shown})"]

    def remove_if_empty(self) -> bool:
        """Remove the project folder if it holds nothing recorded (a first fetch that failed early)."""
        if not self.is_ours():
            return False
        names = {p.name for p in _entries(self.path)}
        if not names <= {TAG, self.cassette_dir.name} or any(True for _ in _entries(self.cassette_dir)):
            return False
        shutil.rmtree(self.path, ignore_errors=True)
        return True

    def quarantine(self, path: Path) -> Path:
        """Move an unusable file of this project aside (``<name>.corrupt-<UTC time>``); never deletes."""
        return move_aside(path)

    def remove(self) -> None:
        """Delete the whole project folder, only if it carries our own tag (never another tool's folder)."""
        if self.path.is_symlink() or (self.path.exists() and not is_our_tag(self.layout.tag)):
            msg = (
                f"refusing to remove {self.path}: it has no pytest-ghseed {TAG} (or is a symbolic link), so "
                "pytest-ghseed did not create it; remove it yourself if you are sure"
            )
            raise CacheError(msg)
        try:
            shutil.rmtree(self.path)
        except FileNotFoundError:
            return
        except OSError as exc:
            msg = f"cannot remove {self.path}: {exc.strerror or exc}; check its permissions"
            raise CacheError(msg) from exc


@contextlib.contextmanager
def _directory_lock(folder: Path) -> Iterator[None]:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        msg = f"the cache dir {folder} exists but is not a folder; point --cache-dir elsewhere or remove it"
        raise CacheError(msg) from None
    except OSError as exc:
        if not folder.is_dir():
            msg = (
                f"cannot create the cache dir {folder}: {exc.strerror or exc}; check its parent's permissions"
            )
            raise CacheError(msg) from None
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: a lock file in the temp folder, as filelock does it
        from filelock import FileLock

        key = hashlib.sha256(str(folder.resolve()).encode("utf-8")).hexdigest()[:16]
        with FileLock(str(Path(tempfile.gettempdir()) / f"pytest-ghseed-{key}.lock")):
            yield
        return
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError as exc:
        msg = f"cannot open the cache dir {folder} to lock it: {exc.strerror or exc}; check its permissions"
        raise CacheError(msg) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def dump_json(data: Any, *, indent: int | None = None) -> bytes:
    """Compact, stable JSON bytes (sorted keys make diffs of committed caches small)."""
    if indent is None:
        return compact(data).encode("utf-8")
    return json.dumps(data, ensure_ascii=False, indent=indent, sort_keys=True).encode("utf-8")


_PRS_KEY = '"prs":[]'


def snapshot_json_pieces(
    snapshot: Snapshot, written: Callable[[PullRequest], str | None] | None = None
) -> Iterator[tuple[PullRequest | None, str, bool]]:
    """``dump_json(snapshot.to_dict())`` as text, piece by piece: (its PR or None for the frame, the
    text, whether the text came from ``written``).

    Joined, the pieces are exactly that text (the same sorted keys and separators); produced one
    pull request at a time, they never hold the whole snapshot's text or dicts in memory. ``written``
    gives a PR's text already serialized elsewhere (see ``ProjectStore.save``).
    """
    empty = Snapshot(
        repository=snapshot.repository, recorded_at=snapshot.recorded_at, prs=(), params=snapshot.params
    )
    frame = dump_json(empty.to_dict()).decode("utf-8")
    # Keys are sorted, and a quote inside a string is escaped: the one unescaped '"prs":[]' is the key.
    head, tail = frame.split(_PRS_KEY, 1)
    yield None, head + '"prs":[', False
    for index, pr in enumerate(snapshot.prs):
        text = written(pr) if written is not None else None
        reused = text is not None
        if text is None:
            text = dump_json(pr.to_dict()).decode("utf-8")
        yield pr, ("," if index else "") + text, reused
    yield None, "]" + tail, False


class _FrameChanged(Exception):
    """The scrubber changed a frame piece (the repository's fields): the snapshot is written whole."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = str(exc)
    return f"{exc.__class__.__name__}: {text[:200]}"


def _write_error(path: Path, exc: OSError) -> CacheError:
    return CacheError(
        f"cannot write the cache in {path}: {exc.strerror or exc}; check free space and permissions "
        "(fetched data is kept in the checkpoint: rerun to save it)"
    )


__all__ = [
    "CorruptFile",
    "IncompatibleSchema",
    "MissingFile",
    "ProjectStore",
    "dump_json",
]
