"""Fetch speed and quota: ghseed's REST crawl, its GraphQL crawl and GraphQL --no-patches, side by side;
then the sequential PyGithub loop a user writes by hand.

All runs use one emulator (one repository, ``extremes=True``, GitHub's default limits, the same
latency), with the stats reset between runs; each API has its own users, so no run spends another
run's budgets. Each ghseed crawl runs ``--repeat`` times, the three interleaved so that the machine's
load falls on each alike (median wall time; the quota is the same each time).

    python benchmarks/bench_fetch.py                      # 200 PRs, 30 ms, with the naive loops (~7 minutes)
    python benchmarks/bench_fetch.py --skip-naive         # the three ghseed crawls only
    python benchmarks/bench_fetch.py --big 30000          # and a 30,000-PR repository, GraphQL --no-patches,
                                                          # one user's budgets (about 15 minutes more)

Quota per PR = REST requests + GraphQL points, the token probes (/rate_limit, /user, the free
``rateLimit`` query) left out. Targets: REST <= 4.5 requests per PR and >= 8x faster than the naive
loop; GraphQL <= 1.2 per PR with patches, <= 0.15 without; GraphQL's wall time no worse than REST's;
0 violations (requests sent while GitHub told the account to wait); every crawl equals the truth.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import statistics
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from _common import GHSEED_TOKENS, NAIVE_TOKENS, REPO, SEED, banner, emulator_config, table, timed, verdict
from github import Auth, Github

from pytest_ghseed.defaults import DEFAULT_WORKERS
from pytest_ghseed.emulator import Emulator, EmulatorConfig, ProjectSpec, Stats, start
from pytest_ghseed.fetch.choose import fetch_with
from pytest_ghseed.models import FetchParams, PullRequest
from pytest_ghseed.progress import ProgressEvent

TARGET_SPEEDUP = 8.0
TARGET_REQUESTS_PER_PR = 4.5
TARGET_GRAPHQL = 1.2
TARGET_GRAPHQL_NO_PATCHES = 0.15
#: Two users per API: REST's are GHSEED_TOKENS (alice, bob).
GRAPHQL_TOKENS = {"tok-bench-erin": "erin", "tok-bench-frank": "frank"}
NO_PATCHES_TOKENS = {"tok-bench-gina": "gina", "tok-bench-hank": "hank"}
BIG_TOKENS = {"tok-bench-ivan": "ivan"}
_PROBES = ("/rate_limit", "/user")


@dataclass(frozen=True)
class Run:
    """What one client did for ``prs`` pull requests."""

    label: str
    prs: int
    wall: float
    stats: Stats
    note: str = ""
    exact: bool | None = None
    walls: tuple[float, ...] = ()
    waits: int = 0

    @property
    def rest_requests(self) -> int:
        """REST requests, the token probes left out."""
        return sum(1 for r in self.stats.log if r.method == "GET" and r.path not in _PROBES)

    @property
    def graphql_queries(self) -> int:
        return sum(1 for r in self.stats.log if r.method == "POST")

    @property
    def points(self) -> int:
        """GraphQL points charged (the free rateLimit query charges none)."""
        return int(self.stats.graphql_points)

    @property
    def quota_per_pr(self) -> float:
        return (self.rest_requests + self.points) / self.prs

    @property
    def requests(self) -> int:
        return int(self.stats.total_requests)

    @property
    def requests_per_pr(self) -> float:
        return self.requests / self.prs

    @property
    def prs_per_second(self) -> float:
        return self.prs / self.wall


_NUMBER = re.compile(r"/\d+(?=/|$)")


def requests_by_endpoint(stats: Stats) -> list[tuple[str, int]]:
    """Requests per endpoint pattern (PR numbers replaced by ``N``), most frequent first."""
    counts = Counter(f"{r.method} {_NUMBER.sub('/N', r.path.split('?')[0])}" for r in stats.log)
    return counts.most_common()


def without_patches(pr: PullRequest) -> PullRequest:
    """The truth as a --no-patches crawl sees it: files without patch and previous filename."""
    files = tuple(dataclasses.replace(f, patch=None, previous_filename=None) for f in pr.files)
    return dataclasses.replace(pr, files=files)


@dataclass
class Crawl:
    """One of ghseed's crawls to run: which API, whose tokens, patches or not."""

    label: str
    api: str
    tokens: dict[str, str]
    patches: bool
    walls: list[float] = dataclasses.field(default_factory=list)
    waits: int = 0

    def once(self, emu: Emulator) -> tuple[Stats, list[PullRequest]]:
        """``fetch_with`` (what ``ghseed fetch --api ...`` runs) with its defaults; the emulator's stats."""
        emu.reset_stats()
        events: list[ProgressEvent] = []
        with tempfile.TemporaryDirectory(prefix="ghseed-bench-") as tmp:
            wall, result = timed(
                lambda: fetch_with(
                    self.api,  # type: ignore[arg-type]
                    REPO,
                    FetchParams(max_prs=None, patches=self.patches),
                    checkpoint_path=Path(tmp) / "checkpoint.json",
                    base_url=emu.base_url,
                    tokens=list(self.tokens),
                    on_event=events.append,
                )
            )
        self.walls.append(wall)
        self.waits += sum(1 for event in events if event.kind == "wait")
        return emu.stats, list(result.prs)

    def run(self, emu: Emulator, stats: Stats, prs: list[PullRequest]) -> Run:
        """The figures of the last run, with the median wall time of all runs."""
        truth = emu.truth(REPO) if self.patches else [without_patches(pr) for pr in emu.truth(REPO)]
        got = [pr.to_dict() for pr in sorted(prs, key=lambda p: p.number)]
        exact = got == [pr.to_dict() for pr in truth]
        wall = statistics.median(self.walls)
        return Run(self.label, len(prs), wall, stats, exact=exact, walls=tuple(self.walls), waits=self.waits)


def run_ghseed(emu: Emulator, crawls: list[Crawl], repeat: int) -> list[Run]:
    """Each crawl ``repeat`` times, interleaved (the machine's load falls on each alike); their runs."""
    last: dict[str, tuple[Stats, list[PullRequest]]] = {}
    for _ in range(repeat):
        for crawl in crawls:
            last[crawl.label] = crawl.once(emu)
    return [crawl.run(emu, *last[crawl.label]) for crawl in crawls]


def naive_loop(g: Github, limit: int | None) -> int:
    """The loop from the issue, verbatim apart from the optional stop after ``limit`` PRs."""
    repo = g.get_repo(REPO)
    done = 0
    for pr in repo.get_pulls(state="all"):
        if limit is not None and done >= limit:
            break
        full = repo.get_pull(pr.number)
        list(full.get_reviews())
        list(full.get_commits())
        list(full.get_files())
        list(full.get_review_comments())
        list(full.get_issue_comments())  # the conversation (PullRequest.get_comments() is review comments)
        done += 1
    return done


def run_naive(emu: Emulator, token: str, n_prs: int, limit: int | None, *, throttle: bool) -> Run:
    """The naive loop with PyGithub's defaults (``throttle``) or with its 0.25 s pause switched off."""
    emu.reset_stats()
    if throttle:
        g = Github(auth=Auth.Token(token), base_url=emu.base_url)
        label = "naive PyGithub loop, defaults (0.25 s throttle, GithubRetry)"
    else:
        g = Github(auth=Auth.Token(token), base_url=emu.base_url, seconds_between_requests=None)
        label = "naive PyGithub loop, seconds_between_requests=None"
    try:
        wall, done = timed(lambda: naive_loop(g, limit))
    finally:
        g.close()
    stats = emu.stats
    if done >= n_prs:
        return Run(label, done, wall, stats)
    # A subset was timed: scale wall time and requests per PR to n_prs, and say so in every row.
    return Run(
        label + f" [EXTRAPOLATED from {done} PRs]",
        done,
        wall,
        stats,
        note=f"timed on the {done} newest PRs and scaled to {n_prs}; the extreme PRs (#3-#17) are the "
        "oldest, so this UNDER-estimates the naive loop",
    )


def big_repository(n_prs: int, latency: float) -> None:
    """A simulated ``n_prs``-PR repository crawled with GraphQL --no-patches and one user's budgets."""
    print()
    print(
        f"== {n_prs:,}-PR repository, GraphQL --no-patches, one user ({BIG_TOKENS}), GitHub's hourly windows"
    )
    config = EmulatorConfig(
        projects=(ProjectSpec(REPO, n_prs=n_prs, seed=SEED, extremes=True),),
        tokens=dict(BIG_TOKENS),
        latency_seconds=latency,
    )
    generated, emu = timed(lambda: start(config))
    print(f"   emulator generated the repository in {generated:.0f} s", flush=True)
    with emu:
        (run,) = run_ghseed(emu, [Crawl("GraphQL --no-patches, 1 user", "graphql", BIG_TOKENS, False)], 1)
    limit = 5000
    print(
        table(
            [
                "PRs",
                "REST req.",
                "GraphQL queries",
                "points",
                "quota/PR",
                "wall",
                "waits",
                "refused",
                "= truth",
            ],
            [
                [
                    f"{run.prs:,}",
                    str(run.rest_requests),
                    str(run.graphql_queries),
                    f"{run.points:,}",
                    f"{run.quota_per_pr:.3f}",
                    f"{run.wall:.0f} s",
                    str(run.waits),
                    str(run.stats.forbidden + run.stats.too_many + run.stats.violations),
                    "yes" if run.exact else "NO",
                ]
            ],
        )
    )
    fits = run.points <= limit and run.rest_requests <= limit and run.waits == 0
    print(
        f"   {verdict(fits)}  the whole history within one user's hourly budgets, no wait for a reset: "
        f"{run.points:,} of {limit:,} GraphQL points ({run.points / limit:.0%}), {run.rest_requests} of "
        f"{limit:,} REST requests, {run.waits} waits, the crawl took {run.wall:.0f} s (< the hour window)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prs", type=int, default=200, help="pull requests in the repository (default 200)")
    parser.add_argument(
        "--latency", type=float, default=0.030, help="emulator latency in seconds (default 0.030)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each ghseed crawl, interleaved (median wall; default 3)",
    )
    parser.add_argument(
        "--naive-prs",
        type=int,
        default=None,
        help="time the naive loops on this many PRs only and extrapolate (clearly labelled); default: all",
    )
    parser.add_argument(
        "--skip-throttled", action="store_true", help="skip the naive loop with the 0.25 s throttle"
    )
    parser.add_argument("--skip-naive", action="store_true", help="skip both naive loops")
    parser.add_argument(
        "--big", type=int, default=0, help="also crawl a repository of this many PRs (e.g. 30000)"
    )
    args = parser.parse_args(argv)
    limit = args.naive_prs if args.naive_prs is not None and args.naive_prs < args.prs else None

    banner(f"bench_fetch: {args.prs} PRs of {REPO} (extremes=True), latency {args.latency * 1000:.0f} ms")
    tokens = {**GHSEED_TOKENS, **GRAPHQL_TOKENS, **NO_PATCHES_TOKENS, **NAIVE_TOKENS}
    carol, dave = list(NAIVE_TOKENS)
    with start(emulator_config(args.prs, args.latency, tokens)) as emu:
        crawls = run_ghseed(
            emu,
            [
                Crawl("ghseed --api rest", "rest", GHSEED_TOKENS, True),
                Crawl("ghseed --api graphql", "graphql", GRAPHQL_TOKENS, True),
                Crawl("ghseed --api graphql --no-patches", "graphql", NO_PATCHES_TOKENS, False),
            ],
            args.repeat,
        )
        for run in crawls:
            walls = ", ".join(f"{w:.2f}" for w in run.walls)
            print(f"   {run.label}: {walls} s; equals the truth: {run.exact}", flush=True)
        naive: list[Run] = []
        if not args.skip_naive:
            naive.append(run_naive(emu, dave, args.prs, limit, throttle=False))
            print(f"   naive (no throttle) done in {naive[-1].wall:.2f} s", flush=True)
            if not args.skip_throttled:
                naive.append(run_naive(emu, carol, args.prs, limit, throttle=True))
                print(f"   naive (defaults) done in {naive[-1].wall:.2f} s", flush=True)

    rest, graphql, no_patches = crawls
    print()
    print(
        f"ghseed's crawls, {args.prs} PRs, {DEFAULT_WORKERS} workers, 2 users each, wall = median of {args.repeat}:"
    )
    rows = [
        [
            r.label,
            str(r.prs),
            str(r.rest_requests),
            str(r.graphql_queries),
            str(r.points),
            f"{r.quota_per_pr:.3f}",
            f"{r.wall:.2f} s",
            str(r.stats.violations),
            str(r.waits),
            "yes" if r.exact else "NO",
        ]
        for r in crawls
    ]
    print(
        table(
            [
                "crawl",
                "PRs",
                "REST req.",
                "GraphQL q.",
                "points",
                "quota/PR",
                "wall",
                "violations",
                "waits",
                "= truth",
            ],
            rows,
        )
    )
    for run in crawls:
        print(f"\n{run.label}: requests by endpoint (last run; PR numbers as N)")
        for endpoint, count in requests_by_endpoint(run.stats):
            print(f"   {count:6d}  {count / args.prs:5.3f}/PR  {endpoint}")

    def projected_wall(run: Run) -> float:
        return run.wall / run.prs * int(args.prs)

    if naive:
        print()
        print(
            table(
                ["client", "PRs", "requests", "req/PR", "wall", "PRs/s", "violations"],
                [
                    [
                        r.label,
                        str(r.prs),
                        str(r.requests),
                        f"{r.requests_per_pr:.2f}",
                        f"{r.wall:.2f} s"
                        + (f" (-> {projected_wall(r):.1f} s for {args.prs})" if r.prs < args.prs else ""),
                        f"{r.prs_per_second:.2f}",
                        str(r.stats.violations),
                    ]
                    for r in naive
                ],
            )
        )
        for r in naive:
            if r.note:
                print(f"   NOTE {r.label}: {r.note}")

    print()
    print("Targets:")
    print(
        f"   {verdict(rest.requests_per_pr <= TARGET_REQUESTS_PER_PR)}  REST <= {TARGET_REQUESTS_PER_PR} requests "
        f"per PR: {rest.requests_per_pr:.2f} ({rest.requests} requests incl. the token probes)"
    )
    if naive:
        speedup = projected_wall(naive[-1]) / rest.wall
        tag = " [EXTRAPOLATED]" if naive[-1].prs < args.prs else ""
        print(
            f"   {verdict(speedup >= TARGET_SPEEDUP)}  >= {TARGET_SPEEDUP:.0f}x faster than {naive[-1].label}: {speedup:.1f}x{tag}"
        )
    print(
        f"   {verdict(graphql.quota_per_pr <= TARGET_GRAPHQL)}  GraphQL with patches <= {TARGET_GRAPHQL} per PR: "
        f"{graphql.quota_per_pr:.3f} ({graphql.rest_requests} REST + {graphql.points} points; REST: "
        f"{rest.quota_per_pr:.3f})"
    )
    print(
        f"   {verdict(no_patches.quota_per_pr <= TARGET_GRAPHQL_NO_PATCHES)}  GraphQL --no-patches <= "
        f"{TARGET_GRAPHQL_NO_PATCHES} per PR: {no_patches.quota_per_pr:.3f} ({no_patches.rest_requests} REST + "
        f"{no_patches.points} points)"
    )
    for run in (graphql, no_patches):
        print(
            f"   {verdict(run.wall <= rest.wall)}  {run.label} wall no worse than REST's: {run.wall:.2f} s vs "
            f"{rest.wall:.2f} s (median of {args.repeat})"
        )
    violations = sum(r.stats.violations for r in (*crawls, *naive))
    print(f"   {verdict(violations == 0)}  0 requests sent while told to wait (violations): {violations}")
    print(f"   {verdict(all(r.exact for r in crawls))}  every crawl equals the truth field by field")
    if args.big:
        big_repository(args.big, args.latency)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
