"""The fetcher end to end: PyGithub -> requests -> the emulator over HTTP, under limits and faults."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

import pytest_ghseed.cache.cassettes as cassettes
import pytest_ghseed.fetch.fetcher as fetcher_module
from pytest_ghseed.cache.cassettes import CassetteRecorder
from pytest_ghseed.errors import CacheError, FetchError, RateLimitWaitTooLong, UsageError
from pytest_ghseed.fetch.choose import fetch_with
from pytest_ghseed.fetch.fetcher import FetchResult
from pytest_ghseed.fetch.ratelimit import RetryPolicy
from pytest_ghseed.models import FetchParams, PullRequest
from pytest_ghseed.progress import ProgressEvent
from pytest_ghseed.traffic import Exchange
from tests.helpers import REPO, durability_of, log_durable_steps

#: Waits scaled down for tests: GitHub's 60 s minimum for an unhinted secondary limit becomes 0.2 s.
FAST = RetryPolicy(min_secondary_wait=0.2, backoff_base=0.01, backoff_max=0.3)
ALL = FetchParams(max_prs=None)


def assert_same_prs(got: tuple[PullRequest, ...] | list[PullRequest], truth: list[PullRequest]) -> None:
    """Field by field, so a mismatch names the PR and the field."""
    by_number = {pr.number: pr for pr in got}
    assert sorted(by_number) == [pr.number for pr in truth]
    for expected in truth:
        actual = by_number[expected.number].to_dict()
        for key, value in expected.to_dict().items():
            assert actual[key] == value, f"PR #{expected.number} field {key} differs"


@pytest.mark.slow
def test_fetch_equals_truth_under_secondary_limits_faults_and_latency(
    emulator_factory, tmp_path: Path
) -> None:
    """Two users, tight secondary limits, 5% 5xx, 20 ms latency: complete, exact, and no violations."""
    emu = emulator_factory(
        n_prs=30,
        extremes=True,
        secondary_max_concurrent=3,
        secondary_block_seconds=0.3,
        fault_5xx_rate=0.05,
        latency_seconds=0.02,
        fault_seed=11,
    )
    events: list[ProgressEvent] = []
    result = fetch_with(
        "rest",
        REPO,
        ALL,
        checkpoint_path=tmp_path / "cp.json",
        base_url=emu.base_url,
        tokens=["tok-alice-1", "tok-bob"],
        workers=8,
        policy=FAST,
        on_event=events.append,
    )
    stats = emu.stats
    assert_same_prs(result.prs, emu.truth(REPO))
    assert stats.violations == 0
    assert stats.responses_by_status.get(502, 0) + stats.responses_by_status.get(503, 0) > 0
    assert stats.secondary_hits > 0, "the test must actually exercise the secondary limit"
    assert any(e.kind == "wait" and e.wait and "secondary" in (e.reason or "") for e in events)
    assert stats.max_concurrency_by_user["alice"] <= 8


def test_no_duplicate_fetches_and_empty_sublists_skipped(emulator_factory, tmp_path: Path) -> None:
    """Each resource is fetched once; a sub-list whose count is 0 is never asked for."""
    emu = emulator_factory(n_prs=20)
    result = fetch_with(
        "rest", REPO, ALL, checkpoint_path=tmp_path / "cp.json", base_url=emu.base_url, tokens=["tok-alice-1"]
    )
    stats = emu.stats
    assert stats.duplicate_fetches == 0
    truth = emu.truth(REPO)
    silent = [pr.number for pr in truth if pr.comments_count == 0]
    assert silent, "the data set should have PRs without issue comments"
    for number in silent:
        assert stats.requests_by_path(f"/repos/{REPO}/issues/{number}/comments") == 0
    no_review_comments = [pr.number for pr in truth if pr.review_comments_count == 0]
    for number in no_review_comments:
        assert stats.requests_by_path(f"/repos/{REPO}/pulls/{number}/comments") == 0
    assert result.requests == stats.total_requests - stats.requests_by_path(
        "/rate_limit"
    ) - stats.requests_by_path("/user")


def test_caps_are_recorded_as_truncation(emulator_factory, tmp_path: Path) -> None:
    """The 300-commit PR stops at 250 commits and the 3,100-file PR at 3,000 files, flagged as truncated."""
    emu = emulator_factory(n_prs=20, extremes=True)
    result = fetch_with(
        "rest", REPO, ALL, checkpoint_path=tmp_path / "cp.json", base_url=emu.base_url, tokens=["tok-alice-1"]
    )
    truncated_commits = [pr for pr in result.prs if pr.commits_truncated]
    truncated_files = [pr for pr in result.prs if pr.files_truncated]
    assert [len(pr.commits) for pr in truncated_commits] == [250]
    assert truncated_commits[0].commits_count > 250
    assert [len(pr.files) for pr in truncated_files] == [3000]
    assert all(not pr.commits_truncated for pr in result.prs if pr.commits_count <= 250)


@pytest.mark.slow
def test_exhausted_account_switches_then_all_wait_for_reset(emulator_factory, tmp_path: Path) -> None:
    """A spent account is parked and the other used; when both are spent the run waits for reset, says so, and completes."""
    emu = emulator_factory(n_prs=16, primary_limit=30, window_seconds=2.0)
    events: list[ProgressEvent] = []
    result = fetch_with(
        "rest",
        REPO,
        ALL,
        checkpoint_path=tmp_path / "cp.json",
        base_url=emu.base_url,
        tokens=["tok-alice-1", "tok-bob"],
        workers=4,
        policy=FAST,
        on_event=events.append,
    )
    stats = emu.stats
    assert_same_prs(result.prs, emu.truth(REPO))
    assert stats.requests_by_token["tok-alice-1"] > 20 and stats.requests_by_token["tok-bob"] > 20
    waits = [e for e in events if e.kind == "wait"]
    assert any("every token is parked" in (e.reason or "") for e in waits)
    # At most the 2 s window, plus the reset rounded up to whole seconds, plus the policy's 1 s margin.
    assert all(e.wait is not None and 0 < e.wait <= 4.1 for e in waits)
    assert any("waiting" in e.describe() and "s" in e.describe() for e in waits)
    assert stats.violations == 0


def test_gives_up_when_reset_is_beyond_max_wait(emulator_factory, tmp_path: Path) -> None:
    """With every account spent and the reset far away, the run stops with a clear error."""
    emu = emulator_factory(n_prs=10, primary_limit=6, window_seconds=600.0)
    with pytest.raises(RateLimitWaitTooLong, match="max_wait=1s"):
        fetch_with(
            "rest",
            REPO,
            ALL,
            checkpoint_path=tmp_path / "cp.json",
            base_url=emu.base_url,
            tokens=["tok-alice-1"],
            max_wait=1.0,
            policy=FAST,
        )
    assert emu.stats.violations == 0


def test_injected_secondary_without_hint_pauses_all_threads(emulator_factory, tmp_path: Path) -> None:
    """A secondary limit with no hint at all is waited out (min wait, scaled down) with no request during the block."""
    emu = emulator_factory(n_prs=12, secondary_block_seconds=0.15)
    emu.inject_secondary(count=2, user="alice", variant="none")
    result = fetch_with(
        "rest",
        REPO,
        ALL,
        checkpoint_path=tmp_path / "cp.json",
        base_url=emu.base_url,
        tokens=["tok-alice-1"],
        workers=6,
        policy=FAST,
    )
    assert_same_prs(result.prs, emu.truth(REPO))
    assert emu.stats.secondary_hits >= 1
    assert emu.stats.violations == 0


def test_recent_oldest_and_date_range_plans(emulator_factory, tmp_path: Path) -> None:
    """The plan takes the most recent max_prs by default, the oldest on request, or a created range."""
    emu = emulator_factory(n_prs=25)
    truth = emu.truth(REPO)
    numbers = [pr.number for pr in truth]

    def run(params: FetchParams, name: str) -> list[int]:
        result = fetch_with(
            "rest",
            REPO,
            params,
            checkpoint_path=tmp_path / f"{name}.json",
            base_url=emu.base_url,
            tokens=["tok-bob"],
        )
        return [pr.number for pr in result.prs]

    assert run(FetchParams(max_prs=5), "recent") == numbers[-5:]
    assert run(FetchParams(max_prs=5, order="oldest"), "oldest") == numbers[:5]
    since = truth[10].created_at
    until = truth[14].created_at + timedelta(seconds=1)
    assert run(FetchParams(max_prs=None, since=since, until=until), "range") == numbers[10:15]
    closed = [pr.number for pr in truth if pr.state == "closed"]
    assert run(FetchParams(max_prs=None, state="closed"), "closed") == closed


def test_enterprise_prefix_works(emulator_factory, tmp_path: Path) -> None:
    """A GitHub Enterprise base URL (/api/v3) fetches the same data."""
    emu = emulator_factory(n_prs=6)
    result = fetch_with(
        "rest",
        REPO,
        ALL,
        checkpoint_path=tmp_path / "cp.json",
        base_url=emu.enterprise_url,
        tokens=["tok-bob"],
    )
    assert_same_prs(result.prs, emu.truth(REPO))


def test_unknown_repository_is_a_clear_error(emulator_factory, tmp_path: Path) -> None:
    """A repository GitHub does not know gives an error naming it and the next step."""
    emu = emulator_factory(n_prs=2)
    with pytest.raises(
        FetchError, match=r"GET /repos/acme/nope failed .*not found.*check the repository name"
    ):
        fetch_with(
            "rest",
            "acme/nope",
            ALL,
            checkpoint_path=tmp_path / "cp.json",
            base_url=emu.base_url,
            tokens=["tok-bob"],
        )


def test_bad_token_names_position_and_fingerprint_only(emulator_factory, tmp_path: Path) -> None:
    """A 401 at start drops the token with a note naming its position and fingerprint, never the token."""
    emu = emulator_factory(n_prs=2)
    secret = "ghp_" + "Z" * 36
    result = fetch_with(
        "rest",
        REPO,
        ALL,
        checkpoint_path=tmp_path / "cp.json",
        base_url=emu.base_url,
        tokens=["tok-bob", secret],
    )
    assert len(result.prs) == 2
    (dropped,) = [note for note in result.notes if "token #2" in note]
    assert re.search(r"token #2 \(sha256:[0-9a-f]{8}\) was refused", dropped)
    assert all(secret not in note and "ZZZZ" not in note for note in result.notes)
    with pytest.raises(UsageError, match=r"no usable token.*token #1 \(sha256:[0-9a-f]{8}\)") as info:
        fetch_with(
            "rest", REPO, ALL, checkpoint_path=tmp_path / "cp2.json", base_url=emu.base_url, tokens=[secret]
        )
    assert secret not in str(info.value)


def test_token_revoked_mid_run_stops_with_a_clear_error(emulator_factory, tmp_path: Path) -> None:
    """A token revoked during the crawl ends the run with a message naming it by position; finished PRs stay."""
    emu = emulator_factory(n_prs=12, latency_seconds=0.01)
    revoked: list[bool] = []

    def revoke_after_first_pr(event: ProgressEvent) -> None:
        if event.kind == "pr_done" and not revoked:
            emu.revoke_token("tok-bob")
            revoked.append(True)

    with pytest.raises(FetchError, match=r"token #1.*revoked or expired"):
        fetch_with(
            "rest",
            REPO,
            ALL,
            checkpoint_path=tmp_path / "cp.json",
            base_url=emu.base_url,
            tokens=["tok-bob"],
            workers=1,
            on_event=revoke_after_first_pr,
        )
    assert (tmp_path / "cp.prs.jsonl").read_text().count("\n") >= 1


def test_a_planned_pr_that_vanished_is_skipped_not_fatal(emulator_factory, tmp_path: Path) -> None:
    """A pinned plan naming a PR GitHub no longer has (404) completes without it, with a note."""
    from pytest_ghseed.checkpoint import Checkpoint

    emu = emulator_factory(n_prs=4)
    checkpoint = Checkpoint.open(tmp_path / "cp.json", repo=REPO, params=ALL.to_dict())
    checkpoint.set_plan([1, 2, 999], total_found=3)
    events: list[ProgressEvent] = []
    result = fetch_with(
        "rest",
        REPO,
        ALL,
        checkpoint_path=tmp_path / "cp.json",
        base_url=emu.base_url,
        tokens=["tok-bob"],
        on_event=events.append,
    )
    assert [pr.number for pr in result.prs] == [1, 2]
    assert any("PR #999 no longer exists" in e.message for e in events if e.kind == "note")


def test_a_server_without_repository_wide_comment_lists_is_crawled_per_pr(
    emulator_factory, tmp_path: Path
) -> None:
    """/pulls/comments and /issues/comments answer 404: one note, per-PR comment lists, the truth."""
    emu = emulator_factory(n_prs=12, repo_comment_lists=False)
    events: list[ProgressEvent] = []
    result = fetch_with(
        "rest",
        REPO,
        ALL,
        checkpoint_path=tmp_path / "cp.json",
        base_url=emu.base_url,
        tokens=["tok-alice-1"],
        workers=4,
        on_event=events.append,
    )
    assert_same_prs(result.prs, emu.truth(REPO))
    notes = [event.message for event in events if event.kind == "note"]
    assert len(notes) == 1 and "HTTP 404" in notes[0] and "/pulls/comments" in notes[0]
    asked = emu.stats.fetch_counts
    assert any(re.search(r"/issues/\d+/comments", key) for key in asked), "per-PR lists were read"
    assert emu.stats.responses_by_status.get(404) == 1, "the lists are not asked for again"


class _SlowSink:
    """A traffic sink whose first PR write blocks until released, and which can fail on a chosen PR."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.release = threading.Event()
        self.first_write_started = threading.Event()
        self.flushed: list[int] = []
        self.fail_on = fail_on

    def __call__(self, exchange: object) -> None:
        pass

    def flush_listing(self) -> None:
        pass

    def discard_listing(self) -> None:
        pass

    def flush_pr(self, number: int) -> None:
        if number == self.fail_on:
            raise CacheError(f"cannot write the cassette of PR #{number}: No space left on device")
        if not self.first_write_started.is_set():
            self.first_write_started.set()
            assert self.release.wait(30), "the test never released the first write"
        self.flushed.append(number)

    def sync(self) -> None:
        pass

    def discard_pr(self, number: int) -> None:
        pass

    def discard_graphql(self) -> None:
        pass

    def flush_graphql(self) -> None:
        pass


def test_workers_keep_fetching_while_a_finished_pr_is_being_written(emulator_factory, tmp_path: Path) -> None:
    """The cassette and checkpoint writes happen behind the workers: with the first PR's write stuck,
    the other PRs' requests still go out; once the write is let go, every PR is written in order
    cassette -> checkpoint and the result is whole."""
    emu = emulator_factory(n_prs=12)
    sink = _SlowSink()
    outcome: dict[str, object] = {}

    def crawl() -> None:
        outcome["result"] = fetch_with(
            "rest",
            REPO,
            ALL,
            checkpoint_path=tmp_path / "cp.json",
            base_url=emu.base_url,
            tokens=["tok-alice-1"],
            workers=2,
            sink=sink,
        )

    thread = threading.Thread(target=crawl)
    thread.start()
    assert sink.first_write_started.wait(30)
    details = {f"/repos/{REPO}/pulls/{n}" for n in range(1, 13)}

    def fetched_details() -> int:
        return len({record.path for record in emu.stats.log if record.path in details})

    # While the writer is held, the workers go on: 1 PR being written, 4 waiting (2 x workers), and
    # each worker holding one more: 7 details asked before anything is written.
    deadline = time.monotonic() + 30
    while fetched_details() < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fetched_details() >= 6
    assert sink.flushed == []
    sink.release.set()
    thread.join(30)
    result = outcome["result"]
    assert isinstance(result, FetchResult)
    assert len(result.prs) == 12
    assert sorted(sink.flushed) == list(range(1, 13))


def test_a_failed_write_stops_the_crawl_and_keeps_what_was_written(emulator_factory, tmp_path: Path) -> None:
    """A write that fails (a full disk) stops every worker with that error; the PRs written before it
    stay in the checkpoint, and the next run resumes after them."""
    emu = emulator_factory(n_prs=12)
    sink = _SlowSink(fail_on=7)
    sink.first_write_started.set()  # nothing held: only the failure
    checkpoint = tmp_path / "cp.json"
    with pytest.raises(CacheError, match="No space left on device"):
        fetch_with(
            "rest",
            REPO,
            ALL,
            checkpoint_path=checkpoint,
            base_url=emu.base_url,
            tokens=["tok-alice-1"],
            sink=sink,
        )
    assert 7 not in sink.flushed
    resumed = fetch_with(
        "rest", REPO, ALL, checkpoint_path=checkpoint, base_url=emu.base_url, tokens=["tok-alice-1"]
    )
    assert resumed.resumed == len(sink.flushed)
    assert len(resumed.prs) == 12


def test_a_batch_of_finished_prs_is_made_durable_together_cassettes_before_records(
    emulator_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyGithub -> the emulator (20 ms a request) -> the real recorder and checkpoint, every durable
    step logged: the PRs that finish together share one fsync of the cassette folder and one checkpoint
    append, and every PR's cassette is written and its folder synced before its record is appended."""
    steps = log_durable_steps(monkeypatch)
    # A window far longer than the crawl's pace, so that a loaded machine cannot split the batches.
    monkeypatch.setattr(fetcher_module, "_WRITE_WINDOW", 2.0)
    emu = emulator_factory(n_prs=40, latency_seconds=0.02)
    recorder = CassetteRecorder(tmp_path / "cassettes", [])
    result = fetch_with(
        "rest",
        REPO,
        ALL,
        checkpoint_path=tmp_path / "cp.json",
        base_url=emu.base_url,
        tokens=["tok-alice-1"],
        sink=recorder,
        workers=2,  # a PR finishes every 40 ms or so: one at a time without the writer's window
    )
    assert len(result.prs) == 40
    appends = [numbers for kind, numbers in steps if kind == "append"]
    assert sorted(n for numbers in appends for n in numbers) == sorted(pr.number for pr in result.prs)
    syncs = [step for step in steps if step[0] == "synced"]
    # Batched: a handful of fsyncs of the folder and appends (37 each without the window).
    assert len(syncs) <= 10 and len(appends) <= 10, (len(syncs), len(appends))
    durability = durability_of(steps)
    assert durability.unsynced == [] and durability.no_cassette == [], (
        "PRs counted before their cassette was durable"
    )
    assert sorted(durability.durable) == sorted(pr.number for pr in result.prs)


def test_a_sync_waits_for_the_fsync_another_thread_is_doing_for_its_cassette(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thread A writes PR 1's cassette; thread B's sync starts the folder's fsync (which covers it); A's
    own sync must not return before that fsync is done, or A would count PR 1 as done too early."""
    started, release = threading.Event(), threading.Event()
    real_sync = cassettes.fsync_dir

    def slow_sync(directory: Path) -> None:
        started.set()
        assert release.wait(10)
        real_sync(directory)

    monkeypatch.setattr(cassettes, "fsync_dir", slow_sync)
    recorder = CassetteRecorder(tmp_path / "cassettes", [])
    recorder(Exchange("GET", "http://127.0.0.1:1/repos/o/r/pulls/1", {}, 200, {}, "{}"))
    recorder.flush_pr(1)
    b = threading.Thread(target=recorder.sync)
    b.start()
    assert started.wait(10)
    a = threading.Thread(target=recorder.sync)
    a.start()
    a.join(0.3)
    assert a.is_alive(), "A's sync returned while the fsync covering its cassette was still running"
    release.set()
    for thread in (a, b):
        thread.join(10)
        assert not thread.is_alive()
    assert (tmp_path / "cassettes" / "pr-000001.json.gz").is_file()
