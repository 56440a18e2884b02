"""The ``ghseed`` command: ``main(argv) -> int``. Exit codes: 0 done, 1 failed, 2 usage error.

Subcommands: fetch, status, verify, serve, export, clear, rebuild, demo. It never imports pytest, and
imports the heavy parts (PyGithub via ``fetch/``, vcrpy via ``cache/cassettes``, the emulator) inside
the subcommand that needs them, so ``ghseed --help`` stays fast. Errors we raise on purpose
(``GhseedError``) become one clear line on stderr; a traceback would mean a bug.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence

from pytest_ghseed.cli.commands import COMMANDS, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from pytest_ghseed.cli.parser import build_parser
from pytest_ghseed.errors import GhseedError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ghseed`` command; return its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        command: Callable[[argparse.Namespace], int] = COMMANDS[args.command]
        return command(args)
    except GhseedError as exc:
        print(f"ghseed: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except BrokenPipeError:
        # The reader went away (`ghseed export ... | head`): not an error worth a traceback.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("ghseed: interrupted; finished work is kept, rerun the same command to resume", file=sys.stderr)
        return 130
