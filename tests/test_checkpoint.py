"""The crawl checkpoint: resume, atomic saves, forgiving loads, thread safety and kill safety."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from pytest_ghseed.checkpoint import Checkpoint, CheckpointMismatch, data_log_path
from pytest_ghseed.errors import CacheError, SecretLeakError, UsageError

REPO = "octo-org/hello-world"
PARAMS: dict[str, Any] = {"since": "2024-01-01T00:00:00Z", "until": None, "limit": 500, "states": ["closed"]}
REPO_ROOT = Path(__file__).resolve().parents[1]


def pr(number: int) -> dict[str, Any]:
    """A small stand-in for one fetched pull request's record."""
    return {"number": number, "title": f"Fix #{number}", "body": "line one\nline two ✓", "labels": []}


def log_lines(cp: Checkpoint) -> list[dict[str, Any]]:
    """Every line of the data log, parsed (fails on a line that is not JSON)."""
    raw = cp.log_path.read_bytes()
    assert raw == b"" or raw.endswith(b"\n")
    return [json.loads(line) for line in raw.splitlines()]


def leftovers(directory: Path) -> list[str]:
    """Temporary files an atomic write could leave behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where the checkpoint of a test lives."""
    return tmp_path / "ghseed" / "hello-world.checkpoint.json"


def planned(path: Path, numbers: list[int], done: list[int]) -> Checkpoint:
    """A checkpoint with ``numbers`` pinned and ``done`` recorded."""
    cp = Checkpoint.open(path, repo=REPO, params=PARAMS)
    cp.set_plan(numbers, total_found=len(numbers) + 3)
    for n in done:
        cp.record_pr(n, pr(n))
    return cp


def test_data_log_sits_next_to_the_checkpoint(path: Path) -> None:
    """The data log is the checkpoint's name with .prs.jsonl instead of .json."""
    assert data_log_path(path) == path.with_name("hello-world.checkpoint.prs.jsonl")
    assert Checkpoint.open(path, repo=REPO, params=PARAMS).log_path == data_log_path(path)


def test_missing_file_opens_fresh_without_writing(path: Path) -> None:
    """Opening where nothing exists gives an empty checkpoint and writes nothing yet."""
    cp = Checkpoint.open(path, repo=REPO, params=PARAMS)
    assert (cp.plan, cp.total_found, cp.fetched, cp.completed, cp.notes) == (None, None, set(), False, [])
    assert not path.exists()


def test_resume_round_trip(path: Path) -> None:
    """Plan, fetched PRs and counts survive a reopen; the data reads back."""
    cp = planned(path, [5, 3, 9, 1], done=[3, 9])
    cp.save()

    again = Checkpoint.open(path, repo=REPO, params=PARAMS)
    assert again.plan == [5, 3, 9, 1]
    assert again.total_found == 7
    assert again.fetched == {3, 9}
    assert again.pending() == [5, 1]
    assert list(again.iter_pr_data()) == [(3, pr(3)), (9, pr(9))]
    assert again.notes == []

    state = json.loads(path.read_text("utf-8"))
    assert state["tool"] == "pytest-ghseed"
    assert state["schema_version"] == 1
    assert state["repo"] == REPO
    assert state["params"] == PARAMS
    assert state["fetched"] == [3, 9]
    assert state["last_updated"].endswith("Z")


def test_plan_is_saved_before_any_detail(path: Path) -> None:
    """set_plan writes the checkpoint at once, so a kill right after keeps the plan."""
    Checkpoint.open(path, repo=REPO, params=PARAMS).set_plan([2, 1], total_found=2)
    assert json.loads(path.read_text("utf-8"))["plan"] == [2, 1]


def test_pending_keeps_plan_order(path: Path) -> None:
    """pending() lists unfetched PRs in the pinned order, not sorted."""
    cp = planned(path, [40, 7, 13, 2, 99], done=[13, 40])
    assert cp.pending() == [7, 2, 99]


def test_json_may_lag_behind_the_log(path: Path) -> None:
    """PRs appended after the last JSON save still count on resume: the log is the truth."""
    planned(path, list(range(1, 11)), done=[1, 2, 3])
    assert json.loads(path.read_text("utf-8"))["fetched"] == []  # fewer than save_every records
    assert Checkpoint.open(path, repo=REPO, params=PARAMS).fetched == {1, 2, 3}


def test_mark_completed_and_discard(path: Path) -> None:
    """mark_completed persists; discard removes the checkpoint and its log."""
    cp = planned(path, [1], done=[1])
    cp.mark_completed()
    assert Checkpoint.open(path, repo=REPO, params=PARAMS).completed is True
    cp.discard()
    assert not path.exists()
    assert not cp.log_path.exists()


def test_last_record_wins(path: Path) -> None:
    """A PR recorded twice reads back with its latest data."""
    cp = planned(path, [1, 2], done=[1])
    cp.record_pr(1, {"number": 1, "title": "retitled"})
    assert dict(Checkpoint.open(path, repo=REPO, params=PARAMS).iter_pr_data())[1]["title"] == "retitled"


def test_truncated_last_line_is_dropped(path: Path) -> None:
    """A half-written last record from a kill is dropped, noted, and cut from the log."""
    cp = planned(path, [1, 2, 3], done=[1, 2])
    with cp.log_path.open("ab") as f:
        f.write(b'{"number": 3, "data": {"number": 3, "title": "Fix')

    again = Checkpoint.open(path, repo=REPO, params=PARAMS)
    assert again.fetched == {1, 2}
    assert again.pending() == [3]
    assert [r["number"] for r in log_lines(again)] == [1, 2]
    assert any("incomplete last record" in note for note in again.notes)
    assert leftovers(path.parent) == []


def test_whole_last_record_without_newline_is_kept(path: Path) -> None:
    """A kill just before the newline leaves a whole record: it is kept and the newline added."""
    cp = planned(path, [1, 2], done=[1])
    with cp.log_path.open("ab") as f:
        f.write(json.dumps({"number": 2, "data": pr(2)}).encode())

    again = Checkpoint.open(path, repo=REPO, params=PARAMS)
    assert again.fetched == {1, 2}
    assert [r["number"] for r in log_lines(again)] == [1, 2]


def test_garbage_middle_line_is_skipped_and_original_kept(path: Path) -> None:
    """An unreadable middle line is skipped with a note; its PR is refetched; the old log is kept."""
    cp = planned(path, [1, 2, 3], done=[1])
    with cp.log_path.open("ab") as f:
        f.write(b"\x00\x00garbage from a bad disk\n")
    cp.record_pr(3, pr(3))
    original = cp.log_path.read_bytes()

    again = Checkpoint.open(path, repo=REPO, params=PARAMS)
    assert again.fetched == {1, 3}
    assert again.pending() == [2]
    assert [r["number"] for r in log_lines(again)] == [1, 3]
    (note,) = again.notes
    assert "skipped 1 unreadable line(s) (2)" in note
    kept = [p for p in path.parent.iterdir() if ".prs.jsonl.corrupt-" in p.name]
    assert len(kept) == 1
    assert kept[0].name in note
    assert kept[0].read_bytes() == original


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"tool": "pytest-ghseed", "schema_version": 1, "repo": "oct', id="truncated-json"),
        pytest.param(b"\xff\xfe not utf-8", id="binary"),
        pytest.param(b"[1, 2, 3]", id="not-an-object"),
        pytest.param(b'{"tool": "something-else", "schema_version": 1}', id="other-tool"),
        pytest.param(b'{"tool": "pytest-ghseed", "schema_version": 99}', id="future-schema"),
        pytest.param(b'{"tool": "pytest-ghseed", "schema_version": 1, "repo": 7}', id="wrong-shape"),
    ],
)
def test_corrupt_checkpoint_is_moved_aside_not_deleted(path: Path, content: bytes) -> None:
    """An unusable checkpoint and its log are moved aside with their bytes intact, and noted."""
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    log_bytes = b'{"number": 1, "data": {}}\n'
    data_log_path(path).write_bytes(log_bytes)

    cp = Checkpoint.open(path, repo=REPO, params=PARAMS)
    assert (cp.plan, cp.fetched) == (None, set())
    assert not path.exists()
    assert not cp.log_path.exists()
    moved = [p for p in path.parent.iterdir() if p.name.startswith(f"{path.name}.corrupt-")]
    moved_log = [p for p in path.parent.iterdir() if p.name.startswith(f"{cp.log_path.name}.corrupt-")]
    assert [p.read_bytes() for p in moved] == [content]
    assert [p.read_bytes() for p in moved_log] == [log_bytes]
    (note,) = cp.notes
    assert str(path) in note
    assert moved[0].name in note
    assert "started afresh" in note


def test_two_corruptions_in_one_second_keep_both_files(path: Path) -> None:
    """Moving aside never overwrites an earlier moved-aside file."""
    path.parent.mkdir(parents=True)
    for content in (b"{first", b"{second"):
        path.write_bytes(content)
        Checkpoint.open(path, repo=REPO, params=PARAMS)
    moved = sorted(p.read_bytes() for p in path.parent.iterdir() if ".corrupt-" in p.name)
    assert moved == [b"{first", b"{second"]


def test_orphan_log_is_moved_aside(path: Path) -> None:
    """A data log without its checkpoint cannot be trusted: moved aside, noted, fresh start."""
    path.parent.mkdir(parents=True)
    data_log_path(path).write_bytes(b'{"number": 1, "data": {}}\n')
    cp = Checkpoint.open(path, repo=REPO, params=PARAMS)
    assert cp.fetched == set()
    assert not cp.log_path.exists()
    assert "without its checkpoint" in cp.notes[0]


def test_counted_prs_missing_from_log_are_refetched(path: Path) -> None:
    """PRs the JSON counts but the log lacks go back to pending, with a note."""
    cp = planned(path, [1, 2, 3], done=[1, 2])
    cp.save()
    cp.log_path.unlink()
    again = Checkpoint.open(path, repo=REPO, params=PARAMS)
    assert again.pending() == [1, 2, 3]
    assert "2 PR(s) whose data is not in" in again.notes[0]


def test_other_params_raise_mismatch_naming_the_difference(path: Path) -> None:
    """Resuming with other parameters raises, names the parameter and both values, and the way out."""
    planned(path, [1, 2], done=[1])
    before = path.read_bytes()
    other = {**PARAMS, "limit": 50}
    del other["until"]
    with pytest.raises(CheckpointMismatch) as excinfo:
        Checkpoint.open(path, repo=REPO, params=other)
    text = str(excinfo.value)
    assert "limit: checkpoint has 500, this run has 50" in text
    assert "until: checkpoint has null, this run has (not set)" in text
    assert "since" not in text
    assert "--checkpoint-file" in text
    assert "original parameters" in text
    assert isinstance(excinfo.value, UsageError)
    assert path.read_bytes() == before


def test_other_repo_raises_mismatch(path: Path) -> None:
    """A checkpoint of another repository is never mixed in."""
    planned(path, [1], done=[])
    with pytest.raises(CheckpointMismatch, match="repo: checkpoint has 'octo-org/hello-world'"):
        Checkpoint.open(path, repo="octo-org/other", params=PARAMS)


def test_same_crawl_despite_case_and_tuples(path: Path) -> None:
    """Owner/name case and tuple-versus-list are the same crawl after a JSON round trip."""
    planned(path, [1, 2], done=[2])
    again = Checkpoint.open(path, repo=REPO.upper(), params={**PARAMS, "states": ("closed",)})
    assert again.fetched == {2}


def test_failed_save_keeps_old_file_and_no_temp(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the final rename fails, the old checkpoint is intact and no temp file is left."""
    cp = planned(path, [1, 2], done=[1])
    before = path.read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        msg = "No space left on device"
        raise OSError(28, msg)

    monkeypatch.setattr(os, "replace", broken_replace)
    cp.total_found = 8
    with pytest.raises(CacheError, match="previous checkpoint is unchanged"):
        cp.save()
    assert path.read_bytes() == before
    assert leftovers(path.parent) == []


def test_saves_leave_no_temp_files(path: Path) -> None:
    """Repeated saves leave only the checkpoint and its log in the directory."""
    cp = planned(path, list(range(1, 60)), done=list(range(1, 60)))
    cp.mark_completed()
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, cp.log_path.name])


def test_sixteen_threads_record_two_hundred_prs(path: Path) -> None:
    """Concurrent record_pr calls give one whole, parseable line per PR."""
    numbers = list(range(1, 201))
    cp = Checkpoint.open(path, repo=REPO, params=PARAMS)
    cp.save_every = 7  # saves interleave with appends
    cp.set_plan(numbers, total_found=200)
    big = "x" * 5000  # long lines would interleave if appends were not serialized
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def work(mine: list[int]) -> None:
        try:
            barrier.wait()
            for n in mine:
                cp.record_pr(n, {**pr(n), "blob": big})
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(numbers[i::16],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    lines = log_lines(cp)
    assert len(lines) == 200
    assert sorted(r["number"] for r in lines) == numbers
    assert all(r["data"]["blob"] == big for r in lines)
    assert cp.pending() == []
    assert Checkpoint.open(path, repo=REPO, params=PARAMS).fetched == set(numbers)


_KILL_SCRIPT = """
import os, sys, time
from pathlib import Path
from pytest_ghseed.checkpoint import Checkpoint

cp = Checkpoint.open(Path(sys.argv[1]), repo="octo-org/hello-world", params={"limit": 100000})
cp.set_plan(range(1, 100001), total_found=100000)
blob = "y" * 100000
n = 0
while True:
    n += 1
    if sys.argv[2] == "torn" and n == 26:
        # What a kill inside a large write leaves: the first part of a line, no newline.
        line = ('{"number": %d, "data": {"number": %d, "blob": "' % (n, n) + blob).encode()
        fd = os.open(cp.log_path, os.O_WRONLY | os.O_APPEND)
        os.write(fd, line[: len(line) // 2])
        print("torn", flush=True)
        time.sleep(60)
    cp.record_pr(n, {"number": n, "blob": blob})
    print(n, flush=True)
"""


@pytest.mark.parametrize("mode", ["anywhere", "torn"])
def test_sigkill_mid_run_resumes_with_every_whole_record(path: Path, mode: str) -> None:
    """A crawl killed with SIGKILL resumes with every completed record and no partial one."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(path), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    reported = 0
    try:
        for line in proc.stdout:
            if line.strip() == "torn":
                break
            reported = int(line)
            if mode == "anywhere" and reported >= 25:
                break
    finally:
        proc.kill()  # SIGKILL on POSIX: no cleanup code runs
        _, err = proc.communicate(timeout=30)
    assert reported >= 25, err

    cp = Checkpoint.open(path, repo=REPO, params={"limit": 100000})
    # Every record reported done is there; the one being written may or may not be whole.
    assert cp.fetched >= set(range(1, reported + 1))
    assert cp.fetched == set(range(1, max(cp.fetched) + 1))
    lines = log_lines(cp)
    assert [r["number"] for r in lines] == sorted(cp.fetched)
    assert all(r["data"] == {"number": r["number"], "blob": "y" * 100000} for r in lines)
    assert cp.pending()[0] == max(cp.fetched) + 1
    assert leftovers(path.parent) == []
    if mode == "torn":
        assert cp.fetched == set(range(1, 26))
        assert any("incomplete last record" in note for note in cp.notes)


TOKEN = "ghp_" + "Zx9" * 12


@pytest.mark.parametrize(
    "token",
    [TOKEN, "github_pat_11ABCDEFG0" + "a_b" * 20, "ghs_" + "A" * 36],
)
def test_params_with_a_token_are_refused_without_echoing_it(path: Path, token: str) -> None:
    """A token-shaped parameter is refused before anything is written; the error names only the field."""
    with pytest.raises(SecretLeakError) as excinfo:
        Checkpoint.open(path, repo=REPO, params={**PARAMS, "auth": {"headers": [f"token {token}"]}})
    assert token not in str(excinfo.value)
    assert "params['auth']['headers'][0]" in str(excinfo.value)
    assert not path.exists()


def test_the_checkpoint_stores_no_url_from_the_server(path: Path) -> None:
    """No list cursor or other server-sent URL is kept: a token in a Link header cannot reach the file."""
    cp = planned(path, [1], done=[])
    cp.save()
    assert "cursor" not in path.read_text("utf-8")
    assert "://" not in path.read_text("utf-8")


def test_record_before_plan_or_outside_plan_is_refused(path: Path) -> None:
    """Details are recorded only for pinned PRs, and only after the plan is pinned."""
    cp = Checkpoint.open(path, repo=REPO, params=PARAMS)
    with pytest.raises(RuntimeError, match="before set_plan"):
        cp.record_pr(1, pr(1))
    with pytest.raises(RuntimeError, match="before set_plan"):
        cp.pending()
    cp.set_plan([1], total_found=1)
    with pytest.raises(ValueError, match="not in the pinned plan"):
        cp.record_pr(2, pr(2))
    with pytest.raises(ValueError, match="positive int"):
        cp.record_pr(0, pr(0))


def test_params_must_be_json(path: Path) -> None:
    """Parameters that JSON cannot hold are a usage error, not a crash at save time."""
    with pytest.raises(UsageError, match="plain JSON values"):
        Checkpoint.open(path, repo=REPO, params={"since": object()})
