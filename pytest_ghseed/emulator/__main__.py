"""``python -m pytest_ghseed.emulator``: serve the demo project until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence

from pytest_ghseed.emulator import DEMO_TOKENS, demo_config, start


def main(argv: Sequence[str] | None = None) -> int:
    """Start the demo emulator, print how to reach it, and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m pytest_ghseed.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    args = parser.parse_args(argv)
    with start(demo_config(host=args.host, port=args.port)) as emu:
        print(f"GitHub API emulator serving ghseed/demo at {emu.base_url}", flush=True)
        print(f"GitHub Enterprise layout: {emu.enterprise_url}", flush=True)
        for token, user in DEMO_TOKENS.items():
            print(f"  token {token}  (user {user})", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("\nstopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
