"""The GitHub CLI (``gh``, when installed) reads ``ghseed serve`` through its REST commands.

``gh`` speaks plain HTTP only to its development host ``github.localhost`` (API at
``http://api.github.localhost/``); an ``HTTP_PROXY`` pointing at the server delivers those requests
to it, and the server answers with links on the address the client used. What needs GraphQL
(``gh pr list``, ``gh pr view``, ``gh auth status``'s login check) waits for the emulator's
``/graphql``; ``gh api`` and ``gh pr diff`` are REST and work today.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.contracts.conftest import REPO, Served, random_token

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
