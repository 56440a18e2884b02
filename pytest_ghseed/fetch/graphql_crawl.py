"""The order of a GraphQL pull-request crawl, with the transport injected: no I/O here.

``crawl_pulls(post, owner, name)`` asks the repository, then PR pages (every sub-list's first page
nested), then rounds of overflow queries until every PR is whole, and returns the models. ``post``
sends one document with its variables and returns the answer's ``data`` (raising on errors): the
caller owns tokens, retries, limits and recording.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pytest_ghseed.graphql.convert import PullAssembly, assemblies, repository_from_graphql
from pytest_ghseed.graphql.queries import (
    DEFAULT_SIZES,
    ONE_POINT,
    Direction,
    PageSizes,
    batches,
    overflow_query,
    pull_page_query,
    repository_query,
)
from pytest_ghseed.models import PullRequest, Repository

#: Sends one GraphQL document with its variables; returns the answer's ``data``.
Post = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class CrawlResult:
    """What a crawl fetched, and what GitHub said it cost (``rateLimit.cost`` of each answer)."""

    repository: Repository
    prs: tuple[PullRequest, ...]
    queries: int
    repository_points: int
    page_points: int
    overflow_points: int
    overflow_rounds: int

    @property
    def points(self) -> int:
        """All points the crawl cost."""
        return self.repository_points + self.page_points + self.overflow_points


def crawl_pulls(
    post: Post,
    owner: str,
    name: str,
    sizes: PageSizes = DEFAULT_SIZES,
    *,
    direction: Direction = "ASC",
    commits_cap: int | None = None,
    max_requests: int = ONE_POINT,
) -> CrawlResult:
    """Every pull request of ``owner/name``, by creation order, as models."""
    where = {"owner": owner, "name": name}
    data = post(repository_query(), where)
    repository = repository_from_graphql(data["repository"])
    repository_points = int(data["rateLimit"]["cost"])
    queries = 1

    pulls: list[PullAssembly] = []
    page_points = 0
    size, after = sizes.pulls, None
    while True:
        # GitHub prices a page as if it were full: the last one asks for what remains, no more.
        data = post(pull_page_query(replace(sizes, pulls=size), direction), {**where, "after": after})
        queries += 1
        page_points += int(data["rateLimit"]["cost"])
        connection = data["repository"]["pullRequests"]
        pulls += assemblies(connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        remaining = int(connection["totalCount"]) - len(pulls)
        size = max(1, min(sizes.pulls, remaining))

    by_number = {assembly.number: assembly for assembly in pulls}
    overflow_points = rounds = 0
    while wanted := [item for assembly in pulls for item in assembly.pending()]:
        rounds += 1
        for batch in batches(wanted, max_requests):
            data = post(overflow_query(batch, sizes), where)
            queries += 1
            overflow_points += int(data["rateLimit"]["cost"])
            for index, item in enumerate(batch):
                by_number[item.number].add(item, data["repository"][item.alias(index)])
    return CrawlResult(
        repository=repository,
        prs=tuple(assembly.build(commits_cap=commits_cap) for assembly in pulls),
        queries=queries,
        repository_points=repository_points,
        page_points=page_points,
        overflow_points=overflow_points,
        overflow_rounds=rounds,
    )
