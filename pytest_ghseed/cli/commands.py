"""What each ``ghseed`` subcommand does, as the command line sees it: call into the modules that own the
work (``seed``, ``cache``, ``export``, ``emulator.serve``) and print what happened. Nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ghseed.errors import CacheError, CorruptFile, UsageError
from pytest_ghseed.models import FetchParams
from pytest_ghseed.progress import ProgressRenderer, StreamOutput
from pytest_ghseed.projects import Project, fetch_command, find_aliases, resolve_project
from pytest_ghseed.settings import check_date_range

if TYPE_CHECKING:
    from pytest_ghseed.cache.store import ProjectStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _cmd_fetch(args: argparse.Namespace) -> int:
    from pytest_ghseed.cache.store import ProjectStore
    from pytest_ghseed.seed import FetchOptions, ensure

    project = resolve_project(args.project, find_aliases(Path.cwd()))
    check_date_range(args.since, args.until, "--since and --until")
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
    options = FetchOptions(
        base_url=args.base_url,
        workers=args.workers,
        max_wait=args.max_wait,
        checkpoint_file=args.checkpoint_file,
        pseudonymize=args.pseudonymize,
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

    project = resolve_project(project_name, find_aliases(Path.cwd()))
    return project, ProjectStore(cache_dir, project.folder)


def _existing_store(project_name: str, cache_dir: Path) -> ProjectStore:
    """The store of a project that has a cache folder, or a CacheError saying how to record it."""
    project, store = _store_of(project_name, cache_dir)
    if not store.is_ours():
        msg = (
            f"no cache for project {project.name!r} in {cache_dir} (looked for {store.path}); "
            f"record it with `{fetch_command(project.name, cache_dir)}`"
        )
        raise CacheError(msg)
    return store


def _selected_stores(project_name: str | None, cache_dir: Path) -> list[ProjectStore]:
    from pytest_ghseed.cache.layout import project_folders
    from pytest_ghseed.cache.store import ProjectStore

    if not cache_dir.is_dir():
        # A misconfigured hook or CI step must not pass on a cache that is not there.
        what = "is not a folder" if cache_dir.exists() else "does not exist"
        msg = (
            f"the cache dir {cache_dir} {what}; point --cache-dir at the folder that holds the recordings, "
            "or record one with `ghseed fetch PROJECT`"
        )
        raise CacheError(msg)
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
    files = prs = pseudonymized = against_originals = 0
    for store in stores:
        found, counts = verify_project(store, secrets)
        findings.extend(found)
        files += counts["files"]
        prs += counts["prs"]
        pseudonymized += counts.get("pseudonymized", 0)
        against_originals += counts.get("checked_against_originals", 0)
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
        persons = sum(1 for f in findings if f.kind == "person")
        steps = []
        if leaks:
            steps.append("remove the secrets (e.g. `ghseed clear PROJECT` and fetch again)")
        if persons:
            steps.append(
                "record the project afresh: `ghseed clear PROJECT --yes`, then `ghseed fetch PROJECT --pseudonymize`"
            )
        if leaks + persons < len(findings):
            steps.append("follow the step each problem names")
        print(
            f"ghseed: error: verify found {len(findings)} problem(s) ({leaks} secret(s)) in {cache_dir}; "
            + "; ".join(steps),
            file=sys.stderr,
        )
        return EXIT_FAILED
    pseudonyms = ""
    if pseudonymized:
        pseudonyms = (
            f"; people pseudonymized in {pseudonymized} project(s), {against_originals} checked against the "
            "list of originals on this machine"
        )
    print(
        f"ghseed: OK: {len(stores)} project(s), {prs} PRs, {files} files in {cache_dir}: "
        f"sound, no secrets found{pseudonyms}"
    )
    if pseudonymized > against_originals:
        print(
            f"ghseed: note: {pseudonymized - against_originals} pseudonymized project(s) checked for pseudonyms in "
            "every account, e-mail and signature; their original logins and names are listed only where they "
            "were recorded (.ghseed/ beside the cache dir), not on this machine",
            file=sys.stderr,
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
    from pytest_ghseed.export import check_target, render

    store = _existing_store(args.project, args.cache_dir)
    if args.output is not None:
        check_target(args.output, args.cache_dir, force=args.force)
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
            msg = f"{exc}; moved aside to {moved.name}. Fetch it again with `{fetch_command(store.project, args.cache_dir)}`"
            raise CacheError(msg) from None
    print(f"ghseed: rebuilt {store.snapshot_path} from the cassettes alone: {len(snapshot.prs)} PRs")
    return EXIT_OK


# -- demo ---------------------------------------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace) -> int:
    from pytest_ghseed.seed import FetchOptions, ensure

    project = resolve_project("demo")
    params = FetchParams()  # what `ghseed fetch demo` records: one demo, whichever command made it
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


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "fetch": _cmd_fetch,
    "status": _cmd_status,
    "verify": _cmd_verify,
    "serve": _cmd_serve,
    "export": _cmd_export,
    "clear": _cmd_clear,
    "rebuild": _cmd_rebuild,
    "demo": _cmd_demo,
}
