"""pytest-ghseed: real GitHub pull-request history as pytest fixtures, recorded once, replayed offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ghseed.defaults import DEFAULT_CACHE_DIR
from pytest_ghseed.errors import CacheError, GhseedError, UsageError

if TYPE_CHECKING:
    __version__: str
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

_MODELS = (
    "Commit",
    "FetchParams",
    "FileChange",
    "IssueComment",
    "PullRequest",
    "Repository",
    "Review",
    "ReviewComment",
    "Snapshot",
    "User",
)


def __getattr__(name: str) -> Any:
    # The models load on first use: pytest imports this package on every run of every suite with the
    # plugin installed, and building the model classes is most of its import time. The version is
    # read from the installed distribution (pyproject.toml is its one home), also on first use.
    if name == "__version__":
        from pytest_ghseed.defaults import tool_version

        return tool_version()
    if name in _MODELS:
        from pytest_ghseed import models

        return getattr(models, name)
    msg = f"module 'pytest_ghseed' has no attribute {name!r}"
    raise AttributeError(msg)


def load_snapshot(project: str, cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR) -> Snapshot:
    """The recorded Snapshot of ``project`` (preset, owner/repo, alias) from ``cache_dir``, without any network.

    A corrupt snapshot is moved aside and rebuilt from the cassettes; nothing recorded raises
    ``CacheError`` naming the command that records it.
    """
    from pytest_ghseed.cache.store import ProjectStore
    from pytest_ghseed.heal import load_cached
    from pytest_ghseed.projects import fetch_command, find_aliases, resolve_project

    resolved = resolve_project(project, find_aliases(Path.cwd()))
    folder = Path(cache_dir)
    cached = load_cached(ProjectStore(folder, resolved.folder), [])
    if cached is None:
        msg = f"nothing is recorded for {resolved.name!r} in {folder}; record it with: {fetch_command(resolved.name, folder)}"
        raise CacheError(msg)
    return cached.full()


# A literal list (not built from _MODELS): type checkers and linters read __all__ statically.
__all__ = [
    "CacheError",
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
    "UsageError",
    "User",
    "__version__",
    "load_snapshot",
]
