"""The ``ghseed`` command: ``main(argv) -> int``. Exit codes: 0 done, 1 failed, 2 usage error.

Subcommands: fetch, status, verify, serve, export, clear, rebuild, demo. It never imports pytest, and
imports the heavy parts (PyGithub via ``fetch/``, vcrpy via ``cache/cassettes``, the emulator) inside
the subcommand that needs them, so ``ghseed --help`` stays fast. Errors we raise on purpose
(``GhseedError``) become one clear line on stderr; a traceback would mean a bug.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ghseed.defaults import (
    APIS,
    DEFAULT_API,
    DEFAULT_CACHE_DIR,
    DEFAULT_MAX_PRS,
    DEFAULT_MAX_WAIT,
    DEFAULT_STATE,
    DEFAULT_WORKERS,
    STATES,
    tool_version,
)
from pytest_ghseed.errors import CacheError, CorruptFile, GhseedError, UsageError
from pytest_ghseed.export import CSV_FIELDS, FORMATS
from pytest_ghseed.models import FetchParams
from pytest_ghseed.progress import ProgressRenderer, StreamOutput
from pytest_ghseed.settings import (
    Project,
    aliases_from_pyproject,
    parse_base_url,
    parse_choice,
    parse_date,
    parse_positive_int,
    resolve_project,
)

if TYPE_CHECKING:
    from pytest_ghseed.cache.store import ProjectStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` owns every exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _typed(parse: Callable[[str, str], object], what: str) -> Callable[[str], object]:
    """An argparse ``type=`` from one of our parsers: its message becomes argparse's error."""

    def convert(value: str) -> object:
        try:
            return parse(value, what)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _add_fetch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="a preset (posthog, django, ..., demo), owner/repo, or an alias")
    parser.add_argument(
        "--max-prs",
        type=_typed(parse_positive_int, "--max-prs"),
        default=DEFAULT_MAX_PRS,
        help=f"how many pull requests to fetch (default {DEFAULT_MAX_PRS})",
    )
    parser.add_argument("--all-prs", action="store_true", help="fetch every pull request (no --max-prs cap)")
    parser.add_argument(
        "--oldest", action="store_true", help="take the oldest PRs instead of the most recent"
    )
    parser.add_argument(
        "--state",
        type=_typed(lambda v, w: parse_choice(v, STATES, w), "--state"),
        default=DEFAULT_STATE,
        help=f"{', '.join(STATES)} (default {DEFAULT_STATE})",
    )
    parser.add_argument(
        "--since", type=_typed(parse_date, "--since"), help="only PRs created on or after (ISO date)"
    )
    parser.add_argument(
        "--until", type=_typed(parse_date, "--until"), help="only PRs created on or before (ISO date)"
    )
    parser.add_argument(
        "--workers",
        type=_typed(parse_positive_int, "--workers"),
        default=DEFAULT_WORKERS,
        help=f"parallel worker threads (default {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--checkpoint-file", type=Path, help="where to keep progress (default: in the cache dir)"
    )
    _add_cache_dir(parser)
    parser.add_argument(
        "--base-url",
        type=_typed(parse_base_url, "--base-url"),
        help="GitHub API URL (default GITHUB_API_URL or https://api.github.com; Enterprise: https://HOST/api/v3)",
    )
    parser.add_argument(
        "--record-mode",
        choices=("once", "new_episodes", "all"),
        default="once",
        help=(
            "once: fetch what the cache lacks (default); new_episodes: refresh what changed; all: fetch again"
        ),
    )
    parser.add_argument(
        "--api",
        type=_typed(lambda v, w: parse_choice(v, APIS, w), "--api"),
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
        type=float,
        default=DEFAULT_MAX_WAIT,
        help=f"longest wait for a rate-limit reset before giving up, in seconds (default {DEFAULT_MAX_WAIT:.0f})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="ghseed",
        description="Record real GitHub pull-request history as test data, and manage the recordings.",
    )
    parser.add_argument("--version", action="version", version=f"ghseed {tool_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
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
        type=_typed(_parse_port, "--port"),
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ghseed`` command; return its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        command: Callable[[argparse.Namespace], int] = _COMMANDS[args.command]
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


def _cmd_fetch(args: argparse.Namespace) -> int:
    from pytest_ghseed.cache.store import ProjectStore
    from pytest_ghseed.seed import FetchOptions, ensure

    project = resolve_project(args.project, aliases_from_pyproject(Path.cwd()))
    params = FetchParams(
        max_prs=None if args.all_prs else args.max_prs,
        state=args.state,
        order="oldest" if args.oldest else "recent",
        since=args.since,
        until=args.until,
        patches=not args.no_patches,
    )
    if args.no_patches and args.api == "rest":
        msg = "--no-patches needs --api graphql or auto: REST's files always carry their patches"
        raise UsageError(msg)
    if args.max_wait < 0:
        msg = f"--max-wait must be 0 or more seconds, got {args.max_wait}"
        raise UsageError(msg)
    options = FetchOptions(
        base_url=args.base_url,
        workers=args.workers,
        max_wait=args.max_wait,
        checkpoint_file=args.checkpoint_file,
        api=args.api,
    )
    store = ProjectStore(args.cache_dir, project.folder)
    output = StreamOutput(sys.stderr)
    started = time.monotonic()
    try:
        result = ensure(
            project,
            args.cache_dir,
            params,
            record_mode=args.record_mode,
            options=options,
            on_event=ProgressRenderer(output),
        )
    finally:
        output.end_status()
    for note in result.notes:
        print(f"ghseed: note: {note}", file=sys.stderr)
    elapsed = time.monotonic() - started
    source = {"cache": "already in the cache", "fetched": "fetched", "refreshed": "refreshed"}[result.source]
    print(
        f"ghseed: {project.full_name}: {len(result.snapshot.prs)} PRs {source} with {result.requests} "
        f"requests in {elapsed:.1f}s -> {store.snapshot_path}"
    )
    return EXIT_OK


# -- status -------------------------------------------------------------------------------------------


def _store_of(project_name: str, cache_dir: Path) -> tuple[Project, ProjectStore]:
    from pytest_ghseed.cache.store import ProjectStore

    project = resolve_project(project_name, aliases_from_pyproject(Path.cwd()))
    return project, ProjectStore(cache_dir, project.folder)


def _existing_store(project_name: str, cache_dir: Path) -> ProjectStore:
    """The store of a project that has a cache folder, or a CacheError saying how to record it."""
    project, store = _store_of(project_name, cache_dir)
    if not store.is_ours():
        msg = (
            f"no cache for project {project.name!r} in {cache_dir} (looked for {store.path}); "
            f"record it with `ghseed fetch {project.name} --cache-dir {cache_dir}`"
        )
        raise CacheError(msg)
    return store


def _selected_stores(project_name: str | None, cache_dir: Path) -> list[ProjectStore]:
    from pytest_ghseed.cache.layout import project_folders
    from pytest_ghseed.cache.store import ProjectStore

    if project_name is not None:
        return [_existing_store(project_name, cache_dir)]
    return [ProjectStore(cache_dir, folder) for folder in project_folders(cache_dir)]


def _cmd_status(args: argparse.Namespace) -> int:
    from pytest_ghseed.cache.inspect import project_status

    stores = _selected_stores(args.project, args.cache_dir)
    statuses = [project_status(store) for store in stores]
    if args.json:
        print(json.dumps({"cache_dir": str(args.cache_dir), "projects": statuses}, indent=2, sort_keys=True))
        return EXIT_OK
    if not statuses:
        print(f"no recorded projects in {args.cache_dir}; record one with `ghseed fetch PROJECT`")
        return EXIT_OK
    header = (
        "PROJECT",
        "REPOSITORY",
        "PRS",
        "RECORDED",
        "AGE",
        "PARAMS",
        "CASSETTES",
        "SNAPSHOT",
        "STATE",
        "SCHEMA",
    )
    rows = [header, *(_status_row(status) for status in statuses)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    for status in statuses:
        for problem in status["problems"]:
            print(f"ghseed: note: {status['folder']}: {problem}", file=sys.stderr)
    return EXIT_OK


def _status_row(status: dict[str, Any]) -> tuple[str, ...]:
    def show(value: object) -> str:
        return "-" if value is None else str(value)

    params = status["params"] or {}
    if "max_prs" in params and params["max_prs"] is None:
        params = {**params, "max_prs": "all"}  # None means "no cap", not "unknown"
    described = " ".join(f"{k}={v}" for k, v in sorted(params.items()) if v is not None) or "-"
    checkpoint = status["checkpoint"]
    state = checkpoint["state"]
    if state == "interrupted":
        state = f"interrupted {show(checkpoint['fetched'])}/{show(checkpoint['plan'])}"
    schema = show(status["schema_version"])
    if status["schema_version"] not in (None, status["schema_current"]):
        schema += f" (reads {status['schema_current']})"
    recorded = status["recorded_at"]
    return (
        show(status["project"]),
        show(status["repository"]),
        show(status["pr_count"]),
        show(recorded[:16].replace("T", " ") if recorded else None),
        _age(status["age_seconds"]),
        described,
        f"{_bytes(status['bytes']['cassettes'])} ({status['cassette_files']} files)",
        _bytes(status["bytes"]["snapshot"]),
        state,
        schema,
    )


def _age(seconds: int | None) -> str:
    from pytest_ghseed.reporting import describe_age

    return "-" if seconds is None else describe_age(seconds)


def _bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{count} B"  # pragma: no cover (the loop always returns)


# -- verify -------------------------------------------------------------------------------------------


def _cmd_verify(args: argparse.Namespace) -> int:
    from pytest_ghseed.cache.inspect import Finding, scan_secrets, verify_project
    from pytest_ghseed.secrets import tokens_from_env

    cache_dir: Path = args.cache_dir
    stores = _selected_stores(args.project, cache_dir)
    secrets = tokens_from_env()
    findings: list[Finding] = []
    files = prs = 0
    for store in stores:
        found, counts = verify_project(store, secrets)
        findings.extend(found)
        files += counts["files"]
        prs += counts["prs"]
    if args.project is None and cache_dir.is_dir():
        # Whatever else lies in the cache dir (lock files, folders of other tools) may be committed too.
        inside = {store.path for store in stores}
        for path in sorted(p for p in cache_dir.rglob("*") if p.is_file()):
            if not inside.intersection(path.parents):
                files += 1
                findings.extend(scan_secrets(path, secrets))
    for finding in findings:
        print(finding.describe())
    if findings:
        leaks = sum(1 for f in findings if f.kind == "secret")
        print(
            f"ghseed: error: verify found {len(findings)} problem(s) ({leaks} secret(s)) in {cache_dir}; "
            "remove the secrets (e.g. `ghseed clear PROJECT` and fetch again) "
            "or run `ghseed rebuild PROJECT`",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(
        f"ghseed: OK: {len(stores)} project(s), {prs} PRs, {files} files in {cache_dir}: "
        "sound, no secrets found"
    )
    return EXIT_OK


# -- serve --------------------------------------------------------------------------------------------


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C (the server runs in its own thread); a seam for tests."""
    threading.Event().wait()


def _cmd_serve(args: argparse.Namespace) -> int:
    project, store = _store_of(args.project, args.cache_dir)
    has_cache = store.is_ours()
    if not has_cache and not project.is_demo:
        store = _existing_store(args.project, args.cache_dir)  # raises the "record it with" error
    from pytest_ghseed.emulator.serve import SERVE_TOKEN, serve_project

    try:
        emulator = serve_project(store if has_cache else None, args.host, args.port)
    except OSError as exc:
        msg = (
            f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); pick another --port or --host"
        )
        raise UsageError(msg) from None
    repository = project.full_name if not has_cache else next(iter(emulator.projects.values())).full_name
    with emulator:
        source = f"from {store.path}" if has_cache else "(built-in demo)"
        print(f"ghseed: serving {repository} {source} at {emulator.base_url}", flush=True)
        print("  any token works (your GITHUB_TOKEN too), or none: read-only, local", flush=True)
        print(
            "  PyGithub: Github(base_url=" + repr(emulator.base_url) + f", auth=Auth.Token({SERVE_TOKEN!r}))",
            flush=True,
        )
        print("Press Ctrl-C to stop.", flush=True)
        try:
            _wait_for_interrupt()
        except KeyboardInterrupt:
            print("ghseed: stopped", file=sys.stderr)
    return EXIT_OK


# -- export -------------------------------------------------------------------------------------------


def _cmd_export(args: argparse.Namespace) -> int:
    from pytest_ghseed._files import atomic_write_bytes
    from pytest_ghseed.export import render

    store = _existing_store(args.project, args.cache_dir)
    snapshot = store.read_snapshot()
    text = render(snapshot.prs, args.format)
    if args.output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    try:
        atomic_write_bytes(args.output, text.encode("utf-8"))
    except OSError as exc:
        msg = f"cannot write {args.output} ({exc.strerror or exc}); check the folder exists and is writable"
        raise CacheError(msg) from None
    print(
        f"ghseed: wrote {len(snapshot.prs)} PRs of {snapshot.repository.full_name} to {args.output}",
        file=sys.stderr,
    )
    return EXIT_OK


# -- clear --------------------------------------------------------------------------------------------


def _cmd_clear(args: argparse.Namespace) -> int:
    project, store = _store_of(args.project, args.cache_dir)
    if not store.path.exists() and not store.path.is_symlink():
        print(f"ghseed: nothing to clear: no cache for {project.name!r} in {args.cache_dir}")
        return EXIT_OK
    if not store.is_ours():
        store.remove()  # refuses, saying why
    if not args.yes:
        if not sys.stdin.isatty():
            msg = (
                f"clear {project.name} needs confirmation: pass --yes to remove {store.path} "
                "without a terminal"
            )
            raise UsageError(msg)
        sys.stderr.write(f"Remove {store.path} and everything recorded in it? [y/N] ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            print("ghseed: nothing removed", file=sys.stderr)
            return EXIT_OK
    with store.lock():  # not while a test run or a fetch writes into it
        store.remove()
    print(f"ghseed: removed {store.path}")
    return EXIT_OK


# -- rebuild ------------------------------------------------------------------------------------------


def _cmd_rebuild(args: argparse.Namespace) -> int:
    from pytest_ghseed.cache.rebuild import rebuild_project
    from pytest_ghseed.network import network_blocked

    store = _existing_store(args.project, args.cache_dir)
    # The same lock as a fetch, so a rebuild never interleaves with a fetch of the same project.
    with store.lock(), network_blocked("ghseed rebuild reads the cassettes only: network access is blocked"):
        try:
            snapshot = rebuild_project(store)
        except CorruptFile as exc:
            moved = store.quarantine(Path(str(exc.path)))
            msg = (
                f"{exc}; moved aside to {moved.name}. Fetch it again with "
                f"`ghseed fetch {args.project} --cache-dir {args.cache_dir}`"
            )
            raise CacheError(msg) from None
    print(f"ghseed: rebuilt {store.snapshot_path} from the cassettes alone: {len(snapshot.prs)} PRs")
    return EXIT_OK


# -- demo ---------------------------------------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace) -> int:
    from pytest_ghseed.seed import FetchOptions, ensure

    project = resolve_project("demo")
    params = FetchParams(max_prs=None)
    output = StreamOutput(sys.stderr)
    # FetchOptions() without base_url: seed starts the embedded emulator for `demo` (127.0.0.1 only).
    try:
        fetched = ensure(
            project, args.cache_dir, params, options=FetchOptions(), on_event=ProgressRenderer(output)
        )
    finally:
        output.end_status()
    replay = ensure(project, args.cache_dir, params, record_mode="none")
    prs = replay.snapshot.prs
    reviews = sum(len(pr.reviews) for pr in prs)
    authors = Counter(pr.user.login for pr in prs if pr.user is not None).most_common(3)
    how = "already in the cache" if fetched.source == "cache" else f"fetched with {fetched.requests} requests"
    print(f"ghseed demo: {project.full_name}: {len(prs)} PRs {how}, replayed from {args.cache_dir} offline")
    print(f"  reviews: {reviews}   commits: {sum(len(pr.commits) for pr in prs)}")
    print("  top authors: " + ", ".join(f"{login} ({count} PRs)" for login, count in authors))
    print(
        f"  next: ghseed status --cache-dir {args.cache_dir}; ghseed serve demo --cache-dir {args.cache_dir}"
    )
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "fetch": _cmd_fetch,
    "status": _cmd_status,
    "verify": _cmd_verify,
    "serve": _cmd_serve,
    "export": _cmd_export,
    "clear": _cmd_clear,
    "rebuild": _cmd_rebuild,
    "demo": _cmd_demo,
}


if __name__ == "__main__":
    raise SystemExit(main())
