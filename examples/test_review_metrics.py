"""Example suite: run with `pytest examples --ghseed-project=demo` (see the README's first command)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from review_metrics import (
    median_hours_to_merge,
    merge_rate,
    time_to_first_review,
    time_to_merge,
    top_reviewers,
)

from pytest_ghseed.models import PullRequest


def test_metrics_hold_on_every_real_pull_request(real_prs: list[PullRequest]) -> None:
    """Real data: time to merge and to first review are never negative, whatever GitHub recorded."""
    assert real_prs, "the demo project records pull requests"
    for pr in real_prs:
        merged_after = time_to_merge(pr)
        assert merged_after is None or merged_after >= timedelta(0)
        first_review = time_to_first_review(pr)
        assert first_review is None or first_review >= timedelta(0)
    assert 0.0 <= merge_rate(real_prs) <= 1.0
    assert top_reviewers(real_prs)


@pytest.mark.parametrize("real_pr", range(5), indirect=True)
def test_each_of_the_first_five_real_prs(real_pr: PullRequest) -> None:
    """One test per real pull request: the counters GitHub reports agree with the lists we fetched."""
    assert real_pr.review_comments_count == len(real_pr.review_comments)
    assert real_pr.comments_count == len(real_pr.issue_comments)
    assert real_pr.commits_count == len(real_pr.commits) or real_pr.commits_truncated


@pytest.mark.ghseed(state="closed", max_prs=10)
def test_closed_pull_requests_only(real_prs: list[PullRequest]) -> None:
    """The marker selects other data for one test: here the 10 most recent closed pull requests."""
    assert len(real_prs) == 10
    assert all(pr.state == "closed" for pr in real_prs)


def test_factory_seeded_from_the_real_data(real_prs: list[PullRequest], real_pr_factory) -> None:
    """Fifty more merged pull requests like the real ones: the metric stays sane and authors are real people."""
    batch = real_pr_factory.build_batch(50, merged=True)
    assert all(pr.merged for pr in batch)
    assert median_hours_to_merge(batch) is not None
    real_authors = {pr.user.login for pr in real_prs if pr.user}
    assert {pr.user.login for pr in batch if pr.user} <= real_authors
