"""pytest11 entry point of pytest-ghseed: options, ini keys, the marker, the header and the summary.

pytest imports this module on every run of every suite that has the package installed, so it imports
nothing heavy (PyGithub, vcrpy, factory-boy) at module level: the fixtures load them on first use.
The fixtures themselves live in ``pytest_ghseed.fixtures``.
"""

from __future__ import annotations

import dataclasses
import os
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import pytest

from pytest_ghseed import fixtures
from pytest_ghseed.defaults import (
    APIS,
    DEFAULT_API,
    DEFAULT_CACHE_DIR,
    DEFAULT_MAX_PRS,
    DEFAULT_STATE,
    DEFAULT_WORKERS,
    MISSING_POLICIES,
    RECORD_MODES,
    STATES,
)
from pytest_ghseed.errors import UsageError
from pytest_ghseed.parsing import (
    argparse_type,
    parse_choice,
    parse_date,
    parse_duration,
    parse_positive_int,
    parse_seed,
)
from pytest_ghseed.reporting import merge_summary, summary_lines
from pytest_ghseed.session import GhseedSession, ghseed_session, session_key
from pytest_ghseed.settings import CommandLine, IniFile, resolve_settings

_MODES = " | ".join(RECORD_MODES)

_IniType = Literal["string", "linelist"]
_INI_KEYS: dict[str, tuple[_IniType, str, str]] = {
    # ini name: (type, help, default shown)
    "ghseed_project": (
        "linelist",
        "GitHub projects to seed from (preset, owner/repo or alias), one per line",
        "",
    ),
    "ghseed_record_mode": ("string", f"{_MODES} (default once; none when CI is set)", ""),
    "ghseed_cache_dir": (
        "string",
        f"cache folder, relative to the rootdir (default: {DEFAULT_CACHE_DIR})",
        "",
    ),
    "ghseed_max_prs": ("string", f"pull requests per project (default {DEFAULT_MAX_PRS})", ""),
    "ghseed_state": ("string", f"{' | '.join(STATES)} (default {DEFAULT_STATE})", ""),
    "ghseed_since": ("string", "only PRs created on or after this ISO date", ""),
    "ghseed_workers": ("string", f"parallel fetch threads (default {DEFAULT_WORKERS})", ""),
    "ghseed_base_url": ("string", "GitHub API URL (default GITHUB_API_URL or https://api.github.com)", ""),
    "ghseed_max_age": ("string", "refresh a cache older than this (e.g. 7d) in record mode once", ""),
    "ghseed_seed": ("string", "seed of the factories (default: random, shown in the summary)", ""),
    "ghseed_missing": (
        "string",
        f"{' | '.join(MISSING_POLICIES)}: what a test gets when offline and nothing is recorded",
        "",
    ),
    "ghseed_aliases": ("linelist", "project aliases, one `name = owner/repo` per line", ""),
    "ghseed_pseudonymize": (
        "string",
        "true: replace real people by stable pseudonyms in what is recorded (to commit it)",
        "",
    ),
    "ghseed_api": ("string", f"{' | '.join(APIS)}: the GitHub API a fetch uses (default {DEFAULT_API})", ""),
}


def _arg(parse: Callable[[str, str], object], what: str) -> Callable[[str], object]:
    """An argparse ``type=`` that validates while parsing, as pytest-xdist does."""
    return argparse_type(parse, what, pytest.UsageError)


def _choice(allowed: tuple[str, ...], what: str) -> Callable[[str], object]:
    return _arg(lambda value, name: parse_choice(value, allowed, name), what)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ghseed", "real GitHub pull-request data (pytest-ghseed)")
    group.addoption(
        "--ghseed-project",
        action="append",
        dest="ghseed_project",
        metavar="NAME",
        help="seed fixtures from this GitHub project: preset (posthog, demo, ...), owner/repo or alias; repeatable",
    )
    group.addoption(
        "--ghseed-record-mode",
        dest="ghseed_record_mode",
        type=_choice(RECORD_MODES, "--ghseed-record-mode"),
        metavar="{" + ",".join(RECORD_MODES) + "}",
        help="once: use the cache, fetch what is missing (default); none: offline; "
        "new_episodes: refresh; all: fetch again",
    )
    group.addoption(
        "--ghseed-offline",
        action="store_true",
        dest="ghseed_offline",
        help="never touch the network (same as --ghseed-record-mode=none)",
    )
    group.addoption(
        "--ghseed-cache-dir",
        dest="ghseed_cache_dir",
        metavar="DIR",
        help=f"cache folder (default <rootdir>/{DEFAULT_CACHE_DIR})",
    )
    group.addoption(
        "--ghseed-max-prs",
        dest="ghseed_max_prs",
        type=_arg(parse_positive_int, "--ghseed-max-prs"),
        metavar="N",
        help=f"most recent pull requests per project (default {DEFAULT_MAX_PRS})",
    )
    group.addoption(
        "--ghseed-state",
        dest="ghseed_state",
        type=_choice(STATES, "--ghseed-state"),
        metavar="{" + ",".join(STATES) + "}",
        help=f"pull-request state (default {DEFAULT_STATE})",
    )
    group.addoption(
        "--ghseed-since",
        dest="ghseed_since",
        type=_arg(parse_date, "--ghseed-since"),
        metavar="DATE",
        help="only pull requests created on or after this ISO date",
    )
    group.addoption(
        "--ghseed-workers",
        dest="ghseed_workers",
        type=_arg(parse_positive_int, "--ghseed-workers"),
        metavar="N",
        help=f"parallel fetch threads (default {DEFAULT_WORKERS})",
    )
    group.addoption(
        "--ghseed-base-url",
        dest="ghseed_base_url",
        metavar="URL",
        help="GitHub API URL (GitHub Enterprise: https://HOST/api/v3)",
    )
    group.addoption(
        "--ghseed-max-age",
        dest="ghseed_max_age",
        type=_arg(parse_duration, "--ghseed-max-age"),
        metavar="AGE",
        help="refresh a cache older than this (90s, 15m, 12h, 7d) in record mode once",
    )
    group.addoption(
        "--ghseed-seed",
        dest="ghseed_seed",
        type=_arg(parse_seed, "--ghseed-seed"),
        metavar="N",
        help="seed of the factories (default: random, shown in the summary)",
    )
    group.addoption(
        "--ghseed-pseudonymize",
        action="store_true",
        dest="ghseed_pseudonymize",
        help="replace real people (logins, names, e-mails, avatars) by stable pseudonyms in what is recorded, "
        "so the recording can be committed; the salt stays in .ghseed/ beside the cache dir",
    )
    group.addoption(
        "--ghseed-api",
        dest="ghseed_api",
        type=_choice(APIS, "--ghseed-api"),
        metavar="{" + ",".join(APIS) + "}",
        help=f"GitHub API to fetch with: rest, graphql (patches through REST) or auto (default {DEFAULT_API})",
    )
    for name, (kind, help_text, _default) in _INI_KEYS.items():
        parser.addini(name, help_text, type=kind)


def _ini_text(config: pytest.Config, name: str) -> str | None:
    value = config.getini(name)
    return value.strip() or None if isinstance(value, str) else None


def _ini_lines(config: pytest.Config, name: str) -> tuple[str, ...]:
    value = config.getini(name)
    return tuple(str(line) for line in value) if isinstance(value, list) else ()


def _command_line(config: pytest.Config) -> CommandLine:
    def option(name: str) -> Any:
        return config.getoption(f"ghseed_{name}")

    return CommandLine(
        projects=tuple(option("project") or ()),
        record_mode=option("record_mode"),
        offline=bool(option("offline")),
        cache_dir=option("cache_dir"),
        max_prs=option("max_prs"),
        state=option("state"),
        since=option("since"),
        workers=option("workers"),
        base_url=option("base_url"),
        max_age=option("max_age"),
        seed=option("seed"),
        pseudonymize=bool(option("pseudonymize")),
        api=option("api"),
    )


def _ini_file(config: pytest.Config) -> IniFile:
    text = {name: _ini_text(config, f"ghseed_{name}") for name in _INI_TEXT_KEYS}
    return IniFile(
        projects=_ini_lines(config, "ghseed_project"),
        aliases=_ini_lines(config, "ghseed_aliases"),
        **text,
    )


_INI_TEXT_KEYS = (
    "record_mode",
    "cache_dir",
    "max_prs",
    "state",
    "since",
    "workers",
    "base_url",
    "max_age",
    "seed",
    "missing",
    "pseudonymize",
    "api",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ghseed(project=None, max_prs=None, state=None, since=None, until=None): the GitHub data this test "
        "needs; wins over --ghseed-* options and ini keys for the keys it names.",
    )
    try:
        settings = resolve_settings(
            _command_line(config), _ini_file(config), os.environ, rootdir=config.rootpath
        )
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    workerinput = getattr(config, "workerinput", None)
    if settings.seed is None:
        # One seed per session; xdist workers get the controller's (see pytest_configure_node).
        seed = workerinput.get("ghseed_seed") if workerinput else None
        settings = dataclasses.replace(settings, seed=seed if seed is not None else random.randrange(2**31))
    started = workerinput.get("ghseed_started") if workerinput else None
    config.stash[session_key] = GhseedSession(
        settings=settings,
        started=datetime.fromisoformat(started) if started else datetime.now(UTC),
    )
    config.pluginmanager.register(fixtures, "ghseed-fixtures")


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = ghseed_session(config).settings
    projects = ", ".join(p.name for p in settings.projects) or "none (--ghseed-project)"
    people = ", people pseudonymized" if settings.pseudonymize else ""
    return [
        f"ghseed: cache dir {settings.cache_dir}, record mode {settings.record_mode}, projects: {projects}{people}"
    ]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: hand the session's factory seed and start time to each worker."""
    state = ghseed_session(node.config)
    node.workerinput["ghseed_seed"] = state.settings.seed
    node.workerinput["ghseed_started"] = state.started.isoformat()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: collect what each worker loaded or fetched, for one summary."""
    reported = getattr(node, "workeroutput", {}).get("ghseed_summary", {})
    merge_summary(ghseed_session(node.config).summary, reported)


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["ghseed_summary"] = ghseed_session(session.config).summary


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = ghseed_session(config)
    configured = tuple((p.name, p.full_name) for p in state.settings.projects)
    lines = summary_lines(state.summary, state.settings.seed, configured=configured)
    if lines:
        terminalreporter.write_sep("=", "ghseed")
        for line in lines:
            terminalreporter.write_line(line)
