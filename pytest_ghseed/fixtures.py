"""The fixtures of pytest-ghseed, registered by ``plugin.pytest_configure``.

Data is loaded once per session per selection (project + parameters) and handed out immutable:
frozen models, tuples, and a list that refuses changes, so one test cannot change what another sees.

A ``@pytest.mark.ghseed(...)`` marker selects other data for a test: ``pytest_generate_tests``
parametrizes the session fixture ``ghseed_selection`` indirectly for that test, so the session
fixtures below are built once per distinct selection, not once per test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn, SupportsIndex

import pytest

from pytest_ghseed.errors import GhseedError, UsageError
from pytest_ghseed.progress import ProgressEvent
from pytest_ghseed.reporting import merge_summary
from pytest_ghseed.settings import MARKER_KEYS, Selection, Settings

if TYPE_CHECKING:
    from pytest_ghseed.models import PullRequest, Snapshot
    from pytest_ghseed.seed import SeedResult

settings_key = pytest.StashKey[Settings]()
#: When the session started (the xdist controller's start, in workers), UTC.
started_key = pytest.StashKey[datetime]()
#: Per-selection lines for the terminal summary (merged with xdist workers' reports).
summary_key = pytest.StashKey[dict[str, dict[str, Any]]]()

NO_PROJECT = (
    "no ghseed project configured: run pytest with --ghseed-project=NAME (e.g. demo, posthog, owner/repo), "
    "set `ghseed_project = NAME` in the [pytest] ini section, or mark the test @pytest.mark.ghseed(project=NAME)"
)
_POSITIONAL = "__positional__"
_outcomes_key = pytest.StashKey[dict[str, "SeedResult | GhseedError"]]()
_lock = threading.Lock()


class ImmutableList(list["PullRequest"]):
    """A list that refuses changes: ``real_prs`` is shared by every test of the session."""

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        msg = "real_prs is shared by every test of the session and cannot be changed; copy it: list(real_prs)"
        raise TypeError(msg)

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __copy__(self) -> list[PullRequest]:
        return list(self)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (list, (list(self),))


# -- collection ---------------------------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give each test marked ``@pytest.mark.ghseed(...)`` its own selection of data."""
    if "ghseed_selection" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("ghseed")
    if marker is None:
        return
    # Errors in the marker are reported by the fixture (a clean failure of the marked test, no traceback).
    kwargs = tuple(sorted(marker.kwargs.items()))
    if marker.args:
        kwargs += ((_POSITIONAL, marker.args),)
    test_id = "ghseed:" + ",".join(f"{k}={v}" for k, v in kwargs)
    metafunc.parametrize("ghseed_selection", [kwargs], indirect=True, ids=[test_id], scope="session")


# -- loading ----------------------------------------------------------------------------------------


class LiveProgress:
    """Show fetch progress on the terminal even while pytest captures output (throttled)."""

    def __init__(self, config: pytest.Config, interval: float = 0.5) -> None:
        self.config = config
        self.interval = interval
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        with self._lock:
            if event.kind == "pr_done" and now - self._last < self.interval:
                return
            self._last = now
        self.write(f"ghseed: {event.describe()}")

    def write(self, line: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(line)
        else:
            reporter.write_line(line)


def load_selection(config: pytest.Config, selection: Selection) -> Snapshot:
    """The snapshot for ``selection``, fetched or loaded once per session; skip/fail as configured."""
    from pytest_ghseed.models import FetchParams
    from pytest_ghseed.seed import CacheMissing, FetchOptions, ensure

    settings = config.stash[settings_key]
    outcomes = config.stash.setdefault(_outcomes_key, {})
    with _lock:
        outcome = outcomes.get(selection.key)
        if outcome is None:
            params = FetchParams(max_prs=selection.max_prs, state=selection.state, since=selection.since)  # type: ignore[arg-type]
            try:
                outcome = ensure(
                    selection.project,
                    settings.cache_dir,
                    params,
                    record_mode=settings.record_mode,  # type: ignore[arg-type]
                    options=FetchOptions(base_url=settings.base_url, workers=settings.workers),
                    max_age=settings.max_age,
                    on_event=LiveProgress(config),
                    fresh_since=config.stash[started_key],
                )
            except GhseedError as exc:
                outcome = exc
            outcomes[selection.key] = outcome
            if not isinstance(outcome, GhseedError):
                _note_summary(config, selection, outcome)
    if isinstance(outcome, CacheMissing):
        if settings.missing == "fail":
            pytest.fail(str(outcome), pytrace=False)
        pytest.skip(str(outcome))
    if isinstance(outcome, GhseedError):
        pytest.fail(f"ghseed: {outcome}", pytrace=False)
    return outcome.snapshot


def _note_summary(config: pytest.Config, selection: Selection, result: SeedResult) -> None:
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
    merge_summary(config.stash[summary_key], {selection.project.name: line})
    progress = LiveProgress(config)
    for note in result.notes:
        progress.write(f"ghseed: note: {note}")


def _settings(request: pytest.FixtureRequest) -> Settings:
    return request.config.stash[settings_key]


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ghseed_selection(request: pytest.FixtureRequest) -> Selection:
    """Which project and parameters this test's data comes from (command line > marker > ini)."""
    marker = dict(request.param) if hasattr(request, "param") else None
    if marker and _POSITIONAL in marker:
        msg = (
            f"@pytest.mark.ghseed takes keyword arguments only ({', '.join(MARKER_KEYS)}), "
            f"got positional {marker[_POSITIONAL]!r}"
        )
        pytest.fail(msg, pytrace=False)
    try:
        selection = _settings(request).select(marker)
    except UsageError as exc:
        pytest.fail(str(exc), pytrace=False)
    if selection is None:
        pytest.skip(NO_PROJECT)
    return selection


@pytest.fixture(scope="session")
def ghseed_snapshot(request: pytest.FixtureRequest, ghseed_selection: Selection) -> Snapshot:
    """The recorded Snapshot (repository, pull requests, recorded_at, params) of the selected project."""
    return load_selection(request.config, ghseed_selection)


@pytest.fixture(scope="session")
def ghseed_snapshots(request: pytest.FixtureRequest) -> Mapping[str, Snapshot]:
    """Every configured project's Snapshot, by project name (read-only mapping)."""
    settings = _settings(request)
    if not settings.projects:
        pytest.skip(NO_PROJECT)
    snapshots: dict[str, Snapshot] = {}
    for project in settings.projects:
        selection = settings.select({"project": project.name})
        assert selection is not None
        # The command line's first project wins over a marker; here every project is asked for by name.
        selection = Selection(
            project=project, max_prs=selection.max_prs, state=selection.state, since=selection.since
        )
        snapshots[project.name] = load_selection(request.config, selection)
    return MappingProxyType(snapshots)


@pytest.fixture(scope="session")
def real_prs(ghseed_snapshot: Snapshot) -> list[PullRequest]:
    """The selected project's pull requests (frozen PullRequest objects, oldest first; read-only list)."""
    return ImmutableList(ghseed_snapshot.prs)


@pytest.fixture
def real_pr(request: pytest.FixtureRequest, real_prs: list[PullRequest]) -> PullRequest:
    """One real pull request; parametrize indirectly to run a test over many.

    ``@pytest.mark.parametrize("real_pr", range(10), indirect=True)`` runs the test on the first ten
    PRs (an int is a position in ``real_prs``; ``"#123"`` picks PR number 123). Without parameters:
    the most recent PR.
    """
    if not real_prs:
        pytest.skip("the selected project has no pull requests for these parameters")
    if not hasattr(request, "param"):
        return real_prs[-1]
    wanted = request.param
    if isinstance(wanted, str) and wanted.startswith("#") and wanted[1:].isdigit():
        for pr in real_prs:
            if pr.number == int(wanted[1:]):
                return pr
        pytest.skip(f"PR {wanted} is not in the recorded data ({len(real_prs)} PRs)")
    if isinstance(wanted, int):
        if wanted >= len(real_prs) or wanted < -len(real_prs):
            pytest.skip(f"real_pr index {wanted} is beyond the {len(real_prs)} recorded PRs")
        return real_prs[wanted]
    msg = f"real_pr parameter must be a position (int) or a PR number like '#123', got {wanted!r}"
    raise pytest.UsageError(msg)


@pytest.fixture(scope="session")
def ghseed_cassette_dir(request: pytest.FixtureRequest, ghseed_selection: Selection) -> Path:
    """The selected project's cassette folder, for your own vcrpy tests (see ``replay_vcr()``)."""
    return _settings(request).cache_dir / ghseed_selection.project.folder / "cassettes"


@pytest.fixture
def real_pr_factory(request: pytest.FixtureRequest, ghseed_snapshot: Snapshot) -> Any:
    """A factory of new PullRequests drawn from the real data (authors, reviewers, paths, sizes, timings).

    Seeded by --ghseed-seed (the session's seed is shown in the summary), so a failure reproduces.
    """
    from pytest_ghseed.factories import make_real_factory

    return make_real_factory(ghseed_snapshot, seed=_settings(request).seed)


@pytest.fixture
def pull_request_factory() -> Any:
    """The PullRequestFactory (factory-boy), named as pytest-factoryboy would name it."""
    from pytest_ghseed.factories import PullRequestFactory

    return PullRequestFactory


@pytest.fixture
def pull_request(pull_request_factory: Any) -> PullRequest:
    """One generated, internally consistent PullRequest."""
    built: PullRequest = pull_request_factory.build()
    return built
