"""The Django integration as its users run it: `manage.py seed_real_projects` and pytest-django sessions.

Django is configured per process, so everything that needs it runs in a subprocess: the example
project's manage.py and test suite (examples/django_metrics), and the integration's own tests
(tests/django_suite, with the example's models). The main suite never configures Django.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_ghseed import load_snapshot
from pytest_ghseed.checkpoint import data_log_path
from pytest_ghseed.contrib.django.source import fetch_project
from pytest_ghseed.errors import UsageError
from pytest_ghseed.models import PullRequest
from tests.helpers import REPO
from tests.test_cli_fetch import complete_records, detail_fetches, wait_for_new_record

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "django_metrics"
SUITE = Path(__file__).resolve().parent / "django_suite"
#: metrics_* tables of the example app, by the name the counts use.
TABLES = {
    "members": "metrics_teammember",
    "prs": "metrics_pullrequest",
    "reviews": "metrics_review",
    "commits": "metrics_commit",
    "files": "metrics_filechange",
    "comments": "metrics_comment",
}


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without tokens, Django settings or pytest variables of the outer run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DJANGO_", "PYTEST_"))}
    env.update(extra)
    return env


def copy_example(tmp_path: Path) -> Path:
    """A fresh copy of the example project (no database, no recordings)."""
    target = tmp_path / "django_metrics"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("cassettes", "db.sqlite3", "__pycache__"))
    return target


def manage(
    example: Path, *args: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``python examples/django_metrics/manage.py ARGS`` from the folder above the example, as in the README."""
    return subprocess.run(
        [sys.executable, str(example / "manage.py"), *args],
        cwd=example.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def row_counts(database: Path) -> dict[str, int]:
    """Rows per table of the example app, read with sqlite3 itself."""
    with sqlite3.connect(database) as connection:
        return {
            name: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for name, table in TABLES.items()
        }


def expected_counts(prs: tuple[PullRequest, ...] | list[PullRequest]) -> dict[str, int]:
    """The rows the example's seeder must leave for ``prs``, counted from the models."""
    people = {
        user.id
        for pr in prs
        for user in (
            pr.user,
            pr.merged_by,
            *pr.requested_reviewers,
            *(r.user for r in pr.reviews),
            *(c.user for c in pr.review_comments),
            *(c.user for c in pr.issue_comments),
        )
        if user is not None
    }
    return {
        "members": len(people),
        "prs": len(prs),
        "reviews": sum(len(pr.reviews) for pr in prs),
        "commits": sum(len(pr.commits) for pr in prs),
        "files": sum(len(pr.files) for pr in prs),
        "comments": sum(len(pr.review_comments) + len(pr.issue_comments) for pr in prs),
    }


@pytest.mark.slow
def test_the_integrations_own_tests_pass(tmp_path: Path) -> None:
    """tests/django_suite (seeder semantics, the command in process) passes under pytest-django."""
    command = [
        sys.executable, "-m", "pytest", "-c", str(SUITE / "pytest.ini"), "--rootdir", str(SUITE), str(SUITE),
        "-p", "no:cacheprovider", "-p", "no:randomly", f"--basetemp={tmp_path / 'basetemp'}",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "19 passed" in done.stdout, done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("workers", [None, "2"], ids=["one-process", "xdist"])
def test_the_example_suite_seeds_once_per_session_and_passes(tmp_path: Path, workers: str | None) -> None:
    """The example's pytest-django tests pass on a database seeded from the demo, also with pytest-xdist."""
    example = copy_example(tmp_path)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    command += ["-n", workers] if workers else ["-p", "no:xdist"]
    done = subprocess.run(command, cwd=example, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout, done.stdout
    # Fetched from the built-in emulator into the example's cassettes/, once even with two workers.
    assert "demo (ghseed/demo): fetched, 60 PRs" in done.stdout, done.stdout
    assert (example / "cassettes" / "demo" / "snapshot.json").is_file()


@pytest.mark.slow
def test_manage_py_seeds_the_demo_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    """`manage.py seed_real_projects --project demo`: rows equal the snapshot's counts, twice, and a dry run writes nothing."""
    example = copy_example(tmp_path)
    env = clean_env()
    database = example / "db.sqlite3"  # the example's default: SQLite in a file next to manage.py
    assert manage(example, "migrate", "-v", "0", env=env).returncode == 0
    dry = manage(example, "seed_real_projects", "--project", "demo", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "demo: dry run, nothing written; 60 PRs would give:" in dry.stdout
    assert set(row_counts(database).values()) == {0}

    first = manage(example, "seed_real_projects", "--project", "demo", env=env)
    assert first.returncode == 0, first.stderr
    snapshot = load_snapshot("demo", cache_dir=example / "cassettes")
    expected = expected_counts(snapshot.prs)
    assert row_counts(database) == expected
    assert expected["prs"] == 60 and min(expected.values()) > 0
    assert (
        f"  metrics.FileChange: {expected['files']} would create, 0 would update, 0 unchanged" in dry.stdout
    )
    assert f"  metrics.FileChange: {expected['files']} created, 0 updated, 0 unchanged" in first.stdout

    second = manage(example, "seed_real_projects", "--project", "demo", env=env)
    assert second.returncode == 0, second.stderr
    assert "demo (ghseed/demo): 60 PRs from the cache, 0 API requests" in second.stdout
    assert f"  metrics.Review: 0 created, 0 updated, {expected['reviews']} unchanged" in second.stdout
    assert row_counts(database) == expected


@pytest.mark.slow
def test_sigkill_during_the_fetch_then_the_same_checkpoint_file_resumes(
    emulator_factory, tmp_path: Path
) -> None:
    """Killed with SIGKILL while fetching; the rerun with the same --checkpoint-file refetches no finished PR, and the rows equal the truth.

    One kill: tests/test_cli_fetch.py kills the same fetcher five times.
    """
    emu = emulator_factory(n_prs=60, extremes=True, latency_seconds=0.05)
    example = copy_example(tmp_path)
    database = tmp_path / "metrics.sqlite3"
    env = clean_env(GITHUB_TOKENS="tok-alice-1,tok-bob", DJANGO_METRICS_DB=str(database))
    checkpoint = tmp_path / "my_checkpoint.json"
    assert manage(example, "migrate", "-v", "0", env=env).returncode == 0
    command = [
        sys.executable, str(example / "manage.py"), "seed_real_projects", "--project", REPO,
        "--base-url", emu.base_url, "--checkpoint-file", str(checkpoint), "--cache-dir", str(tmp_path / "cache"),
    ]  # fmt: skip
    log = data_log_path(checkpoint)
    rng = random.Random(15)
    done_before: set[int] = set()
    for kill in range(1):
        # One worker, so that each run gets only part of the way before its kill.
        process = subprocess.Popen(
            [*command, "--workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_new_record(log, done_before, process)
        time.sleep(rng.uniform(0.0, 0.5))
        assert process.poll() is None, f"run {kill + 1} finished before its kill; make the data set larger"
        process.send_signal(signal.SIGKILL)
        process.wait()
        refetched = [n for n in sorted(done_before) if detail_fetches(emu.stats.fetch_counts, n)]
        assert refetched == [], f"PRs complete before kill {kill + 1} were fetched again: {refetched}"
        done_now = complete_records(log)
        assert done_now >= done_before, "a kill must never lose a finished PR"
        done_before = done_now
        emu.reset_stats()
    assert done_before, "the runs should have finished some PRs between kills"
    assert set(row_counts(database).values()) == {0}, "nothing is seeded before the fetch completes"
    emu.set_faults(latency_seconds=0.0)
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert final.returncode == 0, final.stderr
    assert [n for n in sorted(done_before) if detail_fetches(emu.stats.fetch_counts, n)] == []
    assert f"{len(done_before)} already in the checkpoint" in final.stderr
    assert row_counts(database) == expected_counts(emu.truth(REPO))
    assert not checkpoint.exists() and not log.exists(), "a finished fetch discards its checkpoint"


@pytest.mark.slow
def test_manage_py_errors_are_one_line_without_a_traceback(emulator_factory, tmp_path: Path) -> None:
    """An unmigrated database, a bad option, a bad token: exit 1 or 2 with a message, never a traceback or the token.

    The other errors are covered in process by tests/django_suite/test_command.py.
    """
    emu = emulator_factory(n_prs=2)
    example = copy_example(tmp_path)
    env = clean_env(GITHUB_TOKENS="tok-nobody-knows", DJANGO_METRICS_DB=str(tmp_path / "fresh.sqlite3"))
    unmigrated = manage(example, "seed_real_projects", "--project", "demo", env=env)
    bad_option = manage(example, "seed_real_projects", "--project", "demo", "--max-prs", "0", env=env)
    assert manage(example, "migrate", "-v", "0", env=env).returncode == 0
    bad_token = manage(example, "seed_real_projects", "--project", REPO, "--base-url", emu.base_url, env=env)
    expected = [
        (
            unmigrated,
            1,
            "CommandError: the database 'default' has unapplied migrations (metrics.0001_initial)",
        ),
        (bad_option, 2, "--max-prs must be a whole number of at least 1, got '0'"),
        (bad_token, 1, "CommandError: no usable token among the 1 given: token #1 (sha256:"),
    ]
    for done, code, message in expected:
        assert (done.returncode, message in done.stderr) == (code, True), done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        assert "tok-nobody-knows" not in done.stdout + done.stderr


def test_fetch_project_resolves_aliases_and_checks_the_record_mode(
    emulator_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The adapter over the core reads [tool.ghseed.aliases] like `ghseed fetch`, and names a bad record mode."""
    emu = emulator_factory(n_prs=3)
    monkeypatch.setenv("GITHUB_TOKENS", "tok-bob")
    (tmp_path / "pyproject.toml").write_text(f'[tool.ghseed.aliases]\nwidgets = "{REPO}"\n')
    fetched = fetch_project("widgets", cache_dir=tmp_path / "cache", base_url=emu.base_url)
    assert (fetched.name, fetched.full_name, fetched.source) == ("widgets", REPO, "fetched")
    assert [pr.to_dict() for pr in fetched.snapshot.prs] == [pr.to_dict() for pr in emu.truth(REPO)]
    again = fetch_project("widgets", cache_dir=tmp_path / "cache", record_mode="none")
    assert (again.source, again.requests) == ("cache", 0)
    with pytest.raises(
        UsageError, match="record mode must be one of once, none, new_episodes, all; got 'never'"
    ):
        fetch_project("widgets", cache_dir=tmp_path / "cache", record_mode="never")


def test_the_adapter_imports_no_django() -> None:
    """`pytest_ghseed.contrib.django.source` (used by the command and the fixtures) loads no Django by itself."""
    code = (
        "import sys, pytest_ghseed.contrib.django.source\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
