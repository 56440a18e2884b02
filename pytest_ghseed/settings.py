"""Run settings of the pytest plugin: the layers (command line, marker, ini, environment, default),
merged into one typed ``Settings``, and the selection of data each test receives.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from pytest_ghseed.defaults import (
    APIS,
    DEFAULT_API,
    DEFAULT_CACHE_DIR,
    DEFAULT_MAX_PRS,
    DEFAULT_MISSING,
    DEFAULT_RECORD_MODE,
    DEFAULT_STATE,
    DEFAULT_WORKERS,
    MISSING_POLICIES,
    RECORD_MODES,
    STATES,
    Api,
    MissingPolicy,
    PullState,
    RecordMode,
)
from pytest_ghseed.errors import UsageError
from pytest_ghseed.parsing import (
    parse_base_url,
    parse_choice,
    parse_date,
    parse_duration,
    parse_flag,
    parse_positive_int,
    parse_seed,
)
from pytest_ghseed.projects import Project, load_aliases, resolve_project

# -- precedence: what a test needs (marker) > command line > ini > environment > default ------------------

#: Keys that a ``@pytest.mark.ghseed(...)`` marker may set: the data a test needs. A marker wins over
#: the command line and the ini file for them (the command line sets the default for unmarked tests);
#: policy (record mode, offline, cache dir, base URL, workers) is the command line's alone.
MARKER_KEYS = ("project", "max_prs", "state", "since", "until")
ALL_PRS: Literal["all"] = "all"


def is_ci(environ: Mapping[str, str]) -> bool:
    """Whether the ``CI`` variable is set to something true (every CI service sets it)."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def default_record_mode(environ: Mapping[str, str] | None = None) -> RecordMode:
    """``none`` on CI, else ``once``: CI replays what is committed and never fetches by surprise."""
    return "none" if is_ci(os.environ if environ is None else environ) else DEFAULT_RECORD_MODE


@dataclass(frozen=True, slots=True)
class Selection:
    """Which data a test gets: a project and the fetch parameters (``max_prs`` None: every PR)."""

    project: Project
    max_prs: int | None
    state: PullState
    since: datetime | None
    until: datetime | None = None

    @property
    def key(self) -> str:
        """A short id, used in test ids and cache keys."""
        key = f"{self.project.name}-{self.max_prs or ALL_PRS}-{self.state}"
        for bound in (self.since, self.until):
            if bound is not None:
                key += f"-{bound.date().isoformat()}"
        return key


@dataclass(frozen=True, slots=True)
class SelectionLayer:
    """One layer's values of the fields a marker may also set; ``None`` where the layer says nothing.

    ``max_prs`` is a number, or ``"all"`` for every pull request.
    """

    project: Project | None = None
    max_prs: int | Literal["all"] | None = None
    state: PullState | None = None
    since: datetime | None = None
    until: datetime | None = None

    def over(self, lower: SelectionLayer) -> SelectionLayer:
        """This layer where it says something, ``lower`` elsewhere."""
        return SelectionLayer(
            project=self.project or lower.project,
            max_prs=self.max_prs if self.max_prs is not None else lower.max_prs,
            state=self.state or lower.state,
            since=self.since or lower.since,
            until=self.until or lower.until,
        )


@dataclass(frozen=True, slots=True)
class CommandLine:
    """What pytest's option parser produced, already validated while parsing; None: not given."""

    projects: tuple[str, ...] = ()
    record_mode: RecordMode | None = None
    offline: bool = False
    cache_dir: str | None = None
    max_prs: int | None = None
    state: PullState | None = None
    since: datetime | None = None
    workers: int | None = None
    base_url: str | None = None
    max_age: float | None = None
    seed: int | None = None
    pseudonymize: bool = False
    api: Api | None = None


@dataclass(frozen=True, slots=True)
class IniFile:
    """The raw ini values (``[pytest]`` / ``[tool.pytest.ini_options]``); None or empty: not set."""

    projects: tuple[str, ...] = ()
    record_mode: str | None = None
    cache_dir: str | None = None
    max_prs: str | None = None
    state: str | None = None
    since: str | None = None
    workers: str | None = None
    base_url: str | None = None
    max_age: str | None = None
    seed: str | None = None
    missing: str | None = None
    pseudonymize: str | None = None
    aliases: tuple[str, ...] = ()
    api: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the plugin needs, resolved from the command line, ini file and environment.

    ``command_line`` and ``configured`` (ini and defaults) are kept apart because a marker sits
    above both for the data it names.
    """

    projects: tuple[Project, ...]
    record_mode: RecordMode
    cache_dir: Path
    workers: int
    base_url: str | None
    max_age: float | None
    seed: int | None
    missing: MissingPolicy
    aliases: dict[str, str]
    command_line: SelectionLayer
    configured: SelectionLayer
    #: Replace real people by pseudonyms in what is recorded (see ``pseudonyms``).
    pseudonymize: bool = False

    @property
    def since(self) -> datetime | None:
        """The created-since bound of unmarked tests."""
        return self.command_line.over(self.configured).since

    #: Which GitHub API a fetch uses (``fetch/choose``).
    api: Api = DEFAULT_API

    def select(self, marker: Mapping[str, object] | None = None) -> Selection | None:
        """The selection for a test with this marker's keyword arguments; None when no project is set."""
        layer = parse_marker(marker or {}, self.aliases).over(self.command_line).over(self.configured)
        if layer.project is None:
            return None
        return Selection(
            project=layer.project,
            max_prs=None if layer.max_prs in (None, ALL_PRS) else int(layer.max_prs),
            state=layer.state or DEFAULT_STATE,
            since=layer.since,
            until=layer.until,
        )


def parse_marker(marker: Mapping[str, object], aliases: Mapping[str, str]) -> SelectionLayer:
    """A ``@pytest.mark.ghseed(...)``'s arguments, checked with the same rules and words as the options."""
    unknown = sorted(set(marker) - set(MARKER_KEYS))
    if unknown:
        msg = f"@pytest.mark.ghseed got unknown argument(s) {', '.join(unknown)}; it takes {', '.join(MARKER_KEYS)}"
        raise UsageError(msg)

    def given(key: str) -> object:
        return marker.get(key)

    project = given("project")
    max_prs = given("max_prs")
    state = given("state")
    layer = SelectionLayer(
        project=None if project is None else resolve_project(str(project), aliases),
        max_prs=None if max_prs is None else parse_max_prs(max_prs, "ghseed marker max_prs"),
        state=None if state is None else parse_choice(str(state), STATES, "ghseed marker state"),
        since=_marker_date(given("since"), "ghseed marker since"),
        until=_marker_date(given("until"), "ghseed marker until"),
    )
    check_date_range(layer.since, layer.until, "the ghseed marker's since and until")
    return layer


def parse_max_prs(value: object, what: str) -> int | Literal["all"]:
    """A whole number of at least 1, or ``"all"``; a usage error naming ``what`` otherwise."""
    if isinstance(value, str) and value.strip().lower() == ALL_PRS:
        return "all"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        msg = f"{what} must be a whole number of at least 1 or 'all', got {value!r}"
        raise UsageError(msg)
    return parse_positive_int(str(value), what)


def _marker_date(value: object, what: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return parse_date(str(value), what)


def check_date_range(since: datetime | None, until: datetime | None, what: str) -> None:
    """A usage error when ``since`` is after ``until`` (an empty range is never what was meant)."""
    if since is not None and until is not None and since > until:
        msg = f"{what} are inverted: {since.date()} is after {until.date()}; swap them"
        raise UsageError(msg)


def resolve_settings(cli: CommandLine, ini: IniFile, env: Mapping[str, str], *, rootdir: Path) -> Settings:
    """Merge the layers, validating each value; a bad one is a ``UsageError`` naming key and value.

    ``env`` is the environment (``CI``; ``GITHUB_API_URL`` is read where the fetch happens, and not
    for the demo project, which runs on its built-in emulator while CI services always set it).
    """
    # The same aliases as the ghseed command reads: [tool.ghseed.aliases] of the rootdir's
    # pyproject.toml, then the ghseed_aliases ini key.
    aliases = load_aliases(rootdir, list(ini.aliases))
    cli_projects = [resolve_project(p, aliases) for p in cli.projects]
    ini_projects = [resolve_project(p, aliases) for p in ini.projects]

    if cli.offline:
        record_mode: RecordMode = "none"
    elif cli.record_mode is not None:
        record_mode = cli.record_mode
    elif ini.record_mode:
        record_mode = parse_choice(ini.record_mode.strip(), RECORD_MODES, "ghseed_record_mode")
    else:
        record_mode = default_record_mode(env)

    cache_dir = Path(
        ini.cache_dir if cli.cache_dir is None and ini.cache_dir else cli.cache_dir or DEFAULT_CACHE_DIR
    )
    if not cache_dir.is_absolute():
        cache_dir = rootdir / cache_dir

    configured = SelectionLayer(
        project=ini_projects[0] if ini_projects else None,
        max_prs=parse_max_prs(ini.max_prs, "ghseed_max_prs") if ini.max_prs else DEFAULT_MAX_PRS,
        state=parse_choice(ini.state.strip(), STATES, "ghseed_state") if ini.state else None,
        since=parse_date(ini.since, "ghseed_since") if ini.since else None,
    )
    command_line = SelectionLayer(
        project=cli_projects[0] if cli_projects else None,
        max_prs=cli.max_prs,
        state=cli.state,
        since=cli.since,
    )
    if ini.missing:
        missing = parse_choice(ini.missing.strip(), MISSING_POLICIES, "ghseed_missing")
    else:
        # In CI nothing may pass by testing nothing: missing data fails the run unless the user says skip.
        missing = "fail" if is_ci(env) and record_mode == "none" else DEFAULT_MISSING
    base_url = cli.base_url or ini.base_url
    api = cli.api
    if api is None:
        api = (
            parse_choice(ini.api.strip(), APIS, "ghseed_api") if ini.api and ini.api.strip() else DEFAULT_API
        )
    return Settings(
        projects=tuple(cli_projects or ini_projects),
        record_mode=record_mode,
        cache_dir=cache_dir,
        workers=cli.workers
        or (parse_positive_int(ini.workers, "ghseed_workers") if ini.workers else DEFAULT_WORKERS),
        base_url=None if base_url is None else parse_base_url(base_url, "ghseed_base_url"),
        max_age=cli.max_age
        if cli.max_age is not None
        else parse_duration(ini.max_age, "ghseed_max_age")
        if ini.max_age
        else None,
        seed=cli.seed
        if cli.seed is not None
        else parse_seed(ini.seed.strip(), "ghseed_seed")
        if ini.seed
        else None,
        missing=missing,
        aliases=aliases,
        command_line=command_line,
        configured=configured,
        pseudonymize=cli.pseudonymize
        or (parse_flag(ini.pseudonymize, "ghseed_pseudonymize") if ini.pseudonymize else False),
        api=api,
    )
