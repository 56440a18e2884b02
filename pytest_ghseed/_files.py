"""Durable file operations shared by the cache and the checkpoint.

A reader sees a file's old content or its new content, never half of it; an unusable file is moved
aside, never deleted. Neutral ground: ``cache`` and ``fetch`` both use it without importing each other.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pytest_ghseed.errors import CacheError


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any thread writes.
    current = os.umask(0)
    os.umask(current)
    return current


UMASK = _read_umask()


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` survive a power cut (not possible on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Replace ``path`` with ``data``: temp file in the same folder, fsync, ``os.replace``, fsync the folder.

    ``sync_dir=False`` leaves the folder's fsync to the caller, who makes several new names durable
    with one ``fsync_dir`` (a reader sees the old or the new content either way; only a power cut
    before that fsync could lose the new name).
    """
    atomic_write_chunks(path, (data,), sync_dir=sync_dir)


def atomic_write_chunks(path: Path, chunks: Iterable[bytes], *, sync_dir: bool = True) -> None:
    """``atomic_write_bytes`` of the concatenated ``chunks``, written as they come (never all in memory).

    If producing a chunk raises, the temporary file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same directory as the target: os.replace is atomic only within one file system.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; a replaced file keeps its own mode (a private export stays private),
        # a new one gets the usual mode (a cache meant to be committed and shared).
        if hasattr(os, "fchmod"):
            try:
                mode = path.stat().st_mode & 0o7777
            except OSError:
                mode = 0o666 & ~UMASK
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def append_durably(path: Path, payload: bytes) -> int:
    """Append one record and fsync it: once this returns, the record survives a crash.

    Returns the offset where the record starts (callers that append under one lock can read it back).
    """
    created = not path.exists()
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
    # One write call per record: with O_APPEND the kernel places it at the end in one piece.
    with path.open("ab") as handle:
        handle.write(payload)
        handle.flush()
        end = handle.tell()
        os.fsync(handle.fileno())
    if created:
        fsync_dir(path.parent)
    return end - len(payload)


def file_identity(path: Path) -> tuple[int, ...] | None:
    """What changes whenever a file is replaced or rewritten: device, inode, size, modification and
    change times (the change time cannot be set back by hand); None if it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def aside_path(path: Path, kind: str = "corrupt") -> Path:
    """``<name>.<kind>-<UTC time>``, with a counter when two land in the same second."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{kind}-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.{kind}-{stamp}-{n}")
        n += 1
    return target


def move_aside(path: Path, kind: str = "corrupt") -> Path:
    """Rename ``path`` to ``<name>.<kind>-<UTC time>`` and return the new path; never deletes."""
    target = aside_path(path, kind)
    try:
        os.replace(path, target)
    except OSError as exc:
        msg = f"cannot move unusable {path} aside to {target.name}: {exc}; move or delete it by hand"
        raise CacheError(msg) from exc
    return target
