"""Which pages each GraphQL query asks (the pure scheduler), and which API ``--api auto`` picks."""

from __future__ import annotations

import pytest
from graphql import get_operation_ast, parse

from pytest_ghseed.emulator.graphql.cost import analyze
from pytest_ghseed.fetch.choose import choose_api
from pytest_ghseed.fetch.graphql_schedule import Batch, Scheduler
from pytest_ghseed.graphql import queries as q

CAPS = {"commits": 250, "files": 3000}


def counts(**overrides: int) -> dict[str, int]:
    return {**dict.fromkeys(q.COUNTED, 1), **overrides}


def points(batch: Batch) -> int:
    document = parse(batch.document())
    operation = get_operation_ast(document)
    assert operation is not None
    return analyze(document, operation).cost


def page(total: int, start: int, size: int, what: str = "path") -> dict[str, object]:
    """An answer's page of ``size`` items from ``start`` of a list of ``total``."""
    nodes = [{what: f"{start + i}"} for i in range(size)]
    end = start + size
    return {
        "totalCount": total,
        "pageInfo": {
            "hasNextPage": end < total,
            "endCursor": f"c{end}",
            "hasPreviousPage": start > 0,
            "startCursor": f"c{start}",
        },
        "nodes": nodes,
    }


def empty_pull(number: int) -> dict[str, object]:
    """A PR node whose every list is empty (answered by count alone)."""
    return {
        "number": number,
        **{name: {"totalCount": 0} for name in q.LEAVES},
        "reviewThreads": {"totalCount": 0},
    }


def test_every_query_is_filled_up_to_one_point_and_asks_each_pr_once() -> None:
    """200 PRs with their counts: every query costs 1 point (149 requests at most); none repeats a PR."""
    numbers = list(range(1, 201))
    scheduler = Scheduler(numbers, counts={n: counts(reviewThreads=n % 4) for n in numbers}, caps=CAPS)
    seen: list[int] = []
    while (batch := scheduler.next_batch()) is not None:
        assert batch.requests <= q.ONE_POINT and points(batch) == 1
        seen += [first.number for first in batch.firsts]
        outcome = scheduler.take(batch, {"repository": {f.alias: empty_pull(f.number) for f in batch.firsts}})
        assert sorted(a.number for a in outcome.complete) == sorted(f.number for f in batch.firsts)
    assert sorted(seen) == numbers and scheduler.finished


def test_the_longest_chains_go_first_and_ride_along_later_queries() -> None:
    """A PR with 3,100 files is asked first; its next pages come with the following PRs' first pages."""
    numbers = list(range(1, 40))
    plan = {n: counts() for n in numbers}
    plan[30] = counts(files=3100)
    scheduler = Scheduler(numbers, counts=plan, caps=CAPS, budget=40)
    first = scheduler.next_batch()
    assert first is not None and first.firsts[0].number == 30
    assert scheduler.concurrency(4) == 1, "a 29-page chain needs every query that is left"
    node = {
        "number": 30,
        "changedFiles": 3100,
        **{name: {"totalCount": 0} for name in q.LEAVES if name != "files"},
        "files": page(3000, 0, 100),
        "reviewThreads": {"totalCount": 0},
    }
    repository = {first.firsts[0].alias: node, **{f.alias: None for f in first.firsts[1:]}}
    scheduler.take(first, {"repository": repository}, gone=[f.number for f in first.firsts[1:]])
    second = scheduler.next_batch()
    assert second is not None
    assert [(item.number, item.kind, item.backward) for item in second.items] == [
        (30, "files", False),
        (30, "files", True),
    ]
    assert second.firsts, "new PRs fill the rest of the query"


def test_gone_prs_are_reported_and_dropped() -> None:
    """A PR GitHub answers NOT_FOUND for is reported gone, not retried."""
    scheduler = Scheduler([1, 2], counts={1: counts(), 2: counts()})
    batch = scheduler.next_batch()
    assert batch is not None
    with pytest.raises(ValueError, match="no data for pull request #2"):
        scheduler.take(batch, {"repository": {"p1": None, "p2": None}}, gone=[1])


def test_timeouts_shrink_the_query_then_its_pages_and_stop_at_the_floor() -> None:
    """A timeout halves the requests of a query; a single PR that times out gets smaller pages; then no more."""
    numbers = list(range(1, 60))
    scheduler = Scheduler(numbers, counts={n: counts() for n in numbers})
    batch = scheduler.next_batch()
    assert batch is not None and batch.requests > 100
    assert scheduler.shrink(batch)
    smaller = scheduler.next_batch()
    assert smaller is not None and smaller.requests <= batch.requests // 2
    scheduler.budget = 1
    scheduler.give_back(smaller)
    single = scheduler.next_batch()
    assert single is not None and len(single.firsts) == 1
    while scheduler.sizes != q.PageSizes(**dict.fromkeys(q.PageSizes.__dataclass_fields__, 1)):
        assert scheduler.shrink(single)
        single = scheduler.next_batch()
        assert single is not None
    assert not scheduler.shrink(single)


@pytest.mark.parametrize(
    ("graphql_left", "rest_left", "patches", "chosen"),
    [
        (5000, 5000, True, "graphql"),
        (5000, 5000, False, "graphql"),
        (0, 5000, True, "rest"),
        (10, 5000, True, "rest"),  # 100 PRs by GraphQL, about 1,190 by REST
        (200, 5000, True, "graphql"),  # 2,000 PRs by GraphQL (4,166 files' worth of REST left)
        (5000, 0, True, "rest"),  # nothing left anywhere: REST, whose wait is shown like any other
        (5000, 100, True, "graphql"),
    ],
)
def test_auto_picks_the_api_that_fetches_more_with_what_is_left(
    graphql_left: int, rest_left: int, patches: bool, chosen: str
) -> None:
    """auto compares the PRs each API could fetch now (measured costs per PR) and says why."""
    api, why = choose_api(graphql_left=graphql_left, rest_left=rest_left, patches=patches)
    assert api == chosen
    assert "PRs with the budgets left" in why
