"""Resumable crawl progress: an atomic JSON checkpoint plus an append-only log of fetched PRs.

A crawl plans first (which PR numbers to fetch, pinned with :meth:`Checkpoint.set_plan`), then fetches
each planned PR in worker threads and hands it to :meth:`Checkpoint.record_pr`. Two files live side by
side:

``<name>.json`` (``Checkpoint.path``)
    Small state: repo, fetch parameters, the plan, what is fetched (no URL the server sent: a
    ``Link`` header may carry a token). Rewritten whole
    and atomically (temp file, fsync, ``os.replace``), so a reader sees the old or the new file, never
    half of one.
``<name>.prs.jsonl`` (``data_log_path(path)``, i.e. ``path.with_suffix(".prs.jsonl")``)
    One line ``{"number": n, "data": {...}}`` per finished PR, appended and fsynced before the PR
    counts as fetched. Appending costs the same however many PRs came before, which rewriting one
    big JSON file per PR would not.

The log is the source of truth for what is fetched: the JSON is saved only every ``save_every``
records, so after a kill it may lag behind the log. A kill mid-append leaves at most one incomplete
last line; :meth:`Checkpoint.open` drops it and the PR is fetched again.

Loading forgives what an interruption or a disk can do, and tells the caller in ``notes`` (shown
to the user): a corrupt or unreadable checkpoint is moved aside to ``<name>.corrupt-<UTC time>``,
never deleted, and the crawl starts fresh; a garbage line in the middle of the log (not something an
interruption leaves) is skipped, its PR fetched again, and the original log kept as
``<log name>.corrupt-<UTC time>``. What it never forgives is a checkpoint of *other* parameters:
mixing two crawls would silently give wrong data, so that raises :class:`CheckpointMismatch`.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_ghseed._files import append_durably, aside_path, atomic_write_bytes, move_aside
from pytest_ghseed.errors import CacheError, SecretLeakError, UsageError
from pytest_ghseed.jsontext import compact
from pytest_ghseed.secrets import TOKEN_PATTERN, Scrubber, redact

__all__ = [
    "FORMAT_VERSION",
    "TOOL",
    "Checkpoint",
    "CheckpointMismatch",
    "Progress",
    "data_log_path",
    "discard",
    "read_progress",
]

TOOL = "pytest-ghseed"
#: The version of the checkpoint file's own format (not the snapshot's schema).
FORMAT_VERSION = 1
#: Records between two saves of the JSON. The log already makes each record durable, so saving the
#: JSON per record would only add a rewrite and three fsyncs to every PR.
DEFAULT_SAVE_EVERY = 20

_MISSING = object()


class CheckpointMismatch(UsageError):
    """The checkpoint file belongs to a crawl of another repository or other parameters."""


def data_log_path(path: Path) -> Path:
    """The PR data log next to checkpoint ``path``: ``x.json`` -> ``x.prs.jsonl``."""
    return Path(path).with_suffix(".prs.jsonl")


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the crawl a checkpoint describes got, read without changing anything."""

    readable: bool
    planned: int | None = None
    fetched: int | None = None
    completed: bool = False
    planned_at: str | None = None


def read_progress(path: Path) -> Progress | None:
    """The progress recorded at ``path``, or None when there is no checkpoint; never repairs or moves.

    For read-only views (``ghseed status``): :meth:`Checkpoint.open` is the reader that repairs.
    """
    try:
        state = _parse_state(Path(path).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, _Corrupt):
        return Progress(readable=False)
    fetched = set(state["fetched"])
    # The data log is the source of truth: the JSON is saved only every few records.
    try:
        with data_log_path(path).open("rb") as log:
            for line in log:
                number = _parse_record(line)
                if number is not None:
                    fetched.add(number)
    except OSError:
        pass
    plan = state["plan"]
    if plan is not None:
        fetched &= set(plan)
    return Progress(
        readable=True,
        planned=None if plan is None else len(plan),
        fetched=len(fetched),
        completed=state["completed"],
        planned_at=state.get("planned_at") if isinstance(state.get("planned_at"), str) else None,
    )


def discard(path: Path) -> None:
    """Remove a checkpoint and its data log if they exist (the caller has the data elsewhere)."""
    for candidate in (Path(path), data_log_path(path)):
        try:
            candidate.unlink(missing_ok=True)
        except OSError as exc:
            msg = f"cannot remove {candidate}: {exc}; delete it by hand before the next run"
            raise CacheError(msg) from exc


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(eq=False)
class Checkpoint:
    """The progress of one crawl; methods that change it are safe to call from several threads."""

    path: Path
    repo: str
    params: dict[str, Any]
    plan: list[int] | None = None
    total_found: int | None = None
    fetched: set[int] = field(default_factory=set)
    completed: bool = False
    last_updated: str = field(default_factory=_utc_now)
    #: When the plan was pinned: the data of a resumed crawl is no newer than this (ISO-8601 UTC).
    planned_at: str | None = None
    schema_version: int = FORMAT_VERSION
    #: What loading repaired or moved aside, one sentence each, for the caller to show the user.
    notes: list[str] = field(default_factory=list)
    save_every: int = DEFAULT_SAVE_EVERY
    #: What every record passes through before it is appended (the cache's scrubber), if anything.
    scrubber: Scrubber | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _plan_set: frozenset[int] = field(default=frozenset(), init=False, repr=False)
    # Every valid number in the log, planned or not: a re-pinned plan may pick them up again.
    _logged: set[int] = field(default_factory=set, init=False, repr=False)
    _unsaved: int = field(default=0, init=False, repr=False)
    _log_path: tuple[Path, Path] | None = field(default=None, init=False, repr=False)
    # Where this process appended each PR's line: (offset, length) in the data log.
    _spans: dict[int, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.plan is not None:
            self._plan_set = frozenset(self.plan)

    @property
    def log_path(self) -> Path:
        """The append-only PR data log (see :func:`data_log_path`)."""
        if self._log_path is None or self._log_path[0] != self.path:
            self._log_path = (self.path, data_log_path(self.path))  # asked for on every record
        return self._log_path[1]

    # -- loading -----------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path, *, repo: str, params: Mapping[str, Any], scrubber: Scrubber | None = None
    ) -> Checkpoint:
        """Resume the checkpoint at ``path`` if it is for ``repo`` and ``params``, else start fresh.

        Raises :class:`CheckpointMismatch` when the file is for another repository or other
        parameters, and :class:`~pytest_ghseed.errors.SecretLeakError` when ``params`` hold a token.
        ``scrubber``: see :attr:`Checkpoint.scrubber`.
        """
        path = Path(path)
        norm = _normalize_params(params)
        _refuse_tokens({"repo": repo, "params": norm}, path)
        fresh = cls(path=path, repo=repo, params=norm, scrubber=scrubber)
        log = fresh.log_path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            if log.exists():
                # Without its checkpoint nobody can say which parameters this data was fetched with.
                moved = move_aside(log, "orphan")
                fresh.notes.append(
                    f"found PR data log {log} without its checkpoint {path.name}; moved it to "
                    f"{moved.name} and started a fresh crawl"
                )
            return fresh
        except OSError as exc:
            msg = f"cannot read checkpoint {path}: {exc}; check the file's permissions, or move it away"
            raise CacheError(msg) from exc

        try:
            state = _parse_state(raw)
        except _Corrupt as exc:
            moved = move_aside(path, "corrupt")
            note = f"checkpoint {path} is unusable ({exc}); moved it to {moved.name} and started afresh"
            if log.exists():
                # The log cannot be trusted without the parameters that only the checkpoint held.
                moved_log = move_aside(log, "corrupt")
                note += f"; its PR data log went to {moved_log.name}"
            fresh.notes.append(note)
            return fresh

        _check_same_crawl(path, state, repo, norm)
        cp = cls(
            path=path,
            repo=repo,
            params=norm,
            plan=state["plan"],
            total_found=state["total_found"],
            completed=state["completed"],
            last_updated=state["last_updated"],
            planned_at=state.get("planned_at") if isinstance(state.get("planned_at"), str) else None,
            scrubber=scrubber,
        )
        cp._load_log(set(state["fetched"]))
        return cp

    def _load_log(self, claimed: set[int]) -> None:
        """Fill ``fetched`` from the data log, repairing it if an interruption left a partial line."""
        log = self.log_path
        good: list[bytes] = []
        bad_lines: list[int] = []
        torn_tail = 0
        rewrite = False
        try:
            with log.open("rb") as f:
                for lineno, line in enumerate(f, 1):
                    complete = line.endswith(b"\n")
                    number = _parse_record(line)
                    if number is None:
                        rewrite = True
                        if not complete:
                            torn_tail = len(line)
                        elif line.strip():
                            bad_lines.append(lineno)
                        continue
                    if not complete:
                        # Killed exactly before the newline: the record is whole, only add the newline.
                        rewrite = True
                        line += b"\n"
                    good.append(line)
                    self._logged.add(number)
        except FileNotFoundError:
            pass
        except OSError as exc:
            moved = move_aside(log, "corrupt")
            self.notes.append(f"cannot read PR data log {log} ({exc}); moved it to {moved.name}")
            good, bad_lines, torn_tail, rewrite = [], [], 0, False
            self._logged.clear()

        if bad_lines:
            kept = _preserve_copy(log, "corrupt")
            shown = ", ".join(map(str, bad_lines[:5])) + (" ..." if len(bad_lines) > 5 else "")
            self.notes.append(
                f"skipped {len(bad_lines)} unreadable line(s) ({shown}) in PR data log {log}; those PRs "
                f"will be fetched again; the original log is kept as {kept.name}"
            )
        if torn_tail:
            self.notes.append(
                f"dropped an incomplete last record ({torn_tail} bytes) from {log.name}, left by an "
                "interrupted run; that PR will be fetched again"
            )
        if rewrite:
            try:
                atomic_write_bytes(log, b"".join(good))
            except OSError as exc:
                msg = f"cannot repair PR data log {log}: {exc}; check free space and permissions"
                raise CacheError(msg) from exc

        self.fetched = set(self._logged) if self.plan is None else self._logged & self._plan_set
        lost = claimed - self.fetched
        if lost:
            self.notes.append(
                f"checkpoint {self.path.name} counted {len(lost)} PR(s) whose data is not in {log.name} "
                f"(e.g. #{min(lost)}); they will be fetched again"
            )

    # -- changing state ----------------------------------------------------------------------------

    def set_plan(self, numbers: Iterable[int], total_found: int | None) -> None:
        """Pin the PR numbers to fetch, in fetch order, and save before any detail is fetched."""
        plan = list(dict.fromkeys(numbers))  # drop repeats, keep order
        for n in plan:
            if not _is_pr_number(n):
                msg = f"a pull-request number is a positive int, got {n!r} in the plan"
                raise ValueError(msg)
        with self._lock:
            self.plan = plan
            self._plan_set = frozenset(plan)
            self.total_found = total_found
            # Microseconds: a session that starts right after this plan must be able to tell (xdist).
            self.planned_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            self.fetched = self._logged & self._plan_set
            # An empty plan has nothing to resume: nothing is written (a refresh that finds nothing
            # new writes no checkpoint either).
            if plan or self.path.exists():
                self._save_locked()

    def record_pr(self, number: int, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """Append one fetched PR to the data log (durably), then count it as fetched; see ``record_prs``."""
        return self.record_prs([(number, data)])[0]

    def record_prs(self, records: Iterable[tuple[int, Mapping[str, Any]]]) -> list[Mapping[str, Any]]:
        """Append fetched PRs to the data log in one durable write (one fsync), then count them.

        A GraphQL answer completes many PRs at once: one fsync for them all, not one each. A kill
        mid-write leaves at most an incomplete last line, which :meth:`open` drops (that PR is
        fetched again). Returns each PR's data as stored: the data itself, or a scrubbed copy when the
        scrubber replaced a secret in it (the caller then uses that copy, so what it holds equals what
        is on disk).
        """
        lines: list[str] = []
        numbers: list[int] = []
        stored: list[Mapping[str, Any]] = []
        for number, data in records:
            if not _is_pr_number(number):
                msg = f"a pull-request number is a positive int, got {number!r}"
                raise ValueError(msg)
            try:
                # ``{"data":<data>,"number":N}`` in the cache's one spelling, so that ``stored_text`` hands
                # the data's text back exactly as the snapshot writes it.
                line = compact({"data": dict(data), "number": number})
            except (TypeError, ValueError) as exc:
                msg = f"PR #{number}'s data cannot be stored as JSON: {exc}; convert it with to_dict() first"
                raise ValueError(msg) from exc
            kept: Mapping[str, Any] = data
            if self.scrubber is not None:
                # The one scan of this record: the exact line about to be appended.
                cleaned = self.scrubber.clean(line, self.log_path)
                if cleaned is not line:
                    line = cleaned
                    kept = json.loads(cleaned)["data"]
            lines.append(line)
            numbers.append(number)
            stored.append(kept)
        if not numbers:
            return stored
        encoded = [(line + "\n").encode("utf-8") for line in lines]
        payload = b"".join(encoded)
        with self._lock:
            if self.plan is None:
                msg = f"record_pr(#{numbers[0]}) before set_plan(): pin the plan before fetching any detail"
                raise RuntimeError(msg)
            for number in numbers:
                if number not in self._plan_set:
                    msg = f"PR #{number} is not in the pinned plan of {self.repo}; fetch only planned PRs"
                    raise ValueError(msg)
            try:
                offset = append_durably(self.log_path, payload)
            except OSError as exc:
                shown = ", ".join(f"#{n}" for n in numbers[:5])
                msg = f"cannot append PR {shown} to {self.log_path}: {exc}; check free space and permissions"
                raise CacheError(msg) from exc
            for number, chunk in zip(numbers, encoded, strict=True):
                self._spans[number] = (offset, len(chunk))
                offset += len(chunk)
            self._logged.update(numbers)
            self.fetched.update(numbers)
            self._unsaved += len(numbers)
            # The JSON holds the whole plan: saved every ``save_every`` records, a 5,000-PR crawl would
            # rewrite it 250 times (quadratic). At most about 50 saves a crawl; the log is the truth.
            if self._unsaved >= max(self.save_every, len(self._plan_set) // 50):
                self._save_locked()
        return stored

    def forget(self, numbers: Iterable[int], why: str) -> None:
        """Count these PRs as not fetched (their records cannot be used): they are fetched again."""
        dropped = sorted(set(numbers) & self.fetched)
        if not dropped:
            return
        with self._lock:
            self.fetched -= set(dropped)
            self._logged -= set(dropped)
            self.completed = False
            self._save_locked()
        shown = ", ".join(f"#{n}" for n in dropped[:5]) + (" ..." if len(dropped) > 5 else "")
        self.notes.append(
            f"{len(dropped)} record(s) in {self.log_path.name} cannot be used ({why}): {shown}; fetched again"
        )

    def mark_completed(self) -> None:
        """Record that every planned PR is fetched, and save."""
        with self._lock:
            self.completed = True
            if self.plan or self.path.exists():
                self._save_locked()

    def save(self) -> None:
        """Write the JSON atomically: the file on disk is always the old or the new whole state."""
        with self._lock:
            self._save_locked()

    def discard(self) -> None:
        """Remove the checkpoint and its data log, once the caller has stored the final result."""
        with self._lock:
            discard(self.path)

    # -- reading -----------------------------------------------------------------------------------

    def pending(self) -> list[int]:
        """Planned PRs not yet fetched, in plan order."""
        with self._lock:
            if self.plan is None:
                msg = "pending() before set_plan(): there is no plan to compare with yet"
                raise RuntimeError(msg)
            return [n for n in self.plan if n not in self.fetched]

    def stored_text(self, number: int) -> str | None:
        """The JSON text of the data this process last appended for PR ``number`` (as scrubbed and
        written: compact, sorted keys), read back from the log; None if this process appended none.

        Lets the snapshot reuse what was serialized and scanned once instead of doing both again.
        """
        with self._lock:
            span = self._spans.get(number)
        if span is None:
            return None
        offset, length = span
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                line = log.read(length).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        head, tail = '{"data":', f',"number":{number}}}\n'
        if not (line.startswith(head) and line.endswith(tail)):
            return None  # not the line this process wrote (the log was repaired or replaced)
        return line[len(head) : -len(tail)]

    def iter_pr_data(self, numbers: Iterable[int] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(number, data)`` of every fetched PR (of ``numbers`` only, if given), in plan order; a PR
        logged twice yields its last data."""
        latest: dict[int, dict[str, Any]] = {}
        with self._lock:
            fetched = set(self.fetched) if numbers is None else self.fetched & set(numbers)
            order = list(self.plan) if self.plan is not None else None
            try:
                with self.log_path.open("rb") as f:
                    for line in f:
                        record = _load_record(line)
                        if record is not None and record[0] in fetched:
                            latest[record[0]] = record[1]
            except FileNotFoundError:
                pass
            except OSError as exc:
                msg = f"cannot read PR data log {self.log_path}: {exc}; check its permissions"
                raise CacheError(msg) from exc
        for number in order if order is not None else list(latest):
            if number in latest:
                yield number, latest[number]

    # -- internals ---------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The JSON form written to ``path``."""
        return {
            "tool": TOOL,
            "schema_version": self.schema_version,
            "repo": self.repo,
            "params": self.params,
            "plan": self.plan,
            "total_found": self.total_found,
            "fetched": sorted(self.fetched),
            "completed": self.completed,
            "last_updated": self.last_updated,
            "planned_at": self.planned_at,
        }

    def _save_locked(self) -> None:
        self.last_updated = _utc_now()
        state = self.to_json()
        _refuse_tokens(state, self.path)
        data = (json.dumps(state, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            atomic_write_bytes(self.path, data)
        except OSError as exc:
            msg = (
                f"cannot save checkpoint {self.path}: {exc}; the previous checkpoint is unchanged. "
                "Check free space and permissions of its directory"
            )
            raise CacheError(msg) from exc
        self._unsaved = 0


# --- validation -----------------------------------------------------------------------------------


class _Corrupt(Exception):
    """The checkpoint file cannot be used; the text says why."""


def _is_pr_number(n: object) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n > 0


def _is_opt(value: object, kind: type) -> bool:
    return value is None or (isinstance(value, kind) and not isinstance(value, bool))


def _parse_state(raw: bytes) -> dict[str, Any]:
    try:
        state = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise _Corrupt(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise _Corrupt(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError:
        raise _Corrupt("JSON nested too deeply") from None
    if not isinstance(state, dict):
        raise _Corrupt(f"expected a JSON object, found {type(state).__name__}")
    if state.get("tool") != TOOL:
        raise _Corrupt(f"not a {TOOL} checkpoint (tool is {state.get('tool')!r})")
    if state.get("schema_version") != FORMAT_VERSION:
        raise _Corrupt(
            f"schema_version is {state.get('schema_version')!r}; this version reads {FORMAT_VERSION}"
        )
    checks = {
        "repo": isinstance(state.get("repo"), str),
        "params": isinstance(state.get("params"), dict),
        "plan": state.get("plan") is None
        or (isinstance(state["plan"], list) and all(_is_pr_number(n) for n in state["plan"])),
        "total_found": _is_opt(state.get("total_found"), int),
        "fetched": isinstance(state.get("fetched"), list) and all(_is_pr_number(n) for n in state["fetched"]),
        "completed": isinstance(state.get("completed"), bool),
        "last_updated": isinstance(state.get("last_updated"), str),
    }
    wrong = [name for name, ok in checks.items() if not ok]
    if wrong:
        raise _Corrupt(f"missing or malformed field(s): {', '.join(wrong)}")
    return state


def _load_record(line: bytes) -> tuple[int, dict[str, Any]] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # includes JSONDecodeError and UnicodeDecodeError
        return None
    if not isinstance(record, dict):
        return None
    number, data = record.get("number"), record.get("data")
    if not _is_pr_number(number) or not isinstance(data, dict):
        return None
    assert isinstance(number, int)
    return number, data


def _parse_record(line: bytes) -> int | None:
    record = _load_record(line)
    return None if record is None else record[0]


def _normalize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as they will read back from JSON (tuples become lists), for a fair comparison."""
    try:
        norm = json.loads(json.dumps(dict(params), allow_nan=False))
    except (TypeError, ValueError) as exc:
        msg = f"checkpoint parameters must be plain JSON values: {exc}; pass ISO strings for dates"
        raise UsageError(msg) from exc
    assert isinstance(norm, dict)
    return norm


def _check_same_crawl(path: Path, state: Mapping[str, Any], repo: str, params: dict[str, Any]) -> None:
    diffs: list[str] = []
    # GitHub treats owner/name case-insensitively, so "PostHog/posthog" is the same crawl.
    if state["repo"].casefold() != repo.casefold():
        diffs.append(f"  repo: checkpoint has {state['repo']!r}, this run has {repo!r}")
    old: dict[str, Any] = state["params"]
    for key in sorted(set(old) | set(params)):
        before, now = old.get(key, _MISSING), params.get(key, _MISSING)
        if before != now:
            diffs.append(f"  {key}: checkpoint has {_show(before)}, this run has {_show(now)}")
    if not diffs:
        return
    msg = (
        f"checkpoint {path} belongs to another crawl; resuming it would mix two crawls' data. "
        "Differences:\n" + "\n".join(diffs) + "\n"
        f"Next step: rerun with the original parameters to resume it, pass another --checkpoint-file, "
        f"or delete or move {path} and {data_log_path(path).name} to start over."
    )
    raise CheckpointMismatch(redact(msg))


def _show(value: object) -> str:
    return "(not set)" if value is _MISSING else json.dumps(value)


def _find_token(value: object, where: str) -> str | None:
    """Where in ``value`` a token-shaped string sits (``params['x'][0]``), or None."""
    if isinstance(value, str):
        return where if TOKEN_PATTERN.search(value) else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and TOKEN_PATTERN.search(key):
                return f"{where} (a key)"
            found = _find_token(item, f"{where}[{key!r}]")
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _find_token(item, f"{where}[{i}]")
            if found:
                return found
    return None


def _refuse_tokens(state: Mapping[str, Any], path: Path) -> None:
    # The checkpoint has no reason to hold a token; one here means a caller put it in the params or
    # a URL, and a file on disk outlives the run. The message names the field, never the value.
    for key, value in state.items():
        where = _find_token(value, key)
        if where:
            msg = (
                f"refusing to write checkpoint {path}: {where} holds a string that looks like a GitHub "
                "token. Tokens must never be stored on disk; pass them through the environment "
                "(GITHUB_TOKEN) and keep them out of the fetch parameters."
            )
            raise SecretLeakError(msg)


# --- files ----------------------------------------------------------------------------------------


def _preserve_copy(path: Path, kind: str) -> Path:
    """Keep ``path``'s current bytes as ``<name>.<kind>-<UTC time>`` before it is rewritten."""
    target = aside_path(path, kind)
    try:
        # A hard link costs no copy; the atomic rewrite then gives ``path`` a new inode.
        os.link(path, target)
    except OSError:
        try:
            shutil.copy2(path, target)
        except OSError as exc:
            msg = f"cannot keep a copy of {path} as {target.name}: {exc}; check free space and permissions"
            raise CacheError(msg) from exc
    return target
