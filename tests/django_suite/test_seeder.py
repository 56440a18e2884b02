"""The seeder interface on a real database: idempotent by key, one transaction per project, dry runs."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from conftest import expected_counts, make_snapshot, row_counts
from django.db import models
from metrics.models import Comment, Commit, FileChange, PullRequest, Review, TeamMember
from metrics.seeders import MetricsSeeder

from pytest_ghseed.contrib.django.seeder import (
    ModelCount,
    RealProjectSeeder,
    Row,
    SeedContext,
    SeederError,
    load_seeder,
    seed_snapshot,
)
from pytest_ghseed.models import FileChange as GhFileChange
from pytest_ghseed.models import PullRequest as GhPullRequest
from pytest_ghseed.models import Snapshot

ZERO = expected_counts()  # of no snapshot: every count 0


@pytest.mark.django_db
def test_seeding_twice_leaves_the_same_rows_and_changes_nothing(snapshot: Snapshot) -> None:
    """The second run of the same snapshot creates and updates nothing: every row is matched by its key."""
    first = seed_snapshot(MetricsSeeder(), "widgets", snapshot)
    assert row_counts() == expected_counts(snapshot)
    assert first.counts["metrics.PullRequest"] == ModelCount(created=12)
    second = seed_snapshot(MetricsSeeder(), "widgets", snapshot)
    assert row_counts() == expected_counts(snapshot)
    assert {c.created + c.updated for c in second.counts.values()} == {0}
    assert {label: c.unchanged for label, c in second.counts.items()} == {
        label: c.created for label, c in first.counts.items()
    }


@pytest.mark.django_db
def test_a_changed_pull_request_is_updated_in_place(snapshot: Snapshot) -> None:
    """A PR whose title changed since the last seeding is updated, not duplicated; the others stay as they are."""
    seed_snapshot(MetricsSeeder(), "widgets", snapshot)
    renamed = dataclasses.replace(snapshot.prs[3], title="Renamed since")
    changed = dataclasses.replace(snapshot, prs=(*snapshot.prs[:3], renamed, *snapshot.prs[4:]))
    report = seed_snapshot(MetricsSeeder(), "widgets", changed)
    assert report.counts["metrics.PullRequest"] == ModelCount(created=0, updated=1, unchanged=11)
    assert PullRequest.objects.get(github_id=renamed.id).title == "Renamed since"
    assert row_counts() == expected_counts(snapshot)


@pytest.mark.django_db
def test_rows_are_linked_to_their_pull_request_and_people(snapshot: Snapshot) -> None:
    """Foreign keys point at the right rows: reviews at their PR, authors and reviewers at team members."""
    seed_snapshot(MetricsSeeder(), "widgets", snapshot)
    for pr in snapshot.prs:
        row = PullRequest.objects.get(github_id=pr.id)
        assert (row.author.login if row.author else None) == (pr.user.login if pr.user else None)
        assert sorted(row.reviews.values_list("github_id", flat=True)) == sorted(r.id for r in pr.reviews)
        assert sorted(row.files.values_list("path", flat=True)) == sorted(f.filename for f in pr.files)
        assert sorted(row.commits.values_list("sha", flat=True)) == sorted(c.sha for c in pr.commits)
        for review in pr.reviews:
            reviewer = Review.objects.get(github_id=review.id).reviewer
            assert (reviewer.github_id if reviewer else None) == (review.user.id if review.user else None)
    linked = Commit.objects.filter(author__isnull=False).count()
    assert linked == sum(
        1
        for pr in snapshot.prs
        for c in pr.commits
        if c.author_login in TeamMember.objects.values_list("login", flat=True)
    )


@pytest.mark.django_db
def test_dry_run_writes_nothing_and_counts_what_a_real_run_does(snapshot: Snapshot) -> None:
    """A dry run leaves the database empty and predicts the real run's counts exactly, before and after it."""
    dry = seed_snapshot(MetricsSeeder(), "widgets", snapshot, dry_run=True)
    assert row_counts() == ZERO
    real = seed_snapshot(MetricsSeeder(), "widgets", snapshot)
    assert dry.counts == real.counts
    assert dry.lines()[0].endswith("would create, 0 would update, 0 unchanged")
    again = seed_snapshot(MetricsSeeder(), "widgets", snapshot, dry_run=True)
    assert {c.created + c.updated for c in again.counts.values()} == {0}


@pytest.mark.django_db
def test_two_projects_share_team_members(snapshot: Snapshot) -> None:
    """A person active in two repositories is one team member; each project's rows are its own."""
    other = make_snapshot("acme/gadgets", n_prs=7, seed=9)
    seed_snapshot(MetricsSeeder(), "widgets", snapshot)
    seed_snapshot(MetricsSeeder(), "gadgets", other)
    assert row_counts() == expected_counts(snapshot, other)
    assert PullRequest.objects.filter(repository="acme/gadgets").count() == 7


class FailsOnTheFifthPull(MetricsSeeder):
    """Fails after members, pull requests, reviews and commits are written: in the middle of a project."""

    def file_change(self, change: GhFileChange, pull: models.Model, ctx: SeedContext) -> Row:
        if pull.number == ctx.snapshot.prs[4].number:
            msg = "the disk is full"
            raise OSError(msg)
        return super().file_change(change, pull, ctx)


@pytest.mark.django_db(transaction=True)
def test_a_failure_rolls_the_whole_project_back(snapshot: Snapshot) -> None:
    """An error halfway through a project leaves none of its rows; a project seeded before it stays whole."""
    other = make_snapshot("acme/gadgets", n_prs=7, seed=9)
    seed_snapshot(MetricsSeeder(), "gadgets", other)
    with pytest.raises(OSError, match="the disk is full"):
        seed_snapshot(FailsOnTheFifthPull(), "widgets", snapshot)
    assert row_counts() == expected_counts(other)
    assert not PullRequest.objects.filter(repository="acme/widgets").exists()


class Mistaken(RealProjectSeeder):
    """A seeder whose pull_request method returns what the test puts in ``make``."""

    def __init__(self, make: Any) -> None:
        self.make = make

    def pull_request(self, pr: GhPullRequest, ctx: SeedContext) -> Any:
        return self.make(pr)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda pr: pr.number, "must return a Row or None, got 1"),
        (lambda pr: Row(PullRequest, key={}), "has an empty key"),
        (lambda pr: Row(PullRequest, key={"gh_id": pr.id}), "metrics.PullRequest has no field 'gh_id'"),
        (
            lambda pr: Row(PullRequest, key={"reviews": pr.id}),
            "the key field 'reviews' of metrics.PullRequest",
        ),
        (
            lambda pr: Row(PullRequest, key={"github_id": pr.id}, values={"github_id": 1}),
            "names ['github_id'] in both key and values",
        ),
        (
            lambda pr: Row(PullRequest, key={"github_id" if pr.number % 2 else "number": pr.id}),
            "must have the same key and value fields",
        ),
    ],
    ids=["not-a-row", "empty-key", "unknown-field", "reverse-relation", "key-in-values", "mixed-keys"],
)
@pytest.mark.django_db
def test_seeder_mistakes_are_clear_errors_and_write_nothing(
    snapshot: Snapshot, make: Any, message: str
) -> None:
    """A seeder returning a bad Row gets a SeederError naming the model and the field, and nothing is written."""
    with pytest.raises(SeederError, match=re.escape(message)):
        seed_snapshot(Mistaken(make), "widgets", snapshot)
    assert row_counts() == ZERO


def test_load_seeder_accepts_paths_classes_and_instances_and_explains_the_rest() -> None:
    """A seeder may be named by dotted path, class or instance; anything else is a SeederError saying what fits."""
    assert isinstance(load_seeder("metrics.seeders.MetricsSeeder"), MetricsSeeder)
    assert isinstance(load_seeder(MetricsSeeder), MetricsSeeder)
    instance = MetricsSeeder()
    assert load_seeder(instance) is instance
    with pytest.raises(SeederError, match=re.escape("cannot import the seeder 'metrics.seeders.Nope'")):
        load_seeder("metrics.seeders.Nope")
    with pytest.raises(SeederError, match="is not a RealProjectSeeder"):
        load_seeder("metrics.models.Review")
    with pytest.raises(SeederError, match="cannot create the seeder RealProjectSeeder"):
        load_seeder(RealProjectSeeder)


@pytest.mark.django_db
def test_items_a_seeder_skips_are_not_stored(snapshot: Snapshot) -> None:
    """Returning None skips an item: bots' pull requests left out leave out their reviews and files too."""

    class HumansOnly(MetricsSeeder):
        def pull_request(self, pr: GhPullRequest, ctx: SeedContext) -> Row | None:
            return None if pr.user is not None and pr.user.is_bot else super().pull_request(pr, ctx)

    seed_snapshot(HumansOnly(), "widgets", snapshot)
    humans = [pr for pr in snapshot.prs if not (pr.user is not None and pr.user.is_bot)]
    assert len(humans) < len(snapshot.prs), "the synthetic project should have bot pull requests"
    assert PullRequest.objects.count() == len(humans)
    assert FileChange.objects.count() == sum(len(pr.files) for pr in humans)
    assert Comment.objects.count() == sum(len(pr.review_comments) + len(pr.issue_comments) for pr in humans)
