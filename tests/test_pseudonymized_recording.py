"""Pseudonymized recordings end to end: PyGithub -> requests -> the emulator over HTTP, recorded with
``pseudonymize=True``, then every byte of the cache scanned for the people the emulator's truth holds.

The emulator's ``acme/widgets`` gets people planted where real repositories have them: a mention and
sign-off lines in the first pull request's body (which the listing records before anyone is known), a
reviewer who appears only in the last pull request, a commit author without an account, a name and an
e-mail in a comment. Tests that change the cache work on a copy (cache dir and ``.ghseed`` beside it).
"""

from __future__ import annotations

import copy
import gzip
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from github import Auth, Github

from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.cli import main
from pytest_ghseed.emulator import Emulator, start
from pytest_ghseed.emulator.serve import serve_project
from pytest_ghseed.emulator.synthetic import SyntheticProject, pool_user
from pytest_ghseed.errors import PseudonymError
from pytest_ghseed.factories import make_real_factory
from pytest_ghseed.models import FetchParams, PullRequest, Snapshot
from pytest_ghseed.network import network_blocked
from pytest_ghseed.projects import resolve_project
from pytest_ghseed.pseudonyms.home import SALT_ENV, PseudonymHome
from pytest_ghseed.pseudonyms.rules import PSEUDO_ID_BASE, is_pseudo_login
from pytest_ghseed.seed import CacheMissing, FetchOptions, ensure
from tests.helpers import REPO, TOKENS, make_config

PROJECT = resolve_project(REPO)
ALL = FetchParams(max_prs=None)
FOLDER = "acme__widgets"
LATE = "late-reviewer"
#: People written only in texts (a sign-off, a co-author, a commit without an account, an e-mail in prose).
PLANTED_NAMES = ("Ada Lovelace", "Charles Babbage")
PLANTED_EMAILS = ("ada@lovelace.example", "charles@engine.example", "grace@navy.example")


def plant_people(project: SyntheticProject) -> None:
    """Put people where real data has them (see the module docstring)."""
    pulls = project.pulls()
    first, last = pulls[0], pulls[-1]
    author = first.detail["user"]["login"]
    with project.lock:
        first.detail["body"] = (
            f"Thanks @{LATE} and @{author}, mail me at grace@navy.example.\n\n"
            "Signed-off-by: Ada Lovelace <ada@lovelace.example>\n"
            "Co-authored-by: Charles Babbage <charles@engine.example>"
        )
        late_review = copy.deepcopy(last.reviews[0]) if last.reviews else None
        assert late_review is not None, "the last pull request of seed 3 has reviews"
        late_review["id"] += 150
        late_review["user"] = pool_user(LATE)
        late_review["body"] = f"Reviewed by {LATE}; Charles Babbage wrote the engine."
        last.reviews.append(late_review)
        commit = pulls[1].commits[0]
        commit["author"] = None
        commit["commit"]["author"] = {
            "name": "Charles Babbage",
            "email": "charles@engine.example",
            "date": "2024-01-02T00:00:00Z",
        }
        commented = next(pull for pull in pulls if pull.issue_comments)
        commented.issue_comments[0]["body"] = "As Ada Lovelace said (ada@lovelace.example): ship it."


@dataclass
class Originals:
    """The people of the emulator's truth: what must not be left anywhere in a pseudonymized cache."""

    logins: set[str]
    ids: set[int]
    names: set[str]
    emails: set[str]

    @classmethod
    def of(cls, truth: list[PullRequest]) -> Originals:
        users = [
            user
            for pr in truth
            for user in (
                pr.user,
                pr.merged_by,
                *pr.requested_reviewers,
                *(r.user for r in pr.reviews),
                *(c.user for c in pr.review_comments),
                *(c.user for c in pr.issue_comments),
            )
            if user is not None and user.type != "Organization"
        ]
        commits = [c for pr in truth for c in pr.commits]
        return cls(
            logins={u.login for u in users} | {c.author_login for c in commits if c.author_login},
            ids={u.id for u in users},
            names={c.author_name for c in commits if c.author_name} | set(PLANTED_NAMES),
            emails={c.author_email for c in commits if c.author_email} | set(PLANTED_EMAILS),
        )

    def left_in(self, text: str) -> list[str]:
        """Every original found in ``text``: logins as words (a bot's also without ``[bot]``, as in branch
        names and URLs), names and e-mails anywhere, real ids in avatars, noreply addresses and ``"id":``."""
        words = {login.lower() for login in self.logins} | {
            login[:-5].lower() for login in self.logins if login.endswith("[bot]")
        }
        pattern = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
        found = set(re.findall(rf"(?<![A-Za-z0-9-])(?:{pattern})(?![A-Za-z0-9-])", text, re.IGNORECASE))
        lowered = text.lower()
        found |= {name for name in self.names if name.lower() in lowered}
        found |= {email for email in self.emails if email.lower() in lowered}
        ids = "|".join(str(uid) for uid in self.ids)
        found |= {f"id {uid}" for uid in re.findall(rf"(?:/u/|[\"\\]:|\+)({ids})(?!\d)", text)}
        return sorted(found)


def every_text(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every file under ``folder`` as text, gzip files decompressed."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name.endswith(".gz"):
                data = gzip.decompress(data)
            yield path, data.decode("utf-8")


def accounts(value: Any) -> Iterator[dict[str, Any]]:
    """Every account object (login and id) in a JSON value."""
    if isinstance(value, dict):
        if isinstance(value.get("login"), str) and isinstance(value.get("id"), int):
            yield value
        for item in value.values():
            yield from accounts(item)
    elif isinstance(value, list):
        for item in value:
            yield from accounts(item)


def recorded_accounts(cache: Path) -> list[dict[str, Any]]:
    """The person accounts of the snapshot and of every response body of the cassettes."""
    found = list(accounts(json.loads((cache / FOLDER / "snapshot.json").read_text())))
    for path in (cache / FOLDER / "cassettes").glob("*.json.gz"):
        for interaction in json.loads(gzip.decompress(path.read_bytes()))["interactions"]:
            body = interaction["response"]["body"]["string"]
            if body[:1] in "[{":
                found += accounts(json.loads(body))
    return [a for a in found if a.get("type") != "Organization" and a["login"] != "acme"]


def pseudonyms_of(base: Path) -> dict[str, str]:
    """Original login -> pseudonym, from the list kept beside the cache dir."""
    path = PseudonymHome(base / "cassettes").mapping_path(FOLDER)
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    return {e["login"]: e["pseudonym"] for e in entries if "account" in e}


def options(emu: Emulator, **kwargs: Any) -> FetchOptions:
    return FetchOptions(base_url=emu.base_url, tokens=list(TOKENS), workers=4, **kwargs)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Emulator, list[PullRequest]]]:
    """acme/widgets (12 PRs, people planted) recorded with pseudonymization once per module: the folder
    holding ``cassettes/`` and ``.ghseed/``, the running emulator, and its truth."""
    base = tmp_path_factory.mktemp("pseudonymized")
    with start(make_config(n_prs=12)) as emu:
        project = emu.project(REPO)
        assert isinstance(project, SyntheticProject)
        plant_people(project)
        truth = emu.truth(REPO)
        ensure(PROJECT, base / "cassettes", ALL, options=options(emu, pseudonymize=True))
        yield base, emu, truth


@pytest.fixture
def copied(recording: tuple[Path, Emulator, list[PullRequest]], tmp_path: Path) -> Path:
    """A private copy of the recording's folder (cache dir and .ghseed)."""
    base = recording[0]
    return Path(shutil.copytree(base, tmp_path / "project", symlinks=True))


def test_no_original_person_is_left_in_any_byte_of_the_cache(recording) -> None:
    """Every file, gzip decompressed: no original login, name, e-mail or user id of any person remains."""
    base, _, truth = recording
    originals = Originals.of(truth)
    assert LATE in originals.logins and "Charles Babbage" in originals.names and len(originals.logins) >= 10
    left = {
        str(path.relative_to(base)): found
        for path, text in every_text(base / "cassettes")
        if (found := originals.left_in(text))
    }
    assert left == {}
    persons = recorded_accounts(base / "cassettes")
    assert persons and all(a["id"] >= PSEUDO_ID_BASE and is_pseudo_login(a["login"]) for a in persons)
    assert all(not a.get("avatar_url") or str(a["id"]) in a["avatar_url"] for a in persons)
    metadata = json.loads((base / "cassettes" / FOLDER / "metadata.json").read_text())
    assert metadata["pseudonymized"] is True and metadata["pseudonym_salt"].startswith("hmac-sha256:")


def test_the_same_person_is_the_same_pseudonym_everywhere_and_counts_per_author_hold(recording) -> None:
    """Snapshot and cassettes agree login <-> id; each original maps to one pseudonym; per-author counts are unchanged."""
    base, _, truth = recording
    persons = recorded_accounts(base / "cassettes")
    ids_of: dict[str, set[int]] = {}
    logins_of: dict[int, set[str]] = {}
    for account in persons:
        ids_of.setdefault(account["login"], set()).add(account["id"])
        logins_of.setdefault(account["id"], set()).add(account["login"])
    assert all(len(ids) == 1 for ids in ids_of.values()) and all(len(ls) == 1 for ls in logins_of.values())
    pseudonym = pseudonyms_of(base)
    assert set(ids_of) == {pseudonym[login] for login in Originals.of(truth).logins}
    snapshot = Snapshot.from_dict(json.loads((base / "cassettes" / FOLDER / "snapshot.json").read_text()))
    recorded = {pr.number: pr for pr in snapshot.prs}
    assert Counter(pseudonym[pr.user.login] for pr in truth if pr.user) == Counter(
        pr.user.login for pr in snapshot.prs if pr.user
    )
    for pr in truth:
        mine = recorded[pr.number]
        assert [pseudonym[r.user.login] if r.user else None for r in pr.reviews] == [
            r.user.login if r.user else None for r in mine.reviews
        ]
        assert [pseudonym.get(c.author_login or "") for c in pr.commits] == [
            c.author_login or None for c in mine.commits
        ]
        assert (pr.title, len(pr.files), pr.additions) == (mine.title, len(mine.files), mine.additions)
    first = recorded[truth[0].number]
    assert f"@{pseudonym[LATE]} and @{pseudonym[truth[0].user.login]}" in first.body  # type: ignore[union-attr]
    assert "Signed-off-by: Person " in first.body and "@pseudonym.invalid>" in first.body


def test_verify_passes_and_rebuild_gives_the_same_snapshot_offline(copied: Path, capsys) -> None:
    """`ghseed verify` passes (checked against the originals); `ghseed rebuild` with the network blocked gives the snapshot back."""
    cache = copied / "cassettes"
    assert main(["verify", "--cache-dir", str(cache)]) == 0
    assert "1 checked against the list of originals" in capsys.readouterr().out
    store = ProjectStore(cache, FOLDER)
    saved = store.read_snapshot()
    with network_blocked() as attempts:
        assert main(["rebuild", REPO, "--cache-dir", str(cache)]) == 0
    assert attempts == []
    assert store.read_snapshot() == saved


def test_verify_reports_an_original_login_left_in_a_cassette(copied: Path, recording, capsys) -> None:
    """An original login written into a pseudonymized cassette is reported against the list of originals."""
    truth = recording[2]
    cache = copied / "cassettes"
    victim = cache / FOLDER / "cassettes" / f"pr-{truth[-1].number:06d}.json.gz"
    data = json.loads(gzip.decompress(victim.read_bytes()))
    response = data["interactions"][0]["response"]
    response["body"]["string"] = response["body"]["string"].replace('"title":"', f'"title":"cc {LATE}: ', 1)
    victim.write_bytes(gzip.compress(json.dumps(data).encode()))
    assert main(["verify", "--cache-dir", str(cache)]) == 1
    out = capsys.readouterr()
    assert f"a login of a person, not a pseudonym, in a pseudonymized recording: '{LATE}'" in out.out
    assert "ghseed fetch PROJECT --pseudonymize" in out.err


def test_without_the_salt_replay_and_verify_work_and_a_fetch_is_refused(
    copied: Path, recording, capsys
) -> None:
    """A fresh clone (no .ghseed): replay offline and verify work; fetching into the recording is refused, saying why."""
    shutil.rmtree(copied / ".ghseed")
    cache = copied / "cassettes"
    with network_blocked():
        replayed = ensure(PROJECT, cache, ALL, record_mode="none")
    assert len(replayed.snapshot.prs) == len(recording[2]) and replayed.requests == 0
    assert main(["verify", "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr()
    assert "0 checked against the list of originals" in out.out and "not on this machine" in out.err
    with pytest.raises(
        PseudonymError, match=r"salt it was made with is not on this machine.*GHSEED_PSEUDONYM_SALT"
    ):
        ensure(PROJECT, cache, ALL, record_mode="new_episodes", options=options(recording[1]))


def test_another_salt_is_refused(copied: Path, recording, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refresh with another salt than the recording's (by its fingerprint) is refused: pseudonyms would differ."""
    monkeypatch.setenv(SALT_ENV, "another-salt-" + "x" * 40)
    with pytest.raises(PseudonymError, match="pseudonymized with another salt"):
        ensure(PROJECT, copied / "cassettes", ALL, record_mode="new_episodes", options=options(recording[1]))


def test_a_refresh_keeps_the_map_even_without_the_option(copied: Path, recording) -> None:
    """new_episodes after a new pull request, without --pseudonymize: same salt, same pseudonyms, new data pseudonymized."""
    _, emu, _ = recording
    cache = copied / "cassettes"
    salt = (copied / ".ghseed" / "salt").read_bytes()
    before = pseudonyms_of(copied)
    pairs_before = {(a["login"], a["id"]) for a in recorded_accounts(cache)}
    project = emu.project(REPO)
    assert isinstance(project, SyntheticProject)
    number = project.add_pull(title="Refreshed", body=f"Follow-up for @{LATE}")
    try:
        result = ensure(PROJECT, cache, ALL, record_mode="new_episodes", options=options(emu))
        truth = emu.truth(REPO)
    finally:
        with project.lock:
            project._pulls.pop(number)  # the module's emulator serves the other tests
    assert result.source == "refreshed"
    assert any("is pseudonymized: the data fetched now is pseudonymized too" in n for n in result.notes)
    assert (copied / ".ghseed" / "salt").read_bytes() == salt
    after = pseudonyms_of(copied)
    assert {login: after[login] for login in before} == before
    assert pairs_before <= {(a["login"], a["id"]) for a in recorded_accounts(cache)}
    added = next(pr for pr in result.snapshot.prs if pr.number == number)
    original = next(pr for pr in truth if pr.number == number)
    assert (
        added.user is not None
        and original.user is not None
        and added.user.login == after[original.user.login]
    )
    assert f"@{after[LATE]}" in added.body
    left = {p.name: f for p, text in every_text(cache) if (f := Originals.of(truth).left_in(text))}
    assert left == {}


def test_pseudonyms_are_stable_across_runs_on_the_machine_with_the_salt(recording, tmp_path: Path) -> None:
    """A second recording beside the first (same .ghseed) gives every person the same pseudonym again."""
    base, emu, _ = recording
    shutil.copytree(base / ".ghseed", tmp_path / ".ghseed")
    again = ensure(PROJECT, tmp_path / "cassettes", ALL, options=options(emu, pseudonymize=True))
    first = Snapshot.from_dict(json.loads((base / "cassettes" / FOLDER / "snapshot.json").read_text()))
    assert [pr.to_dict() for pr in again.snapshot.prs] == [pr.to_dict() for pr in first.prs]


def test_asking_to_pseudonymize_a_recording_of_real_people_is_refused(recording, tmp_path: Path) -> None:
    """Real recording + pseudonymize: refused for a replay as for a fetch, naming the commands that record it afresh."""
    emu = recording[1]
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    for mode in ("none", "once", "new_episodes"):
        with pytest.raises(PseudonymError, match=r"holds a recording of real people.*ghseed clear"):
            ensure(PROJECT, tmp_path, ALL, record_mode=mode, options=options(emu, pseudonymize=True))  # type: ignore[arg-type]
    with pytest.raises(CacheMissing):
        ensure(
            PROJECT, tmp_path / "nothing", ALL, record_mode="none", options=options(emu, pseudonymize=True)
        )


def test_factories_seeded_from_a_pseudonymized_snapshot_produce_only_pseudonyms(recording) -> None:
    """200 pull requests from the real-data factory: every account a pseudonym, no original anywhere in them."""
    base, _, truth = recording
    snapshot = Snapshot.from_dict(json.loads((base / "cassettes" / FOLDER / "snapshot.json").read_text()))
    built = make_real_factory(snapshot, seed=7).build_batch(200)
    users = [
        u for pr in built for u in (pr.user, pr.merged_by, *(r.user for r in pr.reviews)) if u is not None
    ]
    assert users and all(is_pseudo_login(u.login) and u.id >= PSEUDO_ID_BASE for u in users)
    assert Originals.of(truth).left_in(json.dumps([pr.to_dict() for pr in built])) == []


@pytest.mark.slow
def test_serve_of_a_pseudonymized_recording_serves_pseudonyms_only(recording) -> None:
    """`ghseed serve` of the recording: PyGithub sees pseudonyms only, and no answer holds an original."""
    base, _, truth = recording
    originals = Originals.of(truth)
    with serve_project(ProjectStore(base / "cassettes", FOLDER)) as served:
        gh = Github(base_url=served.base_url, auth=Auth.Token("any"), per_page=100)
        logins: set[str] = set()
        for pull in gh.get_repo(REPO).get_pulls(state="all"):
            logins.add(pull.user.login)
            logins |= {review.user.login for review in pull.get_reviews() if review.user}
            logins |= {commit.author.login for commit in pull.get_commits() if commit.author}
        api = f"{served.base_url}/repos/{REPO}"
        paths = [f"{api}/pulls?state=all&per_page=100", f"{api}/pulls/comments", f"{api}/issues/comments"]
        for pr in truth:
            paths += [
                f"{api}/pulls/{pr.number}{tail}"
                for tail in ("", "/reviews", "/commits", "/files", "/comments")
            ]
            paths.append(f"{api}/issues/{pr.number}/comments")
        paths += [f"{served.base_url}/users/{login}" for login in sorted(logins)]
        answers = [requests.get(path, timeout=10) for path in paths]
        diff = {"Accept": "application/vnd.github.diff"}
        answers += [requests.get(f"{api}/pulls/{pr.number}", headers=diff, timeout=10) for pr in truth]
    assert logins and all(is_pseudo_login(login) for login in logins)
    assert [answer.url for answer in answers if answer.status_code != 200] == []
    assert originals.left_in("\n".join(answer.text for answer in answers)) == []


def test_an_unfinished_pseudonymized_fetch_resumed_without_the_option_stays_pseudonymized(
    copied: Path, recording
) -> None:
    """No metadata yet (a first fetch cut short): its cassettes say it is pseudonymized, so the resume is too."""
    _, emu, truth = recording
    cache = copied / "cassettes"
    for name in ("metadata.json", "snapshot.json"):
        (cache / FOLDER / name).unlink()
    result = ensure(PROJECT, cache, ALL, options=options(emu))
    assert result.source == "fetched" and any("is pseudonymized" in note for note in result.notes)
    assert json.loads((cache / FOLDER / "metadata.json").read_text())["pseudonymized"] is True
    left = {p.name: f for p, text in every_text(cache) if (f := Originals.of(truth).left_in(text))}
    assert left == {}


def test_metadata_written_again_after_corruption_still_says_pseudonymized(copied: Path) -> None:
    """A corrupt metadata.json beside an intact snapshot is described again: the snapshot's pseudonyms say how."""
    cache = copied / "cassettes"
    (cache / FOLDER / "metadata.json").write_text("{not json")
    result = ensure(PROJECT, cache, ALL, record_mode="none")
    assert any("moved aside" in note for note in result.notes)
    metadata = json.loads((cache / FOLDER / "metadata.json").read_text())
    assert metadata["pseudonymized"] is True and metadata["pseudonym_salt"] is None
