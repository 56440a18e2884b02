"""pytest-ghseed: real GitHub pull-request history as pytest fixtures, recorded once, replayed offline."""

from __future__ import annotations

from pytest_ghseed.errors import GhseedError
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

__version__ = "0.1.0"

__all__ = [
    "Commit",
    "FetchParams",
    "FileChange",
    "GhseedError",
    "IssueComment",
    "PullRequest",
    "Repository",
    "Review",
    "ReviewComment",
    "Snapshot",
    "User",
    "__version__",
]
