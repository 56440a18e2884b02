"""Project names and run settings shared by the pytest plugin and the ``ghseed`` command.

A project is named by a preset (``posthog``), any ``owner/repo``, or a user alias. Each resolves to
the repository's full name and to the folder that holds its cache.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

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

_Choice = TypeVar("_Choice", bound=str)

#: Well-known repositories with busy pull-request history, by short name.
PRESETS: dict[str, str] = {
    "posthog": "PostHog/posthog",
    "sentry": "getsentry/sentry",
    "django": "django/django",
    "pytest": "pytest-dev/pytest",
    "cpython": "python/cpython",
    "react": "facebook/react",
    "kubernetes": "kubernetes/kubernetes",
    "vscode": "microsoft/vscode",
    "rails": "rails/rails",
    # Served by the built-in emulator: no token, no network.
    "demo": "ghseed/demo",
}

DEMO_PROJECT = "demo"

_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_REPO = r"[A-Za-z0-9._-]{1,100}"
_FULL_NAME = re.compile(rf"^({_OWNER})/({_REPO})$")
_ALIAS = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Project:
    """A resolved project: the name the user gave, the repository, and its cache folder name."""

    name: str
    full_name: str

    @property
    def folder(self) -> str:
        """Cache folder name: the short name, or ``owner__repo`` (owners cannot contain ``_``)."""
        if "/" in self.name:
            owner, repo = self.full_name.split("/", 1)
            return f"{owner}__{repo}"
        return self.name

    @property
    def is_demo(self) -> bool:
        return self.name == DEMO_PROJECT


def resolve_project(name: str, aliases: Mapping[str, str] | None = None) -> Project:
    """Turn a project name into a ``Project``; a malformed name is a usage error saying what fits."""
    raw = name.strip()
    if not raw:
        msg = "the project name is empty; give a preset (e.g. posthog), owner/repo, or an alias"
        raise UsageError(msg)
    user_aliases = dict(aliases or {})
    if raw in user_aliases:
        target = user_aliases[raw]
        if not _FULL_NAME.match(target):
            msg = f"alias {raw!r} points to {target!r}, which is not owner/repo; fix the alias"
            raise UsageError(msg)
        return Project(name=raw, full_name=target)
    lowered = raw.lower()
    if lowered in PRESETS:
        return Project(name=lowered, full_name=PRESETS[lowered])
    if _FULL_NAME.match(raw):
        return Project(name=raw, full_name=raw)
    known = ", ".join(sorted({*PRESETS, *user_aliases}))
    msg = (
        f"project {name!r} is neither owner/repo (e.g. PostHog/posthog) nor a known name ({known}); "
        "use owner/repo or add an alias"
    )
    raise UsageError(msg)


def aliases_from_pyproject(start: Path) -> dict[str, str]:
    """User aliases from the nearest ``pyproject.toml`` (``[tool.ghseed.aliases]``) at or above ``start``.

    The same table serves the ``ghseed`` command; inside pytest, the ``ghseed_aliases`` ini key does.
    """
    import tomllib

    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if not candidate.is_file():
            continue
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            msg = f"cannot read aliases from {candidate}: {exc}; fix the file or remove [tool.ghseed.aliases]"
            raise UsageError(msg) from None
        table = data.get("tool", {}).get("ghseed", {}).get("aliases", {})
        if not isinstance(table, dict):
            msg = f'[tool.ghseed.aliases] in {candidate} must be a table of name = "owner/repo"'
            raise UsageError(msg)
        return parse_aliases([f"{name} = {target}" for name, target in table.items()])
    return {}


def parse_aliases(lines: list[str] | str) -> dict[str, str]:
    """Aliases written one per line as ``name = owner/repo`` (ini style)."""
    entries = lines.splitlines() if isinstance(lines, str) else lines
    aliases: dict[str, str] = {}
    for entry in entries:
        text = entry.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, target = text.partition("=")
        name, target = name.strip(), target.strip()
        if not sep or not _ALIAS.match(name) or not _FULL_NAME.match(target):
            msg = f"alias line {entry!r} is not `name = owner/repo` (name in lower case letters, digits, ._-)"
            raise UsageError(msg)
        aliases[name] = target
    return aliases


def parse_base_url(value: str, what: str) -> str:
    """An http(s) API URL without a trailing slash; a usage error naming the value otherwise."""
    from urllib.parse import urlparse

    text = value.strip()
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        msg = (
            f"{what} {value!r} is not an http(s) URL; use https://api.github.com, or "
            "https://HOST/api/v3 for GitHub Enterprise Server"
        )
        raise UsageError(msg)
    return text.rstrip("/")


def parse_positive_int(value: str, what: str) -> int:
    """An integer >= 1, or a usage error naming the option and the value."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        msg = f"{what} must be a whole number of at least 1, got {value!r}"
        raise UsageError(msg)
    return number


def parse_choice(value: str, allowed: tuple[_Choice, ...], what: str) -> _Choice:
    """One of ``allowed``, or a usage error naming the allowed values and the value given."""
    for choice in allowed:
        if value == choice:
            return choice
    msg = f"{what} must be one of {', '.join(allowed)}; got {value!r}"
    raise UsageError(msg)


def parse_date(value: str, what: str) -> datetime:
    """An ISO date or datetime (``2024-01-31`` or ``2024-01-31T12:00:00Z``), as aware UTC."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        msg = f"{what} must be an ISO date like 2024-01-31 or 2024-01-31T12:00:00Z; got {value!r}"
        raise UsageError(msg) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw]?)$")
_UNIT_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: str, what: str) -> float:
    """``90``, ``90s``, ``15m``, ``12h``, ``7d``, ``2w`` -> seconds."""
    match = _DURATION.match(value.strip().lower())
    if not match:
        msg = f"{what} must be a duration like 90s, 15m, 12h, 7d or 2w; got {value!r}"
        raise UsageError(msg)
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


# -- run settings: precedence CLI > marker > ini > env > default --------------------------------------

#: Keys that a ``@pytest.mark.ghseed(...)`` marker may set.
MARKER_KEYS = ("project", "max_prs", "state")


def is_ci(environ: Mapping[str, str]) -> bool:
    """Whether the ``CI`` variable is set to something true (every CI service sets it)."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def default_record_mode(environ: Mapping[str, str] | None = None) -> RecordMode:
    """``none`` on CI, else ``once``: CI replays what is committed and never fetches by surprise."""
    return "none" if is_ci(os.environ if environ is None else environ) else DEFAULT_RECORD_MODE


@dataclass(frozen=True, slots=True)
class Selection:
    """Which data a test gets: a project and the fetch parameters."""

    project: Project
    max_prs: int | None
    state: PullState
    since: datetime | None

    @property
    def key(self) -> str:
        """A short id, used in test ids and cache keys."""
        return f"{self.project.name}-{self.max_prs or 'all'}-{self.state}"


@dataclass(frozen=True, slots=True)
class SelectionLayer:
    """One layer's values of the fields a marker may also set; ``None`` where the layer says nothing."""

    project: Project | None = None
    max_prs: int | None = None
    state: PullState | None = None


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
    aliases: tuple[str, ...] = ()
    api: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the plugin needs, resolved from the command line, ini file and environment.

    ``command_line`` and ``configured`` keep the marker-overridable values apart, because a marker
    sits between them in precedence: command line > marker > ini > default.
    """

    projects: tuple[Project, ...]
    record_mode: RecordMode
    cache_dir: Path
    since: datetime | None
    workers: int
    base_url: str | None
    max_age: float | None
    seed: int | None
    missing: MissingPolicy
    aliases: dict[str, str]
    command_line: SelectionLayer
    configured: SelectionLayer
    #: Which GitHub API a fetch uses (``fetch/choose``).
    api: Api = DEFAULT_API

    def select(self, marker: Mapping[str, object] | None = None) -> Selection | None:
        """The selection for a test with this marker's keyword arguments; None when no project is set."""
        marker = marker or {}
        unknown = sorted(set(marker) - set(MARKER_KEYS))
        if unknown:
            msg = (
                f"@pytest.mark.ghseed got unknown argument(s) {', '.join(unknown)}; "
                f"it takes {', '.join(MARKER_KEYS)}"
            )
            raise UsageError(msg)
        project = self.command_line.project
        if project is None and marker.get("project") is not None:
            project = resolve_project(str(marker["project"]), self.aliases)
        project = project or self.configured.project
        if project is None:
            return None
        max_prs = self.command_line.max_prs
        if max_prs is None and marker.get("max_prs") is not None:
            raw = marker["max_prs"]
            max_prs = raw if isinstance(raw, int) else parse_positive_int(str(raw), "ghseed marker max_prs")
        if max_prs is None:
            max_prs = self.configured.max_prs
        state = self.command_line.state
        if state is None and marker.get("state") is not None:
            state = parse_choice(str(marker["state"]), STATES, "ghseed state")
        return Selection(
            project=project,
            max_prs=max_prs,
            state=state or self.configured.state or DEFAULT_STATE,
            since=self.since,
        )


def _given(*values: str | None) -> str | None:
    """The first value that is set (not None, not blank)."""
    return next((value for value in values if value is not None and value.strip()), None)


def resolve_settings(cli: CommandLine, ini: IniFile, env: Mapping[str, str], *, rootdir: Path) -> Settings:
    """Merge the layers, validating each value; a bad one is a ``UsageError`` naming key and value.

    ``env`` is the environment (``CI``; ``GITHUB_API_URL`` is read where the fetch happens, and not
    for the demo project, which runs on its built-in emulator while CI services always set it).
    """
    # Aliases: [tool.ghseed.aliases] of the rootdir's pyproject.toml (shared with the CLI), then the ini key.
    aliases = {**aliases_from_pyproject(rootdir), **parse_aliases(list(ini.aliases))}
    cli_projects = [resolve_project(p, aliases) for p in cli.projects]
    ini_projects = [resolve_project(p, aliases) for p in ini.projects]

    if cli.offline:
        record_mode: RecordMode = "none"
    elif cli.record_mode is not None:
        record_mode = cli.record_mode
    elif ini.record_mode and ini.record_mode.strip():
        record_mode = parse_choice(ini.record_mode.strip(), RECORD_MODES, "ghseed_record_mode")
    else:
        record_mode = default_record_mode(env)

    cache_dir = Path(_given(cli.cache_dir, ini.cache_dir) or DEFAULT_CACHE_DIR)
    if not cache_dir.is_absolute():
        cache_dir = rootdir / cache_dir

    configured = SelectionLayer(
        project=ini_projects[0] if ini_projects else None,
        max_prs=parse_positive_int(ini.max_prs, "ghseed_max_prs") if ini.max_prs else DEFAULT_MAX_PRS,
        state=parse_choice(ini.state.strip(), STATES, "ghseed_state")
        if ini.state and ini.state.strip()
        else None,
    )
    since = cli.since
    if since is None and ini.since and ini.since.strip():
        since = parse_date(ini.since, "ghseed_since")
    workers = cli.workers
    if workers is None:
        workers = parse_positive_int(ini.workers, "ghseed_workers") if ini.workers else DEFAULT_WORKERS
    base_url_value = _given(cli.base_url, ini.base_url)
    max_age = cli.max_age
    if max_age is None and ini.max_age and ini.max_age.strip():
        max_age = parse_duration(ini.max_age, "ghseed_max_age")
    seed = cli.seed
    if seed is None and ini.seed and ini.seed.strip():
        seed = parse_seed(ini.seed.strip(), "ghseed_seed")
    missing = (
        parse_choice(ini.missing.strip(), MISSING_POLICIES, "ghseed_missing")
        if ini.missing and ini.missing.strip()
        else DEFAULT_MISSING
    )
    api = cli.api
    if api is None:
        api = (
            parse_choice(ini.api.strip(), APIS, "ghseed_api") if ini.api and ini.api.strip() else DEFAULT_API
        )
    return Settings(
        projects=tuple(cli_projects or ini_projects),
        record_mode=record_mode,
        cache_dir=cache_dir,
        since=since,
        workers=workers,
        base_url=None if base_url_value is None else parse_base_url(base_url_value, "ghseed_base_url"),
        max_age=max_age,
        seed=seed,
        missing=missing,
        aliases=aliases,
        command_line=SelectionLayer(
            project=cli_projects[0] if cli_projects else None, max_prs=cli.max_prs, state=cli.state
        ),
        configured=configured,
        api=api,
    )


def parse_seed(value: str, what: str) -> int:
    """A whole number (0 or more) that seeds the factories."""
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        msg = f"{what} must be a whole number of 0 or more, got {value!r}"
        raise UsageError(msg)
    return number
