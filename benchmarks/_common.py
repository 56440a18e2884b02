"""Helpers shared by the benchmark scripts: timing, the emulator set-up, and printing figures.

Not a test module: nothing here asserts. Scripts import it as ``_common`` (they run as
``python benchmarks/bench_*.py``, so this folder is on ``sys.path``).
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

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


# -- a baseline measured in the same run ---------------------------------------------------------------

#: The commit the performance work of issue 16 started from: the baseline of the bench_* cost scripts.
BASELINE_REV = "f9ba996"
REPO_ROOT = Path(__file__).resolve().parents[1]


def baseline_source(rev: str = BASELINE_REV) -> Path:
    """A plain source tree of ``rev`` (``git archive``, extracted once into the temp folder).

    Put first on ``PYTHONPATH``, its ``pytest_ghseed`` wins over the installed (editable) one, so a
    subprocess runs the baseline's code with the same interpreter and libraries.
    """
    full = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = Path(tempfile.gettempdir()) / f"ghseed-baseline-{full[:12]}"
    if not (target / "pytest_ghseed" / "__init__.py").is_file():
        staging = Path(tempfile.mkdtemp(prefix=f"ghseed-baseline-{full[:12]}-", dir=tempfile.gettempdir()))
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", full], capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(staging, filter="data")
        try:
            staging.rename(target)
        except OSError:  # another run extracted it first
            shutil.rmtree(staging, ignore_errors=True)
    return target


@dataclass(frozen=True)
class Variant:
    """Which code a subprocess runs: the baseline's source tree, or this checkout (``source=None``)."""

    label: str
    source: Path | None

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH")
        }
        if self.source is not None:
            env["PYTHONPATH"] = str(self.source)
        return env


def variants(baseline: str | None) -> list[Variant]:
    """The baseline (``--baseline REV``; ``none`` to skip it) and this checkout, both byte-compiled."""
    found = [Variant("new", None)]
    if baseline and baseline.lower() != "none":
        found.insert(0, Variant(f"baseline {baseline}", baseline_source(baseline)))
    for variant in found:
        compile_package((variant.source or REPO_ROOT) / "pytest_ghseed")
    return found


def compile_package(package: Path) -> None:
    """Write the package's bytecode (``__pycache__``), as ``pip install`` does for a user.

    Without it, a machine with ``PYTHONDONTWRITEBYTECODE`` set (this one has) compiles every module
    in every measured run, which no installed copy does (measured: importing the fetch path took
    0.55 to 0.65 s of CPU without bytecode, 0.43 to 0.49 s with it), for either variant.
    """
    import compileall

    if not compileall.compile_dir(package, quiet=1):
        msg = f"cannot byte-compile {package}"
        raise SystemExit(msg)


def run_json(variant: Variant, args: Sequence[str], *, cwd: Path | None = None, timeout: float = 3600) -> Any:
    """Run ``python ARGS`` with the variant's code and return the JSON its last stdout line holds."""
    done = subprocess.run(
        [sys.executable, *args],
        env=variant.env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        msg = f"{variant.label}: {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        raise SystemExit(msg)
    return json.loads(lines[-1])


def interleaved(reps: int, names: Sequence[str]) -> list[str]:
    """The run order: every variant once per repetition, alternating direction (ABBA...) against drift."""
    order: list[str] = []
    for rep in range(reps):
        order.extend(names if rep % 2 == 0 else list(reversed(names)))
    return order


def spread(values: Sequence[float]) -> str:
    """How noisy a set of runs was: min-max around the median, as a percentage of the median."""
    if len(values) < 2:
        return "1 run"
    middle = statistics.median(values)
    return f"+-{(max(values) - min(values)) / 2 / middle * 100:.0f}%" if middle else "n/a"


class EmulatorProcess:
    """An emulator in its own process (``_serve.py``), so that a client's CPU time is the client's alone."""

    def __init__(
        self, n_prs: int, latency: float, tokens: Mapping[str, str], primary_limit: int = 10**9
    ) -> None:
        spec = {
            "repo": REPO,
            "n_prs": n_prs,
            "seed": SEED,
            "latency": latency,
            "tokens": dict(tokens),
            "limit": primary_limit,
        }
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_serve.py")), json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("http://"):
            self.stop()
            msg = f"the emulator process did not start: {line!r}"
            raise SystemExit(msg)
        self.base_url = line.strip()

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used so far (user + system, from /proc; 0.0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # _serve.py stops when its stdin closes
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
