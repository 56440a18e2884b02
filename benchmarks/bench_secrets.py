"""The secret scan on a 25 MiB snapshot-like text: pattern variants and the writer's scan, against the baseline.

The text is the emulator's own data (``extremes=True``) serialized as ``snapshot.json`` is, repeated
up to the size asked. Timed with CPU time (``process_time``), every variant once per round in
alternating order, medians of the rounds:

- the token pattern, written four ways (``search`` over a text with no token: a full scan);
- what a writer did per file at the baseline (``Scrubber.scrub`` then ``Scrubber.check``: the
  baseline commit's ``secrets.py``, loaded from its source tree) against what it does now
  (``Scrubber.clean``), with two pool tokens of the benchmark's kind and with two token-shaped ones.

    python benchmarks/bench_secrets.py [--mib 25] [--rounds 7]

Target (issue 16): the literal-first pattern at least 10x faster than the lookbehind-first one.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import statistics
import sys
import time
from collections.abc import Callable
from types import ModuleType

from _common import BASELINE_REV, GHSEED_TOKENS, REPO, SEED, banner, baseline_source, seconds, table, verdict

from pytest_ghseed.cache.store import dump_json
from pytest_ghseed.emulator import ProjectSpec, SyntheticProject
from pytest_ghseed.models import Repository, Snapshot
from pytest_ghseed.secrets import TOKEN_PATTERN, Scrubber

TARGET_PATTERN_SPEEDUP = 10.0
_BODY = r"(?:h[pousr]_[A-Za-z0-9]{20,251}|ithub_pat_[A-Za-z0-9_]{20,244})(?![A-Za-z0-9_])"
PATTERNS = {
    "lookbehind first (baseline)": re.compile(
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,251}|github_pat_[A-Za-z0-9_]{20,244})(?![A-Za-z0-9_])"
    ),
    "lookahead (?=g) first": re.compile(r"(?=g)(?<![A-Za-z0-9_])g" + _BODY),
    "literal g, then lookbehind (new)": TOKEN_PATTERN,
    "literal g, no word check (wrong)": re.compile(r"g" + _BODY),
}
TOKEN_SHAPED = ["ghp_" + "A1b2C3d4E5" * 3 + "f6G7h8", "ghs_" + "Z9y8X7w6V5" * 3 + "u4T3s2"]


def snapshot_text(mib: float) -> str:
    """The emulator's data as snapshot.json text, repeated to ``mib`` MiB."""
    project = SyntheticProject(ProjectSpec(REPO, n_prs=400, seed=SEED, extremes=True))
    snapshot = Snapshot(
        repository=Repository(full_name=REPO, id=1),
        recorded_at=project.truth()[0].created_at,
        prs=tuple(project.truth()),
    )
    one = dump_json(snapshot.to_dict()).decode("utf-8")
    wanted = int(mib * 1024 * 1024)
    return (one * (wanted // len(one) + 1))[:wanted]


def load_baseline_secrets(rev: str) -> ModuleType:
    path = baseline_source(rev) / "pytest_ghseed" / "secrets.py"
    spec = importlib.util.spec_from_file_location("baseline_secrets", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=float, default=25.0, help="size of the text (25 MiB)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; every variant runs once per round (7)")
    parser.add_argument("--baseline", default=BASELINE_REV, help=f"baseline commit (default {BASELINE_REV})")
    args = parser.parse_args(argv)

    banner(f"bench_secrets: a {args.mib:g} MiB snapshot-like text, {args.rounds} rounds")
    text = snapshot_text(args.mib)
    old = load_baseline_secrets(args.baseline)
    pool = list(GHSEED_TOKENS)
    cases: dict[str, Callable[[], object]] = {
        f"pattern: {name}": (lambda p=p: p.search(text)) for name, p in PATTERNS.items()
    }
    for secrets_kind, secrets in (("pool tokens", pool), ("token-shaped pool tokens", TOKEN_SHAPED)):
        before, after = old.Scrubber(secrets), Scrubber(secrets)
        cases[f"writer's scan, {secrets_kind}: baseline scrub + check"] = lambda s=before: s.check(
            s.scrub(text), "x"
        )
        cases[f"writer's scan, {secrets_kind}: new clean"] = lambda s=after: s.clean(text, "x")
    assert all(p.search(text) is None for p in PATTERNS.values()), "the text must hold no token: a full scan"
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for round_number in range(args.rounds):
        for name in names if round_number % 2 == 0 else reversed(names):
            times[name].append(cpu(cases[name]))
    medians = {name: statistics.median(values) for name, values in times.items()}
    rows = []
    reference = medians["pattern: lookbehind first (baseline)"]
    for name in names:
        values = times[name]
        spread = (max(values) - min(values)) / 2 / medians[name] * 100 if medians[name] else 0.0
        ratio = reference / medians[name] if name.startswith("pattern") else None
        rows.append(
            [
                name,
                seconds(medians[name]),
                f"+-{spread:.0f}%",
                f"{medians[name] / len(text) * 1e9:.2f} ns/char",
                f"{ratio:.1f}x" if ratio else "",
            ]
        )
    print(table(["scan", "median CPU", "spread", "per character", "speed-up vs baseline pattern"], rows))
    print()
    for secrets_kind in ("pool tokens", "token-shaped pool tokens"):
        base = medians[f"writer's scan, {secrets_kind}: baseline scrub + check"]
        new = medians[f"writer's scan, {secrets_kind}: new clean"]
        print(
            f"   writer's scan with {secrets_kind}: {seconds(base)} -> {seconds(new)} ({base / new:.1f}x faster)"
        )
    speedup = reference / medians["pattern: literal g, then lookbehind (new)"]
    print()
    print("Targets:")
    print(
        f"   {verdict(speedup >= TARGET_PATTERN_SPEEDUP)}  literal-first pattern >= {TARGET_PATTERN_SPEEDUP:.0f}x faster: {speedup:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
