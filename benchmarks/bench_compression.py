"""The cassettes' compression: size and CPU time of each codec and level, against zlib's level 6.

Two corpora, each file compressed on its own as a crawl writes it:

- the cassettes of a real crawl: the emulator (``extremes=True``, in its own process) crawled by
  ``seed.ensure`` into a temporary cache, then each cassette's text read back;
- real GitHub answers: every ``*.json`` of ``../shared/github-samples`` (or ``--samples DIR``),
  skipped with a note where it is absent.

The baseline is what pytest-ghseed wrote until 2026-11-30: the standard library's ``gzip`` at level
6. Every codec and level is timed with CPU time (``process_time``), once per round in alternating
order; the figure is the median of the rounds.

    python benchmarks/bench_compression.py [--prs 300] [--rounds 7]

Target (issue 16, "cost proportional to use"): the level the writer uses (``cassettes.COMPRESS_LEVEL``)
compresses in at most 0.7x the baseline's time, into files at most 2% larger (committed recordings
are carried forever: speed is not bought with size).
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from _common import GHSEED_TOKENS, REPO_ROOT, EmulatorProcess, banner, seconds, size, table, verdict
from zlib_ng import gzip_ng

from pytest_ghseed.cache.cassettes import COMPRESS_LEVEL, read_gzip

TARGET_TIME_RATIO = 0.7
TARGET_SIZE_RATIO = 1.02
SAMPLES = Path(os.environ.get("GHSEED_SAMPLES_DIR") or REPO_ROOT.parent / "shared" / "github-samples")
CLIENT = str(Path(__file__).with_name("_fetch_client.py"))

Codec = Callable[[bytes], bytes]


def codecs() -> dict[str, Codec]:
    """The baseline, then zlib-ng at the levels worth weighing."""
    chosen: dict[str, Codec] = {"zlib 6 (baseline)": lambda data: gzip.compress(data, 6, mtime=0)}
    for level in (1, 3, 5, 6, 7, 9):
        mark = " (used)" if level == COMPRESS_LEVEL else ""
        chosen[f"zlib-ng {level}{mark}"] = lambda data, level=level: gzip_ng.compress(data, level, mtime=0)
    return chosen


def crawl_cassettes(n_prs: int) -> list[bytes]:
    """The uncompressed text of every cassette of a fresh ``n_prs``-PR crawl of the emulator."""
    with EmulatorProcess(n_prs, 0.0, GHSEED_TOKENS) as emu, tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            [sys.executable, CLIENT, emu.base_url, tmp, *GHSEED_TOKENS], capture_output=True, text=True
        )
        if run.returncode != 0:
            raise SystemExit(f"the crawl failed:\n{run.stderr[-2000:]}")
        return [read_gzip(path) for path in sorted(Path(tmp).glob("*/cassettes/*.json.gz"))]


def measure(files: Sequence[bytes], rounds: int) -> dict[str, tuple[int, float]]:
    """Per codec: total compressed bytes and the median CPU seconds to compress every file once."""
    chosen = codecs()
    times: dict[str, list[float]] = {name: [] for name in chosen}
    sizes: dict[str, int] = {}
    for round_ in range(rounds):
        order = list(chosen) if round_ % 2 == 0 else list(reversed(chosen))
        for name in order:
            codec = chosen[name]
            start = time.process_time()
            sizes[name] = sum(len(codec(data)) for data in files)
            times[name].append(time.process_time() - start)
    return {name: (sizes[name], statistics.median(times[name])) for name in chosen}


def report(title: str, files: Sequence[bytes], rounds: int) -> bool:
    """Print one corpus's table; whether the level in use meets the target on it."""
    results = measure(files, rounds)
    base_size, base_time = results["zlib 6 (baseline)"]
    print(f"\n{title}: {len(files)} files, {size(sum(map(len, files)))} uncompressed")
    rows = [
        [
            name,
            size(total),
            f"{total / base_size:.3f}x",
            seconds(cpu),
            f"{cpu / base_time:.2f}x",
        ]
        for name, (total, cpu) in results.items()
    ]
    print(table(["codec", "compressed", "size", "CPU", "time"], rows))
    used_size, used_time = next(v for name, v in results.items() if name.endswith("(used)"))
    ok = used_size <= TARGET_SIZE_RATIO * base_size and used_time <= TARGET_TIME_RATIO * base_time
    print(
        f"   {verdict(ok)} zlib-ng {COMPRESS_LEVEL}: {used_size / base_size:.3f}x the size, "
        f"{used_time / base_time:.2f}x the time (target: <= {TARGET_SIZE_RATIO}x, <= {TARGET_TIME_RATIO}x)"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prs", type=int, default=300, help="PRs of the crawled repository (300)")
    parser.add_argument("--rounds", type=int, default=7, help="timing rounds per codec (7)")
    parser.add_argument("--samples", type=Path, default=SAMPLES, help=f"real GitHub answers ({SAMPLES})")
    args = parser.parse_args(argv)

    banner(f"bench_compression: a {args.prs}-PR crawl's cassettes and real GitHub answers")
    ok = report(f"cassettes of a {args.prs}-PR crawl", crawl_cassettes(args.prs), args.rounds)
    samples = sorted(args.samples.glob("*.json")) if args.samples.is_dir() else []
    if samples:
        ok = (
            report(f"real GitHub answers ({args.samples})", [p.read_bytes() for p in samples], args.rounds)
            and ok
        )
    else:
        print(f"\nreal GitHub answers: none found at {args.samples} (--samples DIR); skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
