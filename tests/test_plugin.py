"""The pytest plugin, driven through ``pytester``: options, ini keys, environment, marker, fixtures, output.

Inner runs use the built-in ``demo`` project (no token, no network) or a small emulator of ``acme/widgets``
(``make_config(n_prs=8)``) reached with ``--ghseed-base-url`` and ``GITHUB_TOKENS``. Most runs are
in-process (fast); the import check runs in a subprocess, where nothing is imported yet.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path

import pytest

# In-process runs drop the modules they imported when they end (pytester's sys.modules snapshot). Import
# the heavy ones here, once: every inner run then shares them (faster), and requests is never imported
# twice (a second copy breaks its isinstance checks: "You can only merge into CookieJar").
import pytest_ghseed.cache.cassettes
import pytest_ghseed.factories
import pytest_ghseed.fetch.fetcher
import pytest_ghseed.seed  # noqa: F401
from pytest_ghseed.emulator import Emulator, EmulatorConfig, ProjectSpec
from tests.helpers import REPO, TOKENS, make_config

with contextlib.suppress(ImportError):  # hypothesis's plugin imports it at each inner run's end: 1.7 s each
    import hypothesis  # noqa: F401

DEMO = ("--ghseed-project=demo", "--ghseed-max-prs=5")
FOLDER = "acme__widgets"
#: The small emulator's pull requests (make_config(n_prs=8), seed 3): numbers 1..8; 1 and 7 are open;
#: 5..8 were created on or after 2024-01-04.
OPEN_PRS = [1, 7]
SINCE = "2024-01-04"
SINCE_PRS = [5, 6, 7, 8]

#: A conftest that refuses every connection of the inner run (any address), then restores the guard.
BLOCK_NETWORK = """
import socket

_connect = socket.socket.connect


def _refuse(self, address):
    raise OSError(f"network blocked in this run: {address!r}")


def pytest_configure(config):
    socket.socket.connect = _refuse


def pytest_unconfigure(config):
    socket.socket.connect = _connect
"""


@pytest.fixture
def emu(emulator_factory, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A small emulator of acme/widgets (8 PRs) whose tokens are in GITHUB_TOKENS."""
    emulator = emulator_factory(n_prs=8)
    monkeypatch.setenv("GITHUB_TOKENS", ",".join(TOKENS))
    return emulator


def emu_args(emu: Emulator, *extra: str) -> list[str]:
    """Command-line arguments that seed from the emulator's acme/widgets."""
    return [f"--ghseed-project={REPO}", f"--ghseed-base-url={emu.base_url}", *extra]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run pytest in-process in the pytester directory."""
    return pytester.runpytest_inprocess(*args)


def section(result: pytest.RunResult, name: str = "ghseed") -> list[str]:
    """The lines of one terminal-summary section (empty when the section is absent)."""
    lines = result.outlines
    heads = [i for i, line in enumerate(lines) if line.startswith("=") and f" {name} " in line]
    if not heads:
        return []
    body = []
    for line in lines[heads[0] + 1 :]:
        if line.startswith("="):
            break
        body.append(line)
    return body


def skip_reasons(result: pytest.RunResult) -> list[str]:
    """The full skip reasons of an in-process run (never truncated to the terminal width)."""
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    return [report.longrepr[2].removeprefix("Skipped: ") for report in reports if report.skipped]


def fail_messages(result: pytest.RunResult) -> list[str]:
    """The failure texts of an in-process run."""
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    return [str(report.longrepr) for report in reports if report.failed]


def assert_fnmatch(line: str, pattern: str) -> None:
    """Assert that one line matches an fnmatch pattern, showing both when it does not."""
    assert fnmatch(line, pattern), f"{line!r} does not match {pattern!r}"


def age_cache(cache_dir: Path, folder: str = FOLDER) -> None:
    """Make a recorded snapshot look years old, so that max_age finds it stale."""
    path = cache_dir / folder / "snapshot.json"
    data = json.loads(path.read_text())
    data["recorded_at"] = "2020-01-01T00:00:00Z"
    path.write_text(json.dumps(data))


# -- --help and --fixtures --------------------------------------------------------------------------


def test_help_lists_every_option_in_the_ghseed_group(pytester: pytest.Pytester) -> None:
    """`pytest --help` shows every option under the pytest-ghseed group heading."""
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(
        [
            "real GitHub pull-request data (pytest-ghseed):",
            "  --ghseed-project=NAME*",
            "  --ghseed-record-mode={once,none,new_episodes,all}*",
            "  --ghseed-offline*",
            "  --ghseed-cache-dir=DIR*",
            "  --ghseed-max-prs=N*",
            "  --ghseed-state={all,open,closed}*",
            "  --ghseed-since=DATE*",
            "  --ghseed-workers=N*",
            "  --ghseed-base-url=URL*",
            "  --ghseed-max-age=AGE*",
            "  --ghseed-seed=N*",
            "  --ghseed-pseudonymize*",
            "  --ghseed-api={auto,rest,graphql}*",
        ],
        consecutive=False,
    )
    # No option of the group strays elsewhere: they are all between the heading and the next blank line.
    start = result.outlines.index("real GitHub pull-request data (pytest-ghseed):")
    end = result.outlines.index("", start)
    assert sum(line.startswith("  --ghseed-") for line in result.outlines[start:end]) == 13


def test_help_lists_every_ini_key(pytester: pytest.Pytester) -> None:
    """`pytest --help` lists each ghseed ini key with its type."""
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(
        [
            "  ghseed_project (linelist):*",
            "  ghseed_record_mode (string):*",
            "  ghseed_cache_dir (string):*",
            "  ghseed_max_prs (string):*",
            "  ghseed_state (string):*",
            "  ghseed_since (string):*",
            "  ghseed_workers (string):*",
            "  ghseed_base_url (string):*",
            "  ghseed_max_age (string):*",
            "  ghseed_seed (string):*",
            "  ghseed_missing (string):*",
            "  ghseed_aliases (linelist):*",
            "  ghseed_pseudonymize (string):*",
            "  ghseed_api (string):*",
        ]
    )


def test_fixtures_are_listed_with_their_docstrings(pytester: pytest.Pytester) -> None:
    """`pytest --fixtures` lists every public fixture followed by its docstring's first line."""
    result = run(pytester, "--fixtures")
    # pytest orders the listing by "file:line" as text, so each fixture is checked on its own.
    for fixture, docstring in [
        ("ghseed_selection [[]session scope[]]", "Which project and parameters this test's data comes from*"),
        (
            "ghseed_snapshot [[]session scope[]]",
            "The recorded Snapshot (repository, pull requests, recorded_at, params)*",
        ),
        ("ghseed_snapshots [[]session scope[]]", "Every configured project's Snapshot, by project name*"),
        ("real_prs [[]session scope[]]", "The selected project's pull requests*"),
        ("real_pr", "One real pull request; parametrize indirectly*"),
        ("ghseed_cassette_dir [[]session scope[]]", "The selected project's cassette folder*"),
        ("real_pr_factory", "A factory of new PullRequests drawn from the real data*"),
        ("pull_request_factory", "The PullRequestFactory (factory-boy)*"),
        ("pull_request", "One generated, internally consistent PullRequest."),
    ]:
        result.stdout.fnmatch_lines([f"{fixture} -- *fixtures.py:*", f"    {docstring}"])


# -- report header and summary ----------------------------------------------------------------------


def test_report_header_shows_cache_dir_record_mode_and_projects(pytester: pytest.Pytester) -> None:
    """The header line names the cache folder, the record mode and the projects."""
    cache = pytester.path / "data"
    result = run(pytester, f"--ghseed-cache-dir={cache}", "--ghseed-project=demo", "--ghseed-project=acme/x")
    result.stdout.fnmatch_lines([f"ghseed: cache dir {cache}, record mode once, projects: demo, acme/x"])


def test_report_header_without_project_says_how_to_set_one(pytester: pytest.Pytester) -> None:
    """Without a project the header says so and names the option; the default cache is <rootdir>/cassettes."""
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            f"ghseed: cache dir {pytester.path / 'cassettes'}, record mode once, "
            "projects: none (--ghseed-project)"
        ]
    )


def test_first_run_fetches_second_reads_cache_offline_passes_without_network(
    pytester: pytest.Pytester,
) -> None:
    """End to end on demo: fetched, then cache with 0 API requests, then offline with every socket refused."""
    pytester.makepyfile(
        """
        def test_prs(real_prs):
            assert len(real_prs) == 5

        def test_one(real_pr):
            assert real_pr.number == max(pr.number for pr in [real_pr])
        """
    )
    first = run(pytester, *DEMO, "--ghseed-seed=7")
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["ghseed: ghseed/demo: */* PRs, * requests*"])  # live progress while fetching
    lines = section(first)
    assert len(lines) == 2, lines
    assert lines[1] == "factory seed: 7 (reproduce with --ghseed-seed=7)"
    assert_fnmatch(
        lines[0],
        "demo (ghseed/demo): fetched, 5 PRs, recorded ????-??-?? ??:?? UTC (*s ago), * API requests this run,"
        " quota left *",
    )
    assert " 0 API requests" not in lines[0]

    second = run(pytester, *DEMO)
    second.assert_outcomes(passed=2)
    assert "ghseed: ghseed/demo:" not in second.stdout.str()  # no fetch, no progress
    assert_fnmatch(
        section(second)[0],
        "demo (ghseed/demo): cache, 5 PRs, recorded ????-??-?? ??:?? UTC (* ago), 0 API requests this run",
    )

    pytester.makeconftest(BLOCK_NETWORK)
    pytester.makepyfile(
        test_blocked="""
        import socket
        import pytest

        def test_network_is_blocked():
            with pytest.raises(OSError, match="network blocked"):
                socket.create_connection(("127.0.0.1", 9), timeout=1)
        """
    )
    offline = run(pytester, *DEMO, "--ghseed-offline")
    offline.assert_outcomes(passed=3)
    offline.stdout.fnmatch_lines(["ghseed: cache dir *, record mode none, projects: demo"])
    assert section(offline)[0].startswith("demo (ghseed/demo): cache, 5 PRs,")


def test_summary_says_a_configured_project_was_not_used(pytester: pytest.Pytester) -> None:
    """No ghseed fixture used: the section says so for a configured project, and is absent without one."""
    pytester.makepyfile("def test_plain(): pass")
    result = run(pytester, *DEMO)
    result.assert_outcomes(passed=1)
    assert section(result) == ["demo (ghseed/demo): not used by any test this run"]
    assert not (pytester.path / "cassettes").exists()
    result = run(pytester)
    assert section(result) == []


def test_pull_request_factory_needs_no_project(pytester: pytest.Pytester) -> None:
    """The generated-data fixtures work without any project and touch no cache."""
    pytester.makepyfile(
        """
        def test_generated(pull_request, pull_request_factory):
            assert pull_request.number > 0
            assert len(pull_request_factory.build_batch(3)) == 3
        """
    )
    run(pytester).assert_outcomes(passed=1)
    assert not (pytester.path / "cassettes").exists()


# -- each option, and its ini key -----------------------------------------------------------------

#: (id, command-line arguments, ini lines, inner test body) run against the small emulator. The
#: inner test checks the effect; each case runs once with the option and once with the ini key.
SETTING_CASES = [
    (
        "max_prs",
        ["--ghseed-max-prs=3"],
        ["ghseed_max_prs = 3"],
        "assert [pr.number for pr in real_prs] == [6, 7, 8]",
    ),
    (
        "state",
        ["--ghseed-state=open"],
        ["ghseed_state = open"],
        f"assert [pr.number for pr in real_prs] == {OPEN_PRS}",
    ),
    (
        "since",
        [f"--ghseed-since={SINCE}"],
        [f"ghseed_since = {SINCE}"],
        f"assert [pr.number for pr in real_prs] == {SINCE_PRS}",
    ),
]


def _ini(pytester: pytest.Pytester, *lines: str) -> None:
    pytester.makeini("[pytest]\n" + "\n".join(lines) + "\n")


@pytest.mark.parametrize("where", ["cli", "ini"])
@pytest.mark.parametrize(
    ("cli", "ini", "check"), [case[1:] for case in SETTING_CASES], ids=[c[0] for c in SETTING_CASES]
)
def test_selection_option_and_ini_key(
    pytester: pytest.Pytester, emu: Emulator, where: str, cli: list[str], ini: list[str], check: str
) -> None:
    """--ghseed-max-prs/-state/-since and their ini keys select which pull requests the fixtures hold."""
    pytester.makepyfile(f"def test_selected(real_prs):\n    {check}\n")
    if where == "cli":
        result = run(pytester, *emu_args(emu), *cli)
    else:
        _ini(pytester, *ini)
        result = run(pytester, *emu_args(emu))
    result.assert_outcomes(passed=1)


def test_project_option_is_repeatable_and_feeds_ghseed_snapshots(
    pytester: pytest.Pytester, emulator_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two --ghseed-project options: the first feeds real_prs, ghseed_snapshots holds both by name."""
    config = EmulatorConfig(
        projects=(ProjectSpec(REPO, n_prs=4, seed=3), ProjectSpec("acme/gadgets", n_prs=3, seed=4)),
        tokens=TOKENS,
    )
    emulator = emulator_factory(config)
    monkeypatch.setenv("GITHUB_TOKENS", ",".join(TOKENS))
    pytester.makepyfile(
        """
        import pytest

        def test_first_project(ghseed_snapshot, real_prs):
            assert ghseed_snapshot.repository.full_name == "acme/widgets"
            assert len(real_prs) == 4

        def test_both(ghseed_snapshots):
            assert sorted(ghseed_snapshots) == ["acme/gadgets", "acme/widgets"]
            assert len(ghseed_snapshots["acme/gadgets"].prs) == 3
            assert ghseed_snapshots["acme/gadgets"].repository.full_name == "acme/gadgets"
            with pytest.raises(TypeError):
                ghseed_snapshots["x"] = None
        """
    )
    result = run(pytester, *emu_args(emulator), "--ghseed-project=acme/gadgets")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["ghseed: *projects: acme/widgets, acme/gadgets"])
    lines = section(result)
    assert [line.split(":")[0] for line in lines[:2]] == [
        "acme/gadgets (acme/gadgets)",
        "acme/widgets (acme/widgets)",
    ]
    assert all(": fetched, " in line for line in lines[:2])


def test_ini_project_lines_and_aliases(
    pytester: pytest.Pytester, emulator_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ghseed_project takes one project per line; ghseed_aliases names owner/repo shortly."""
    config = EmulatorConfig(
        projects=(ProjectSpec(REPO, n_prs=4, seed=3), ProjectSpec("acme/gadgets", n_prs=3, seed=4)),
        tokens=TOKENS,
    )
    emulator = emulator_factory(config)
    monkeypatch.setenv("GITHUB_TOKENS", ",".join(TOKENS))
    _ini(
        pytester,
        "ghseed_project =",
        "    w",
        "    acme/gadgets",
        "ghseed_aliases =",
        "    # our repositories",
        "    w = acme/widgets",
        f"ghseed_base_url = {emulator.base_url}",
    )
    pytester.makepyfile(
        """
        def test_both(ghseed_snapshots, ghseed_snapshot):
            assert sorted(ghseed_snapshots) == ["acme/gadgets", "w"]
            assert ghseed_snapshot.repository.full_name == "acme/widgets"
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["ghseed: *projects: w, acme/gadgets"])
    assert any(line.startswith("w (acme/widgets): fetched, 4 PRs") for line in section(result))
    assert (pytester.path / "cassettes" / "w" / "snapshot.json").is_file()


def test_cli_project_replaces_ini_projects(pytester: pytest.Pytester) -> None:
    """Projects given on the command line replace those of the ini file (not added to them)."""
    _ini(pytester, "ghseed_project = acme/x")
    result = run(pytester, "--ghseed-project=demo")
    result.stdout.fnmatch_lines(["ghseed: *projects: demo"])


@pytest.mark.parametrize("where", ["cli", "ini"])
def test_cache_dir_option_and_ini_key(pytester: pytest.Pytester, where: str) -> None:
    """--ghseed-cache-dir and ghseed_cache_dir (relative to the rootdir) say where the cache goes."""
    pytester.makepyfile("def test_prs(real_prs): assert len(real_prs) == 5")
    if where == "cli":
        cache = pytester.path / "elsewhere" / "cache"
        result = run(pytester, *DEMO, f"--ghseed-cache-dir={cache}")
    else:
        cache = pytester.path / "data" / "gh"
        _ini(pytester, "ghseed_cache_dir = data/gh")
        result = run(pytester, *DEMO)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"ghseed: cache dir {cache}, record mode once, *"])
    assert (cache / "demo" / "snapshot.json").is_file()
    assert (cache / "demo" / "metadata.json").is_file()
    assert not (pytester.path / "cassettes").exists()


@pytest.mark.parametrize("where", ["cli", "ini"])
def test_record_mode_none_without_cache_skips_with_the_command(pytester: pytest.Pytester, where: str) -> None:
    """Record mode none (option or ini key) and no cache: skip naming `ghseed fetch NAME --cache-dir DIR`."""
    pytester.makepyfile("def test_prs(real_prs): pass\ndef test_again(real_pr): pass")
    if where == "cli":
        result = run(pytester, *DEMO, "--ghseed-record-mode=none")
    else:
        _ini(pytester, "ghseed_record_mode = none")
        result = run(pytester, *DEMO)
    result.assert_outcomes(skipped=2)
    command = f"ghseed fetch demo --cache-dir {pytester.path / 'cassettes'}"
    reasons = skip_reasons(result)
    assert len(reasons) == 2
    assert all(reason.endswith(f"Record it with: {command}") for reason in reasons), reasons
    assert all("'none' (offline)" in reason for reason in reasons)
    assert section(result) == [
        f"demo (ghseed/demo): MISSING, nothing recorded; the tests that need it were skipped. Record it with: {command}"
    ]


def test_offline_option_skips_and_overrides_record_mode(pytester: pytest.Pytester) -> None:
    """--ghseed-offline wins over --ghseed-record-mode=all: nothing is fetched, the test skips."""
    pytester.makepyfile("def test_prs(real_prs): pass")
    cache = pytester.path / "c"
    result = run(
        pytester, *DEMO, "--ghseed-offline", "--ghseed-record-mode=all", f"--ghseed-cache-dir={cache}"
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["ghseed: *record mode none*"])
    assert skip_reasons(result)[0].endswith(f"ghseed fetch demo --cache-dir {cache}")
    assert not (cache / "demo" / "snapshot.json").exists()


def test_missing_fail_policy_fails_instead_of_skipping(pytester: pytest.Pytester) -> None:
    """ghseed_missing = fail turns the offline skip into a (setup) failure with the same message."""
    _ini(pytester, "ghseed_missing = fail")
    pytester.makepyfile("def test_prs(real_prs): pass")
    result = run(pytester, *DEMO, "--ghseed-offline")
    result.assert_outcomes(errors=1)
    messages = fail_messages(result)
    assert "ghseed fetch demo --cache-dir" in messages[0]
    assert "Traceback" not in result.stdout.str()


def test_no_project_skips_with_how_to_configure(pytester: pytest.Pytester) -> None:
    """Without a project, data fixtures skip and the reason names the option, the ini key and the marker."""
    pytester.makepyfile(
        """
        def test_prs(real_prs): pass
        def test_snapshots(ghseed_snapshots): pass
        def test_factory(real_pr_factory): pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(skipped=3)
    for reason in skip_reasons(result):
        assert "--ghseed-project=NAME" in reason
        assert "ghseed_project = NAME" in reason
        assert "@pytest.mark.ghseed(project=NAME)" in reason


@pytest.mark.parametrize("where", ["cli", "ini"])
def test_record_mode_all_fetches_again(pytester: pytest.Pytester, emu: Emulator, where: str) -> None:
    """Record mode all (option or ini key) fetches everything again although a cache exists."""
    pytester.makepyfile("def test_prs(real_prs): assert len(real_prs) == 8")
    run(pytester, *emu_args(emu)).assert_outcomes(passed=1)
    emu.reset_stats()
    if where == "cli":
        result = run(pytester, *emu_args(emu), "--ghseed-record-mode=all")
    else:
        _ini(pytester, "ghseed_record_mode = all")
        result = run(pytester, *emu_args(emu))
    result.assert_outcomes(passed=1)
    assert section(result)[0].startswith("acme/widgets (acme/widgets): fetched, 8 PRs")
    assert all(emu.stats.fetch_counts.get(f"/repos/{REPO}/pulls/{n}") == 1 for n in range(1, 9))


def test_record_mode_new_episodes_refreshes(pytester: pytest.Pytester, emu: Emulator) -> None:
    """Record mode new_episodes refreshes the cache: the summary says refreshed."""
    pytester.makepyfile("def test_prs(real_prs): assert len(real_prs) == 8")
    run(pytester, *emu_args(emu)).assert_outcomes(passed=1)
    result = run(pytester, *emu_args(emu), "--ghseed-record-mode=new_episodes")
    result.assert_outcomes(passed=1)
    assert section(result)[0].startswith("acme/widgets (acme/widgets): refreshed, 8 PRs")


@pytest.mark.parametrize("where", ["cli", "ini"])
def test_max_age_refreshes_an_old_cache(pytester: pytest.Pytester, emu: Emulator, where: str) -> None:
    """A cache older than --ghseed-max-age / ghseed_max_age is refreshed; without it the cache is used."""
    pytester.makepyfile("def test_prs(real_prs): assert len(real_prs) == 8")
    run(pytester, *emu_args(emu)).assert_outcomes(passed=1)
    age_cache(pytester.path / "cassettes")
    plain = run(pytester, *emu_args(emu))
    assert section(plain)[0].startswith(
        "acme/widgets (acme/widgets): cache, 8 PRs, recorded 2020-01-01 00:00"
    )
    if where == "cli":
        result = run(pytester, *emu_args(emu), "--ghseed-max-age=7d")
    else:
        _ini(pytester, "ghseed_max_age = 7d")
        result = run(pytester, *emu_args(emu))
    result.assert_outcomes(passed=1)
    assert section(result)[0].startswith("acme/widgets (acme/widgets): refreshed, 8 PRs")
    result.stdout.fnmatch_lines(["ghseed: note: the cache is older than max_age (604800s): refreshing"])


@pytest.mark.parametrize("where", ["cli", "ini"])
def test_workers_option_and_ini_key_bound_concurrency(
    pytester: pytest.Pytester, emu: Emulator, where: str
) -> None:
    """--ghseed-workers=1 / ghseed_workers = 1 fetch with one request in flight at a time."""
    pytester.makepyfile("def test_prs(real_prs): assert len(real_prs) == 8")
    if where == "cli":
        result = run(pytester, *emu_args(emu), "--ghseed-workers=1")
    else:
        _ini(pytester, "ghseed_workers = 1")
        result = run(pytester, *emu_args(emu))
    result.assert_outcomes(passed=1)
    assert emu.stats.max_concurrency == 1


def test_base_url_option_ini_key_and_env_precedence(
    pytester: pytest.Pytester, emulator_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base URL comes from --ghseed-base-url, else ghseed_base_url, else GITHUB_API_URL."""
    monkeypatch.setenv("GITHUB_TOKENS", ",".join(TOKENS))
    cli_emu, ini_emu, env_emu = (emulator_factory(n_prs=2) for _ in range(3))
    pytester.makepyfile("def test_prs(real_prs): assert len(real_prs) == 2")
    monkeypatch.setenv("GITHUB_API_URL", env_emu.base_url)
    _ini(pytester, f"ghseed_base_url = {ini_emu.base_url}")
    run(pytester, *emu_args(cli_emu), "--ghseed-record-mode=all").assert_outcomes(passed=1)
    assert [e.stats.total_requests > 0 for e in (cli_emu, ini_emu, env_emu)] == [True, False, False]

    run(pytester, f"--ghseed-project={REPO}", "--ghseed-record-mode=all").assert_outcomes(passed=1)
    assert [e.stats.total_requests > 0 for e in (ini_emu, env_emu)] == [True, False]

    _ini(pytester)
    run(pytester, f"--ghseed-project={REPO}", "--ghseed-record-mode=all").assert_outcomes(passed=1)
    assert env_emu.stats.total_requests > 0


def test_github_tokens_env_spreads_over_tokens(pytester: pytest.Pytester, emu: Emulator) -> None:
    """GITHUB_TOKENS (comma-separated) gives the fetch every token: more than one is used."""
    pytester.makepyfile("def test_prs(real_prs): assert len(real_prs) == 8")
    run(pytester, *emu_args(emu)).assert_outcomes(passed=1)
    used = {token for token, count in emu.stats.requests_by_token.items() if count and token}
    assert used <= set(TOKENS)
    assert len(used) >= 2


def test_demo_ignores_an_ambient_github_api_url(
    pytester: pytest.Pytester, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ambient GITHUB_API_URL (as on GitHub Actions) does not take demo off its built-in emulator."""
    monkeypatch.setenv("GITHUB_API_URL", emu.base_url)  # a GitHub that has no ghseed/demo
    pytester.makepyfile("def test_prs(real_prs): assert len(real_prs) == 5")
    run(pytester, *DEMO).assert_outcomes(passed=1)


def test_github_token_env_is_used_when_tokens_is_unset(
    pytester: pytest.Pytester, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GITHUB_TOKEN alone authenticates every request with that one token."""
    monkeypatch.delenv("GITHUB_TOKENS")
    monkeypatch.setenv("GITHUB_TOKEN", "tok-bob")
    pytester.makepyfile("def test_prs(real_prs): assert len(real_prs) == 8")
    run(pytester, *emu_args(emu)).assert_outcomes(passed=1)
    assert {token for token, count in emu.stats.requests_by_token.items() if count} == {"tok-bob"}


def test_ci_env_makes_record_mode_none_unless_configured(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI set: record mode none, and missing data fails the run (ghseed_missing = skip opts out); the ini
    key and the option beat CI's record mode; CI=false is not CI."""
    pytester.makepyfile("def test_prs(real_prs): pass")
    monkeypatch.setenv("CI", "true")
    result = run(pytester, *DEMO)
    result.stdout.fnmatch_lines(["ghseed: *record mode none*"])
    result.assert_outcomes(errors=1)
    assert result.ret != 0, "CI must not go green having tested nothing"
    assert any("ghseed fetch demo --cache-dir" in message for message in fail_messages(result))
    assert section(result)[0].startswith(
        "demo (ghseed/demo): MISSING, nothing recorded; the tests that need it failed"
    )
    _ini(pytester, "ghseed_missing = skip")
    run(pytester, *DEMO).assert_outcomes(skipped=1)
    _ini(pytester)

    run(pytester, *DEMO, "--ghseed-record-mode=once", "--co").stdout.fnmatch_lines(
        ["ghseed: *record mode once*"]
    )
    _ini(pytester, "ghseed_record_mode = new_episodes")
    run(pytester, *DEMO, "--co").stdout.fnmatch_lines(["ghseed: *record mode new_episodes*"])
    _ini(pytester)
    monkeypatch.setenv("CI", "false")
    run(pytester, *DEMO, "--co").stdout.fnmatch_lines(["ghseed: *record mode once*"])


@pytest.mark.parametrize("where", ["cli", "ini"])
def test_seed_option_and_ini_key_make_factories_reproducible(pytester: pytest.Pytester, where: str) -> None:
    """--ghseed-seed / ghseed_seed is shown in the summary and makes real_pr_factory build the same PRs."""
    pytester.makepyfile(
        """
        import json
        from pathlib import Path

        def test_build(real_pr_factory):
            built = real_pr_factory.build()
            with Path(__file__).with_name("built.jsonl").open("a") as out:
                out.write(json.dumps([built.title, built.additions, built.user and built.user.login]) + "\\n")
        """
    )
    args = [*DEMO, "--ghseed-seed=1234"] if where == "cli" else list(DEMO)
    if where == "ini":
        _ini(pytester, "ghseed_seed = 1234")
    for _ in range(2):
        result = run(pytester, *args)
        result.assert_outcomes(passed=1)
        assert section(result)[-1] == "factory seed: 1234 (reproduce with --ghseed-seed=1234)"
    first, second = (pytester.path / "built.jsonl").read_text().splitlines()
    assert first == second


def test_random_seed_is_shown_and_reproduces(pytester: pytest.Pytester) -> None:
    """Without a seed, the summary shows the random one, and passing it back builds the same PR."""
    pytester.makepyfile(
        """
        from pathlib import Path

        def test_build(real_pr_factory):
            with Path(__file__).with_name("built.txt").open("a") as out:
                out.write(repr(real_pr_factory.build()) + "\\n")
        """
    )
    line = section(run(pytester, *DEMO))[-1]
    seed = line.split()[2]
    assert line == f"factory seed: {seed} (reproduce with --ghseed-seed={seed})"
    run(pytester, *DEMO, f"--ghseed-seed={seed}").assert_outcomes(passed=1)
    first, second = (pytester.path / "built.txt").read_text().splitlines()
    assert first == second


# -- invalid values ---------------------------------------------------------------------------------

INVALID_OPTIONS = [
    (
        "--ghseed-record-mode=sometimes",
        "--ghseed-record-mode must be one of once, none, new_episodes, all; got 'sometimes'",
    ),
    ("--ghseed-state=merged", "--ghseed-state must be one of all, open, closed; got 'merged'"),
    ("--ghseed-max-prs=0", "--ghseed-max-prs must be a whole number of at least 1, got '0'"),
    ("--ghseed-max-prs=many", "--ghseed-max-prs must be a whole number of at least 1, got 'many'"),
    ("--ghseed-workers=-2", "--ghseed-workers must be a whole number of at least 1, got '-2'"),
    ("--ghseed-since=yesterday", "--ghseed-since must be an ISO date like 2024-01-31 *; got 'yesterday'"),
    ("--ghseed-max-age=soon", "--ghseed-max-age must be a duration like 90s, 15m, 12h, 7d or 2w; got 'soon'"),
    ("--ghseed-seed=-1", "--ghseed-seed must be a whole number of 0 or more, got '-1'"),
    (
        "--ghseed-project=not a repo",
        "*project 'not a repo' is neither owner/repo * nor a known name (*demo*)*",
    ),
]


@pytest.mark.parametrize(
    ("arg", "message"), INVALID_OPTIONS, ids=[a.split("=")[0] for a, _ in INVALID_OPTIONS]
)
def test_invalid_option_is_a_usage_error(pytester: pytest.Pytester, arg: str, message: str) -> None:
    """A bad option value stops pytest with exit code 4 and a message naming allowed values and the value."""
    result = pytester.runpytest_inprocess(arg)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "Traceback" not in result.stderr.str()


INVALID_INI = [
    (
        "ghseed_record_mode = sometimes",
        "ghseed_record_mode must be one of once, none, new_episodes, all; got 'sometimes'",
    ),
    ("ghseed_state = merged", "ghseed_state must be one of all, open, closed; got 'merged'"),
    ("ghseed_max_prs = 0", "ghseed_max_prs must be a whole number of at least 1, got '0'"),
    ("ghseed_workers = lots", "ghseed_workers must be a whole number of at least 1, got 'lots'"),
    ("ghseed_since = 31/01/2024", "ghseed_since must be an ISO date *; got '31/01/2024'"),
    ("ghseed_max_age = 1 fortnight", "ghseed_max_age must be a duration like *; got '1 fortnight'"),
    ("ghseed_seed = x", "ghseed_seed must be a whole number of 0 or more, got 'x'"),
    ("ghseed_missing = ignore", "ghseed_missing must be one of skip, fail; got 'ignore'"),
    ("ghseed_aliases = w: acme/widgets", "alias line 'w: acme/widgets' is not `name = owner/repo`*"),
    ("ghseed_project = no/such/thing", "*project 'no/such/thing' is neither owner/repo*"),
]


@pytest.mark.parametrize(("line", "message"), INVALID_INI, ids=[line.split()[0] for line, _ in INVALID_INI])
def test_invalid_ini_value_is_a_usage_error(pytester: pytest.Pytester, line: str, message: str) -> None:
    """A bad ini value stops pytest with exit code 4 and a message naming the key and the value."""
    _ini(pytester, line)
    result = pytester.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


# -- the marker and precedence ----------------------------------------------------------------------


def test_marker_selects_project_max_prs_and_state(pytester: pytest.Pytester, emu: Emulator) -> None:
    """@pytest.mark.ghseed(project=..., max_prs=..., state=...) gives that test its own data."""
    _ini(pytester, f"ghseed_base_url = {emu.base_url}")
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.ghseed(project="{REPO}", max_prs=2)
        def test_two(real_prs):
            assert [pr.number for pr in real_prs] == [7, 8]

        @pytest.mark.ghseed(project="{REPO}", state="open")
        def test_open(real_prs, real_pr):
            assert [pr.number for pr in real_prs] == {OPEN_PRS}
            assert real_pr.number == 7

        def test_unmarked(real_prs):
            pass
        """
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*test_two?ghseed:max_prs=2,project=acme/widgets? PASSED*"])


def test_marker_on_a_class_applies_to_its_tests(pytester: pytest.Pytester) -> None:
    """A class-level marker selects the data of every test in the class."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed(project="demo", max_prs=3)
        class TestDemo:
            def test_a(self, real_prs):
                assert len(real_prs) == 3

            def test_b(self, ghseed_snapshot):
                assert ghseed_snapshot.repository.full_name == "ghseed/demo"
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_max_prs_precedence_marker_cli_ini_default(pytester: pytest.Pytester, emu: Emulator) -> None:
    """max_prs: the marker beats the command line, which beats the ini key, which beats 100."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed(max_prs=4)
        def test_marked(real_prs, pytestconfig):
            assert len(real_prs) == int(pytestconfig.getini("ghseed_workers"))

        def test_unmarked(ghseed_snapshot, pytestconfig):
            assert ghseed_snapshot.params.max_prs == int(pytestconfig.getini("ghseed_seed"))
        """
    )
    # The inner tests read their expectations from spare ini keys: ghseed_workers (marked), ghseed_seed.
    _ini(pytester, "ghseed_workers = 4", "ghseed_seed = 100")
    run(pytester, *emu_args(emu)).assert_outcomes(passed=2)  # marker 4; default 100
    _ini(pytester, "ghseed_max_prs = 3", "ghseed_workers = 4", "ghseed_seed = 3")
    run(pytester, *emu_args(emu)).assert_outcomes(passed=2)  # marker beats ini; ini beats default
    _ini(pytester, "ghseed_max_prs = 3", "ghseed_workers = 4", "ghseed_seed = 2")
    run(pytester, *emu_args(emu), "--ghseed-max-prs=2").assert_outcomes(
        passed=2
    )  # marker wins; CLI beats ini


def test_project_precedence_marker_cli_ini(pytester: pytest.Pytester) -> None:
    """project: the marker beats the command line, which beats the ini key (and the test id tells the truth)."""
    _ini(pytester, "ghseed_project = acme/nothing-here")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed(project="demo")
        def test_marked(ghseed_selection):
            assert ghseed_selection.project.name == "demo"

        def test_unmarked(ghseed_selection):
            assert ghseed_selection.project.name == "acme/nothing-here"
        """
    )
    run(pytester).assert_outcomes(passed=2)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed(project="demo")
        def test_marked(ghseed_selection):
            assert ghseed_selection.project.name == "demo"

        def test_unmarked(ghseed_selection):
            assert ghseed_selection.project.name == "acme/cli"
        """
    )
    result = run(pytester, "--ghseed-project=acme/cli", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_marked[[]ghseed:project=demo[]] PASSED*"])


def test_marker_unknown_argument_is_a_clear_error(pytester: pytest.Pytester) -> None:
    """An unknown marker keyword stops collection with a message naming it and the accepted ones."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed(projet="demo")
        def test_typo(real_prs):
            pass
        """
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.ghseed got unknown argument(s) projet; it takes project, max_prs, state, since, until*"
        ]
    )


def test_marker_positional_argument_is_a_clear_error(pytester: pytest.Pytester) -> None:
    """A positional marker argument is refused with a message saying it takes keywords."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed("demo")
        def test_positional(real_prs):
            pass
        """
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.ghseed takes keyword arguments only (project, max_prs, state, since, until), "
            "got positional ('demo',)*"
        ]
    )


def test_marker_error_shows_no_internal_traceback(pytester: pytest.Pytester) -> None:
    """A marker error shows its message without a traceback through pytest's and pluggy's internals."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed(projet="demo")
        def test_typo(real_prs):
            pass
        """
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(["*got unknown argument(s) projet*"])
    out = result.stdout.str()
    assert "pluggy/_" not in out
    assert "_pytest/python.py" not in out
    assert "Traceback" not in out


def test_marker_bad_value_fails_the_test_clearly(pytester: pytest.Pytester) -> None:
    """A marker value that cannot be used fails only that test, naming the value."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed(project="demo", state="merged")
        def test_bad_state(real_prs):
            pass

        def test_plain():
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ghseed marker state must be one of all, open, closed; got 'merged'*"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("max_prs=-1", "ghseed marker max_prs must be a whole number of at least 1, got '-1'"),
        ("max_prs=0", "ghseed marker max_prs must be a whole number of at least 1, got '0'"),
        ("max_prs='abc'", "ghseed marker max_prs must be a whole number of at least 1, got 'abc'"),
        ("max_prs=True", "ghseed marker max_prs must be a whole number of at least 1 or 'all', got True"),
        ("project='nosuch'", "project 'nosuch' is neither owner/repo"),
        ("since='2024-02-01', until='2024-01-01'", "the ghseed marker's since and until are inverted"),
        ("since='yesterday'", "ghseed marker since must be an ISO date"),
    ],
)
def test_marker_values_are_checked_like_the_options(
    pytester: pytest.Pytester, arguments: str, message: str
) -> None:
    """Every marker value is checked with the options' rules and words, reported once, no chained exception."""
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.ghseed({arguments})
        def test_marked(real_prs):
            pass
        """
    )
    result = run(pytester, *DEMO)
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert out.count(message) == 1, out
    assert "During handling of the above exception" not in out


def test_the_readme_marker_example_wins_over_the_command_line(pytester: pytest.Pytester) -> None:
    """With --ghseed-max-prs=20, the README's `@pytest.mark.ghseed(state="closed", max_prs=10)` test gets 10."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed(state="closed", max_prs=10)
        def test_closed_only(real_prs):
            assert len(real_prs) == 10
            assert all(pr.state == "closed" for pr in real_prs)

        def test_unmarked(real_prs):
            assert len(real_prs) == 20
        """
    )
    run(pytester, "--ghseed-project=demo", "--ghseed-max-prs=20").assert_outcomes(passed=2)


def test_a_marked_project_is_the_data_the_test_receives(pytester: pytest.Pytester) -> None:
    """`project="posthog"` under --ghseed-project=demo asks for posthog (offline: its own record command)."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed(project="posthog")
        def test_marked(real_prs):
            pass
        """
    )
    result = run(pytester, "--ghseed-project=demo", "--ghseed-offline")
    result.assert_outcomes(skipped=1)
    assert "ghseed fetch posthog --cache-dir" in skip_reasons(result)[0]


def test_marked_tests_share_one_load_per_selection(pytester: pytest.Pytester, emu: Emulator) -> None:
    """Tests with the same marker share one load; the unmarked ones share another; each PR is fetched once."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ghseed(max_prs=3)
        @pytest.mark.parametrize("i", range(3))
        def test_marked(real_prs, i):
            assert len(real_prs) == 3

        @pytest.mark.parametrize("i", range(3))
        def test_unmarked(real_prs, i):
            assert len(real_prs) == 8
        """
    )
    run(pytester, *emu_args(emu)).assert_outcomes(passed=6)
    # The second selection lists the repository again (it asks for more PRs), but no PR is fetched twice.
    pr_fetches = {path: n for path, n in emu.stats.fetch_counts.items() if "/pulls/" in path}
    assert {path: n for path, n in pr_fetches.items() if n > 1} == {}
    assert all(f"/repos/{REPO}/pulls/{n}" in pr_fetches for n in range(1, 9))


# -- fixtures -------------------------------------------------------------------------------------


def test_real_prs_is_immutable_and_frozen(pytester: pytest.Pytester) -> None:
    """real_prs refuses changes with a message saying how to copy it; its pull requests are frozen."""
    pytester.makepyfile(
        """
        import dataclasses
        import pytest

        def test_immutable(real_prs):
            with pytest.raises(TypeError, match=r"cannot be changed; copy it: list\\(real_prs\\)"):
                real_prs.append(real_prs[0])
            for change in (lambda: real_prs.pop(), lambda: real_prs.sort(), lambda: real_prs.clear()):
                with pytest.raises(TypeError):
                    change()
            with pytest.raises(TypeError):
                real_prs[0] = real_prs[1]
            with pytest.raises(TypeError):
                del real_prs[0]
            copy = list(real_prs)
            copy.append(copy[0])
            assert len(copy) == len(real_prs) + 1
            with pytest.raises(dataclasses.FrozenInstanceError):
                real_prs[0].title = "changed"

        def test_unchanged(real_prs):
            assert len(real_prs) == 5
        """
    )
    run(pytester, *DEMO).assert_outcomes(passed=2)


def test_real_prs_refuses_augmented_assignment(pytester: pytest.Pytester) -> None:
    """`real_prs += [...]` and `real_prs *= 2` raise TypeError, leaving the shared list intact."""
    pytester.makepyfile(
        """
        import pytest

        def test_iadd(real_prs):
            with pytest.raises(TypeError):
                real_prs += [real_prs[0]]
            with pytest.raises(TypeError):
                real_prs *= 2
        """
    )
    run(pytester, *DEMO).assert_outcomes(passed=1)


def test_real_pr_indirect_parametrization(pytester: pytest.Pytester, emu: Emulator) -> None:
    """real_pr takes positions (range(3)) and PR numbers ("#N"); unknown ones skip; default is the newest."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("real_pr", range(3), indirect=True)
        def test_position(real_pr, real_prs, request):
            assert real_pr is real_prs[request.node.callspec.params["real_pr"]]

        @pytest.mark.parametrize("real_pr", ["#2", "#7"], indirect=True)
        def test_number(real_pr, request):
            assert f"#{real_pr.number}" == request.node.callspec.params["real_pr"]

        @pytest.mark.parametrize("real_pr", ["#99", 50], indirect=True)
        def test_missing(real_pr):
            pass

        def test_default(real_pr):
            assert real_pr.number == 8
        """
    )
    result = run(pytester, *emu_args(emu))
    result.assert_outcomes(passed=6, skipped=2)
    reasons = sorted(skip_reasons(result))
    assert reasons == [
        "PR #99 is not in the recorded data (8 PRs)",
        "real_pr index 50 is beyond the 8 recorded PRs",
    ]


def test_real_pr_bad_parameter_names_it(pytester: pytest.Pytester, emu: Emulator) -> None:
    """A real_pr parameter that is neither a position nor "#N" is an error naming the value."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("real_pr", ["first"], indirect=True)
        def test_bad(real_pr):
            pass
        """
    )
    result = run(pytester, *emu_args(emu))
    result.stdout.fnmatch_lines(
        ["*real_pr parameter must be a position (int) or a PR number like '#123', got 'first'*"]
    )
    assert result.ret != pytest.ExitCode.OK


def test_ghseed_cassette_dir_replays_a_pygithub_call(pytester: pytest.Pytester, emu: Emulator) -> None:
    """ghseed_cassette_dir with replay_vcr() replays a recorded PyGithub call after the emulator is gone."""
    pytester.makepyfile("def test_record(real_prs): assert len(real_prs) == 8")
    args = emu_args(emu)
    run(pytester, *args).assert_outcomes(passed=1)
    base_url = emu.base_url
    emu.stop()
    pytester.makeconftest(BLOCK_NETWORK)
    pytester.makepyfile(
        f"""
        from github import Auth, Github

        from pytest_ghseed.cache.cassettes import replay_vcr


        def test_replay(ghseed_cassette_dir, real_pr):
            cassette = ghseed_cassette_dir / f"pr-{{real_pr.number:06d}}.json.gz"
            assert cassette.is_file()
            with replay_vcr().use_cassette(str(cassette)):
                gh = Github(auth=Auth.Token("anything"), base_url="{base_url}", retry=None)
                pull = gh.get_repo("{REPO}", lazy=True).get_pull(real_pr.number)
                assert pull.title == real_pr.title
                assert pull.additions == real_pr.additions
        """
    )
    run(pytester, *args, "--ghseed-offline").assert_outcomes(passed=1)


def test_snapshot_fixture_is_shared_by_the_session(pytester: pytest.Pytester) -> None:
    """ghseed_snapshot is one object for every test of the session, and real_prs holds its PRs."""
    pytester.makepyfile(
        """
        seen = []

        def test_a(ghseed_snapshot, real_prs):
            seen.append(ghseed_snapshot)
            assert tuple(real_prs) == ghseed_snapshot.prs

        def test_b(ghseed_snapshot):
            assert seen[0] is ghseed_snapshot
            assert ghseed_snapshot.params.max_prs == 5
        """
    )
    run(pytester, *DEMO).assert_outcomes(passed=2)


# -- other plugins, and import cost -----------------------------------------------------------------


def test_works_beside_pytest_recording(pytester: pytest.Pytester, emu: Emulator) -> None:
    """pytest-recording's vcr marker and ghseed's real_prs work in one session, recording then replaying."""
    pytest.importorskip("pytest_recording")  # yaml is imported early: see conftest.py
    pytester.makepyfile(
        test_both=f"""
        import pytest
        import requests

        @pytest.mark.vcr
        def test_vcr():
            response = requests.get("{emu.base_url}/repos/{REPO}", timeout=5)
            assert response.json()["full_name"] == "{REPO}"

        def test_ghseed(real_prs):
            assert len(real_prs) == 8
        """
    )
    args = emu_args(emu)
    first = run(pytester, *args, "--record-mode=once")
    first.assert_outcomes(passed=2)
    assert (pytester.path / "cassettes" / "test_both" / "test_vcr.yaml").is_file()
    assert (pytester.path / "cassettes" / FOLDER / "snapshot.json").is_file()
    emu.stop()
    pytester.makeconftest(BLOCK_NETWORK)
    second = run(pytester, *args, "--record-mode=none", "--ghseed-record-mode=none")
    second.assert_outcomes(passed=2)
    assert section(second)[0].startswith("acme/widgets (acme/widgets): cache, 8 PRs")


def test_importing_the_plugin_loads_no_heavy_module() -> None:
    """`import pytest_ghseed.plugin` imports neither PyGithub, vcrpy, factory-boy, graphql-core nor Django."""
    code = (
        "import sys, pytest_ghseed.plugin\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('github', 'vcr', 'factory', 'graphql', 'django'))\n"
        "print(heavy)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "[]"


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    """`-p no:ghseed` removes the options and the header line."""
    result = run(pytester, "-p", "no:ghseed", "--co")
    assert "ghseed:" not in result.stdout.str()
    assert "--ghseed-project" not in run(pytester, "-p", "no:ghseed", "--help").stdout.str()


def test_summary_recorded_date_matches_snapshot(pytester: pytest.Pytester) -> None:
    """The summary's recorded date is the snapshot's recorded_at, in UTC."""
    pytester.makepyfile("def test_prs(real_prs): pass")
    result = run(pytester, *DEMO)
    recorded = json.loads((pytester.path / "cassettes" / "demo" / "snapshot.json").read_text())["recorded_at"]
    stamp = datetime.fromisoformat(recorded.replace("Z", "+00:00"))
    assert f"recorded {stamp:%Y-%m-%d %H:%M} UTC (" in section(result)[0]


def test_emulator_data_matches_the_constants_used_here(emulator_factory) -> None:
    """The constants this module relies on (open PRs, PRs since SINCE) hold for make_config(n_prs=8)."""
    emulator = emulator_factory(make_config(n_prs=8))
    truth = emulator.truth(REPO)
    assert [pr.number for pr in truth] == list(range(1, 9))
    assert [pr.number for pr in truth if pr.state == "open"] == OPEN_PRS
    assert [pr.number for pr in truth if pr.created_at.date().isoformat() >= SINCE] == SINCE_PRS
