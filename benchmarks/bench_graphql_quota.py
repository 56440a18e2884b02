"""GraphQL points per pull request for a crawl-shaped sequence of queries on the emulator's mixes.

The sequence is ``pytest_ghseed.fetch.graphql_crawl.crawl_pulls``: the repository, PR pages with every
sub-list's first page nested, then rounds of overflow queries (many PRs' next pages in one query,
leaf lists read from both ends). The points are GitHub's own figures: the ``rateLimit.cost`` of each
answer, summed, checked against the emulator's count of points charged. Patches are not fetched
(GraphQL has none). Run from the repository root:

    python benchmarks/bench_graphql_quota.py [--pulls 50] [--threads 1 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import Any

import requests
from _common import GHSEED_TOKENS, REPO, banner, emulator_config, table

from pytest_ghseed.defaults import COMMITS_CAP
from pytest_ghseed.emulator import DEMO_TOKENS, demo_config, start
from pytest_ghseed.fetch.graphql_crawl import CrawlResult, crawl_pulls
from pytest_ghseed.graphql.queries import PageSizes


def measure(
    config: Any, full_name: str, token: str, sizes: PageSizes
) -> tuple[CrawlResult, int, float, bool]:
    """One crawl: its result, the points the emulator charged, the wall time, and whether it equals the truth."""
    owner, name = full_name.split("/")
    with start(config) as emu, requests.Session() as session:
        session.headers["Authorization"] = f"bearer {token}"

        def post(query: str, variables: Mapping[str, Any]) -> Mapping[str, Any]:
            body = session.post(
                f"{emu.base_url}/graphql", json={"query": query, "variables": dict(variables)}
            ).json()
            if "errors" in body:
                raise RuntimeError(body["errors"])
            return body["data"]  # type: ignore[no-any-return]

        started = time.perf_counter()
        result = crawl_pulls(post, owner, name, sizes, commits_cap=COMMITS_CAP)
        wall = time.perf_counter() - started
        truth = emu.truth(full_name)
        same = len(truth) == len(result.prs) and all(
            [(f.filename, f.status, f.additions, f.deletions) for f in got.files]
            == [(f.filename, f.status, f.additions, f.deletions) for f in want.files]
            and got.reviews == want.reviews
            and got.commits == want.commits
            and got.review_comments == want.review_comments
            and got.issue_comments == want.issue_comments
            and got.number == want.number
            for got, want in zip(result.prs, truth, strict=False)
        )
        return result, emu.stats.graphql_points, wall, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pulls", type=int, default=50, help="PRs per page (default 50)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 3], help="review threads nested per PR")
    args = parser.parse_args()
    banner("GraphQL points per PR (crawl-shaped queries, emulator, GitHub's cost rules)")
    mixes = [
        ("demo: ghseed/demo, 60 PRs", demo_config(), "ghseed/demo", next(iter(DEMO_TOKENS))),
        (
            "bench: acme/big, 200 PRs",
            emulator_config(200, 0.0, GHSEED_TOKENS),
            REPO,
            next(iter(GHSEED_TOKENS)),
        ),
    ]
    rows = []
    for label, config, full_name, token in mixes:
        for threads in args.threads:
            sizes = PageSizes(pulls=args.pulls, threads=threads)
            result, charged, wall, same = measure(config, full_name, token, sizes)
            assert charged == result.points, (charged, result.points)
            n = len(result.prs)
            rows.append(
                [
                    label,
                    f"{args.pulls}/{threads}",
                    str(result.queries),
                    f"{result.repository_points}+{result.page_points}+{result.overflow_points}",
                    str(result.points),
                    f"{result.points / n:.3f}",
                    f"{(result.repository_points + result.page_points) / n:.3f}",
                    str(result.overflow_rounds),
                    "yes" if same else "NO",
                    f"{wall:.2f} s",
                ]
            )
    print(
        table(
            [
                "mix",
                "page/threads",
                "queries",
                "points repo+pages+overflow",
                "points",
                "points/PR",
                "w/o overflow",
                "overflow rounds",
                "= truth",
                "wall",
            ],
            rows,
        )
    )
    print(
        "\nEvery sub-list asks 100 items (a leaf list costs one request per PR whatever its size); "
        "'threads' review threads per PR come with up to 100 comments each."
    )


if __name__ == "__main__":
    main()
