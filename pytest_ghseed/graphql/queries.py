"""The GraphQL documents a pull-request crawl sends, built from page sizes. Pure: strings in, strings out.

GitHub charges a query by connection, not by object (see ``emulator/graphql/cost.py``): a
connection costs the product of the ``first``/``last`` of the connections *above* it, never its own,
and a connection asked for its ``totalCount`` alone (no ``first``/``last``) is not one it counts.
So the shapes here are:

- **The plan** (:func:`plan_query`): 100 PRs a page, each with its counters (``totalCount`` of every
  list): 1 point per 100 PRs.
- **Batches** (:func:`batch_query`): many PRs by number, one alias each (``p<number>``), with the
  first page of each list that has items (:func:`first_page`; a leaf list costs one request per PR
  whatever its size, so leaves ask for 100) and the ``totalCount`` alone of the empty ones (free: it
  shows a list that filled up since the plan), plus the **overflow** pages of lists that did not fit
  (:class:`Overflow`: one alias each, under ``pullRequest(number:)``, which is no connection, so one
  request). A batch is filled up to 149 requests, which GitHub rounds to 1 point.
- The part-1 shapes, kept for their callers: :func:`pull_page_query` (PR pages with every list
  nested), :func:`pulls_by_number_query`, :func:`overflow_query`.

Aliases say what they answer (``p42``; ``o3_42_files_f100_0``: item 3, PR 42, ``files``, forward,
100 items, thread 0), so that recorded answers can be put together again without the documents
(``cache/graphql_rebuild``). Every document also asks ``rateLimit`` (free). ``convert`` turns the
answers into models.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Literal, cast

#: GitHub's bounds for ``first``/``last``.
MAX_PAGE = 100
#: Requests GitHub rounds down to 1 point (149 / 100 = 1.49 -> 1).
ONE_POINT = 149

Direction = Literal["ASC", "DESC"]
#: GitHub's ``PullRequestOrderField`` values the plan uses.
OrderField = Literal["CREATED_AT", "UPDATED_AT"]

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

#: The scalar fields of a PR (and its accounts): free, whatever their number. The head repository is
#: not in the models; it lets ``ghseed serve`` answer a GraphQL recording as GitHub would (``gh pr list``).
PULL_FIELDS = (
    "number fullDatabaseId title body state isDraft merged mergedAt createdAt updatedAt closedAt url "
    "author { ...GhseedActor } mergedBy { ...GhseedActor } "
    "baseRefName baseRefOid headRefName headRefOid additions deletions changedFiles "
    "isCrossRepository headRepositoryOwner { login } headRepository { nameWithOwner }"
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
#: The leaves a crawl that takes files (with patches) from REST asks GraphQL for.
LEAVES_WITHOUT_FILES = tuple(name for name in LEAVES if name != "files")
#: A PR's counters, by list name, as :func:`plan_query` asks them (``files`` is ``changedFiles``).
COUNTED = (*LEAVES, "reviewThreads")

Counts = Mapping[str, int]


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
    #: Review threads per PR when their number is unknown: the only sub-list with a list under it, so
    #: the only one whose size costs (a thread brings its comments: one request each).
    threads: int = 1
    thread_comments: int = 100
    #: Review threads per PR when the plan counted them: as many as there are, up to this.
    thread_cap: int = 100

    def __post_init__(self) -> None:
        for item in fields(self):
            _check(item.name, getattr(self, item.name))

    def first(self, connection: str) -> int:
        """The first-page size of a sub-list, by its GraphQL name."""
        names = {"reviewRequests": "review_requests", "reviewThreads": "threads"}
        return int(getattr(self, names.get(connection, connection)))

    @property
    def requests_per_pull(self) -> int:
        """GitHub's request count one PR adds to a page: one per sub-list, plus one per thread."""
        return len(LEAVES) + 1 + self.threads

    def scaled(self, factor: float) -> PageSizes:
        """Every size times ``factor`` (at least 1): smaller pages for a server that times out."""
        return replace(self, **{f.name: max(1, int(getattr(self, f.name) * factor)) for f in fields(self)})


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


def _fragment_name(connection: str) -> str:
    return "Ghseed" + connection[0].upper() + connection[1:]


def _fragments(sizes: PageSizes) -> dict[str, str]:
    """Every fragment a document may use, by name (the leaf ones carry this query's page sizes).

    Fragments keep a batch short: GitHub (and the emulator) parse and validate a fragment once,
    however many pull requests use it."""
    found = {
        "GhseedActor": ACTOR_FRAGMENT,
        "GhseedPull": f"fragment GhseedPull on PullRequest {{ {PULL_FIELDS} }}",
    }
    for name in LEAVES:
        fragment = _fragment_name(name)
        found[fragment] = f"fragment {fragment} on PullRequest {{ {_leaf(name, sizes.first(name))} }}"
    return found


def _threads_fragment(name: str, sizes: PageSizes) -> str:
    """``GhseedThreads<n>``: the first ``n`` review threads with their comments."""
    first = int(name.removeprefix("GhseedThreads"))
    return f"fragment {name} on PullRequest {{ {_threads(first, sizes.thread_comments)} }}"


_SPREAD = re.compile(r"\.\.\.(Ghseed\w+)")


def _document(text: str, sizes: PageSizes = DEFAULT_SIZES) -> str:
    """``text`` plus the fragments it uses, and theirs (GraphQL refuses unused fragments)."""
    available = _fragments(sizes)
    used: list[str] = []
    pending = _SPREAD.findall(text)
    while pending:
        name = pending.pop(0)
        if name in used:
            continue
        used.append(name)
        if name not in available:
            available[name] = _threads_fragment(name, sizes)
        pending += _SPREAD.findall(available[name])
    return "\n".join([text, *(available[name] for name in used)])


def pull_selection(sizes: PageSizes, leaves: Sequence[str] = LEAVES) -> str:
    """A PR's fields and the first page of each of its sub-lists."""
    lists = " ".join(_leaf(name, sizes.first(name)) for name in leaves)
    return f"{PULL_FIELDS} {lists} {_threads(sizes.threads, sizes.thread_comments)}"


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


def plan_query(
    page: int = MAX_PAGE,
    *,
    order: OrderField = "CREATED_AT",
    direction: Direction = "ASC",
    states: Sequence[str] = (),
) -> str:
    """The plan: ``page`` PRs per query with their dates and counters.

    ``states``: GitHub's ``PullRequestState`` values to keep (none: all). Variables: ``owner``,
    ``name``, ``after`` (null for the first page). Costs 1 point per page: the counters are
    ``totalCount`` alone, which GitHub does not count as connections.
    """
    _check("page", page)
    for state in states:
        if state not in ("OPEN", "CLOSED", "MERGED"):
            msg = f"pull request state {state!r} is not one of GitHub's OPEN, CLOSED, MERGED"
            raise ValueError(msg)
    chosen = f", states: [{', '.join(states)}]" if states else ""
    counters = " ".join(f"{name} {{ totalCount }}" for name in COUNTED if name != "files")
    return (
        "query GhseedPlan($owner: String!, $name: String!, $after: String) { "
        "repository(owner: $owner, name: $name) { "
        f"pullRequests(first: {page}, after: $after, orderBy: {{field: {order}, direction: {direction}}}{chosen}) "
        f"{{ totalCount {PAGE_INFO} nodes {{ number state createdAt updatedAt changedFiles {counters} }} }} }} "
        f"{RATE_LIMIT} }}"
    )


def counts_of(node: Mapping[str, object]) -> dict[str, int]:
    """The counters of a :func:`plan_query` node, by list name (``files``: ``changedFiles``)."""
    found = {"files": _count(node.get("changedFiles"))}
    for name in COUNTED:
        if name != "files":
            value = node.get(name)
            found[name] = _count(value.get("totalCount") if isinstance(value, Mapping) else None)
    return found


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"a counter of the plan is {value!r}, not a count; GitHub always sends one"
        raise ValueError(msg)
    return value


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


@dataclass(frozen=True)
class FirstPage:
    """What a batch asks of one PR first: the first page of ``asked`` lists, the count of ``counted``.

    ``threads``: review threads asked with their comments (0: their count alone).
    """

    number: int
    asked: tuple[str, ...]
    counted: tuple[str, ...] = ()
    threads: int = 1

    @property
    def alias(self) -> str:
        return f"p{self.number}"

    @property
    def requests(self) -> int:
        """What GitHub counts for it: one per list asked, and the threads' list plus one per thread."""
        return len(self.asked) + (1 + self.threads if self.threads else 0)

    def selection(self, sizes: PageSizes) -> str:
        """Under ``pullRequest(number:)``: the PR's fields, its lists' first pages, the empty ones' counts."""
        parts = ["...GhseedPull"]
        parts += [f"...{_fragment_name(name)}" for name in self.asked]
        parts += [f"{name} {{ totalCount }}" for name in self.counted]
        threads = f"...GhseedThreads{self.threads}" if self.threads else "reviewThreads { totalCount }"
        return " ".join([*parts, threads])


def first_page(
    number: int, sizes: PageSizes, leaves: Sequence[str] = LEAVES, counts: Counts | None = None
) -> FirstPage:
    """The first page of PR ``number``: every list of ``leaves`` when ``counts`` are unknown, else
    the lists that have items (the others by their count, to see one that filled up since)."""
    if counts is None:
        return FirstPage(number, tuple(leaves), (), sizes.threads)
    asked = tuple(name for name in leaves if counts.get(name, 1) > 0)
    counted = tuple(name for name in leaves if name not in asked)
    threads = min(counts.get("reviewThreads", 1), sizes.thread_cap)
    return FirstPage(number, asked, counted, max(threads, 0))


OverflowKind = Literal[
    "labels", "commits", "files", "reviews", "comments", "reviewRequests", "reviewThreads", "threadComments"
]
_KINDS: tuple[str, ...] = (*LEAVES, "reviewThreads", "threadComments")
_ALIAS = re.compile(
    r"^o(?P<index>\d+)_(?P<number>\d+)_(?P<kind>[A-Za-z]+)_(?P<way>[fb])(?P<size>\d+)_(?P<thread>\d+)$"
)


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

    def alias(self, index: int) -> str:
        """The alias of this item as the ``index``-th of a query: it names the PR, the list, the page."""
        way = "b" if self.backward else "f"
        return f"o{index}_{self.number}_{self.kind}_{way}{self.size}_{self.thread_index}"

    @classmethod
    def from_alias(cls, alias: str) -> Overflow | None:
        """The item an alias names (without its cursors, which the answer does not need); None if not one."""
        match = _ALIAS.match(alias)
        if match is None or match["kind"] not in _KINDS:
            return None
        size = int(match["size"])
        backward = match["way"] == "b"
        return cls(
            number=int(match["number"]),
            kind=cast("OverflowKind", match["kind"]),
            first=None if backward else size,
            last=size if backward else None,
            thread_index=int(match["thread"]),
        )

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


def _overflow_parts(items: Sequence[Overflow], sizes: PageSizes) -> list[str]:
    for item in items:
        _check(f"{item.kind} page", item.size)
    return [
        f"{item.alias(index)}: pullRequest(number: {item.number}) {{ {item.selection(sizes)} }}"
        for index, item in enumerate(items)
    ]


def overflow_query(items: Sequence[Overflow], sizes: PageSizes = DEFAULT_SIZES) -> str:
    """One query for all ``items``: alias ``items[i].alias(i)`` answers ``items[i]``. Variables: ``owner``, ``name``."""
    if not items:
        msg = "overflow_query needs at least one overflow item"
        raise ValueError(msg)
    parts = " ".join(_overflow_parts(items, sizes))
    return _document(
        "query GhseedOverflow($owner: String!, $name: String!) { "
        f"repository(owner: $owner, name: $name) {{ {parts} }} {RATE_LIMIT} }}"
    )


def batch_query(
    firsts: Sequence[FirstPage], items: Sequence[Overflow] = (), sizes: PageSizes = DEFAULT_SIZES
) -> str:
    """First pages of PRs (alias ``p<number>``) and overflow pages (``items[i].alias(i)``) in one query.

    Variables: ``owner``, ``name``. It costs the sum of their :attr:`requests`, rounded to points.
    """
    if not firsts and not items:
        msg = "batch_query needs at least one first page or overflow item"
        raise ValueError(msg)
    pulls = [
        f"{page.alias}: pullRequest(number: {page.number}) {{ {page.selection(sizes)} }}" for page in firsts
    ]
    parts = " ".join([*pulls, *_overflow_parts(items, sizes)])
    return _document(
        "query GhseedBatch($owner: String!, $name: String!) { "
        f"repository(owner: $owner, name: $name) {{ {parts} }} {RATE_LIMIT} }}",
        sizes,
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
