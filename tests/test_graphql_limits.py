"""GraphQL's price and limits in the emulator: GitHub's cost rules, its own budget, and each refusal."""

from __future__ import annotations

import time

import pytest
from graphql import get_operation_ast, parse

from pytest_ghseed.emulator import start
from pytest_ghseed.emulator.graphql.cost import analyze
from pytest_ghseed.emulator.synthetic import login_id
from tests.helpers import data, get, post, small_config

# GitHub's worked examples, as written in "Rate limits and query limits for the GraphQL API".
DOCS_SCORE_EXAMPLE = """query {
  viewer {
    login
    repositories(first: 100) {
      edges { node { id
          issues(first: 50) { edges { node { id
                labels(first: 60) { edges { node { id name } } } } } } } } } } }"""
DOCS_SIMPLE_NODES = """query { viewer { repositories(first: 50) { edges { repository:node { name
  issues(first: 10) { totalCount edges { node { title bodyHTML } } } } } } } }"""
DOCS_COMPLEX_NODES = """query { viewer {
  repositories(first: 50) { edges { repository:node { name
    pullRequests(first: 20) { edges { pullRequest:node { title
      comments(first: 10) { edges { comment:node { bodyHTML } } } } } }
    issues(first: 20) { totalCount edges { issue:node { title bodyHTML
      comments(first: 10) { edges { comment:node { bodyHTML } } } } } } } } }
  followers(first: 10) { edges { follower:node { login } } } } }"""

#: The first docs example's shape in the subset the emulator serves: 1 + 100 + 5,000 requests -> 51 points.
TWIN = """query { repository(owner: "ghseed", name: "demo") {
  pullRequests(first: 100) { nodes { reviews(first: 50) { nodes {
    comments(first: 60) { nodes { fullDatabaseId } } } } } } }
  rateLimit { cost nodeCount limit remaining used } }"""
CHEAP = "query { viewer { login } }"


def price(query: str) -> tuple[int, int, int]:
    """(requests, nodes, points) of a query by the emulator's cost rules."""
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    analysis = analyze(document, operation)
    return analysis.requests, analysis.nodes, analysis.cost


def test_cost_of_githubs_documented_examples() -> None:
    """GitHub's examples come out as its docs say: 5,101 requests = 51 points; 550 and 22,060 nodes."""
    assert price(DOCS_SCORE_EXAMPLE)[0::2] == (5101, 51)
    assert price(DOCS_SIMPLE_NODES)[1] == 550
    assert price(DOCS_COMPLEX_NODES)[1] == 22060


@pytest.mark.parametrize(
    ("first", "requests", "points"),
    [(1, 2, 1), (48, 49, 1), (148, 149, 1), (149, 150, 2), (249, 250, 3)],
)
def test_points_round_to_nearest_with_a_minimum_of_one(first: int, requests: int, points: int) -> None:
    """requests / 100 rounds to the nearest whole number (halves up), never below 1."""
    repos = " ".join(f"r{i}: repositories(first: 1) {{ nodes {{ id }} }}" for i in range(first))
    query = f"query {{ viewer {{ repositories(first: 1) {{ nodes {{ id }} }} {repos} }} }}"
    assert price(query)[0::2] == (requests, points)


def test_cost_and_headers_over_http_follow_githubs_rules() -> None:
    """The docs example's twin costs 51 points, reported by rateLimit and charged in graphql's headers."""
    with start(small_config(n_prs=20)) as emu:
        response = post(emu, TWIN)
        rate = data(response)["rateLimit"]
        assert (rate["cost"], rate["nodeCount"]) == (51, 305100)
        assert (rate["limit"], rate["used"], rate["remaining"]) == (5000, 51, 4949)
        headers = response.headers
        assert headers["x-ratelimit-resource"] == "graphql"
        assert (headers["x-ratelimit-used"], headers["x-ratelimit-remaining"]) == ("51", "4949")
        assert emu.stats.graphql_points == 51


def test_graphql_budget_is_separate_from_rest() -> None:
    """REST requests spend core, GraphQL queries spend graphql; /rate_limit shows both apart."""
    with start(small_config()) as emu:
        rest = get(f"{emu.base_url}/repos/ghseed/demo/pulls", token="tok-a")
        assert rest.headers["x-ratelimit-resource"] == "core" and rest.headers["x-ratelimit-used"] == "1"
        graphql = post(emu, TWIN, token="tok-b")  # tok-b is alice too: one user, one budget per resource
        assert graphql.headers["x-ratelimit-used"] == "51"
        resources = get(f"{emu.base_url}/rate_limit", token="tok-a").json()["resources"]
        assert (resources["core"]["used"], resources["graphql"]["used"]) == (1, 51)
        assert resources["graphql"]["remaining"] == 5000 - 51
        assert get(f"{emu.base_url}/rate_limit", token="tok-c").json()["resources"]["graphql"]["used"] == 0


def test_a_rate_limit_only_query_is_not_charged() -> None:
    """``query { rateLimit { ... } }`` reports its cost but charges nothing, as GitHub's rate-limit checks."""
    with start(small_config()) as emu:
        for _ in range(3):
            rate = data(post(emu, "query { rateLimit { cost used remaining } }"))["rateLimit"]
            assert rate == {"cost": 1, "used": 0, "remaining": 5000}


def test_node_limit_errors_as_github_words_them() -> None:
    """Over 500,000 nodes: GitHub's two MAX_NODE_LIMIT_EXCEEDED messages, and nothing charged."""
    with start(small_config()) as emu:
        one_connection = (
            'query { repository(owner: "ghseed", name: "demo") { pullRequests(first: 100) { nodes {'
            " reviews(first: 100) { nodes { comments(first: 100) { nodes { fullDatabaseId } } } } } } } }"
        )
        body = post(emu, one_connection).json()
        assert body["errors"][0]["type"] == "MAX_NODE_LIMIT_EXCEEDED"
        assert body["errors"][0]["message"] == (
            "By the time this query traverses to the comments connection, it is requesting up to 1,000,000 "
            "possible nodes which exceeds the maximum limit of 500,000."
        )
        in_total = (
            'query { repository(owner: "ghseed", name: "demo") { pullRequests(first: 100) { nodes {'
            " reviews(first: 100) { nodes { comments(first: 50) { nodes { fullDatabaseId } } } }"
            " reviewThreads(first: 100) { nodes { comments(first: 50) { nodes { fullDatabaseId } } } } } } } }"
        )
        response = post(emu, in_total)
        assert response.json() == {
            "errors": [
                {
                    "type": "MAX_NODE_LIMIT_EXCEEDED",
                    "message": "This query requests up to 1,020,100 possible nodes which exceeds the maximum "
                    "limit of 500,000.",
                }
            ]
        }
        assert response.headers["x-ratelimit-used"] == "0"


@pytest.mark.parametrize("kind", ["RATE_LIMITED", "RATE_LIMIT"])
def test_an_exhausted_budget_answers_200_with_githubs_error(kind: str) -> None:
    """Past the budget: HTTP 200 and RATE_LIMITED (or the newer RATE_LIMIT form); a query that fits still runs."""
    with start(small_config(n_prs=20, graphql_limit=60, graphql_rate_limit_type=kind)) as emu:
        assert data(post(emu, TWIN))["rateLimit"]["remaining"] == 9
        refused = post(emu, TWIN)
        assert refused.status_code == 200 and refused.headers["x-ratelimit-remaining"] == "9"
        user = login_id("alice")
        if kind == "RATE_LIMITED":
            expected = {"type": "RATE_LIMITED", "message": f"API rate limit exceeded for user ID {user}."}
        else:
            expected = {
                "type": "RATE_LIMIT",
                "code": "graphql_rate_limit",
                "message": f"API rate limit already exceeded for user ID {user}.",
            }
        assert refused.json() == {"errors": [expected]}
        for _ in range(9):
            data(post(emu, CHEAP))
        empty = post(emu, CHEAP)
        assert empty.json() == {"errors": [expected]} and empty.headers["x-ratelimit-remaining"] == "0"
        assert emu.stats.violations == 0  # within a round trip of the answer that said remaining 0
        time.sleep(2 * emu.config.violation_grace_seconds)
        assert post(emu, CHEAP).json() == {"errors": [expected]}
        assert emu.stats.violations == 1  # sent well after being told: the client ignored it
        assert data(post(emu, CHEAP, token="tok-c")) == {"viewer": {"login": "bob"}}


def test_the_graphql_window_resets() -> None:
    """After the window the budget is whole again (window of 1 s here)."""
    with start(small_config(graphql_limit=1, window_seconds=1.0)) as emu:
        data(post(emu, CHEAP))
        assert post(emu, CHEAP).json()["errors"][0]["type"] == "RATE_LIMITED"
        reset = int(post(emu, CHEAP).headers["x-ratelimit-reset"])
        time.sleep(max(0.0, reset - time.time()) + 0.05)
        assert data(post(emu, CHEAP)) == {"viewer": {"login": "alice"}}


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_limit_on_points_per_minute(status: int) -> None:
    """Past the GraphQL points a minute: GitHub's secondary answer, for REST too (the block is the account's)."""
    config = small_config(graphql_secondary_points=3, secondary_block_seconds=30, secondary_status=status)
    with start(config) as emu:
        for _ in range(3):
            data(post(emu, CHEAP))
        refused = post(emu, CHEAP)
        assert refused.status_code == status
        assert refused.json()["message"].startswith("You have exceeded a secondary rate limit.")
        assert refused.headers["retry-after"] == "30"
        assert refused.headers["x-ratelimit-resource"] == "graphql"
        assert get(f"{emu.base_url}/repos/ghseed/demo", token="tok-b").status_code == status
        assert data(post(emu, CHEAP, token="tok-c")) == {"viewer": {"login": "bob"}}
        # The GraphQL query that tripped the limit, and the REST request refused during the block.
        assert emu.stats.secondary_hits == 2


def test_timeout_answer_past_the_node_threshold() -> None:
    """A query whose connections return more nodes than the knob: 502 and GitHub's timeout message."""
    with start(small_config(graphql_timeout_nodes=5)) as emu:
        small = 'query { repository(owner: "ghseed", name: "demo") { pullRequests(first: 5) { nodes { number } } } }'
        assert len(data(post(emu, small))["repository"]["pullRequests"]["nodes"]) == 5
        response = post(emu, small.replace("first: 5", "first: 6"))
        request_id = response.headers["x-github-request-id"]
        assert response.status_code == 502
        assert response.json() == {
            "data": None,
            "errors": [
                {
                    "message": "Something went wrong while executing your query. This may be the result of a "
                    "timeout, or it could be a GitHub bug. Please include "
                    f"`{request_id}` when reporting this issue."
                }
            ],
        }


def test_server_faults_reach_graphql_too() -> None:
    """The 5xx fault knob applies to GraphQL as to REST."""
    with start(small_config(fault_5xx_rate=1.0)) as emu:
        assert post(emu, CHEAP).status_code in (502, 503)
