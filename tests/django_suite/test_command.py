"""`seed_real_projects` in process (call_command) against the emulator over HTTP: options, output, errors."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import expected_counts, row_counts
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import Settings

from pytest_ghseed.checkpoint import data_log_path
from pytest_ghseed.emulator import Emulator, EmulatorConfig, ProjectSpec, start
from pytest_ghseed.models import Repository, Snapshot
from tests.test_cli_fetch import complete_records, detail_fetches

WIDGETS, GADGETS = "acme/widgets", "acme/gadgets"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """Two repositories served over HTTP on 127.0.0.1; alice's token reads both."""
    config = EmulatorConfig(
        projects=(
            ProjectSpec(WIDGETS, n_prs=9, seed=1, extremes=False),
            ProjectSpec(GADGETS, n_prs=5, seed=2, extremes=False),
        ),
        tokens={"tok-alice": "alice"},
    )
    with start(config) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_TOKENS", "tok-alice")


def run(*args: str) -> tuple[str, str]:
    """Run the command in this process; its stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_real_projects", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def truth(emulator: Emulator, full_name: str) -> Snapshot:
    from datetime import UTC, datetime

    return Snapshot(
        repository=Repository(full_name=full_name, id=1),
        recorded_at=datetime(2025, 1, 1, tzinfo=UTC),
        prs=tuple(emulator.truth(full_name)),
    )


@pytest.mark.django_db
def test_two_projects_are_fetched_then_seeded_with_progress(emulator: Emulator, tmp_path: Path) -> None:
    """--project twice with one --checkpoint-file: both fetched and seeded; progress for the fetch and per stage."""
    checkpoint = tmp_path / "one_checkpoint.json"
    out, err = run(
        "--project", WIDGETS, "--project", GADGETS, "--base-url", emulator.base_url, "--cache-dir", str(tmp_path),
        "--checkpoint-file", str(checkpoint),
    )  # fmt: skip
    assert not checkpoint.exists(), "each project's checkpoint is deleted once it is fetched"
    assert row_counts() == expected_counts(truth(emulator, WIDGETS), truth(emulator, GADGETS))
    assert f"acme/widgets ({WIDGETS}): 9 PRs fetched" in out
    assert "acme/gadgets: seeded 5 PRs in one transaction" in out
    assert "  metrics.PullRequest: 5 created, 0 updated, 0 unchanged" in out
    assert f"{WIDGETS}: 9/9 PRs" in err  # the fetch's progress lines
    assert "acme/widgets: reviews -> metrics.Review:" in err  # the seeding's
    out, _ = run("--project", WIDGETS, "--base-url", emulator.base_url, "--cache-dir", str(tmp_path))
    assert "9 PRs from the cache, 0 API requests" in out
    assert "  metrics.PullRequest: 0 created, 0 updated, 9 unchanged" in out


@pytest.mark.django_db
def test_max_prs_and_record_mode_none(emulator: Emulator, tmp_path: Path) -> None:
    """--max-prs takes the most recent PRs; --record-mode none serves the cache and refuses what it lacks."""
    cache = str(tmp_path)
    with pytest.raises(CommandError, match=r"no recorded data for project 'acme/widgets'.*ghseed fetch"):
        run("--project", WIDGETS, "--record-mode", "none", "--cache-dir", cache)
    run("--project", WIDGETS, "--max-prs", "4", "--base-url", emulator.base_url, "--cache-dir", cache)
    assert row_counts()["PullRequest"] == 4
    out, _ = run("--project", WIDGETS, "--max-prs", "4", "--record-mode", "none", "--cache-dir", cache)
    assert "4 PRs from the cache, 0 API requests" in out


@pytest.mark.django_db
def test_dry_run_prints_the_counts_and_writes_nothing(emulator: Emulator, tmp_path: Path) -> None:
    """--dry-run prints, per project and model, what would be created, and the database stays empty."""
    out, _ = run(
        "--project", GADGETS, "--dry-run", "--base-url", emulator.base_url, "--cache-dir", str(tmp_path)
    )
    assert "acme/gadgets: dry run, nothing written; 5 PRs would give:" in out
    assert "  metrics.PullRequest: 5 would create, 0 would update, 0 unchanged" in out
    assert set(row_counts().values()) == {0}


@pytest.mark.django_db
def test_errors_are_command_errors_that_say_what_to_do(
    emulator: Emulator, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad names, unknown repositories, bad tokens, a missing seeder or database: a CommandError, no token shown."""
    cache = ["--cache-dir", str(tmp_path), "--base-url", emulator.base_url]
    with pytest.raises(CommandError, match="project 'not a name' is neither owner/repo"):
        run("--project", "not a name", *cache)
    with pytest.raises(CommandError, match=re.escape("--base-url 'ftp://x' is not an http(s) URL")):
        run("--project", WIDGETS, "--base-url", "ftp://x")
    with pytest.raises(CommandError, match="invalid choice: 'sometimes'"):
        run("--project", WIDGETS, "--record-mode", "sometimes")
    with pytest.raises(CommandError, match="--max-wait must be 0 or more seconds, got '-1'"):
        run("--project", WIDGETS, "--max-wait", "-1")
    with pytest.raises(CommandError, match="acme/missing"):
        run("--project", "acme/missing", *cache)
    monkeypatch.setenv("GITHUB_TOKENS", "tok-wrong")
    with pytest.raises(CommandError) as bad_token:
        run("--project", WIDGETS, *cache)
    assert "tok-wrong" not in str(bad_token.value)
    assert "token #1" in str(bad_token.value)
    with pytest.raises(CommandError, match=re.escape("--database 'other' is not in settings.DATABASES")):
        run("--project", WIDGETS, "--database", "other", *cache)
    with pytest.raises(CommandError, match=re.escape("cannot import the seeder 'metrics.Nope'")):
        run("--project", WIDGETS, "--seeder", "metrics.Nope", *cache)
    settings.GHSEED_SEEDER = None
    with pytest.raises(CommandError, match="no seeder: set GHSEED_SEEDER"):
        run("--project", WIDGETS, *cache)
    assert set(row_counts().values()) == {0}


@pytest.mark.django_db
def test_a_rate_limit_stops_the_fetch_and_the_checkpoint_file_resumes_it(tmp_path: Path) -> None:
    """Limited with --max-wait 0: a clear error, nothing seeded; the rerun with the same --checkpoint-file refetches no finished PR."""
    # 30 requests per 2-second window: the first run gets a few PRs in, then every token is spent.
    config = EmulatorConfig(
        projects=(ProjectSpec(WIDGETS, n_prs=12, seed=4, extremes=False),),
        tokens={"tok-alice": "alice"},
        primary_limit=30,
        window_seconds=2.0,
    )
    checkpoint = tmp_path / "my_checkpoint.json"
    with start(config) as emu:
        args = ["--project", WIDGETS, "--base-url", emu.base_url, "--cache-dir", str(tmp_path / "cache")]
        args += ["--checkpoint-file", str(checkpoint), "--workers", "1"]
        with pytest.raises(CommandError, match="every token is rate-limited") as limited:
            run(*args, "--max-wait", "0")
        assert "rerun later: the checkpoint keeps finished PRs" in str(limited.value)
        finished = complete_records(data_log_path(checkpoint))
        assert 0 < len(finished) < 12
        assert set(row_counts().values()) == {0}, "nothing is seeded from an unfinished fetch"
        emu.reset_stats()
        # The default --max-wait: this run waits out the 2-second windows itself.
        out, err = run(*args)
        assert [n for n in sorted(finished) if detail_fetches(emu.stats.fetch_counts, n)] == []
        assert f"{12 - len(finished)} to fetch, {len(finished)} already in the checkpoint" in err
        assert "12 PRs fetched" in out
        assert row_counts() == expected_counts(truth(emu, WIDGETS))
    assert not checkpoint.exists()
