"""A refresh that finds nothing new, on 1,000 PRs: wall time and what it writes, against the baseline.

One emulator in its own process (``_serve.py``, the given latency). Each code base records the
repository once into a cache dir of its own (``_fetch_client.py``); then, in alternating order
(ABBA...), each refresh runs on a fresh copy of that recording (``_refresh_client.py``: the
``new_episodes`` record mode, as ``ghseed fetch --refresh`` runs it) in a fresh process. Nothing
changes on the emulator between recording and refreshing. After each refresh the script compares
every file of the cache with the recording: which changed, which appeared, and how the listing
cassettes grew. A last row refreshes, with this checkout, the cache the baseline recorded (a cache
of the old layout, one listing shard).

    python benchmarks/bench_refresh.py                  # 1,000 PRs, 5 refreshes each way (~6 min)
    python benchmarks/bench_refresh.py --prs 300 --reps 3

Targets (issue 16): at most 1.5 s; the snapshot and every cassette byte-identical afterwards (only
metadata.json changes: the time it last checked).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _common import (
    BASELINE_REV,
    GHSEED_TOKENS,
    REPO,
    EmulatorProcess,
    banner,
    interleaved,
    run_json,
    seconds,
    spread,
    table,
    variants,
    verdict,
)

HERE = Path(__file__).resolve().parent
FOLDER = REPO.replace("/", "__")
TARGET_WALL = 1.5


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def listing_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in (folder / "cassettes").glob("listing*.json.gz"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prs", type=int, default=1000, help="pull requests (1000)")
    parser.add_argument("--reps", type=int, default=5, help="refreshes of each variant (5)")
    parser.add_argument("--latency", type=float, default=0.030, help="emulator latency, seconds (0.030)")
    parser.add_argument("--baseline", default=BASELINE_REV, help=f"baseline commit (default {BASELINE_REV})")
    args = parser.parse_args(argv)

    chosen = variants(args.baseline)
    by_label = {v.label: v for v in chosen}
    banner(f"bench_refresh: no-change refresh of {args.prs} PRs, latency {args.latency * 1000:.0f} ms")
    runs: dict[str, list[dict[str, Any]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="ghseed-bench-refresh-") as tmp,
        EmulatorProcess(args.prs, args.latency, GHSEED_TOKENS) as emu,
    ):
        work = Path(tmp)
        recorded: dict[str, Path] = {}
        for variant in chosen:
            recorded[variant.label] = work / f"recorded-{len(recorded)}"
            run_json(
                variant,
                [str(HERE / "_fetch_client.py"), emu.base_url, str(recorded[variant.label]), *GHSEED_TOKENS],
            )
            print(f"   recorded with {variant.label}", flush=True)
        cases = [(label, label) for label in by_label]
        if len(chosen) > 1:
            cases.append(("new", chosen[0].label))  # this checkout on the baseline's recording
        names = [f"{code} on {rec}'s recording" for code, rec in cases]
        for name in interleaved(args.reps, names):
            code, rec = cases[names.index(name)]
            copy = work / "refresh"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(recorded[rec], copy)
            before, listing_before = digests(copy / FOLDER), listing_bytes(copy / FOLDER)
            run = run_json(
                by_label[code], [str(HERE / "_refresh_client.py"), emu.base_url, str(copy), *GHSEED_TOKENS]
            )
            after = digests(copy / FOLDER)
            run["changed"] = sorted(k for k in after if k in before and after[k] != before[k])
            run["added"] = sorted(k for k in after if k not in before)
            run["removed"] = sorted(k for k in before if k not in after)
            run["listing_growth"] = listing_bytes(copy / FOLDER) - listing_before
            runs.setdefault(name, []).append(run)
            print(
                f"   {name}: {run['wall']:.2f} s, {run['requests']} requests, changed {run['changed']}, added {len(run['added'])}",
                flush=True,
            )

    rows = []
    for name, results in runs.items():
        walls = [r["wall"] for r in results]
        last = results[-1]
        rows.append(
            [
                name,
                f"{seconds(statistics.median(walls))} ({spread(walls)})",
                seconds(statistics.median(r["cpu"] for r in results)),
                str(last["requests"]),
                ", ".join(last["changed"]) or "-",
                str(len(last["added"])),
                f"{last['listing_growth']:+,} B",
            ]
        )
    print()
    print(
        table(
            ["refresh", "median wall", "CPU", "requests", "files changed", "files added", "listing growth"],
            rows,
        )
    )
    new = runs[names[-1] if len(chosen) == 1 else names[1]]
    wall = statistics.median(r["wall"] for r in new)
    identical = all(r["changed"] == ["metadata.json"] and not r["added"] and not r["removed"] for r in new)
    print()
    print("Targets:")
    base_runs = runs.get(names[0]) if len(chosen) > 1 else None
    ratio = (
        f" ({wall / statistics.median(r['wall'] for r in base_runs):.2f}x the baseline's)"
        if base_runs
        else ""
    )
    print(
        f"   {verdict(wall <= TARGET_WALL)}  no-change refresh of {args.prs} PRs <= {TARGET_WALL} s: {seconds(wall)}{ratio}"
    )
    print(
        f"   {verdict(identical)}  snapshot and every cassette byte-identical, only metadata.json rewritten: {identical}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
