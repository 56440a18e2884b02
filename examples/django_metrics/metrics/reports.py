"""The metrics the app shows, computed by the database from the seeded rows."""

from __future__ import annotations

import statistics
from datetime import timedelta

from django.db.models import DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery

from metrics.models import PullRequest, Review


def median_time_to_first_review(repository: str | None = None) -> timedelta | None:
    """Median time from opening a pull request to its first submitted review by someone else.

    A review by a deleted account counts (it was someone); pull requests never reviewed are left out.
    """
    by_others = Review.objects.filter(pull_request=OuterRef("pk"), submitted_at__isnull=False).filter(
        Q(reviewer__isnull=True)
        | Q(pull_request__author__isnull=True)
        | ~Q(reviewer=F("pull_request__author"))
    )
    first = Subquery(by_others.order_by("submitted_at").values("submitted_at")[:1])
    pulls = (
        PullRequest.objects.all() if repository is None else PullRequest.objects.filter(repository=repository)
    )
    waits = list(
        pulls.annotate(first_review=first)
        .filter(first_review__isnull=False)
        .annotate(wait=ExpressionWrapper(F("first_review") - F("created_at"), output_field=DurationField()))
        .values_list("wait", flat=True)
    )
    return statistics.median(waits) if waits else None
