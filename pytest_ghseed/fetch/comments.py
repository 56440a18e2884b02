"""The planned pull requests' comments, read through GitHub's repository-wide lists, pages in parallel.

One page of ``/pulls/comments`` or ``/issues/comments`` holds 100 comments of any pull request, where
the per-PR endpoints cost one request per PR that has comments: for a crawl of many PRs this saves
most comment requests. The lists start at the earliest planned PR's creation (or, in a refresh, at the
last recording).

The first page of each list is read at once; its ``Link: rel="last"`` tells how many pages there are.
A list of more pages than half the planned PRs is abandoned there (per-PR requests are then cheaper:
the same budget as reading page after page, without reading the pages that would be thrown away).
The other pages are requested by number, as tasks that run in the crawl's worker pool beside the
pull requests, instead of one after another before any pull request starts. A server that gives no
``rel="last"`` is followed page after page by one task, within the same budget.

A pull request takes its comments from a list only if their number equals the count in its detail,
so a comment added or removed while the pages were read is not missed: that PR asks its own list.
A list that fails (a page answered with an error that retries cannot fix, a server without these
lists) is dropped with a note, and every PR reads its own comments, as without the lists.

Comments are turned into models as each page arrives and each PR takes its own out: what stays in
memory is the comments not yet taken, never the pages' raw bodies.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pytest_ghseed.errors import FetchError
from pytest_ghseed.fetch.client import GitHubClient, MalformedAnswer, Response, list_of, parse_link_header
from pytest_ghseed.fetch.tokens import FetchCancelled
from pytest_ghseed.models import IssueComment, ReviewComment, format_datetime

#: (PullRequest attribute, repository-wide list, the key that links a comment to its PR).
REPOSITORY_COMMENT_LISTS = (
    ("review_comments", "/pulls/comments", "pull_request_url"),
    ("issue_comments", "/issues/comments", "issue_url"),
)
#: Answers of a repository-wide comment list that mean "not here", not "stop the crawl".
_ABSENT_STATUSES = (403, 404, 422)
_LINKED_NUMBER = re.compile(r"/(?:pulls|issues)/(\d+)$")
_KINDS: dict[str, type[ReviewComment] | type[IssueComment]] = {
    "review_comments": ReviewComment,
    "issue_comments": IssueComment,
}

Comment = ReviewComment | IssueComment


def linked_number(url: object) -> int | None:
    """The pull-request number a comment links to (its ``pull_request_url`` or ``issue_url``)."""
    match = _LINKED_NUMBER.search(str(url or ""))
    return int(match.group(1)) if match else None


@dataclass
class _List:
    """One repository-wide list: its comments by PR, and whether all its pages are in."""

    name: str
    link_key: str
    grouped: dict[int, list[Comment]] = field(default_factory=dict)
    outstanding: int = 0
    failed: bool = False
    complete: threading.Event = field(default_factory=threading.Event)


class RepositoryComments:
    """Comments of the planned PRs from the repository-wide lists, shared by the crawl's workers."""

    def __init__(
        self, client: GitHubClient, repo: str, *, on_note: Callable[[str], None] | None = None
    ) -> None:
        self.client = client
        self.repo = repo
        self._on_note = on_note
        self._lists: dict[str, _List] = {}
        self._lock = threading.Lock()

    # -- starting ----------------------------------------------------------------------------------

    def start(self, pending: int, since: datetime) -> list[Callable[[], None]]:
        """Read the first page of each list; return the tasks that read the rest (run them in the pool).

        ``pending``: how many PRs the crawl fetches; the page budget of each list is half of them.
        """
        budget = max(1, pending // 2)
        tasks: list[Callable[[], None]] = []
        for name, path, link_key in REPOSITORY_COMMENT_LISTS:
            query = {"sort": "created", "direction": "asc", "since": format_datetime(since), "per_page": 100}
            state = _List(name, link_key)
            try:
                first = self.client.get(f"/repos/{self.repo}{path}", query)
                self._add(state, first)
            except FetchCancelled:
                raise
            except FetchError as exc:
                # Only a saving: without the list, every PR reads its own comments.
                if exc.status in _ABSENT_STATUSES:
                    # A server without these lists (some GitHub Enterprise versions, proxies) or a token
                    # not allowed them: the other list is not asked either.
                    self._note(
                        f"the repository-wide comment lists answered HTTP {exc.status} ({path}); reading "
                        "each pull request's comments instead"
                    )
                    break
                self._note(f"the repository-wide list {path} failed ({exc}); reading each PR's own {name}")
                continue
            links = parse_link_header(first.headers.get("link", ""))
            last = _page_number(links.get("last"))
            if links.get("next") is None:
                state.complete.set()
            elif last is not None and links.get("last") is not None:
                if last > budget:
                    continue  # more pages than half the PRs: per-PR requests are cheaper
                template = links["last"]
                state.outstanding = last - 1
                tasks.extend(
                    self._page_task(state, _with_page(template, page)) for page in range(2, last + 1)
                )
            else:
                # No page count: follow the next links, one page after another, within the budget.
                state.outstanding = 1
                tasks.append(self._follow_task(state, first, budget))
            self._lists[name] = state
        return tasks

    def _page_task(self, state: _List, url: str) -> Callable[[], None]:
        def task() -> None:
            self._run(state, lambda: self._add(state, self.client.get(url)))

        return task

    def _follow_task(self, state: _List, first: Response, budget: int) -> Callable[[], None]:
        def follow() -> None:
            # ``following`` refuses a server whose next links go round in a circle.
            pages = self.client.following(first)
            last, count = first, 1
            while last.next_url is not None:
                if count >= budget:
                    state.failed = True  # abandoned: more pages than the budget
                    return
                last = next(pages)
                self._add(state, last)
                count += 1

        def task() -> None:
            self._run(state, follow)

        return task

    def _run(self, state: _List, work: Callable[[], None]) -> None:
        """Run one page task; the last one to finish marks the list complete, a failure drops it."""
        try:
            work()
        except FetchCancelled:
            state.failed = True
            state.complete.set()
            raise
        except FetchError as exc:
            state.failed = True
            self._note(
                f"a page of the repository-wide {state.name} list failed ({exc}); reading each PR's own"
            )
        except BaseException:
            # Cancelled (Ctrl-C, another worker's fatal error): release the PRs waiting for this list.
            state.failed = True
            state.complete.set()
            raise
        with self._lock:
            state.outstanding -= 1
            done = state.outstanding <= 0 or state.failed
        if done:
            state.complete.set()

    def _add(self, state: _List, response: Response) -> None:
        kind = _KINDS[state.name]
        parsed: list[tuple[int, Comment]] = []
        for item in list_of(response, "a list of comments"):
            number = linked_number(item.get(state.link_key))
            if number is None:
                continue
            try:
                parsed.append((number, kind.from_github(item)))
            except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
                # A hostile or broken server's comment: the list is dropped (``_run`` notes it).
                detail = f"missing {exc}" if isinstance(exc, KeyError) else f"{exc.__class__.__name__}: {exc}"
                raise MalformedAnswer(response, "a list of comments", detail[:200]) from None
        with self._lock:
            for number, comment in parsed:
                state.grouped.setdefault(number, []).append(comment)

    # -- using -------------------------------------------------------------------------------------

    def lists(self) -> Sequence[str]:
        """The names of the lists in use (started and not abandoned at the first page)."""
        return tuple(self._lists)

    def take(self, name: str, number: int) -> list[Comment] | None:
        """PR ``number``'s comments of list ``name`` (oldest first), once the whole list is in.

        None when the list is not in use or failed: the PR then reads its own comments. Waits while
        pages are in flight. Each PR's comments are handed out once.
        """
        state = self._lists.get(name)
        if state is None:
            return None
        state.complete.wait()
        if state.failed:
            return None
        with self._lock:
            found = state.grouped.pop(number, [])
        # Pages arrive in any order: the list's own order is by creation time, then id.
        found.sort(key=lambda c: (c.created_at, c.id))
        return found

    def _note(self, message: str) -> None:
        if self._on_note is not None:
            self._on_note(message)


def _page_number(url: str | None) -> int | None:
    if not url:
        return None
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("page")
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def _with_page(url: str, page: int) -> str:
    """``url`` (GitHub's ``rel="last"`` link) asking for page ``page`` instead; other parameters kept."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    query.append(("page", str(page)))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


__all__ = ["REPOSITORY_COMMENT_LISTS", "RepositoryComments", "linked_number"]
