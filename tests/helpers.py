"""Helpers shared by the test suite: emulator configurations, their tokens and repositories, raw HTTP
calls, and the real GitHub sample bodies. Fixtures live in ``conftest.py``; this is plain code.

Two emulator setups, each small on purpose (the suite runs often, on 2 cores):

- ``make_config``: ``acme/widgets`` served to the fetcher, the cache and the plugin, with ``TOKENS``
  (alice holds two tokens, which share one budget; bob one). Not token-shaped on purpose: the
  scrubbing tests use token-shaped ones of their own.
- ``small_config``: ``ghseed/demo`` for the emulator's own tests, with ``EMULATOR_TOKENS``.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import requests

import pytest_ghseed.cache.cassettes as cassettes
import pytest_ghseed.checkpoint as checkpoint_module
from pytest_ghseed.emulator import Emulator, EmulatorConfig, ProjectSpec

REPO = "acme/widgets"
TOKENS = {"tok-alice-1": "alice", "tok-alice-2": "alice", "tok-bob": "bob"}

EMULATOR_REPO = "ghseed/demo"
EMULATOR_TOKENS = {"tok-a": "alice", "tok-b": "alice", "tok-c": "bob"}

SAMPLES_DIR = Path(
    os.environ.get("GHSEED_SAMPLES_DIR") or Path(__file__).resolve().parents[2] / "shared" / "github-samples"
)


def make_config(
    n_prs: int = 24, *, extremes: bool = False, seed: int = 3, **overrides: Any
) -> EmulatorConfig:
    """A small emulator config for ``REPO``; limits and faults as overridden."""
    base = EmulatorConfig(
        projects=(ProjectSpec(REPO, n_prs=n_prs, seed=seed, extremes=extremes),), tokens=TOKENS
    )
    return replace(base, **overrides)


def small_config(n_prs: int = 6, *, extremes: bool = False, **overrides: Any) -> EmulatorConfig:
    """A config with one small repository (``EMULATOR_REPO``) and ``EMULATOR_TOKENS``; limits as overridden."""
    base = EmulatorConfig(
        projects=(ProjectSpec(EMULATOR_REPO, n_prs=n_prs, seed=7, extremes=extremes),), tokens=EMULATOR_TOKENS
    )
    return replace(base, **overrides)


def get(url: str, token: str | None = "tok-a", **headers: str) -> requests.Response:
    """One GET on a fresh connection, with ``Authorization: token <token>`` unless token is None."""
    if token is not None:
        headers["Authorization"] = f"token {token}"
    return requests.get(url, headers=headers, timeout=10)


def load_sample(name: str) -> Any:
    """Parsed JSON of one real GitHub body from ``../shared/github-samples``, or skip where it is absent.

    They are public recordings (PyGithub's replay data), not copied into this repository;
    ``GHSEED_SAMPLES_DIR`` points elsewhere.
    """
    path = SAMPLES_DIR / name
    if not path.is_file():
        pytest.skip(
            f"real GitHub samples not found at {path}: they live in ../shared/github-samples beside the "
            "repository (set GHSEED_SAMPLES_DIR to point elsewhere)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


# -- GraphQL ---------------------------------------------------------------------------------------------

#: Point this at GitHub's full published schema (npm @octokit/graphql-schema: the package tarball or its
#: schema.json) to also check queries against all of it, not only against the committed extract.
FULL_SCHEMA_ENV = "GHSEED_GRAPHQL_SCHEMA"


def post(
    emu: Emulator,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = "tok-a",
    path: str = "/graphql",
) -> requests.Response:
    """One GraphQL POST on a fresh connection, as ``Authorization: bearer <token>``."""
    headers = {"Authorization": f"bearer {token}"} if token is not None else {}
    return requests.post(
        emu.base_url + path, json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
    )


def data(response: requests.Response) -> dict[str, Any]:
    """The ``data`` of a successful answer (status 200, no errors), or fail showing the answer."""
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, (response.status_code, body)
    result: dict[str, Any] = body["data"]
    return result


def full_published_schema() -> Any:
    """GitHub's whole published schema as a graphql-core schema, or skip (it is not in the repository)."""
    from graphql import build_client_schema

    from pytest_ghseed.emulator.graphql.extract import read_tarball

    location = os.environ.get(FULL_SCHEMA_ENV)
    if not location:
        pytest.skip(
            f"set {FULL_SCHEMA_ENV} to the @octokit/graphql-schema tarball or schema.json to run this"
        )
    path = Path(location)
    if path.suffix == ".tgz":
        introspection = read_tarball(path.read_bytes())[0]
    else:
        introspection = json.loads(path.read_text(encoding="utf-8"))
    # GitHub's schema fails graphql-core's own schema check (interface deprecation rules): skip it.
    return build_client_schema(introspection, assume_valid=True)


# -- the durable steps of a crawl ---------------------------------------------------------------------


@dataclass
class Durability:
    """What ``durability_of`` found: the PRs whose cassette was durable when the checkpoint counted them,
    those counted while theirs was written but not yet synced, and those counted with no cassette."""

    durable: list[int] = field(default_factory=list)
    unsynced: list[int] = field(default_factory=list)
    no_cassette: list[int] = field(default_factory=list)


def log_durable_steps(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Log a crawl's durable steps in order, from any thread, through the real functions:
    ``("cassette", file name)`` once a cassette is in place, ``("synced", None)`` once
    ``CassetteRecorder.sync``'s fsync of the folder has ended, ``("append", [PR numbers])`` as a
    checkpoint append begins."""
    steps: list[tuple[str, Any]] = []
    lock = threading.Lock()
    real_write, real_sync, real_append = (
        cassettes.atomic_write_bytes,
        cassettes.fsync_dir,
        checkpoint_module.append_durably,
    )

    def log(kind: str, what: Any) -> None:
        with lock:
            steps.append((kind, what))

    def write(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
        real_write(path, data, sync_dir=sync_dir)
        log("cassette", path.name)

    def sync(directory: Path) -> None:
        real_sync(directory)
        log("synced", None)

    def append(path: Path, payload: bytes) -> int:
        log("append", [int(n) for n in re.findall(rb'"number":(\d+)}\n', payload)])
        return real_append(path, payload)

    monkeypatch.setattr(cassettes, "atomic_write_bytes", write)
    monkeypatch.setattr(cassettes, "fsync_dir", sync)
    monkeypatch.setattr(checkpoint_module, "append_durably", append)
    return steps


def durability_of(steps: list[tuple[str, Any]]) -> Durability:
    """Judge every appended PR of ``log_durable_steps``: durable when a sync ended after its cassette's
    last write and before the append that counted it."""
    found = Durability()
    for index, (kind, numbers) in enumerate(steps):
        if kind != "append":
            continue
        before = steps[:index]
        for number in numbers:
            written = [i for i, step in enumerate(before) if step == ("cassette", f"pr-{number:06d}.json.gz")]
            if not written:
                found.no_cassette.append(number)
            elif any(step[0] == "synced" for step in before[written[-1] :]):
                found.durable.append(number)
            else:
                found.unsynced.append(number)
    return found
