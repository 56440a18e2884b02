"""`ghseed serve` answers GitHub's GraphQL subset from a recording, REST's or GraphQL's: `gh pr list`'s query."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from github import Auth, Github

from pytest_ghseed import seed
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.emulator import Emulator, start
from pytest_ghseed.emulator.serve import serve_project
from pytest_ghseed.models import FetchParams, Snapshot
from pytest_ghseed.projects import resolve_project
from tests.contracts.conftest import random_token
from tests.helpers import REPO, make_config

OWNER, NAME = REPO.split("/")

#: The query `gh pr list` sends (GitHub CLI 2.23 to 2.62, pkg/cmd/pr/list/http.go, with its default
#: fields: the fragment ``pr`` built by api.PullRequestGraphQL), as it travels.
GH_PR_LIST = (
    "fragment pr on PullRequest{number,title,state,url,headRefName,headRepositoryOwner{id,login,...on User{name}},"
    "isCrossRepository,isDraft,createdAt}"
    """
		query PullRequestList(
			$owner: String!,
			$repo: String!,
			$limit: Int!,
			$endCursor: String,
			$baseBranch: String,
			$headBranch: String,
			$state: [PullRequestState!] = OPEN
		) {
			repository(owner: $owner, name: $repo) {
				pullRequests(
					states: $state,
					baseRefName: $baseBranch,
					headRefName: $headBranch,
					first: $limit,
					after: $endCursor,
					orderBy: {field: CREATED_AT, direction: DESC}
				) {
					totalCount
					nodes {
						...pr
					}
					pageInfo {
						hasNextPage
						endCursor
					}
				}
			}
		}"""
)


def record(cache: Path, api: str) -> tuple[ProjectStore, Snapshot]:
    """Record a 14-PR project through ``api`` from an emulator that is stopped afterwards."""
    project = resolve_project(REPO)
    with start(make_config(n_prs=14)) as emu:
        result = seed.ensure(
            project,
            cache,
            FetchParams(max_prs=None),
            options=seed.FetchOptions(base_url=emu.base_url, tokens=["tok-bob"], api=api),  # type: ignore[arg-type]
        )
    return ProjectStore(cache, project.folder), result.snapshot


@pytest.fixture(scope="module", params=["rest", "graphql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Emulator, Snapshot]]:
    """``ghseed serve`` of a recording made through REST, or through GraphQL (patches through REST)."""
    store, snapshot = record(tmp_path_factory.mktemp("serve"), request.param)
    with serve_project(store) as server:
        yield server, snapshot


def gh_pr_list(server: Emulator, states: list[str], limit: int = 30, after: str | None = None) -> Any:
    variables: dict[str, Any] = {"owner": OWNER, "repo": NAME, "limit": limit, "state": states}
    if after is not None:
        variables["endCursor"] = after
    answer = requests.post(
        f"{server.base_url}/graphql",
        json={"query": GH_PR_LIST, "variables": variables},
        headers={"Authorization": f"token {random_token()}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]["repository"]["pullRequests"]


def test_gh_pr_list_query_lists_the_recorded_pull_requests(served: tuple[Emulator, Snapshot]) -> None:
    """`gh pr list`'s query, any token: the open PRs newest first, then every PR page by page, as recorded."""
    server, snapshot = served
    newest_first = sorted(snapshot.prs, key=lambda pr: (pr.created_at, pr.number), reverse=True)
    opened = gh_pr_list(server, ["OPEN"])
    assert [node["number"] for node in opened["nodes"]] == [
        pr.number for pr in newest_first if pr.state == "open"
    ]
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = gh_pr_list(server, ["OPEN", "CLOSED", "MERGED"], limit=4, after=after)
        assert page["totalCount"] == len(snapshot.prs)
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [node["number"] for node in seen] == [pr.number for pr in newest_first]
    for node, pr in zip(seen, newest_first, strict=True):
        assert node["title"] == pr.title and node["headRefName"] == pr.head_ref
        assert node["url"] == pr.html_url and node["isDraft"] == pr.draft
        assert node["state"] == ("OPEN" if pr.state == "open" else "MERGED" if pr.merged else "CLOSED")
        assert node["isCrossRepository"] is False
        assert node["headRepositoryOwner"]["login"] == OWNER
        assert node["headRepositoryOwner"].get("name") is None  # a profile name a recording cannot know


def test_rest_clients_read_a_graphql_recording_as_recorded(served: tuple[Emulator, Snapshot]) -> None:
    """PyGithub over serve sees the same PRs, reviews, commits, files and comments as the snapshot."""
    server, snapshot = served
    gh = Github(
        base_url=server.base_url, auth=Auth.Token(random_token()), retry=None, seconds_between_requests=None
    )
    repo = gh.get_repo(REPO)
    pulls = {pull.number: pull for pull in repo.get_pulls(state="all")}
    assert sorted(pulls) == [pr.number for pr in snapshot.prs]
    for pr in snapshot.prs[:6]:
        pull = pulls[pr.number]
        assert (pull.title, pull.state, pull.merged, pull.user.login if pull.user else None) == (
            pr.title,
            pr.state,
            pr.merged,
            pr.user.login if pr.user else None,
        )
        assert [c.sha for c in pull.get_commits()] == [c.sha for c in pr.commits]
        assert [(f.filename, f.patch) for f in pull.get_files()] == [(f.filename, f.patch) for f in pr.files]
        assert [r.id for r in pull.get_reviews()] == [r.id for r in pr.reviews]
        assert [c.id for c in pull.get_review_comments()] == [c.id for c in pr.review_comments]
        assert [c.id for c in pull.get_issue_comments()] == [c.id for c in pr.issue_comments]
