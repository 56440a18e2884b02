"""Replay speed and size: what the ``real_prs`` fixture costs, against replaying cassettes with vcrpy.

Records 1,000 PRs once (emulator, no latency, ``extremes=True``) with ``seed.ensure`` and the real
cassette recorder into a temporary cache dir, stops the emulator, then measures, offline:

(a) the fixture's work: ``ProjectStore(cache_dir, folder).load_snapshot().select(params)``, median;
(b) ``json.loads`` of the same snapshot bytes (already read), median: the floor for any JSON cache;
(c) replaying the cassettes through PyGithub under plain vcrpy (``replay_vcr()``, record mode none,
    ``allow_playback_repeats=False``): every recorded request sent again through PyGithub's
    Requester, one ``use_cassette`` per shard; and the same interactions as ONE unsharded cassette
    (vcrpy matches each request by scanning the cassette: O(n^2) in the cassette's size), timed on
    every k-th PR and extrapolated unless ``--unsharded-every 1``;
(d) bytes on disk per PR: our gzip JSON cassettes, our snapshot, their sum; vcrpy's default YAML
    and vcrpy's JSON (uncompressed) for the same requests and responses.

Targets: (a) <= 2x (b); (a) >= 100x faster than (c); cassettes + snapshot <= half of vcrpy YAML.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import io
import json
import pstats
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import GHSEED_TOKENS, REPO, banner, emulator_config, median_time, seconds, size, table, verdict
from github import Auth, Github
from vcr.request import Request
from vcr.serialize import deserialize, serialize
from vcr.serializers import jsonserializer, yamlserializer

from pytest_ghseed import seed
from pytest_ghseed.cache.cassettes import replay_vcr
from pytest_ghseed.cache.layout import LISTING_SHARD, SHARD_SUFFIX, ProjectLayout
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.emulator import start
from pytest_ghseed.models import FetchParams
from pytest_ghseed.projects import Project

TARGET_VS_JSON = 2.0
TARGET_VS_VCR = 100.0
TARGET_SIZE_SHARE = 0.5
_PR_FILE = re.compile(r"pr-(\d+)" + re.escape(SHARD_SUFFIX) + "$")


@dataclass(frozen=True)
class Replay:
    """One replay through PyGithub under vcrpy."""

    seconds: float
    played: int  # interactions vcrpy answered
    interactions: int  # interactions in the cassettes used
    unplayed: int  # interactions of those cassettes no request asked for (0: the replay is faithful)


def github_for_replay(base_url: str) -> Github:
    """PyGithub as a user replaying would set it up, minus the 0.25 s throttle (that would time a sleep)."""
    return Github(
        auth=Auth.Token("replay"),
        base_url=base_url,
        retry=None,
        seconds_between_requests=None,
        per_page=100,
    )


def replay_requests(g: Github, requests: list[Request]) -> None:
    """Send every recorded request again through PyGithub's Requester, in recorded order.

    Driving the replay from the recording keeps it faithful whatever the fetcher asked (per-PR
    sub-lists, or the repository-wide comment lists that ghseed reads in bulk); 5xx answers that
    were recorded and retried are played back too.
    """
    for request in requests:
        g.requester.requestJson("GET", request.uri)


def pr_number(path: Path) -> int:
    match = _PR_FILE.search(path.name)
    assert match is not None, path
    return int(match.group(1))


def replay_sharded(cassette_dir: Path, base_url: str) -> Replay:
    """(c), sharded as ghseed stores them: one ``use_cassette`` per file, loading included."""
    my_vcr = replay_vcr()
    g = github_for_replay(base_url)
    played = interactions = unplayed = 0
    start_time = time.perf_counter()
    for path in ProjectLayout(cassette_dir.parent.parent, cassette_dir.parent.name).cassettes():
        requests, _ = read_cassette(path)
        with my_vcr.use_cassette(str(path), allow_playback_repeats=False) as cassette:
            replay_requests(g, requests)
            played += cassette.play_count
            interactions += len(cassette)
            unplayed += len(cassette) - cassette.play_count
    elapsed = time.perf_counter() - start_time
    g.close()
    return Replay(elapsed, played, interactions, unplayed)


def read_cassette(path: Path) -> tuple[list[Request], list[dict[str, Any]]]:
    """A ghseed cassette through vcrpy's own deserializer."""
    requests, responses = deserialize(gzip.decompress(path.read_bytes()).decode("utf-8"), jsonserializer)
    return list(requests), list(responses)


@dataclass(frozen=True)
class Unsharded:
    load: float
    listing: float
    sample: float
    sample_prs: int
    sample_played: int
    pr_interactions: int
    interactions: int

    @property
    def extrapolated(self) -> float:
        """Load + listing + the sampled PRs' replay scaled to every PR interaction."""
        if self.sample_played == 0:
            return float("nan")
        return self.load + self.listing + self.sample * self.pr_interactions / self.sample_played


def replay_unsharded(
    path: Path,
    base_url: str,
    listing: list[Request],
    per_pr: dict[int, list[Request]],
    every: int,
    interactions: int,
) -> Unsharded:
    """(c) as one vcrpy cassette of all interactions: the listing, then every ``every``-th PR."""
    my_vcr = replay_vcr()
    g = github_for_replay(base_url)
    sample = sorted(per_pr)[::every]
    t0 = time.perf_counter()
    with my_vcr.use_cassette(str(path), serializer="json", allow_playback_repeats=False) as cassette:
        t1 = time.perf_counter()
        replay_requests(g, listing)
        listing_played = cassette.play_count
        t2 = time.perf_counter()
        for number in sample:
            replay_requests(g, per_pr[number])
        t3 = time.perf_counter()
        sample_played = cassette.play_count - listing_played
    g.close()
    return Unsharded(
        load=t1 - t0,
        listing=t2 - t1,
        sample=t3 - t2,
        sample_prs=len(sample),
        sample_played=sample_played,
        pr_interactions=interactions - listing_played,
        interactions=interactions,
    )


def profile(fn: Callable[[], object], title: str, lines: int = 15) -> None:
    """cProfile of one call: the top ``lines`` functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(lines)
    print(f"\n-- cProfile: {title} (top {lines} by own time)")
    text = out.getvalue()
    start_at = text.find("   ncalls")
    print(text[start_at:].rstrip() if start_at >= 0 else text.rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prs", type=int, default=1000, help="pull requests to record (default 1000)")
    parser.add_argument(
        "--runs", type=int, default=7, help="timed runs for the medians of (a) and (b) (default 7)"
    )
    parser.add_argument(
        "--replay-runs", type=int, default=3, help="timed runs of the sharded replay (default 3)"
    )
    parser.add_argument(
        "--unsharded-every",
        type=int,
        default=20,
        help="replay every k-th PR of the single unsharded cassette and extrapolate (1: all, measured)",
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="record into this dir and keep it (default: temp)"
    )
    args = parser.parse_args(argv)

    banner(f"bench_replay: {args.prs} PRs of {REPO} (extremes=True), recorded once, replayed offline")
    project = Project(name=REPO, full_name=REPO)
    params = FetchParams(max_prs=None)
    with tempfile.TemporaryDirectory(prefix="ghseed-bench-replay-") as tmp:
        cache_dir = args.keep or Path(tmp) / "cache"
        work = Path(tmp)

        # -- record once ---------------------------------------------------------------------------
        with start(emulator_config(args.prs, 0.0, GHSEED_TOKENS)) as emu:
            t0 = time.perf_counter()
            result = seed.ensure(
                project,
                cache_dir,
                params,
                record_mode="once",
                options=seed.FetchOptions(base_url=emu.base_url, tokens=list(GHSEED_TOKENS)),
            )
            record_time = time.perf_counter() - t0
        print(
            f"   recorded {len(result.snapshot.prs)} PRs, {result.requests} requests, in {record_time:.1f} s "
            "(emulator stopped: everything below is offline)"
        )
        store = ProjectStore(cache_dir, project.folder)
        base_url = store.read_metadata().base_url
        files = store.layout.cassettes()

        # -- (a) and (b) -----------------------------------------------------------------------------
        def fixture_load() -> object:
            return ProjectStore(cache_dir, project.folder).read_snapshot().select(params)

        raw = store.snapshot_path.read_bytes()
        a, a_all = median_time(fixture_load, args.runs)
        b, b_all = median_time(lambda: json.loads(raw), args.runs)
        print(f"   (a) runs: {', '.join(seconds(t) for t in a_all)}")
        print(f"   (b) runs: {', '.join(seconds(t) for t in b_all)}")

        # -- (c) sharded -----------------------------------------------------------------------------
        replays = [replay_sharded(store.cassette_dir, base_url) for _ in range(args.replay_runs)]
        c = sorted(r.seconds for r in replays)[len(replays) // 2]
        first = replays[0]
        print(
            f"   (c) sharded runs: {', '.join(seconds(r.seconds) for r in replays)}; "
            f"played {first.played} of "
            f"{first.interactions} interactions, {first.unplayed} never asked for"
        )

        # -- the same interactions as vcrpy cassettes (one file: the usual vcrpy layout) ------------
        all_requests: list[Request] = []
        all_responses: list[dict[str, Any]] = []
        listing_requests: list[Request] = []
        per_pr: dict[int, list[Request]] = {}
        for path in files:
            requests, responses = read_cassette(path)
            all_requests.extend(requests)
            all_responses.extend(responses)
            if path.name == f"{LISTING_SHARD}{SHARD_SUFFIX}":
                listing_requests = requests
            else:
                per_pr[pr_number(path)] = requests
        cassette_dict = {"requests": all_requests, "responses": all_responses}
        vcr_json = serialize(cassette_dict, jsonserializer).encode("utf-8")
        vcr_yaml = serialize(cassette_dict, yamlserializer).encode("utf-8")
        unsharded_path = work / "all.json"
        unsharded_path.write_bytes(vcr_json)

        # -- (c) unsharded ---------------------------------------------------------------------------
        every = max(1, args.unsharded_every)
        un = replay_unsharded(unsharded_path, base_url, listing_requests, per_pr, every, len(all_requests))
        exact = every == 1
        c_unsharded = un.load + un.listing + un.sample if exact else un.extrapolated
        label = "measured" if exact else f"EXTRAPOLATED from every {every}th PR ({un.sample_prs} PRs)"
        print(
            f"   (c) unsharded: load {seconds(un.load)}, listing {seconds(un.listing)}, {un.sample_prs} PRs "
            f"({un.sample_played} requests) {seconds(un.sample)}: "
            f"{seconds(un.sample / max(1, un.sample_played))}"
            f"/request vs {seconds(c / max(1, first.played))}/request sharded"
        )

        # -- (d) sizes -------------------------------------------------------------------------------
        n = len(result.snapshot.prs)
        cassette_bytes = sum(p.stat().st_size for p in files)
        snapshot_bytes = store.snapshot_path.stat().st_size
        ours = cassette_bytes + snapshot_bytes

        # Printed while the temp dir still exists, so a profile can still load the snapshot.
        print()
        print(
            table(
                ["measure", "value", "note"],
                [
                    [
                        "(a) load_snapshot + select",
                        seconds(a),
                        f"median of {args.runs}; the real_prs fixture",
                    ],
                    [
                        "(b) json.loads(snapshot bytes)",
                        seconds(b),
                        f"median of {args.runs}; {size(len(raw))}",
                    ],
                    [
                        "(c) vcrpy+PyGithub, sharded",
                        seconds(c),
                        f"median of {args.replay_runs}; {len(files)} files",
                    ],
                    ["(c') vcrpy+PyGithub, 1 cassette", seconds(c_unsharded), label],
                    ["(a)/(b)", f"{a / b:.2f}x", "target <= 2x"],
                    ["(c)/(a)", f"{c / a:.0f}x", "target >= 100x"],
                    ["(c')/(a)", f"{c_unsharded / a:.0f}x", label],
                    ["(c)/(b)", f"{c / b:.0f}x", "ceiling of (c)/(a) for any cache that parses this JSON"],
                ],
            )
        )
        print()
        print(
            table(
                ["bytes on disk", "total", "per PR", "vs vcrpy YAML"],
                [
                    [name, size(value), size(value / n), f"{value / len(vcr_yaml):.1%}"]
                    for name, value in (
                        ("ours: cassettes (gzip JSON, sharded)", cassette_bytes),
                        ("ours: snapshot.json", snapshot_bytes),
                        ("ours: cassettes + snapshot", ours),
                        ("vcrpy YAML (default), 1 cassette", len(vcr_yaml)),
                        ("vcrpy JSON, uncompressed, 1 cassette", len(vcr_json)),
                    )
                ],
            )
        )

        ok_json = a <= TARGET_VS_JSON * b
        ok_vcr = c >= TARGET_VS_VCR * a
        ok_size = ours <= TARGET_SIZE_SHARE * len(vcr_yaml)
        print()
        print("Targets:")
        print(f"   {verdict(ok_json)}  (a) <= {TARGET_VS_JSON:.0f}x (b): {a / b:.2f}x")
        print(
            f"   {verdict(ok_vcr)}  (a) >= {TARGET_VS_VCR:.0f}x faster than (c): {c / a:.0f}x sharded "
            f"({c_unsharded / a:.0f}x vs one cassette, {label})"
        )
        print(
            f"   {verdict(ok_size)}  cassettes + snapshot <= {TARGET_SIZE_SHARE:.0%} of vcrpy YAML: "
            f"{ours / len(vcr_yaml):.1%}"
        )
        if not ok_json:
            print(
                f"   (a) misses by {a / (TARGET_VS_JSON * b):.2f}x: "
                f"it would need to be {seconds(TARGET_VS_JSON * b)}"
            )
        if not ok_vcr:
            print(
                f"   (a) misses by {TARGET_VS_VCR * a / c:.2f}x: "
                f"it would need to be {seconds(c / TARGET_VS_VCR)}"
            )
        if not ok_json or not ok_vcr:
            profile(fixture_load, "(a) load_snapshot + select")
        if not ok_size:
            print(f"   size misses by {ours / (TARGET_SIZE_SHARE * len(vcr_yaml)):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
