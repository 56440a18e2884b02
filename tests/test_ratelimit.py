"""The retry policy, checked against a table of real GitHub failure answers."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from email.utils import formatdate
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ghseed.fetch.ratelimit import (
    Action,
    Decision,
    RateInfo,
    Reason,
    RetryPolicy,
    decide,
    is_primary_rate_limit,
    is_secondary_rate_limit,
    parse_rate_headers,
)

NOW = 1_700_000_000.0

# Messages as GitHub sends them (the request IDs are made up, in GitHub's format).
SECONDARY_NEW = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you "
    "reach out to GitHub Support for help, please include the request ID C2A4:3B7E:1A2B3C4:1D2E3F4:6560F0A1."
)
SECONDARY_NEW_BODY = {
    "message": SECONDARY_NEW,
    "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
}
ABUSE_OLD = "You have triggered an abuse detection mechanism. Please wait a few minutes before you try again."
ABUSE_OLD_BODY = {
    "message": ABUSE_OLD,
    "documentation_url": "https://developer.github.com/v3/#abuse-rate-limits",
}
ABUSE_CREATION = (
    "You have triggered an abuse detection mechanism and have been temporarily blocked from content "
    "creation. Please retry your request again later."
)
PRIMARY_USER_BODY = {
    "message": "API rate limit exceeded for user ID 583231. If you reach out to GitHub Support for help, "
    "please include the request ID 9E1C:7B7A:2B41D5:2C8F1B:65F0A1B2.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
}
PRIMARY_IP_BODY = {
    "message": "API rate limit exceeded for 203.0.113.7. (But here's the good news: Authenticated requests "
    "get a higher rate limit. Check out the documentation for more details.)",
    "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
}
NOT_ACCESSIBLE_INTEGRATION = {
    "message": "Resource not accessible by integration",
    "documentation_url": "https://docs.github.com/rest/pulls/pulls#get-a-pull-request",
    "status": "403",
}
NOT_ACCESSIBLE_PAT = {
    "message": "Resource not accessible by personal access token",
    "documentation_url": "https://docs.github.com/rest/pulls/pulls#list-pull-requests",
    "status": "403",
}
ADMIN_RIGHTS = {
    "message": "Must have admin rights to Repository.",
    "documentation_url": "https://docs.github.com/rest",
}
BAD_CREDENTIALS = {
    "message": "Bad credentials",
    "documentation_url": "https://docs.github.com/rest",
    "status": "401",
}
NOT_FOUND = {
    "message": "Not Found",
    "documentation_url": "https://docs.github.com/rest/pulls/pulls#get-a-pull-request",
    "status": "404",
}
VALIDATION_FAILED = {
    "message": "Validation Failed",
    "errors": [{"resource": "Search", "field": "q", "code": "invalid"}],
    "documentation_url": "https://docs.github.com/v3/search/",
}

# GraphQL's answers (docs: "Rate limits and query limits for the GraphQL API"), as GitHub words them.
GRAPHQL_RATE_LIMITED = {
    "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 583231."}]
}
GRAPHQL_RATE_LIMIT = {
    "errors": [
        {
            "type": "RATE_LIMIT",
            "code": "graphql_rate_limit",
            "message": "API rate limit already exceeded for user ID 583231.",
        }
    ]
}
GRAPHQL_TIMEOUT = {
    "data": None,
    "errors": [
        {
            "message": "Something went wrong while executing your query. This may be the result of a timeout, "
            "or it could be a GitHub bug. Please include `C2A4:3B7E:1A2B3C4:1D2E3F4:6560F0A1` when reporting "
            "this issue."
        }
    ],
}
GRAPHQL_INVALID = {
    "errors": [
        {
            "path": ["query", "repository", "nope"],
            "extensions": {"code": "undefinedField", "typeName": "Repository", "fieldName": "nope"},
            "locations": [{"line": 1, "column": 30}],
            "message": "Field 'nope' doesn't exist on type 'Repository'",
        }
    ]
}

DEFAULT = RetryPolicy(jitter=0.0)
FAST = RetryPolicy(min_secondary_wait=0.05, backoff_base=0.01, backoff_max=10.0, jitter=0.0)


def rate(remaining: int, reset_in: float, *, style: str = "lower", resource: str = "core") -> dict[str, str]:
    """Primary-limit headers as GitHub sends them, in lower case (HTTP/2) or canonical case."""
    headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-used": str(5000 - remaining),
        "x-ratelimit-reset": str(int(NOW + reset_in)),
        "x-ratelimit-resource": resource,
    }
    if style == "canonical":
        return {
            "-".join(p.capitalize() for p in k.split("-")).replace("Ratelimit", "RateLimit"): v
            for k, v in headers.items()
        }
    if style == "upper":
        return {k.upper(): v for k, v in headers.items()}
    return headers


def http_date(seconds_ahead: int) -> str:
    """An RFC 7231 HTTP-date ``seconds_ahead`` of NOW."""
    return formatdate(NOW + seconds_ahead, usegmt=True)


R, F = Action.RETRY, Action.FATAL
U, Q = "user", "request"
PRIMARY, SECONDARY = Reason.PRIMARY, Reason.SECONDARY
SERVER_ERROR, CONNECTION, PERMISSION = Reason.SERVER_ERROR, Reason.CONNECTION, Reason.PERMISSION
BAD_CREDENTIALS_R, NOT_FOUND_R, CLIENT_ERROR = Reason.BAD_CREDENTIALS, Reason.NOT_FOUND, Reason.CLIENT_ERROR


def case(
    name: str,
    status: int | None,
    headers: Mapping[str, str],
    body: object,
    expect: tuple[Action, Reason, float, str],
    *,
    attempt: int = 0,
    policy: RetryPolicy = DEFAULT,
) -> Any:
    """One table row: a failed answer and (action, reason, wait, scope); ``now`` is always NOW."""
    return pytest.param(status, headers, body, attempt, policy, *expect, id=name)


TABLE = [
    # -- Retry-After present: wait exactly that long, whatever else is said.
    case(
        "403-new-secondary-retry-after",
        403,
        {"retry-after": "3", **rate(4312, 3000)},
        SECONDARY_NEW_BODY,
        (R, SECONDARY, 3.0, U),
    ),
    case(
        "429-new-secondary-Retry-After",
        429,
        {"Retry-After": "60", **rate(4312, 3000, style="canonical")},
        SECONDARY_NEW_BODY,
        (R, SECONDARY, 60.0, U),
    ),
    case("403-old-abuse-retry-after", 403, {"Retry-After": "30"}, ABUSE_OLD_BODY, (R, SECONDARY, 30.0, U)),
    case(
        "403-retry-after-http-date",
        403,
        {"Retry-After": http_date(90)},
        SECONDARY_NEW_BODY,
        (R, SECONDARY, 90.0, U),
    ),
    case(
        "403-retry-after-http-date-past",
        403,
        {"Retry-After": http_date(-30)},
        SECONDARY_NEW_BODY,
        (R, SECONDARY, 0.0, U),
    ),
    case("429-bare-retry-after", 429, {"RETRY-AFTER": "17"}, None, (R, SECONDARY, 17.0, U)),
    case(
        "403-retry-after-on-exhausted-primary",
        403,
        {"retry-after": "42", **rate(0, 900)},
        PRIMARY_USER_BODY,
        (R, PRIMARY, 42.0, U),
    ),
    case(
        "403-retry-after-ignores-backoff-on-attempt-3",
        403,
        {"retry-after": "5"},
        SECONDARY_NEW_BODY,
        (R, SECONDARY, 5.0, U),
        attempt=3,
    ),
    # -- remaining == 0: wait until the reset plus a margin.
    case("403-primary-user", 403, rate(0, 1200), PRIMARY_USER_BODY, (R, PRIMARY, 1201.0, U)),
    case(
        "429-primary-ip-canonical-headers",
        429,
        rate(0, 30, style="canonical"),
        PRIMARY_IP_BODY,
        (R, PRIMARY, 31.0, U),
    ),
    case(
        "403-primary-upper-case-headers",
        403,
        rate(0, 59, style="upper"),
        PRIMARY_USER_BODY,
        (R, PRIMARY, 60.0, U),
    ),
    case("403-primary-reset-passed-clock-skew", 403, rate(0, -5), PRIMARY_USER_BODY, (R, PRIMARY, 1.0, U)),
    case(
        "403-primary-reset-passed-again-backs-off",
        403,
        rate(0, -5),
        PRIMARY_USER_BODY,
        (R, PRIMARY, 4.0, U),
        attempt=2,
    ),
    case(
        "403-primary-message-without-remaining",
        403,
        {"x-ratelimit-reset": str(int(NOW + 100))},
        PRIMARY_USER_BODY,
        (R, PRIMARY, 101.0, U),
    ),
    case("403-primary-gives-up", 403, rate(0, -5), PRIMARY_USER_BODY, (F, PRIMARY, 0.0, U), attempt=6),
    # -- secondary message without Retry-After: a minute, then exponential back-off, then give up.
    case(
        "403-new-secondary-far-reset-ignored",
        403,
        rate(4312, 3000),
        SECONDARY_NEW_BODY,
        (R, SECONDARY, 60.0, U),
    ),
    case(
        "403-new-secondary-reset-60s-ahead", 403, rate(4312, 60), SECONDARY_NEW_BODY, (R, SECONDARY, 61.0, U)
    ),
    case(
        "429-new-secondary-reset-90s-ahead",
        429,
        rate(4000, 90, style="canonical"),
        SECONDARY_NEW_BODY,
        (R, SECONDARY, 91.0, U),
    ),
    case("403-new-secondary-no-hint", 403, {}, SECONDARY_NEW_BODY, (R, SECONDARY, 60.0, U)),
    case("403-old-abuse-as-bytes", 403, rate(4999, 3500), ABUSE_OLD.encode(), (R, SECONDARY, 60.0, U)),
    case(
        "403-abuse-creation-as-json-text",
        403,
        {},
        json.dumps({"message": ABUSE_CREATION}),
        (R, SECONDARY, 60.0, U),
    ),
    case("403-secondary-lower-case-message", 403, {}, SECONDARY_NEW.lower(), (R, SECONDARY, 60.0, U)),
    case(
        "403-secondary-with-remaining-0-waits-for-reset",
        403,
        rate(0, 200),
        SECONDARY_NEW_BODY,
        (R, SECONDARY, 201.0, U),
    ),
    case("429-no-hint-no-message-is-secondary", 429, {}, None, (R, SECONDARY, 60.0, U)),
    case("403-secondary-attempt-1-capped", 403, {}, SECONDARY_NEW_BODY, (R, SECONDARY, 120.0, U), attempt=1),
    case(
        "403-secondary-attempt-2-fast",
        403,
        {},
        SECONDARY_NEW_BODY,
        (R, SECONDARY, 0.2, U),
        attempt=2,
        policy=FAST,
    ),
    case(
        "429-secondary-attempt-5-fast",
        429,
        {},
        {"message": ""},
        (R, SECONDARY, 1.6, U),
        attempt=5,
        policy=FAST,
    ),
    case("403-secondary-gives-up", 403, {}, SECONDARY_NEW_BODY, (F, SECONDARY, 0.0, U), attempt=6),
    case(
        "429-secondary-gives-up-with-retry-after",
        429,
        {"retry-after": "3"},
        None,
        (F, SECONDARY, 0.0, U),
        attempt=6,
        policy=FAST,
    ),
    # -- 403 that is no rate limit: permission, never retried.
    case(
        "403-not-accessible-by-integration",
        403,
        rate(4990, 3000),
        NOT_ACCESSIBLE_INTEGRATION,
        (F, PERMISSION, 0.0, Q),
    ),
    case(
        "403-not-accessible-by-pat-last-unit", 403, rate(0, 3000), NOT_ACCESSIBLE_PAT, (F, PERMISSION, 0.0, Q)
    ),
    case("403-admin-rights", 403, rate(4990, 3000), ADMIN_RIGHTS, (F, PERMISSION, 0.0, Q)),
    case("403-plain-no-body", 403, {}, None, (F, PERMISSION, 0.0, Q)),
    # -- other client errors.
    case("401-bad-credentials", 401, rate(59, 3000), BAD_CREDENTIALS, (F, BAD_CREDENTIALS_R, 0.0, Q)),
    case("404-not-found", 404, rate(4990, 3000), NOT_FOUND, (F, NOT_FOUND_R, 0.0, Q)),
    case("422-validation-failed", 422, {}, VALIDATION_FAILED, (F, CLIENT_ERROR, 0.0, Q)),
    # -- server and connection errors: only this request backs off.
    case(
        "502-first", 502, {}, "<html><body><h1>502 Bad Gateway</h1></body></html>", (R, SERVER_ERROR, 1.0, Q)
    ),
    case("500-attempt-3", 500, {}, {"message": "Server Error"}, (R, SERVER_ERROR, 8.0, Q), attempt=3),
    case(
        "503-capped",
        503,
        {},
        None,
        (R, SERVER_ERROR, 20.0, Q),
        attempt=5,
        policy=RetryPolicy(backoff_max=20.0, jitter=0.0),
    ),
    case("503-retry-after", 503, {"Retry-After": "7"}, None, (R, SERVER_ERROR, 7.0, Q)),
    case("500-gives-up", 500, {}, None, (F, SERVER_ERROR, 0.0, Q), attempt=6),
    # -- 202: GitHub is still computing the answer; back off like a 5xx, bounded the same way.
    case("202-not-ready", 202, {}, "", (R, Reason.NOT_READY, 1.0, Q)),
    case("202-retry-after", 202, {"Retry-After": "5"}, "", (R, Reason.NOT_READY, 5.0, Q)),
    case("202-gives-up", 202, {}, "", (F, Reason.NOT_READY, 0.0, Q), attempt=6),
    # -- a redirect that reached the policy has no Location: not GitHub's API.
    case("302-without-location", 302, {}, "", (F, CLIENT_ERROR, 0.0, Q)),
    # -- GraphQL: a spent budget is HTTP 200 with errors (both of GitHub's wordings); a timeout is a 502.
    case(
        "graphql-200-rate-limited-waits-for-reset",
        200,
        rate(0, 600, resource="graphql"),
        GRAPHQL_RATE_LIMITED,
        (R, PRIMARY, 601.0, U),
    ),
    case(
        "graphql-200-rate-limit-newer-wording-as-text",
        200,
        rate(0, 30, resource="graphql", style="canonical"),
        json.dumps(GRAPHQL_RATE_LIMIT),
        (R, PRIMARY, 31.0, U),
    ),
    case(
        "graphql-200-rate-limited-gives-up",
        200,
        rate(0, -5, resource="graphql"),
        GRAPHQL_RATE_LIMITED,
        (F, PRIMARY, 0.0, U),
        attempt=6,
    ),
    case("graphql-200-invalid-query-is-fatal", 200, {}, GRAPHQL_INVALID, (F, CLIENT_ERROR, 0.0, Q)),
    case(
        "graphql-403-secondary",
        403,
        {"retry-after": "60", **rate(4000, 3000, resource="graphql")},
        SECONDARY_NEW_BODY,
        (R, SECONDARY, 60.0, U),
    ),
    case("graphql-502-timeout", 502, {}, GRAPHQL_TIMEOUT, (R, Reason.TIMEOUT, 1.0, Q)),
    case("graphql-502-timeout-gives-up", 502, {}, GRAPHQL_TIMEOUT, (F, Reason.TIMEOUT, 0.0, Q), attempt=6),
    case("connection-first", None, {}, None, (R, CONNECTION, 1.0, Q)),
    case("connection-attempt-2", None, {}, None, (R, CONNECTION, 4.0, Q), attempt=2),
    case("connection-gives-up", None, {}, None, (F, CONNECTION, 0.0, Q), attempt=6),
]


@pytest.mark.parametrize(
    ("status", "headers", "body", "attempt", "policy", "action", "reason", "wait", "scope"), TABLE
)
def test_decision_table(
    status: int | None,
    headers: Mapping[str, str],
    body: object,
    attempt: int,
    policy: RetryPolicy,
    action: Action,
    reason: Reason,
    wait: float,
    scope: str,
) -> None:
    """Each recorded GitHub failure gets the documented action, reason, wait and scope."""
    decision = decide(status, headers, body, now=NOW, attempt=attempt, policy=policy, rng=random.Random(0))
    assert (decision.action, decision.reason, decision.scope) == (action, reason, scope)
    assert decision.wait == pytest.approx(wait, abs=1.0 if wait >= 10 else 1e-6)
    assert decision.message


def test_table_is_large_enough_and_covers_every_reason() -> None:
    """The table keeps covering every reason and both rate-limit statuses."""
    assert len(TABLE) >= 25
    assert {row.values[6] for row in TABLE} == set(Reason)
    assert {row.values[0] for row in TABLE} >= {403, 429, 401, 404, 500, 502, 503, None}


def test_secondary_fatal_message_says_what_and_next_step() -> None:
    """Giving up on secondary limits names the count, GitHub's ask and the next step."""
    decision = decide(403, {"Retry-After": "60"}, SECONDARY_NEW_BODY, now=NOW, attempt=6)
    assert decision.action is Action.FATAL
    assert "gave up after 6 secondary rate limits" in decision.message
    assert "Retry-After 60s" in decision.message
    assert "reduce --workers or retry later" in decision.message


def test_retry_message_is_short_and_names_the_hint() -> None:
    """A retry message reads like 'secondary rate limit: Retry-After 3s; ...'."""
    decision = decide(403, {"retry-after": "3"}, SECONDARY_NEW_BODY, now=NOW, attempt=0)
    assert decision.message.startswith("secondary rate limit: Retry-After 3s")


def test_permission_message_echoes_github_and_says_next_step() -> None:
    """A permission error quotes GitHub's message and says which token access is missing."""
    decision = decide(403, {}, NOT_ACCESSIBLE_PAT, now=NOW, attempt=0)
    assert '"Resource not accessible by personal access token"' in decision.message
    assert "HTTP 403" in decision.message
    assert "read access" in decision.message


def test_messages_never_echo_a_token() -> None:
    """A token-shaped string in a body is masked before it reaches any message."""
    token = "ghp_" + "A1b2C3d4E5" * 4
    for status in (401, 403, 404, 422):
        decision = decide(status, {}, {"message": f"Bad credentials {token}"}, now=NOW, attempt=0)
        assert token not in decision.message
        assert "ghp_…(44 chars)" in decision.message


def test_jitter_is_deterministic_under_a_seeded_rng() -> None:
    """The same seed gives the same waits, another seed gives other waits."""
    policy = RetryPolicy(jitter=0.25)

    def waits(seed: int) -> list[float]:
        rng = random.Random(seed)
        return [decide(502, {}, None, now=NOW, attempt=a, policy=policy, rng=rng).wait for a in range(5)]

    assert waits(7) == waits(7)
    assert waits(7) != waits(8)


def test_server_jitter_stays_within_its_fraction() -> None:
    """Server back-off with jitter stays within base*2**attempt times 1 +/- jitter."""
    policy = RetryPolicy(jitter=0.25)
    rng = random.Random(3)
    for attempt in range(5):
        wait = decide(503, {}, None, now=NOW, attempt=attempt, policy=policy, rng=rng).wait
        assert 0.75 * 2**attempt <= wait <= 1.25 * 2**attempt


def test_secondary_jitter_never_waits_less_than_asked() -> None:
    """Secondary back-off jitters only upwards, so it never undercuts GitHub's minimum."""
    policy = RetryPolicy(min_secondary_wait=0.05, backoff_max=100.0, jitter=0.25)
    rng = random.Random(11)
    for attempt in range(1, 6):
        wait = decide(403, {}, SECONDARY_NEW_BODY, now=NOW, attempt=attempt, policy=policy, rng=rng).wait
        assert 0.05 * 2**attempt <= wait <= 0.05 * 2**attempt * 1.25


@pytest.mark.parametrize(
    ("status", "headers", "body", "primary", "secondary"),
    [
        pytest.param(403, rate(0, 100), PRIMARY_USER_BODY, True, False, id="primary"),
        pytest.param(429, {}, None, False, True, id="bare-429"),
        pytest.param(403, {}, ABUSE_OLD_BODY, False, True, id="old-abuse"),
        pytest.param(403, {"Retry-After": "1"}, SECONDARY_NEW, False, True, id="new-secondary-str"),
        pytest.param(403, rate(0, 100), NOT_ACCESSIBLE_INTEGRATION, False, False, id="permission"),
        pytest.param(404, rate(0, 100), NOT_FOUND, False, False, id="404-never"),
        pytest.param(500, {"Retry-After": "1"}, SECONDARY_NEW_BODY, False, False, id="500-never"),
    ],
)
def test_classifiers_agree_with_decide(
    status: int, headers: Mapping[str, str], body: object, primary: bool, secondary: bool
) -> None:
    """is_primary_rate_limit / is_secondary_rate_limit classify as decide() does."""
    assert is_primary_rate_limit(status, headers, body) is primary
    assert is_secondary_rate_limit(status, headers, body) is secondary


def test_parse_rate_headers_any_case() -> None:
    """Rate headers parse whatever the case of their names."""
    expected = RateInfo(limit=5000, remaining=4312, used=688, reset=float(int(NOW + 60)), resource="core")
    for style in ("lower", "canonical", "upper"):
        assert parse_rate_headers(rate(4312, 60, style=style)) == expected


def test_parse_rate_headers_derives_used_and_resource() -> None:
    """Older answers lack x-ratelimit-used and -resource; they are derived."""
    info = parse_rate_headers(
        {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}
    )
    assert info == RateInfo(limit=60, remaining=0, used=60, reset=1.0, resource="core")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "1"},
        rate(1, 1) | {"x-ratelimit-reset": "soon"},
    ],
)
def test_parse_rate_headers_none_when_incomplete(headers: Mapping[str, str]) -> None:
    """Missing or unreadable counters give None rather than a half-filled RateInfo."""
    assert parse_rate_headers(headers) is None


def test_unreadable_retry_after_falls_through_to_next_rule() -> None:
    """A Retry-After that is neither seconds nor a date is ignored, not trusted."""
    decision = decide(403, {"Retry-After": "soon", **rate(0, 30)}, PRIMARY_USER_BODY, now=NOW, attempt=0)
    assert decision.reason is Reason.PRIMARY
    assert decision.wait == pytest.approx(31.0, abs=1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"jitter": 1.5},
        {"backoff_max": -1.0},
        {"max_secondary_attempts": 0},
        {"min_secondary_wait": float("nan")},
    ],
)
def test_policy_rejects_nonsense(kwargs: dict[str, Any]) -> None:
    """A policy that could produce negative waits or never give up is refused."""
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**kwargs)


def test_negative_attempt_is_refused() -> None:
    """attempt counts previous attempts, so a negative one is a caller bug."""
    with pytest.raises(ValueError, match="cannot be negative"):
        decide(502, {}, None, now=NOW, attempt=-1)


MESSAGES = [
    None,
    "",
    SECONDARY_NEW,
    ABUSE_OLD,
    ABUSE_CREATION,
    PRIMARY_USER_BODY,
    NOT_FOUND,
    NOT_ACCESSIBLE_PAT,
]


@st.composite
def failures(draw: st.DrawFn) -> tuple[int | None, dict[str, str], object, float, int, RetryPolicy, float]:
    """A failed answer, a policy, and the largest wait the property allows for them."""
    now = draw(st.floats(min_value=0, max_value=4e9, allow_nan=False))
    status = draw(
        st.sampled_from([None, 401, 403, 403, 404, 422, 429, 429, 500, 502, 503]) | st.integers(400, 599)
    )
    headers: dict[str, str] = {}
    hint = 0.0
    if draw(st.booleans()):
        delta = draw(st.integers(-3600, 7200))
        if draw(st.booleans()):
            headers["Retry-After"] = str(max(delta, 0))
        else:
            headers["Retry-After"] = formatdate(now + delta, usegmt=True)
        hint = max(hint, float(delta))
    if draw(st.booleans()):
        reset = int(now) + draw(st.integers(-3600, 3600))
        headers["x-ratelimit-reset"] = str(reset)
        headers["x-ratelimit-remaining"] = draw(st.sampled_from(["0", "1", "4999"]))
        hint = max(hint, reset - now)
    body = draw(st.sampled_from(MESSAGES))
    attempt = draw(st.integers(0, 10_000))
    backoff_max = draw(st.floats(0.1, 1000))
    policy = RetryPolicy(
        min_secondary_wait=draw(st.floats(0, backoff_max)),
        backoff_base=draw(st.floats(0, 100)),
        backoff_max=backoff_max,
        max_secondary_attempts=draw(st.integers(1, 20)),
        max_server_attempts=draw(st.integers(1, 20)),
        jitter=draw(st.floats(0, 1)),
    )
    bound = max(policy.backoff_max, hint + policy.reset_margin)
    return status, headers, body, now, attempt, policy, bound


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(failures(), st.integers(0, 2**32))
def test_wait_is_never_negative_nor_beyond_the_largest_hint(
    case: tuple[int | None, dict[str, str], object, float, int, RetryPolicy, float], seed: int
) -> None:
    """wait >= 0 and <= max(backoff_max, retry-after, reset-now+margin); fatal waits 0."""
    status, headers, body, now, attempt, policy, bound = case
    decision = decide(status, headers, body, now=now, attempt=attempt, policy=policy, rng=random.Random(seed))
    assert isinstance(decision, Decision)
    assert 0.0 <= decision.wait <= bound + 1e-6
    if decision.action is Action.FATAL:
        assert decision.wait == 0.0
    again = decide(status, headers, body, now=now, attempt=attempt, policy=policy, rng=random.Random(seed))
    assert again == decision
