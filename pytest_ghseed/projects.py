"""Projects: a preset (``posthog``), any ``owner/repo``, or a user alias, resolved to a repository and
the cache folder that holds it; and where aliases are found.

Aliases are defined in ``[tool.ghseed.aliases]`` of the project's ``pyproject.toml`` and (for those who
configure pytest in an ini file) the ``ghseed_aliases`` ini key. The ``ghseed`` command and the pytest
plugin read both, from the same place: the rootdir and ini file that pytest would find.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Mapping
from dataclasses import dataclass
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


def fetch_command(project: str, cache_dir: Path | str) -> str:
    """The command that records ``project`` (a name ``ghseed fetch`` takes) into ``cache_dir``: what every
    message that asks for a recording tells the user to run."""
    return f"ghseed fetch {project} --cache-dir {cache_dir}"


def project_name_of_folder(folder: str) -> str:
    """The project name that the CLI accepts for a cache folder: ``owner__repo`` -> ``owner/repo``."""
    owner, sep, repo = folder.partition("__")
    return f"{owner}/{repo}" if sep and _FULL_NAME.match(f"{owner}/{repo}") else folder


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


#: The files pytest reads its configuration from, in the order it looks for them in each folder.
_INI_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """Where pytest would take its configuration from: the rootdir and the ini file (if any)."""

    rootdir: Path
    inifile: Path | None


def locate_config(start: Path) -> ConfigSource:
    """The rootdir and ini file pytest would use when run in ``start`` with no arguments.

    As pytest does it: the first folder at or above ``start`` holding a pytest configuration file
    (``pytest.ini``, ``.pytest.ini``, a ``pyproject.toml`` with ``[tool.pytest...]``, a ``tox.ini``
    with ``[pytest]``, a ``setup.cfg`` with ``[tool:pytest]``); else the first holding ``setup.py``
    or ``pyproject.toml``; else ``start`` itself.
    """
    start = start.resolve()
    folders = (start, *start.parents)
    for folder in folders:
        for name in _INI_FILES:
            candidate = folder / name
            if candidate.is_file() and _configures_pytest(candidate):
                return ConfigSource(folder, candidate)
    for folder in folders:
        if (folder / "setup.py").is_file() or (folder / "pyproject.toml").is_file():
            return ConfigSource(folder, None)
    return ConfigSource(start, None)


def find_aliases(start: Path) -> dict[str, str]:
    """The aliases of the project around ``start``, as the pytest plugin would see them there."""
    source = locate_config(start)
    return load_aliases(source.rootdir, _ini_alias_lines(source.inifile))


def load_aliases(rootdir: Path, ini_lines: list[str]) -> dict[str, str]:
    """``[tool.ghseed.aliases]`` of the rootdir's ``pyproject.toml``, then the ``ghseed_aliases`` lines."""
    return {**_pyproject_aliases(rootdir / "pyproject.toml"), **parse_aliases(ini_lines)}


def _read_toml(path: Path) -> dict[str, object]:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        msg = f"cannot read {path}: {exc}; fix the file"
        raise UsageError(msg) from None


def _read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        msg = f"cannot read {path}: {exc}; fix the file"
        raise UsageError(msg) from None
    return parser


def _tool(data: Mapping[str, object], *keys: str) -> object:
    node: object = data
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _configures_pytest(path: Path) -> bool:
    if path.name in ("pytest.ini", ".pytest.ini"):
        return True
    if path.name == "pyproject.toml":
        return _tool(_read_toml(path), "tool", "pytest") is not None
    section = "pytest" if path.name == "tox.ini" else "tool:pytest"
    return _read_ini(path).has_section(section)


def _ini_alias_lines(inifile: Path | None) -> list[str]:
    """The ``ghseed_aliases`` lines of a pytest configuration file."""
    if inifile is None:
        return []
    if inifile.name == "pyproject.toml":
        data = _read_toml(inifile)
        value = _tool(data, "tool", "pytest", "ini_options", "ghseed_aliases")
        if value is None:
            value = _tool(data, "tool", "pytest", "ghseed_aliases")
        if isinstance(value, list):
            return [str(line) for line in value]
        return str(value).splitlines() if value is not None else []
    section = "tool:pytest" if inifile.name == "setup.cfg" else "pytest"
    parser = _read_ini(inifile)
    return parser.get(section, "ghseed_aliases", fallback="").splitlines()


def _pyproject_aliases(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    table = _tool(_read_toml(path), "tool", "ghseed", "aliases")
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        msg = f'[tool.ghseed.aliases] in {path} must be a table of name = "owner/repo"'
        raise UsageError(msg)
    return parse_aliases([f"{name} = {target}" for name, target in table.items()])


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
