"""The fixtures of pytest-ghseed, registered by ``plugin.pytest_configure``.

Data is loaded once per session per selection (project + parameters) and handed out immutable:
frozen models, tuples, and a list that refuses changes, so one test cannot change what another sees.

A ``@pytest.mark.ghseed(...)`` marker selects other data for a test: ``pytest_generate_tests``
parametrizes the session fixture ``ghseed_selection`` indirectly for that test, so the session
fixtures below are built once per distinct selection, not once per test.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn, SupportsIndex

import pytest

from pytest_ghseed.errors import UsageError
from pytest_ghseed.session import ghseed_session
from pytest_ghseed.settings import MARKER_KEYS, Selection, Settings

if TYPE_CHECKING:
    from pytest_ghseed.models import PullRequest, Snapshot

NO_PROJECT = (
    "no ghseed project configured: run pytest with --ghseed-project=NAME (e.g. demo, posthog, owner/repo), "
    "set `ghseed_project = NAME` in the [pytest] ini section, or mark the test @pytest.mark.ghseed(project=NAME)"
)
_POSITIONAL = "__positional__"


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


def _settings(request: pytest.FixtureRequest) -> Settings:
    return ghseed_session(request.config).settings


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ghseed_selection(request: pytest.FixtureRequest) -> Selection:
    """Which project and parameters this test's data comes from (marker > command line > ini)."""
    marker = dict(request.param) if hasattr(request, "param") else None
    problem: str | None = None
    selection: Selection | None = None
    if marker and _POSITIONAL in marker:
        problem = (
            f"@pytest.mark.ghseed takes keyword arguments only ({', '.join(MARKER_KEYS)}), "
            f"got positional {marker[_POSITIONAL]!r}"
        )
    else:
        try:
            selection = _settings(request).select(marker)
        except UsageError as exc:
            problem = str(exc)
    # Failed outside the except block: one message, not two chained ones.
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    if selection is None:
        pytest.skip(NO_PROJECT)
    return selection


@pytest.fixture(scope="session")
def ghseed_snapshot(request: pytest.FixtureRequest, ghseed_selection: Selection) -> Snapshot:
    """The recorded Snapshot (repository, pull requests, recorded_at, params) of the selected project."""
    return ghseed_session(request.config).load(request.config, ghseed_selection)


@pytest.fixture(scope="session")
def ghseed_snapshots(request: pytest.FixtureRequest) -> Mapping[str, Snapshot]:
    """Every configured project's Snapshot, by project name (read-only mapping)."""
    settings = _settings(request)
    if not settings.projects:
        pytest.skip(NO_PROJECT)
    snapshots: dict[str, Snapshot] = {}
    for project in settings.projects:
        # Every configured project, asked for by name, with the session's other parameters.
        selection = settings.select({"project": project.name})
        assert selection is not None
        snapshots[project.name] = ghseed_session(request.config).load(request.config, selection)
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
    from pytest_ghseed.cache.layout import ProjectLayout

    return ProjectLayout(_settings(request).cache_dir, ghseed_selection.project.folder).cassette_dir


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
