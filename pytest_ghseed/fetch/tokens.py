"""TokenPool: which token sends the next request, and when none may.

GitHub budgets requests per *user*, not per token, and its secondary limits are per user too. So the
pool works in accounts: one per distinct token owner (tokens of one user count once), each with a
budget per resource (``core``: REST's requests; ``graphql``: GraphQL's points, a separate budget)
as GitHub last reported it (``x-ratelimit-resource`` says which), a block (``blocked_until``) set by
a secondary limit, which stops every resource of the account, and the number of requests in flight.
A primary limit parks one budget only (``Budget.parked_until``): a user whose GraphQL points are
spent may still send REST requests. ``acquire(resource)`` hands out the account with the most of
that budget left that may send now; when none may, it waits for the earliest reset with a visible
message, or stops with ``RateLimitWaitTooLong`` when that wait is longer than ``max_wait``.

No request is ever sent on an account while it is told to wait: every request goes through
``acquire()``, which refuses blocked accounts, for every thread at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from pytest_ghseed.clock import SYSTEM_CLOCK, Clock
from pytest_ghseed.defaults import DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_WAIT
from pytest_ghseed.errors import FetchError, RateLimitWaitTooLong
from pytest_ghseed.fetch.ratelimit import parse_rate_headers
from pytest_ghseed.progress import ProgressEvent
from pytest_ghseed.secrets import Token

#: After this many successes in a row, an account lowered by a secondary limit may send one more request at once.
_RECOVERY_STREAK = 20


_CANCELLED = "the fetch was stopped (an error in another thread, or Ctrl-C); finished PRs are kept"


class FetchCancelled(FetchError):
    """Raised in worker threads once the crawl is cancelled, so that they stop at once."""


#: The budgets a crawl spends: REST requests (``core``) and GraphQL points (``graphql``).
Resource = Literal["core", "graphql"]
RESOURCES: tuple[Resource, ...] = get_args(Resource)
#: GitHub's GraphQL budget per user and hour, assumed until a probe or an answer tells the real one.
GRAPHQL_LIMIT = 5000
_NAMES: dict[str, str] = {"core": "REST", "graphql": "GraphQL"}


@dataclass(frozen=True, slots=True)
class TokenProbe:
    """What ``/rate_limit`` and ``/user`` said about one token before the crawl."""

    position: int  # 1-based position in the list the user gave
    token: Token | None  # None: unauthenticated
    login: str  # the owner; "anonymous" without a token
    limit: int
    remaining: int
    reset: float
    #: The GraphQL budget as ``(limit, remaining, reset)``; None: not reported (assumed whole).
    graphql: tuple[int, int, float] | None = None


@dataclass(slots=True)
class Budget:
    """One resource's budget of one user, as GitHub last reported it."""

    limit: int
    remaining: int
    reset: float
    #: A primary limit parks this budget until then; the account's other budgets go on.
    parked_until: float = 0.0
    park_reason: str = ""
    #: Requests of this resource in flight (each holds one unit until its answer says what it cost).
    in_flight: int = 0


@dataclass(slots=True)
class Account:
    """One GitHub user's budgets, shared by all of that user's tokens."""

    login: str
    token: Token | None
    position: int
    max_in_flight: int
    budgets: dict[str, Budget] = field(default_factory=dict)
    in_flight: int = 0
    #: A secondary limit (per account: every resource) stops all its requests until then.
    blocked_until: float = 0.0
    block_reason: str = ""
    duplicate_positions: tuple[int, ...] = ()
    # Adaptive concurrency: a secondary limit halves this, a run of successes raises it again.
    allowed_in_flight: int = 0
    success_streak: int = 0

    def __post_init__(self) -> None:
        if self.allowed_in_flight == 0:
            self.allowed_in_flight = self.max_in_flight

    def budget(self, resource: str = "core") -> Budget:
        """The budget of ``resource``."""
        return self.budgets[resource]

    @property
    def limit(self) -> int:
        """The REST (``core``) limit."""
        return self.budgets["core"].limit

    @property
    def remaining(self) -> int:
        """The REST (``core``) requests left."""
        return self.budgets["core"].remaining

    @property
    def reset(self) -> float:
        """When the REST (``core``) window resets, epoch seconds."""
        return self.budgets["core"].reset

    def ready_at(self, resource: str, now: float) -> float:
        """When this account may next send on ``resource`` as far as limits go (<= now: it may)."""
        budget = self.budgets[resource]
        spent = budget.reset if budget.remaining <= 0 else 0.0
        return max(self.blocked_until, budget.parked_until, spent)


@dataclass(frozen=True, slots=True)
class Lease:
    """Permission to send one request on an account; give it back with ``TokenPool.release``."""

    account: Account
    sent_at: float
    resource: str = "core"


class TokenPool:
    """Choose a token per request; park accounts on primary limits and pause them on secondary ones."""

    def __init__(
        self,
        probes: Sequence[TokenProbe],
        *,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_wait: float = DEFAULT_MAX_WAIT,
        clock: Clock = SYSTEM_CLOCK,
        on_event: Callable[[ProgressEvent], None] | None = None,
        repo: str = "",
    ) -> None:
        if not probes:
            msg = "a TokenPool needs at least one probed token (or one unauthenticated probe)"
            raise ValueError(msg)
        self.max_wait = max_wait
        self._clock = clock
        self._on_event = on_event
        self._repo = repo
        self._cond = threading.Condition()
        self.cancelled = False
        self.notes: list[str] = []
        self.accounts: list[Account] = []
        by_login: dict[str, Account] = {}
        for probe in probes:
            existing = by_login.get(probe.login)
            if existing is not None:
                # Same owner, same budget: counting it twice would overspend the user's quota.
                existing.duplicate_positions += (probe.position,)
                self.notes.append(
                    f"token #{probe.position} belongs to {probe.login} like token #{existing.position}; "
                    "tokens of one user share one budget, so it is not used"
                )
                continue
            graphql = probe.graphql or (GRAPHQL_LIMIT, GRAPHQL_LIMIT, probe.reset)
            account = Account(
                login=probe.login,
                token=probe.token,
                position=probe.position,
                max_in_flight=max_in_flight,
                budgets={
                    "core": Budget(probe.limit, probe.remaining, probe.reset),
                    "graphql": Budget(*graphql),
                },
            )
            by_login[probe.login] = account
            self.accounts.append(account)

    # -- reading ---------------------------------------------------------------------------------

    def quota(self, resource: Resource = "core") -> dict[str, int]:
        """Remaining primary quota of ``resource`` per account owner, as last reported by GitHub."""
        with self._cond:
            return {a.login: max(a.budgets[resource].remaining, 0) for a in self.accounts}

    @property
    def total_remaining(self) -> int:
        """REST requests left over all accounts."""
        return sum(self.quota().values())

    # -- the request cycle -----------------------------------------------------------------------

    def acquire(self, resource: Resource = "core") -> Lease:
        """Block until some account may send a request on ``resource``, then reserve one unit of it."""
        announced: float | None = None
        with self._cond:
            while True:
                if self.cancelled:
                    raise FetchCancelled(_CANCELLED)
                now = self._clock.now()
                for account in self.accounts:
                    budget = account.budgets[resource]
                    if budget.remaining <= 0 and budget.reset <= now:
                        # The window has reset; the next response tells the real figure. (At least one
                        # request: a server reporting a limit of 0 gets asked, not waited for forever.)
                        budget.remaining = max(budget.limit, 1)
                free = [
                    a
                    for a in self.accounts
                    if a.ready_at(resource, now) <= now and a.in_flight < a.allowed_in_flight
                ]
                if free:
                    account = max(free, key=lambda a: (a.budgets[resource].remaining, -a.in_flight))
                    budget = account.budgets[resource]
                    account.in_flight += 1
                    budget.in_flight += 1
                    budget.remaining -= 1
                    return Lease(account=account, sent_at=now, resource=resource)
                wake_at = self._earliest_unpark(now, resource)
                if wake_at is None:
                    # Every account is merely busy: wait for a release.
                    self._clock.wait(self._cond, 1.0)
                    continue
                wait = max(wake_at - now, 0.0)
                if wait > self.max_wait:
                    msg = self._too_long_message(wait, resource)
                    raise RateLimitWaitTooLong(msg)
                if announced is None or abs(announced - wake_at) > 0.5:
                    announced = wake_at
                    self._announce_all_parked(wait, resource)
                self._clock.wait(self._cond, max(wait, 0.01))

    def cancel(self) -> None:
        """Stop the crawl: every thread waiting here, or about to send, gets ``FetchCancelled``."""
        with self._cond:
            self.cancelled = True
            self._cond.notify_all()

    def pause(self, seconds: float, reason: str = "") -> None:
        """Sleep for a back-off, waking early (with ``FetchCancelled``) if the crawl is cancelled.

        A pause of a second or more is shown (a ``wait`` event with its reason): nothing waits unseen.
        """
        if seconds >= 1.0 and reason:
            self._emit(
                ProgressEvent(kind="wait", repo=self._repo, wait=seconds, reason=reason, quota=self.quota())
            )
        deadline = self._clock.now() + seconds
        with self._cond:
            while not self.cancelled:
                left = deadline - self._clock.now()
                if left <= 0:
                    return
                self._clock.wait(self._cond, left)
        raise FetchCancelled(_CANCELLED)

    def may_send(self, lease: Lease) -> bool:
        """Whether the lease's account is still free to send (checked again right before sending)."""
        now = self._clock.now()
        return (
            lease.account.blocked_until <= now and lease.account.budgets[lease.resource].parked_until <= now
        )

    def release(self, lease: Lease, headers: Mapping[str, str] | None, *, ok: bool) -> None:
        """Return a lease with the response headers (``None`` when no response came)."""
        with self._cond:
            account = lease.account
            budget = account.budgets[lease.resource]
            account.in_flight -= 1
            budget.in_flight -= 1
            budget.remaining += 1  # the unit reserved by acquire(); the headers say what was spent
            if headers is not None:
                self._update_quota(account, headers)
            if ok:
                account.success_streak += 1
                if (
                    account.allowed_in_flight < account.max_in_flight
                    and account.success_streak >= _RECOVERY_STREAK
                ):
                    account.allowed_in_flight += 1
                    account.success_streak = 0
            self._cond.notify_all()

    def block(
        self, account: Account, seconds: float, reason: str, *, secondary: bool, resource: Resource = "core"
    ) -> None:
        """Pause ``account``'s user for ``seconds`` (all threads): every request after a secondary limit
        (GitHub's are per account), the requests of ``resource`` after a primary one (its budget is spent)."""
        with self._cond:
            now = self._clock.now()
            until = now + max(seconds, 0.0)
            budget = account.budgets[resource]
            current = account.blocked_until if secondary else budget.parked_until
            if until > current:
                if secondary:
                    account.blocked_until, account.block_reason = until, reason
                else:
                    budget.parked_until, budget.park_reason = until, reason
                self._emit(
                    ProgressEvent(
                        kind="wait",
                        repo=self._repo,
                        wait=seconds,
                        reason=reason,
                        user=account.login,
                        quota={a.login: max(a.budgets[resource].remaining, 0) for a in self.accounts},
                    )
                )
            if secondary:
                # Secondary limits punish concurrency: halve it for this user, recover slowly.
                account.allowed_in_flight = max(1, account.allowed_in_flight // 2)
                account.success_streak = 0
            else:
                budget.remaining = 0
            self._cond.notify_all()

    # -- internals -------------------------------------------------------------------------------

    def _update_quota(self, account: Account, headers: Mapping[str, str]) -> None:
        info = parse_rate_headers(headers)
        if info is None or info.resource not in account.budgets:
            return  # another budget (search, ...), which no crawl spends
        budget = account.budgets[info.resource]
        if info.reset > budget.reset + 0.5:
            budget.reset = info.reset  # a new window
        budget.limit = info.limit
        # GitHub's figure, less the units reserved by requests still in flight (a 304 spends none,
        # so trusting the header, not counting our own requests, keeps free revalidations free).
        budget.remaining = info.remaining - budget.in_flight

    def _earliest_unpark(self, now: float, resource: str = "core") -> float | None:
        """When the first parked account may send on ``resource`` again; None when one is not parked."""
        times = [account.ready_at(resource, now) for account in self.accounts]
        if not times or min(times) <= now:
            return None
        return min(times)

    def _announce_all_parked(self, wait: float, resource: str = "core") -> None:
        spent = f"primary rate limit ({_NAMES[resource]} quota spent)"
        reasons = sorted({a.block_reason or a.budgets[resource].park_reason or spent for a in self.accounts})
        self._emit(
            ProgressEvent(
                kind="wait",
                repo=self._repo,
                wait=wait,
                reason="every token is parked: " + "; ".join(reasons),
                quota={a.login: max(a.budgets[resource].remaining, 0) for a in self.accounts},
            )
        )

    def _too_long_message(self, wait: float, resource: str = "core") -> str:
        owners = ", ".join(f"{a.login} (token #{a.position})" for a in self.accounts)
        which = "" if resource == "core" else f" for the {_NAMES[resource]} API"
        return (
            f"every token is rate-limited{which}; the earliest reset is in {wait:.0f}s, longer than "
            f"max_wait={self.max_wait:.0f}s (accounts: {owners}). Add a token of another GitHub user "
            "(GITHUB_TOKENS=tok1,tok2), raise max_wait, or rerun later: the checkpoint keeps finished PRs"
        )

    def _emit(self, event: ProgressEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)
