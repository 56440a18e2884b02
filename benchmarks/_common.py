"""Helpers shared by the benchmark scripts: timing, the emulator set-up, and printing figures.

Not a test module: nothing here asserts. Scripts import it as ``_common`` (they run as
``python benchmarks/bench_*.py``, so this folder is on ``sys.path``).
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TypeVar

from pytest_ghseed.emulator import EmulatorConfig, ProjectSpec

T = TypeVar("T")

REPO = "acme/big"
SEED = 20261128
#: Two users for ghseed (its pool de-duplicates by owner, so they must be different users), and one
#: user per naive baseline run, so that no run spends another run's primary budget.
GHSEED_TOKENS: dict[str, str] = {"tok-bench-alice": "alice", "tok-bench-bob": "bob"}
NAIVE_TOKENS: dict[str, str] = {"tok-bench-carol": "carol", "tok-bench-dave": "dave"}


def emulator_config(n_prs: int, latency: float, tokens: Mapping[str, str]) -> EmulatorConfig:
    """One repository with the emulator's realistic mix (``extremes=True``); GitHub's default limits."""
    return EmulatorConfig(
        projects=(ProjectSpec(REPO, n_prs=n_prs, seed=SEED, extremes=True),),
        tokens=dict(tokens),
        latency_seconds=latency,
    )


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Wall time of one call (``perf_counter``) and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_time(fn: Callable[[], object], runs: int, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``runs`` calls after ``warmup`` untimed ones; also every timing."""
    for _ in range(warmup):
        fn()
    times = [timed(fn)[0] for _ in range(runs)]
    return statistics.median(times), times


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def seconds(value: float) -> str:
    """A duration with a unit that keeps three significant figures readable."""
    if value < 1e-3:
        return f"{value * 1e6:.0f} us"
    if value < 1.0:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def size(value: float) -> str:
    if value < 1024:
        return f"{value:.0f} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.1f} KiB"
    return f"{value / (1024 * 1024):.2f} MiB"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain left-aligned text table."""
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(len(headers))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in (headers, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def banner(title: str) -> None:
    """The title, the date and the machine, so pasted output says where it came from."""
    import os

    print(f"== {title}")
    print(
        f"   {date.today().isoformat()}, Python {platform.python_version()}, {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} CPUs"
    )
