"""One refresh, measured from inside: ``python benchmarks/_refresh_client.py BASE_URL CACHE_DIR TOKEN...``.

``seed.ensure(..., record_mode="new_episodes")`` on a recorded cache (load, crawl of what changed,
save), as ``ghseed fetch --refresh`` and the plugin run it. Prints one JSON line: wall and CPU seconds
of that call, requests, PRs. Run by ``bench_refresh.py`` with either code base on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
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
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = seed.ensure(
        project,
        Path(cache_dir),
        FetchParams(max_prs=None),
        record_mode="new_episodes",
        options=seed.FetchOptions(base_url=base_url, tokens=tokens),
    )
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "requests": result.requests,
                "prs": len(result.snapshot.prs),
                "source": result.source,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
