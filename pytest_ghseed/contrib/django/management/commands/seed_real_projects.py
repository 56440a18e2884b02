"""``manage.py seed_real_projects``: fetch real pull requests (or replay the cache), then seed your models.

Example: ``GITHUB_TOKENS=tok1,tok2 python manage.py seed_real_projects --project posthog
--checkpoint-file my_checkpoint.json``. The seeder is ``settings.GHSEED_SEEDER`` (a dotted path) or
``--seeder``. Every error pytest-ghseed raises on purpose becomes a ``CommandError``: one line, no
traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from pytest_ghseed.contrib.django.seeder import RealProjectSeeder, load_seeder, seed_snapshot
from pytest_ghseed.contrib.django.source import (
    RECORD_MODES,
    FetchedProject,
    fetch_project,
    parse_base_url,
    parse_positive_int,
    progress_renderer,
)
from pytest_ghseed.defaults import (
    DEFAULT_CACHE_DIR,
    DEFAULT_MAX_PRS,
    DEFAULT_MAX_WAIT,
    DEFAULT_RECORD_MODE,
    DEFAULT_WORKERS,
)
from pytest_ghseed.errors import GhseedError
from pytest_ghseed.parsing import argparse_type, parse_seconds


def _plain(text: str) -> str:
    return text


class _Stream:
    """A plain text stream over Django's OutputWrapper.

    The wrapper would end every write with a newline (breaking the progress bar's carriage returns) and
    colour stderr as an error on a terminal; progress is neither.
    """

    def __init__(self, wrapper: OutputWrapper) -> None:
        self._wrapper = wrapper

    def write(self, text: str) -> int:
        self._wrapper.write(text, style_func=_plain, ending="")
        return len(text)

    def flush(self) -> None:
        self._wrapper.flush()

    def isatty(self) -> bool:
        return self._wrapper.isatty()


class Command(BaseCommand):
    help = (
        "Fetch real pull requests of one or more GitHub projects (with reviews, commits, files and "
        "comments) through pytest-ghseed's checkpointed fetcher, or replay its cache, and seed the "
        "database with your RealProjectSeeder, one transaction per project. Idempotent by GitHub id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--project",
            action="append",
            required=True,
            dest="projects",
            metavar="NAME",
            help="a preset (posthog, django, ..., demo), owner/repo, or an alias; repeat for several",
        )
        parser.add_argument(
            "--checkpoint-file",
            type=Path,
            help="keep the fetch's progress here; rerun with the same file to resume (default: in the cache dir)",
        )
        parser.add_argument(
            "--max-prs",
            type=argparse_type(parse_positive_int, "--max-prs"),
            default=DEFAULT_MAX_PRS,
            help=f"how many of the most recent pull requests per project (default {DEFAULT_MAX_PRS})",
        )
        parser.add_argument(
            "--cache-dir",
            type=Path,
            help=f"pytest-ghseed's cache folder (default: settings.GHSEED_CACHE_DIR, else ./{DEFAULT_CACHE_DIR})",
        )
        parser.add_argument(
            "--record-mode",
            choices=RECORD_MODES,
            default=DEFAULT_RECORD_MODE,
            help=(
                "once: use the cache, fetch what it lacks (default); none: the cache only, never the "
                "network; new_episodes: refresh what changed; all: fetch everything again"
            ),
        )
        parser.add_argument(
            "--base-url",
            type=argparse_type(parse_base_url, "--base-url"),
            help="GitHub API URL (default GITHUB_API_URL or https://api.github.com; Enterprise: https://HOST/api/v3)",
        )
        parser.add_argument(
            "--workers",
            type=argparse_type(parse_positive_int, "--workers"),
            default=DEFAULT_WORKERS,
            help=f"parallel fetch threads (default {DEFAULT_WORKERS})",
        )
        parser.add_argument(
            "--max-wait",
            type=argparse_type(parse_seconds, "--max-wait"),
            default=DEFAULT_MAX_WAIT,
            help=(
                "longest wait for a rate-limit reset, in seconds, before stopping (default "
                f"{DEFAULT_MAX_WAIT:.0f}); finished PRs stay in the checkpoint for the next run"
            ),
        )
        parser.add_argument(
            "--seeder",
            help="dotted path of your RealProjectSeeder subclass (default: settings.GHSEED_SEEDER)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="fetch or load the data, then print what would be created and updated; write nothing",
        )
        parser.add_argument(
            "--database",
            default=None,
            help="database alias to seed (default: the seeder's `using`, normally 'default')",
        )

    @property
    def _progress(self) -> _Stream:
        return _Stream(self.stderr)

    def _progress_line(self, line: str) -> None:
        self._progress.write(line + "\n")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            seeder = self._seeder(options["seeder"], options["database"])
            self._check_migrated(seeder.using)
            cache_dir = Path(options["cache_dir"] or getattr(settings, "GHSEED_CACHE_DIR", DEFAULT_CACHE_DIR))
            for name in options["projects"]:
                fetched = self._fetch(name, cache_dir, options)
                self._seed(seeder, fetched, dry_run=options["dry_run"])
        except GhseedError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            msg = (
                "interrupted: fetched pull requests are kept in the checkpoint and a project being seeded "
                "was rolled back; rerun the same command to resume"
            )
            raise CommandError(msg, returncode=130) from None

    def _seeder(self, path: str | None, database: str | None) -> RealProjectSeeder:
        spec = path or getattr(settings, "GHSEED_SEEDER", None)
        if not spec:
            msg = (
                "no seeder: set GHSEED_SEEDER in your settings (or pass --seeder) to the dotted path of "
                "your RealProjectSeeder subclass, e.g. 'metrics.seeders.MetricsSeeder'"
            )
            raise CommandError(msg)
        seeder = load_seeder(spec)
        if database is not None:
            if database not in connections:
                known = ", ".join(connections)
                msg = f"--database {database!r} is not in settings.DATABASES ({known})"
                raise CommandError(msg)
            seeder.using = database
        return seeder

    def _check_migrated(self, using: str) -> None:
        """A clear message instead of 'no such table' halfway through the first project."""
        connection = connections[using]
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in pending[:5])
            more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
            msg = (
                f"the database {using!r} has unapplied migrations ({names}{more}); "
                "run `python manage.py migrate` first"
            )
            raise CommandError(msg)

    def _fetch(self, name: str, cache_dir: Path, options: dict[str, Any]) -> FetchedProject:
        renderer = progress_renderer(self._progress)
        try:
            fetched = fetch_project(
                name,
                cache_dir=cache_dir,
                max_prs=options["max_prs"],
                record_mode=options["record_mode"],
                base_url=options["base_url"],
                checkpoint_file=options["checkpoint_file"],
                workers=options["workers"],
                max_wait=options["max_wait"],
                on_event=renderer,
            )
        finally:
            renderer.finish()
        for note in fetched.notes:
            self.stderr.write(f"note: {note}", style_func=self.style.WARNING)
        how = {"cache": "from the cache", "fetched": "fetched", "refreshed": "refreshed"}.get(
            fetched.source, fetched.source
        )
        self.stdout.write(
            f"{fetched.name} ({fetched.full_name}): {len(fetched.snapshot.prs)} PRs {how}, "
            f"{fetched.requests} API requests"
        )
        return fetched

    def _seed(self, seeder: RealProjectSeeder, fetched: FetchedProject, *, dry_run: bool) -> None:
        report = seed_snapshot(
            seeder, fetched.name, fetched.snapshot, dry_run=dry_run, progress=self._progress_line
        )
        if dry_run:
            self.stdout.write(f"{fetched.name}: dry run, nothing written; {report.prs} PRs would give:")
        else:
            self.stdout.write(
                f"{fetched.name}: seeded {report.prs} PRs in one transaction ({report.seconds:.1f}s):"
            )
        for line in report.lines():
            self.stdout.write(f"  {line}")
