"""The derived snapshot: a local binary copy of snapshot.json that reads only the selected PRs, keyed by
the JSON's content, rebuilt when it changes, ignored when broken, and never inside the cache dir."""

from __future__ import annotations

import gc
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from pytest_ghseed.cache import codec, derived
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.emulator import start
from pytest_ghseed.factories import PullRequestFactory
from pytest_ghseed.heal import load_cached
from pytest_ghseed.models import FetchParams, Repository, Snapshot, long_lived
from pytest_ghseed.seed import FetchOptions, ensure
from pytest_ghseed.settings import resolve_project
from tests.helpers import REPO, TOKENS, make_config

PROJECT = resolve_project(REPO)
ALL = FetchParams(max_prs=None)


@pytest.fixture
def derived_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The derived files of this test, in a folder of its own (not the user's temp folder)."""
    folder = tmp_path / "derived"
    monkeypatch.setattr(derived, "derived_dir", lambda: folder)
    return folder


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache of 24 PRs (the emulator's realistic mix), recorded once for the module (about 1 s)."""
    cache = tmp_path_factory.mktemp("derived-recorded") / "cache"
    emu = start(make_config(n_prs=24, extremes=True))
    try:
        with pytest.MonkeyPatch.context() as patch:  # nothing derived in the user's temp folder
            patch.setattr(derived, "derived_dir", lambda: cache.parent / "derived")
            ensure(PROJECT, cache, ALL, options=FetchOptions(base_url=emu.base_url, tokens=list(TOKENS)))
    finally:
        emu.stop()
    return cache


@pytest.fixture
def store(recorded: Path, tmp_path: Path, derived_folder: Path) -> ProjectStore:
    """This test's own copy of the recorded cache (tests edit and damage it)."""
    shutil.copytree(recorded, tmp_path / "cache")
    return ProjectStore(tmp_path / "cache", PROJECT.folder)


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


SELECTIONS = [
    FetchParams(max_prs=None),
    FetchParams(max_prs=5),
    FetchParams(max_prs=5, order="oldest"),
    FetchParams(max_prs=None, state="open"),
    FetchParams(max_prs=3, state="closed"),
]


@pytest.mark.parametrize("params", SELECTIONS, ids=str)
def test_a_selection_from_the_derived_file_equals_the_json_one(
    store: ProjectStore, params: FetchParams
) -> None:
    """Every selection read from the derived file equals the same selection of the parsed JSON."""
    truth = store.read_snapshot()
    derived.load(store)  # builds the derived file
    cached = derived.load(store)
    assert cached.select(params) == truth.select(params)
    assert cached.full() == truth


def test_a_small_selection_builds_only_its_pull_requests(store: ProjectStore) -> None:
    """max_prs=3 reads the index and three blobs: no other pull request is built."""
    derived.load(store)
    cached = derived.load(store)
    chosen = cached.select(FetchParams(max_prs=3))
    assert len(chosen.prs) == 3
    assert sorted(cached._built) == [pr.number for pr in chosen.prs]  # white box: what was decoded


def test_the_derived_file_is_rebuilt_when_snapshot_json_changes(
    store: ProjectStore, derived_folder: Path
) -> None:
    """An edited snapshot.json (say, after a git pull) is read as it is now; the stale derived file goes."""
    derived.load(store)
    first = sorted(derived_folder.glob("*.snap"))
    data = json.loads(store.snapshot_path.read_bytes())
    data["prs"][0]["title"] = "edited by hand"
    store.snapshot_path.write_text(json.dumps(data), encoding="utf-8")
    assert derived.load(store).full().prs[0].title == "edited by hand"
    assert derived.load(store).full().prs[0].title == "edited by hand"
    now = sorted(derived_folder.glob("*.snap"))
    assert len(first) == len(now) == 1 and first != now


def test_a_same_size_rewrite_with_the_old_modification_time_is_not_mistaken(
    store: ProjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remembered identity includes the change time: an in-place rewrite that keeps size and mtime is seen."""
    monkeypatch.setattr(derived, "_RACY_SECONDS", 0.0)
    derived.load(store)
    assert derived.load(store).full().prs[0].title != "X" * 5
    raw = store.snapshot_path.read_bytes()
    title = json.loads(raw)["prs"][0]["title"]
    edited = raw.replace(json.dumps(title).encode(), json.dumps("Y" * len(title)).encode(), 1)
    assert len(edited) == len(raw)
    before = os.stat(store.snapshot_path)
    with store.snapshot_path.open("r+b") as handle:  # in place: same inode, same size
        handle.write(edited)
    os.utime(store.snapshot_path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert derived.load(store).full().prs[0].title == "Y" * len(title)


def test_a_racily_new_snapshot_is_hashed_again_rather_than_trusted(
    store: ProjectStore, derived_folder: Path
) -> None:
    """A snapshot changed within the last seconds: its identity is not remembered (git's racy-clean rule)."""
    store.snapshot_path.write_bytes(store.snapshot_path.read_bytes())  # just written
    derived.load(store)
    assert not list(derived_folder.glob("*.stat"))
    assert list(derived_folder.glob("*.snap"))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "blob"])
def test_a_broken_derived_file_is_ignored_and_rebuilt(
    store: ProjectStore, derived_folder: Path, damage: str
) -> None:
    """Garbage, a cut file, a flipped byte in a blob: the JSON answers, and a sound file replaces the broken one."""
    truth = store.read_snapshot()
    derived.load(store)
    (path,) = derived_folder.glob("*.snap")
    data = bytearray(path.read_bytes())
    if damage == "garbage":
        data = bytearray(b"not a derived file")
    elif damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 4] ^= 0xFF  # inside the blobs: the header still reads
    path.write_bytes(bytes(data))
    cached = derived.load(store)
    assert cached.full() == truth
    assert cached.select(FetchParams(max_prs=4)) == truth.select(FetchParams(max_prs=4))
    assert derived.load(store).full() == truth


def test_nothing_derived_lands_in_the_cache_dir_and_reads_change_nothing(store: ProjectStore) -> None:
    """Loading (building the derived file, then using it) leaves every file of the cache dir as it was."""
    before = files_of(store.cache_dir)
    for _ in range(3):
        notes: list[str] = []
        cached = load_cached(store, notes)
        assert cached is not None and notes == []
        cached.select(FetchParams(max_prs=2))
    assert files_of(store.cache_dir) == before


def test_workers_loading_at_once_all_get_the_snapshot(store: ProjectStore, derived_folder: Path) -> None:
    """Several threads loading a cold cache at once (as xdist workers would) all read the same data."""
    truth = store.read_snapshot()
    results: list[Snapshot] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            results.append(derived.load(store).full())
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [truth] * 4
    assert len(list(derived_folder.glob("*.snap"))) == 1


def test_a_folder_owned_by_someone_else_is_not_used(
    store: ProjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A symbolic link in place of the derived folder (another user's trap) is ignored: the JSON answers."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    trap = tmp_path / "trap"
    trap.symlink_to(elsewhere)
    monkeypatch.setattr(derived, "derived_dir", lambda: trap)
    assert derived.load(store).full() == store.read_snapshot()
    assert list(elsewhere.iterdir()) == []


def test_the_codec_carries_every_field_of_every_model() -> None:
    """Generated pull requests with every optional field set or empty survive encode then decode exactly."""
    prs = PullRequestFactory.build_batch(30)
    for pr in prs:
        assert codec.decode_pull(codec.encode_pull(pr)) == pr
    repository = Repository(full_name="a/b", id=7, description=None, private=True)
    assert codec.decode_repository(codec.encode_repository(repository)) == repository


def test_derived_files_unused_for_weeks_are_deleted_when_another_is_written(
    store: ProjectStore, derived_folder: Path
) -> None:
    """The temp folder does not fill up: a derived file nobody used for two weeks goes at the next write."""
    derived_folder.mkdir(mode=0o700)
    old = derived_folder / "0123456789abcdef-0000.snap"
    old.write_bytes(b"left by a cache dir long gone")
    month_ago = os.stat(old).st_mtime - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    derived.load(store)
    assert not old.exists()
    assert len(list(derived_folder.glob("*.snap"))) == 1


def test_a_snapshot_loaded_for_the_session_is_frozen_out_of_the_collectors_way(store: ProjectStore) -> None:
    """Inside long_lived the load leaves its objects frozen (never walked again) and the collector running."""
    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    try:
        with long_lived():
            cached = load_cached(store, [])
            assert cached is not None
            snapshot = cached.full()
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen_before + len(snapshot.prs)
        assert not any(obj is snapshot for obj in gc.get_objects()), (
            "frozen objects are not in any generation"
        )
    finally:
        gc.unfreeze()  # give this test process its collector back whole


def test_the_remembered_metadata_equals_the_json_and_follows_its_changes(
    store: ProjectStore, monkeypatch: pytest.MonkeyPatch, derived_folder: Path
) -> None:
    """A parsed copy of metadata.json is handed over while the file is unchanged, and dropped when it changes."""
    monkeypatch.setattr(derived, "_RACY_SECONDS", 0.0)
    truth = store.read_metadata()
    derived.load(ProjectStore(store.cache_dir, PROJECT.folder))  # remembers
    assert list(derived_folder.glob("*.meta"))
    fresh = ProjectStore(store.cache_dir, PROJECT.folder)
    derived.load(fresh)
    assert fresh._metadata_memo is not None and fresh.read_metadata() == truth  # white box: handed over
    checked = truth.checked(truth.recorded_at.replace(year=2031))
    store.save_metadata(checked)
    again = ProjectStore(store.cache_dir, PROJECT.folder)
    derived.load(again)
    assert again.read_metadata() == checked
