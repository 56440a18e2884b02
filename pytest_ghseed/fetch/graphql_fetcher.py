"""The GraphQL crawl: plan through GraphQL, fetch pull requests many per query, files through REST.

Same two phases as the REST crawl (``fetcher``), same checkpoint, same models:

1. **Plan** (``Fetcher.plan`` and ``plan_updated_since`` themselves, reading GraphQL's listing:
   100 PRs a point, each with the count of every list, the repository's fields for free). The
   numbers are pinned in the checkpoint before any pull request is fetched.
2. **Fetch**: ``graphql_schedule.Scheduler`` fills each query up to 149 requests (1 point) with the
   overflow pages of started PRs and the first pages of new ones; ``workers`` threads send queries
   (at most half of them GraphQL at once) and, unless ``--no-patches``, each PR's ``/pulls/{n}/files``
   through REST: GraphQL has no patch and no previous filename. A PR is appended to the checkpoint
   once it is whole, after its traffic is on disk (every GraphQL answer gets its cassette at once).

The snapshot keeps REST's lists: commits stop at 250 (``commits_truncated``), files at 3,000, and no
page past a cap is asked. Without patches, a file's ``patch`` and ``previous_filename`` are None;
the fetch parameters say so (``FetchParams.patches``), so such a recording never serves a request
that needs patches. GitHub's timeouts shrink the queries (``QueryTimeout``).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pytest_ghseed.checkpoint import Checkpoint
from pytest_ghseed.defaults import COMMITS_CAP, LIST_CAPS
from pytest_ghseed.errors import FetchError, NotFound
from pytest_ghseed.fetch.client import MalformedAnswer, Response
from pytest_ghseed.fetch.fetcher import _CANCEL_GRACE, GONE, FetchedPull, Fetcher, FetchResult
from pytest_ghseed.fetch.graphql_client import GraphQLClient, QueryTimeout
from pytest_ghseed.fetch.graphql_schedule import Batch, Scheduler
from pytest_ghseed.fetch.tokens import FetchCancelled
from pytest_ghseed.graphql.convert import PullAssembly
from pytest_ghseed.graphql.queries import (
    DEFAULT_SIZES,
    LEAVES,
    LEAVES_WITHOUT_FILES,
    Counts,
    Overflow,
    PageSizes,
    counts_of,
    plan_query,
)
from pytest_ghseed.models import FetchParams, FileChange, Repository, parse_datetime
from pytest_ghseed.progress import EventKind, ProgressEvent
from pytest_ghseed.traffic import TrafficSink

#: What a checkpoint record of a GraphQL-fetched PR says (``record["api"]``).
API_MARK = "graphql"
#: A PR's files from REST (with patches) and the list's ETag.
Files = tuple[list[FileChange], str | None]
#: REST's ``state`` filter -> GraphQL's ``PullRequestState`` values.
_STATES: dict[str, tuple[str, ...]] = {"all": (), "open": ("OPEN",), "closed": ("CLOSED", "MERGED")}


class _Planner(Fetcher):
    """``Fetcher``'s plan, over GraphQL's listing: it keeps each PR's counts."""

    def __init__(self, client: GraphQLClient, repo: str, params: FetchParams, checkpoint: Checkpoint) -> None:
        super().__init__(client, repo, params, checkpoint=checkpoint)
        self.graphql = client
        self.counts: dict[int, Counts] = {}

    def _list_pages(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        document = plan_query(
            order="UPDATED_AT" if query["sort"] == "updated" else "CREATED_AT",
            direction="DESC" if query["direction"] == "desc" else "ASC",
            states=_STATES[str(query["state"])],
        )
        after: str | None = None
        while True:
            answer = self.graphql.query(document, {**_where(self.repo), "after": after})
            repository = _repository_node(answer.data, self.repo)
            connection = repository.get("pullRequests")
            if not isinstance(connection, Mapping):
                raise _malformed(self.repo, TypeError("pullRequests is not a connection"))
            for node in connection.get("nodes") or ():
                number = int(node["number"])
                self.counts[number] = counts_of(node)
                yield {
                    "number": number,
                    "created_at": node.get("createdAt"),
                    "updated_at": node.get("updatedAt"),
                }
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            after = str(info["endCursor"])


class GraphQLFetcher:
    """Fetch one repository's pull requests through GitHub's GraphQL API (patches through REST)."""

    def __init__(
        self,
        client: GraphQLClient,
        repo: str,
        params: FetchParams,
        *,
        checkpoint: Checkpoint,
        workers: int,
        on_event: Callable[[ProgressEvent], None] | None = None,
        sink: TrafficSink | None = None,
        record_filter: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        sizes: PageSizes = DEFAULT_SIZES,
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
        self.record_filter = record_filter
        self.sizes = sizes
        self._on_event = on_event
        self._cond = threading.Condition()
        self._done = 0
        self._total = 0
        #: The PRs this run finished, as built: ``_collect`` reads only the others back from the log.
        self._fetched_now: dict[int, FetchedPull] = {}

    # -- the two phases --------------------------------------------------------------------------

    def run(
        self,
        *,
        updated_since: datetime | None = None,
        only: Sequence[int] | None = None,
        known_repository: tuple[Repository, str] | None = None,
    ) -> FetchResult:
        """Plan (unless the checkpoint has a plan), then fetch every planned PR not yet fetched."""
        started = datetime.now(UTC)
        planner = _Planner(self.client, self.repo, self.params, self.checkpoint)
        # The repository through REST (one request; a 304 on a refresh): GitHub's own body is recorded,
        # so the recording serves REST clients as a REST one does, and both rebuild the same model.
        repository, repository_etag = planner.fetch_repository(known_repository)
        if self.checkpoint.plan is None:
            if only is not None:
                numbers, total_found = sorted(set(only)), None
            elif updated_since is None:
                numbers, total_found = planner.plan()
            else:
                numbers, total_found = planner.plan_updated_since(updated_since)
            self.checkpoint.set_plan(numbers, total_found)
        plan = list(self.checkpoint.plan or [])
        pending = self.checkpoint.pending()
        if self.sink is not None:
            # The repository's answer and the plan's queries are recorded when the crawl has something
            # to record; a refresh that found nothing new (the repository unchanged, no PR updated)
            # writes no cassette, as a REST refresh does (its sink held the listing until now).
            unchanged = known_repository is not None and (repository, repository_etag) == known_repository
            if unchanged and not pending:
                self.sink.discard_listing()
                self.sink.discard_graphql()
            else:
                self.sink.flush_listing()
                self.sink.flush_graphql()
        self._total, self._done = len(plan), len(plan) - len(pending)
        resumed = self._done
        self._emit("plan", message=f"{len(pending)} to fetch, {resumed} already in the checkpoint")
        self._crawl(pending, {n: planner.counts[n] for n in pending if n in planner.counts})
        self.checkpoint.mark_completed()
        fetched, graphql = self._collect(plan)
        self._emit("done")
        return FetchResult(
            repository=repository,
            prs=tuple(f.pr for f in fetched),
            requests=self.client.requests_made + self.client.queries_made,
            resumed=resumed,
            quota_left=self.client.pool.total_remaining,
            started_at=parse_datetime(self.checkpoint.planned_at) or started,
            total_found=self.checkpoint.total_found,
            etags={f.pr.number: f.etags for f in fetched},
            repository_etag=repository_etag,
            notes=tuple(self.checkpoint.notes),
            checkpoint=self.checkpoint,
            graphql=graphql,
        )

    def _crawl(self, numbers: list[int], counts: Mapping[int, Counts]) -> None:
        """Fetch ``numbers`` in ``workers`` threads; the first real error (or Ctrl-C) stops them all."""
        if not numbers:
            return
        crawl = _Crawl(self, numbers, counts)
        threads = [
            threading.Thread(target=crawl.work, name=f"ghseed-graphql-{i}", daemon=True)
            for i in range(min(self.workers, max(1, len(numbers))))
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.2)  # short joins keep the main thread responsive to Ctrl-C
        except BaseException:
            self.client.pool.cancel()
            deadline = time.monotonic() + _CANCEL_GRACE
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
            raise
        real = [e for e in crawl.errors if not isinstance(e, FetchCancelled)]
        if real or crawl.errors:
            raise (real or crawl.errors)[0]

    # -- one pull request done -------------------------------------------------------------------

    def finish(self, done: Sequence[tuple[PullAssembly, Files | None]]) -> None:
        """Build whole PRs and append them to the checkpoint at once (their traffic is on disk first)."""
        records: list[tuple[int, dict[str, Any]]] = []
        for assembly, files in done:
            try:
                pr = assembly.build(commits_cap=COMMITS_CAP, files=files[0] if files is not None else None)
            except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
                raise _malformed(self.repo, exc) from None
            if self.sink is not None:
                self.sink.flush_pr(pr.number)  # its REST traffic (the files), before the checkpoint counts it
            etags = {"files": files[1]} if files is not None and files[1] else {}
            record = {**FetchedPull(pr, etags).to_record(), "api": API_MARK}
            if self.record_filter is not None:
                record = self.record_filter(record)
            records.append((pr.number, record))
        if self.sink is not None:
            self.sink.sync()
        # One durable write for the PRs one answer completed: GraphQL finishes them many at a time.
        stored = self.checkpoint.record_prs(records)
        # As stored (people replaced, anything secret scrubbed), so the result equals what is on disk.
        built = {
            number: FetchedPull.from_record(dict(data))
            for (number, _), data in zip(records, stored, strict=True)
        }
        with self._cond:
            self._done += len(records)
            self._fetched_now.update(built)
        if records:
            self._emit("pr_done")

    def gone(self, number: int) -> None:
        """PR ``number`` is no longer on GitHub (deleted since the plan): noted and skipped."""
        self.checkpoint.record_pr(number, {GONE: True})
        with self._cond:
            self._done += 1
        self._emit("note", message=f"PR #{number} no longer exists (NOT_FOUND); skipped")

    def _collect(self, plan: list[int]) -> tuple[list[FetchedPull], tuple[int, ...]]:
        """Every planned PR (those this run finished as built, the others from the log) and which of
        them came through GraphQL."""
        now = self._fetched_now
        earlier = {n for n in plan if n not in now}
        records = dict(self.checkpoint.iter_pr_data(earlier)) if earlier else {}
        missing = sorted(n for n in earlier if n not in records)
        if missing:
            msg = (
                f"the checkpoint lacks {len(missing)} planned pull requests of {self.repo} "
                f"(first: #{missing[0]}) after the crawl; rerun to fetch them"
            )
            raise FetchError(msg)
        kept = [n for n in plan if n in now or not records[n].get(GONE)]
        graphql = tuple(n for n in kept if n in now or records[n].get("api") == API_MARK)
        return [now[n] if n in now else FetchedPull.from_record(records[n]) for n in kept], graphql

    def _emit(self, kind: EventKind, message: str = "") -> None:
        if self._on_event is None:
            return
        self._on_event(
            ProgressEvent(
                kind=kind,
                repo=self.repo,
                prs_done=self._done,
                prs_total=self._total,
                requests=self.client.requests_made + self.client.queries_made,
                quota=self.client.pool.quota("graphql"),
                message=message,
            )
        )


class _Crawl:
    """The shared state of one crawl's worker threads: the scheduler, the REST files, what is left."""

    def __init__(self, fetcher: GraphQLFetcher, numbers: list[int], counts: Mapping[int, Counts]) -> None:
        self.fetcher = fetcher
        self.patches = fetcher.params.patches
        self.scheduler = Scheduler(
            numbers,
            counts=counts,
            leaves=LEAVES_WITHOUT_FILES if self.patches else LEAVES,
            caps=LIST_CAPS,
            sizes=fetcher.sizes,
        )
        self.cond = fetcher._cond
        self.left = set(numbers)
        self.errors: list[BaseException] = []
        self.graphql_limit = max(1, fetcher.workers // 2)
        self.graphql_in_flight = 0
        # Files through REST (with patches): to fetch, fetched, and whole PRs waiting for theirs.
        self.files_todo: collections.deque[int] = collections.deque()
        self.files: dict[int, Files] = {}
        self.waiting: dict[int, PullAssembly] = {}
        self.queued: set[int] = set()
        if self.patches:
            for number in numbers:
                if counts.get(number, {}).get("files", 0) > 0:
                    self._queue_files(number)

    def work(self) -> None:
        pool = self.fetcher.client.pool
        try:
            while (task := self._next()) is not None:
                if isinstance(task, Batch):
                    self._query(task)
                else:
                    self._fetch_files(task)
        except BaseException as exc:
            with self.cond:
                self.errors.append(exc)
                self.cond.notify_all()
            pool.cancel()

    def _next(self) -> Batch | int | None:
        with self.cond:
            while True:
                if self.errors or self.fetcher.client.pool.cancelled or not self.left:
                    return None
                if self.graphql_in_flight < self.scheduler.concurrency(self.graphql_limit):
                    batch = self.scheduler.next_batch()
                    if batch is not None:
                        self.graphql_in_flight += 1
                        return batch
                if self.files_todo:
                    return self.files_todo.popleft()
                self.cond.wait(0.2)

    def _query(self, batch: Batch) -> None:
        fetcher = self.fetcher
        try:
            answer = fetcher.client.query(batch.document(), _where(fetcher.repo), may_shrink=True)
        except QueryTimeout as exc:
            with self.cond:
                self.graphql_in_flight -= 1
                shrunk = self.scheduler.shrink(batch)
                self.cond.notify_all()
            if not shrunk:
                msg = f"{exc}; GitHub times out even on the smallest query for PR #{min(batch.numbers)}"
                raise FetchError(msg) from None
            fetcher._emit(
                "note", message=f"GitHub timed out on a query of {batch.requests} requests; asking less"
            )
            return
        except BaseException:
            with self.cond:
                self.graphql_in_flight -= 1
                self.scheduler.give_back(batch)
                self.cond.notify_all()
            raise
        if fetcher.sink is not None:
            fetcher.sink.flush_graphql()  # the answer's cassette, before any PR of it counts as done
        gone = _gone(answer.errors)
        with self.cond:
            self.graphql_in_flight -= 1
            try:
                outcome = self.scheduler.take(batch, answer.data, gone)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise _malformed(fetcher.repo, exc) from None
            finally:
                self.cond.notify_all()
            ready: list[tuple[PullAssembly, Files | None]] = []
            for assembly in outcome.complete:
                if self.patches and assembly.changed_files > 0 and assembly.number not in self.files:
                    self._queue_files(assembly.number)
                    self.waiting[assembly.number] = assembly
                else:
                    ready.append((assembly, self.files.pop(assembly.number, None) if self.patches else None))
            for page in batch.firsts:
                if self.patches and page.number not in self.queued and page.number not in outcome.gone:
                    self._queue_files(page.number)  # counts were unknown: asked once its first page came
            self.left -= {assembly.number for assembly, _ in ready} | set(outcome.gone)
        for number in outcome.gone:
            fetcher.gone(number)
        fetcher.finish(
            [(a, files if files is not None or not self.patches else ([], None)) for a, files in ready]
        )

    def _fetch_files(self, number: int) -> None:
        fetcher = self.fetcher
        try:
            page = fetcher.client.get_all(f"/repos/{fetcher.repo}/pulls/{number}/files")
            files = [FileChange.from_github(item) for item in page.items]
        except NotFound:
            with self.cond:
                self.left.discard(number)
            fetcher.gone(number)
            return
        except (KeyError, TypeError, ValueError) as exc:
            response = Response(200, {}, None, f"/repos/{fetcher.repo}/pulls/{number}/files")
            raise MalformedAnswer(response, "a list of files", f"{exc.__class__.__name__}: {exc}") from None
        with self.cond:
            assembly = self.waiting.pop(number, None)
            if assembly is None:
                self.files[number] = (files, page.etag)
            else:
                self.left.discard(number)
            self.cond.notify_all()
        if assembly is not None:
            fetcher.finish([(assembly, (files, page.etag))])

    def _queue_files(self, number: int) -> None:
        if number not in self.queued:
            self.queued.add(number)
            self.files_todo.append(number)


def _where(repo: str) -> dict[str, str]:
    owner, name = repo.split("/", 1)
    return {"owner": owner, "name": name}


def _repository_node(data: Mapping[str, Any], repo: str) -> Mapping[str, Any]:
    node = data.get("repository")
    if not isinstance(node, Mapping):
        msg = (
            f"GitHub's GraphQL API does not know the repository {repo}: not found; check the owner/name "
            "spelling, and that the token can read it (private repos need the repo scope)"
        )
        raise NotFound(msg)
    return node


def _gone(errors: Sequence[Mapping[str, Any]]) -> set[int]:
    """The PRs a partial answer says GitHub could not resolve (NOT_FOUND at their alias)."""
    found: set[int] = set()
    for error in errors:
        path = error.get("path")
        if error.get("type") != "NOT_FOUND" or not isinstance(path, list) or len(path) < 2:
            unexpected = f"{error.get('type') or 'error'}: {str(error.get('message'))[:200]}"
            msg = f"GitHub's GraphQL answer carries an error beside its data ({unexpected}); rerun later"
            raise FetchError(msg)
        alias = str(path[1])
        item = Overflow.from_alias(alias)
        if item is not None:
            found.add(item.number)
        elif alias.startswith("p") and alias[1:].isdigit():
            found.add(int(alias[1:]))
    return found


def _malformed(repo: str, exc: BaseException) -> FetchError:
    return FetchError(
        f"a GraphQL answer about {repo} is not GitHub's ({exc.__class__.__name__}: {str(exc)[:200]}); is the "
        "base URL a GitHub API? Check --base-url"
    )
