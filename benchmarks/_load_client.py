"""One load, measured from inside: ``python benchmarks/_load_client.py CACHE_DIR WHAT``.

``WHAT`` is ``json`` (``json.loads`` of the snapshot's bytes, already read) or a number N: what the
``real_prs`` fixture does for ``max_prs=N`` (``seed.ensure`` offline, inside ``models.long_lived``
where the code base has it, as ``GhseedSession.load`` does).
Prints one JSON line: wall and CPU seconds of that call, PRs, peak RSS. Run by ``bench_session.py``
with either code base on ``PYTHONPATH``, one fresh process per measurement.
"""

from __future__ import annotations

import contextlib
import json
import resource
import sys
import time
from pathlib import Path

from pytest_ghseed import models, seed
from pytest_ghseed.models import FetchParams
from pytest_ghseed.settings import Project

REPO = "acme/big"


def main() -> int:
    cache_dir, what = Path(sys.argv[1]), sys.argv[2]
    project = Project(name=REPO, full_name=REPO)
    if what == "json":
        raw = (cache_dir / project.folder / "snapshot.json").read_bytes()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        prs = len(json.loads(raw)["prs"])
    else:
        long_lived = getattr(models, "long_lived", contextlib.nullcontext)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        with long_lived():
            result = seed.ensure(project, cache_dir, FetchParams(max_prs=int(what)), record_mode="none")
        prs = len(result.snapshot.prs)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "prs": prs, "rss": peak}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
