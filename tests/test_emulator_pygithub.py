"""PyGithub, the product's real client, against the emulator: data, pagination, caps and errors."""

from __future__ import annotations

from collections.abc import Iterator

import github
import pytest
from github import Auth, Github

from pytest_ghseed.emulator import Emulator, start
from pytest_ghseed.models import PullRequest
from tests.helpers import EMULATOR_REPO as REPO
from tests.helpers import small_config


def client(emu: Emulator, token: str = "tok-a", base_url: str | None = None) -> Github:
    """A PyGithub client that neither retries nor throttles, so every response reaches the test."""
    return Github(
        auth=Auth.Token(token), base_url=base_url or emu.base_url, retry=None, seconds_between_requests=None
    )


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """A 40-pull emulator with the extreme pulls (two list pages at PyGithub's default 30)."""
    with start(small_config(40, extremes=True)) as emulator:
        yield emulator


def fetch(gh: Github, number: int) -> PullRequest:
    """Everything about one pull, the way a fetcher collects it, as a model."""
    pull = gh.get_repo(REPO).get_pull(number)
    # ``_rawData``, not ``raw_data``: on a list item the latter costs a hidden GET to complete it.
    commits = [c._rawData for c in pull.get_commits()]
    files = [f._rawData for f in pull.get_files()]
    return PullRequest.from_github(
        pull.raw_data,
        reviews=[r._rawData for r in pull.get_reviews()],
        commits=commits,
        files=files,
        review_comments=[c._rawData for c in pull.get_review_comments()],
        issue_comments=[c._rawData for c in pull.get_issue_comments()],
        commits_truncated=len(commits) < pull.commits,
        files_truncated=len(files) < pull.changed_files,
    )


def test_list_pulls_over_several_pages(emu: Emulator) -> None:
    """Listing all pulls follows Link over two pages and yields exactly the truth's numbers."""
    emu.reset_stats()
    numbers = [p.number for p in client(emu).get_repo(REPO).get_pulls(state="all", sort="created")]
    assert sorted(numbers) == [pr.number for pr in emu.truth(REPO)]
    assert emu.stats.requests_by_path(f"/repos/{REPO}/pulls?") == 2


@pytest.mark.parametrize("number", [1, 2, 3, 7, 11, 17])
def test_pull_and_sub_lists_equal_truth(emu: Emulator, number: int) -> None:
    """Detail, reviews, commits, files and both comment lists fetched by PyGithub equal the truth."""
    assert fetch(client(emu), number) == emu.truth(REPO)[number - 1]


def test_commits_cap_at_250(emu: Emulator) -> None:
    """A 300-commit pull yields 250 commits through PyGithub while the detail says 300."""
    pull = client(emu).get_repo(REPO).get_pull(11)
    assert (pull.commits, pull.get_commits().totalCount, len(list(pull.get_commits()))) == (300, 250, 250)


def test_files_cap_at_3000(emu: Emulator) -> None:
    """A 3,100-file pull yields 3,000 files through PyGithub, matching the truncated truth."""
    assert fetch(client(emu), 13) == emu.truth(REPO)[12]
    assert len(emu.truth(REPO)[12].files) == 3000


def test_primary_limit_raises_rate_limit_exceeded() -> None:
    """An exhausted budget raises RateLimitExceededException with remaining 0."""
    with start(small_config(primary_limit=2)) as emu:
        repo = client(emu).get_repo(REPO)
        repo.get_pull(1)
        with pytest.raises(github.RateLimitExceededException) as caught:
            repo.get_pull(2)
        assert caught.value.status == 403
        assert caught.value.headers is not None
        assert caught.value.headers["x-ratelimit-remaining"] == "0"


def test_secondary_limit_with_retry_after() -> None:
    """An injected secondary limit reaches PyGithub as a 403 with a Retry-After header."""
    with start(small_config(secondary_block_seconds=3.0)) as emu:
        repo = client(emu).get_repo(REPO)
        emu.inject_secondary(count=1, user="alice")
        with pytest.raises(github.GithubException) as caught:
            repo.get_pull(1)
        assert caught.value.status == 403
        assert caught.value.headers is not None
        assert caught.value.headers["retry-after"] == "3"
        assert "secondary rate limit" in caught.value.data["message"]


def test_not_modified_costs_no_quota() -> None:
    """requestJsonAndCheck with If-None-Match gets a 304 that leaves the quota untouched."""
    with start(small_config()) as emu:
        requester = client(emu).requester
        headers, _ = requester.requestJsonAndCheck("GET", f"/repos/{REPO}/pulls/1")
        again, body = requester.requestJsonAndCheck(
            "GET", f"/repos/{REPO}/pulls/1", headers={"If-None-Match": headers["etag"]}
        )
        assert emu.stats.log[-1].status == 304
        assert body is None
        assert again["x-ratelimit-used"] == headers["x-ratelimit-used"] == "1"


def test_bad_token_raises_bad_credentials(emu: Emulator) -> None:
    """An unknown token raises BadCredentialsException."""
    with pytest.raises(github.BadCredentialsException):
        client(emu, token="wrong").get_repo(REPO)


def test_enterprise_prefix_works_with_pygithub(emu: Emulator) -> None:
    """PyGithub with the /api/v3 base URL lists and fetches like on the GitHub.com layout."""
    gh = client(emu, base_url=emu.enterprise_url)
    assert gh.get_user().login == "alice"
    assert len(list(gh.get_repo(REPO).get_pulls(state="all"))) == 40
    assert fetch(gh, 3) == emu.truth(REPO)[2]
