"""What a fetch costs the machine: client CPU per PR, peak RSS and crawl wall time, against the baseline.

The emulator runs in its own process (``_serve.py``: one repository, ``extremes=True``, the given
latency, a primary budget too large to matter: this measures cost, not waiting). Each client run is a
fresh subprocess that records every PR with ``seed.ensure`` (crawl, cassettes, checkpoint, snapshot)
into a new temporary cache dir, with either code base: the baseline commit's source tree
(``--baseline``, default the commit issue 16 started from) or this checkout. Runs alternate
(ABBA...) and the figures are medians; each line says how far the runs spread.

    python benchmarks/bench_fetch_cost.py                 # 300 and 1,000 PRs, 3 runs each way (~15 min)
    python benchmarks/bench_fetch_cost.py --big           # also 5,000 PRs, 1 run each way (~15 min more)
    python benchmarks/bench_fetch_cost.py --prs 300 --reps 5

Targets (issue 16): client CPU per PR at 300 PRs at most half the baseline's; peak RSS at 5,000 PRs
at most 400 MiB; crawl wall time at 300 PRs within 1.5x of requests x latency / requests in flight.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from _common import (
    BASELINE_REV,
    GHSEED_TOKENS,
    EmulatorProcess,
    banner,
    interleaved,
    run_json,
    seconds,
    size,
    spread,
    table,
    variants,
    verdict,
)

from pytest_ghseed.defaults import DEFAULT_WORKERS

TARGET_CPU_RATIO = 0.5
TARGET_RSS_5000 = 400 * 1024 * 1024
TARGET_WALL_VS_FLOOR = 1.5
CLIENT = str(Path(__file__).with_name("_fetch_client.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prs", type=int, nargs="*", default=[300, 1000], help="repository sizes (300 1000)")
    parser.add_argument(
        "--big", action="store_true", help="also 5,000 PRs (1 run each way unless --big-reps)"
    )
    parser.add_argument("--big-reps", type=int, default=1, help="runs each way at 5,000 PRs (default 1)")
    parser.add_argument("--reps", type=int, default=3, help="runs of each variant per size (default 3)")
    parser.add_argument("--latency", type=float, default=0.030, help="emulator latency, seconds (0.030)")
    parser.add_argument(
        "--baseline", default=BASELINE_REV, help=f"baseline commit (default {BASELINE_REV}; none)"
    )
    args = parser.parse_args(argv)

    sizes = [(n, args.reps) for n in args.prs] + ([(5000, args.big_reps)] if args.big else [])
    chosen = variants(args.baseline)
    banner(
        f"bench_fetch_cost: {', '.join(str(n) for n, _ in sizes)} PRs, latency {args.latency * 1000:.0f} ms"
    )
    print(
        f"   variants: {', '.join(v.label for v in chosen)}; {DEFAULT_WORKERS} requests in flight (workers)"
    )
    results: dict[tuple[int, str], list[dict[str, float]]] = {}
    for n_prs, reps in sizes:
        with EmulatorProcess(n_prs, args.latency, GHSEED_TOKENS) as emu:
            by_label = {v.label: v for v in chosen}
            for label in interleaved(reps, list(by_label)):
                server_cpu = emu.cpu_seconds()
                with tempfile.TemporaryDirectory(prefix="ghseed-bench-cost-") as tmp:
                    run = run_json(
                        by_label[label], [CLIENT, emu.base_url, str(Path(tmp) / "cache"), *GHSEED_TOKENS]
                    )
                run["server_cpu"] = emu.cpu_seconds() - server_cpu
                results.setdefault((n_prs, label), []).append(run)
                print(
                    f"   {n_prs} PRs, {label}: wall {run['wall']:.2f} s, CPU {run['cpu']:.2f} s "
                    f"(user {run.get('user', 0):.2f}, system {run.get('system', 0):.2f}; "
                    f"emulator {run['server_cpu']:.2f} s), "
                    f"peak RSS {size(run['rss'])}, {run['requests']} requests",
                    flush=True,
                )

    rows = []
    verdicts: list[str] = []
    for n_prs, _ in sizes:
        medians: dict[str, dict[str, float]] = {}
        for variant in chosen:
            runs = results[(n_prs, variant.label)]
            keys = ("wall", "cpu", "rss", "requests", "server_cpu")
            med = {key: statistics.median(run[key] for run in runs) for key in keys}
            medians[variant.label] = med
            floor = med["requests"] * args.latency / DEFAULT_WORKERS
            rows.append(
                [
                    str(n_prs),
                    variant.label,
                    f"{med['cpu'] / n_prs * 1000:.1f} ms ({spread([r['cpu'] for r in runs])})",
                    f"{size(med['rss'])} ({spread([r['rss'] for r in runs])})",
                    f"{seconds(med['wall'])} ({spread([r['wall'] for r in runs])})",
                    f"{int(med['requests'])}",
                    f"{med['wall'] / floor:.2f}x",
                ]
            )
        new = medians["new"]
        base = next((m for label, m in medians.items() if label != "new"), None)
        if base is not None:
            rows.append(
                [
                    str(n_prs),
                    "new / baseline",
                    f"{new['cpu'] / base['cpu']:.2f}x",
                    f"{new['rss'] / base['rss']:.2f}x",
                    f"{new['wall'] / base['wall']:.2f}x",
                    "",
                    "",
                ]
            )
        if n_prs == 300 and base is not None:
            ratio = new["cpu"] / base["cpu"]
            verdicts.append(
                f"{verdict(ratio <= TARGET_CPU_RATIO)}  CPU per PR at 300 PRs <= {TARGET_CPU_RATIO}x baseline: "
                f"{ratio:.2f}x ({new['cpu'] / n_prs * 1000:.1f} vs {base['cpu'] / n_prs * 1000:.1f} ms per PR)"
            )
        if n_prs == 300:
            floor = new["requests"] * args.latency / DEFAULT_WORKERS
            verdicts.append(
                f"{verdict(new['wall'] <= TARGET_WALL_VS_FLOOR * floor)}  crawl wall at 300 PRs <= "
                f"{TARGET_WALL_VS_FLOOR}x requests x latency / in flight ({seconds(floor)}): "
                f"{seconds(new['wall'])} = {new['wall'] / floor:.2f}x (client CPU {seconds(new['cpu'])}, "
                f"emulator CPU {seconds(new['server_cpu'])}, on {os.cpu_count()} shared cores)"
            )
        if n_prs == 5000:
            verdicts.append(
                f"{verdict(new['rss'] <= TARGET_RSS_5000)}  peak RSS at 5,000 PRs <= {size(TARGET_RSS_5000)}: "
                f"{size(new['rss'])}" + (f" (baseline {size(base['rss'])})" if base is not None else "")
            )
    print()
    print(table(["PRs", "variant", "CPU per PR", "peak RSS", "wall", "requests", "wall / floor"], rows))
    print("   (x% after a figure: half the spread between the slowest and fastest run, of the median)")
    print()
    print("Targets:")
    for line in verdicts:
        print(f"   {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
