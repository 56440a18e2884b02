"""Where a project's cache lives: every folder and file name, defined once.

Layout of ``<cache_dir>/<project>/``::

    CACHEDIR.TAG                 marks the folder as ours (backup tools skip it); written first
    snapshot.json                the normalized pull requests (``Snapshot.to_dict()``), what fixtures load
    metadata.json                what was recorded and how (``Metadata``), written last
    checkpoint.json              progress of an unfinished fetch (+ checkpoint.prs.jsonl, its data log)
    refresh-checkpoint.json      progress of an unfinished refresh (+ its data log)
    repair-checkpoint.json       progress of re-recording lost cassettes (+ its data log)
    cassettes/listing-000001.json.gz  one answer of the listing (the repository, a page of the pull-
                                      request list or of a repository-wide comment list), each in its
                                      own shard, numbered in the order they arrived
    cassettes/pr-000042.json.gz  every request of pull request #42
    cassettes/graphql-000007.json.gz  the 7th GraphQL query recorded (it may answer for many PRs)

Caches recorded by 0.1 have one ``cassettes/listing.json.gz`` instead (every listing answer, appended
run after run); it is read as the first, oldest listing shard.

The derived snapshot files (``derived``: a binary copy of a snapshot, keyed by its content hash, for
fast partial reads) live outside the cache dir (which users commit), in the system's temporary folder,
per user. Nothing here reads or writes file contents except the tag.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pytest_ghseed.checkpoint import data_log_path
from pytest_ghseed.errors import CacheError

TAG = "CACHEDIR.TAG"
#: The tag's first line is the CACHEDIR.TAG standard's signature; the second says it is ours, and
#: only a folder whose tag has both is one pytest-ghseed may clear or rewrite.
TAG_TEXT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by pytest-ghseed.\n"
    "# For information about cache directory tags, see: https://bford.info/cachedir/spec.html\n"
)
_TAG_OWNER_LINE = "# This file is a cache directory tag created by pytest-ghseed."
SNAPSHOT = "snapshot.json"
METADATA = "metadata.json"
CHECKPOINT = "checkpoint.json"
REFRESH_CHECKPOINT = "refresh-checkpoint.json"
REPAIR_CHECKPOINT = "repair-checkpoint.json"
CASSETTES = "cassettes"
#: Cassette shards: gzip-compressed vcrpy JSON cassettes.
SHARD_SUFFIX = ".json.gz"
#: The one listing shard of caches recorded by 0.1 (read as the oldest listing shard).
LISTING_SHARD = "listing"
_PR_SHARD = re.compile(r"^pr-(\d{1,12})\.json\.gz$")
_GRAPHQL_SHARD = re.compile(r"^graphql-(\d{1,12})\.json\.gz$")
_LISTING_SHARD = re.compile(r"^listing(?:-(\d{1,12}))?\.json\.gz$")
#: The derived snapshots' folder name in the temporary folder (one per user: see ``derived_dir``).
DERIVED_FOLDER = "pytest-ghseed-derived"


def pr_shard(number: int) -> str:
    """The shard (file stem) holding pull request ``number``'s traffic: ``pr-000042``."""
    return f"pr-{number:06d}"


def graphql_shard(sequence: int) -> str:
    """The shard (file stem) of the ``sequence``-th GraphQL query recorded: ``graphql-000007``."""
    return f"graphql-{sequence:06d}"


def graphql_shard_number(file_name: str) -> int | None:
    """The sequence number of a GraphQL shard file name, or None for any other file."""
    match = _GRAPHQL_SHARD.match(file_name)
    return int(match.group(1)) if match else None


def listing_shard(sequence: int) -> str:
    """The shard (file stem) of the ``sequence``-th listing answer: ``listing-000001``."""
    return f"{LISTING_SHARD}-{sequence:06d}"


def listing_sequence(file_name: str) -> int | None:
    """The arrival number of a listing shard file (0 for 0.1's single ``listing.json.gz``), else None."""
    match = _LISTING_SHARD.match(file_name)
    if match is None:
        return None
    return int(match.group(1)) if match.group(1) is not None else 0


def shard_number(file_name: str) -> int | None:
    """The pull-request number of a shard file name, or None for the listing or any other file."""
    match = _PR_SHARD.match(file_name)
    return int(match.group(1)) if match else None


def is_our_tag(tag: Path) -> bool:
    """Whether ``tag`` is a CACHEDIR.TAG written by pytest-ghseed (not another tool's, not empty)."""
    try:
        if tag.is_symlink() or not tag.is_file():
            return False
        with tag.open("rb") as handle:
            head = handle.read(512).decode("utf-8", errors="replace")
    except OSError:
        return False
    lines = head.splitlines()
    return len(lines) >= 2 and lines[0] == TAG_TEXT.splitlines()[0] and lines[1] == _TAG_OWNER_LINE


def check_folder_name(folder: str) -> str:
    """``folder`` if it is a plain name inside the cache dir; a CacheError otherwise."""
    if not folder or "/" in folder or "\\" in folder or folder in (".", "..") or folder.startswith("."):
        msg = f"project folder name {folder!r} would escape the cache dir; use a plain project name"
        raise CacheError(msg)
    return folder


def project_folders(cache_dir: Path) -> list[str]:
    """Names of the folders in ``cache_dir`` that pytest-ghseed created (they carry our tag)."""
    try:
        entries = list(cache_dir.iterdir()) if cache_dir.is_dir() else []
    except OSError:
        return []
    return sorted(p.name for p in entries if not p.name.startswith(".") and is_our_tag(p / TAG))


def derived_dir() -> Path:
    """The folder of derived snapshot files: per user, in the temp folder (never in the cache dir)."""
    return Path(tempfile.gettempdir()) / f"{DERIVED_FOLDER}-{_user_key()}"


def derived_key(snapshot: Path) -> str:
    """A short name for a snapshot file's place (its absolute path): derived files of one place share it."""
    return hashlib.sha256(str(snapshot.resolve()).encode("utf-8")).hexdigest()[:16]


def _user_key() -> str:
    getuid = getattr(os, "getuid", None)
    if getuid is not None:
        return str(getuid())
    return hashlib.sha256(os.path.expanduser("~").encode("utf-8")).hexdigest()[:8]


def names_in(folder: Path) -> list[str]:
    """The names in ``folder``, unsorted ([] when it cannot be read): one ``scandir``, no ``Path`` per
    entry (a 5,000-PR cache has 5,000 shards, and every load looks at them)."""
    try:
        with os.scandir(folder) as entries:
            return [entry.name for entry in entries]
    except OSError:
        return []


@dataclass(frozen=True, slots=True)
class ProjectLayout:
    """The paths of one project's cache folder."""

    cache_dir: Path
    name: str

    def __post_init__(self) -> None:
        check_folder_name(self.name)

    @property
    def path(self) -> Path:
        return self.cache_dir / self.name

    @property
    def tag(self) -> Path:
        return self.path / TAG

    @property
    def snapshot(self) -> Path:
        return self.path / SNAPSHOT

    @property
    def metadata(self) -> Path:
        return self.path / METADATA

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT

    @property
    def refresh_checkpoint(self) -> Path:
        return self.path / REFRESH_CHECKPOINT

    @property
    def repair_checkpoint(self) -> Path:
        return self.path / REPAIR_CHECKPOINT

    @property
    def checkpoint_files(self) -> tuple[Path, ...]:
        """Every checkpoint and its data log."""
        return tuple(
            path
            for checkpoint in (self.checkpoint, self.refresh_checkpoint, self.repair_checkpoint)
            for path in (checkpoint, data_log_path(checkpoint))
        )

    @property
    def cassette_dir(self) -> Path:
        return self.path / CASSETTES

    @property
    def listing(self) -> Path:
        """0.1's single listing shard (newer caches have one shard per listing answer)."""
        return self.shard(LISTING_SHARD)

    def shard(self, stem: str) -> Path:
        return self.cassette_dir / f"{stem}{SHARD_SUFFIX}"

    def pr_cassette(self, number: int) -> Path:
        return self.shard(pr_shard(number))

    def graphql_cassettes(self) -> list[Path]:
        """The GraphQL shards, in the order they were recorded."""
        found = [(graphql_shard_number(p.name), p) for p in self.cassettes()]
        return [path for number, path in sorted((n, p) for n, p in found if n is not None)]

    def cassette_names(self) -> list[str]:
        """The names in the cassette folder (see ``names_in``)."""
        return names_in(self.cassette_dir)

    def cassettes(self) -> list[Path]:
        """Every cassette: the listing shards in arrival order, then the GraphQL shards, then by PR number."""
        try:
            found = [p for p in self.cassette_dir.glob(f"*{SHARD_SUFFIX}") if p.is_file()]
        except OSError:
            return []

        def order(path: Path) -> tuple[int, int, str]:
            sequence = listing_sequence(path.name)
            return (1, 0, path.name) if sequence is None else (0, sequence, path.name)

        return sorted(found, key=order)

    def listing_shards(self) -> list[Path]:
        """The listing shards, oldest first."""
        return [p for p in self.cassettes() if listing_sequence(p.name) is not None]
