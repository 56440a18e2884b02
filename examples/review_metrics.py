"""A stand-in for the code under test: review analytics over pull requests.

In a real project this is your application (a metrics service, a bot); the example tests in this folder
feed it real pull requests recorded by pytest-ghseed and generated ones from its factories.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from statistics import median

from pytest_ghseed.models import PullRequest


def time_to_merge(pr: PullRequest) -> timedelta | None:
    """How long a merged pull request stayed open; None when it was not merged."""
    if not pr.merged or pr.merged_at is None:
        return None
    return pr.merged_at - pr.created_at


def time_to_first_review(pr: PullRequest) -> timedelta | None:
    """From opening to the first submitted review by someone other than the author."""
    author = pr.user.login if pr.user else None
    times = [
        review.submitted_at
        for review in pr.reviews
        if review.submitted_at is not None and (review.user is None or review.user.login != author)
    ]
    return min(times) - pr.created_at if times else None


def merge_rate(prs: list[PullRequest]) -> float:
    """Share of closed pull requests that were merged."""
    closed = [pr for pr in prs if pr.state == "closed"]
    return sum(pr.merged for pr in closed) / len(closed) if closed else 0.0


def median_hours_to_merge(prs: list[PullRequest]) -> float | None:
    """Median time to merge, in hours, over the merged pull requests."""
    hours = [delta.total_seconds() / 3600 for pr in prs if (delta := time_to_merge(pr)) is not None]
    return median(hours) if hours else None


def top_reviewers(prs: list[PullRequest], n: int = 3) -> list[tuple[str, int]]:
    """The people who reviewed the most pull requests."""
    counts: Counter[str] = Counter(login for pr in prs for login in pr.reviewers)
    return counts.most_common(n)
