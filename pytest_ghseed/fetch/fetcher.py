"""The crawl: plan which pull requests to fetch, pin the plan, then fetch each one in parallel.

Phase 1 (plan) lists the repository's pull requests sorted by creation date and picks the numbers:
the most recent ``max_prs`` (newest first, so the listing stops early), the oldest, or a
created-since/until range. The numbers are pinned in the checkpoint before any detail is fetched,
so a resumed run fetches exactly the same set even if pull requests were opened meanwhile.

Phase 2 fetches, per pull request, the detail and the sub-lists GitHub has data for: a sub-list whose
count in the detail is 0 is skipped (reviews have no count, so they are always asked). Comments come
from the repository-wide lists where that is cheaper (``comments``), their pages fetched in the same
worker pool as the pull requests. Each finished pull request goes to one writer thread, which writes
its cassette, then appends it to the checkpoint, while the workers go on with the next requests: a
kill loses only the ones in flight or waiting to be written (at most twice the workers).

Unchanged data is not written again: a pull request that a revalidation (ETags, 304) or a new answer
finds equal to the previous recording leaves its cassette as it is, and the sink may hold the
listing's traffic until something changed (a refresh that finds nothing writes no cassette).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import itertools
import queue as _queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pytest_ghseed.checkpoint import Checkpoint
from pytest_ghseed.defaults import DEFAULT_WORKERS
from pytest_ghseed.errors import FetchError, NotFound
from pytest_ghseed.fetch.client import (
    GitHubClient,
    MalformedAnswer,
    PaginationLoop,
    Response,
    list_of,
    object_of,
)
from pytest_ghseed.fetch.comments import RepositoryComments
from pytest_ghseed.fetch.probe import probe_tokens
from pytest_ghseed.fetch.ratelimit import RetryPolicy
from pytest_ghseed.fetch.tokens import FetchCancelled, TokenPool
from pytest_ghseed.jsontext import compact
from pytest_ghseed.models import (
    FetchParams,
    IssueComment,
    PullRequest,
    Repository,
    ReviewComment,
    parse_datetime,
)
from pytest_ghseed.progress import EventKind, ProgressEvent
from pytest_ghseed.secrets import Scrubber, Token, tokens_from_env
from pytest_ghseed.traffic import TrafficSink

#: The checkpoint record of a planned PR that GitHub no longer has.
GONE = "gone"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a crawl produced."""

    repository: Repository
    prs: tuple[PullRequest, ...]
    requests: int
    resumed: int  # pull requests taken from the checkpoint instead of fetched again
    quota_left: int  # primary quota left over all accounts, as GitHub last reported it
    started_at: datetime  # when the plan was pinned: no data of this result is older than this moment
    total_found: int | None  # PRs the plan's listing saw (fewer than max_prs: the listing was exhausted)
    etags: dict[int, dict[str, str]] = field(default_factory=dict)
    repository_etag: str | None = None
    notes: tuple[str, ...] = ()
    #: Discard it once the result is saved elsewhere; until then it keeps a resumable copy.
    checkpoint: Checkpoint | None = None
    #: The PRs whose data came through GraphQL (``fetch/graphql_fetcher``); the others through REST.
    graphql: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchedPull:
    """One fetched pull request with the ETags of its resources (for a later conditional refresh)."""

    pr: PullRequest
    etags: dict[str, str]

    def to_record(self) -> dict[str, Any]:
        return {"pr": self.pr.to_dict(), "etags": self.etags}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> FetchedPull:
        return cls(pr=PullRequest.from_dict(record["pr"]), etags=dict(record.get("etags") or {}))

    @staticmethod
    def pr_text(record_text: str, etags: Mapping[str, str]) -> str | None:
        """The pull request's JSON inside a record's compact, key-sorted text (``Checkpoint.stored_text``).

        The record is ``{"etags":E,"pr":P}``: P is cut out by position, E recomputed; None when the text
        is not of that shape (the caller serializes the PR itself then).
        """
        head = '{"etags":' + compact(dict(etags)) + ',"pr":'
        if not (record_text.startswith(head) and record_text.endswith("}}")):
            return None
        return record_text[len(head) : -1]


class Fetcher:
    """Fetch one repository's pull requests through a ``GitHubClient``."""

    def __init__(
        self,
        client: GitHubClient,
        repo: str,
        params: FetchParams,
        *,
        checkpoint: Checkpoint,
        workers: int = DEFAULT_WORKERS,
        on_event: Callable[[ProgressEvent], None] | None = None,
        sink: TrafficSink | None = None,
        record_filter: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        if workers < 1:
            msg = f"workers must be at least 1, got {workers}"
            raise ValueError(msg)
        self.client = client
        self.repo = repo
        self.params = params
        self.checkpoint = checkpoint
        self.workers = workers
        self.sink = sink
        #: Applied to each PR's record before it is written to the checkpoint (pseudonyms replace people).
        self.record_filter = record_filter
        self._on_event = on_event
        self._done = 0
        self._total = 0
        self._lock = threading.Lock()
        # Filled by a fresh plan: creation times, and comments read through repository-wide lists.
        self._created: dict[int, datetime] = {}
        self._comments = RepositoryComments(
            client, repo, on_note=lambda text: self._emit("note", message=text)
        )
        #: Whether this crawl found anything that differs from the previous recording (the sink writes then).
        self._changed = False

    # -- the two phases --------------------------------------------------------------------------

    def run(
        self,
        *,
        updated_since: datetime | None = None,
        previous: Mapping[int, FetchedPull] | None = None,
        known_repository: tuple[Repository, str] | None = None,
        only: Sequence[int] | None = None,
    ) -> FetchResult:
        """Plan (unless the checkpoint has a plan), then fetch every planned PR not yet fetched.

        With ``updated_since`` the plan is the PRs created or updated since then (a refresh), and
        ``previous`` supplies the ETags and data that answer unchanged resources (304, no quota);
        ``known_repository`` (the repository and its ETag) does the same for the repository itself.
        ``only`` pins the plan to these numbers without listing (re-recording lost cassettes).
        """
        started = datetime.now(UTC)
        repository, repository_etag = self.fetch_repository(known_repository)
        if known_repository is None or (repository, repository_etag) != known_repository:
            self._changed = True
        planned_now = self.checkpoint.plan is None
        if planned_now:
            if only is not None:
                numbers, total_found = sorted(set(only)), None
            elif updated_since is None:
                numbers, total_found = self.plan()
            else:
                numbers, total_found = self.plan_updated_since(updated_since)
            self.checkpoint.set_plan(numbers, total_found)
        plan = list(self.checkpoint.plan or [])
        pending = self.checkpoint.pending()
        page_tasks: list[Callable[[], None]] = []
        if planned_now and pending and only is None:
            # A refresh reads only the comments written or edited since the last recording.
            earliest = updated_since or min(
                (self._created[n] for n in pending if n in self._created), default=None
            )
            if earliest is not None:
                page_tasks = self._comments.start(len(pending), earliest)
        resumed = len(plan) - len(pending)
        self._total = len(plan)
        self._done = resumed
        self._emit("plan", message=f"{len(pending)} to fetch, {resumed} already in the checkpoint")
        fetched_now = self._fetch_all(pending, previous or {}, page_tasks)
        self.checkpoint.mark_completed()
        if self.sink is not None:
            # A crawl that changed nothing (a refresh of an unchanged repository) writes no cassette.
            if self._changed:
                self.sink.flush_listing()
            else:
                self.sink.discard_listing()
        fetched = self._collect(plan, fetched_now)
        self._emit("done")
        return FetchResult(
            repository=repository,
            prs=tuple(f.pr for f in fetched),
            requests=self.client.requests_made,
            resumed=resumed,
            quota_left=self.client.pool.total_remaining,
            started_at=parse_datetime(self.checkpoint.planned_at) or started,
            total_found=self.checkpoint.total_found,
            etags={f.pr.number: f.etags for f in fetched},
            repository_etag=repository_etag,
            notes=tuple(self.checkpoint.notes),
            checkpoint=self.checkpoint,
        )

    def fetch_repository(self, known: tuple[Repository, str] | None = None) -> tuple[Repository, str | None]:
        """The repository and its ETag; a known one is revalidated (304 costs no quota)."""
        response = self.client.get(f"/repos/{self.repo}", etag=known[1] if known else None)
        if response.status == 304 and known is not None:
            return known
        repository = _build(
            response, "a repository", Repository.from_github, object_of(response, "a repository")
        )
        if repository.full_name.casefold() != self.repo.casefold():
            # GitHub answers a renamed repository through a redirect to /repositories/ID; an answer
            # for another name at this very address is not GitHub's, and must not be recorded as ours.
            redirected = "/repositories/" in response.url
            if not redirected:
                msg = (
                    f"the server answered GET /repos/{self.repo} with another repository "
                    f"({repository.full_name!r}); refusing to record it under {self.repo}. Check --base-url"
                )
                raise FetchError(msg)
        return repository, response.etag

    def plan(self) -> tuple[list[int], int]:
        """The pull-request numbers to fetch, and how many the listing saw."""
        newest_first = self.params.order == "recent"
        query = {
            "state": self.params.state,
            "sort": "created",
            "direction": "desc" if newest_first else "asc",
        }
        chosen: list[int] = []
        found = 0
        for item in self._list_pages(query):
            found += 1
            created = _list_item_date(item, "created_at")
            if self._before_range(created):
                if newest_first:
                    break
                continue
            if self._after_range(created):
                if newest_first:
                    continue
                break
            chosen.append(int(item["number"]))
            self._created[int(item["number"])] = created
            if self.params.max_prs is not None and len(chosen) >= self.params.max_prs:
                break
        return sorted(chosen), found

    def plan_updated_since(self, since: datetime) -> tuple[list[int], int]:
        """The PRs (within the parameters' state and created range) created or updated since ``since``."""
        query = {"state": self.params.state, "sort": "updated", "direction": "desc"}
        chosen: list[int] = []
        found = 0
        for item in self._list_pages(query):
            updated = _list_item_date(item, "updated_at")
            created = _list_item_date(item, "created_at")
            if updated < since:
                break  # sorted by updated, newest first: everything after is older
            found += 1
            if not self._before_range(created) and not self._after_range(created):
                chosen.append(int(item["number"]))
        return sorted(chosen), found

    # -- phase 2 ---------------------------------------------------------------------------------

    def _fetch_all(
        self,
        numbers: list[int],
        previous: Mapping[int, FetchedPull],
        page_tasks: Sequence[Callable[[], None]] = (),
    ) -> dict[int, FetchedPull]:
        """Fetch ``numbers`` in ``workers`` threads, after the comment pages (queued first: no PR waits
        on a page that has not started); return what was fetched, by number. The first real error (or
        Ctrl-C) stops them all.

        A worker hands each finished PR to one writer thread and goes on with the next request: the
        writer makes it durable (cassette, then checkpoint record), taking every PR that finishes
        within ``_WRITE_WINDOW`` at once (one fsync of the cassette folder, one checkpoint append).
        Written in the workers, the files held each worker off the network for about a third of its
        time (measured at 300 PRs). At most ``2 * workers`` finished PRs wait besides the writer's
        batch, so memory stays flat; a kill loses only those.

        Daemon threads, not a ThreadPoolExecutor: on Ctrl-C or a fatal error the crawl is cancelled
        (waiting workers wake at once), the main thread gives in-flight requests a short grace and
        the writer the time to write what is finished, then returns; a request stuck on a silent
        server never holds the process (an executor's threads are joined at interpreter exit).
        """
        if not numbers:
            return {}
        queue: collections.deque[Callable[[], None] | int] = collections.deque([*page_tasks, *numbers])
        lock = threading.Lock()
        errors: list[BaseException] = []
        fetched: dict[int, FetchedPull] = {}
        finished: _queue.Queue[_Finished | None] = _queue.Queue(maxsize=2 * self.workers)

        def fail(exc: BaseException) -> None:
            with lock:
                errors.append(exc)
            self.client.pool.cancel()

        def work() -> None:
            while True:
                with lock:
                    if errors or self.client.pool.cancelled or not queue:
                        return
                    task = queue.popleft()
                try:
                    if isinstance(task, int):
                        _hand_over(finished, self.fetch_pull(task, previous.get(task)), writer)
                    else:
                        task()
                except BaseException as exc:
                    fail(exc)
                    return

        def write() -> None:
            while True:
                batch = [finished.get()]
                # Gather what finishes within the window (the end of the crawl, None, closes it at once).
                window_ends = time.monotonic() + _WRITE_WINDOW
                with contextlib.suppress(_queue.Empty):
                    while batch[-1] is not None and len(batch) < finished.maxsize + 1:
                        left = window_ends - time.monotonic()
                        batch.append(finished.get(timeout=left) if left > 0 else finished.get_nowait())
                try:
                    written = self._write([item for item in batch if item is not None])
                except BaseException as exc:
                    fail(exc)
                    return
                with lock:
                    fetched.update(written)
                if None in batch:
                    return

        writer = threading.Thread(target=write, name="ghseed-write", daemon=True)
        writer.start()
        threads = [
            threading.Thread(target=work, name=f"ghseed-fetch-{i}", daemon=True)
            for i in range(min(self.workers, len(queue)))
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.2)  # short joins keep the main thread responsive to Ctrl-C
            # The writer stops after what is queued; one that stopped on an error has it in ``errors``.
            with contextlib.suppress(FetchCancelled):
                _hand_over(finished, None, writer)
            while writer.is_alive():
                writer.join(timeout=0.2)
        except BaseException:
            self.client.pool.cancel()
            deadline = time.monotonic() + _CANCEL_GRACE
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
            # What the workers finished is written before the crawl gives up (a rerun resumes after it).
            with contextlib.suppress(FetchCancelled):
                _hand_over(finished, None, writer, until=deadline + _CANCEL_GRACE)
            writer.join(timeout=max(0.0, deadline + _CANCEL_GRACE - time.monotonic()))
            raise
        # The first real error, not the FetchCancelled of threads stopped because of it.
        real = [e for e in errors if not isinstance(e, FetchCancelled)]
        if real or errors:
            raise (real or errors)[0]
        return fetched

    def fetch_pull(self, number: int, previous: FetchedPull | None = None) -> _Finished:
        """Fetch one pull request with its sub-lists: what ``_write`` makes durable.

        With ``previous``, every resource is revalidated with its stored ETag: an unchanged one
        answers 304 (no quota) and keeps the previous data.
        """
        old_etags = previous.etags if previous is not None else {}
        base = f"/repos/{self.repo}"
        try:
            detail_response = self.client.get(f"{base}/pulls/{number}", etag=old_etags.get("detail"))
            if detail_response.status == 200:
                _check_detail(detail_response, number, self.repo)
        except NotFound:
            # Deleted since the plan was made (spam is removed, for one): noted and skipped, so that
            # a pinned plan cannot block every resume.
            self._changed = True
            return _Finished(number, {GONE: True}, None, changed=True)
        if detail_response.status == 304 and previous is not None:
            fetched = previous
        else:
            fetched = self._fetch_sub_lists(number, detail_response, previous)
        record = fetched.to_record()
        if self.record_filter is not None:
            filtered = self.record_filter(record)
            if filtered != record:
                record, fetched = filtered, FetchedPull.from_record(filtered)
        # Compared as it will be stored (people replaced), so an unchanged PR counts as unchanged.
        changed = previous is None or fetched.pr != previous.pr
        if changed:
            self._changed = True
        return _Finished(number, record, fetched, changed=changed)

    def _write(self, batch: Sequence[_Finished]) -> dict[int, FetchedPull]:
        """Make finished PRs durable: their cassettes, then their checkpoint records (one append).

        Cassette first: once the checkpoint counts a PR as done, its traffic is on disk, and so is the
        listing's (its comments may come from the repository-wide lists). An unchanged PR's cassette
        already holds what gives its data: it is left as it is. Returns the PRs as stored.
        """
        if not batch:
            return {}
        with_traffic: list[_Finished] = []
        try:
            for item in batch:
                if self.sink is not None:
                    if item.changed and item.pull is not None:
                        self.sink.flush_listing()
                        self.sink.flush_pr(item.number)
                    else:
                        self.sink.discard_pr(item.number)
                with_traffic.append(item)
        finally:
            # Also when a later cassette failed: the PRs whose traffic is on disk count as done, and
            # a rerun resumes after them. Their cassettes are made durable first (one fsync of the
            # folder for the batch). The checkpoint scrubs what it writes; a PR whose text held a
            # secret comes back scrubbed.
            if self.sink is not None:
                self.sink.sync()
            stored = self.checkpoint.record_prs([(item.number, item.record) for item in with_traffic])
        written: dict[int, FetchedPull] = {}
        for item, kept in zip(with_traffic, stored, strict=True):
            if item.pull is not None:
                written[item.number] = (
                    item.pull if kept is item.record else FetchedPull.from_record(dict(kept))
                )
        for item in batch:
            with self._lock:
                self._done += 1
            if item.pull is None:
                self._emit("note", message=f"PR #{item.number} no longer exists (404); skipped")
            else:
                self._emit("pr_done")
        return written

    def _fetch_sub_lists(
        self, number: int, detail_response: Response, previous: FetchedPull | None
    ) -> FetchedPull:
        detail = detail_response.data
        old_etags = previous.etags if previous is not None else {}
        etags: dict[str, str] = {}
        if detail_response.etag:
            etags["detail"] = detail_response.etag
        raw: dict[str, list[Any]] = {}
        kept: dict[str, Any] = {}
        pulls, issues = f"/repos/{self.repo}/pulls/{number}", f"/repos/{self.repo}/issues/{number}"
        for name, path, count_key in _SUB_LISTS:
            # Reviews have no count in the detail: always asked. A count of 0 means nothing to fetch.
            count = int(detail.get(count_key, 1)) if count_key else None
            if count == 0:
                raw[name] = []
                continue
            prefetched = self._comments.take(name, number)
            if prefetched is not None:
                # A refresh read only recent comments: add them to what was recorded before.
                merged = _merge_comments(getattr(previous.pr, name) if previous else (), prefetched)
                if len(merged) == count:
                    kept[name] = merged
                    continue
            url = (issues if name == "issue_comments" else pulls) + path
            page = self.client.get_all(url, etag=old_etags.get(name))
            if page.not_modified and previous is not None:
                kept[name] = getattr(previous.pr, name)
                etags[name] = old_etags[name]
                continue
            raw[name] = page.items
            if page.etag:
                etags[name] = page.etag
        pr = _build(
            detail_response,
            f"pull request #{number} with its reviews, commits, files and comments",
            lambda body: PullRequest.from_github(
                body,
                reviews=raw.get("reviews", []),
                commits=raw.get("commits", []),
                files=raw.get("files", []),
                review_comments=raw.get("review_comments", []),
                issue_comments=raw.get("issue_comments", []),
            ),
            detail,
        )
        pr = dataclasses.replace(pr, **kept)
        pr = dataclasses.replace(
            pr,
            commits_truncated=pr.commits_count > len(pr.commits),
            files_truncated=pr.changed_files > len(pr.files),
        )
        return FetchedPull(pr=pr, etags=etags)

    # -- helpers ---------------------------------------------------------------------------------

    def _list_pages(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Items of every list page, each pull request once (pages shift while new PRs open)."""
        seen: set[int] = set()
        first = self.client.get(f"/repos/{self.repo}/pulls", {**query, "per_page": 100})
        stale_pages = 0
        for response in itertools.chain([first], self.client.following(first)):
            new = 0
            for item in list_of(response, "a list of pull requests"):
                number = item.get("number")
                if not _is_number(number):
                    raise MalformedAnswer(
                        response, "a list of pull requests", f"an item's number is {number!r}"
                    )
                assert isinstance(number, int)
                if number not in seen:
                    seen.add(number)
                    new += 1
                    yield item
            # Pages shift while PRs open, so a page may repeat a few; page after page of nothing new
            # is a server going round in circles under new URLs.
            stale_pages = 0 if new else stale_pages + 1
            if stale_pages >= _MAX_STALE_PAGES:
                msg = (
                    f"the server's list of pull requests brought nothing new for {stale_pages} pages in a row "
                    f"(last: {response.url}); is the base URL a GitHub API? Check --base-url"
                )
                raise PaginationLoop(msg)

    def _before_range(self, created: datetime) -> bool:
        return self.params.since is not None and created < self.params.since

    def _after_range(self, created: datetime) -> bool:
        return self.params.until is not None and created > self.params.until

    def _collect(self, plan: list[int], fetched_now: Mapping[int, FetchedPull]) -> list[FetchedPull]:
        """Every planned PR: those fetched by this run as they are, the others from the checkpoint."""
        earlier = {n for n in plan if n not in fetched_now}
        records = dict(self.checkpoint.iter_pr_data(earlier)) if earlier else {}
        missing = [n for n in earlier if n not in records]
        if missing:
            msg = (
                f"the checkpoint lacks {len(missing)} planned pull requests of {self.repo} "
                f"(first: #{min(missing)}) after the crawl; rerun to fetch them"
            )
            raise FetchError(msg)
        return [
            fetched_now[n] if n in fetched_now else FetchedPull.from_record(records[n])
            for n in plan
            if n in fetched_now or not records[n].get(GONE)
        ]

    def _emit(self, kind: EventKind, message: str = "") -> None:
        if self._on_event is None:
            return
        self._on_event(
            ProgressEvent(
                kind=kind,
                repo=self.repo,
                prs_done=self._done,
                prs_total=self._total,
                requests=self.client.requests_made,
                quota=self.client.pool.quota(),
                message=message,
            )
        )


#: Seconds a cancelled crawl waits for requests in flight to finish their records.
_CANCEL_GRACE = 1.0

#: Seconds the writer gathers finished PRs before writing them together: their cassettes then take one
#: fsync of the folder and their records one checkpoint append, instead of one each (a 300-PR crawl:
#: 19 of each instead of about 300; 0.89x of its CPU time, README "Checkpoint"). A kill also loses the
#: PRs gathered so far (besides those queued for the writer), which a rerun fetches again.
_WRITE_WINDOW = 0.25


@dataclass(frozen=True, slots=True)
class _Finished:
    """A fetched PR on its way from a worker to the writer: its checkpoint record and its data (None: gone)."""

    number: int
    record: dict[str, Any]
    pull: FetchedPull | None
    changed: bool


def _hand_over(
    finished: _queue.Queue[_Finished | None],
    item: _Finished | None,
    writer: threading.Thread,
    *,
    until: float | None = None,
) -> None:
    """Queue ``item`` for the writer, waiting while the queue is full; ``FetchCancelled`` if the writer
    has stopped (it failed: its error stops the crawl) or ``until`` (a monotonic time) has passed."""
    while True:
        try:
            finished.put(item, timeout=0.1)
            return
        except _queue.Full:
            if not writer.is_alive() or (until is not None and time.monotonic() > until):
                raise FetchCancelled("the writer of finished pull requests stopped") from None


#: List pages in a row that bring no new pull request before the listing counts as a loop.
_MAX_STALE_PAGES = 3


def _is_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**53


def _list_item_date(item: Mapping[str, Any], key: str) -> datetime:
    value = item.get(key)
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        msg = (
            f"pull request #{item.get('number')} in the list has {key}={value!r}, not a date; GitHub always "
            "sends one. Is the base URL a GitHub API? Check --base-url"
        )
        raise FetchError(msg)
    return parsed


def _check_detail(response: Response, number: int, repo: str) -> None:
    """The detail must be this pull request of this repository (not another one's, not another shape)."""
    detail = object_of(response, f"pull request #{number}")
    if detail.get("number") != number:
        raise MalformedAnswer(response, f"pull request #{number}", f"its number is {detail.get('number')!r}")
    base = detail.get("base")
    base_repo = base.get("repo") if isinstance(base, dict) else None
    full_name = base_repo.get("full_name") if isinstance(base_repo, dict) else None
    if isinstance(full_name, str) and full_name.casefold() != repo.casefold():
        msg = (
            f"the server answered pull request #{number} of {repo} with one of {full_name!r}; refusing to "
            "record it. Check --base-url"
        )
        raise FetchError(msg)


def _build(response: Response, what: str, factory: Callable[[Any], _T], data: Any) -> _T:
    """``factory(data)``, or a ``MalformedAnswer`` naming what was wrong (a missing key, a bad value)."""
    try:
        return factory(data)
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else f"{exc.__class__.__name__}: {exc}"
        raise MalformedAnswer(response, what, detail[:200]) from None


_T = TypeVar("_T")


def _merge_comments(
    old: Sequence[ReviewComment | IssueComment], new: Sequence[ReviewComment | IssueComment]
) -> tuple[Any, ...]:
    """Recorded comments updated by newer recordings of the same comments (by id), oldest first."""
    by_id = {comment.id: comment for comment in old}
    by_id.update({comment.id: comment for comment in new})
    return tuple(sorted(by_id.values(), key=lambda c: (c.created_at, c.id)))


#: (PullRequest attribute, path under the PR, count key in the detail or None when GitHub gives none).
_SUB_LISTS: tuple[tuple[str, str, str | None], ...] = (
    ("reviews", "/reviews", None),
    ("commits", "/commits", "commits"),
    ("files", "/files", "changed_files"),
    ("review_comments", "/comments", "review_comments"),
    ("issue_comments", "/comments", "comments"),
)


@dataclasses.dataclass
class CrawlStart:
    """What every crawl, REST or GraphQL, starts with: the tokens probed, their pool, the checkpoint.

    The notes said on the way (a token dropped, a checkpoint resumed) are sent as progress events when
    someone listens, and otherwise travel with the result (``with_notes``).
    """

    full_name: str
    tokens: list[Token]
    pool: TokenPool
    checkpoint: Checkpoint
    on_event: Callable[[ProgressEvent], None] | None
    #: Said before the crawl and not by the checkpoint (whose notes the result carries already).
    notes: list[str]

    @classmethod
    def open(
        cls,
        full_name: str,
        params: FetchParams,
        *,
        checkpoint_path: Path,
        base_url: str,
        tokens: Sequence[str | Token] | None,
        max_in_flight: int,
        max_wait: float,
        policy: RetryPolicy | None,
        scrubber: Scrubber | None,
        on_event: Callable[[ProgressEvent], None] | None,
    ) -> CrawlStart:
        token_list = tokens_from_env() if tokens is None else Token.wrap_all(tokens)
        probed = probe_tokens(base_url, token_list, policy=policy, max_wait=max_wait)
        pool = TokenPool(
            probed.probes, max_in_flight=max_in_flight, max_wait=max_wait, on_event=on_event, repo=full_name
        )
        checkpoint = Checkpoint.open(
            checkpoint_path, repo=full_name, params=params.to_dict(), scrubber=scrubber
        )
        start = cls(full_name, token_list, pool, checkpoint, on_event, [])
        for note in [*probed.notes, *pool.notes]:
            start.note(note)
        for note in checkpoint.notes:
            start.note(note, kept=False)
        return start

    def note(self, message: str, *, kept: bool = True) -> None:
        """Say ``message`` now to a listener; otherwise keep it for the result (unless ``kept`` is False)."""
        if self.on_event is not None:
            self.on_event(ProgressEvent(kind="note", repo=self.full_name, message=message))
        elif kept:
            self.notes.append(message)

    def with_notes(self, result: FetchResult) -> FetchResult:
        """The result, carrying the notes nobody saw live before its own."""
        return dataclasses.replace(result, notes=(*self.notes, *result.notes)) if self.notes else result
