"""Read-only looks at a cache: what each project holds (``status``) and whether it is sound and free
of secrets (``verify``). The ``ghseed`` command formats what these return.

Nothing here writes, moves or deletes: ``verify`` runs as a pre-commit hook, and a hook that moved a
corrupt file aside would change the commit under the user's feet. Every read goes through the
store's pure readers, the secret scan through the ``secrets`` module's scrubber: the same rules as
the writers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pytest_ghseed.cache.cassettes import read_gzip
from pytest_ghseed.cache.layout import shard_number
from pytest_ghseed.cache.metadata import Metadata
from pytest_ghseed.cache.rebuild import snapshot_from_cassettes
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.checkpoint import read_progress
from pytest_ghseed.errors import CacheError, CorruptFile
from pytest_ghseed.models import SCHEMA_VERSION, Snapshot
from pytest_ghseed.projects import fetch_command
from pytest_ghseed.secrets import Scrubber, Token

# -- status ---------------------------------------------------------------------------------------------


def _size(paths: Iterable[Path]) -> int:
    total = 0
    for path in paths:
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def _checkpoint_state(store: ProjectStore, has_snapshot: bool) -> dict[str, Any]:
    """Complete, or how far an interrupted fetch got."""
    progress = read_progress(store.checkpoint_path)
    if progress is None:
        return {"state": "complete" if has_snapshot else "empty", "plan": None, "fetched": None}
    if not progress.readable:
        return {"state": "unreadable", "plan": None, "fetched": None}
    return {"state": "interrupted", "plan": progress.planned, "fetched": progress.fetched}


def project_status(store: ProjectStore, now: datetime | None = None) -> dict[str, Any]:
    """What one project's cache holds, as plain JSON-ready data with stable keys."""
    metadata: Metadata | None = None
    problems: list[str] = []
    if store.metadata_path.exists():
        try:
            metadata = store.read_metadata()
        except CacheError as exc:
            problems.append(f"metadata.json unreadable ({exc})")
    cassettes = store.layout.cassettes()
    current = now or datetime.now(UTC)
    has_snapshot = store.snapshot_path.is_file()
    return {
        "folder": store.name,
        "path": str(store.path),
        "project": metadata.project if metadata else store.name,
        "repository": metadata.repository if metadata else None,
        "pr_count": metadata.pr_count if metadata else None,
        "recorded_at": metadata.recorded_at.isoformat().replace("+00:00", "Z") if metadata else None,
        "age_seconds": round(metadata.age_seconds(current)) if metadata else None,
        "params": metadata.params.to_dict() if metadata else None,
        "schema_version": metadata.schema_version if metadata else None,
        "schema_current": SCHEMA_VERSION,
        "tool_version": metadata.tool_version if metadata else None,
        "bytes": {
            "cassettes": _size(cassettes),
            "snapshot": _size([store.snapshot_path]),
            "total": _size(_walk(store.path)),
        },
        "cassette_files": len(cassettes),
        "checkpoint": _checkpoint_state(store, has_snapshot),
        "pseudonymized": metadata.pseudonymized if metadata else None,
        "problems": problems,
    }


def _walk(folder: Path) -> Iterator[Path]:
    try:
        yield from folder.rglob("*")
    except OSError:
        return


# -- verify ---------------------------------------------------------------------------------------------

FindingKind = Literal["integrity", "secret", "person"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: where (file, line or 0 for the whole file) and what, with any secret masked."""

    path: Path
    line: int
    message: str
    kind: FindingKind

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


def _file_text(path: Path) -> str:
    data: bytes
    if path.name.endswith(".gz"):
        try:
            data = read_gzip(path)
        except CacheError:
            # Not really gzip, truncated, or a bomb: scan the bytes as they are (bounded by the file).
            data = path.read_bytes()
    else:
        data = path.read_bytes()
    # Replacement characters keep a binary or half-written file scannable instead of failing.
    return data.decode("utf-8", errors="replace")


def scan_secrets(path: Path, secrets: Iterable[Token | str]) -> Iterator[Finding]:
    """Every secret in ``path`` (decompressed if .gz): token-shaped strings and the given values."""
    scrubber = Scrubber(secrets, label="a configured token")
    try:
        text = _file_text(path)
    except OSError as exc:
        yield Finding(path, 0, f"cannot be read ({exc.strerror or exc})", "integrity")
        return
    for leak in sorted(scrubber.leaks(text), key=lambda leak: leak.offset):
        line = text.count("\n", 0, leak.offset) + 1
        column = leak.offset - (text.rfind("\n", 0, leak.offset) + 1) + 1
        yield Finding(path, line, f"col {column}: {leak.description}", "secret")


def verify_project(
    store: ProjectStore, secrets: Iterable[Token | str]
) -> tuple[list[Finding], dict[str, int]]:
    """Integrity and secret findings for one project folder, plus counts for a summary."""
    findings: list[Finding] = []
    secret_list = list(secrets)
    files = sorted(p for p in _walk(store.path) if p.is_file() and not p.is_symlink())
    for path in files:
        findings.extend(scan_secrets(path, secret_list))

    def problem(path: Path, message: str) -> None:
        findings.append(Finding(path, 0, message, "integrity"))

    snapshot: Snapshot | None = None
    metadata: Metadata | None = None
    name = store.project
    if not store.snapshot_path.exists() and not store.metadata_path.exists():
        progress = read_progress(store.checkpoint_path)
        state = (
            f"an unfinished fetch ({progress.fetched} of {progress.planned} PRs)"
            if progress is not None and progress.readable
            else "nothing recorded"
        )
        problem(
            store.path,
            f"holds {state} and no finished recording: finish it with `{fetch_command(name, store.cache_dir)}`, "
            f"or remove it with `ghseed clear {name} --cache-dir {store.cache_dir}`",
        )
        counts = {"files": len(files), "cassettes": len(store.layout.cassettes()), "prs": 0}
        return findings, counts
    try:
        snapshot = store.read_snapshot()
    except CacheError as exc:
        problem(store.snapshot_path, str(exc))
    try:
        metadata = store.read_metadata()
    except CacheError as exc:
        problem(store.metadata_path, str(exc))
    if snapshot is not None and metadata is not None:
        if snapshot.repository.full_name != metadata.repository:
            problem(
                store.snapshot_path,
                f"holds {snapshot.repository.full_name!r} but metadata.json says {metadata.repository!r}",
            )
        if not store.snapshot_matches(metadata):
            problem(
                store.metadata_path,
                "describes another snapshot.json than the one beside it (a save interrupted between the two "
                f"files, or an edit); run `{fetch_command(name, store.cache_dir)}` to repair it",
            )
    if metadata is not None and metadata.schema_version != SCHEMA_VERSION:
        problem(store.metadata_path, f"schema_version {metadata.schema_version}, expected {SCHEMA_VERSION}")
    if snapshot is not None and metadata is not None and metadata.pr_count != len(snapshot.prs):
        problem(
            store.metadata_path, f"pr_count {metadata.pr_count} but snapshot.json holds {len(snapshot.prs)}"
        )

    pseudonymized = metadata is not None and metadata.pseudonymized
    if metadata is not None and metadata.pseudonymized:
        from pytest_ghseed.pseudonyms.recording import find_people

        people, against_originals = find_people(store, metadata.repository)
        findings.extend(Finding(path, 0, message, "person") for path, message in people)
    cassettes = store.layout.cassettes()
    if snapshot is not None:
        recorded = {n for p in cassettes if (n := shard_number(p.name)) is not None}
        # PRs recorded through GraphQL are in the GraphQL cassettes: the comparison below checks them.
        recorded |= set(metadata.graphql) if metadata is not None else set()
        missing = [pr.number for pr in snapshot.prs if pr.number not in recorded]
        if missing:
            problem(store.cassette_dir, f"no cassette for PR(s) {_numbers(missing)}")
        elif cassettes and metadata is not None:
            _compare_with_cassettes(store, snapshot, metadata, problem)
    counts = {
        "files": len(files),
        "cassettes": len(cassettes),
        "prs": len(snapshot.prs) if snapshot else 0,
        "pseudonymized": int(pseudonymized),
        "checked_against_originals": int(pseudonymized and against_originals),
    }
    return findings, counts


def _compare_with_cassettes(
    store: ProjectStore, snapshot: Snapshot, metadata: Metadata, problem: Callable[[Path, str], None]
) -> None:
    """The snapshot must be what the cassettes say: same PRs, same values."""
    try:
        rebuilt = snapshot_from_cassettes(store, metadata)
    except CorruptFile as exc:
        where = f"--cache-dir {store.cache_dir}"
        problem(
            store.cassette_dir,
            f"{exc}; set it aside with `ghseed rebuild {store.project} {where}`, then "
            f"`{fetch_command(store.project, store.cache_dir)}` records it again",
        )
        return
    except CacheError as exc:
        problem(store.cassette_dir, str(exc))
        return
    if rebuilt.repository.full_name != snapshot.repository.full_name:
        problem(
            store.cassette_dir,
            f"the cassettes record {rebuilt.repository.full_name!r}, the snapshot {snapshot.repository.full_name!r}",
        )
        return
    foreign = _foreign_requests(store, snapshot)
    if foreign:
        problem(store.cassette_dir, f"requests of another repository are recorded here: {foreign}")
    ours = {pr.number: pr.to_dict() for pr in snapshot.prs}
    theirs = {pr.number: pr.to_dict() for pr in rebuilt.prs}
    if set(ours) != set(theirs):
        only_snapshot = sorted(set(ours) - set(theirs))
        only_cassettes = sorted(set(theirs) - set(ours))
        problem(
            store.snapshot_path,
            f"PRs differ from the cassettes (only in snapshot: {_numbers(only_snapshot)}; "
            f"only in cassettes: {_numbers(only_cassettes)}); run "
            f"`ghseed rebuild {store.project} --cache-dir {store.cache_dir}`",
        )
        return
    differ = [n for n in sorted(ours) if ours[n] != theirs[n]]
    if differ:
        problem(
            store.snapshot_path,
            f"PR(s) {_numbers(differ)} differ from their cassettes; run "
            f"`ghseed rebuild {store.project} --cache-dir {store.cache_dir}`",
        )


_GRAPHQL_ROUTES = ("/graphql", "/api/graphql")


def _foreign_requests(store: ProjectStore, snapshot: Snapshot) -> str | None:
    """The first recorded request that is not of this repository, or None."""
    import urllib.parse

    from pytest_ghseed.cache.cassettes import load_interactions

    own = (f"/repos/{snapshot.repository.full_name}".casefold(), f"/repositories/{snapshot.repository.id}")
    for path in store.layout.cassettes():
        try:
            for interaction in load_interactions(path):
                route = urllib.parse.urlsplit(interaction.uri).path.removeprefix("/api/v3")
                if route in _GRAPHQL_ROUTES:
                    continue  # a GraphQL query names its repository in its body, checked by the rebuild
                if not any(route.casefold() == p or route.casefold().startswith(p + "/") for p in own):
                    return f"{path.name}: {interaction.method} {route}"[:200]
        except CacheError:
            continue  # reported by the comparison already
    return None


def _numbers(numbers: list[int], limit: int = 10) -> str:
    shown = ", ".join(f"#{n}" for n in numbers[:limit])
    return (
        shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "") if numbers else "none"
    )
