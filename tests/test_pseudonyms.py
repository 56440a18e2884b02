"""The pseudonymization rules, the walker and the salt's home, on real GitHub bodies and on texts.

End-to-end recordings (PyGithub -> emulator over HTTP) are in ``test_pseudonymized_recording.py``.
"""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pytest_ghseed.cache.cassettes import CassetteRecorder, load_interactions
from pytest_ghseed.errors import PseudonymError
from pytest_ghseed.models import PullRequest, Repository, Snapshot
from pytest_ghseed.pseudonyms.home import SALT_ENV, PseudonymHome
from pytest_ghseed.pseudonyms.people import People, Pseudonymizer
from pytest_ghseed.pseudonyms.recording import RecordingPeople
from pytest_ghseed.pseudonyms.rules import PSEUDO_ID_BASE, Keys, is_kept_email, is_pseudo_login
from pytest_ghseed.traffic import Exchange
from tests.helpers import load_sample

KEYS = Keys(b"0123456789abcdef" * 4)


def walker(repository: str = "PyGithub/PyGithub", keys: Keys = KEYS) -> Pseudonymizer:
    return Pseudonymizer(People(), repository, keys=keys)


def persons(value: Any, owner: str) -> dict[str, int]:
    """login -> id of every person account (not an organisation, not the owner) in a JSON value."""
    found: dict[str, int] = {}
    if isinstance(value, dict):
        if (
            isinstance(value.get("login"), str)
            and value.get("type") in ("User", "Bot")
            and value["login"] != owner
        ):
            found[value["login"]] = value["id"]
        for item in value.values():
            found |= persons(item, owner)
    elif isinstance(value, list):
        for item in value:
            found |= persons(item, owner)
    return found


def shape(value: Any) -> Any:
    """The keys and value types of a JSON value (what a client parses), without the values.

    A commit's ``signature`` is a string or null (unsigned) in GitHub's own answers: both are one shape.
    """
    if isinstance(value, dict):
        return {key: "signature" if key == "signature" else shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


# -- the derivations --------------------------------------------------------------------------------------


def test_pseudonyms_are_stable_keyed_and_recognisable() -> None:
    """One salt: the same pseudonyms every time; another salt: others; every shape recognisable as a pseudonym."""
    again, other = Keys(b"0123456789abcdef" * 4), Keys(b"another salt, as long as needed")
    assert KEYS.login(583231, bot=False, suffix=False) == again.login(583231, bot=False, suffix=False)
    assert KEYS.login(583231, bot=False, suffix=False) != other.login(583231, bot=False, suffix=False)
    assert re.fullmatch(r"user-[0-9a-f]{12}", KEYS.login(583231, bot=False, suffix=False))
    assert re.fullmatch(r"bot-[0-9a-f]{12}\[bot\]", KEYS.login(49699333, bot=True, suffix=True))
    assert PSEUDO_ID_BASE <= KEYS.user_id(583231) < 2 * PSEUDO_ID_BASE < 2**53
    assert re.fullmatch(r"Person [0-9a-f]{12}", KEYS.name("Ada Lovelace"))
    assert KEYS.name("Ada Lovelace") == KEYS.name("ada lovelace ")
    email = KEYS.email("Ada@Lovelace.example")
    assert re.fullmatch(r"person-[0-9a-f]{12}@pseudonym\.invalid", email) and is_kept_email(email)
    noreply = KEYS.email("49699333+dependabot[bot]@users.noreply.github.com")
    pid, login = KEYS.user_id(49699333), KEYS.login(49699333, bot=True, suffix=True)
    assert noreply == f"{pid}+{login}@users.noreply.github.com" and is_kept_email(noreply)
    assert is_kept_email("noreply@github.com") and not is_kept_email("ada@lovelace.example")
    assert KEYS.fingerprint == again.fingerprint != other.fingerprint
    assert "0123456789abcdef" not in repr(KEYS) + KEYS.fingerprint


# -- real GitHub bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sample", ["pull.json", "pull-list.json", "commits.json", "reviews.json", "review-comments.json"]
)
def test_a_real_github_body_keeps_its_shape_and_loses_its_people(sample: str) -> None:
    """Real bodies (PyGithub's recordings): same keys and types, every person replaced, the owner kept, twice = once."""
    body = load_sample(sample)
    owner = "PyGithub"  # pull-list.json lists a fork of PyGithub/PyGithub: its owner is a person here
    originals = persons(body, owner)
    assert originals, f"{sample} has people"
    pseudo = walker(f"{owner}/PyGithub")
    out = pseudo.pseudonymize(body)
    assert shape(out) == shape(body)
    text = json.dumps(out)
    for login, user_id in originals.items():
        stem = login.removesuffix("[bot]")
        assert not re.search(rf"(?<![A-Za-z0-9-]){re.escape(stem)}(?![A-Za-z0-9-])", text, re.IGNORECASE), (
            login
        )
        assert f"/u/{user_id}?" not in text
    assert all(is_pseudo_login(login) for login in persons(out, owner))
    assert f"{owner}/PyGithub" in text or sample in ("commits.json", "pull-list.json"), (
        "the repository is kept"
    )
    assert pseudo.pseudonymize(out) == out


def test_a_real_commit_keeps_github_s_own_identity_and_drops_its_signature() -> None:
    """The web-flow committer (GitHub <noreply@github.com>) stays; the author is replaced; the PGP signature goes."""
    commit = load_sample("commits.json")[0]
    out = walker().pseudonymize(commit)
    assert out["commit"]["committer"] == commit["commit"]["committer"]
    assert out["commit"]["author"]["name"].startswith("Person ")
    assert out["commit"]["author"]["email"].endswith("[bot]@users.noreply.github.com")
    assert out["commit"]["verification"]["signature"] is None and out["commit"]["verification"]["verified"]
    assert "dependabot" not in json.dumps(out)


def test_models_built_from_a_pseudonymized_body_equal_the_pseudonymized_models() -> None:
    """Pseudonymizing GitHub's JSON then building models equals building then pseudonymizing (rebuild == snapshot)."""
    detail, commits, reviews = (
        load_sample("pull.json"),
        load_sample("commits.json"),
        load_sample("reviews.json"),
    )
    raw = walker()
    built = PullRequest.from_github(
        raw.pseudonymize(detail), reviews=raw.pseudonymize(reviews), commits=raw.pseudonymize(commits)
    )
    models = walker()
    plain = PullRequest.from_github(detail, reviews=reviews, commits=commits).to_dict()
    assert PullRequest.from_dict(models.pseudonymize(plain)) == built


# -- texts ------------------------------------------------------------------------------------------------


def texts_walker() -> Pseudonymizer:
    pseudo = walker("acme/widgets")
    pseudo.learn(
        [
            {"login": "ada-l", "id": 5000000, "type": "User"},
            {"login": "open", "id": 5000001, "type": "User"},
            {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"},
            {"login": "acme", "id": 1, "type": "User"},
            {"name": "Charles Babbage", "email": "charles@engine.example"},
            {"name": "root", "email": "root@box.example"},
        ]
    )
    return pseudo


def test_texts_lose_mentions_sign_offs_e_mails_and_names() -> None:
    """Mentions, Signed-off-by/Co-authored-by, e-mails, known names, logins in URLs and branches; the rest stays."""
    pseudo = texts_walker()
    ada, bot = KEYS.login(5000000, bot=False, suffix=False), KEYS.login(49699333, bot=True, suffix=False)
    text = pseudo.text(
        "Thanks @ada-l! Charles Babbage agrees.\n"
        "Signed-off-by: Ada Lovelace <ada@lovelace.example>\n"
        "Co-authored-by: ada-l <5000000+ada-l@users.noreply.github.com>\n"
        "see https://github.com/ada-l and ada-l/fix-cache, dependabot/pip/x, dependabot[bot]; mail grace@navy.example\n"
        "avatar https://avatars.githubusercontent.com/u/5000000?v=4 of acme/widgets, by acme; run as root"
    )
    assert f"Thanks @{ada}! {KEYS.name('Charles Babbage')} agrees." in text
    assert f"Signed-off-by: {KEYS.name('Ada Lovelace')} <{KEYS.email('ada@lovelace.example')}>" in text
    assert (
        f"Co-authored-by: {KEYS.name('ada-l')} <{KEYS.user_id(5000000)}+{ada}@users.noreply.github.com>"
        in text
    )
    assert f"https://github.com/{ada} and {ada}/fix-cache, {bot}/pip/x, {bot}[bot];" in text
    assert KEYS.email("grace@navy.example") in text and f"/u/{KEYS.user_id(5000000)}?v=4" in text
    assert "of acme/widgets, by acme; run as root" in text, (
        "owner, repository and a one-word name in prose stay"
    )
    assert pseudo.text(text) == text


def test_enumerations_hashes_and_etags_are_never_people() -> None:
    """A person called `open` does not turn "state": "open" into a pseudonym; ETags and parameters are left alone."""
    pseudo = texts_walker()
    value = {
        "state": "open",
        "title": "open issue",
        "etags": {"detail": 'W/"open"'},
        "params": {"state": "open"},
    }
    out = pseudo.value(value)
    assert out["state"] == "open" and out["etags"] == value["etags"] and out["params"] == value["params"]
    assert out["title"] == f"{KEYS.login(5000001, bot=False, suffix=False)} issue"


def test_checking_reports_what_replacing_replaces() -> None:
    """The same walker with a report function finds each original (without the salt) and changes nothing."""
    people = texts_walker().people
    found: list[tuple[str, str]] = []
    checker = Pseudonymizer(
        people, "acme/widgets", report=lambda kind, original: found.append((kind, original))
    )
    value = {
        "user": {"login": "ada-l", "id": 5000000, "type": "User"},
        "body": "cc @open, Charles Babbage <charles@engine.example>",
    }
    assert checker.value(value) == value
    kinds = {kind for kind, _ in found}
    assert {"an account", "a login", "a name", "an e-mail address"} <= kinds
    found.clear()
    clean = Pseudonymizer(people, "acme/widgets", keys=KEYS).pseudonymize(value)
    Pseudonymizer(people, "acme/widgets", report=lambda kind, original: found.append((kind, original))).value(
        clean
    )
    assert found == []


# -- the salt's home ----------------------------------------------------------------------------------------


def test_the_salt_is_made_once_private_and_ignored_by_git(tmp_path: Path) -> None:
    """First use makes .ghseed/salt (0600) beside the cache dir, with a .gitignore of `*`; then the same salt."""
    home = PseudonymHome(tmp_path / "cassettes", environ={})
    assert home.keys(create=False) is None
    keys = home.keys(create=True)
    assert keys is not None and home.path == tmp_path / ".ghseed"
    assert stat.S_IMODE(home.salt_path.stat().st_mode) == 0o600
    assert (home.path / ".gitignore").read_text().splitlines()[-1] == "*"
    again = PseudonymHome(tmp_path / "cassettes", environ={}).keys(create=False)
    assert again is not None and again.fingerprint == keys.fingerprint
    assert not (tmp_path / "cassettes").exists(), "nothing of it in the cache dir"


def test_a_salt_from_the_environment_takes_the_file_s_place(tmp_path: Path) -> None:
    """GHSEED_PSEUDONYM_SALT: used as is (a team shares it); too short is refused with how to make one."""
    salt = "s" * 40
    keys = PseudonymHome(tmp_path / "c", environ={SALT_ENV: salt}).keys(create=True)
    assert keys is not None and keys.fingerprint == Keys(salt.encode()).fingerprint
    assert not (tmp_path / ".ghseed" / "salt").exists()
    with pytest.raises(PseudonymError, match=r"at least 32 \(make one with: python -c"):
        PseudonymHome(tmp_path / "c", environ={SALT_ENV: "short"}).keys(create=True)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_salt_others_can_read_or_a_damaged_one_is_refused(tmp_path: Path) -> None:
    """A salt readable by others, or not a salt, is refused with the next step; nothing is replaced silently."""
    home = PseudonymHome(tmp_path / "cassettes", environ={})
    home.keys(create=True)
    home.salt_path.chmod(0o644)
    with pytest.raises(PseudonymError, match=r"open to other users \(mode 644\).*chmod 600"):
        home.keys(create=False)
    home.salt_path.chmod(0o600)
    home.salt_path.write_text("not a salt\n")
    with pytest.raises(PseudonymError, match="is not a pytest-ghseed salt"):
        home.keys(create=True)


def test_the_list_of_originals_survives_a_cut_last_line_but_not_an_edit(tmp_path: Path) -> None:
    """Entries come back as written; a last line cut by a crash is ignored; an edited line is an error."""
    home = PseudonymHome(tmp_path / "cassettes", environ={})
    home.append("demo", [{"account": 7, "login": "ada-l", "bot": False}, {"name": "Ada Lovelace"}], KEYS)
    path = home.mapping_path("demo")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text().splitlines()[0])["pseudonym"] == KEYS.login(7, bot=False, suffix=False)
    with path.open("a") as handle:
        handle.write('{"email": "ada@lov')
    people = home.read_people("demo")
    assert people is not None and people.words["ada-l"] == (7, False) and "ada lovelace" in people.names
    path.write_text('{"what": 1}\n{"name": "x"}\n')
    with pytest.raises(PseudonymError, match="line 1 is not a pytest-ghseed pseudonym entry"):
        home.read_people("demo")


# -- the recorder's sweep -----------------------------------------------------------------------------------


def exchange(path: str, body: Any) -> Exchange:
    return Exchange("GET", f"http://127.0.0.1:1/repos/acme/widgets{path}", {}, 200, {}, json.dumps(body))


def test_a_cassette_written_before_a_person_was_met_is_swept_at_the_save(tmp_path: Path) -> None:
    """The listing mentions @late before late's account appears (in PR 2): the save rewrites the listing alone."""
    cassettes = tmp_path / "cassettes" / "acme__widgets" / "cassettes"
    home = PseudonymHome(tmp_path / "cassettes", environ={})
    keys = home.keys(create=True)
    assert keys is not None
    people = RecordingPeople(home, "acme__widgets", keys, People(), "acme/widgets", cassettes)
    recorder = CassetteRecorder(cassettes, [], people)
    recorder(exchange("/pulls", [{"number": 1, "body": "ping @late"}]))
    recorder.flush_listing()
    recorder(exchange("/pulls/1", {"number": 1, "body": "ping @late"}))
    recorder.flush_pr(1)
    recorder(
        exchange("/pulls/2/reviews", [{"user": {"login": "late", "id": 42, "type": "User"}, "body": "ok"}])
    )
    recorder.flush_pr(2)
    before = [i.body for i in load_interactions(cassettes / "listing-000001.json.gz")]
    assert "@late" in before[0]
    snapshot = Snapshot(Repository("acme/widgets", 1), datetime.now(UTC), ())
    people.finish(snapshot, cassettes, recorder.scrubber.check)
    assert sorted(people.swept) == ["listing-000001.json.gz", "pr-000001.json.gz"]
    late = keys.login(42, bot=False, suffix=False)
    for name in ("listing-000001", "pr-000001"):
        bodies = [i.body for i in load_interactions(cassettes / f"{name}.json.gz")]
        assert f"@{late}" in bodies[0] and "@late" not in bodies[0]
    swept = [json.loads(line) for line in home.mapping_path("acme__widgets").read_text().splitlines()]
    assert swept[-1] == {"swept": people.people.version}


@pytest.mark.parametrize("depth", [700, 5000])
def test_a_body_nested_too_deep_to_walk_is_replaced_as_text(tmp_path: Path, depth: int) -> None:
    """A hostile server's JSON nested deeper than a walk (or a parse) goes: no error, known people replaced as text."""
    home = PseudonymHome(tmp_path / "cassettes", environ={})
    keys = home.keys(create=True)
    assert keys is not None
    people = RecordingPeople(home, "acme__widgets", keys, People(), "acme/widgets", tmp_path / "none")
    people.exchanges(
        "pr-000001", [exchange("/pulls/1", {"user": {"login": "ada-l", "id": 7, "type": "User"}})]
    )
    deep = "[" * depth + '"ada-l"' + "]" * depth
    (out,) = people.exchanges("pr-000001", [Exchange("GET", "http://127.0.0.1:1/x", {}, 200, {}, deep)])
    assert out.body == deep.replace("ada-l", keys.login(7, bot=False, suffix=False))
