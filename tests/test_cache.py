"""The cache end to end: threaded recording, offline replay, scrubbing, refresh, corruption, rebuild."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_ghseed.cache.cassettes import compress, load_interactions, replay_vcr
from pytest_ghseed.cache.rebuild import rebuild_project
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.emulator.synthetic import SyntheticProject
from pytest_ghseed.errors import CorruptFile, FetchError, SecretLeakError
from pytest_ghseed.models import FetchParams, Snapshot
from pytest_ghseed.network import network_blocked
from pytest_ghseed.projects import resolve_project
from pytest_ghseed.secrets import REDACTED, Scrubber
from pytest_ghseed.seed import CacheMissing, FetchOptions, ensure
from pytest_ghseed.settings import default_record_mode
from tests.helpers import REPO, make_config

PROJECT = resolve_project(REPO)
ALL = FetchParams(max_prs=None)
#: Token-shaped tokens, so that the scans below look for what a real leak would look like.
ALICE = "ghp_" + "A1b2C3d4E5" * 3 + "f6G7h8"
BOB = "ghp_" + "Z9y8X7w6V5" * 3 + "u4T3s2"


def options(emu: Any, **kwargs: Any) -> FetchOptions:
    return FetchOptions(base_url=emu.base_url, tokens=[ALICE, BOB], **kwargs)


def token_config(**kwargs: Any) -> Any:
    return make_config(tokens={ALICE: "alice", BOB: "bob"}, **kwargs)


@pytest.fixture
def offline() -> Iterator[list[object]]:
    """Block the network for the test (requested after any fixture that records); yields the attempts."""
    with network_blocked() as attempts:
        yield attempts


def all_bytes_under(folder: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file's bytes, and the decompressed bytes of gzip files too."""
    for path in folder.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            yield path, raw
            if path.name.endswith(".gz"):
                yield path, gzip.decompress(raw)


def answered_requests(emu: Any) -> int:
    """Requests the emulator answered, except the token probes (/rate_limit, /user), which are not recorded."""
    stats = emu.stats
    return stats.total_requests - stats.requests_by_path("/rate_limit") - stats.requests_by_path("/user")


@pytest.mark.slow
def test_threaded_recording_loses_no_interaction(emulator_factory, tmp_path: Path) -> None:
    """Recorded with 8 threads under 5xx faults: the cassettes hold exactly the answers the crawl used.

    A fault is retried away and not recorded (it is no data of GitHub's, and a replay would meet it
    before the answer that followed): every answered request is in a cassette, or was a 5xx.
    """
    emu = emulator_factory(token_config(n_prs=30, extremes=True, fault_5xx_rate=0.05, latency_seconds=0.005))
    result = ensure(PROJECT, tmp_path, ALL, options=options(emu, workers=8))
    store = ProjectStore(tmp_path, PROJECT.folder)
    interactions = [i for path in store.layout.cassettes() for i in load_interactions(path)]
    crawl = [r for r in emu.stats.log if not r.path.startswith(("/rate_limit", "/user"))]
    faults = sum(1 for r in crawl if r.status >= 500)
    assert faults > 0, "the emulator injected faults"
    assert answered_requests(emu) == result.requests
    assert len(interactions) == result.requests - faults
    assert all(i.status < 500 for i in interactions)
    assert {i.uri.split("?")[0].rsplit("/", 1)[-1] for i in interactions} >= {"reviews", "commits", "files"}


def test_offline_replay_gives_the_same_data_without_any_request(emulator_factory, tmp_path: Path) -> None:
    """With every socket blocked, record mode none loads the same snapshot and the emulator sees nothing."""
    emu = emulator_factory(token_config(n_prs=12))
    first = ensure(PROJECT, tmp_path, ALL, options=options(emu))
    emu.reset_stats()
    with network_blocked() as offline_attempts:
        again = ensure(PROJECT, tmp_path, ALL, record_mode="none", options=options(emu))
    assert again.source == "cache" and again.requests == 0
    assert again.snapshot == first.snapshot
    assert [pr.to_dict() for pr in again.snapshot.prs] == [pr.to_dict() for pr in emu.truth(REPO)]
    assert emu.stats.total_requests == 0
    assert offline_attempts == []


def test_cassettes_are_plain_gzip_without_a_time_or_a_system_in_their_header(
    emulator_factory, tmp_path: Path
) -> None:
    """Every cassette of a crawl is standard gzip (zlib-ng writes it, Python's gzip reads it), and its
    header names no time and no system: recording the same traffic again gives the same bytes."""
    emu = emulator_factory(token_config(n_prs=4))
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    cassettes = sorted(ProjectStore(tmp_path, PROJECT.folder).cassette_dir.glob("*.json.gz"))
    assert len(cassettes) >= 5  # the listing's shards and the four PRs
    for path in cassettes:
        raw = path.read_bytes()
        # ID1 ID2, deflate, no flags, mtime 0, extra flags, system 255 ("unknown", RFC 1952)
        assert raw[:8] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00" and raw[9] == 255, path.name
        text = gzip.decompress(raw).decode("utf-8")
        assert json.loads(text)["interactions"]
        assert compress(text) == raw


def test_plain_vcrpy_replays_a_recorded_cassette_for_pygithub(emulator_factory, tmp_path: Path) -> None:
    """A user's own test replays a recorded PyGithub call with vcrpy, the emulator untouched."""
    from github import Auth, Github

    emu = emulator_factory(token_config(n_prs=5))
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    store = ProjectStore(tmp_path, PROJECT.folder)
    number = emu.truth(REPO)[2].number
    emu.reset_stats()
    gh = Github(
        auth=Auth.Token("anything"),
        base_url=emu.base_url,
        retry=None,
        seconds_between_requests=None,
        lazy=True,
    )
    with replay_vcr().use_cassette(str(store.cassette_dir / f"pr-{number:06d}.json.gz")) as cassette:
        # Read inside the cassette: a lazy PyGithub object completes itself with a hidden GET.
        title = gh.get_repo(REPO).get_pull(number).title
        assert cassette.play_count == 1
    assert title == emu.truth(REPO)[2].title
    assert emu.stats.total_requests == 0


def test_no_token_under_the_cache_after_normal_and_failed_runs(emulator_factory, tmp_path: Path) -> None:
    """Neither token appears in any byte under the cache dir, after a full run and after one that died midway."""
    emu = emulator_factory(token_config(n_prs=10, latency_seconds=0.01))
    # A PR body that quotes a token-shaped string (people paste them): scrubbed in cassettes and snapshot.
    pasted = "ghp_" + "P" * 36
    emu.project(REPO).update_pull(3, body=f"oops, my token is {pasted}")
    ensure(PROJECT, tmp_path / "ok", ALL, options=options(emu))

    failing = emulator_factory(token_config(n_prs=10, latency_seconds=0.01))
    for number in (1, 2, 3):  # in the checkpoint of the run that dies, too
        failing.project(REPO).update_pull(number, body=f"pasted {pasted} here")
    revoke = {"after": 3}

    def revoke_midway(event: Any) -> None:
        if event.kind == "pr_done":
            revoke["after"] -= 1
            if revoke["after"] == 0:
                failing.revoke_token(ALICE)
                failing.revoke_token(BOB)

    with pytest.raises(FetchError, match="revoked or expired"):
        ensure(PROJECT, tmp_path / "failed", ALL, options=options(failing, workers=2), on_event=revoke_midway)
    scanned = 0
    for path, data in all_bytes_under(tmp_path):
        scanned += 1
        for secret in (ALICE, BOB, pasted):
            assert secret.encode() not in data, f"{secret[:4]}... found in {path}"
    assert scanned > 10
    snapshot = ProjectStore(tmp_path / "ok", PROJECT.folder).read_snapshot()
    assert REDACTED in snapshot.pr(3).body
    assert list((tmp_path / "failed" / PROJECT.folder).glob("checkpoint*")), (
        "the failed run left its checkpoint"
    )


def test_leak_guard_refuses_to_write_a_secret(tmp_path: Path) -> None:
    """The last line of defence: text with a secret is refused, and the error masks the secret."""
    scrubber = Scrubber([ALICE])
    with pytest.raises(SecretLeakError, match=r"ghp_…\(40 chars\)") as info:
        scrubber.check(f"header: {ALICE}", tmp_path / "x.json.gz")
    assert ALICE not in str(info.value)
    assert not (tmp_path / "x.json.gz").exists()
    assert scrubber.scrub(f"url?access_token={ALICE}&x=1") == "url?access_token=<GITHUB_TOKEN>&x=1"


def test_refresh_fetches_only_changed_and_new_prs_with_304s_for_the_rest(
    emulator_factory, tmp_path: Path
) -> None:
    """new_episodes after 5 changed and 3 new PRs: only those cost quota (plus the list page); unchanged parts are 304s."""
    emu = emulator_factory(token_config(n_prs=20))
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    project = emu.project(REPO)
    assert isinstance(project, SyntheticProject)
    changed = [2, 5, 8, 11, 14]
    for number in changed:
        project.update_pull(number, title=f"retitled {number}")
    added = [project.add_pull(title=f"new {i}") for i in range(3)]
    emu.reset_stats()
    result = ensure(PROJECT, tmp_path, ALL, record_mode="new_episodes", options=options(emu))
    stats = emu.stats
    assert result.source == "refreshed"
    assert [pr.to_dict() for pr in result.snapshot.prs] == [pr.to_dict() for pr in emu.truth(REPO)]
    details = {n for n in range(1, 30) if stats.fetch_counts.get(f"/repos/{REPO}/pulls/{n}")}
    assert details == set(changed) | set(added)
    truth = {pr.number: pr for pr in emu.truth(REPO)}
    cost_of_new = sum(
        1 + 1 + 1 + 1 + (truth[n].review_comments_count > 0) + (truth[n].comments_count > 0) for n in added
    )
    list_pages = 1
    quota_spent = (
        stats.responses_by_status.get(200, 0)
        - stats.requests_by_path("/rate_limit")
        - stats.requests_by_path("/user")
    )
    assert quota_spent <= len(changed) + cost_of_new + list_pages
    assert stats.not_modified >= len(changed) * 2, "unchanged sub-lists of changed PRs are revalidated (304)"
    # The cassettes, old and new traffic together, still rebuild exactly the refreshed snapshot.
    store = ProjectStore(tmp_path, PROJECT.folder)
    saved = store.read_snapshot()
    assert rebuild_project(store) == saved


def test_once_mode_refreshes_a_cache_older_than_max_age(emulator_factory, tmp_path: Path) -> None:
    """With max_age exceeded, record mode once refreshes instead of serving stale data."""
    emu = emulator_factory(token_config(n_prs=6))
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    assert ensure(PROJECT, tmp_path, ALL, options=options(emu), max_age=3600).source == "cache"
    assert ensure(PROJECT, tmp_path, ALL, options=options(emu), max_age=0).source == "refreshed"


def test_offline_without_cache_names_the_command_to_record(tmp_path: Path) -> None:
    """Record mode none with nothing recorded says exactly how to record it."""
    with pytest.raises(CacheMissing, match=f"ghseed fetch acme/widgets --cache-dir {tmp_path}"):
        ensure(PROJECT, tmp_path, ALL, record_mode="none")


def test_ci_defaults_to_offline() -> None:
    """The CI variable makes record mode none the default; false-ish values do not."""
    assert default_record_mode({"CI": "true"}) == "none"
    assert default_record_mode({"CI": "false"}) == "once"
    assert default_record_mode({}) == "once"


def test_smaller_selection_is_served_from_a_bigger_cache(emulator_factory, tmp_path: Path) -> None:
    """A cache of all PRs answers a request for the 3 most recent closed ones without any request."""
    emu = emulator_factory(token_config(n_prs=12))
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    emu.reset_stats()
    result = ensure(PROJECT, tmp_path, FetchParams(max_prs=3, state="closed"), options=options(emu))
    closed = [pr.number for pr in emu.truth(REPO) if pr.state == "closed"]
    assert [pr.number for pr in result.snapshot.prs] == closed[-3:]
    assert emu.stats.total_requests == 0


# -- corruption: one test per kind of file ---------------------------------------------------------------


@pytest.fixture
def recorded(emulator_factory, tmp_path: Path) -> tuple[Any, ProjectStore, Snapshot]:
    emu = emulator_factory(token_config(n_prs=8))
    snapshot = ensure(PROJECT, tmp_path, ALL, options=options(emu)).snapshot
    return emu, ProjectStore(tmp_path, PROJECT.folder), snapshot


def test_truncated_snapshot_is_moved_aside_and_rebuilt_from_cassettes_offline(recorded, offline) -> None:
    """A truncated snapshot is moved aside (not deleted) and rebuilt from the cassettes, with no network."""
    _emu, store, snapshot = recorded
    original = store.snapshot_path.read_bytes()
    store.snapshot_path.write_bytes(original[: len(original) // 2])
    result = ensure(PROJECT, store.cache_dir, ALL, record_mode="none")
    assert result.snapshot == snapshot
    moved = list(store.path.glob("snapshot.json.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes() == original[: len(original) // 2]
    assert any("corrupt" in note and "moved aside" in note for note in result.notes)
    assert any("rebuilt the snapshot" in note for note in result.notes)


def test_garbage_metadata_is_moved_aside_and_the_snapshot_still_serves(recorded) -> None:
    """Garbage metadata is moved aside with a note; the intact snapshot is used."""
    _emu, store, snapshot = recorded
    store.metadata_path.write_text("not json at all {", encoding="utf-8")
    result = ensure(PROJECT, store.cache_dir, ALL, record_mode="none")
    assert result.snapshot == snapshot
    assert list(store.path.glob("metadata.json.corrupt-*"))
    assert any("metadata.json is corrupt" in note for note in result.notes)


def test_corrupt_cassette_is_moved_aside_and_refetched_in_once_mode(recorded) -> None:
    """A garbage cassette makes the (pure) rebuild fail clearly; in once mode it is quarantined and refetched."""
    emu, store, _snapshot = recorded
    victim = store.layout.cassettes()[1]
    victim.write_bytes(b"\x1f\x8b garbage")
    store.snapshot_path.unlink()
    with pytest.raises(CorruptFile, match=rf"{victim.name} is corrupt"):
        rebuild_project(store)
    assert victim.exists(), "a read never moves anything"
    offline_try = ensure(PROJECT, store.cache_dir, ALL, record_mode="once", options=options(emu))
    assert list(store.cassette_dir.glob(f"{victim.name}.corrupt-*"))
    assert any(victim.name in note and "moved aside" in note for note in offline_try.notes)
    assert offline_try.source == "fetched"
    assert [pr.to_dict() for pr in offline_try.snapshot.prs] == [pr.to_dict() for pr in emu.truth(REPO)]


def test_corrupt_checkpoint_is_moved_aside_and_the_fetch_starts_over(
    emulator_factory, tmp_path: Path
) -> None:
    """A garbage checkpoint left by a crash is moved aside with a note, and the fetch completes."""
    emu = emulator_factory(token_config(n_prs=6))
    store = ProjectStore(tmp_path, PROJECT.folder)
    store.ensure()
    store.checkpoint_path.write_bytes(b'{"repo": "acme/widgets", "plan": [1, 2')
    result = ensure(PROJECT, tmp_path, ALL, options=options(emu))
    assert result.source == "fetched"
    assert list(store.path.glob("checkpoint.json.corrupt-*"))
    assert any("checkpoint" in note for note in result.notes)


def test_snapshot_of_another_schema_version_is_rebuilt(recorded) -> None:
    """A snapshot written by another schema version is rebuilt from the cassettes, with a note saying so."""
    _emu, store, snapshot = recorded
    data = json.loads(store.snapshot_path.read_text())
    data["schema_version"] = 999
    store.snapshot_path.write_text(json.dumps(data))
    result = ensure(PROJECT, store.cache_dir, ALL, record_mode="none")
    assert result.snapshot == snapshot
    assert any("schema_version 999" in note for note in result.notes)


def test_rebuild_from_cassettes_equals_the_snapshot_with_the_network_blocked(recorded, offline) -> None:
    """The cassettes alone rebuild the very snapshot that was saved, without a single connection."""
    _emu, store, snapshot = recorded
    assert rebuild_project(store) == snapshot
    assert offline == []
