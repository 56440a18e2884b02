"""The GraphQL crawl end to end: PyGithub -> requests -> the emulator's /graphql, into the cache and back."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_ghseed.cache.cassettes import load_interactions, read_gzip, replay_vcr
from pytest_ghseed.cache.rebuild import rebuild_project
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.emulator.synthetic import SyntheticProject
from pytest_ghseed.errors import CorruptFile, FetchError, RateLimitWaitTooLong
from pytest_ghseed.models import FetchParams, PullRequest
from pytest_ghseed.network import network_blocked
from pytest_ghseed.projects import resolve_project
from pytest_ghseed.seed import CacheMissing, FetchOptions, ensure
from tests.helpers import REPO, durability_of, log_durable_steps, make_config

PROJECT = resolve_project(REPO)
ALL = FetchParams(max_prs=None)
NO_PATCHES = FetchParams(max_prs=None, patches=False)
ALICE = "ghp_" + "A1b2C3d4E5" * 3 + "f6G7h8"
BOB = "ghp_" + "Z9y8X7w6V5" * 3 + "u4T3s2"


def options(emu: Any, api: str = "graphql", **kwargs: Any) -> FetchOptions:
    return FetchOptions(base_url=emu.base_url, tokens=[ALICE, BOB], api=api, **kwargs)  # type: ignore[arg-type]


def config(**kwargs: Any) -> Any:
    return make_config(tokens={ALICE: "alice", BOB: "bob"}, **kwargs)


def dicts(prs: Any) -> list[dict[str, Any]]:
    return [pr.to_dict() for pr in sorted(prs, key=lambda pr: pr.number)]


def without_patches(pr: PullRequest) -> PullRequest:
    """What a --no-patches crawl knows of a PR: its files without patch and previous filename."""
    files = tuple(dataclasses.replace(f, patch=None, previous_filename=None) for f in pr.files)
    return dataclasses.replace(pr, files=files)


def graphql_queries(emu: Any) -> int:
    return sum(1 for record in emu.stats.log if record.method == "POST")


def rest_requests(emu: Any) -> int:
    """REST requests the crawl made, the token probes (/rate_limit, /user) left out."""
    return sum(1 for r in emu.stats.log if r.method == "GET" and r.path not in ("/rate_limit", "/user"))


@pytest.mark.slow
def test_graphql_crawl_equals_a_rest_crawl_and_the_truth_field_by_field(
    emulator_factory, tmp_path: Path
) -> None:
    """Extreme PRs (105 reviews, 300 commits, 3,100 files) through GraphQL equal REST's snapshot and the truth."""
    emu = emulator_factory(config(n_prs=20, extremes=True))
    graphql = ensure(PROJECT, tmp_path / "graphql", ALL, options=options(emu))
    assert graphql_queries(emu) > 0
    # Through REST: the repository, and the files: one request per 100 (up to REST's 3,000), none for a PR without.
    assert rest_requests(emu) == 1 + sum(-(-min(pr.changed_files, 3000) // 100) for pr in emu.truth(REPO))
    rest = ensure(PROJECT, tmp_path / "rest", ALL, options=options(emu, "rest"))
    assert dicts(graphql.snapshot.prs) == dicts(rest.snapshot.prs) == dicts(emu.truth(REPO))
    assert graphql.snapshot.repository == rest.snapshot.repository
    capped = graphql.snapshot.pr(11)
    assert len(capped.commits) == 250 and capped.commits_count == 300 and capped.commits_truncated
    metadata = ProjectStore(tmp_path / "graphql", PROJECT.folder).read_metadata()
    assert metadata.graphql == tuple(pr.number for pr in emu.truth(REPO))


def test_no_patches_leaves_patches_out_and_never_serves_a_request_for_them(
    emulator_factory, tmp_path: Path
) -> None:
    """--no-patches: one REST request (the repository), files without patch/previous_filename, and a request
    wanting patches fetches again."""
    emu = emulator_factory(config(n_prs=8))
    first = ensure(PROJECT, tmp_path, NO_PATCHES, options=options(emu))
    assert rest_requests(emu) == 1
    assert dicts(first.snapshot.prs) == dicts(map(without_patches, emu.truth(REPO)))
    assert not first.snapshot.params.patches
    store = ProjectStore(tmp_path, PROJECT.folder)
    assert store.read_metadata().params.to_dict()["patches"] is False
    assert ensure(PROJECT, tmp_path, NO_PATCHES, options=options(emu)).source == "cache"
    with pytest.raises(CacheMissing, match="recorded without patches"):
        ensure(PROJECT, tmp_path, ALL, record_mode="none", options=options(emu))
    emu.reset_stats()
    again = ensure(PROJECT, tmp_path, ALL, options=options(emu))
    assert again.source == "fetched" and rest_requests(emu) > 0
    assert dicts(again.snapshot.prs) == dicts(emu.truth(REPO))


def test_no_patches_with_rest_is_refused() -> None:
    """REST always brings patches: a crawl without them through REST is an error that says what to use."""
    from pytest_ghseed.fetch.choose import fetch_with

    with pytest.raises(FetchError, match="needs the GraphQL API: REST's files always carry their patches"):
        fetch_with("rest", REPO, NO_PATCHES, checkpoint_path=Path("cp.json"), tokens=["x"])


def test_offline_replay_and_rebuild_give_the_same_snapshot_with_the_network_blocked(
    emulator_factory, tmp_path: Path
) -> None:
    """A GraphQL recording replays offline and rebuilds from its cassettes alone, to the same snapshot."""
    emu = emulator_factory(config(n_prs=10, extremes=False))
    first = ensure(PROJECT, tmp_path, ALL, options=options(emu))
    store = ProjectStore(tmp_path, PROJECT.folder)
    assert store.layout.graphql_cassettes()
    emu.reset_stats()
    with network_blocked() as attempts:
        replayed = ensure(PROJECT, tmp_path, ALL, record_mode="none", options=options(emu))
        rebuilt = rebuild_project(store)
    assert attempts == [] and emu.stats.total_requests == 0
    assert replayed.snapshot == first.snapshot == rebuilt


def test_a_graphql_rebuild_names_a_pr_cassette_whose_files_body_was_edited_into_garbage(
    emulator_factory, tmp_path: Path
) -> None:
    """A committed GraphQL recording whose PR cassette holds a files page that is not JSON: the
    rebuild says which file is corrupt, whichever of its readers (REST or GraphQL) meets it first."""
    emu = emulator_factory(config(n_prs=4, extremes=False))
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    store = ProjectStore(tmp_path, PROJECT.folder)
    victim = next(pr.number for pr in emu.truth(REPO) if pr.files)
    path = store.layout.pr_cassette(victim)
    data = json.loads(read_gzip(path))
    pages = [i for i in data["interactions"] if i["request"]["uri"].split("?")[0].endswith("/files")]
    assert pages
    pages[0]["response"]["body"]["string"] = '[{"filename": "a.py", '
    path.write_bytes(gzip.compress(json.dumps(data).encode()))
    with network_blocked(), pytest.raises(CorruptFile, match="malformed") as caught:
        rebuild_project(store)
    assert path.name in str(caught.value)


def test_vcrpy_replays_a_recorded_graphql_call_matched_on_its_body(emulator_factory, tmp_path: Path) -> None:
    """A user's own GraphQL POST, replayed by plain vcrpy matching on the body, gets the recorded answer."""
    emu = emulator_factory(config(n_prs=4))
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    store = ProjectStore(tmp_path, PROJECT.folder)
    shard = store.layout.graphql_cassettes()[-1]
    recorded = next(i for i in load_interactions(shard) if i.method == "POST")
    assert recorded.request_body is not None
    sent = json.loads(recorded.request_body)
    emu.reset_stats()
    my_vcr = replay_vcr()
    with my_vcr.use_cassette(str(shard), match_on=["method", "uri", "body"]) as cassette:
        # The same query with its keys in another order: vcrpy compares the JSON, not the text.
        answer = requests.post(
            recorded.uri, json={"variables": sent["variables"], "query": sent["query"]}, timeout=10
        )
        assert cassette.play_count == 1
    assert answer.json() == json.loads(recorded.body)
    assert emu.stats.total_requests == 0


def test_no_token_reaches_the_graphql_cassettes(emulator_factory, tmp_path: Path) -> None:
    """A token in a PR body and the tokens used are scrubbed from GraphQL answers and requests alike."""
    emu = emulator_factory(config(n_prs=3))
    emu.project(REPO).update_pull(1, body=f"oops, my token {ALICE} leaked")
    result = ensure(PROJECT, tmp_path, ALL, options=options(emu))
    assert ALICE not in result.snapshot.pr(1).body
    for path in (tmp_path / PROJECT.folder).rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            text = (
                b"".join(i.body.encode() + (i.request_body or "").encode() for i in load_interactions(path))
                if path.name.endswith(".json.gz")
                else raw
            )
            assert ALICE.encode() not in text and BOB.encode() not in text, path


def test_refresh_of_a_graphql_recording_fetches_what_changed(emulator_factory, tmp_path: Path) -> None:
    """new_episodes on a GraphQL recording reads the changed and new PRs again; the rebuild agrees."""
    emu = emulator_factory(config(n_prs=12))
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    project = emu.project(REPO)
    assert isinstance(project, SyntheticProject)
    for number in (2, 5):
        project.update_pull(number, title=f"retitled {number}")
    added = project.add_pull(title="new one")
    emu.reset_stats()
    result = ensure(PROJECT, tmp_path, ALL, record_mode="new_episodes", options=options(emu))
    assert result.source == "refreshed"
    assert dicts(result.snapshot.prs) == dicts(emu.truth(REPO))
    reads = emu.stats.graphql_pull_reads
    assert {int(key.split("#")[1]) for key in reads} == {2, 5, added}
    store = ProjectStore(tmp_path, PROJECT.folder)
    assert rebuild_project(store) == store.read_snapshot()


def test_a_graphql_refresh_that_finds_nothing_new_writes_only_the_check_time(
    emulator_factory, tmp_path: Path
) -> None:
    """As a REST refresh: nothing changed on GitHub, so no cassette is added or rewritten (not the
    repository's 304, not the plan's query); metadata.json alone records the check."""
    emu = emulator_factory(config(n_prs=12))
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    store = ProjectStore(tmp_path, PROJECT.folder)

    def files() -> dict[str, bytes]:
        return {
            str(p.relative_to(store.path)): p.read_bytes()
            for p in sorted(store.path.rglob("*"))
            if p.is_file()
        }

    before = files()
    result = ensure(PROJECT, tmp_path, ALL, record_mode="new_episodes", options=options(emu))
    assert result.source == "refreshed"
    after = files()
    assert sorted(after) == sorted(before), "no cassette added"
    assert [name for name in after if after[name] != before[name]] == ["metadata.json"]
    assert json.loads(after["metadata.json"])["checked_at"] is not None


def test_a_graphql_recording_refreshed_through_rest_rebuilds_from_both(
    emulator_factory, tmp_path: Path
) -> None:
    """Recorded through GraphQL, refreshed through REST: each PR is rebuilt from its latest recording."""
    emu = emulator_factory(config(n_prs=6))
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    project = emu.project(REPO)
    assert isinstance(project, SyntheticProject)
    project.update_pull(3, title="retitled through REST")
    result = ensure(PROJECT, tmp_path, ALL, record_mode="new_episodes", options=options(emu, "rest"))
    store = ProjectStore(tmp_path, PROJECT.folder)
    assert 3 not in store.read_metadata().graphql and 4 in store.read_metadata().graphql
    assert dicts(result.snapshot.prs) == dicts(emu.truth(REPO))
    assert rebuild_project(store) == store.read_snapshot()


def test_auto_takes_graphql_where_the_server_has_it_and_rest_where_it_does_not(
    emulator_factory, tmp_path: Path
) -> None:
    """--api auto: GraphQL on a server with /graphql; REST (with a note saying why) on one without."""
    with_graphql = emulator_factory(config(n_prs=3))
    result = ensure(PROJECT, tmp_path / "a", ALL, options=options(with_graphql, "auto"))
    assert graphql_queries(with_graphql) > 1
    assert any("--api auto: GraphQL" in note for note in result.notes)
    without = emulator_factory(config(n_prs=3, graphql=False))
    result = ensure(PROJECT, tmp_path / "b", ALL, options=options(without, "auto"))
    assert any("no GraphQL API (POST /graphql answered 404)" in note for note in result.notes)
    assert dicts(result.snapshot.prs) == dicts(without.truth(REPO))
    assert not ProjectStore(tmp_path / "b", PROJECT.folder).read_metadata().graphql


def test_timeouts_shrink_the_queries_and_the_crawl_completes(emulator_factory, tmp_path: Path) -> None:
    """GitHub's 502 timeout past 40 nodes: queries get smaller, the data equals the truth."""
    emu = emulator_factory(config(n_prs=10, graphql_timeout_nodes=40))
    events: list[Any] = []
    result = ensure(PROJECT, tmp_path, ALL, options=options(emu), on_event=events.append)
    assert emu.stats.responses_by_status.get(502, 0) > 0
    assert any("timed out" in event.message for event in events if event.kind == "note")
    assert dicts(result.snapshot.prs) == dicts(emu.truth(REPO))


@pytest.mark.slow
def test_a_spent_graphql_budget_parks_graphql_only_and_is_waited_for(
    emulator_factory, tmp_path: Path
) -> None:
    """2 points a 2 s window for one user: the crawl waits (shown) for resets, never asks while told to wait."""
    emu = emulator_factory(
        make_config(n_prs=40, graphql_limit=2, window_seconds=2.0, tokens={ALICE: "alice"})
    )
    events: list[Any] = []
    result = ensure(
        PROJECT,
        tmp_path,
        NO_PATCHES,
        options=FetchOptions(base_url=emu.base_url, tokens=[ALICE], api="graphql"),
        on_event=events.append,
    )
    assert dicts(result.snapshot.prs) == dicts(map(without_patches, emu.truth(REPO)))
    waits = [e for e in events if e.kind == "wait"]
    assert waits and all(e.wait <= 3.5 for e in waits)
    assert any("GraphQL" in e.reason or "primary rate limit" in e.reason for e in waits)
    assert emu.stats.violations == 0


def test_a_graphql_wait_longer_than_max_wait_stops_with_a_clear_message(
    emulator_factory, tmp_path: Path
) -> None:
    """A spent GraphQL budget whose reset is further than max_wait: a clear error, finished PRs kept."""
    emu = emulator_factory(make_config(n_prs=40, graphql_limit=1, tokens={ALICE: "alice"}))
    with pytest.raises(RateLimitWaitTooLong, match="max_wait=5s"):
        ensure(
            PROJECT,
            tmp_path,
            NO_PATCHES,
            options=FetchOptions(base_url=emu.base_url, tokens=[ALICE], api="graphql", max_wait=5.0),
        )
    assert emu.stats.violations == 0


@pytest.mark.slow
def test_a_graphql_secondary_limit_stops_the_accounts_rest_requests_too(
    emulator_factory, tmp_path: Path
) -> None:
    """GitHub's 2,000-points-a-minute limit, here 1 a second: the account's REST file requests wait as well
    (secondary limits are per account), and nothing is sent while it is told to wait."""
    # 110 PRs: the plan takes two pages in a row, so the limit is met whatever the machine's pace.
    emu = emulator_factory(
        make_config(
            n_prs=110,
            tokens={ALICE: "alice"},
            graphql_secondary_points=1,
            secondary_window_seconds=1.0,
            secondary_block_seconds=1.0,
        )
    )
    events: list[Any] = []
    result = ensure(
        PROJECT,
        tmp_path,
        ALL,
        options=FetchOptions(base_url=emu.base_url, tokens=[ALICE], api="graphql"),
        on_event=events.append,
    )
    assert dicts(result.snapshot.prs) == dicts(emu.truth(REPO))
    assert emu.stats.secondary_hits > 0
    assert any("secondary" in (e.reason or "") for e in events if e.kind == "wait")
    assert emu.stats.violations == 0


def test_the_token_probe_reads_both_budgets(emulator_factory) -> None:
    """/rate_limit gives each token's REST and GraphQL budgets; the pool starts from both."""
    from pytest_ghseed.fetch.probe import probe_tokens
    from pytest_ghseed.fetch.tokens import TokenPool
    from pytest_ghseed.secrets import Token

    emu = emulator_factory(config(n_prs=1, graphql_limit=1234))
    probed = probe_tokens(emu.base_url, [Token(ALICE)])
    (probe,) = probed.probes
    assert probe.graphql is not None and probe.graphql[:2] == (1234, 1234)
    pool = TokenPool(probed.probes)
    assert pool.quota("graphql") == {"alice": 1234} and pool.quota() == {"alice": 5000}


def test_a_graphql_crawl_counts_a_pr_only_after_its_cassette_is_durable(
    emulator_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyGithub -> the emulator's /graphql and REST -> the real recorder and checkpoint, every durable
    step logged: each checkpoint append (PRs finish in several threads at once) comes after the
    cassette of every PR in it was written and the folder synced."""
    steps = log_durable_steps(monkeypatch)
    emu = emulator_factory(config(n_prs=30, latency_seconds=0.005))
    result = ensure(PROJECT, tmp_path, ALL, options=options(emu))
    assert len(result.snapshot.prs) == 30
    durability = durability_of(steps)
    assert durability.unsynced == [], "PRs counted before the fsync covering their cassette had finished"
    # A PR with no REST traffic has no cassette of its own.
    checked = len(durability.durable)
    assert checked >= 20  # the files of most PRs come through REST, into their own cassettes
