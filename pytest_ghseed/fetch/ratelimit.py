"""What to do when a GitHub request fails: a pure policy over status, headers and body.

The crawl asks :func:`decide` after every failed request and gets back a :class:`Decision`: retry after
``wait`` seconds (pausing either the token's whole user or only this request) or give up. Keeping the
policy free of I/O, clocks and PyGithub lets it be tested by a plain table of real GitHub answers.

The order follows GitHub's documentation for 403 and 429 answers ("Rate limits for the REST API",
section "Exceeding the rate limit"):

1. a ``Retry-After`` header: wait that many seconds;
2. else ``x-ratelimit-remaining: 0``: wait until ``x-ratelimit-reset``;
3. else a secondary-limit message (or a bare 429): wait at least a minute, then back off exponentially,
   then give up with a clear error.

GraphQL answers its own way ("Rate limits and query limits for the GraphQL API"): a spent budget is
an HTTP 200 whose ``errors`` say ``"type": "RATE_LIMITED"`` (newer: ``"RATE_LIMIT"``, code
``graphql_rate_limit``), which is a primary limit like REST's; a query that took too long is a 502
saying "This may be the result of a timeout" (:attr:`Reason.TIMEOUT`: the caller may ask less at
once before backing off). Secondary limits answer 403/429 as for REST.

Two deliberate deviations, each explained where it is coded: a 403 with a known *permission* message is
fatal even when ``x-ratelimit-remaining`` is 0 (the request that spends the last unit carries that header
on whatever answer it gets), and a secondary limit honours ``x-ratelimit-reset`` only when it is near
(that header usually describes the hourly primary window, up to an hour away).
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

from pytest_ghseed.secrets import redact
from pytest_ghseed.traffic import read_json

__all__ = [
    "Action",
    "Decision",
    "FailureKind",
    "RateInfo",
    "Reason",
    "RetryPolicy",
    "decide",
    "failure_kind",
    "graphql_rate_limited",
    "is_primary_rate_limit",
    "is_secondary_rate_limit",
    "parse_rate_headers",
]


class Action(enum.Enum):
    """What the caller does next; success never reaches the policy."""

    RETRY = "retry"
    FATAL = "fatal"


class Reason(enum.Enum):
    """Why the request failed, as shown to the user."""

    PRIMARY = "primary rate limit"
    SECONDARY = "secondary rate limit"
    SERVER_ERROR = "server error"
    TIMEOUT = "query timeout"
    NOT_READY = "answer not ready"
    CONNECTION = "connection error"
    PERMISSION = "permission denied"
    BAD_CREDENTIALS = "bad credentials"
    NOT_FOUND = "not found"
    CLIENT_ERROR = "client error"


Scope = Literal["user", "request"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer for one failed request."""

    action: Action
    reason: Reason
    #: Seconds to wait before the retry; 0 for a fatal decision.
    wait: float
    #: ``"user"``: every request of the token's user, on every thread, pauses (rate limits are per
    #: account, so another thread or another token of the same user would only prolong the limit).
    #: ``"request"``: only this request backs off (5xx, connection errors).
    scope: Scope
    #: Human text for progress lines and logs; never contains a token.
    message: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Tunable numbers of the policy; tests inject tiny waits instead of GitHub's minute."""

    #: GitHub: "wait for at least one minute before retrying" when no header says how long.
    min_secondary_wait: float = 60.0
    #: After this many secondary limits on one request, give up with a clear error.
    max_secondary_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 120.0
    max_server_attempts: int = 6
    #: Fraction of random spread on back-off waits, so parallel threads do not retry in lock-step.
    jitter: float = 0.25
    #: Added to ``x-ratelimit-reset - now``: the header has one-second resolution and clocks drift.
    reset_margin: float = 1.0
    #: A request that hits the primary limit again right after waiting for the reset points at a skewed
    #: clock or another process draining the same quota; stop after this many instead of looping.
    max_primary_attempts: int = 6

    def __post_init__(self) -> None:
        # Reject values that would make waits negative or the give-up rules unreachable.
        for name in ("min_secondary_wait", "backoff_base", "backoff_max", "reset_margin"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                msg = f"RetryPolicy.{name} must be a finite number >= 0, got {value!r}; pass e.g. 1.0"
                raise ValueError(msg)
        for name in ("max_secondary_attempts", "max_server_attempts", "max_primary_attempts"):
            value = getattr(self, name)
            if value < 1:
                msg = f"RetryPolicy.{name} must be >= 1, got {value!r}; pass e.g. 6"
                raise ValueError(msg)
        if not 0 <= self.jitter <= 1:
            msg = f"RetryPolicy.jitter is a fraction between 0 and 1, got {self.jitter!r}; pass e.g. 0.25"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class RateInfo:
    """The primary-limit counters GitHub sends on every response."""

    limit: int
    remaining: int
    used: int
    #: Epoch seconds (UTC) when the window resets.
    reset: float
    #: Which budget the request counted against: ``core``, ``search``, ``graphql``...
    resource: str


_DEFAULT_POLICY = RetryPolicy()
# Shared fallback when the caller passes no rng; random.Random is safe to share between threads.
_DEFAULT_RNG = random.Random()
# 2**60 seconds is far past any cap; clamping the exponent keeps float conversion from overflowing.
_MAX_EXPONENT = 60
_MAX_ECHO = 200

_SECONDARY_MARKERS = (
    "secondary rate limit",  # current: "You have exceeded a secondary rate limit. ..."
    "abuse detection",  # before 2021: "You have triggered an abuse detection mechanism ..."
    "abuse rate limit",
    "secondary quota",
)
# PyGithub's fallback test uses endswith(); GitHub now appends "... include the request ID X:Y:Z."
# after these phrases, so they are matched anywhere in the message instead.
_SECONDARY_PHRASES = (
    "please wait a few minutes before you try again",
    "please retry your request again later",
)
_PRIMARY_PREFIX = "api rate limit exceeded"
#: GitHub's GraphQL error types for a spent budget: the long-standing one, and the newer one.
_GRAPHQL_RATE_LIMIT_TYPES = ("RATE_LIMITED", "RATE_LIMIT")
#: What GitHub's GraphQL 502 says when a query ran too long.
_TIMEOUT_PHRASE = "this may be the result of a timeout"
_PERMISSION_PREFIXES = (
    "resource not accessible",  # "... by integration", "... by personal access token"
    "must have admin rights",
    "must have push access",
    "although you appear to have the correct authorization credentials",  # org OAuth app policy
    "resource protected by organization saml enforcement",
    "repository access blocked",
)


def decide(
    status: int | None,
    headers: Mapping[str, str],
    body: object,
    *,
    now: float,
    attempt: int,
    policy: RetryPolicy = _DEFAULT_POLICY,
    rng: random.Random | None = None,
    unreadable: str | None = None,
) -> Decision:
    """Decide whether and how long to wait after a failed request.

    ``status`` is ``None`` for a connection error (no response), or for an answer that could not be
    read (``unreadable`` then says what it was, e.g. a 200 whose body is not JSON). ``attempt`` counts the previous
    attempts of this request for the same reason, 0 on the first failure. ``now`` is epoch seconds,
    compared with ``x-ratelimit-reset``. Jitter draws from ``rng``, so a seeded rng gives repeatable
    waits.
    """
    if attempt < 0:
        msg = f"attempt counts previous attempts and cannot be negative, got {attempt}; pass 0 first"
        raise ValueError(msg)
    rng = rng if rng is not None else _DEFAULT_RNG
    h = _lower_keys(headers)
    message = _message(body)

    if status is None:
        return _backoff_request(
            Reason.CONNECTION, unreadable or "connection error", None, attempt, policy, rng
        )
    if status == 200:
        # Only a GraphQL answer reaches here: HTTP 200 with ``errors`` instead of (or beside) data.
        if graphql_rate_limited(body):
            return _rate_limited(Reason.PRIMARY, h, message, now=now, attempt=attempt, policy=policy, rng=rng)
        return _fatal(
            Reason.CLIENT_ERROR,
            status,
            message,
            "GitHub refused the GraphQL query itself; if the base URL is GitHub's API, this is a "
            "pytest-ghseed bug, please report it",
        )
    if status == 202:
        # "Accepted": GitHub is still computing the answer and asks to come back (statistics endpoints).
        return _backoff_request(
            Reason.NOT_READY, "answer not ready (HTTP 202)", _retry_after(h, now), attempt, policy, rng
        )
    if 300 <= status < 400:
        return _fatal(
            Reason.CLIENT_ERROR,
            status,
            message,
            "GitHub's API redirects with a Location header, which this answer lacks; is the base URL a "
            "GitHub API? Check --base-url",
        )
    if status >= 500:
        if _TIMEOUT_PHRASE in message.lower():
            return _backoff_request(
                Reason.TIMEOUT, f"query timeout HTTP {status}", _retry_after(h, now), attempt, policy, rng
            )
        return _backoff_request(
            Reason.SERVER_ERROR, f"server error HTTP {status}", _retry_after(h, now), attempt, policy, rng
        )
    if status in (403, 429):
        kind = _rate_limit_kind(status, h, message)
        if kind is not None:
            return _rate_limited(kind, h, message, now=now, attempt=attempt, policy=policy, rng=rng)
        # Only a 403 gets here: every 429 is a rate limit.
        return _fatal(
            Reason.PERMISSION,
            status,
            message,
            "The token cannot read this resource; use a token with read access to the repository's "
            "pull requests and contents (fine-grained: 'Pull requests' and 'Contents' read; classic: "
            "'public_repo' or 'repo'), or one whose organization allows it.",
        )
    if status == 401:
        return _fatal(
            Reason.BAD_CREDENTIALS,
            status,
            message,
            "The token is invalid, expired or revoked; create a new token and pass it instead.",
        )
    if status == 404:
        return _fatal(
            Reason.NOT_FOUND,
            status,
            message,
            "Check the owner/name spelling; GitHub also answers 404 when the token cannot see a "
            "private repository, so check the token's access too.",
        )
    if 400 <= status < 500:
        hint = (
            "GitHub rejected the request itself; if the base URL is GitHub's API, this is a pytest-ghseed "
            "bug, please report it"
        )
    else:
        hint = f"HTTP {status} is not an answer GitHub's API gives; is the base URL a GitHub API? Check --base-url"
    return _fatal(Reason.CLIENT_ERROR, status, message, hint)


FailureKind = Literal["primary", "secondary", "transient", "other"]


def failure_kind(status: int | None, headers: Mapping[str, str], body: object) -> FailureKind:
    """Which retry budget a failed answer counts against (each kind's back-off grows on its own)."""
    if status is None or status >= 500 or status == 202:
        return "transient"
    if status == 200:
        return "primary" if graphql_rate_limited(body) else "other"
    kind = _rate_limit_kind(status, _lower_keys(headers), _message(body))
    if kind is Reason.PRIMARY:
        return "primary"
    if kind is Reason.SECONDARY:
        return "secondary"
    return "other"


def is_secondary_rate_limit(status: int, headers: Mapping[str, str], body: object) -> bool:
    """Whether the answer is a secondary (abuse) rate limit, as :func:`decide` would classify it."""
    return _rate_limit_kind(status, _lower_keys(headers), _message(body)) is Reason.SECONDARY


def is_primary_rate_limit(status: int, headers: Mapping[str, str], body: object) -> bool:
    """Whether the answer is the hourly primary rate limit, as :func:`decide` would classify it."""
    return _rate_limit_kind(status, _lower_keys(headers), _message(body)) is Reason.PRIMARY


def graphql_rate_limited(body: object) -> bool:
    """Whether a GraphQL answer says the user's GraphQL budget is spent (it comes as HTTP 200)."""
    for error in _graphql_errors(body):
        if error.get("type") in _GRAPHQL_RATE_LIMIT_TYPES or error.get("code") == "graphql_rate_limit":
            return True
    return False


def parse_rate_headers(headers: Mapping[str, str]) -> RateInfo | None:
    """Read the ``x-ratelimit-*`` headers (any case); ``None`` when limit, remaining or reset is missing."""
    h = _lower_keys(headers)
    limit = _int_header(h, "x-ratelimit-limit")
    remaining = _int_header(h, "x-ratelimit-remaining")
    reset = _int_header(h, "x-ratelimit-reset")
    if limit is None or remaining is None or reset is None:
        return None
    used = _int_header(h, "x-ratelimit-used")
    # x-ratelimit-used arrived later than the other headers; derive it for older servers.
    if used is None:
        used = max(limit - remaining, 0)
    resource = h.get("x-ratelimit-resource") or "core"
    return RateInfo(limit=limit, remaining=remaining, used=used, reset=float(reset), resource=resource)


# --- classification -------------------------------------------------------------------------------


def _rate_limit_kind(status: int, h: Mapping[str, str], message: str) -> Reason | None:
    """PRIMARY, SECONDARY, or None when a 403/429 is not a rate limit at all."""
    if status not in (403, 429):
        return None
    low = message.lower()
    if any(marker in low for marker in _SECONDARY_MARKERS) or any(p in low for p in _SECONDARY_PHRASES):
        return Reason.SECONDARY
    if low.startswith(_PRIMARY_PREFIX):
        return Reason.PRIMARY
    # The request that spends the last unit of quota carries remaining: 0 on whatever answer it gets;
    # waiting up to an hour for the reset would only earn the same permission error again.
    exhausted = h.get("x-ratelimit-remaining") == "0" and not low.startswith(_PERMISSION_PREFIXES)
    if "retry-after" in h:
        # GitHub documents Retry-After for secondary limits only; a primary limit says remaining: 0.
        return Reason.PRIMARY if exhausted else Reason.SECONDARY
    if exhausted:
        return Reason.PRIMARY
    if status == 429:
        # GitHub uses 429 for secondary limits, sometimes with no message and no header.
        return Reason.SECONDARY
    return None


def _rate_limited(
    kind: Reason,
    h: Mapping[str, str],
    message: str,
    *,
    now: float,
    attempt: int,
    policy: RetryPolicy,
    rng: random.Random,
) -> Decision:
    retry_after = _retry_after(h, now)
    reset = _int_header(h, "x-ratelimit-reset")
    remaining = h.get("x-ratelimit-remaining")
    max_attempts = policy.max_primary_attempts if kind is Reason.PRIMARY else policy.max_secondary_attempts

    if retry_after is not None:
        wait = retry_after
        asked = f"Retry-After {_fmt(retry_after)}"
    elif (remaining == "0" or kind is Reason.PRIMARY) and reset is not None:
        # A primary limit lasts until the window resets, whatever the other headers say.
        wait = max(reset - now, 0.0) + policy.reset_margin
        if attempt > 0:
            # Still limited right after the reset passed: our clock is probably ahead of GitHub's.
            # Back off instead of retrying every second, which GitHub may punish by banning the token.
            wait = max(wait, _capped(policy.backoff_base, attempt, policy.backoff_max))
        asked = f"x-ratelimit-reset in {_fmt(max(reset - now, 0.0))}"
    else:
        wait = _secondary_backoff(reset, now, attempt, policy, rng)
        asked = f"at least {_fmt(policy.min_secondary_wait)} (no Retry-After header)"

    if attempt >= max_attempts:
        next_step = (
            "reduce --workers or retry later"
            if kind is Reason.SECONDARY
            else "check the system clock, and whether another process uses the same account's quota"
        )
        text = (
            f"gave up after {attempt} {kind.value}s on one request; GitHub asks to wait {asked}"
            f"{_echo(message)}; {next_step}."
        )
        return Decision(Action.FATAL, kind, 0.0, "user", text)
    text = f"{kind.value}: {asked}; waiting {_fmt(wait)} (attempt {attempt + 1} of {max_attempts})"
    return Decision(Action.RETRY, kind, wait, "user", text)


def _secondary_backoff(
    reset: int | None, now: float, attempt: int, policy: RetryPolicy, rng: random.Random
) -> float:
    # A cap below the documented minute would break GitHub's "at least one minute" rule.
    cap = max(policy.backoff_max, policy.min_secondary_wait)
    if attempt == 0:
        wait = policy.min_secondary_wait
    else:
        # Jitter only upwards: waiting less than GitHub asked risks another, longer limit.
        spread = 1.0 + rng.uniform(0.0, policy.jitter)
        wait = min(_capped(policy.min_secondary_wait, attempt, cap) * spread, cap)
    # A reset a little ahead may describe the secondary window itself, so honour it; a far one is the
    # hourly primary window (sent on every answer) and pausing the whole account for it would be wrong.
    if reset is not None and 0 < reset - now <= policy.backoff_max:
        wait = max(wait, reset - now + policy.reset_margin)
    return wait


def _backoff_request(
    reason: Reason,
    what: str,
    retry_after: float | None,
    attempt: int,
    policy: RetryPolicy,
    rng: random.Random,
) -> Decision:
    if attempt >= policy.max_server_attempts:
        next_step = (
            "check the network connection and proxy settings, then retry"
            if reason is Reason.CONNECTION
            else "GitHub may be having an incident (see https://www.githubstatus.com); retry later"
        )
        text = f"gave up after {attempt} {reason.value}s on one request (last: {what}); {next_step}."
        return Decision(Action.FATAL, reason, 0.0, "request", text)
    if retry_after is not None:
        # A 503 with Retry-After knows better than our guess.
        wait = retry_after
    else:
        base = _capped(policy.backoff_base, attempt, policy.backoff_max)
        wait = min(base * (1.0 + rng.uniform(-policy.jitter, policy.jitter)), policy.backoff_max)
    text = f"{what}: retrying in {_fmt(wait)} (attempt {attempt + 1} of {policy.max_server_attempts})"
    return Decision(Action.RETRY, reason, wait, "request", text)


def _fatal(reason: Reason, status: int, message: str, next_step: str) -> Decision:
    text = f"{reason.value} (HTTP {status}){_echo(message)}. {next_step}"
    return Decision(Action.FATAL, reason, 0.0, "request", text)


# --- parsing --------------------------------------------------------------------------------------


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    # HTTP header names are case-insensitive; GitHub sends lower case over HTTP/2, recordings vary.
    return {str(k).lower(): str(v).strip() for k, v in headers.items()}


def _message(body: object) -> str:
    """The ``message`` of a GitHub error body given as dict, JSON text, bytes or None."""
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        text = body.strip()
        if text.startswith("{"):
            try:
                body = read_json(text)
            except (ValueError, RecursionError):
                return text
        else:
            return text
    if isinstance(body, Mapping):
        value = body.get("message")
        if value is None:
            # GraphQL: no top-level message, but a list of errors with theirs.
            value = "; ".join(str(e.get("message", "")).strip() for e in _graphql_errors(body)) or None
        return "" if value is None else str(value).strip()
    return ""


def _graphql_errors(body: object) -> list[Mapping[str, object]]:
    """The ``errors`` of a GraphQL answer given as dict, JSON text or bytes; [] for anything else."""
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            body = read_json(body) if body.lstrip().startswith("{") else None
        except (ValueError, RecursionError):
            return []
    errors = body.get("errors") if isinstance(body, Mapping) else None
    return [error for error in errors if isinstance(error, Mapping)] if isinstance(errors, list) else []


def _int_header(h: Mapping[str, str], name: str) -> int | None:
    try:
        return int(h[name])
    except (KeyError, ValueError):
        return None


def _retry_after(h: Mapping[str, str], now: float) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or HTTP-date), or None when absent or unreadable."""
    raw = h.get("retry-after")
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            # Unreadable: fall through to the next rule rather than guess.
            return None
        if when.tzinfo is None:
            return None
        return max(when.timestamp() - now, 0.0)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _capped(base: float, attempt: int, cap: float) -> float:
    return min(base * 2.0 ** min(attempt, _MAX_EXPONENT), cap)


def _fmt(seconds: float) -> str:
    return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.3g}s"


def _echo(message: str) -> str:
    """GitHub's own words, shortened and with anything token-shaped masked, for error texts."""
    if not message:
        return ""
    text = redact(" ".join(message.split()))
    if len(text) > _MAX_ECHO:
        text = text[: _MAX_ECHO - 3] + "..."
    return f': "{text}"'
