"""What ``real_prs`` costs a test session on a 5,000-PR cache, against the baseline, measured in one run.

Records 5,000 PRs once (emulator in this process, no latency; or ``--cache DIR``, a cache recorded
earlier by either code base), then, offline, with the baseline commit's source tree and with this
checkout, in alternating order (ABBA...), each measurement in a fresh process:

(a) the fixture's load: ``seed.ensure(..., record_mode="none")`` for ``max_prs=100`` and for all
    5,000 PRs, beside ``json.loads`` of the snapshot's bytes (the floor of any JSON loader);
(b) pytest sessions of 200 trivial tests (20 files), once taking ``real_prs`` and once not, serial
    and with ``-n 2``, all PRs and ``--ghseed-max-prs=100``: the fixture's cost is the difference of
    the medians; peak RSS of the whole process tree (xdist workers included).

Before the timed runs, each code base loads once untimed (for this checkout that builds the derived
snapshot in the temp folder, as the first session after a recording does); that first load is timed
separately as "cold".

    python benchmarks/bench_session.py                       # records 5,000 PRs first (~4 min)
    python benchmarks/bench_session.py --cache /tmp/c5000    # reuse a recording (folder acme__big inside)

Targets (issue 16): (a) max_prs=100 at most 5% of the baseline's; all PRs at most 0.5x json.loads;
(b) 200 tests using real_prs add at most 1 s serial and 1.5 s with -n 2.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from _common import (
    BASELINE_REV,
    GHSEED_TOKENS,
    REPO,
    Variant,
    banner,
    emulator_config,
    interleaved,
    run_json,
    seconds,
    size,
    spread,
    table,
    variants,
    verdict,
)

from pytest_ghseed import seed
from pytest_ghseed.cache.layout import derived_dir, derived_key
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.emulator import start
from pytest_ghseed.models import FetchParams
from pytest_ghseed.settings import Project

HERE = Path(__file__).resolve().parent
PROJECT = Project(name=REPO, full_name=REPO)
ALL_PRS = 100_000  # "every PR": more than the cache holds
TARGET_PARTIAL = 0.05
TARGET_FULL_VS_JSON = 0.5
TARGET_SERIAL = 1.0
TARGET_XDIST = 1.5


def record(cache_dir: Path, n_prs: int) -> None:
    config = replace(emulator_config(n_prs, 0.0, GHSEED_TOKENS), primary_limit=10**9)
    with start(config) as emu:
        t0 = time.perf_counter()
        seed.ensure(
            PROJECT,
            cache_dir,
            FetchParams(max_prs=None),
            options=seed.FetchOptions(base_url=emu.base_url, tokens=list(GHSEED_TOKENS)),
        )
    print(f"   recorded {n_prs} PRs in {time.perf_counter() - t0:.0f} s", flush=True)


def write_suite(root: Path, uses_fixture: bool, n_tests: int = 200, per_file: int = 10) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\n")
    for start_at in range(0, n_tests, per_file):
        body = "".join(
            f"def test_{i}(real_prs):\n    assert len(real_prs) > 0\n\n\n"
            if uses_fixture
            else f"def test_{i}():\n    assert {i} >= 0\n\n\n"
            for i in range(start_at, start_at + per_file)
        )
        (root / f"test_mod_{start_at // per_file:03d}.py").write_text(body)


def forget_derived(cache_dir: Path) -> None:
    """Remove this checkout's derived files of the cache (the next load is a cold one)."""
    key = derived_key(ProjectStore(cache_dir, PROJECT.folder).snapshot_path)
    for path in derived_dir().glob(f"{key}*"):
        path.unlink()


def session(variant: Variant, suite: Path, cache_dir: Path, extra: list[str]) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--ghseed-project={REPO}",
        f"--ghseed-cache-dir={cache_dir}",
        "--ghseed-record-mode=none",
        *extra,
    ]
    run: dict[str, Any] = run_json(variant, [str(HERE / "_rss_run.py"), *command], cwd=suite)
    if run["returncode"] != 0 or "200 passed" not in run["tail"]:
        msg = f"{variant.label}: the session did not pass ({' '.join(command)}):\n{run['tail']}"
        raise SystemExit(msg)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache", type=Path, default=None, help="a recorded cache dir (default: record one)")
    parser.add_argument("--prs", type=int, default=5000, help="PRs to record when no --cache (5000)")
    parser.add_argument("--reps", type=int, default=5, help="timed runs of each measurement per variant (5)")
    parser.add_argument("--baseline", default=BASELINE_REV, help=f"baseline commit (default {BASELINE_REV})")
    args = parser.parse_args(argv)

    chosen = variants(args.baseline)
    by_label = {v.label: v for v in chosen}
    banner(f"bench_session: real_prs on a {args.prs if args.cache is None else 'recorded'}-PR cache")
    with tempfile.TemporaryDirectory(prefix="ghseed-bench-session-") as tmp:
        work = Path(tmp)
        cache_dir = args.cache or work / "cache"
        if args.cache is None:
            record(cache_dir, args.prs)
        snapshot_size = ProjectStore(cache_dir, PROJECT.folder).snapshot_path.stat().st_size
        print(f"   snapshot.json: {size(snapshot_size)}; variants: {', '.join(by_label)}", flush=True)

        # -- (a) loads in fresh processes -----------------------------------------------------------
        forget_derived(cache_dir)
        cold: dict[str, dict[str, Any]] = {}
        for variant in chosen:  # untimed warm-up; for this checkout the cold build of the derived file
            cold[variant.label] = run_json(
                variant, [str(HERE / "_load_client.py"), str(cache_dir), str(ALL_PRS)]
            )
        loads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        kinds = ["json", "100", str(ALL_PRS)]
        for label in interleaved(args.reps, list(by_label)):
            for kind in kinds:
                run = run_json(by_label[label], [str(HERE / "_load_client.py"), str(cache_dir), kind])
                loads.setdefault((label, kind), []).append(run)
        print("   (a) loads measured", flush=True)

        # -- (b) pytest sessions ---------------------------------------------------------------------
        with_suite, without_suite = work / "with", work / "without"
        write_suite(with_suite, uses_fixture=True)
        write_suite(without_suite, uses_fixture=False)
        modes = {
            "serial, all PRs": [f"--ghseed-max-prs={ALL_PRS}", "-p", "no:xdist"],
            "-n 2, all PRs": [f"--ghseed-max-prs={ALL_PRS}", "-n", "2"],
            "serial, max_prs=100": ["--ghseed-max-prs=100", "-p", "no:xdist"],
        }
        sessions: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for label in interleaved(args.reps, list(by_label)):
            for mode, extra in modes.items():
                for suite_name, suite in (("with", with_suite), ("without", without_suite)):
                    run = session(by_label[label], suite, cache_dir, extra)
                    sessions.setdefault((label, mode, suite_name), []).append(run)
            print(f"   (b) sessions of {label} measured", flush=True)

    def med(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    print()
    rows = []
    for label in by_label:
        rows.append(
            [label, "cold: first load (builds the derived file)", seconds(cold[label]["wall"]), "1 run", ""]
        )
        for kind in kinds:
            runs = loads[(label, kind)]
            what = (
                "json.loads(snapshot)"
                if kind == "json"
                else f"load+select max_prs={'all' if kind == str(ALL_PRS) else kind}"
            )
            rows.append(
                [
                    label,
                    what,
                    seconds(med(runs, "wall")),
                    spread([r["wall"] for r in runs]),
                    f"CPU {seconds(med(runs, 'cpu'))}",
                ]
            )
    print(table(["variant", "(a) measure", "median wall", "spread", "note"], rows))

    print()
    rows = []
    overhead: dict[tuple[str, str], float] = {}
    for label in by_label:
        for mode in modes:
            with_runs, without_runs = sessions[(label, mode, "with")], sessions[(label, mode, "without")]
            added = med(with_runs, "wall") - med(without_runs, "wall")
            overhead[(label, mode)] = added
            rows.append(
                [
                    label,
                    mode,
                    f"{seconds(med(with_runs, 'wall'))} ({spread([r['wall'] for r in with_runs])})",
                    f"{seconds(med(without_runs, 'wall'))} ({spread([r['wall'] for r in without_runs])})",
                    f"{added:+.2f} s",
                    f"{size(med(with_runs, 'rss'))} vs {size(med(without_runs, 'rss'))}",
                ]
            )
    print(
        table(
            ["variant", "(b) 200 tests", "with real_prs", "without", "added", "peak RSS with vs without"],
            rows,
        )
    )

    new = "new"
    base = next((label for label in by_label if label != new), None)
    print()
    print("Targets:")
    # json.loads runs no pytest-ghseed code: its runs under either variant are one sample of the same thing.
    json_wall = statistics.median(run["wall"] for label in by_label for run in loads[(label, "json")])
    full = med(loads[(new, str(ALL_PRS))], "wall")
    print(
        f"   {verdict(full <= TARGET_FULL_VS_JSON * json_wall)}  all PRs ready <= {TARGET_FULL_VS_JSON}x json.loads: "
        f"{seconds(full)} vs {seconds(json_wall)} (every json.loads run) = {full / json_wall:.2f}x"
    )
    if base is not None:
        partial_new, partial_base = med(loads[(new, "100")], "wall"), med(loads[(base, "100")], "wall")
        print(
            f"   {verdict(partial_new <= TARGET_PARTIAL * partial_base)}  max_prs=100 <= {TARGET_PARTIAL:.0%} of the "
            f"baseline's: {seconds(partial_new)} vs {seconds(partial_base)} = {partial_new / partial_base:.1%}"
        )
    serial, xdist = overhead[(new, "serial, all PRs")], overhead[(new, "-n 2, all PRs")]
    print(
        f"   {verdict(serial <= TARGET_SERIAL)}  200 tests with real_prs add <= {TARGET_SERIAL} s serially: {serial:+.2f} s"
        + (f" (baseline {overhead[(base, 'serial, all PRs')]:+.2f} s)" if base else "")
    )
    print(
        f"   {verdict(xdist <= TARGET_XDIST)}  ... and <= {TARGET_XDIST} s with -n 2: {xdist:+.2f} s"
        + (f" (baseline {overhead[(base, '-n 2, all PRs')]:+.2f} s)" if base else "")
    )
    print(
        f"   (max_prs=100 sessions add {overhead[(new, 'serial, max_prs=100')]:+.2f} s"
        + (f"; baseline {overhead[(base, 'serial, max_prs=100')]:+.2f} s)" if base else ")")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
