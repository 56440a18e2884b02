"""The app's own models: what an engineering-metrics product stores about a repository's work."""

from __future__ import annotations

from django.db import models


class TeamMember(models.Model):
    """A person (or bot) who authors, reviews, commits or comments."""

    github_id = models.BigIntegerField(unique=True)
    login = models.CharField(max_length=100, db_index=True)
    is_bot = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.login


class PullRequest(models.Model):
    github_id = models.BigIntegerField(unique=True)
    repository = models.CharField(max_length=200)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=1024)
    # A deleted GitHub account leaves no author: the pull request stays.
    author = models.ForeignKey(TeamMember, null=True, on_delete=models.SET_NULL, related_name="pull_requests")
    state = models.CharField(max_length=10)
    draft = models.BooleanField(default=False)
    merged = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    merged_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)
    additions = models.PositiveIntegerField(default=0)
    deletions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "number"], name="pull_request_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.repository}#{self.number}"


class Review(models.Model):
    github_id = models.BigIntegerField(unique=True)
    pull_request = models.ForeignKey(PullRequest, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(TeamMember, null=True, on_delete=models.SET_NULL, related_name="reviews")
    state = models.CharField(max_length=30)
    # None while the review is pending.
    submitted_at = models.DateTimeField(null=True)


class Commit(models.Model):
    """A commit of a pull request: GitHub gives commits no id, so (pull request, sha) identifies one."""

    pull_request = models.ForeignKey(PullRequest, on_delete=models.CASCADE, related_name="commits")
    sha = models.CharField(max_length=40)
    # Only when the commit's e-mail is linked to a GitHub account.
    author = models.ForeignKey(TeamMember, null=True, on_delete=models.SET_NULL, related_name="commits")
    author_name = models.CharField(max_length=255, blank=True)
    authored_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pull_request", "sha"], name="commit_once_per_pull")]


class FileChange(models.Model):
    pull_request = models.ForeignKey(PullRequest, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1024)
    status = models.CharField(max_length=20)
    additions = models.PositiveIntegerField(default=0)
    deletions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pull_request", "path"], name="file_once_per_pull")]


class Comment(models.Model):
    """A review comment (on a line of the diff) or an issue comment (in the conversation)."""

    REVIEW, ISSUE = "review", "issue"

    kind = models.CharField(max_length=10, choices=[(REVIEW, "review comment"), (ISSUE, "issue comment")])
    # Review comments and issue comments are numbered separately by GitHub: the kind is part of the key.
    github_id = models.BigIntegerField()
    pull_request = models.ForeignKey(PullRequest, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(TeamMember, null=True, on_delete=models.SET_NULL, related_name="comments")
    body = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "github_id"], name="comment_once")]
