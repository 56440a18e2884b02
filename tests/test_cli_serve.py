"""`ghseed serve`: a recorded project served again as a GitHub REST API, read back with PyGithub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github

from pytest_ghseed import seed
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.cli import main
from pytest_ghseed.emulator import Emulator
from pytest_ghseed.emulator.serve import SERVE_TOKEN, serve_project
from pytest_ghseed.models import FetchParams, Snapshot
from pytest_ghseed.projects import resolve_project
from tests.helpers import REPO


@pytest.fixture
def recorded(emulator_factory: Any, tmp_path: Path) -> tuple[ProjectStore, Snapshot]:
    """A cache of acme/widgets (with a crowded PR, so sub-lists span pages) fetched from an emulator."""
    emu = emulator_factory(n_prs=9, extremes=True)
    project = resolve_project(REPO)
    result = seed.ensure(
        project,
        tmp_path,
        FetchParams(max_prs=None),
        options=seed.FetchOptions(base_url=emu.base_url, tokens=["tok-alice-1"]),
    )
    emu.stop()  # what follows must come from the cache, not from the emulator that recorded it
    return ProjectStore(tmp_path, project.folder), result.snapshot


@pytest.fixture
def served(recorded: tuple[ProjectStore, Snapshot]) -> Iterator[Emulator]:
    """The recorded project, served."""
    with serve_project(recorded[0]) as emulator:
        yield emulator


def client(base_url: str, per_page: int = 3) -> Github:
    return Github(
        base_url=base_url,
        auth=Auth.Token(SERVE_TOKEN),
        retry=None,
        seconds_between_requests=None,
        per_page=per_page,
    )


def test_pygithub_lists_the_recorded_prs_with_reviews_and_files(
    served: Emulator, recorded: tuple[ProjectStore, Snapshot]
) -> None:
    """PyGithub, 3 per page, sees the snapshot's PRs, reviews and files in the same order and values."""
    snapshot = recorded[1]
    repo = client(served.base_url).get_repo(REPO)
    pulls = list(repo.get_pulls(state="all", sort="created", direction="asc"))
    assert [p.number for p in pulls] == [pr.number for pr in snapshot.prs]
    for pull, pr in zip(pulls, snapshot.prs, strict=True):
        assert (pull.title, pull.state, pull.merged, pull.user.login) == (
            pr.title,
            pr.state,
            pr.merged,
            pr.user.login,
        )
        assert (pull.additions, pull.deletions, pull.changed_files) == (
            pr.additions,
            pr.deletions,
            pr.changed_files,
        )
        reviews = [(r.id, r.user.login if r.user else None, r.state, r.body) for r in pull.get_reviews()]
        assert reviews == [(r.id, r.user.login if r.user else None, r.state, r.body) for r in pr.reviews]
        files = [(f.filename, f.status, f.additions, f.deletions) for f in pull.get_files()]
        assert files == [(f.filename, f.status, f.additions, f.deletions) for f in pr.files]
    assert max(len(pr.reviews) for pr in snapshot.prs) > 3, "a sub-list must span several pages"
    assert served.stats.fetch_counts, "the requests went to the served emulator"


def test_links_in_bodies_point_at_the_server(served: Emulator) -> None:
    """URLs inside recorded bodies are rewritten to the serving address, so clients never leave it."""
    pull = client(served.base_url).get_repo(REPO).get_pulls(state="all")[0]
    assert pull.url.startswith(served.base_url)
    assert pull.raw_data["_links"]["self"]["href"].startswith(served.base_url)


def test_unauthenticated_requests_are_served_generously(served: Emulator) -> None:
    """Without a token the server answers too, with a limit far above GitHub's 60."""
    gh = Github(base_url=served.base_url, retry=None, seconds_between_requests=None)
    assert gh.get_repo(REPO).full_name == REPO
    assert gh.get_rate_limit().rate.limit >= 10_000


def test_demo_without_a_cache_serves_the_builtin_demo(tmp_path: Path) -> None:
    """`serve demo` with an empty cache dir serves the embedded demo project."""
    with serve_project(None) as emulator:
        repo = client(emulator.base_url, per_page=30).get_repo("ghseed/demo")
        assert repo.get_pulls(state="all").totalCount > 30


def _ctrl_c() -> None:
    raise KeyboardInterrupt


def test_serve_command_prints_how_to_connect_and_exits_0_on_ctrl_c(
    recorded: tuple[ProjectStore, Snapshot],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`ghseed serve` prints base URL, token and PyGithub line; Ctrl-C ends it: exit 0, no traceback."""
    monkeypatch.setattr("pytest_ghseed.cli.commands._wait_for_interrupt", _ctrl_c)
    code = main(["serve", REPO, "--cache-dir", str(recorded[0].cache_dir)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "http://127.0.0.1:" in captured.out
    assert f"Auth.Token('{SERVE_TOKEN}')" in captured.out
    assert "Github(base_url=" in captured.out
    assert "Traceback" not in captured.err


def test_serve_without_a_cache_exits_1_saying_how_to_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Serving a project that was never recorded fails with the fetch command to run."""
    assert main(["serve", REPO, "--cache-dir", str(tmp_path)]) == 1
    assert f"ghseed fetch {REPO}" in capsys.readouterr().err


def test_serve_rejects_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    """A port outside 0-65535 is a usage error quoting the value."""
    assert main(["serve", "demo", "--port", "70000"]) == 2
    assert "--port must be a port number from 0 to 65535" in capsys.readouterr().err
