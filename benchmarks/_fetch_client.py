"""One fetch, measured from inside: ``python benchmarks/_fetch_client.py BASE_URL CACHE_DIR TOKEN...``.

Records every PR of the benchmark repository with ``seed.ensure`` (the product's own path: crawl,
cassettes, checkpoint, snapshot) and prints one JSON line: wall and CPU seconds of this process, its
peak RSS, requests, PRs. Run by ``bench_fetch_cost.py`` with either code base on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

from pytest_ghseed import seed
from pytest_ghseed.models import FetchParams
from pytest_ghseed.settings import Project

REPO = "acme/big"


def main() -> int:
    base_url, cache_dir, *tokens = sys.argv[1:]
    project = Project(name=REPO, full_name=REPO)
    wall0, cpu0, times0 = time.perf_counter(), time.process_time(), os.times()
    result = seed.ensure(
        project,
        Path(cache_dir),
        FetchParams(max_prs=None),
        record_mode="all",
        options=seed.FetchOptions(base_url=base_url, tokens=tokens),
    )
    wall, cpu, times = time.perf_counter() - wall0, time.process_time() - cpu0, os.times()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "user": times.user - times0.user,
                "system": times.system - times0.system,
                "rss": peak,
                "requests": result.requests,
                "prs": len(result.snapshot.prs),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
