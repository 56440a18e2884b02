"""Fixtures shared across the suite: a running emulator, a folder per test, a guard against the internet,
and the contract tests' count of validated responses in the terminal summary.

Plain helpers (configs, constants, sample bodies) are in ``tests/helpers.py``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Imported once, before any test: pytester's in-process runs drop the modules a run imported, and
# PyYAML's C extension keeps the classes of the first import for the life of the process, so a yaml
# imported again after a run (by vcrpy, in a later test) gets classes the extension rejects ("expected
# SCALAR, SEQUENCE-START, ..."). Which test met that depended on the order xdist gave the tests.
import yaml  # noqa: F401

from pytest_ghseed.emulator import Emulator, EmulatorConfig, start
from tests.helpers import make_config

# The Django integration's tests need Django configured for their whole process: test_django_contrib.py
# runs them in a subprocess with their own pytest.ini.
collect_ignore = ["django_suite"]


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Emulator]]:
    """Start emulators with ``make_config`` arguments; all are stopped at teardown."""
    started: list[Emulator] = []

    def factory(config: EmulatorConfig | None = None, **kwargs: Any) -> Emulator:
        emulator = start(config or make_config(**kwargs))
        started.append(emulator)
        return emulator

    yield factory
    for emulator in started:
        emulator.stop()


# What the plugin and the command read from the environment. CI runners set CI=true (record mode none),
# and a developer may have a token or a salt exported: every test starts without them and sets what it
# is about, so the suite behaves the same on a laptop and in CI.
PLUGIN_ENVIRONMENT = ("CI", "GITHUB_TOKENS", "GITHUB_TOKEN", "GITHUB_API_URL", "GHSEED_PSEUDONYM_SALT")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test without the variables the plugin reads, whatever the outer environment holds."""
    for name in PLUGIN_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _work_in_tmp_path(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test in its own folder: a default ./cassettes never lands in the repository."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that is not to the loopback interface: no test may touch the internet."""
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "localhost", "::1")
            and not host.startswith("/")
        ):
            msg = f"test tried to connect to {address!r}: tests must stay on 127.0.0.1"
            raise OSError(msg)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many responses the contract tests validated against GitHub's description, per server.

    Each contract test records ``("contract:<server>", count)`` in its report's user properties,
    which pytest-xdist carries back from its workers, so the sum is right with ``-n`` too.
    """
    counts: dict[str, int] = {}
    failed = 0
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for key, value in getattr(report, "user_properties", ()):
                if isinstance(key, str) and key.startswith("contract:"):
                    name = key.removeprefix("contract:")
                    counts[name] = counts.get(name, 0) + int(value)
                    failed += outcome == "failed"
    if counts:
        from tests.contracts.contract import load_extract

        source = load_extract()["source"]
        detail = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        verdict = (
            f"{failed} contract test(s) found schema errors (see the failures above)"
            if failed
            else "0 schema errors outside the documented errata"
        )
        terminalreporter.write_sep("-", "contract")
        terminalreporter.write_line(
            f"{sum(counts.values())} responses validated against {source['package']} {source['version']} "
            f"({detail}): {verdict}"
        )
