"""How an emulator behaves: its projects, tokens, limits and faults, plus the demo preset."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pytest_ghseed.emulator.data import Project
from pytest_ghseed.emulator.synthetic import ProjectSpec

SecondaryVariant = Literal["retry-after", "reset", "none"]
#: How an exhausted GraphQL budget is reported: GitHub's long-standing ``"type": "RATE_LIMITED"``, or
#: the newer ``"type": "RATE_LIMIT", "code": "graphql_rate_limit"``.
GraphqlRateLimitType = Literal["RATE_LIMITED", "RATE_LIMIT"]

#: The demo's fixed tokens: two users, and one of them holds two tokens (which share one budget).
DEMO_TOKENS: dict[str, str] = {
    "ghseed-demo-alice-1": "alice",
    "ghseed-demo-alice-2": "alice",
    "ghseed-demo-bob": "bob",
}


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything an emulator serves and enforces; durations are in seconds (fractions allowed)."""

    #: Synthetic specs, or ready projects (for example recorded data loaded with ``Project.from_raw``).
    projects: tuple[ProjectSpec | Project, ...] = ()
    #: token -> user login; tokens of one user share one primary budget and one secondary state.
    tokens: Mapping[str, str] = field(default_factory=dict)
    #: Accept any other token too, as this user (``ghseed serve``: read-only and local, so a client's
    #: own GITHUB_TOKEN works as it is). None: unknown tokens get 401 Bad credentials, as on GitHub.
    any_token_user: str | None = None
    #: Serve the repository-wide comment lists (``/pulls/comments``, ``/issues/comments``); off, they
    #: answer 404 like servers that lack them (some GitHub Enterprise versions, proxies).
    repo_comment_lists: bool = True
    primary_limit: int = 5000
    window_seconds: float = 3600.0
    unauthenticated_limit: int = 60
    primary_status: int = 403
    secondary_max_concurrent: int | None = None
    secondary_max_requests: int | None = None
    secondary_window_seconds: float = 60.0
    secondary_block_seconds: float = 60.0
    secondary_variant: SecondaryVariant = "retry-after"
    secondary_status: int = 403
    #: A request arriving this soon after a refusal went out was already on its way: sent by another
    #: thread of the client before the refusal could be read and acted on (on a real network, GitHub
    #: cannot tell either within a round trip). It is refused but not counted as a violation. 50 ms
    #: is a short round trip, and covers a loaded machine where client and emulator share one process.
    violation_grace_seconds: float = 0.05
    #: Serve GitHub's GraphQL API (``POST /graphql``); off, it answers 404 like servers without it
    #: (proxies, older GitHub Enterprise versions).
    graphql: bool = True
    #: GraphQL's primary budget per user and window, in points (GitHub: 5,000 an hour, beside REST's).
    graphql_limit: int = 5000
    graphql_rate_limit_type: GraphqlRateLimitType = "RATE_LIMITED"
    #: GraphQL's secondary limit: points per ``secondary_window_seconds`` and user, where a query
    #: weighs 1 and a mutation 5 (GitHub: 2,000 a minute); None turns it off.
    graphql_secondary_points: int | None = 2000
    #: Answer a GraphQL query whose connections return more nodes than this with GitHub's timeout
    #: (502, "Something went wrong while executing your query..."); None: never.
    graphql_timeout_nodes: int | None = None
    fault_5xx_rate: float = 0.0
    latency_seconds: float = 0.0
    fault_seed: int = 0
    host: str = "127.0.0.1"
    port: int = 0


def demo_config(**overrides: Any) -> EmulatorConfig:
    """The demo: repository ``ghseed/demo`` with ~60 pull requests, the demo tokens, mild limits."""
    base = EmulatorConfig(
        projects=(ProjectSpec("ghseed/demo", n_prs=60, seed=20240101, extremes=True),),
        tokens=dict(DEMO_TOKENS),
        primary_limit=5000,
        window_seconds=3600.0,
        # Mild but real: a client that floods one account gets told to slow down, briefly.
        secondary_max_concurrent=20,
        secondary_block_seconds=5.0,
    )
    return replace(base, **overrides)
