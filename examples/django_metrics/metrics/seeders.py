"""How this app stores pytest-ghseed's pull requests: one method per kind of thing, one Row each."""

from __future__ import annotations

from django.db import models

from metrics.models import Comment, Commit, FileChange, PullRequest, Review, TeamMember
from pytest_ghseed.contrib.django.seeder import RealProjectSeeder, Row, SeedContext
from pytest_ghseed.models import Commit as GhCommit
from pytest_ghseed.models import FileChange as GhFileChange
from pytest_ghseed.models import IssueComment as GhIssueComment
from pytest_ghseed.models import PullRequest as GhPullRequest
from pytest_ghseed.models import Review as GhReview
from pytest_ghseed.models import ReviewComment as GhReviewComment
from pytest_ghseed.models import User


class MetricsSeeder(RealProjectSeeder):
    """Maps every pull request, review, commit, changed file and comment onto the metrics models."""

    def team_member(self, user: User, ctx: SeedContext) -> Row:
        return Row(
            TeamMember, key={"github_id": user.id}, values={"login": user.login, "is_bot": user.is_bot}
        )

    def pull_request(self, pr: GhPullRequest, ctx: SeedContext) -> Row:
        return Row(
            PullRequest,
            key={"github_id": pr.id},
            values={
                "repository": ctx.repository.full_name,
                "number": pr.number,
                "title": pr.title,
                "author": ctx.member(pr.user),
                "state": pr.state,
                "draft": pr.draft,
                "merged": pr.merged,
                "created_at": pr.created_at,
                "merged_at": pr.merged_at,
                "closed_at": pr.closed_at,
                "additions": pr.additions,
                "deletions": pr.deletions,
            },
        )

    def review(self, review: GhReview, pull: models.Model, ctx: SeedContext) -> Row:
        return Row(
            Review,
            key={"github_id": review.id},
            values={
                "pull_request": pull,
                "reviewer": ctx.member(review.user),
                "state": review.state,
                "submitted_at": review.submitted_at,
            },
        )

    def commit(self, commit: GhCommit, pull: models.Model, ctx: SeedContext) -> Row:
        return Row(
            Commit,
            key={"pull_request": pull, "sha": commit.sha},
            values={
                "author": ctx.member_by_login(commit.author_login),
                "author_name": commit.author_name or "",
                "authored_at": commit.authored_at,
            },
        )

    def file_change(self, change: GhFileChange, pull: models.Model, ctx: SeedContext) -> Row:
        return Row(
            FileChange,
            key={"pull_request": pull, "path": change.filename},
            values={"status": change.status, "additions": change.additions, "deletions": change.deletions},
        )

    def review_comment(self, comment: GhReviewComment, pull: models.Model, ctx: SeedContext) -> Row:
        return self._comment(Comment.REVIEW, comment, pull, ctx)

    def issue_comment(self, comment: GhIssueComment, pull: models.Model, ctx: SeedContext) -> Row:
        return self._comment(Comment.ISSUE, comment, pull, ctx)

    def _comment(
        self, kind: str, comment: GhReviewComment | GhIssueComment, pull: models.Model, ctx: SeedContext
    ) -> Row:
        return Row(
            Comment,
            key={"kind": kind, "github_id": comment.id},
            values={
                "pull_request": pull,
                "author": ctx.member(comment.user),
                "body": comment.body,
                "created_at": comment.created_at,
            },
        )
