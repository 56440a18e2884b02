"""A faithful GitHub REST API emulator for pull-request history, served over real HTTP.

Start one with :func:`start` (it is a context manager)::

    with start(EmulatorConfig(projects=(ProjectSpec("ghseed/demo", n_prs=60, seed=1),),
                              tokens={"tok-a": "alice"})) as emu:
        Github(auth=Auth.Token("tok-a"), base_url=emu.base_url)

It serves the repository, pull-request list, detail and sub-list endpoints with GitHub's
pagination, ETags, rate-limit headers, primary and secondary limits and injectable faults, and
records what clients did in :attr:`Emulator.stats`. ``POST /graphql`` answers GitHub's GraphQL API
from the same data (see :mod:`pytest_ghseed.emulator.graphql`).
"""

from pytest_ghseed.emulator.config import DEMO_TOKENS, EmulatorConfig, SecondaryVariant, demo_config
from pytest_ghseed.emulator.data import Project, RawPull
from pytest_ghseed.emulator.server import Emulator, start
from pytest_ghseed.emulator.stats import LogRecord, Stats
from pytest_ghseed.emulator.synthetic import ProjectSpec, SyntheticProject

__all__ = [
    "DEMO_TOKENS",
    "Emulator",
    "EmulatorConfig",
    "LogRecord",
    "Project",
    "ProjectSpec",
    "RawPull",
    "SecondaryVariant",
    "Stats",
    "SyntheticProject",
    "demo_config",
    "start",
]
