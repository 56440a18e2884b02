"""The plugin's state for one pytest session, on one object (as pytest's own stepwise and cache plugins do).

``GhseedSession`` holds the resolved settings, when the session started (the xdist controller's
start, in workers), the outcome of each selection loaded so far, and the lines of the terminal
summary. ``load()`` is where a fixture's data comes from: once per selection per session, fetched or
read as the record mode says, turned into a skip or a clean failure when it cannot be had.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ghseed.errors import GhseedError
from pytest_ghseed.progress import ProgressRenderer
from pytest_ghseed.reporting import merge_summary
from pytest_ghseed.settings import Selection, Settings

if TYPE_CHECKING:
    from pytest_ghseed.models import Snapshot
    from pytest_ghseed.seed import SeedResult


class TerminalOutput:
    """Progress through pytest's terminal reporter, shown even while pytest captures output."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        self.live = bool(reporter is not None and reporter.isatty())
        self._status_shown = False

    def _write(self, action: Any) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if capture is not None:
            with capture.global_and_fixture_disabled():
                action(reporter)
        else:
            action(reporter)

    def line(self, text: str) -> None:
        def write(reporter: Any) -> None:
            if self._status_shown:
                reporter.write("\n")
                self._status_shown = False
            reporter.write_line(text)

        self._write(write)

    def status(self, text: str) -> None:
        def write(reporter: Any) -> None:
            if not self._status_shown:
                reporter.ensure_newline()
            reporter.rewrite(text, erase=True)
            self._status_shown = True

        self._write(write)

    def end_status(self) -> None:
        def write(reporter: Any) -> None:
            if self._status_shown:
                reporter.write("\n", flush=True)
                # The next test result starts its own line with its file name again.
                reporter.currentfspath = None
                self._status_shown = False

        self._write(write)


@dataclass
class GhseedSession:
    """Everything pytest-ghseed keeps for one pytest session."""

    settings: Settings
    #: When the session started (the xdist controller's start, in workers), UTC.
    started: datetime
    #: Per project, a line of the terminal summary (merged with xdist workers' reports).
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    _outcomes: dict[str, SeedResult | GhseedError] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, config: pytest.Config, selection: Selection) -> Snapshot:
        """The snapshot for ``selection``, fetched or loaded once per session; skip/fail as configured."""
        from pytest_ghseed.models import FetchParams, long_lived
        from pytest_ghseed.projects import fetch_command
        from pytest_ghseed.seed import CacheMissing, FetchOptions, ensure

        settings = self.settings
        with self._lock:
            outcome = self._outcomes.get(selection.key)
            if outcome is None:
                params = FetchParams(
                    max_prs=selection.max_prs,
                    state=selection.state,
                    since=selection.since,
                    until=selection.until,
                )
                output = TerminalOutput(config)
                try:
                    # The snapshot lives as long as the session: kept out of the collector's way.
                    with long_lived():
                        outcome = ensure(
                            selection.project,
                            settings.cache_dir,
                            params,
                            record_mode=settings.record_mode,
                            options=FetchOptions(
                                base_url=settings.base_url,
                                workers=settings.workers,
                                pseudonymize=settings.pseudonymize,
                                api=settings.api,
                            ),
                            max_age=settings.max_age,
                            on_event=ProgressRenderer(output, prefix="ghseed: ", interval=0.5),
                            fresh_since=self.started,
                        )
                except GhseedError as exc:
                    outcome = exc
                finally:
                    output.end_status()
                self._outcomes[selection.key] = outcome
                if isinstance(outcome, CacheMissing):
                    self.summary[f"{selection.project.name} (missing)"] = {
                        "project": selection.project.name,
                        "repository": selection.project.full_name,
                        "source": "missing",
                        "outcome": "failed" if settings.missing == "fail" else "were skipped",
                        "command": fetch_command(selection.project.name, settings.cache_dir),
                    }
                elif not isinstance(outcome, GhseedError):
                    self._note(config, selection, outcome)
        if isinstance(outcome, CacheMissing):
            if settings.missing == "fail":
                pytest.fail(str(outcome), pytrace=False)
            pytest.skip(str(outcome))
        if isinstance(outcome, GhseedError):
            pytest.fail(f"ghseed: {outcome}", pytrace=False)
        return outcome.snapshot

    def _note(self, config: pytest.Config, selection: Selection, result: SeedResult) -> None:
        recorded = result.snapshot.recorded_at.astimezone(UTC)
        line = {
            "project": selection.project.name,
            "repository": selection.project.full_name,
            "source": result.source,
            "prs": len(result.snapshot.prs),
            "recorded_at": recorded.isoformat(),
            "requests": result.requests,
            "quota_left": result.quota_left,
        }
        merge_summary(self.summary, {selection.project.name: line})
        output = TerminalOutput(config)
        for note in result.notes:
            output.line(f"ghseed: note: {note}")


session_key = pytest.StashKey[GhseedSession]()


def ghseed_session(config: pytest.Config) -> GhseedSession:
    """The session state that ``plugin.pytest_configure`` created."""
    return config.stash[session_key]
