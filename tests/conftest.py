"""Fixtures shared across the suite: a running emulator, and a guard against the internet."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from pytest_ghseed.emulator import Emulator, EmulatorConfig, ProjectSpec, start

# The Django integration's tests need Django configured for their whole process: test_django_contrib.py
# runs them in a subprocess with their own pytest.ini.
collect_ignore = ["django_suite"]

REPO = "acme/widgets"
#: Tokens of the shared test emulator: alice holds two (one budget), bob one. Not token-shaped on purpose
#: in most tests; the scrubbing tests use token-shaped ones.
TOKENS = {"tok-alice-1": "alice", "tok-alice-2": "alice", "tok-bob": "bob"}


def make_config(
    n_prs: int = 24, *, extremes: bool = False, seed: int = 3, **overrides: Any
) -> EmulatorConfig:
    """A small emulator config for one repository; limits and faults as overridden."""
    base = EmulatorConfig(
        projects=(ProjectSpec(REPO, n_prs=n_prs, seed=seed, extremes=extremes),), tokens=TOKENS
    )
    return replace(base, **overrides)


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
