"""Which pages the next GraphQL query of a crawl asks, and what its answer completes. Pure: no I/O.

GitHub prices a query by the requests it needs (``graphql.queries``), rounded to points, at least
one: a query of 149 requests costs 1 point, one of 10 requests costs 1 point too. So every query is
filled up to the budget (149 requests): first the overflow pages of the pull requests already
started (the next page of a long list, read from both ends), then the first pages of new pull
requests (only the lists the plan counted items in). Long lists ride along in the queries that bring
new pull requests, for nothing; the plan's counts put the pull requests with the longest lists first,
so that their chains of pages start early.

A chain of pages advances one page per answer, so queries sent side by side would use up the new
pull requests before a long chain is read and leave it to trail alone, a point a page:
:meth:`Scheduler.concurrency` sends no more queries at once than the new pull requests left can carry
for the longest chain (a big crawl has thousands of queries to carry any chain: all in parallel).

GitHub answers a query that runs too long with a timeout; :meth:`Scheduler.shrink` then halves what
one query asks (fewer pull requests, then smaller pages), and a run of answers grows it back.
Several queries may be in flight at once: a pull request with a page in flight is *busy* and gets no
other until that answer is taken.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_ghseed.graphql.convert import PullAssembly
from pytest_ghseed.graphql.queries import (
    DEFAULT_SIZES,
    LEAVES,
    MAX_PAGE,
    ONE_POINT,
    Counts,
    FirstPage,
    Overflow,
    PageSizes,
    batch_query,
    first_page,
)

#: Pull requests one query reads at most (aliases), whatever their price: an answer stays readable.
MAX_ALIASES = 100
#: Answers in a row after which a shrunk query grows back (doubling, up to the defaults).
_GROW_AFTER = 5


@dataclass
class Batch:
    """One query: first pages and overflow pages, with the sizes it was built with."""

    firsts: list[FirstPage]
    items: list[Overflow]
    sizes: PageSizes

    @property
    def requests(self) -> int:
        """What GitHub counts for it."""
        return sum(page.requests for page in self.firsts) + sum(item.requests for item in self.items)

    @property
    def numbers(self) -> set[int]:
        """The pull requests it reads."""
        return {page.number for page in self.firsts} | {item.number for item in self.items}

    def document(self) -> str:
        return batch_query(self.firsts, self.items, self.sizes)


@dataclass
class Outcome:
    """What an answer did: pull requests now whole, and those GitHub no longer has."""

    complete: list[PullAssembly] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)


class Scheduler:
    """The pages a crawl still needs, handed out query by query (the caller holds a lock around it)."""

    def __init__(
        self,
        numbers: Sequence[int],
        *,
        counts: Mapping[int, Counts] | None = None,
        leaves: Sequence[str] = LEAVES,
        caps: Mapping[str, int] | None = None,
        sizes: PageSizes = DEFAULT_SIZES,
        budget: int = ONE_POINT,
    ) -> None:
        self.leaves = tuple(leaves)
        self.caps = dict(caps or {})
        self.counts = dict(counts or {})
        self.default_sizes = sizes
        self.sizes = sizes
        self.default_budget = budget
        self.budget = budget
        self._streak = 0
        # The longest chains of pages first: they ride along the later queries instead of trailing.
        # (A stable sort: otherwise the plan's order.)
        order = sorted(numbers, key=lambda n: -self._rounds(n))
        self._waiting: deque[int] = deque(order)
        self._waiting_requests = sum(self.first_page(n).requests for n in order)
        self._started: dict[int, PullAssembly] = {}
        self._busy: set[int] = set()

    # -- reading ---------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Whether every pull request is whole (or gone) and no query is in flight."""
        return not self._waiting and not self._started and not self._busy

    def first_page(self, number: int) -> FirstPage:
        """What the first query of PR ``number`` asks (its lists with items, as far as the plan knows)."""
        return first_page(number, self.sizes, self.leaves, self.counts.get(number))

    def concurrency(self, limit: int) -> int:
        """Queries that may be in flight at once: at most ``limit``, and no more than the new pull
        requests left can carry while the longest chain of pages is read one page per answer."""
        page = min(MAX_PAGE, self.sizes.labels)
        rounds = max((assembly.rounds_left(page) for assembly in self._started.values()), default=0)
        # First pages in flight: their chains are still all ahead.
        rounds = max([rounds, *(self._rounds(n) for n in self._busy if n not in self._started)])
        if self._waiting:
            rounds = max(rounds, self._rounds(self._waiting[0]))  # the longest chains wait at the front
        if rounds == 0:
            return limit
        batches = math.ceil(self._waiting_requests / max(1, self.budget))
        return max(1, min(limit, batches // rounds))

    # -- handing out queries ---------------------------------------------------------------------

    def next_batch(self) -> Batch | None:
        """The next query; None when nothing can be asked now (all in flight, or all done)."""
        firsts: list[FirstPage] = []
        items: list[Overflow] = []
        used = 0
        page = min(MAX_PAGE, self.sizes.labels)
        for number, assembly in self._started.items():
            if number in self._busy:
                continue
            for item in assembly.pending(page):
                if (items or firsts) and used + item.requests > self.budget:
                    break
                items.append(item)
                used += item.requests
            if used >= self.budget:
                break
        while self._waiting and len(firsts) + len(items) < MAX_ALIASES:
            candidate = self.first_page(self._waiting[0])
            if (items or firsts) and used + candidate.requests > self.budget:
                break
            self._waiting.popleft()
            self._waiting_requests -= candidate.requests
            firsts.append(candidate)
            used += candidate.requests
        if not firsts and not items:
            return None
        batch = Batch(firsts, items, self.sizes)
        self._busy |= batch.numbers
        return batch

    def take(self, batch: Batch, data: Mapping[str, Any], gone: Collection[int] = ()) -> Outcome:
        """Take the answer to ``batch`` (its ``data``); ``gone``: PRs GitHub answered NOT_FOUND for."""
        repository = data.get("repository")
        if not isinstance(repository, Mapping):
            msg = "the GraphQL answer holds no repository (gone, or no longer readable with this token?)"
            raise ValueError(msg)
        outcome = Outcome()
        self._busy -= batch.numbers
        for page in batch.firsts:
            node = repository.get(page.alias)
            if node is None:
                if page.number not in gone:
                    msg = (
                        f"the GraphQL answer has no data for pull request #{page.number} and says nothing why"
                    )
                    raise ValueError(msg)
                outcome.gone.append(page.number)
                continue
            self._started[page.number] = PullAssembly(node, leaves=self.leaves, caps=self.caps)
        for index, item in enumerate(batch.items):
            assembly = self._started.get(item.number)
            if assembly is None:
                continue  # gone meanwhile
            answer = repository.get(item.alias(index))
            if answer is None and item.number in gone:
                del self._started[item.number]
                outcome.gone.append(item.number)
                continue
            assembly.add(item, answer)
        for number in sorted(batch.numbers):
            assembly = self._started.get(number)
            if assembly is not None and assembly.complete:
                outcome.complete.append(self._started.pop(number))
        self._grow()
        return outcome

    def give_back(self, batch: Batch) -> None:
        """A query that got no answer: its pages are asked again (new PRs at the front of the queue)."""
        self._busy -= batch.numbers
        for page in reversed(batch.firsts):
            self._waiting.appendleft(page.number)
            self._waiting_requests += page.requests

    def shrink(self, batch: Batch) -> bool:
        """After a timeout: ask less at once (fewer PRs, then smaller pages). False: nothing smaller."""
        self.give_back(batch)
        self._streak = 0
        units = len(batch.firsts) + len(batch.items)
        if units > 1:
            self.budget = max(1, min(self.budget, batch.requests) // 2)
            return True
        smaller = self.sizes.scaled(0.5)
        if smaller == self.sizes:
            return False
        self.sizes = smaller
        return True

    # -- internals -------------------------------------------------------------------------------

    def _grow(self) -> None:
        if self.budget >= self.default_budget and self.sizes == self.default_sizes:
            return
        self._streak += 1
        if self._streak < _GROW_AFTER:
            return
        self._streak = 0
        if self.sizes != self.default_sizes:
            grown = self.sizes.scaled(2.0)
            self.sizes = PageSizes(
                **{
                    name: min(getattr(grown, name), getattr(self.default_sizes, name))
                    for name in self.default_sizes.__dataclass_fields__
                }
            )
        else:
            self.budget = min(self.default_budget, self.budget * 2)

    def _rounds(self, number: int) -> int:
        """Rounds of overflow queries the plan's counts foresee for PR ``number`` (0 when unknown)."""
        counts = self.counts.get(number)
        if counts is None:
            return 0
        rounds = 0
        for name in self.leaves:
            cap = self.caps.get(name)
            total = min(counts.get(name, 0), cap) if cap is not None else counts.get(name, 0)
            pages = math.ceil(total / MAX_PAGE) - 1
            both_ends = cap is None or counts.get(name, 0) <= cap
            rounds = max(rounds, math.ceil(pages / 2) if both_ends else pages)
        threads = counts.get("reviewThreads", 0)
        return max(rounds, math.ceil(max(0, threads - self.sizes.thread_cap) / MAX_PAGE))
