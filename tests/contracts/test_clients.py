"""Real third-party clients read the emulator and ``ghseed serve`` with a random token: githubkit (typed,
validated by pydantic against GitHub's description) and ghapi, paginating every list; their results
equal the snapshot (serve) and the emulator's truth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_ghseed.emulator import Emulator
from pytest_ghseed.models import PullRequest
from tests.contracts.conftest import REPO, Served, random_token

pytestmark = pytest.mark.slow
OWNER, NAME = REPO.split("/")
PER_PAGE = 4  # small pages: the PR list and the longer sub-lists span several

View = dict[int, dict[str, Any]]


def view_of_models(prs: list[PullRequest] | tuple[PullRequest, ...]) -> View:
    """What the tests compare, from our models."""
    return {
        pr.number: {
            "title": pr.title,
            "state": pr.state,
            "user": pr.user.login if pr.user else None,
            "additions": pr.additions,
            "reviews": [(r.id, r.state) for r in pr.reviews],
            "commits": [c.sha for c in pr.commits],
            "files": [(f.filename, f.additions, f.deletions) for f in pr.files],
            "review_comments": [c.id for c in pr.review_comments],
            "issue_comments": [c.id for c in pr.issue_comments],
        }
        for pr in prs
    }


@pytest.fixture(scope="module")
def emulator_with_random_token(emulator: Emulator) -> Iterator[tuple[str, str]]:
    """The module's emulator and a random token it was just told about (it refuses unknown ones)."""
    token = random_token()
    emulator.add_token(token, "carol")
    yield emulator.base_url, token
    emulator.revoke_token(token)


def _targets(request: pytest.FixtureRequest) -> tuple[str, str, View]:
    if request.param == "serve":
        served: Served = request.getfixturevalue("served")
        return served.server.base_url, random_token(), view_of_models(served.snapshot.prs)
    base_url, token = request.getfixturevalue("emulator_with_random_token")
    emulator: Emulator = request.getfixturevalue("emulator")
    return base_url, token, view_of_models(emulator.truth(REPO))


@pytest.fixture(params=["serve", "emulator"])
def target(request: pytest.FixtureRequest) -> tuple[str, str, View]:
    """(base URL, random token, expected view) of ``ghseed serve`` and of the emulator."""
    return _targets(request)


def test_githubkit_reads_everything_equal_to_the_snapshot(target: tuple[str, str, View]) -> None:
    """githubkit: rest.paginate(pulls.list), repos.get, pulls.get, issues.get, users and every sub-list."""
    from githubkit import GitHub, TokenAuthStrategy

    base_url, token, expected = target
    with GitHub(TokenAuthStrategy(token), base_url=base_url) as gh:
        rest = gh.rest
        repository = rest.repos.get(OWNER, NAME).parsed_data
        assert repository.full_name == REPO and repository.network_count >= 0
        listed = list(rest.paginate(rest.pulls.list, owner=OWNER, repo=NAME, state="all", per_page=PER_PAGE))
        assert len(listed) == len(expected) > PER_PAGE

        def every(method: Callable[..., Any], **number: int) -> list[Any]:
            return list(rest.paginate(method, owner=OWNER, repo=NAME, per_page=PER_PAGE, **number))

        got: View = {}
        for item in listed:
            n = item.number
            pull = rest.pulls.get(OWNER, NAME, n).parsed_data
            assert rest.issues.get(OWNER, NAME, n).parsed_data.number == n
            got[n] = {
                "title": pull.title,
                "state": pull.state,
                "user": pull.user.login if pull.user else None,
                "additions": pull.additions,
                "reviews": [(r.id, r.state) for r in every(rest.pulls.list_reviews, pull_number=n)],
                "commits": [c.sha for c in every(rest.pulls.list_commits, pull_number=n)],
                "files": [
                    (f.filename, f.additions, f.deletions)
                    for f in every(rest.pulls.list_files, pull_number=n)
                ],
                "review_comments": [c.id for c in every(rest.pulls.list_review_comments, pull_number=n)],
                "issue_comments": [c.id for c in every(rest.issues.list_comments, issue_number=n)],
            }
        author = next(item.user.login for item in listed if item.user)
        assert rest.users.get_by_username(author).parsed_data.login == author
        assert rest.rate_limit.get().parsed_data.resources.core.limit > 0
    assert got == expected


def test_ghapi_reads_everything_equal_to_the_snapshot(target: tuple[str, str, View]) -> None:
    """ghapi (sync client, page by page until an empty page; Link's last page read too)."""
    from ghapi.all import GhApi, sync_paged

    base_url, token, expected = target
    api = GhApi(owner=OWNER, repo=NAME, token=token, gh_host=base_url, sync=True)
    # ghapi's transport opens a new HTTP client per request unless given one (its ``client``
    # parameter), and each new client loads the CA bundle (~0.1 s): one client for the whole test.
    import httpx2

    api.transport.client = httpx2.Client(timeout=30)
    assert api.repos.get().full_name == REPO
    first = api.pulls.list(state="all", per_page=PER_PAGE)
    assert api.last_page() == -(-len(expected) // PER_PAGE), "ghapi reads the last page from Link"
    assert len(first) == PER_PAGE

    def every(method: Callable[..., Any], *args: Any, per_page: int = PER_PAGE, **kwargs: Any) -> list[Any]:
        return [item for page in sync_paged(method, *args, per_page=per_page, **kwargs) for item in page]

    listed = every(api.pulls.list, state="all", per_page=PER_PAGE)
    assert sorted(item.number for item in listed) == sorted(expected)
    got: View = {}
    for n in sorted(expected):
        pull = api.pulls.get(n)
        assert api.issues.get(n).number == n
        got[n] = {
            "title": pull.title,
            "state": pull.state,
            "user": pull.user.login if pull.user else None,
            "additions": pull.additions,
            "reviews": [(r.id, r.state) for r in every(api.pulls.list_reviews, n)],
            "commits": [c.sha for c in every(api.pulls.list_commits, n)],
            "files": [(f.filename, f.additions, f.deletions) for f in every(api.pulls.list_files, n)],
            "review_comments": [c.id for c in every(api.pulls.list_review_comments, n)],
            "issue_comments": [c.id for c in every(api.issues.list_comments, n)],
        }
    assert got == expected
    api.transport.client.close()
