"""Project names and run settings shared by the pytest plugin and the ``ghseed`` command.

A project is named by a preset (``posthog``), any ``owner/repo``, or a user alias. Each resolves to
the repository's full name and to the folder that holds its cache.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pytest_ghseed.errors import UsageError

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

RECORD_MODES = ("once", "none", "new_episodes", "all")
STATES = ("all", "open", "closed")


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


def parse_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    """One of ``allowed``, or a usage error naming the allowed values and the value given."""
    if value not in allowed:
        msg = f"{what} must be one of {', '.join(allowed)}; got {value!r}"
        raise UsageError(msg)
    return value


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

MISSING_POLICIES = ("skip", "fail")
DEFAULT_MAX_PRS = 100
DEFAULT_WORKERS = 8
#: Keys that a ``@pytest.mark.ghseed(...)`` marker may set.
MARKER_KEYS = ("project", "max_prs", "state")


@dataclass(frozen=True, slots=True)
class Selection:
    """Which data a test gets: a project and the fetch parameters."""

    project: Project
    max_prs: int | None
    state: str
    since: datetime | None

    @property
    def key(self) -> str:
        """A short id, used in test ids and cache keys."""
        return f"{self.project.name}-{self.max_prs or 'all'}-{self.state}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the plugin needs, resolved from the command line, ini file and environment.

    ``cli`` and ``configured`` keep the marker-overridable values apart, because a marker sits
    between them in precedence: CLI > marker > ini > env > default.
    """

    projects: tuple[Project, ...]
    record_mode: str
    cache_dir: Path
    since: datetime | None
    workers: int
    base_url: str | None
    max_age: float | None
    seed: int | None
    missing: str
    aliases: dict[str, str]
    cli: dict[str, object]
    configured: dict[str, object]

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

        def pick(key: str) -> object:
            if self.cli.get(key) is not None:
                return self.cli[key]
            if marker.get(key) is not None:
                return marker[key]
            return self.configured.get(key)

        project = pick("project")
        if project is None:
            return None
        resolved = project if isinstance(project, Project) else resolve_project(str(project), self.aliases)
        max_prs = pick("max_prs")
        if max_prs is not None and not isinstance(max_prs, int):
            max_prs = parse_positive_int(str(max_prs), "ghseed marker max_prs")
        state = parse_choice(str(pick("state") or "all"), STATES, "ghseed state")
        return Selection(project=resolved, max_prs=max_prs, state=state, since=self.since)


def _first(*values: object) -> object:
    for value in values:
        if value is not None and value != "" and value != []:
            return value
    return None


def resolve_settings(
    cli: Mapping[str, object],
    ini: Mapping[str, object],
    env: Mapping[str, str],
    *,
    rootdir: Path,
) -> Settings:
    """Merge the layers, validating each value; a bad one is a ``UsageError`` naming key and value.

    ``cli`` holds parsed command-line values (None when not given); ``ini`` raw ini strings (or
    lists for line-list keys); ``env`` the environment (``GITHUB_API_URL``, ``CI``).
    """
    # Aliases: [tool.ghseed.aliases] of the rootdir's pyproject.toml (shared with the CLI), then the ini key.
    aliases = {**aliases_from_pyproject(rootdir), **parse_aliases(list(ini.get("aliases") or []))}  # type: ignore[call-overload]
    cli_projects = [resolve_project(p, aliases) for p in (cli.get("project") or [])]  # type: ignore[attr-defined]
    ini_projects = [resolve_project(p, aliases) for p in (ini.get("project") or [])]  # type: ignore[attr-defined]
    projects = tuple(cli_projects or ini_projects)

    ci = env.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    record_mode = _first(
        "none" if cli.get("offline") else None,
        cli.get("record_mode"),
        ini.get("record_mode"),
        "none" if ci else None,
        "once",
    )
    record_mode = parse_choice(str(record_mode), RECORD_MODES, "ghseed_record_mode")

    cache_dir_value = _first(cli.get("cache_dir"), ini.get("cache_dir"))
    cache_dir = Path(str(cache_dir_value)) if cache_dir_value is not None else Path("cassettes")
    if not cache_dir.is_absolute():
        cache_dir = rootdir / cache_dir

    ini_max_prs = ini.get("max_prs")
    configured_max_prs = (
        parse_positive_int(str(ini_max_prs), "ghseed_max_prs") if ini_max_prs else DEFAULT_MAX_PRS
    )
    ini_state = ini.get("state")
    configured_state = parse_choice(str(ini_state), STATES, "ghseed_state") if ini_state else "all"

    since_value = _first(cli.get("since"), ini.get("since"))
    since = (
        since_value
        if isinstance(since_value, datetime) or since_value is None
        else parse_date(str(since_value), "ghseed_since")
    )
    workers_value = _first(cli.get("workers"), ini.get("workers"), DEFAULT_WORKERS)
    workers = (
        workers_value
        if isinstance(workers_value, int)
        else parse_positive_int(str(workers_value), "ghseed_workers")
    )
    # GITHUB_API_URL (the environment layer) is applied where the fetch happens, and not to the demo
    # project, which runs on its built-in emulator: CI services such as GitHub Actions always set it.
    base_url = _first(cli.get("base_url"), ini.get("base_url"))
    max_age_value = _first(cli.get("max_age"), ini.get("max_age"))
    max_age = (
        max_age_value
        if isinstance(max_age_value, float) or max_age_value is None
        else parse_duration(str(max_age_value), "ghseed_max_age")
    )
    seed_value = _first(cli.get("seed"), ini.get("seed"))
    seed = (
        seed_value
        if isinstance(seed_value, int) or seed_value is None
        else parse_seed(str(seed_value), "ghseed_seed")
    )
    missing = parse_choice(str(_first(ini.get("missing"), "skip")), MISSING_POLICIES, "ghseed_missing")

    return Settings(
        projects=projects,
        record_mode=record_mode,
        cache_dir=cache_dir,
        since=since,
        workers=workers,
        base_url=None if base_url is None else parse_base_url(str(base_url), "ghseed_base_url"),
        max_age=max_age,
        seed=seed,
        missing=missing,
        aliases=aliases,
        cli={
            "project": cli_projects[0] if cli_projects else None,
            "max_prs": cli.get("max_prs"),
            "state": cli.get("state"),
        },
        configured={
            "project": ini_projects[0] if ini_projects else None,
            "max_prs": configured_max_prs,
            "state": configured_state,
        },
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
