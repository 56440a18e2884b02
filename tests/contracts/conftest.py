"""One emulator and one ``ghseed serve`` of its recording per module: the subjects of the contract tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_ghseed import seed
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.emulator import Emulator, EmulatorConfig, ProjectSpec, start
from pytest_ghseed.emulator.serve import serve_project
from pytest_ghseed.models import FetchParams, Snapshot
from pytest_ghseed.projects import resolve_project

REPO = "acme/widgets"
TOKEN = "tok-contract"


def random_token() -> str:
    """A token no server was told about, shaped like a user's own."""
    return f"ghp_{secrets.token_hex(18)}"


def small_emulator(n_prs: int = 20, **overrides: object) -> Emulator:
    """A small synthetic repository: enough PRs for nulls, empty lists and several pages."""
    config = EmulatorConfig(
        projects=(ProjectSpec(REPO, n_prs=n_prs, seed=3, extremes=False),),
        tokens={TOKEN: "alice"},
        **overrides,  # type: ignore[arg-type]
    )
    return start(config)


@dataclass(frozen=True)
class Served:
    """A recorded project being served, with the snapshot it was recorded as."""

    server: Emulator
    snapshot: Snapshot
    store: ProjectStore


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """The synthetic emulator of the module."""
    with small_emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def served(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``ghseed serve`` of a crawl of the module's emulator (recorded through the real fetcher)."""
    cache_dir: Path = tmp_path_factory.mktemp("serve-cache")
    project = resolve_project(REPO)
    result = seed.ensure(
        project,
        cache_dir,
        FetchParams(max_prs=None),
        options=seed.FetchOptions(base_url=emulator.base_url, tokens=[TOKEN], workers=4),
    )
    store = ProjectStore(cache_dir, project.folder)
    with serve_project(store) as server:
        yield Served(server, result.snapshot, store)
