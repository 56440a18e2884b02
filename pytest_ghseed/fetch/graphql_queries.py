"""The GraphQL documents a pull-request crawl sends, built from page sizes. Pure: strings in, strings out.

GitHub charges a query by connection, not by object (see ``emulator/graphql/cost.py``): a
connection costs the product of the ``first``/``last`` of the connections *above* it, never its own.
So the shapes here are:

- **PR pages** (:func:`pull_page_query`, or :func:`pulls_by_number_query` for a pinned plan): each
  pull request with every sub-list as a nested first page. A leaf list costs one request per PR
  whatever its size, so leaves ask for 100; only ``reviewThreads`` has a list under it (its
  comments), which costs ``threads`` requests per PR: that one is kept small.
- **Overflow** (:func:`overflow_query`): the next pages of the lists that did not fit, for many pull
  requests at once, one alias each (``o0``, ``o1``, ...). An overflow list sits under
  ``pullRequest(number:)``, which is no connection, so it costs 1 request (threads: 1 + their
  number); :func:`batches` fills a query up to 149 requests, which GitHub rounds to 1 point.

Every document also asks ``rateLimit`` (free). ``graphql_convert`` turns the answers into models.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

#: GitHub's bounds for ``first``/``last``.
MAX_PAGE = 100
#: Requests GitHub rounds down to 1 point (149 / 100 = 1.49 -> 1).
ONE_POINT = 149

Direction = Literal["ASC", "DESC"]

RATE_LIMIT = "rateLimit { cost limit remaining used resetAt nodeCount }"
PAGE_INFO = "pageInfo { hasNextPage endCursor }"

ACTOR_FRAGMENT = """fragment GhseedActor on Actor {
  __typename
  login
  ... on User { databaseId }
  ... on Bot { databaseId }
  ... on Organization { databaseId }
  ... on Mannequin { databaseId }
}"""

REPOSITORY_FIELDS = "databaseId nameWithOwner url description isPrivate defaultBranchRef { name }"

PULL_FIELDS = (
    "number fullDatabaseId title body state isDraft merged mergedAt createdAt updatedAt closedAt url "
    "author { ...GhseedActor } mergedBy { ...GhseedActor } "
    "baseRefName headRefName headRefOid additions deletions changedFiles"
)

#: The node selection of each PR sub-list, by connection name.
NODES = {
    "labels": "nodes { name }",
    "commits": (
        "nodes { commit { oid message "
        "author { name email date user { login databaseId } } committer { date } } }"
    ),
    "files": "nodes { path additions deletions changeType }",
    "reviews": ("nodes { fullDatabaseId author { ...GhseedActor } state body submittedAt commit { oid } }"),
    "comments": "nodes { fullDatabaseId author { ...GhseedActor } body createdAt }",
    "reviewRequests": (
        "nodes { requestedReviewer { __typename "
        "... on User { login databaseId } ... on Bot { login databaseId } "
        "... on Mannequin { login databaseId } } }"
    ),
}
REVIEW_COMMENT_NODES = (
    "nodes { fullDatabaseId author { ...GhseedActor } body path line createdAt replyTo { fullDatabaseId } }"
)
#: The leaf sub-lists (no list under them), in the order a PR page asks them.
LEAVES = ("labels", "commits", "files", "reviews", "comments", "reviewRequests")


def _document(text: str) -> str:
    """``text`` plus the actor fragment when it uses it (GraphQL refuses unused fragments)."""
    return f"{text}\n{ACTOR_FRAGMENT}" if "...GhseedActor" in text else text


def _check(name: str, value: int, low: int = 1) -> None:
    if not low <= value <= MAX_PAGE:
        msg = f"page size {name}={value} is outside GitHub's bounds {low}..{MAX_PAGE}; pick a value in them"
        raise ValueError(msg)


@dataclass(frozen=True)
class PageSizes:
    """How many items each page asks for: PRs per page, and the first page of each sub-list."""

    pulls: int = 50
    labels: int = 100
    commits: int = 100
    files: int = 100
    reviews: int = 100
    comments: int = 100
    review_requests: int = 100
    #: Review threads per PR: the only sub-list with a list under it, so the only one whose size costs.
    threads: int = 1
    thread_comments: int = 100

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            _check(name, getattr(self, name))

    def first(self, connection: str) -> int:
        """The first-page size of a sub-list, by its GraphQL name."""
        names = {"reviewRequests": "review_requests", "reviewThreads": "threads"}
        return int(getattr(self, names.get(connection, connection)))

    @property
    def requests_per_pull(self) -> int:
        """GitHub's request count one PR adds to a page: one per sub-list, plus one per thread."""
        return len(LEAVES) + 1 + self.threads


#: The page sizes the crawl uses unless told otherwise.
DEFAULT_SIZES = PageSizes()


def _threads(first: int, comments: int, after: str | None = None) -> str:
    cursor = f", after: {json.dumps(after)}" if after is not None else ""
    return (
        f"reviewThreads(first: {first}{cursor}) {{ totalCount {PAGE_INFO} "
        f"edges {{ cursor node {{ comments(first: {comments}) {{ totalCount {PAGE_INFO} "
        f"{REVIEW_COMMENT_NODES} }} }} }} }}"
    )


def _leaf(connection: str, first: int, after: str | None = None) -> str:
    cursor = f", after: {json.dumps(after)}" if after is not None else ""
    return f"{connection}(first: {first}{cursor}) {{ totalCount {PAGE_INFO} {NODES[connection]} }}"


def pull_selection(sizes: PageSizes) -> str:
    """A PR's fields and the first page of each of its sub-lists."""
    leaves = " ".join(_leaf(name, sizes.first(name)) for name in LEAVES)
    return f"{PULL_FIELDS} {leaves} {_threads(sizes.threads, sizes.thread_comments)}"


def repository_query() -> str:
    """The repository (as the ``Repository`` model needs it). Variables: ``owner``, ``name``."""
    return (
        "query GhseedRepository($owner: String!, $name: String!) { "
        f"repository(owner: $owner, name: $name) {{ {REPOSITORY_FIELDS} }} {RATE_LIMIT} }}"
    )


def rate_limit_query() -> str:
    """The user's GraphQL budget; GitHub does not charge a query that asks nothing else."""
    return f"query GhseedRateLimit {{ {RATE_LIMIT} }}"


def pull_list_query(page: int = MAX_PAGE, direction: Direction = "ASC") -> str:
    """A light listing to plan a crawl: numbers and dates, ``page`` PRs per query, by creation.

    Variables: ``owner``, ``name``, ``after`` (null for the first page). Costs 1 point per page.
    """
    _check("page", page)
    return (
        "query GhseedPullList($owner: String!, $name: String!, $after: String) { "
        "repository(owner: $owner, name: $name) { "
        f"pullRequests(first: {page}, after: $after, orderBy: {{field: CREATED_AT, direction: {direction}}}) "
        f"{{ totalCount {PAGE_INFO} nodes {{ number state createdAt updatedAt }} }} }} {RATE_LIMIT} }}"
    )


def pull_page_query(sizes: PageSizes = DEFAULT_SIZES, direction: Direction = "ASC") -> str:
    """``sizes.pulls`` PRs by creation, each with the first page of every sub-list.

    Variables: ``owner``, ``name``, ``after`` (null for the first page).
    """
    return _document(
        "query GhseedPullPage($owner: String!, $name: String!, $after: String) { "
        "repository(owner: $owner, name: $name) { "
        f"pullRequests(first: {sizes.pulls}, after: $after, orderBy: {{field: CREATED_AT, direction: {direction}}}) "
        f"{{ totalCount {PAGE_INFO} nodes {{ {pull_selection(sizes)} }} }} }} {RATE_LIMIT} }}"
    )


def pulls_by_number_query(numbers: Sequence[int], sizes: PageSizes = DEFAULT_SIZES) -> str:
    """The PRs ``numbers`` (one alias each, ``p<number>``), each with the first page of every sub-list.

    Variables: ``owner``, ``name``. A number GitHub does not know comes back null with a NOT_FOUND
    error beside the others' data.
    """
    if not numbers:
        msg = "pulls_by_number_query needs at least one pull request number"
        raise ValueError(msg)
    selection = pull_selection(sizes)
    pulls = " ".join(f"p{int(n)}: pullRequest(number: {int(n)}) {{ {selection} }}" for n in numbers)
    return _document(
        "query GhseedPulls($owner: String!, $name: String!) { "
        f"repository(owner: $owner, name: $name) {{ {pulls} }} {RATE_LIMIT} }}"
    )


OverflowKind = Literal[
    "labels", "commits", "files", "reviews", "comments", "reviewRequests", "reviewThreads", "threadComments"
]


@dataclass(frozen=True)
class Overflow:
    """One more page of one sub-list of one PR.

    Forward pages continue after ``after`` with ``first`` items; a long leaf list is also read
    from its end at the same time, backward (``last`` items ``before`` a cursor, or the last items
    when ``before`` is None), which halves the rounds a long list takes. Sizes come from what
    remains (known from ``totalCount``), at most 100. For ``threadComments`` (a thread with more than
    a page of comments), ``thread_after`` is the cursor of the thread before it (None: it is the
    first): a thread is only reachable through its pull request's ``reviewThreads``.
    """

    number: int
    kind: OverflowKind
    after: str | None = None
    first: int | None = None
    before: str | None = None
    last: int | None = None
    thread_after: str | None = None
    thread_index: int = 0

    @property
    def backward(self) -> bool:
        """Whether this page is read from the list's end."""
        return self.last is not None

    @property
    def size(self) -> int:
        """Items asked for."""
        return int(self.last if self.last is not None else self.first or 0)

    @property
    def requests(self) -> int:
        """What GitHub counts for it: 1, plus one per thread when threads bring their comments."""
        if self.kind == "reviewThreads":
            return 1 + self.size
        return 2 if self.kind == "threadComments" else 1

    def _arguments(self) -> str:
        parts = [f"first: {self.first}"] if self.first is not None else []
        parts += [f"last: {self.last}"] if self.last is not None else []
        parts += [f"after: {json.dumps(self.after)}"] if self.after is not None else []
        parts += [f"before: {json.dumps(self.before)}"] if self.before is not None else []
        return ", ".join(parts)

    def selection(self, sizes: PageSizes) -> str:
        """The selection under ``pullRequest(number:)`` that fetches it."""
        if self.kind == "reviewThreads":
            return _threads(self.size, sizes.thread_comments, self.after)
        if self.kind == "threadComments":
            comments = f"comments({self._arguments()}) {{ totalCount {PAGE_INFO} {REVIEW_COMMENT_NODES} }}"
            cursor = f", after: {json.dumps(self.thread_after)}" if self.thread_after is not None else ""
            return f"reviewThreads(first: 1{cursor}) {{ nodes {{ {comments} }} }}"
        info = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
        return f"{self.kind}({self._arguments()}) {{ totalCount {info} {NODES[self.kind]} }}"


def overflow_query(items: Sequence[Overflow], sizes: PageSizes = DEFAULT_SIZES) -> str:
    """One query for all ``items``: alias ``o<i>`` answers ``items[i]``. Variables: ``owner``, ``name``."""
    if not items:
        msg = "overflow_query needs at least one overflow item"
        raise ValueError(msg)
    for item in items:
        _check(f"{item.kind} page", item.size)
    parts = " ".join(
        f"o{index}: pullRequest(number: {item.number}) {{ {item.selection(sizes)} }}"
        for index, item in enumerate(items)
    )
    return _document(
        "query GhseedOverflow($owner: String!, $name: String!) { "
        f"repository(owner: $owner, name: $name) {{ {parts} }} {RATE_LIMIT} }}"
    )


def batches(items: Sequence[Overflow], max_requests: int = ONE_POINT) -> Iterator[list[Overflow]]:
    """``items`` in order, grouped so that each group's requests stay within ``max_requests``.

    With the default, every group costs 1 point. An item heavier than the limit goes alone.
    """
    batch: list[Overflow] = []
    total = 0
    for item in items:
        if batch and total + item.requests > max_requests:
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += item.requests
    if batch:
        yield batch
