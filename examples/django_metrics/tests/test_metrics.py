"""The seeded database against the snapshot it was seeded from: row counts and a metric."""

from __future__ import annotations

import statistics
from datetime import timedelta

import pytest
from metrics.models import Comment, Commit, FileChange, PullRequest, Review, TeamMember
from metrics.reports import median_time_to_first_review

from pytest_ghseed.models import Snapshot

pytestmark = pytest.mark.django_db


def first_review_waits(snapshot: Snapshot) -> list[timedelta]:
    """Time from opening to the first submitted review by someone else, per reviewed PR, from the models."""
    waits = []
    for pr in snapshot.prs:
        by_others = [
            review.submitted_at
            for review in pr.reviews
            if review.submitted_at is not None
            and (review.user is None or pr.user is None or review.user.id != pr.user.id)
        ]
        if by_others:
            waits.append(min(by_others) - pr.created_at)
    return waits


def test_row_counts_equal_the_snapshot(ghseed_snapshot: Snapshot) -> None:
    """Every pull request, review, commit, file, comment and person of the snapshot is one row."""
    prs = ghseed_snapshot.prs
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
    assert len(prs) == 60
    assert PullRequest.objects.count() == len(prs)
    assert Review.objects.count() == sum(len(pr.reviews) for pr in prs)
    assert Commit.objects.count() == sum(len(pr.commits) for pr in prs)
    assert FileChange.objects.count() == sum(len(pr.files) for pr in prs)
    assert Comment.objects.filter(kind=Comment.REVIEW).count() == sum(len(pr.review_comments) for pr in prs)
    assert Comment.objects.filter(kind=Comment.ISSUE).count() == sum(len(pr.issue_comments) for pr in prs)
    assert TeamMember.objects.count() == len(people)


def test_median_time_to_first_review_matches_the_snapshot(ghseed_snapshot: Snapshot) -> None:
    """The database's median time to first review equals the one computed from the snapshot directly."""
    waits = first_review_waits(ghseed_snapshot)
    assert len(waits) >= 10, "the demo should have reviewed pull requests"
    expected = statistics.median(waits)
    assert median_time_to_first_review() == expected
    assert median_time_to_first_review(ghseed_snapshot.repository.full_name) == expected
    assert median_time_to_first_review("someone/else") is None


def test_a_test_changes_the_data_and_the_next_sees_it_whole(ghseed_snapshot: Snapshot) -> None:
    """A test may delete seeded rows: pytest-django rolls its transaction back, so no other test sees that."""
    PullRequest.objects.all().delete()
    assert Review.objects.count() == 0  # gone with their pull requests (CASCADE)


def test_the_seeded_rows_are_back_after_the_deleting_test(ghseed_snapshot: Snapshot) -> None:
    """Runs after the deleting test (file order): the session's seeded rows are all there again."""
    assert PullRequest.objects.count() == len(ghseed_snapshot.prs)
    author = PullRequest.objects.select_related("author").get(number=ghseed_snapshot.prs[0].number).author
    expected = ghseed_snapshot.prs[0].user
    assert (author.login if author else None) == (expected.login if expected else None)
