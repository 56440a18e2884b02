"""The cache on disk: one folder per project under the cache dir.

Layout of ``<cache_dir>/<project>/``::

    CACHEDIR.TAG        marks the folder as a cache (backup tools skip it); written before anything else
    snapshot.json       the normalized pull requests (``Snapshot.to_dict()``), what fixtures load
    metadata.json       repository, recorded_at, tool and schema versions, PR count, fetch parameters, ETags
    checkpoint.json     progress of an unfinished fetch (+ checkpoint.prs.jsonl, its append-only data)
    cassettes/          the raw HTTP traffic, in vcrpy's cassette format

Like pytest's own cache: the folder is created atomically (built under a temporary name with its
marker, then renamed), every write is atomic (temp file, fsync, ``os.replace``), and a file that
cannot be read is moved aside with the reason, never deleted silently.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_ghseed._files import UMASK, atomic_write_bytes, move_aside
from pytest_ghseed.errors import CacheError
from pytest_ghseed.models import SCHEMA_VERSION, Snapshot, bulk_loading, format_datetime, parse_datetime

TOOL_VERSION = "0.1.0"
MARKER = "CACHEDIR.TAG"
_MARKER_TEXT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by pytest-ghseed.\n"
    "# For information about cache directory tags, see: https://bford.info/cachedir/spec.html\n"
)


@dataclass(frozen=True, slots=True)
class Metadata:
    """What the cache knows about a recorded project, without loading the pull requests."""

    project: str
    repository: str
    recorded_at: datetime
    tool_version: str
    schema_version: int
    pr_count: int
    params: dict[str, Any]
    base_url: str
    etags: dict[str, dict[str, str]]
    #: Every selection (fetch parameters) whose PRs are all in the snapshot; ``params`` is the first.
    covered: list[dict[str, Any]] = field(default_factory=list)
    #: The PR numbers in the snapshot, so that a rebuild from the cassettes takes exactly these.
    numbers: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "repository": self.repository,
            "recorded_at": format_datetime(self.recorded_at),
            "tool_version": self.tool_version,
            "schema_version": self.schema_version,
            "pr_count": self.pr_count,
            "params": self.params,
            "base_url": self.base_url,
            "etags": self.etags,
            "covered": self.covered or [self.params],
            "numbers": self.numbers,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metadata:
        recorded = parse_datetime(data["recorded_at"])
        if recorded is None:
            msg = "metadata.json has no recorded_at"
            raise ValueError(msg)
        return cls(
            project=str(data["project"]),
            repository=str(data["repository"]),
            recorded_at=recorded,
            tool_version=str(data["tool_version"]),
            schema_version=int(data["schema_version"]),
            pr_count=int(data["pr_count"]),
            params=dict(data["params"]),
            base_url=str(data.get("base_url", "")),
            etags={str(k): dict(v) for k, v in (data.get("etags") or {}).items()},
            covered=[dict(c) for c in data.get("covered") or [data["params"]]],
            numbers=[int(n) for n in data.get("numbers") or []],
        )

    def age_seconds(self, now: datetime | None = None) -> float:
        current = now or datetime.now(UTC)
        return (current - self.recorded_at).total_seconds()


class ProjectStore:
    """The cache folder of one project."""

    def __init__(self, cache_dir: Path, folder: str) -> None:
        if not folder or "/" in folder or "\\" in folder or folder in (".", "..") or folder.startswith("."):
            msg = f"project folder name {folder!r} would escape the cache dir; use a plain project name"
            raise CacheError(msg)
        self.cache_dir = Path(cache_dir)
        self.path = self.cache_dir / folder
        self.name = folder

    @property
    def snapshot_path(self) -> Path:
        return self.path / "snapshot.json"

    @property
    def metadata_path(self) -> Path:
        return self.path / "metadata.json"

    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoint.json"

    @property
    def cassette_dir(self) -> Path:
        return self.path / "cassettes"

    @property
    def lock_path(self) -> Path:
        """The lock that lets one process at a time fetch into this folder (pytest-xdist workers).

        It lives in the system's temporary folder, keyed by the folder's absolute path, so that the
        cache dir, which users commit, holds nothing but recordings.
        """
        key = hashlib.sha256(str(self.path.resolve()).encode("utf-8")).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / "pytest-ghseed-locks" / f"{self.name}-{key}.lock"

    def lock(self) -> Any:
        """A ``filelock.FileLock`` on ``lock_path``."""
        from filelock import FileLock

        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.lock_path))

    def exists(self) -> bool:
        return self.snapshot_path.is_file() and self.metadata_path.is_file()

    def ensure(self) -> Path:
        """Create the project folder atomically with its marker; return it."""
        if (self.path / MARKER).is_file():
            return self.path
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.name}.", dir=self.cache_dir))
        staging.chmod(0o777 & ~UMASK)  # mkdtemp creates 0700
        (staging / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        try:
            staging.rename(self.path)
        except OSError:
            # Another process (an xdist worker) made it first, or an older folder without a marker exists.
            (staging / MARKER).unlink()
            staging.rmdir()
            self.path.mkdir(parents=True, exist_ok=True)
            if not (self.path / MARKER).exists():
                atomic_write_bytes(self.path / MARKER, _MARKER_TEXT.encode())
        return self.path

    def save(self, snapshot: Snapshot, metadata: Metadata) -> None:
        """Write snapshot then metadata; metadata last, so its presence means the snapshot is whole."""
        try:
            self.ensure()
            atomic_write_bytes(self.snapshot_path, dump_json(snapshot.to_dict()))
            atomic_write_bytes(self.metadata_path, dump_json(metadata.to_dict(), indent=2))
        except OSError as exc:
            msg = (
                f"cannot write the cache in {self.path}: {exc}; check free space and permissions "
                "(the fetched data is kept in the checkpoint: rerun to save it)"
            )
            raise CacheError(msg) from exc

    def load_metadata(self) -> Metadata:
        data = self._read_json(self.metadata_path)
        try:
            return Metadata.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise self._corrupt(self.metadata_path, f"unexpected content ({exc})") from None

    def load_snapshot(self) -> Snapshot:
        with bulk_loading():
            return self._load_snapshot()

    def _load_snapshot(self) -> Snapshot:
        data = self._read_json(self.snapshot_path)
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version != SCHEMA_VERSION:
            msg = (
                f"{self.snapshot_path} has schema_version {version!r}; this pytest-ghseed reads "
                f"{SCHEMA_VERSION}. Run `ghseed rebuild {self.name} --cache-dir {self.cache_dir}` to "
                "rebuild it from the cassettes"
            )
            raise CacheError(msg)
        try:
            return Snapshot.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise self._corrupt(self.snapshot_path, f"unexpected content ({exc})") from None

    def _read_json(self, path: Path) -> Any:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            msg = f"{path} does not exist; record it with `ghseed fetch {self.name} --cache-dir {self.cache_dir}`"
            raise CacheError(msg) from None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise self._corrupt(path, f"not valid JSON ({exc.__class__.__name__}: {exc})") from None

    def _corrupt(self, path: Path, why: str) -> CacheError:
        moved = move_aside(path)
        msg = f"{path} is corrupt: {why}; moved aside to {moved.name}. It will be fetched again."
        return CacheError(msg)


def dump_json(data: Any, *, indent: int | None = None) -> bytes:
    """Compact, stable JSON bytes (sorted keys make diffs of committed caches small)."""
    if indent is None:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return json.dumps(data, ensure_ascii=False, indent=indent, sort_keys=True).encode("utf-8")
