"""The ``ghseed`` command's arguments: one parser, each value checked while it is parsed by the parser of
its kind (``parsing``), so a bad value is a usage error naming it before anything runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_ghseed.defaults import (
    APIS,
    DEFAULT_API,
    DEFAULT_CACHE_DIR,
    DEFAULT_MAX_PRS,
    DEFAULT_MAX_WAIT,
    DEFAULT_RECORD_MODE,
    DEFAULT_STATE,
    DEFAULT_WORKERS,
    STATES,
    tool_version,
)
from pytest_ghseed.errors import UsageError
from pytest_ghseed.export import CSV_FIELDS, FORMATS
from pytest_ghseed.parsing import (
    argparse_type,
    parse_base_url,
    parse_choice,
    parse_date,
    parse_positive_int,
    parse_seconds,
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` owns every exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse says "argument --max-prs: --max-prs must be ..."; our parsers name the option already.
        prefix, _, rest = message.partition(": ")
        if prefix.startswith("argument ") and rest.startswith(prefix.removeprefix("argument ").split("/")[0]):
            message = rest
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _add_fetch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a preset (posthog, django, ..., demo), owner/repo, or an alias")
    parser.add_argument(
        "--max-prs",
        type=argparse_type(parse_positive_int, "--max-prs"),
        default=DEFAULT_MAX_PRS,
        help=f"how many pull requests to fetch (default {DEFAULT_MAX_PRS})",
    )
    parser.add_argument("--all-prs", action="store_true", help="fetch every pull request (no --max-prs cap)")
    parser.add_argument(
        "--oldest", action="store_true", help="take the oldest PRs instead of the most recent"
    )
    parser.add_argument(
        "--state",
        type=argparse_type(lambda v, w: parse_choice(v, STATES, w), "--state"),
        default=DEFAULT_STATE,
        help=f"{', '.join(STATES)} (default {DEFAULT_STATE})",
    )
    parser.add_argument(
        "--since", type=argparse_type(parse_date, "--since"), help="only PRs created on or after (ISO date)"
    )
    parser.add_argument(
        "--until", type=argparse_type(parse_date, "--until"), help="only PRs created on or before (ISO date)"
    )
    parser.add_argument(
        "--workers",
        type=argparse_type(parse_positive_int, "--workers"),
        default=DEFAULT_WORKERS,
        help=f"parallel worker threads (default {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--checkpoint-file", type=Path, help="where to keep progress (default: in the cache dir)"
    )
    _add_cache_dir(parser)
    parser.add_argument(
        "--base-url",
        type=argparse_type(parse_base_url, "--base-url"),
        help="GitHub API URL (default GITHUB_API_URL or https://api.github.com; Enterprise: https://HOST/api/v3)",
    )
    parser.add_argument(
        "--record-mode",
        choices=("once", "new_episodes", "all"),
        default=DEFAULT_RECORD_MODE,
        help=(
            "once: fetch what the cache lacks (default); new_episodes: refresh what changed; all: fetch again"
        ),
    )
    parser.add_argument(
        "--api",
        type=argparse_type(lambda v, w: parse_choice(v, APIS, w), "--api"),
        default=DEFAULT_API,
        metavar="{" + ",".join(APIS) + "}",
        help=f"GitHub API to fetch with: rest, graphql (files with patches through REST), or auto (GraphQL "
        f"where it is there and cheaper) (default {DEFAULT_API})",
    )
    parser.add_argument(
        "--no-patches",
        action="store_true",
        help="GraphQL without the REST files requests: files come without patch and previous_filename "
        "(the recording says so, and never serves a request that wants patches)",
    )
    parser.add_argument(
        "--max-wait",
        type=argparse_type(parse_seconds, "--max-wait"),
        default=DEFAULT_MAX_WAIT,
        help=f"longest wait for a rate-limit reset before giving up, in seconds (default {DEFAULT_MAX_WAIT:.0f})",
    )
    parser.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace real people by stable pseudonyms, so the recording can be committed (the salt stays "
        "in .ghseed/ beside the cache dir, ignored by git)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="ghseed",
        description="Record real GitHub pull-request history as test data, and manage the recordings.",
    )
    parser.add_argument("--version", action="version", version=f"ghseed {tool_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    fetch = commands.add_parser(
        "fetch",
        help="fetch a project's pull requests into the cache",
        description="Fetch pull requests with reviews, commits, files and comments; resumable.",
        epilog="example: GITHUB_TOKENS=tok1,tok2 ghseed fetch posthog --max-prs 500 --workers 8",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_fetch_options(fetch)

    status = _subcommand(
        commands,
        "status",
        "show what the cache holds, per project",
        "Repository, PR count, recorded date and age, record parameters, bytes on disk, checkpoint "
        "state (complete, or how far an interrupted fetch got) and schema version of each project.",
        "examples:\n  ghseed status\n  ghseed status posthog --json",
    )
    _add_project(status, required=False)
    status.add_argument("--json", action="store_true", help="machine-readable output (stable keys)")

    verify = _subcommand(
        commands,
        "verify",
        "check the cache's integrity and scan it for secrets (exit 1 on any finding)",
        "Integrity: snapshot and metadata parse, schema version, PR counts agree, every PR has a cassette "
        "and the snapshot equals what the cassettes say. Secrets: every file (gzip decompressed) is "
        "scanned for token-shaped strings and for the values of GITHUB_TOKENS / GITHUB_TOKEN; findings "
        "are shown masked. Changes nothing on disk.",
        "example:\n  ghseed verify --cache-dir cassettes\n\n"
        "as a pre-commit hook (.pre-commit-hooks.yaml entry):\n" + PRE_COMMIT_HOOK,
    )
    _add_project(verify, required=False)

    serve = _subcommand(
        commands,
        "serve",
        "serve a cached project as a local GitHub REST API",
        "Serve the recorded pull requests (rebuilt from the cassettes) with GitHub's pagination, ETags "
        "and rate-limit headers, until Ctrl-C. `demo` without a cache serves the built-in demo.",
        "example:\n  ghseed serve posthog --port 8080\n"
        "  then: Github(base_url='http://127.0.0.1:8080', auth=Auth.Token('ghseed-serve'))\n"
        "  any token (or none) is accepted: clients keep their own GITHUB_TOKEN",
    )
    _add_project(serve)
    serve.add_argument(
        "--port",
        type=argparse_type(_parse_port, "--port"),
        default=0,
        help="port to bind; 0 picks a free one (default)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")

    export = _subcommand(
        commands,
        "export",
        "export a project's pull requests as JSON lines or CSV",
        "jsonl: one whole pull request per line, as the snapshot stores it (body, labels, reviews, commits, "
        "files, comments). csv: one row per PR: " + ", ".join(CSV_FIELDS) + " (the last five are counts).",
        "example:\n  ghseed export posthog --format csv --output prs.csv",
    )
    _add_project(export)
    export.add_argument("--format", required=True, choices=FORMATS, help="jsonl (whole PRs) or csv (summary)")
    export.add_argument("--output", type=Path, help="file to write (atomically); default: stdout")
    export.add_argument("--force", action="store_true", help="replace --output if it exists")

    clear = _subcommand(
        commands,
        "clear",
        "delete a project's cache folder",
        "Remove the project's folder (only if it carries pytest-ghseed's CACHEDIR.TAG) and its lock file. "
        "Asks first on a terminal; elsewhere needs --yes.",
        "example:\n  ghseed clear posthog --yes",
    )
    _add_project(clear)
    clear.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    rebuild = _subcommand(
        commands,
        "rebuild",
        "rebuild a project's snapshot from its cassettes, with the network blocked",
        "Rebuild snapshot.json from the recorded traffic alone; any connection attempt is refused while it "
        "runs. metadata.json keeps its recorded date.",
        "example:\n  ghseed rebuild posthog --cache-dir cassettes",
    )
    _add_project(rebuild)

    demo = _subcommand(
        commands,
        "demo",
        "fetch the built-in demo project and replay it from the cache (no token, no network)",
        "Fetch `demo` from the embedded GitHub emulator into the cache, replay it from the cache offline, "
        "and print a short summary.",
        "example:\n  ghseed demo --cache-dir /tmp/ghseed-demo",
    )
    _add_cache_dir(demo)
    return parser


#: Ready for a ``.pre-commit-hooks.yaml`` (or, with ``repo: local``, a ``.pre-commit-config.yaml``).
PRE_COMMIT_HOOK = """\
  - id: ghseed-verify
    name: ghseed verify (cache integrity and secret scan)
    entry: ghseed verify --cache-dir cassettes
    language: python
    pass_filenames: false
    files: ^cassettes/
"""


def _subcommand(
    commands: Any, name: str, summary: str, description: str, epilog: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _add_cache_dir(parser: argparse.ArgumentParser) -> None:
    # Same name, default and help as `fetch`, so a command line can be edited from one subcommand to another.
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(DEFAULT_CACHE_DIR),
        help=f"cache folder (default ./{DEFAULT_CACHE_DIR})",
    )


def _add_project(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    help_text = "a preset (posthog, django, ..., demo), owner/repo, or an alias"
    if required:
        parser.add_argument("project", help=help_text)
    else:
        parser.add_argument("project", nargs="?", help=help_text + " (default: every project in the cache)")
    _add_cache_dir(parser)


def _parse_port(value: str, what: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        msg = f"{what} must be a port number from 0 to 65535 (0 picks a free one), got {value!r}"
        raise UsageError(msg)
    return port
