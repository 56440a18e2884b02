"""Pseudonymization in a recording: the decision, the writers' hooks, the sweep, and the check.

**The decision** (``people_for``, ``check_request``). A recording is pseudonymized as a whole or not at
all, and its metadata says which (an unfinished first fetch: its cassettes say). New data joins a
pseudonymized recording pseudonymized, with or without the option (a teammate who forgets it must
not mix real people in), and only with the salt it was made with (its fingerprint is in the metadata):
without that salt nothing is fetched, since the same person would get a second pseudonym. Asking for
pseudonymization of a recording that holds real people is refused rather than half done, whether it
would fetch or only replay: the user means to commit it. Replaying never needs the salt.

**The hooks** (``RecordingPeople``): the cassette recorder hands each shard's exchanges, the checkpoint
each record, and the save the snapshot; people are learned from the data first, the new originals
appended (fsync) to the list outside the cache, then replaced. Texts written before a person was
known may still hold them (a mention in pull request 5 of a reviewer first seen in pull request 40):
the save sweeps the cassettes written before the last person was met, rewriting those that hold one.

**The check** (``find_people``): every file of a pseudonymized project walked with the same walker in
reporting mode: accounts, e-mails and signatures that are not pseudonyms, and (where the list of
originals is on this machine) every original login and name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ghseed.errors import CacheError, PseudonymError
from pytest_ghseed.pseudonyms import NO_PEOPLE, PeopleFilter
from pytest_ghseed.pseudonyms.home import SALT_ENV, PseudonymHome
from pytest_ghseed.pseudonyms.people import People, Pseudonymizer
from pytest_ghseed.pseudonyms.rules import Keys, is_pseudo_id

if TYPE_CHECKING:
    from pytest_ghseed.cache.store import ProjectStore
    from pytest_ghseed.models import Snapshot
    from pytest_ghseed.traffic import Exchange

#: Findings shown per file by ``find_people`` (the rest are counted).
_SHOWN_PER_FILE = 5


def parse_body(text: str) -> Any:
    """A body's JSON value, or the text itself when it is not JSON (a diff, an error page)."""
    if text[:1] not in ("{", "[") and text.lstrip()[:1] not in ("{", "["):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _dump(value: Any) -> str:
    # Always written again, unescaped: a later sweep looks for names as they are, not as \u escapes.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class RecordingPeople:
    """The people filter of a pseudonymized recording (see ``PeopleFilter``); thread-safe."""

    pseudonymized = True

    def __init__(
        self,
        home: PseudonymHome,
        folder: str,
        keys: Keys,
        people: People,
        repository: str,
        cassette_dir: Path,
    ) -> None:
        self.salt_fingerprint: str | None = keys.fingerprint
        self._home, self._folder, self._keys = home, folder, keys
        self.people = people
        self._walker = Pseudonymizer(people, repository, keys=keys)
        self._lock = threading.Lock()
        #: Per shard written by this run, the version of ``people`` when it was first written.
        self._written: dict[str, int] = {}
        #: Per pull request recorded (checkpoint) by this run, the version of ``people`` it was replaced with.
        self._records: dict[int, int] = {}
        try:
            self._existing = (
                {path.name for path in cassette_dir.iterdir()} if cassette_dir.is_dir() else set()
            )
        except OSError:
            self._existing = set()
        #: Cassettes the last ``finish`` rewrote (for the note, and the tests).
        self.swept: list[str] = []

    def _persist(self) -> None:
        self._home.append(self._folder, self.people.take_new(), self._keys)

    def _edit(self, part: str, text: str) -> str:
        return self._body(parse_body(text), text) if part == "body" else self._walker.text(text)

    def _body(self, value: Any, text: str) -> str:
        """A body with its people replaced: JSON walked, anything else (or JSON too deep to walk) as text."""
        if not isinstance(value, str):
            try:
                return _dump(self._walker.value(value))
            except RecursionError:
                pass  # nested deeper than any GitHub answer: a hostile server's; replaced as text
        return self._walker.text(text)

    def _learn(self, value: Any) -> None:
        # Too deep to walk (see _body): its people are replaced as text, where known.
        with contextlib.suppress(RecursionError):
            self._walker.learn(value)

    def exchanges(self, shard: str, exchanges: list[Exchange]) -> list[Exchange]:
        with self._lock:
            bodies = [parse_body(exchange.body) for exchange in exchanges]
            for body in bodies:
                self._learn(body)
            self._persist()
            text = self._walker.text
            changed = [
                dataclasses.replace(
                    exchange,
                    url=text(exchange.url),
                    request_headers={name: text(value) for name, value in exchange.request_headers.items()},
                    response_headers={name: text(value) for name, value in exchange.response_headers.items()},
                    body=self._body(body, exchange.body),
                )
                for exchange, body in zip(exchanges, bodies, strict=True)
            ]
            self._written.setdefault(shard, self.people.version)
        return changed

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._walker.learn(record)
            self._persist()
            changed: dict[str, Any] = self._walker.value(record)
            number = changed.get("pr", {}).get("number") if isinstance(changed.get("pr"), dict) else None
            if type(number) is int:
                self._records[number] = self.people.version
        return changed

    def finish(
        self, snapshot: Snapshot, cassette_dir: Path, check: Callable[[str, object], None]
    ) -> Snapshot:
        with self._lock:
            snapshot = self._final(snapshot)
            self.swept = self._sweep(cassette_dir, check)
            self._home.append(self._folder, [{"swept": self.people.version}], self._keys)
            self.people.swept = self.people.version
        return snapshot

    def _final(self, snapshot: Snapshot) -> Snapshot:
        """The snapshot with the people met after each pull request was pseudonymized replaced too.

        Its pull requests were pseudonymized as they were recorded (``record``) or in an earlier run:
        only those whose text holds someone met since are walked again (a refresh of thousands of pull
        requests does not walk them all).
        """
        from pytest_ghseed.models import PullRequest, Repository

        prs = []
        for pr in snapshot.prs:
            needles = self.people.needles_since(self._records.get(pr.number, self.people.swept))
            if needles:
                data = pr.to_dict()
                text = _dump(data).lower()
                if any(needle in text for needle in needles):
                    changed = self._walker.value(data)
                    pr = pr if changed == data else PullRequest.from_dict(changed)
            prs.append(pr)
        repository = snapshot.repository.to_dict()
        self._walker.learn(repository)
        self._persist()
        changed_repository = self._walker.value(repository)
        return dataclasses.replace(
            snapshot,
            prs=tuple(prs),
            repository=snapshot.repository
            if changed_repository == repository
            else Repository.from_dict(changed_repository),
        )

    def _sweep(self, cassette_dir: Path, check: Callable[[str, object], None]) -> list[str]:
        """Rewrite the cassettes that may hold a person met after they were written (and do hold one)."""
        from pytest_ghseed.cache.cassettes import read_gzip, rewrite_cassette
        from pytest_ghseed.cache.layout import SHARD_SUFFIX

        rewritten: list[str] = []
        try:
            paths = sorted(cassette_dir.glob(f"*{SHARD_SUFFIX}"))
        except OSError:
            return rewritten
        for path in paths:
            stem = path.name.removesuffix(SHARD_SUFFIX)
            since = (
                self.people.swept
                if path.name in self._existing
                else self._written.get(stem, self.people.swept)
            )
            needles = self.people.needles_since(since)
            if not needles:
                continue
            try:
                text = read_gzip(path).decode("utf-8", errors="replace").lower()
                # A cheap look first: most cassettes hold none of the late-comers.
                if any(needle in text for needle in needles) and rewrite_cassette(path, self._edit, check):
                    rewritten.append(path.name)
            except CacheError:
                continue  # an unreadable cassette is the cache healer's business (it is read again later)
        return rewritten


# -- the decision ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedPeople:
    """What a project folder holds: pseudonymized people or real ones, and the salt's fingerprint."""

    pseudonymized: bool
    salt_fingerprint: str | None


def recorded_people(store: ProjectStore, repository: str) -> RecordedPeople | None:
    """Whether the recording in ``store`` is pseudonymized; None when nothing is recorded there.

    The metadata says so; without it (an unfinished first fetch) the accounts in the cassettes do.
    """
    from pytest_ghseed.errors import MissingFile

    if not store.is_ours():
        return None
    try:
        metadata = store.read_metadata()
    except MissingFile:
        pass
    except CacheError:
        pass  # unreadable: the cassettes say what it was
    else:
        return RecordedPeople(metadata.pseudonymized, metadata.pseudonym_salt)
    seen = _account_ids_in_cassettes(store, repository)
    return None if seen is None else RecordedPeople(seen, None)


def _account_ids_in_cassettes(store: ProjectStore, repository: str) -> bool | None:
    """Whether the first account found in the cassettes is a pseudonym; None when there is none."""
    from pytest_ghseed.cache.cassettes import load_interactions

    probe = Pseudonymizer(People(), repository, report=lambda kind, original: None)
    for path in store.layout.cassettes()[:3]:
        try:
            for interaction in load_interactions(path):
                for user_id in _account_ids(probe, parse_body(interaction.body)):
                    return is_pseudo_id(user_id)
        except (CacheError, RecursionError):
            continue
    return None


def _account_ids(probe: Pseudonymizer, value: Any) -> Iterator[int]:
    if isinstance(value, dict):
        if probe.is_person(value):
            yield value["id"]
        for item in value.values():
            yield from _account_ids(probe, item)
    elif isinstance(value, list):
        for item in value:
            yield from _account_ids(probe, item)


def _commands(store: ProjectStore) -> str:
    where = f"--cache-dir {store.cache_dir}"
    return f"`ghseed clear {store.project} {where} --yes`, then `ghseed fetch {store.project} {where} --pseudonymize`"


def check_request(store: ProjectStore, repository: str, requested: bool) -> None:
    """Refuse to serve or extend a recording of real people when pseudonymization is asked for."""
    if not requested:
        return
    recorded = recorded_people(store, repository)
    if recorded is not None and not recorded.pseudonymized:
        msg = (
            f"pseudonymization is asked for (--ghseed-pseudonymize, ghseed_pseudonymize or --pseudonymize), "
            f"but {store.path} holds a recording of real people; pseudonymizing only new data would mix real "
            f"and pseudonymized people. Record it afresh: {_commands(store)}"
        )
        raise PseudonymError(msg)


def people_for(store: ProjectStore, repository: str, requested: bool, notes: list[str]) -> PeopleFilter:
    """The people filter of a fetch into ``store``: pseudonymizing when asked, or when the recording is."""
    recorded = recorded_people(store, repository)
    if recorded is None:
        pseudonymize = requested
    elif recorded.pseudonymized:
        pseudonymize = True
        if not requested:
            notes.append(
                f"the recording in {store.path} is pseudonymized: the data fetched now is pseudonymized too"
            )
    else:
        check_request(store, repository, requested)
        pseudonymize = False
    if not pseudonymize:
        return NO_PEOPLE
    home = PseudonymHome(store.cache_dir)
    keys = home.keys(create=recorded is None)
    if keys is None:
        msg = (
            f"the recording in {store.path} is pseudonymized, and the salt it was made with is not on this "
            f"machine ({home.salt_path} does not exist, {SALT_ENV} is not set). Fetching with another salt "
            "would give the same people other pseudonyms. Copy the salt from whoever recorded it (to "
            f"{home.salt_path}, mode 600) or set {SALT_ENV}; or record afresh: {_commands(store)}. "
            "Replaying needs no salt (record mode none)"
        )
        raise PseudonymError(msg)
    if recorded is not None and recorded.salt_fingerprint not in (None, keys.fingerprint):
        msg = (
            f"the recording in {store.path} was pseudonymized with another salt (fingerprint "
            f"{recorded.salt_fingerprint}) than {home.describe_salt()} ({keys.fingerprint}); the same people "
            f"would get other pseudonyms. Use the salt it was made with, or record afresh: {_commands(store)}"
        )
        raise PseudonymError(msg)
    people = home.read_people(store.name) or People()
    return RecordingPeople(home, store.name, keys, people, repository, store.cassette_dir)


def looks_pseudonymized(snapshot: Snapshot) -> bool:
    """Whether a snapshot's people are pseudonyms (for metadata written again without the old one)."""
    users = (pr.user for pr in snapshot.prs if pr.user is not None and pr.user.type != "Organization")
    first = next(users, None)
    return first is not None and is_pseudo_id(first.id)


# -- the check -------------------------------------------------------------------------------------------


def find_people(store: ProjectStore, repository: str) -> tuple[list[tuple[Path, str]], bool]:
    """Every person left in a pseudonymized project's files: (file, message), and whether the list of
    originals was there to check against (without it: accounts, e-mails and signatures only)."""
    home = PseudonymHome(store.cache_dir)
    try:
        people = home.read_people(store.name)
    except PseudonymError as exc:
        return [(home.mapping_path(store.name), f"cannot check against the original people: {exc}")], False
    findings: list[tuple[Path, str]] = []
    try:
        files = sorted(p for p in store.path.rglob("*") if p.is_file() and not p.is_symlink())
    except OSError:
        files = []
    for path in files:
        found: dict[tuple[str, str], None] = {}
        walker = Pseudonymizer(people or People(), repository, report=_collector(found))
        try:
            _walk_file(walker, path)
        except RecursionError:
            findings.append((path, "too deeply nested to check for people"))
        for kind, original in list(found)[:_SHOWN_PER_FILE]:
            findings.append(
                (path, f"{kind} of a person, not a pseudonym, in a pseudonymized recording: {original!r}")
            )
        if len(found) > _SHOWN_PER_FILE:
            findings.append((path, f"and {len(found) - _SHOWN_PER_FILE} more originals of people"))
    return findings, people is not None


def _collector(found: dict[tuple[str, str], None]) -> Callable[[str, str], None]:
    def report(kind: str, original: str) -> None:
        found.setdefault((kind, original))

    return report


def _walk_file(walker: Pseudonymizer, path: Path) -> None:
    from pytest_ghseed.cache.cassettes import load_interactions, read_gzip

    if path.name.endswith(".json.gz"):
        try:
            for interaction in load_interactions(path):
                walker.text(interaction.uri)
                for value in interaction.headers.values():
                    walker.text(value)
                walker.value(parse_body(interaction.body))
            return
        except CacheError:
            pass  # not a cassette (verify reports that): scanned as text below
    try:
        data = read_gzip(path) if path.name.endswith(".gz") else path.read_bytes()
    except (CacheError, OSError):
        return
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines() if path.name.endswith(".jsonl") else [text]
    for line in lines:
        walker.value(parse_body(line))
