"""Run a command and print one JSON line: its wall time, exit code, output tail, and the peak RSS of
its whole process tree (``RUSAGE_CHILDREN``: pytest and its xdist workers). Used by ``bench_session.py``."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    start = time.perf_counter()
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    tail = (done.stdout + done.stderr)[-2000:]
    print(json.dumps({"wall": wall, "rss": peak, "returncode": done.returncode, "tail": tail}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
