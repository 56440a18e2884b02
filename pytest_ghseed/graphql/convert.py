"""GraphQL answers -> the same models as REST, and the assembly of a PR from its pages. Pure.

A PR arrives in parts: its first page (from ``graphql_queries.pull_page_query`` or
``pulls_by_number_query``), then overflow pages for the sub-lists that did not fit.
:class:`PullAssembly` keeps the parts, says which overflow pages are still needed
(:meth:`PullAssembly.pending`), takes their answers (:meth:`PullAssembly.add`) and, once complete,
builds the ``PullRequest`` (:meth:`PullAssembly.build`).

Where GraphQL and REST differ, the models come out as REST's would:

- ids: ``fullDatabaseId`` (a string, since ids pass 2**31) -> int; users: ``databaseId``.
- a Bot's login gains REST's ``[bot]`` suffix; ``__typename`` is REST's ``type``.
- a commit's GitHub user: ``GitActor.user`` (typed User, so null for Apps), else the ``[bot]`` login of
  a no-reply address, which is how REST links an App's commits.
- GraphQL has no file patch and no previous filename: both None.
- review comments come in threads; REST lists them by ascending id, and so do the models.
- GraphQL pages through every commit, REST stops at 250: ``commits_cap=250`` gives REST's list and
  ``commits_truncated``; the default keeps them all. A :class:`PullAssembly` given ``caps`` does not
  even ask for what lies past them.
- with ``files`` given (REST's ``/files``, which has the patches), they replace GraphQL's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_ghseed.graphql.mapping import REST_FILE_STATUS, bot_login_from_email, rest_login, rest_pull_state
from pytest_ghseed.graphql.queries import LEAVES, MAX_PAGE, Overflow, OverflowKind
from pytest_ghseed.models import (
    Commit,
    FileChange,
    IssueComment,
    PullRequest,
    Repository,
    Review,
    ReviewComment,
    User,
    parse_datetime,
)

JSON = Mapping[str, Any]

#: Accounts a review request may name that REST lists as requested reviewers (teams are apart there).
_PEOPLE = ("User", "Bot", "Mannequin")


def _datetime(value: str | None, what: str) -> Any:
    parsed = parse_datetime(value)
    if parsed is None:
        msg = f"{what} is missing from the GraphQL answer; GitHub always sends it"
        raise ValueError(msg)
    return parsed


def user_from_graphql(actor: JSON | None) -> User | None:
    """A ``User`` from an actor (``__typename``, ``login``, ``databaseId``); None for null."""
    if not actor:
        return None
    kind = str(actor.get("__typename") or "User")
    return User(login=rest_login(str(actor["login"]), kind), id=int(actor.get("databaseId") or 0), type=kind)


def repository_from_graphql(node: JSON) -> Repository:
    """``Repository.from_github``'s GraphQL twin."""
    return Repository(
        full_name=str(node["nameWithOwner"]),
        id=int(node["databaseId"]),
        default_branch=str((node.get("defaultBranchRef") or {}).get("name") or "main"),
        html_url=str(node.get("url") or ""),
        description=node.get("description"),
        private=bool(node.get("isPrivate", False)),
    )


def commit_from_graphql(node: JSON) -> Commit:
    """A ``Commit`` from a ``PullRequestCommit.commit``."""
    author = node.get("author") or {}
    committer = node.get("committer") or {}
    user = author.get("user")
    return Commit(
        sha=str(node["oid"]),
        message=node.get("message") or "",
        author_name=author.get("name"),
        author_email=author.get("email"),
        author_login=str(user["login"]) if user else bot_login_from_email(author.get("email")),
        authored_at=parse_datetime(author.get("date")),
        committed_at=parse_datetime(committer.get("date")),
    )


def file_from_graphql(node: JSON) -> FileChange:
    """A ``FileChange`` from a ``PullRequestChangedFile`` (no patch, no previous filename there)."""
    additions, deletions = int(node.get("additions", 0)), int(node.get("deletions", 0))
    return FileChange(
        filename=str(node["path"]),
        status=REST_FILE_STATUS.get(str(node.get("changeType")), "modified"),
        additions=additions,
        deletions=deletions,
        changes=additions + deletions,
    )


def review_from_graphql(node: JSON) -> Review:
    """A ``Review`` from a ``PullRequestReview``."""
    return Review(
        id=int(node["fullDatabaseId"]),
        user=user_from_graphql(node.get("author")),
        state=str(node["state"]),
        body=node.get("body") or "",
        submitted_at=parse_datetime(node.get("submittedAt")),
        commit_id=(node.get("commit") or {}).get("oid"),
    )


def review_comment_from_graphql(node: JSON) -> ReviewComment:
    """A ``ReviewComment`` from a ``PullRequestReviewComment``."""
    reply_to = node.get("replyTo")
    return ReviewComment(
        id=int(node["fullDatabaseId"]),
        user=user_from_graphql(node.get("author")),
        body=node.get("body") or "",
        path=str(node["path"]),
        line=node.get("line"),
        created_at=_datetime(node.get("createdAt"), "review_comment.createdAt"),
        in_reply_to_id=int(reply_to["fullDatabaseId"]) if reply_to else None,
    )


def issue_comment_from_graphql(node: JSON) -> IssueComment:
    """An ``IssueComment`` from an ``IssueComment``."""
    return IssueComment(
        id=int(node["fullDatabaseId"]),
        user=user_from_graphql(node.get("author")),
        body=node.get("body") or "",
        created_at=_datetime(node.get("createdAt"), "issue_comment.createdAt"),
    )


def _list(node: JSON, name: str) -> JSON:
    value = node.get(name)
    if not isinstance(value, Mapping):
        msg = f"pull request #{node.get('number')}: {name} is missing from the GraphQL answer"
        raise ValueError(msg)
    return value


def pull_request_from_graphql(
    node: JSON, *, commits_cap: int | None = None, files: Sequence[FileChange] | None = None
) -> PullRequest:
    """``PullRequest.from_github``'s GraphQL twin, from a *complete* PR node (every list whole).

    ``reviewThreads`` lists the threads as ``nodes`` (or ``edges``) with their ``comments``.
    ``files``: the PR's files from elsewhere (REST, with patches); then the node needs none.
    """
    commits_list = _list(node, "commits")
    commits = tuple(commit_from_graphql(n["commit"]) for n in commits_list["nodes"])
    if commits_cap is not None:
        commits = commits[:commits_cap]
    if files is None:
        files = tuple(file_from_graphql(n) for n in _list(node, "files")["nodes"])
    threads = _thread_nodes(_list(node, "reviewThreads"))
    review_comments = sorted(
        (review_comment_from_graphql(c) for thread in threads for c in thread["comments"]["nodes"]),
        key=lambda comment: comment.id,
    )
    requested = [
        user_from_graphql(r["requestedReviewer"])
        for r in _list(node, "reviewRequests")["nodes"]
        if r.get("requestedReviewer") and r["requestedReviewer"].get("__typename") in _PEOPLE
    ]
    comments_list = _list(node, "comments")
    changed_files = int(node.get("changedFiles", 0))
    commits_total = int(commits_list.get("totalCount", len(commits)))
    return PullRequest(
        number=int(node["number"]),
        id=int(node["fullDatabaseId"]),
        title=node.get("title") or "",
        body=node.get("body") or "",
        state=rest_pull_state(str(node["state"])),
        draft=bool(node.get("isDraft", False)),
        merged=bool(node.get("merged", False)),
        merged_at=parse_datetime(node.get("mergedAt")),
        created_at=_datetime(node.get("createdAt"), "pull_request.createdAt"),
        updated_at=_datetime(node.get("updatedAt"), "pull_request.updatedAt"),
        closed_at=parse_datetime(node.get("closedAt")),
        user=user_from_graphql(node.get("author")),
        labels=tuple(str(label["name"]) for label in _list(node, "labels")["nodes"]),
        base_ref=str(node.get("baseRefName", "")),
        head_ref=str(node.get("headRefName", "")),
        head_sha=str(node.get("headRefOid", "")),
        additions=int(node.get("additions", 0)),
        deletions=int(node.get("deletions", 0)),
        changed_files=changed_files,
        commits_count=commits_total,
        comments_count=int(comments_list.get("totalCount", 0)),
        review_comments_count=sum(int(t["comments"].get("totalCount", 0)) for t in threads),
        merged_by=user_from_graphql(node.get("mergedBy")),
        requested_reviewers=tuple(user for user in requested if user is not None),
        html_url=str(node.get("url", "")),
        reviews=tuple(review_from_graphql(n) for n in _list(node, "reviews")["nodes"]),
        commits=commits,
        files=tuple(files),
        review_comments=tuple(review_comments),
        issue_comments=tuple(issue_comment_from_graphql(n) for n in comments_list["nodes"]),
        commits_truncated=commits_total > len(commits),
        files_truncated=changed_files > len(files),
    )


def _thread_nodes(threads: JSON) -> list[JSON]:
    if "edges" in threads:
        return [edge["node"] for edge in threads["edges"]]
    return list(threads.get("nodes") or ())


@dataclass
class _Part:
    """One sub-list being collected, from its start (``front``) and, when long, from its end (``back``).

    ``after`` is where the front continues (None: the front reached the end, or met the back);
    ``before`` where the back continues towards the front (None: no back page yet).
    """

    front: list[Any] = field(default_factory=list)
    back: list[Any] = field(default_factory=list)
    total: int = 0
    after: str | None = None
    before: str | None = None
    done: bool = False
    #: Items wanted at most (GitHub's REST cap, which the snapshot keeps): nothing past it is asked.
    cap: int | None = None

    @property
    def nodes(self) -> list[Any]:
        return self.front + self.back

    @property
    def gap(self) -> int:
        return self.total - len(self.front) - len(self.back)

    def take(self, connection: JSON, *, backward: bool = False, asked: int | None = None) -> None:
        if not any(key in connection for key in ("nodes", "edges", "pageInfo")):
            # Its count alone (a list that was empty when planned): read from the start if it has items.
            self.total = int(connection.get("totalCount", 0))
            self.done = self.total == 0
            return
        nodes = list(connection.get("nodes") or [edge["node"] for edge in connection.get("edges") or ()])
        self.total = int(connection.get("totalCount", len(nodes)))
        info = connection.get("pageInfo") or {}
        if backward:
            self.back[:0] = nodes
            self.before = info.get("startCursor") if nodes else self.before
        else:
            self.front.extend(nodes)
            self.after = info.get("endCursor") if nodes else self.after
            # Without a back part GitHub's hasNextPage says it all; with one, the page closed the gap
            # unless it came back short (the list shrank meanwhile: nothing more to close).
            if not self.back:
                self.done = not info.get("hasNextPage")
            elif asked is not None and len(nodes) < asked:
                self.done = True
        if self.back and self.gap <= 0:
            self.done = True
        if self.cap is not None and len(self.front) >= self.cap:
            self.done = True

    def next_pages(
        self, number: int, kind: OverflowKind, *, both_ends: bool, page: int = MAX_PAGE
    ) -> list[Overflow]:
        """The pages that continue this list: one forward page, plus a backward one while it is long.

        ``page``: the most items a page asks (smaller for a server that times out)."""
        if self.done:
            return []
        gap = self.gap
        # More pages but no more counted (the list grew meanwhile): a full page.
        size = min(page, gap) if gap > 0 else page
        if self.cap is not None:
            size = max(1, min(size, self.cap - len(self.front)))
            # Read from the end only when the end lies within the cap.
            both_ends = both_ends and self.total <= self.cap
        pages = [Overflow(number, kind, after=self.after, first=size, before=self.before)]
        if both_ends and gap > page:
            pages.append(Overflow(number, kind, before=self.before, last=min(page, gap - page)))
        return pages

    def rounds_left(self, page: int = MAX_PAGE) -> int:
        """Queries in a row this list still needs, one page forward (and one backward) per query."""
        if self.done:
            return 0
        gap = self.gap if self.gap > 0 else page
        if self.cap is not None:
            gap = min(gap, max(0, self.cap - len(self.front)))
            if self.total > self.cap:
                return math.ceil(gap / page)
        return math.ceil(gap / (2 * page)) if not self.back and gap > page else math.ceil(gap / page)

    def whole(self) -> dict[str, Any]:
        return {"totalCount": self.total, "nodes": self.nodes}


@dataclass
class _Thread:
    cursor: str | None
    comments: _Part


class PullAssembly:
    """One pull request being put together from its first page and its overflow pages.

    ``leaves``: the lists asked of GraphQL (without ``files`` when REST brings them, with patches);
    ``caps``: the most items wanted of a list (``{"commits": 250}``: REST's list, no page past it).
    """

    def __init__(
        self, node: JSON, *, leaves: Sequence[str] = LEAVES, caps: Mapping[str, int] | None = None
    ) -> None:
        self.number = int(node["number"])
        self.leaves = tuple(leaves)
        self._node = {key: value for key, value in node.items() if key not in (*LEAVES, "reviewThreads")}
        self._parts = {name: _Part(cap=(caps or {}).get(name)) for name in self.leaves}
        for name in self.leaves:
            self._parts[name].take(_list(node, name))
        self._threads: list[_Thread] = []
        self._threads_part = _Part()
        self._take_threads(_list(node, "reviewThreads"))

    def _take_threads(self, connection: JSON) -> None:
        edges = connection.get("edges")
        if not any(key in connection for key in ("edges", "nodes", "pageInfo")):
            self._threads_part.take(connection)  # the count alone: threads read from the start, if any
            return
        if edges is None:
            msg = f"pull request #{self.number}: reviewThreads must be asked with edges (their cursors)"
            raise ValueError(msg)
        for edge in edges:
            comments = _Part()
            comments.take(edge["node"]["comments"])
            self._threads.append(_Thread(edge.get("cursor"), comments))
        self._threads_part.take({**connection, "nodes": [None] * len(edges)})

    def pending(self, page: int = MAX_PAGE) -> list[Overflow]:
        """The overflow pages needed next: per sub-list one forward page (and one from its end while
        more than two pages remain of a leaf list); threads and their comments forward only.

        ``page``: the most items a page asks (smaller for a server that times out)."""
        wanted: list[Overflow] = []
        for name in self.leaves:
            wanted += self._parts[name].next_pages(self.number, name, both_ends=True, page=page)  # type: ignore[arg-type]
        wanted += self._threads_part.next_pages(self.number, "reviewThreads", both_ends=False, page=page)
        for index, thread in enumerate(self._threads):
            for page_ in thread.comments.next_pages(
                self.number, "threadComments", both_ends=False, page=page
            ):
                before = self._threads[index - 1].cursor if index else None
                wanted.append(
                    Overflow(
                        self.number,
                        "threadComments",
                        after=page_.after,
                        first=page_.first,
                        thread_after=before,
                        thread_index=index,
                    )
                )
        return wanted

    @property
    def complete(self) -> bool:
        """Whether every sub-list is whole."""
        return not self.pending()

    def rounds_left(self, page: int = MAX_PAGE) -> int:
        """Queries in a row this PR still needs (its longest list decides)."""
        parts = [*self._parts.values(), self._threads_part, *(t.comments for t in self._threads)]
        return max((part.rounds_left(page) for part in parts), default=0)

    @property
    def changed_files(self) -> int:
        """GitHub's count of the PR's changed files (``changedFiles``)."""
        return int(self._node.get("changedFiles") or 0)

    def add(self, item: Overflow, answer: JSON | None) -> None:
        """Take the answer (the ``o<i>`` value of ``overflow_query``) to ``item``, one of :meth:`pending`."""
        if answer is None:
            msg = f"pull request #{self.number}: no answer for its {item.kind} page (gone from GitHub?)"
            raise ValueError(msg)
        if item.kind == "reviewThreads":
            self._take_threads(_list(answer, "reviewThreads"))
        elif item.kind == "threadComments":
            nodes = _list(answer, "reviewThreads").get("nodes") or ()
            if not nodes:
                msg = f"pull request #{self.number}: review thread {item.thread_index} is gone"
                raise ValueError(msg)
            self._threads[item.thread_index].comments.take(nodes[0]["comments"], asked=item.size)
        else:
            self._parts[item.kind].take(_list(answer, item.kind), backward=item.backward, asked=item.size)

    def node(self) -> dict[str, Any]:
        """The PR node with every list as collected so far (``nodes`` and ``totalCount``)."""
        node = dict(self._node)
        for name in self.leaves:
            node[name] = self._parts[name].whole()
        node["reviewThreads"] = {
            "totalCount": self._threads_part.total,
            "nodes": [{"comments": thread.comments.whole()} for thread in self._threads],
        }
        return node

    def build(
        self, *, commits_cap: int | None = None, files: Sequence[FileChange] | None = None
    ) -> PullRequest:
        """The ``PullRequest``; only once :attr:`complete`. ``files``: from REST, when not asked here."""
        if not self.complete:
            msg = f"pull request #{self.number} still needs {len(self.pending())} overflow page(s)"
            raise ValueError(msg)
        if files is None and "files" not in self.leaves:
            msg = f"pull request #{self.number}: its files were not asked of GraphQL; pass them (from REST)"
            raise ValueError(msg)
        return pull_request_from_graphql(self.node(), commits_cap=commits_cap, files=files)


def assemblies(nodes: Sequence[JSON | None]) -> list[PullAssembly]:
    """A :class:`PullAssembly` per PR node of a page (null nodes, PRs GitHub could not resolve, skipped)."""
    return [PullAssembly(node) for node in nodes if node is not None]
