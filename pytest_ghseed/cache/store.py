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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_ghseed._files import UMASK, atomic_write_bytes, move_aside
from pytest_ghseed.cache.layout import TAG, TAG_TEXT, ProjectLayout, is_our_tag
from pytest_ghseed.cache.metadata import Metadata
from pytest_ghseed.errors import CacheError, CorruptFile, IncompatibleSchema, MissingFile
from pytest_ghseed.models import SCHEMA_VERSION, Snapshot, bulk_loading
from pytest_ghseed.projects import project_name_of_folder


class ProjectStore:
    """The cache folder of one project: its layout, and the operations on its files."""

    def __init__(self, cache_dir: Path, folder: str) -> None:
        self.layout = ProjectLayout(Path(cache_dir), folder)
        self.cache_dir = self.layout.cache_dir
        self.path = self.layout.path
        self.name = folder
        #: The project's name as the ``ghseed`` command takes it (for the commands messages suggest).
        self.project = project_name_of_folder(folder)

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
        """The metadata; ``MissingFile`` or ``CorruptFile`` when it cannot be used. Changes nothing."""
        data = self._read_json(self.metadata_path)
        try:
            return Metadata.from_dict(data)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise CorruptFile(self.metadata_path, f"unexpected content ({_describe(exc)})") from None

    def read_snapshot(self) -> Snapshot:
        """The snapshot; ``MissingFile``, ``CorruptFile`` or ``IncompatibleSchema``. Changes nothing."""
        with bulk_loading():
            data = self._read_json(self.snapshot_path)
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
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            msg = f"{path} does not exist; record it with `ghseed fetch {self.project} --cache-dir {self.cache_dir}`"
            raise MissingFile(msg) from None
        except OSError as exc:
            msg = f"cannot read {path}: {exc.strerror or exc}; check its permissions"
            raise CacheError(msg) from None
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

    def save(self, snapshot: Snapshot, metadata: Metadata, snapshot_bytes: bytes | None = None) -> Metadata:
        """Write snapshot then metadata; metadata last, so its presence means the snapshot is whole.

        ``snapshot_bytes``: the snapshot already serialized (and checked for secrets) by the caller.
        The metadata records the snapshot's sha256, so that a crash between the two writes is seen
        (``snapshot_matches``). Returns the metadata as written.
        """
        data = snapshot_bytes if snapshot_bytes is not None else dump_json(snapshot.to_dict())
        written = dataclasses.replace(metadata, snapshot_sha256=hashlib.sha256(data).hexdigest())
        try:
            self.ensure()
            atomic_write_bytes(self.snapshot_path, data)
            atomic_write_bytes(self.metadata_path, dump_json(written.to_dict(), indent=2))
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        return written

    def snapshot_matches(self, metadata: Metadata) -> bool:
        """Whether snapshot.json is the one written with ``metadata`` (older metadata does not say: True)."""
        if metadata.snapshot_sha256 is None:
            return True
        try:
            digest = hashlib.sha256(self.snapshot_path.read_bytes()).hexdigest()
        except OSError:
            return False
        return digest == metadata.snapshot_sha256

    def clear_leftovers(self) -> list[str]:
        """Remove what an interrupted write leaves behind; the caller holds the lock. Returns notes.

        Temporary files of atomic writes (``.<name>.<random>.tmp``) beside the project's files and
        cassettes, and staging folders (``.<name>.<random>``) of folder creation in the cache dir:
        while the lock is held nobody else is writing them, so they are debris of a killed process.
        """
        removed: list[str] = []
        for folder in (self.path, self.cassette_dir):
            for leftover in _entries(folder):
                if leftover.name.startswith(".") and leftover.name.endswith(".tmp") and leftover.is_file():
                    with contextlib.suppress(OSError):
                        leftover.unlink()
                        removed.append(leftover.name)
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
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return json.dumps(data, ensure_ascii=False, indent=indent, sort_keys=True).encode("utf-8")


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
