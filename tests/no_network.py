"""A pytest plugin that runs a suite as a user's CI replays a committed recording: with no network at all.

``.ci/run`` loads it into the example suite (``python -m pytest examples ... -p tests.no_network``). Every
connection the run attempts is refused (``pytest_ghseed.network.network_blocked``), and the run fails at
its end if any was attempted, even one that some code caught and ignored: a replay that would have made
a request fails CI instead of passing by luck.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_ghseed.network import network_blocked

_BLOCK = pytest.StashKey[tuple[Any, list[object]]]()
MESSAGE = "network blocked by tests.no_network: this run replays a committed recording and must not connect"


def pytest_configure(config: pytest.Config) -> None:
    block = network_blocked(MESSAGE)
    config.stash[_BLOCK] = (block, block.__enter__())


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    _, attempts = session.config.stash[_BLOCK]
    if attempts:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    _, attempts = config.stash[_BLOCK]
    if attempts:
        terminalreporter.section("no network")
        shown = ", ".join(repr(address) for address in attempts[:5])
        terminalreporter.write_line(
            f"FAILED: {len(attempts)} connection(s) attempted in a run that must not connect: {shown}"
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    block, _ = config.stash[_BLOCK]
    block.__exit__(None, None, None)
