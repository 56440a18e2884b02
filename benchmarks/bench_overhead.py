"""Plugin overhead: what having pytest-ghseed installed costs a suite that does not use it.

pytest imports every pytest11 entry point on every run, so ``pytest_ghseed.plugin`` must stay light.
Generates a suite of trivial tests (200 by default, 20 files) into a temporary folder, then runs it
with ``python -m pytest -q`` in a subprocess, alternately with the plugin installed but unused and with
``-p no:ghseed`` (the plugin blocked before import), several times in interleaved order (ABBA...) so
that drift in the machine's load hits both sides alike. Reports the median wall time of each, their
ratio, and the import time of ``pytest_ghseed.plugin`` (``-X importtime``) for context.

Target: the suite is at most 3% slower with the plugin than without it.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import banner, seconds, table, verdict

TARGET_RATIO = 1.03


def write_suite(root: Path, n_tests: int, per_file: int = 10) -> None:
    """``n_tests`` trivial tests in files of ``per_file``, with an empty ini so the folder is the rootdir."""
    (root / "pytest.ini").write_text("[pytest]\n")
    for start in range(0, n_tests, per_file):
        count = min(per_file, n_tests - start)
        body = "".join(
            f"def test_{start + i}():\n    assert {start + i} + 1 > {start + i}\n\n\n" for i in range(count)
        )
        (root / f"test_mod_{start // per_file:03d}.py").write_text(body)


def run_suite(root: Path, extra: list[str], n_tests: int) -> float:
    """Wall time of one ``python -m pytest -q`` run of the suite (subprocess, fresh interpreter)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or f"{n_tests} passed" not in done.stdout:
        msg = f"the suite did not pass ({' '.join(command)}):\n{done.stdout}\n{done.stderr}"
        raise SystemExit(msg)
    return elapsed


def plugin_import_time() -> float | None:
    """Cumulative import time of ``pytest_ghseed.plugin`` after pytest (seconds), from -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pytest; import pytest_ghseed.plugin"],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*pytest_ghseed\.plugin$", line)
        if match:
            return int(match.group(1)) / 1e6
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200, help="trivial tests in the generated suite")
    parser.add_argument("--reps", type=int, default=10, help="timed runs of each variant (interleaved)")
    args = parser.parse_args(argv)

    banner(f"plugin overhead: {args.tests} trivial tests, {args.reps} interleaved runs per variant")
    variants = {"installed, unused": [], "-p no:ghseed": ["-p", "no:ghseed"]}
    times: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="ghseed-bench-overhead-") as tmp:
        root = Path(tmp)
        write_suite(root, args.tests)
        for extra in variants.values():  # warm-up: bytecode caches, the OS file cache
            run_suite(root, extra, args.tests)
        names = list(variants)
        for rep in range(args.reps):
            order = names if rep % 2 == 0 else names[::-1]
            for name in order:
                times[name].append(run_suite(root, variants[name], args.tests))

    medians = {name: statistics.median(values) for name, values in times.items()}
    rows = [
        [name, seconds(medians[name]), seconds(min(values)), seconds(max(values))]
        for name, values in times.items()
    ]
    print(table(["variant", "median", "min", "max"], rows))
    with_plugin, without = times["installed, unused"], times["-p no:ghseed"]
    ratio = medians["installed, unused"] / medians["-p no:ghseed"]
    # Each pair ran back to back, so their difference cancels slow drift in the machine's load.
    paired = statistics.median(a - b for a, b in zip(with_plugin, without, strict=True))
    noise = statistics.median(abs(a - b) for a, b in itertools.pairwise(without)) if args.reps > 1 else 0.0
    imported = plugin_import_time()
    if imported is not None:
        print(f"import of pytest_ghseed.plugin (after pytest): {seconds(imported)}")
    print(f"median paired difference (installed - blocked): {paired * 1e3:+.0f} ms")
    print(
        f"noise: consecutive blocked runs differ by {noise * 1e3:.0f} ms "
        f"({noise / medians['-p no:ghseed'] * 100:.1f}% of a run)"
    )
    print(
        f"ratio installed/blocked (medians): {ratio:.3f} ({(ratio - 1) * 100:+.1f}%); "
        f"target <= {TARGET_RATIO:.2f}: {verdict(ratio <= TARGET_RATIO)}"
    )
    if noise / medians["-p no:ghseed"] > TARGET_RATIO - 1:
        print(
            "warning: the noise exceeds the 3% margin; rerun on an idle machine (or more --reps) to trust this"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
