"""`ghseed fetch --api graphql` as users run it: real subprocesses of the console script, killed and resumed."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pytest_ghseed.cli import main
from pytest_ghseed.models import Snapshot
from tests.helpers import REPO
from tests.test_cli_fetch import GHSEED, complete_records, ghseed_env, wait_for_new_record


def reads(emu: object, numbers: set[int]) -> list[int]:
    """Which of ``numbers`` the crawl read again since the stats were reset: GraphQL or REST files."""
    stats = emu.stats  # type: ignore[attr-defined]
    graphql = {int(key.split("#")[1]) for key in stats.graphql_pull_reads if key.startswith(f"{REPO}#")}
    files = {n for n in numbers if stats.fetch_counts.get(f"/repos/{REPO}/pulls/{n}/files?per_page=100")}
    return sorted((graphql | files) & numbers)


@pytest.mark.slow
def test_sigkill_five_times_during_a_graphql_crawl_then_resume_gives_the_truth(
    emulator_factory, tmp_path: Path
) -> None:
    """Killed with SIGKILL at random moments five times, each rerun resumes: the data equals the truth, and
    no finished PR is read again (neither through GraphQL nor its files through REST)."""
    emu = emulator_factory(n_prs=100, extremes=True, latency_seconds=0.05)
    cache = tmp_path / "cache"
    command = [
        GHSEED,
        "fetch",
        REPO,
        "--all-prs",
        "--api",
        "graphql",
        "--base-url",
        emu.base_url,
        "--cache-dir",
        str(cache),
    ]
    env = ghseed_env("tok-alice-1,tok-bob")
    log = cache / "acme__widgets" / "checkpoint.prs.jsonl"
    rng = random.Random(4321)
    done_before: set[int] = set()
    for kill in range(5):
        # One worker: PRs finish one by one as their files come, so each run gets only part of the way.
        process = subprocess.Popen(
            [*command, "--workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_new_record(log, done_before, process)
        time.sleep(rng.uniform(0.0, 1.0))
        assert process.poll() is None, f"run {kill + 1} finished before its kill; make the data set larger"
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert reads(emu, done_before) == [], f"PRs complete before kill {kill} were read again"
        done_now = complete_records(log)
        assert done_now >= done_before, "a kill must never lose a finished PR"
        done_before = done_now
        emu.reset_stats()
    assert done_before, "the runs should have finished some PRs between kills"
    emu.set_faults(latency_seconds=0.0)
    final = subprocess.run([*command, "--workers", "8"], env=env, capture_output=True, text=True, timeout=180)
    assert final.returncode == 0, final.stderr
    assert reads(emu, done_before) == []
    snapshot = Snapshot.from_dict(json.loads((cache / "acme__widgets" / "snapshot.json").read_text()))
    assert [pr.to_dict() for pr in snapshot.prs] == [pr.to_dict() for pr in emu.truth(REPO)]
    assert not log.exists(), "a finished fetch discards its checkpoint"
    rebuilt = subprocess.run(
        [GHSEED, "rebuild", REPO, "--cache-dir", str(cache)], env=env, capture_output=True, text=True
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    again = Snapshot.from_dict(json.loads((cache / "acme__widgets" / "snapshot.json").read_text()))
    assert again == snapshot


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["fetch", "posthog", "--api", "soap"], "--api must be one of auto, rest, graphql; got 'soap'"),
        (["fetch", "posthog", "--api", "rest", "--no-patches"], "--no-patches needs --api graphql or auto"),
    ],
)
def test_api_usage_errors_exit_2_with_the_value(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong --api, or --no-patches with REST, exits 2 saying what fits."""
    assert main(argv) == 2
    assert expected in capsys.readouterr().err


def test_fetch_graphql_no_patches_then_status_and_verify(
    emulator_factory, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ghseed fetch --api graphql --no-patches` records; `ghseed verify` finds it sound."""
    emu = emulator_factory(n_prs=6)
    monkeypatch.setenv("GITHUB_TOKENS", "tok-bob")
    argv = ["fetch", REPO, "--api", "graphql", "--no-patches", "--all-prs", "--base-url", emu.base_url]
    assert main([*argv, "--cache-dir", str(tmp_path)]) == 0
    assert "6 PRs fetched" in capsys.readouterr().out
    assert main(["verify", REPO, "--cache-dir", str(tmp_path)]) == 0
    assert "sound, no secrets found" in capsys.readouterr().out
