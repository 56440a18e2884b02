"""Read-only looks at a cache: what each project holds (``status``) and whether it is sound and free
of secrets (``verify``). The ``ghseed`` command formats what these return.

Nothing here writes, moves or deletes: ``verify`` runs as a pre-commit hook, and a hook that moved a
corrupt file aside would change the commit under the user's feet.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_ghseed.cache.cassettes import TOKEN_PATTERN, cassette_files, mask
from pytest_ghseed.cache.rebuild import snapshot_from_cassettes
from pytest_ghseed.cache.store import MARKER, Metadata, ProjectStore
from pytest_ghseed.errors import CacheError
from pytest_ghseed.models import SCHEMA_VERSION, Snapshot

_PR_CASSETTE = re.compile(r"^pr-(\d+)\.json\.gz$")


def project_folders(cache_dir: Path) -> list[str]:
    """Names of the folders in ``cache_dir`` that pytest-ghseed created (they hold a CACHEDIR.TAG)."""
    if not cache_dir.is_dir():
        return []
    return sorted(p.name for p in cache_dir.iterdir() if p.is_dir() and (p / MARKER).is_file())


# -- status ---------------------------------------------------------------------------------------------


def _size(paths: Iterable[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())


def _checkpoint_state(store: ProjectStore, has_snapshot: bool) -> dict[str, Any]:
    """Complete, or how far an interrupted fetch got (read without ``Checkpoint.open``, which repairs)."""
    path = store.checkpoint_path
    if not path.exists():
        return {"state": "complete" if has_snapshot else "empty", "plan": None, "fetched": None}
    try:
        state = json.loads(path.read_bytes())
        plan = state.get("plan")
        fetched = {int(n) for n in state.get("fetched") or ()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {"state": "unreadable", "plan": None, "fetched": None}
    # The data log is the source of truth: the JSON is saved only every few records.
    log = path.with_suffix(".prs.jsonl")
    if log.exists():
        for line in log.read_bytes().split(b"\n"):
            try:
                fetched.add(int(json.loads(line)["number"]))
            except (ValueError, KeyError, TypeError):
                continue  # a partial last line after a kill
    return {
        "state": "interrupted",
        "plan": len(plan) if isinstance(plan, list) else None,
        "fetched": len(fetched),
    }


def project_status(store: ProjectStore, now: datetime | None = None) -> dict[str, Any]:
    """What one project's cache holds, as plain JSON-ready data with stable keys."""
    metadata: Metadata | None = None
    problems: list[str] = []
    if store.metadata_path.exists():
        try:
            metadata = Metadata.from_dict(json.loads(store.metadata_path.read_bytes()))
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"metadata.json unreadable ({exc})")
    cassettes = cassette_files(store.cassette_dir) if store.cassette_dir.is_dir() else []
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
        "params": metadata.params if metadata else None,
        "schema_version": metadata.schema_version if metadata else None,
        "schema_current": SCHEMA_VERSION,
        "tool_version": metadata.tool_version if metadata else None,
        "bytes": {
            "cassettes": _size(cassettes),
            "snapshot": _size([store.snapshot_path]),
            "total": _size(p for p in store.path.rglob("*")),
        },
        "cassette_files": len(cassettes),
        "checkpoint": _checkpoint_state(store, has_snapshot),
        "problems": problems,
    }


# -- verify ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: where (file, line or 0 for the whole file) and what, with any secret masked."""

    path: Path
    line: int
    message: str
    kind: str  # "integrity" or "secret"

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


def _file_text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        # Not really gzip (or truncated): scan the bytes as they are.
        with contextlib.suppress(OSError, EOFError):
            data = gzip.decompress(data)
    # Replacement characters keep a binary or half-written file scannable instead of failing.
    return data.decode("utf-8", errors="replace")


def scan_secrets(path: Path, secrets: Iterable[str]) -> Iterator[Finding]:
    """Every secret in ``path`` (decompressed if .gz): token-shaped strings and the given values."""
    known = sorted({s for s in secrets if s}, key=len, reverse=True)
    text = _file_text(path)
    for number, line in enumerate(text.splitlines(), start=1):
        for secret in known:
            column = line.find(secret)
            while column >= 0:
                yield Finding(
                    path, number, f"col {column + 1}: a configured token ({mask(secret)})", "secret"
                )
                column = line.find(secret, column + len(secret))
        for match in TOKEN_PATTERN.finditer(line):
            if match.group(0) in known:
                continue  # already reported as a configured token
            yield Finding(
                path,
                number,
                f"col {match.start() + 1}: a token-shaped string ({mask(match.group(0))})",
                "secret",
            )


def verify_project(store: ProjectStore, secrets: Iterable[str]) -> tuple[list[Finding], dict[str, int]]:
    """Integrity and secret findings for one project folder, plus counts for a summary."""
    findings: list[Finding] = []
    secret_list = list(secrets)
    files = sorted(p for p in store.path.rglob("*") if p.is_file())
    for path in files:
        findings.extend(scan_secrets(path, secret_list))

    def problem(path: Path, message: str) -> None:
        findings.append(Finding(path, 0, message, "integrity"))

    snapshot: Snapshot | None = None
    metadata: Metadata | None = None
    if not store.snapshot_path.is_file():
        problem(store.snapshot_path, "missing")
    else:
        try:
            data = json.loads(store.snapshot_path.read_bytes())
            version = data.get("schema_version") if isinstance(data, dict) else None
            if version != SCHEMA_VERSION:
                problem(store.snapshot_path, f"schema_version {version!r}, expected {SCHEMA_VERSION}")
            else:
                snapshot = Snapshot.from_dict(data)
        except (ValueError, KeyError, TypeError) as exc:
            problem(store.snapshot_path, f"does not parse ({exc.__class__.__name__}: {exc})")
    if not store.metadata_path.is_file():
        problem(store.metadata_path, "missing")
    else:
        try:
            metadata = Metadata.from_dict(json.loads(store.metadata_path.read_bytes()))
        except (ValueError, KeyError, TypeError) as exc:
            problem(store.metadata_path, f"does not parse ({exc.__class__.__name__}: {exc})")
    if metadata is not None and metadata.schema_version != SCHEMA_VERSION:
        problem(store.metadata_path, f"schema_version {metadata.schema_version}, expected {SCHEMA_VERSION}")
    if snapshot is not None and metadata is not None and metadata.pr_count != len(snapshot.prs):
        problem(
            store.metadata_path, f"pr_count {metadata.pr_count} but snapshot.json holds {len(snapshot.prs)}"
        )

    cassettes = cassette_files(store.cassette_dir) if store.cassette_dir.is_dir() else []
    if snapshot is not None:
        recorded = {int(m.group(1)) for p in cassettes if (m := _PR_CASSETTE.match(p.name))}
        missing = [pr.number for pr in snapshot.prs if pr.number not in recorded]
        if missing:
            problem(store.cassette_dir, f"no cassette for PR(s) {_numbers(missing)}")
        elif cassettes:
            _compare_with_cassettes(store, snapshot, problem)
    counts = {"files": len(files), "cassettes": len(cassettes), "prs": len(snapshot.prs) if snapshot else 0}
    return findings, counts


def _compare_with_cassettes(
    store: ProjectStore, snapshot: Snapshot, problem: Callable[[Path, str], None]
) -> None:
    """The snapshot must be what the cassettes say: same PRs, same values."""
    try:
        rebuilt = snapshot_from_cassettes(store, move_corrupt=False)
    except CacheError as exc:
        problem(store.cassette_dir, str(exc))
        return
    ours = {pr.number: pr.to_dict() for pr in snapshot.prs}
    theirs = {pr.number: pr.to_dict() for pr in rebuilt.prs}
    if set(ours) != set(theirs):
        only_snapshot = sorted(set(ours) - set(theirs))
        only_cassettes = sorted(set(theirs) - set(ours))
        problem(
            store.snapshot_path,
            f"PRs differ from the cassettes (only in snapshot: {_numbers(only_snapshot)}; "
            f"only in cassettes: {_numbers(only_cassettes)}); run `ghseed rebuild {store.name}`",
        )
        return
    differ = [n for n in sorted(ours) if ours[n] != theirs[n]]
    if differ:
        problem(
            store.snapshot_path,
            f"PR(s) {_numbers(differ)} differ from their cassettes; run `ghseed rebuild {store.name}`",
        )


def _numbers(numbers: list[int], limit: int = 10) -> str:
    shown = ", ".join(f"#{n}" for n in numbers[:limit])
    return (
        shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "") if numbers else "none"
    )
