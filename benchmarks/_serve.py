"""Serve one emulator until stdin closes: ``python benchmarks/_serve.py '<json spec>'`` (see ``_common``).

Prints the base URL on its first line. Not a benchmark: the cost scripts run it as a separate
process, so that the client they measure does not share its CPU time with the server's.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

from pytest_ghseed.emulator import EmulatorConfig, ProjectSpec, start


def main() -> int:
    spec = json.loads(sys.argv[1])
    config = EmulatorConfig(
        projects=(ProjectSpec(spec["repo"], n_prs=spec["n_prs"], seed=spec["seed"], extremes=True),),
        tokens=spec["tokens"],
        latency_seconds=spec["latency"],
    )
    config = replace(config, primary_limit=spec["limit"])
    with start(config) as emu:
        print(emu.base_url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
