"""Comments through the repository-wide lists: pages by number, in the worker pool beside the pull
requests, within the same page budget, with a fallback to each PR's own lists when a list fails."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from pytest_ghseed.checkpoint import Checkpoint
from pytest_ghseed.errors import FetchError
from pytest_ghseed.fetch.choose import fetch_with
from pytest_ghseed.fetch.client import GitHubClient, Response
from pytest_ghseed.fetch.fetcher import Fetcher
from pytest_ghseed.fetch.probe import probe_tokens
from pytest_ghseed.fetch.tokens import TokenPool
from pytest_ghseed.models import FetchParams
from pytest_ghseed.secrets import Token
from tests.helpers import REPO, TOKENS
from tests.test_fetch import assert_same_prs

ALL = FetchParams(max_prs=None)
_PAGE = re.compile(r"[?&]page=(\d+)")


def comment_pages(emu: Any) -> list[tuple[float, str, int]]:
    """(arrival, list, page) of every request to a repository-wide comment list."""
    found = []
    for record in emu.stats.log:
        match = re.search(r"/(pulls|issues)/comments\b", record.path)
        if match and not re.search(r"/(pulls|issues)/\d+/", record.path):
            page = _PAGE.search(record.path)
            found.append((record.time, match.group(1), int(page.group(1)) if page else 1))
    return found


@pytest.mark.slow
def test_comment_pages_are_fetched_by_number_beside_the_pull_requests(
    emulator_factory: Any, tmp_path: Path
) -> None:
    """Pages 2..last go out at once with the PR workers (not one after another before them); data is exact."""
    latency = 0.1
    emu = emulator_factory(n_prs=60, extremes=True, latency_seconds=latency)
    result = fetch_with(
        "rest", REPO, ALL, checkpoint_path=tmp_path / "cp.json", base_url=emu.base_url, tokens=list(TOKENS)
    )
    assert_same_prs(result.prs, emu.truth(REPO))
    pages = comment_pages(emu)
    issue_pages = sorted(page for _, kind, page in pages if kind == "issues")
    assert issue_pages == list(range(1, max(issue_pages) + 1)) and max(issue_pages) >= 3, (
        "several pages, each once"
    )
    last_page = max(time for time, _, page in pages if page > 1)
    details = [r.time for r in emu.stats.log if re.fullmatch(rf"/repos/{REPO}/pulls/\d+", r.path)]
    # One after another, the first detail would wait for the last page's answer (one latency at least).
    assert min(details) < last_page + latency / 2
    # No PR asked for its own comments: every count matched what the lists held.
    assert not [r for r in emu.stats.log if re.search(r"/(pulls|issues)/\d+/comments", r.path)]


def test_a_list_of_more_pages_than_half_the_prs_stops_at_its_first_page(
    emulator_factory: Any, tmp_path: Path
) -> None:
    """Two planned PRs allow one page: a longer list is dropped after page 1 and the PRs ask their own."""
    emu = emulator_factory(n_prs=60, extremes=True)
    params = FetchParams(max_prs=2, order="oldest")
    result = fetch_with(
        "rest", REPO, params, checkpoint_path=tmp_path / "cp.json", base_url=emu.base_url, tokens=list(TOKENS)
    )
    truth = [pr for pr in emu.truth(REPO) if pr.number in {pr.number for pr in result.prs}]
    assert_same_prs(result.prs, truth)
    assert [page for _, kind, page in comment_pages(emu) if kind == "issues"] == [1]


class FailingPages(GitHubClient):
    """The real client, except that page 2 of a repository-wide comment list fails for good."""

    def get(self, url: str, params: Any = None, *, etag: str | None = None) -> Response:
        if re.search(r"/(pulls|issues)/comments\?.*\bpage=2\b", url):
            msg = "GET page 2 failed (HTTP 502): retries exhausted"
            raise FetchError(msg)
        return super().get(url, params, etag=etag)


@pytest.mark.slow
def test_a_failing_page_drops_its_list_and_every_pr_reads_its_own_comments(
    emulator_factory: Any, tmp_path: Path
) -> None:
    """A list page that cannot be read is no failed crawl: the PRs fall back to their own comment lists."""
    emu = emulator_factory(n_prs=60, extremes=True)
    pool = TokenPool(probe_tokens(emu.base_url, Token.wrap_all(TOKENS)).probes)
    client = FailingPages(emu.base_url, pool)
    checkpoint = Checkpoint.open(tmp_path / "cp.json", repo=REPO, params=ALL.to_dict())
    notes: list[str] = []
    fetcher = Fetcher(client, REPO, ALL, checkpoint=checkpoint, on_event=lambda e: notes.append(e.message))
    result = fetcher.run()
    assert_same_prs(result.prs, emu.truth(REPO))
    assert any("failed" in note and "reading each PR's own" in note for note in notes)
    assert [r for r in emu.stats.log if re.search(r"/issues/\d+/comments", r.path)], "per-PR fallback used"
