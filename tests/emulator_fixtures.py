"""Helpers shared by the emulator's tests: small configs, raw HTTP calls, a PyGithub client."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import requests

from pytest_ghseed.emulator import EmulatorConfig, ProjectSpec

REPO = "ghseed/demo"
TOKENS = {"tok-a": "alice", "tok-b": "alice", "tok-c": "bob"}


def small_config(n_prs: int = 6, *, extremes: bool = False, **overrides: Any) -> EmulatorConfig:
    """A config with one small repository and the three test tokens; limits as overridden."""
    base = EmulatorConfig(
        projects=(ProjectSpec(REPO, n_prs=n_prs, seed=7, extremes=extremes),), tokens=TOKENS
    )
    return replace(base, **overrides)


def get(url: str, token: str | None = "tok-a", **headers: str) -> requests.Response:
    """One GET on a fresh connection, with ``Authorization: token <token>`` unless token is None."""
    if token is not None:
        headers["Authorization"] = f"token {token}"
    return requests.get(url, headers=headers, timeout=10)
