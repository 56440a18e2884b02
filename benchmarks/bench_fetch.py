"""Fetch speed: ghseed's crawl against the sequential PyGithub loop a user writes by hand.

All runs use one emulator (one repository, ``extremes=True``, the same latency), with the stats
reset between runs; each run has its own users, so no run spends another run's primary budget.

    python benchmarks/bench_fetch.py                      # 200 PRs, 30 ms: ~6 minutes (the naive loop)
    python benchmarks/bench_fetch.py --naive-prs 40       # time the naive loops on 40 PRs, extrapolated

Targets: >= 8x faster than the naive loop with PyGithub's defaults, <= 4.5 requests per PR,
0 violations (requests sent on an account while GitHub told it to wait).
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from _common import GHSEED_TOKENS, NAIVE_TOKENS, REPO, banner, emulator_config, table, timed, verdict
from github import Auth, Github

from pytest_ghseed.defaults import DEFAULT_WORKERS
from pytest_ghseed.emulator import Emulator, Stats, start
from pytest_ghseed.fetch.fetcher import fetch_pulls
from pytest_ghseed.models import FetchParams

TARGET_SPEEDUP = 8.0
TARGET_REQUESTS_PER_PR = 4.5


@dataclass(frozen=True)
class Run:
    """What one client did for ``prs`` pull requests."""

    label: str
    prs: int
    wall: float
    stats: Stats
    note: str = ""

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
    counts = Counter(_NUMBER.sub("/N", record.path.split("?")[0]) for record in stats.log)
    return counts.most_common()


def run_ghseed(emu: Emulator, n_prs: int) -> tuple[Run, bool]:
    """``fetch_pulls`` with its defaults; also whether the result equals the emulator's truth."""
    emu.reset_stats()
    with tempfile.TemporaryDirectory(prefix="ghseed-bench-") as tmp:
        wall, result = timed(
            lambda: fetch_pulls(
                REPO,
                FetchParams(max_prs=None),
                checkpoint_path=Path(tmp) / "checkpoint.json",
                base_url=emu.base_url,
                tokens=list(GHSEED_TOKENS),
            )
        )
    stats = emu.stats
    truth = emu.truth(REPO)
    exact = [pr.to_dict() for pr in sorted(result.prs, key=lambda p: p.number)] == [
        pr.to_dict() for pr in truth
    ]
    return Run(
        f"ghseed fetch_pulls (workers={DEFAULT_WORKERS}, 2 users)", len(result.prs), wall, stats
    ), exact


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prs", type=int, default=200, help="pull requests in the repository (default 200)")
    parser.add_argument(
        "--latency", type=float, default=0.030, help="emulator latency in seconds (default 0.030)"
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
    args = parser.parse_args(argv)
    limit = args.naive_prs if args.naive_prs is not None and args.naive_prs < args.prs else None

    banner(f"bench_fetch: {args.prs} PRs of {REPO} (extremes=True), latency {args.latency * 1000:.0f} ms")
    tokens = {**GHSEED_TOKENS, **NAIVE_TOKENS}
    carol, dave = list(NAIVE_TOKENS)
    with start(emulator_config(args.prs, args.latency, tokens)) as emu:
        ghseed, exact = run_ghseed(emu, args.prs)
        print(
            f"   ghseed done in {ghseed.wall:.2f} s; result equals the emulator's truth: {exact}", flush=True
        )
        fair = run_naive(emu, dave, args.prs, limit, throttle=False)
        print(f"   naive (no throttle) done in {fair.wall:.2f} s", flush=True)
        default = None if args.skip_throttled else run_naive(emu, carol, args.prs, limit, throttle=True)
        if default is not None:
            print(f"   naive (defaults) done in {default.wall:.2f} s", flush=True)

    runs = [r for r in (ghseed, fair, default) if r is not None]

    def projected_wall(run: Run) -> float:
        return run.wall / run.prs * int(args.prs)

    rows = [
        [
            r.label,
            str(r.prs),
            f"{r.requests}",
            f"{r.requests_per_pr:.2f}",
            f"{r.wall:.2f} s"
            + (f" (-> {projected_wall(r):.1f} s for {args.prs})" if r.prs < args.prs else ""),
            f"{r.prs_per_second:.2f}",
            str(r.stats.violations),
            str(r.stats.max_concurrency),
        ]
        for r in runs
    ]
    print()
    print(table(["client", "PRs", "requests", "req/PR", "wall", "PRs/s", "violations", "max conc."], rows))
    for r in runs:
        if r.note:
            print(f"   NOTE {r.label}: {r.note}")
    statuses = {r.label: dict(sorted(r.stats.responses_by_status.items())) for r in runs}
    for label, counts in statuses.items():
        print(f"   statuses, {label}: {counts}")

    print()
    print(f"ghseed's requests by endpoint ({args.prs} PRs; a sub-list whose count is 0 is skipped):")
    for endpoint, count in requests_by_endpoint(ghseed.stats):
        print(f"   {count:6d}  {count / args.prs:5.2f}/PR  {endpoint}")

    print()
    print("Speed-up of ghseed (wall time of the baseline / ghseed's, same PRs, same emulator):")
    if default is not None:
        speedup_default = projected_wall(default) / ghseed.wall
        tag = " [EXTRAPOLATED]" if default.prs < args.prs else ""
        print(f"   vs naive loop, PyGithub defaults:        {speedup_default:6.1f}x{tag}")
    speedup_fair = projected_wall(fair) / ghseed.wall
    tag = " [EXTRAPOLATED]" if fair.prs < args.prs else ""
    print(f"   vs naive loop, throttle off (fairer):   {speedup_fair:6.1f}x{tag}")
    print(f"   naive requests per ghseed request: {fair.requests_per_pr / ghseed.requests_per_pr:.2f}")

    print()
    print("Targets:")
    if default is not None:
        print(
            f"   {verdict(speedup_default >= TARGET_SPEEDUP)}  >= {TARGET_SPEEDUP:.0f}x faster than the "
            f"naive loop (defaults): {speedup_default:.1f}x"
        )
    else:
        print("   SKIP  speed-up vs the naive loop with defaults (--skip-throttled)")
    print(
        f"   {verdict(ghseed.requests_per_pr <= TARGET_REQUESTS_PER_PR)}  <= {TARGET_REQUESTS_PER_PR} "
        f"requests per PR: {ghseed.requests_per_pr:.2f} ({ghseed.requests} requests incl. the 4 token probes)"
    )
    print(f"   {verdict(ghseed.stats.violations == 0)}  0 violations: {ghseed.stats.violations}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
