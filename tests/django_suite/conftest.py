"""Snapshots and helpers for the Django integration's tests (the models are the example app's)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from metrics.models import Comment, Commit, FileChange, PullRequest, Review, TeamMember

from pytest_ghseed.emulator.synthetic import ProjectSpec, SyntheticProject
from pytest_ghseed.models import Repository, Snapshot

MODELS = (TeamMember, PullRequest, Review, Commit, FileChange, Comment)


def make_snapshot(full_name: str = "acme/widgets", n_prs: int = 12, seed: int = 5) -> Snapshot:
    """A snapshot of a synthetic project, as a fetch of the emulator would record it."""
    truth = SyntheticProject(ProjectSpec(full_name, n_prs=n_prs, seed=seed, extremes=False)).truth()
    return Snapshot(
        repository=Repository(full_name=full_name, id=seed),
        recorded_at=datetime(2025, 1, 1, tzinfo=UTC),
        prs=tuple(truth),
    )


def row_counts() -> dict[str, int]:
    """Rows per model in the database now."""
    return {model.__name__: model.objects.count() for model in MODELS}


def expected_counts(*snapshots: Snapshot) -> dict[str, int]:
    """Rows per model that seeding ``snapshots`` with MetricsSeeder must leave, computed from the models."""
    prs = [pr for snapshot in snapshots for pr in snapshot.prs]
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
    return {
        "TeamMember": len(people),
        "PullRequest": len(prs),
        "Review": sum(len(pr.reviews) for pr in prs),
        "Commit": sum(len(pr.commits) for pr in prs),
        "FileChange": sum(len(pr.files) for pr in prs),
        "Comment": sum(len(pr.review_comments) + len(pr.issue_comments) for pr in prs),
    }


@pytest.fixture(scope="session")
def snapshot() -> Snapshot:
    """Twelve pull requests of acme/widgets."""
    return make_snapshot()
