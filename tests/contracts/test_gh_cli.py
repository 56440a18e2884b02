"""The GitHub CLI (``gh``, when installed) reads ``ghseed serve``: its REST commands and ``gh pr list``.

``gh`` speaks plain HTTP only to its development host ``github.localhost`` (API at
``http://api.github.localhost/``, GraphQL at ``/graphql``); an ``HTTP_PROXY`` pointing at the server
delivers those requests to it, and the server answers with links on the address the client used.
``gh api`` and ``gh pr diff`` are REST; ``gh pr list`` is GraphQL (its query is also sent without
``gh``, in ``tests/test_graphql_serve.py``), served from a REST recording and from a GraphQL one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pytest_ghseed import seed
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.emulator import Emulator
from pytest_ghseed.emulator.serve import serve_project
from pytest_ghseed.models import FetchParams
from pytest_ghseed.projects import resolve_project
from tests.contracts.conftest import REPO, TOKEN, Served, random_token

GH = shutil.which("gh")
pytestmark = [
    pytest.mark.skipif(GH is None, reason="the GitHub CLI (gh) is not installed on this machine"),
    pytest.mark.slow,
]


def gh(served: Served, tmp_path: Path, *args: str) -> str:
    """Run ``gh`` against the served project with a random token; its standard output."""
    assert GH is not None
    env = {
        **os.environ,
        "GH_HOST": "github.localhost",
        "HTTP_PROXY": served.server.base_url,
        "http_proxy": served.server.base_url,
        "NO_PROXY": "",
        "no_proxy": "",
        "GH_TOKEN": random_token(),
        "GH_ENTERPRISE_TOKEN": random_token(),
        "GH_CONFIG_DIR": str(tmp_path / "gh-config"),
        "GH_NO_UPDATE_NOTIFIER": "1",
        "GH_PROMPT_DISABLED": "1",
    }
    done = subprocess.run([GH, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gh_api_paginate_reads_every_pull_request_and_sub_list(served: Served, tmp_path: Path) -> None:
    """`gh api --paginate` follows the Link pages of the PR list and of a sub-list to the snapshot's items."""
    numbers = gh(
        served,
        tmp_path,
        "api",
        "--paginate",
        f"repos/{REPO}/pulls?state=all&per_page=4",
        "--jq",
        ".[].number",
    )
    assert sorted(map(int, numbers.split())) == sorted(pr.number for pr in served.snapshot.prs)
    pr = max(served.snapshot.prs, key=lambda p: len(p.issue_comments))
    ids = gh(
        served,
        tmp_path,
        "api",
        "--paginate",
        f"repos/{REPO}/issues/{pr.number}/comments?per_page=2",
        "--jq",
        ".[].id",
    )
    assert [int(i) for i in ids.split()] == [c.id for c in pr.issue_comments]
    assert len(pr.issue_comments) > 2
    repo = json.loads(gh(served, tmp_path, "api", f"repos/{REPO}"))
    assert repo["full_name"] == REPO


def test_gh_pr_diff_prints_the_diff_built_from_the_recorded_patches(served: Served, tmp_path: Path) -> None:
    """`gh pr diff N` (REST, diff media type) prints the unified diff, not JSON."""
    pr = served.snapshot.prs[0]
    out = gh(
        served, tmp_path, "pr", "diff", str(pr.number), "-R", f"github.localhost/{REPO}", "--color", "never"
    )
    direct = requests.get(
        f"{served.server.base_url}/repos/{REPO}/pulls/{pr.number}",
        headers={"Accept": "application/vnd.github.diff"},
        timeout=10,
    ).text
    assert "diff --git" in out and not out.lstrip().startswith("{")
    assert out.strip() == direct.strip()


@pytest.fixture(scope="module")
def served_graphql(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``ghseed serve`` of a GraphQL crawl of the module's emulator (patches through REST)."""
    cache_dir = tmp_path_factory.mktemp("serve-graphql")
    project = resolve_project(REPO)
    result = seed.ensure(
        project,
        cache_dir,
        FetchParams(max_prs=None),
        options=seed.FetchOptions(base_url=emulator.base_url, tokens=[TOKEN], api="graphql"),
    )
    store = ProjectStore(cache_dir, project.folder)
    with serve_project(store) as server:
        yield Served(server, result.snapshot, store)


@pytest.mark.parametrize("recording", ["served", "served_graphql"])
def test_gh_pr_list_lists_the_recorded_pull_requests(
    recording: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """`gh pr list` (GraphQL) lists the open PRs by default, and every recorded PR with --state all."""
    served: Served = request.getfixturevalue(recording)
    where = ["--repo", f"github.localhost/{REPO}"]

    def listed(*args: str) -> list[tuple[int, str, str]]:
        out = gh(served, tmp_path, "pr", "list", *where, *args)
        rows = [line.split("\t") for line in out.splitlines() if line.strip()]
        return [(int(row[0]), row[1], row[2]) for row in rows]

    newest_first = sorted(served.snapshot.prs, key=lambda pr: (pr.created_at, pr.number), reverse=True)
    expected = [(pr.number, pr.title, pr.head_ref) for pr in newest_first]
    assert listed("--state", "all", "--limit", "200") == expected
    opened = [(pr.number, pr.title, pr.head_ref) for pr in newest_first if pr.state == "open"]
    assert listed() == opened[:30]
