"""Which GitHub API a fetch uses (``--api``), and the one entry point that fetches with it.

- ``rest``: the REST crawl (``fetcher.Fetcher``), as it has always been.
- ``graphql``: the GraphQL crawl (``graphql_fetcher``); patches through REST unless ``--no-patches``.
- ``auto``: GraphQL where it is cheaper, REST otherwise. GraphQL needs a token and a server that has
  it (``POST /graphql`` answers 404 on some proxies and old GitHub Enterprise versions): asked once
  with a free query (a ``rateLimit``-only query costs no point). Then :func:`choose_api` compares
  how many PRs each API could fetch with what the tokens' users have left now.

Whatever is chosen, one token pool holds both budgets of every user and one checkpoint the crawl's
progress: a crawl stopped under one API resumes under the other without fetching finished PRs again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ghseed.defaults import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MAX_WAIT,
    DEFAULT_WORKERS,
    Api,
)
from pytest_ghseed.errors import FetchError, NotFound
from pytest_ghseed.fetch.client import GitHubClient
from pytest_ghseed.fetch.fetcher import CrawlStart, FetchedPull, Fetcher, FetchResult
from pytest_ghseed.fetch.ratelimit import RetryPolicy
from pytest_ghseed.models import FetchParams, Repository
from pytest_ghseed.progress import ProgressEvent
from pytest_ghseed.secrets import Scrubber, Token
from pytest_ghseed.traffic import TrafficSink

if TYPE_CHECKING:
    from pytest_ghseed.fetch.graphql_client import GraphQLClient

#: What one PR costs each way, measured by ``benchmarks/bench_fetch.py`` on the emulator's mix
#: (README, "GraphQL"), rounded up: REST requests for a REST crawl; GraphQL points for a GraphQL one;
#: the REST requests a GraphQL crawl spends on files when it fetches patches.
REST_REQUESTS_PER_PR = 4.2
GRAPHQL_POINTS_PER_PR = 0.1
PATCH_REQUESTS_PER_PR = 1.2


def choose_api(*, graphql_left: int, rest_left: int, patches: bool) -> tuple[Api, str]:
    """``graphql`` or ``rest`` for ``auto``, and why: the API that can fetch more PRs with the budgets left.

    GraphQL does a PR's work for a few hundredths of a point, so it wins unless its budget is
    (nearly) spent while REST's is not. Pure: budgets in, choice out.
    """
    by_rest = rest_left / REST_REQUESTS_PER_PR
    by_graphql = graphql_left / GRAPHQL_POINTS_PER_PR
    if patches:
        by_graphql = min(by_graphql, rest_left / PATCH_REQUESTS_PER_PR)
    if by_graphql >= by_rest and by_graphql > 0:
        return "graphql", f"GraphQL: about {by_graphql:,.0f} PRs with the budgets left, REST {by_rest:,.0f}"
    return "rest", (
        f"REST: about {by_rest:,.0f} PRs with the budgets left, GraphQL {by_graphql:,.0f} "
        f"({graphql_left} GraphQL points left)"
    )


def fetch_with(
    api: Api,
    full_name: str,
    params: FetchParams,
    *,
    checkpoint_path: Path,
    base_url: str = DEFAULT_BASE_URL,
    tokens: Sequence[str | Token] | None = None,
    workers: int = DEFAULT_WORKERS,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    max_wait: float = DEFAULT_MAX_WAIT,
    policy: RetryPolicy | None = None,
    sink: TrafficSink | None = None,
    updated_since: datetime | None = None,
    previous: Mapping[int, FetchedPull] | None = None,
    known_repository: tuple[Repository, str] | None = None,
    only: Sequence[int] | None = None,
    scrubber: Scrubber | None = None,
    record_filter: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    on_event: Callable[[ProgressEvent], None] | None = None,
) -> FetchResult:
    """Fetch the pull requests of ``full_name`` chosen by ``params`` through the API ``api`` says (see
    the module docstring), resuming from the checkpoint.

    ``scrubber``: what the checkpoint passes every record through before writing it (the cache's, so
    that the checkpoint in the cache folder is scrubbed like the cassettes). ``record_filter``: applied to
    each PR's record before that (a pseudonymized recording replaces its people there).
    """
    if api == "rest" and not params.patches:
        msg = (
            "a crawl without patches (--no-patches, or a refresh of a recording made with it) needs the GraphQL "
            "API: REST's files always carry their patches. Use --api graphql or --api auto"
        )
        raise FetchError(msg)
    start = CrawlStart.open(
        full_name,
        params,
        checkpoint_path=checkpoint_path,
        base_url=base_url,
        tokens=tokens,
        max_in_flight=max_in_flight,
        max_wait=max_wait,
        policy=policy,
        scrubber=scrubber,
        on_event=on_event,
    )
    client: GitHubClient
    graphql: GraphQLClient | None = None
    if api == "rest":
        client = GitHubClient(base_url, start.pool, policy=policy, recorder=sink)
    else:
        # The GraphQL crawl's modules are imported only by a crawl that may use them (the REST one is
        # the default, and every import is paid on every fetch).
        from pytest_ghseed.fetch.graphql_client import GraphQLClient

        client = graphql = GraphQLClient(base_url, start.pool, policy=policy, recorder=sink)
    try:
        chosen: Api = "rest"
        if graphql is not None:
            chosen, why = _decide(api, graphql, start.tokens, params)
            start.note(f"--api {api}: {why}")
        if chosen == "rest":
            fetcher = Fetcher(
                client,
                full_name,
                params,
                checkpoint=start.checkpoint,
                workers=workers,
                on_event=on_event,
                sink=sink,
                record_filter=record_filter,
            )
            result = fetcher.run(
                updated_since=updated_since, previous=previous, known_repository=known_repository, only=only
            )
        else:
            from pytest_ghseed.fetch.graphql_fetcher import GraphQLFetcher

            assert graphql is not None  # chosen by _decide, which only a GraphQL client asks
            result = GraphQLFetcher(
                graphql,
                full_name,
                params,
                checkpoint=start.checkpoint,
                workers=workers,
                on_event=on_event,
                sink=sink,
                record_filter=record_filter,
            ).run(updated_since=updated_since, only=only, known_repository=known_repository)
    finally:
        client.close()
    return start.with_notes(result)


def _decide(api: Api, client: GraphQLClient, tokens: Sequence[Token], params: FetchParams) -> tuple[Api, str]:
    """``graphql`` for ``--api graphql``; for ``auto``, GraphQL if it is there and cheaper."""
    if api == "graphql":
        if not tokens:
            msg = "GitHub's GraphQL API needs a token (it has no anonymous access); set GITHUB_TOKENS or use --api rest"
            raise FetchError(msg)
        return "graphql", "GraphQL as asked"
    reason = "no token (GitHub's GraphQL API has no anonymous access)" if not tokens else None
    if reason is None:
        from pytest_ghseed.graphql.queries import rate_limit_query

        try:
            client.query(rate_limit_query(), {})  # free: GitHub does not charge a rateLimit-only query
        except NotFound:
            reason = "the server has no GraphQL API (POST /graphql answered 404)"
        except FetchError as exc:
            if exc.status not in (401, 403):
                raise
            reason = f"the server refused GraphQL to the token(s) (HTTP {exc.status})"
    if reason is not None:
        if not params.patches:
            msg = f"--no-patches needs the GraphQL API, but {reason}"
            raise FetchError(msg)
        return "rest", f"REST: {reason}"
    if not params.patches:
        return "graphql", "GraphQL: --no-patches is a GraphQL crawl (REST's files always carry patches)"
    quota = client.pool
    return choose_api(
        graphql_left=sum(quota.quota("graphql").values()),
        rest_left=quota.total_remaining,
        patches=params.patches,
    )
