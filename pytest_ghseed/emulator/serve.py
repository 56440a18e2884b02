"""``ghseed serve``: a recorded project served by the emulator as a local, read-only GitHub API.

It is the emulator serving a :class:`Project` built from the cassettes, open to any client as it
is: any token is accepted (a client's own ``GITHUB_TOKEN`` too), or none, under one generous budget
that ``/rate_limit`` and the ``X-RateLimit-*`` headers report alike. The command line (``cli.py``)
only parses arguments and prints; everything else is here.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import TYPE_CHECKING

from pytest_ghseed.emulator.config import EmulatorConfig, demo_config
from pytest_ghseed.emulator.data import Project
from pytest_ghseed.emulator.server import Emulator, start
from pytest_ghseed.errors import CacheError

if TYPE_CHECKING:
    from pytest_ghseed.cache.store import ProjectStore

#: The token the command suggests; any other token, or none, is served the same.
SERVE_TOKEN = "ghseed-serve"
#: The account every token is served as (``GET /user``).
SERVE_USER = "ghseed"
#: Requests per window, with a token or without: generous, as a local read-only server can be.
SERVE_LIMIT = 100_000


def serve_config(project: Project, host: str = "127.0.0.1", port: int = 0) -> EmulatorConfig:
    """How a recorded project is served: any token or none, one generous budget for REST and GraphQL."""
    return EmulatorConfig(
        projects=(project,),
        tokens={SERVE_TOKEN: SERVE_USER},
        any_token_user=SERVE_USER,
        primary_limit=SERVE_LIMIT,
        unauthenticated_limit=SERVE_LIMIT,
        graphql_limit=SERVE_LIMIT,
        graphql_secondary_points=None,
        host=host,
        port=port,
    )


def recorded_project(store: ProjectStore) -> Project:
    """The project a cache holds, rebuilt from its cassettes (the last answer of each resource).

    Only the PRs in the snapshot are kept when it can be read, so clients see what the fixtures
    see; :meth:`Project.from_raw` fills what older recordings lack. PRs recorded through GraphQL are
    turned back into REST's bodies (:mod:`recorded`): the emulator answers both APIs from those.
    """
    from pytest_ghseed.cache.graphql_rebuild import recorded_pulls
    from pytest_ghseed.cache.rebuild import raw_from_cassettes
    from pytest_ghseed.emulator.recorded import rest_pull

    raw = raw_from_cassettes(store)
    graphql: set[int] = set()
    with contextlib.suppress(CacheError):
        graphql = set(store.read_metadata().graphql)
    pulls = [pull for pull in raw.pulls if int(pull["detail"]["number"]) not in graphql]
    for number, pull in recorded_pulls(store, graphql).items():
        try:
            pulls.append(rest_pull(pull.node, pull.rest_files, raw.repo))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = (
                f"the recorded GraphQL answers of PR #{number} in {store.cassette_dir} cannot be served "
                f"({exc.__class__.__name__}: {str(exc)[:200]}); run `ghseed verify`, or fetch it again"
            )
            raise CacheError(msg) from None
    pulls.sort(key=lambda pull: int(pull["detail"]["number"]))
    if store.snapshot_path.is_file():
        with contextlib.suppress(CacheError):
            wanted = {pr.number for pr in store.read_snapshot().prs}
            pulls = [pull for pull in pulls if int(pull["detail"]["number"]) in wanted]
    return Project.from_raw(raw.repo, pulls)


def serve_project(store: ProjectStore | None, host: str = "127.0.0.1", port: int = 0) -> Emulator:
    """Start serving a cached project (``None``: the built-in demo) as a GitHub API (REST, and the
    GraphQL subset); return it running."""
    if store is None:
        base = demo_config(host=host, port=port)
        return start(
            replace(
                base,
                tokens={**base.tokens, SERVE_TOKEN: SERVE_USER},
                any_token_user=SERVE_USER,
                primary_limit=SERVE_LIMIT,
                unauthenticated_limit=SERVE_LIMIT,
                graphql_limit=SERVE_LIMIT,
                graphql_secondary_points=None,
            )
        )
    return start(serve_config(recorded_project(store), host, port))
