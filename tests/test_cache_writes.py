"""What a fetch or a refresh writes: listing answers streamed to shards of their own (each a plain vcrpy
cassette), nothing but the check time when nothing changed, only what changed otherwise; and caches
recorded by 0.1 (one listing shard) still load, rebuild and refresh."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github

from pytest_ghseed.cache.cassettes import _CompactJson, load_interactions, replay_vcr
from pytest_ghseed.cache.layout import LISTING_SHARD, SHARD_SUFFIX, listing_sequence
from pytest_ghseed.cache.rebuild import rebuild_project
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.emulator.synthetic import SyntheticProject
from pytest_ghseed.models import FetchParams
from pytest_ghseed.seed import FetchOptions, ensure
from pytest_ghseed.settings import resolve_project
from tests.helpers import REPO, TOKENS

PROJECT = resolve_project(REPO)
ALL = FetchParams(max_prs=None)


def options(emu: Any) -> FetchOptions:
    return FetchOptions(base_url=emu.base_url, tokens=list(TOKENS))


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def listing_files(store: ProjectStore) -> list[str]:
    return [p.name for p in store.layout.listing_shards()]


def test_each_listing_answer_is_its_own_shard_and_plain_vcrpy_replays_it(
    emulator_factory: Any, tmp_path: Path
) -> None:
    """The repository, list pages and comment pages land in numbered shards; vcrpy replays each for PyGithub."""
    emu = emulator_factory(n_prs=24, extremes=True)
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    store = ProjectStore(tmp_path, PROJECT.folder)
    shards = store.layout.listing_shards()
    assert [listing_sequence(p.name) for p in shards] == list(range(1, len(shards) + 1))
    assert all(len(list(load_interactions(p))) == 1 for p in shards), "one answer per shard"
    assert not store.layout.listing.exists(), "0.1's single listing shard is no longer written"
    g = Github(auth=Auth.Token("replay"), base_url=emu.base_url, retry=None, seconds_between_requests=None)
    emu.stop()  # replay offline: every answer must come from the cassette
    my_vcr = replay_vcr()
    for shard in shards:
        (interaction,) = load_interactions(shard)
        with my_vcr.use_cassette(str(shard), allow_playback_repeats=False) as cassette:
            status, _headers, body = g.requester.requestJson("GET", interaction.uri)
            assert (status, body) == (interaction.status, interaction.body)
            assert cassette.play_count == 1


def test_a_refresh_that_finds_nothing_new_writes_only_the_check_time(
    emulator_factory: Any, tmp_path: Path
) -> None:
    """Nothing changed on GitHub: the snapshot and every cassette stay byte for byte; only checked_at moves."""
    emu = emulator_factory(n_prs=20, extremes=True)
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    store = ProjectStore(tmp_path, PROJECT.folder)
    before = files_of(store.path)
    result = ensure(PROJECT, tmp_path, ALL, record_mode="new_episodes", options=options(emu))
    assert result.source == "refreshed"
    after = files_of(store.path)
    assert sorted(after) == sorted(before), "no file added (no listing shard) and none removed"
    changed = [name for name in after if after[name] != before[name]]
    assert changed == ["metadata.json"]
    old, new = json.loads(before["metadata.json"]), json.loads(after["metadata.json"])
    assert old["checked_at"] is None and new["checked_at"] is not None
    # ``crawl`` names the refresh just saved (so a checkpoint its crash leaves is known as done).
    assert {k: v for k, v in new.items() if k not in ("checked_at", "crawl")} == {
        k: v for k, v in old.items() if k not in ("checked_at", "crawl")
    }
    # The check counts as fresh data: a max_age measured from it is not exceeded.
    assert ensure(PROJECT, tmp_path, ALL, options=options(emu), max_age=3600).source == "cache"
    # And a second refresh that finds nothing writes nothing else either.
    ensure(PROJECT, tmp_path, ALL, record_mode="new_episodes", options=options(emu))
    assert {k: v for k, v in files_of(store.path).items() if k != "metadata.json"} == {
        k: v for k, v in before.items() if k != "metadata.json"
    }


def test_a_refresh_that_finds_changes_rewrites_only_what_changed(
    emulator_factory: Any, tmp_path: Path
) -> None:
    """Two retitled PRs: their cassettes and the snapshot change, a new listing shard is added, nothing else."""
    emu = emulator_factory(n_prs=20, extremes=True)
    ensure(PROJECT, tmp_path, ALL, options=options(emu))
    store = ProjectStore(tmp_path, PROJECT.folder)
    before = files_of(store.path)
    project = emu.project(REPO)
    assert isinstance(project, SyntheticProject)
    for number in (4, 9):
        project.update_pull(number, title=f"retitled {number}")
    result = ensure(PROJECT, tmp_path, ALL, record_mode="new_episodes", options=options(emu))
    assert [pr.to_dict() for pr in result.snapshot.prs] == [pr.to_dict() for pr in emu.truth(REPO)]
    after = files_of(store.path)
    changed = sorted(name for name in after if before.get(name) != after[name])
    added_listing = [name for name in changed if name not in before]
    assert added_listing and all(listing_sequence(Path(n).name) is not None for n in added_listing)
    assert sorted(set(changed) - set(added_listing)) == [
        "cassettes/pr-000004.json.gz",
        "cassettes/pr-000009.json.gz",
        "metadata.json",
        "snapshot.json",
    ]
    assert rebuild_project(store) == store.read_snapshot()


def merge_into_one_listing_shard(store: ProjectStore) -> None:
    """Turn a cache into 0.1's layout: every listing answer in one ``listing.json.gz``, in order."""
    interactions: list[Any] = []
    for shard in store.layout.listing_shards():
        interactions.extend(json.loads(gzip.decompress(shard.read_bytes()))["interactions"])
        shard.unlink()
    text = _CompactJson.serialize({"interactions": interactions, "version": 1})
    (store.cassette_dir / f"{LISTING_SHARD}{SHARD_SUFFIX}").write_bytes(gzip.compress(text.encode()))


@pytest.mark.slow
def test_a_cache_recorded_with_one_listing_shard_still_loads_rebuilds_and_refreshes(
    emulator_factory: Any, tmp_path: Path
) -> None:
    """0.1's single listing.json.gz rebuilds the same snapshot; a refresh adds numbered shards after it."""
    emu = emulator_factory(n_prs=24, extremes=True)
    snapshot = ensure(PROJECT, tmp_path, ALL, options=options(emu)).snapshot
    store = ProjectStore(tmp_path, PROJECT.folder)
    merge_into_one_listing_shard(store)
    assert listing_files(store) == ["listing.json.gz"]
    assert rebuild_project(store) == snapshot
    project = emu.project(REPO)
    assert isinstance(project, SyntheticProject)
    project.update_pull(3, title="retitled")
    refreshed = ensure(PROJECT, tmp_path, ALL, record_mode="new_episodes", options=options(emu)).snapshot
    assert [pr.to_dict() for pr in refreshed.prs] == [pr.to_dict() for pr in emu.truth(REPO)]
    assert listing_files(store)[0] == "listing.json.gz" and len(listing_files(store)) > 1
    assert rebuild_project(store) == refreshed


def test_metadata_without_a_check_time_still_loads_and_a_bad_one_is_refused() -> None:
    """checked_at is optional (0.1 and fresh recordings have none); a non-string one is malformed."""
    from datetime import UTC, datetime

    from pytest_ghseed.cache.metadata import Metadata
    from pytest_ghseed.models import Repository, Snapshot

    recorded = datetime(2024, 1, 2, tzinfo=UTC)
    data = Metadata.describe("p", Snapshot(Repository("a/b", 1), recorded, ()), base_url="x").to_dict()
    del data["checked_at"]
    metadata = Metadata.from_dict(data)
    assert metadata.checked_at is None and metadata.recorded_at == recorded
    later = datetime(2024, 2, 1, tzinfo=UTC)
    assert Metadata.from_dict(metadata.checked(later).to_dict()).checked_at == later
    with pytest.raises(TypeError, match="checked_at"):
        Metadata.from_dict({**data, "checked_at": 5})


def test_the_snapshot_reuses_the_checkpoints_text_and_is_byte_for_byte_canonical(
    emulator_factory: Any, tmp_path: Path
) -> None:
    """PR texts come from the checkpoint's lines (serialized and scanned once): the file equals dump_json."""
    from pytest_ghseed.cache.store import dump_json

    emu = emulator_factory(n_prs=24, extremes=True)
    result = ensure(PROJECT, tmp_path, ALL, options=options(emu))
    store = ProjectStore(tmp_path, PROJECT.folder)
    assert store.snapshot_path.read_bytes() == dump_json(result.snapshot.to_dict())
    assert store.read_snapshot() == result.snapshot


def test_an_empty_plan_writes_no_checkpoint(tmp_path: Path) -> None:
    """Nothing planned (a refresh that finds nothing updated): no checkpoint file is ever written."""
    from pytest_ghseed.checkpoint import Checkpoint

    checkpoint = Checkpoint.open(tmp_path / "cp.json", repo=REPO, params={})
    checkpoint.set_plan([], 0)
    assert checkpoint.pending() == []
    checkpoint.mark_completed()
    assert list(tmp_path.iterdir()) == []
