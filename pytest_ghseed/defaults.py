"""Choices, default values and GitHub's fixed caps: the one home of each.

The choice types are ``Literal`` types; the tuples of allowed values are derived from them, so a new
choice is added in one place. Every default the command line, the ini keys, the fixtures and the
fetcher share is written here once. A leaf module: it imports nothing of ours, so every layer
(models, settings, fetch, cache, the CLI and the plugin) may use it.
"""

from __future__ import annotations

from typing import Literal, get_args

#: How a run treats the cache and the network (named as vcrpy names them).
RecordMode = Literal["once", "none", "new_episodes", "all"]
RECORD_MODES: tuple[RecordMode, ...] = get_args(RecordMode)

#: Which pull requests, by state (GitHub's ``state`` query parameter).
PullState = Literal["all", "open", "closed"]
STATES: tuple[PullState, ...] = get_args(PullState)

#: Which end of a repository's history a ``max_prs`` cap keeps.
PullOrder = Literal["recent", "oldest"]
ORDERS: tuple[PullOrder, ...] = get_args(PullOrder)

#: Which GitHub API a fetch uses: REST, GraphQL (patches through REST), or the cheaper one that works.
Api = Literal["auto", "rest", "graphql"]
APIS: tuple[Api, ...] = get_args(Api)

#: What a test gets when nothing is recorded and the record mode forbids fetching.
MissingPolicy = Literal["skip", "fail"]
MISSING_POLICIES: tuple[MissingPolicy, ...] = get_args(MissingPolicy)

#: The cache folder, relative to the rootdir (pytest) or the current folder (``ghseed``).
DEFAULT_CACHE_DIR = "cassettes"
#: Pull requests per project when nothing else is asked for (the most recent ones).
DEFAULT_MAX_PRS = 100
#: Parallel fetch threads.
DEFAULT_WORKERS = 8
#: Longest wait for a rate-limit reset (or any other wait GitHub asks for) before giving up, seconds.
DEFAULT_MAX_WAIT = 3600.0
#: Requests in flight per GitHub user: GitHub allows up to 100 concurrent requests; we stay well below.
DEFAULT_MAX_IN_FLIGHT = 8
DEFAULT_RECORD_MODE: RecordMode = "once"
DEFAULT_STATE: PullState = "all"
DEFAULT_ORDER: PullOrder = "recent"
DEFAULT_MISSING: MissingPolicy = "skip"
#: REST until the GraphQL crawl is proven on real GitHub, not only on the emulator (README, "GraphQL").
DEFAULT_API: Api = "rest"
#: GitHub's caps on the lists of one pull request: REST's ``/commits`` stops at 250 items, ``/files``
#: (and GraphQL's ``files``) at 3,000. The snapshot keeps REST's lists whichever API fetched them.
COMMITS_CAP = 250
FILES_CAP = 3000
#: The same caps by list name, as the GraphQL crawl and its rebuild apply them to a PR's pages.
LIST_CAPS = {"commits": COMMITS_CAP, "files": FILES_CAP}
#: GitHub's REST API; ``GITHUB_API_URL`` (set by GitHub Actions) overrides it.
DEFAULT_BASE_URL = "https://api.github.com"
#: The distribution name, which ``importlib.metadata`` knows the version of (pyproject.toml holds it).
DISTRIBUTION = "pytest-ghseed"


def tool_version() -> str:
    """The installed pytest-ghseed version, from the one place it is written (``pyproject.toml``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
        return "0+unknown"
