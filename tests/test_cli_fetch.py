"""`ghseed fetch` as users run it: real subprocesses of the console script against the emulator."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_ghseed.cli import main
from pytest_ghseed.models import Snapshot
from tests.helpers import REPO

GHSEED = str(Path(sys.executable).with_name("ghseed"))


def ghseed_env(tokens: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["GITHUB_TOKENS"] = tokens
    return env


def detail_fetches(stats_counts: dict[str, int], number: int) -> int:
    """Successful GETs of one PR's detail (the first request of every PR's fetch)."""
    path = f"/repos/{REPO}/pulls/{number}"
    return sum(count for key, count in stats_counts.items() if key.split("?")[0] == path)


def complete_records(log: Path) -> set[int]:
    """PR numbers whose line in the checkpoint's data log is complete."""
    if not log.exists():
        return set()
    done = set()
    for line in log.read_bytes().split(b"\n"):
        try:
            done.add(int(json.loads(line)["number"]))
        except (ValueError, KeyError):
            continue
    return done


def wait_for_new_record(
    log: Path, known: set[int], process: subprocess.Popen[bytes], timeout: float = 60
) -> None:
    """Wait until the data log holds a PR beyond ``known`` (or the process ends, or time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if complete_records(log) - known:
            return
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_five_times_then_resume_gives_the_truth_without_refetching(
    emulator_factory, tmp_path: Path
) -> None:
    """Killed with SIGKILL at random moments five times, each rerun resumes: final data equals the truth and no finished PR is fetched again."""
    emu = emulator_factory(n_prs=100, extremes=True, latency_seconds=0.05)
    cache = tmp_path / "cache"
    command = [GHSEED, "fetch", REPO, "--all-prs", "--base-url", emu.base_url, "--cache-dir", str(cache)]
    env = ghseed_env("tok-alice-1,tok-bob")
    log = cache / "acme__widgets" / "checkpoint.prs.jsonl"
    rng = random.Random(1234)
    done_before: set[int] = set()
    for kill in range(5):
        # One worker, so that each run gets only part of the way before its kill.
        process = subprocess.Popen(
            [*command, "--workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # Kill at a random moment once this run has got going (its first PR written), so that every run
        # makes progress however slowly the machine starts the CLI (about 1.3 s here).
        wait_for_new_record(log, done_before, process)
        time.sleep(rng.uniform(0.0, 1.0))
        assert process.poll() is None, f"run {kill + 1} finished before its kill; make the data set larger"
        process.send_signal(signal.SIGKILL)
        process.wait()
        refetched = [n for n in sorted(done_before) if detail_fetches(emu.stats.fetch_counts, n)]
        assert refetched == [], f"PRs complete before kill {kill} were fetched again: {refetched}"
        done_now = complete_records(log)
        assert done_now >= done_before, "a kill must never lose a finished PR"
        done_before = done_now
        emu.reset_stats()
    assert done_before, "the runs should have finished some PRs between kills"
    emu.set_faults(latency_seconds=0.0)
    final = subprocess.run([*command, "--workers", "8"], env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    assert [n for n in sorted(done_before) if detail_fetches(emu.stats.fetch_counts, n)] == []
    snapshot = Snapshot.from_dict(json.loads((cache / "acme__widgets" / "snapshot.json").read_text()))
    assert [pr.to_dict() for pr in snapshot.prs] == [pr.to_dict() for pr in emu.truth(REPO)]
    assert not log.exists(), "a finished fetch discards its checkpoint"


def test_a_bad_token_is_dropped_with_a_warning_and_the_fetch_goes_on(
    emulator_factory, tmp_path: Path
) -> None:
    """One token GitHub rejects among good ones: a warning naming it by position and fingerprint, exit 0."""
    from pytest_ghseed.secrets import fingerprint

    emu = emulator_factory(n_prs=2)
    secret = "ghp_" + "Q1w2E3r4" * 4 + "Zz9x"
    result = subprocess.run(
        [GHSEED, "fetch", REPO, "--base-url", emu.base_url, "--cache-dir", str(tmp_path)],
        env=ghseed_env(f"tok-bob,{secret}"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"token #2 ({fingerprint(secret)}) was refused by GitHub (401 Bad credentials" in result.stderr
    assert "going on with 1 of 2 tokens" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_only_bad_tokens_exit_2_without_showing_them(emulator_factory, tmp_path: Path) -> None:
    """Every token rejected: exit 2, each named by position and fingerprint, none shown."""
    emu = emulator_factory(n_prs=2)
    secrets = ["ghp_" + "Q1w2E3r4" * 4 + "Zz9x", "github_pat_" + "Ab3" * 30]
    result = subprocess.run(
        [GHSEED, "fetch", REPO, "--base-url", emu.base_url, "--cache-dir", str(tmp_path)],
        env=ghseed_env(",".join(secrets)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no usable token among the 2 given" in result.stderr
    assert "token #1" in result.stderr and "token #2" in result.stderr
    assert all(secret not in result.stdout + result.stderr for secret in secrets)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "acme__widgets").exists(), "a failed first fetch leaves no empty folder"


def test_unknown_repository_exits_1_with_a_clear_message(
    emulator_factory, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown repository ends with exit 1 and a message naming it."""
    emu = emulator_factory(n_prs=2)
    monkeypatch.setenv("GITHUB_TOKENS", "tok-bob")
    code = main(["fetch", "acme/missing", "--base-url", emu.base_url, "--cache-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "acme/missing" in err and "not found" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["fetch", "not a project"], "neither owner/repo"),
        (["fetch", "posthog", "--workers", "0"], "--workers must be a whole number of at least 1, got '0'"),
        (["fetch", "posthog", "--state", "merged"], "--state must be one of all, open, closed; got 'merged'"),
        (["fetch", "posthog", "--since", "last week"], "--since must be an ISO date"),
        (["fetch", "posthog", "--base-url", "ftp://x"], "not an http(s) URL"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_the_value(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Malformed input exits 2 with a message quoting the value and what fits, never a traceback."""
    assert main(argv) == 2
    assert expected in capsys.readouterr().err


def test_fetch_prints_plain_progress_when_not_a_terminal(emulator_factory, tmp_path: Path) -> None:
    """Off a terminal, progress comes as plain lines with PRs done, requests and quota; the result line names the snapshot."""
    emu = emulator_factory(n_prs=8)
    result = subprocess.run(
        [GHSEED, "fetch", REPO, "--max-prs", "5", "--base-url", emu.base_url, "--cache-dir", str(tmp_path)],
        env=ghseed_env("tok-alice-1,tok-alice-2"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "acme/widgets: 5/5 PRs" in result.stderr
    assert "quota left: alice" in result.stderr
    assert "token #2 belongs to alice like token #1" in result.stderr
    assert "\r" not in result.stderr
    assert "5 PRs fetched" in result.stdout


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` prints the version; `fetch --help` shows an example; both exit 0."""
    assert main(["--version"]) == 0
    assert "ghseed 0.1.0" in capsys.readouterr().out
    assert main(["fetch", "--help"]) == 0
    assert "example: GITHUB_TOKENS=" in capsys.readouterr().out


def test_fetch_resolves_an_alias_from_pyproject(
    emulator_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ghseed fetch widgets` works when pyproject.toml aliases widgets to acme/widgets."""
    emu = emulator_factory(n_prs=3)
    (tmp_path / "pyproject.toml").write_text('[tool.ghseed.aliases]\nwidgets = "acme/widgets"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKENS", "tok-bob")
    assert main(["fetch", "widgets", "--base-url", emu.base_url]) == 0
    assert "acme/widgets: 3 PRs fetched" in capsys.readouterr().out
    assert (tmp_path / "cassettes" / "widgets" / "snapshot.json").is_file()


@pytest.mark.parametrize(
    "ini",
    [
        ("pytest.ini", "[pytest]\nghseed_aliases =\n    widgets = acme/widgets\n"),
        ("tox.ini", "[pytest]\nghseed_aliases =\n    widgets = acme/widgets\n"),
        ("setup.cfg", "[tool:pytest]\nghseed_aliases =\n    widgets = acme/widgets\n"),
        ("pyproject.toml", '[tool.pytest.ini_options]\nghseed_aliases = ["widgets = acme/widgets"]\n'),
    ],
    ids=["pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml"],
)
def test_fetch_reads_the_ini_aliases_pytest_reads(
    emulator_factory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ini: tuple[str, str],
) -> None:
    """An alias in the ini file pytest uses works for `ghseed fetch` too, from a subfolder as well."""
    emu = emulator_factory(n_prs=2)
    name, text = ini
    (tmp_path / name).write_text(text)
    inner = tmp_path / "tests" / "unit"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    monkeypatch.setenv("GITHUB_TOKENS", "tok-bob")
    assert main(["fetch", "widgets", "--base-url", emu.base_url, "--cache-dir", str(tmp_path / "c")]) == 0
    assert "acme/widgets: 2 PRs fetched" in capsys.readouterr().out


def test_an_inverted_date_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--since after --until would record an empty snapshot: refused, exit 2, naming both dates."""
    assert main(["fetch", "demo", "--since", "2024-02-01", "--until", "2024-01-01"]) == 2
    err = capsys.readouterr().err
    assert "--since and --until are inverted: 2024-02-01 is after 2024-01-01; swap them" in err


def test_errors_are_prefixed_once(capsys: pytest.CaptureFixture[str]) -> None:
    """One `ghseed: error:` and the option named once, then where to look for help."""
    assert main(["fetch", "demo", "--max-prs", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "ghseed: error: --max-prs must be a whole number of at least 1, got '0' (see `ghseed fetch --help`)"
    )


def test_blank_token_list_says_no_token_was_found(emulator_factory, tmp_path: Path) -> None:
    """GITHUB_TOKENS="  ,  " is said plainly: unauthenticated, and what that means."""
    emu = emulator_factory(n_prs=2)
    result = subprocess.run(
        [GHSEED, "fetch", REPO, "--base-url", emu.base_url, "--cache-dir", str(tmp_path)],
        env=ghseed_env("  ,  "),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "no GitHub token found (GITHUB_TOKENS and GITHUB_TOKEN are unset or blank)" in result.stderr
    assert "60 requests per hour" in result.stderr


def test_the_final_progress_line_is_printed_once(emulator_factory, tmp_path: Path) -> None:
    """Off a terminal, the last progress line (all PRs done) appears once, not twice."""
    emu = emulator_factory(n_prs=4)
    result = subprocess.run(
        [GHSEED, "fetch", REPO, "--base-url", emu.base_url, "--cache-dir", str(tmp_path)],
        env=ghseed_env("tok-bob"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    done = [line for line in result.stderr.splitlines() if line.startswith("acme/widgets: 4/4 PRs")]
    assert len(done) == 1, result.stderr


def test_demo_and_fetch_demo_record_the_same_selection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ghseed demo` records what `ghseed fetch demo` records: the second finds it in the cache."""
    assert main(["demo", "--cache-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["fetch", "demo", "--cache-dir", str(tmp_path)]) == 0
    assert "PRs already in the cache with 0 requests" in capsys.readouterr().out


def test_a_wait_says_how_far_the_crawl_got() -> None:
    """A wait announced by the token pool shows the crawl's last progress, not "0/0 PRs"."""
    import io

    from pytest_ghseed.progress import ProgressEvent, ProgressRenderer, StreamOutput

    stream = io.StringIO()
    render = ProgressRenderer(StreamOutput(stream))
    render(ProgressEvent(kind="plan", repo=REPO, prs_done=0, prs_total=5, requests=3))
    render(ProgressEvent(kind="wait", repo=REPO, wait=3592.0, reason="primary rate limit", user="anonymous"))
    lines = stream.getvalue().splitlines()
    assert lines[-1].startswith(f"{REPO}: 0/5 PRs, 3 requests")
    assert "waiting 3592.0s (anonymous): primary rate limit" in lines[-1]
