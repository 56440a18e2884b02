"""The typed models: built from real GitHub bodies, tolerant of nulls, immutable, round-tripping."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from pytest_ghseed.models import (
    Commit,
    FetchParams,
    FileChange,
    IssueComment,
    PullRequest,
    Repository,
    Review,
    ReviewComment,
    Snapshot,
    User,
)
from tests.helpers import load_sample

UTC = UTC


def _full_pr_from_samples() -> PullRequest:
    return PullRequest.from_github(
        load_sample("pull.json"),
        reviews=load_sample("reviews.json"),
        commits=load_sample("commits.json"),
        files=load_sample("files.json"),
        review_comments=load_sample("review-comments.json"),
        issue_comments=[],
    )


def test_pull_detail_sample_values() -> None:
    """The single-pull body of PyGithub#3370 parses into the values GitHub sent."""
    pr = _full_pr_from_samples()
    assert pr.number == 3370
    assert pr.id == 2806945628
    assert pr.title == "Bump actions/setup-python from 5 to 6"
    assert pr.state == "closed"
    assert pr.merged is True
    assert pr.draft is False
    assert pr.merged_at == datetime(2025, 11, 19, 17, 43, 18, tzinfo=UTC)
    assert pr.created_at == datetime(2025, 9, 8, 6, 1, 5, tzinfo=UTC)
    assert pr.closed_at == datetime(2025, 11, 19, 17, 43, 18, tzinfo=UTC)
    assert pr.user == User(login="dependabot[bot]", id=49699333, type="Bot")
    assert pr.user is not None and pr.user.is_bot
    assert pr.merged_by is not None and pr.merged_by.login == "JLLeitschuh"
    assert pr.labels == ("dependencies", "github_actions")
    assert pr.base_ref == "main"
    assert pr.head_ref == "dependabot/github_actions/actions/setup-python-6"
    assert pr.head_sha == "3253acaabd86de12b73d0a24c98eb9c13d1987b5"
    assert (pr.additions, pr.deletions, pr.changed_files) == (7, 7, 4)
    assert (pr.commits_count, pr.comments_count, pr.review_comments_count) == (1, 1, 0)
    assert pr.requested_reviewers == ()
    assert pr.html_url == "https://github.com/PyGithub/PyGithub/pull/3370"


def test_every_datetime_is_timezone_aware() -> None:
    """Every datetime parsed from a sample carries a timezone."""
    pr = _full_pr_from_samples()
    stamps = [pr.created_at, pr.updated_at, pr.merged_at, pr.closed_at]
    stamps += [r.submitted_at for r in pr.reviews]
    stamps += [c.authored_at for c in pr.commits] + [c.committed_at for c in pr.commits]
    stamps += [c.created_at for c in pr.review_comments]
    assert all(s is not None and s.tzinfo is not None for s in stamps)


def test_pull_list_item_sample_lacks_counters() -> None:
    """A 2020 list item (no draft, no counters) still parses; counters default to zero."""
    (item,) = load_sample("pull-list.json")
    pr = PullRequest.from_github(item)
    assert pr.number == 1
    assert pr.id == 370041455
    assert pr.title == "Add support to reply to a Pull request comment"
    assert pr.state == "open"
    assert pr.merged is False and pr.merged_at is None
    assert pr.user is not None and pr.user.login == "rsn491"
    assert pr.draft is False
    assert pr.additions == 0 and pr.commits_count == 0


def test_commit_sample_values() -> None:
    """The commit sample gives author name, email, linked login and both dates."""
    (commit,) = [Commit.from_github(c) for c in load_sample("commits.json")]
    assert commit.sha == "3253acaabd86de12b73d0a24c98eb9c13d1987b5"
    assert commit.author_name == "dependabot[bot]"
    assert commit.author_email == "49699333+dependabot[bot]@users.noreply.github.com"
    assert commit.author_login == "dependabot[bot]"
    assert commit.authored_at == datetime(2025, 9, 8, 6, 1, 4, tzinfo=UTC)
    assert commit.message.startswith("Bump actions/setup-python from 5 to 6\n")


def test_commit_without_linked_user() -> None:
    """A commit whose author has no GitHub account has author_login None, not a crash."""
    (raw,) = load_sample("commits.json")
    commit = Commit.from_github({**raw, "author": None})
    assert commit.author_login is None
    assert commit.author_name == "dependabot[bot]"


def test_files_sample_values() -> None:
    """The files sample parses with counts, status and patch."""
    files = [FileChange.from_github(f) for f in load_sample("files.json")]
    assert [f.filename for f in files] == [
        "codegen/templates/GithubObject.py",
        "src/github/AuthenticatedUser.py",
        "src/github/Authorization.py",
    ]
    assert (files[1].additions, files[1].deletions, files[1].changes) == (25, 25, 50)
    assert all(f.status == "modified" and f.patch for f in files)
    assert files[0].previous_filename is None


def test_file_without_patch_and_renamed() -> None:
    """GitHub omits patch for binary or large diffs and adds previous_filename on renames."""
    raw = dict(load_sample("files.json")[0])
    del raw["patch"]
    raw.update(status="renamed", previous_filename="old/name.py")
    change = FileChange.from_github(raw)
    assert change.patch is None
    assert change.previous_filename == "old/name.py"


def test_reviews_sample_values() -> None:
    """The reviews sample gives ids, users, states, commit ids and submission times."""
    reviews = [Review.from_github(r) for r in load_sample("reviews.json")]
    assert [r.id for r in reviews][:2] == [28482091, 104584375]
    assert reviews[0].user is not None and reviews[0].user.login == "jzelinskie"
    assert reviews[0].state == "APPROVED"
    assert reviews[0].commit_id == "7a0fcb27b7cd6c346fc3f76216ccb6e0f4ca3bcc"
    assert reviews[0].submitted_at == datetime(2017, 3, 22, 19, 6, 59, tzinfo=UTC)
    assert {r.state for r in reviews} == {"APPROVED", "COMMENTED"}


def test_pending_review_has_no_submitted_at() -> None:
    """A pending review (no submitted_at key) parses with submitted_at None."""
    raw = {k: v for k, v in load_sample("reviews.json")[0].items() if k != "submitted_at"}
    review = Review.from_github({**raw, "state": "PENDING"})
    assert review.submitted_at is None
    assert review.state == "PENDING"


def test_review_comments_sample_values() -> None:
    """The review-comments sample gives path, line, user and creation time."""
    comments = [ReviewComment.from_github(c) for c in load_sample("review-comments.json")]
    assert comments[0].id == 197784357
    assert comments[0].path == "test/IssueEvent.py"
    assert comments[0].line == 7
    assert comments[0].user is not None and comments[0].user.login == "eamanu"
    assert comments[0].created_at == datetime(2018, 6, 25, 12, 54, 34, tzinfo=UTC)
    assert comments[1].in_reply_to_id is None


def test_null_users_are_none_everywhere() -> None:
    """Deleted accounts arrive as null users and become None, never a crash."""
    pr_raw = {**load_sample("pull.json"), "user": None, "merged_by": None}
    pr = PullRequest.from_github(
        pr_raw,
        reviews=[{**load_sample("reviews.json")[0], "user": None}],
        review_comments=[{**load_sample("review-comments.json")[0], "user": None}],
        issue_comments=[{"id": 5, "user": None, "body": None, "created_at": "2024-01-01T00:00:00Z"}],
    )
    assert pr.user is None and pr.merged_by is None
    assert pr.reviews[0].user is None
    assert pr.review_comments[0].user is None
    assert pr.issue_comments[0] == IssueComment(
        id=5, user=None, body="", created_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert pr.reviewers == ()


def test_pull_request_round_trips_through_plain_dicts_and_json() -> None:
    """to_dict -> JSON -> from_dict gives back an equal object."""
    pr = _full_pr_from_samples()
    again = PullRequest.from_dict(json.loads(json.dumps(pr.to_dict())))
    assert again == pr


def test_snapshot_round_trips_and_checks_schema_version() -> None:
    """A Snapshot round-trips; a wrong schema_version is refused with the next step."""
    snapshot = Snapshot(
        repository=Repository(full_name="PyGithub/PyGithub", id=3544490),
        recorded_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        prs=(_full_pr_from_samples(),),
        params=FetchParams(max_prs=10, state="closed", since=datetime(2025, 1, 1, tzinfo=UTC)),
    )
    data = json.loads(json.dumps(snapshot.to_dict()))
    assert Snapshot.from_dict(data) == snapshot
    assert snapshot.repository.owner == "PyGithub" and snapshot.repository.name == "PyGithub"
    assert snapshot.pr(3370).title.startswith("Bump")
    with pytest.raises(KeyError, match="#1 is not in the snapshot"):
        snapshot.pr(1)
    with pytest.raises(ValueError, match="ghseed rebuild"):
        Snapshot.from_dict({**data, "schema_version": 999})


def test_models_are_frozen_slotted_and_hand_out_tuples() -> None:
    """Models cannot be changed after creation, and their lists are tuples."""
    pr = _full_pr_from_samples()
    with pytest.raises(dataclasses.FrozenInstanceError):
        pr.title = "changed"  # type: ignore[misc]
    assert not hasattr(pr, "__dict__")
    assert isinstance(pr.reviews, tuple) and isinstance(pr.labels, tuple)


def test_repository_from_github_sample() -> None:
    """The repository object nested in the pull body parses."""
    repo = Repository.from_github(load_sample("pull.json")["base"]["repo"])
    assert repo.full_name == "PyGithub/PyGithub"
    assert repo.default_branch == "main"
    assert Repository.from_dict(repo.to_dict()) == repo


def test_naive_datetimes_from_dicts_become_utc() -> None:
    """A hand-written dict with a naive timestamp is read as UTC, so every datetime stays aware."""
    comment = IssueComment.from_dict(
        {"id": 1, "user": None, "body": "x", "created_at": "2024-05-01T10:00:00"}
    )
    assert comment.created_at.tzinfo is not None
