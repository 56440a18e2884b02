"""TokenPool: which token sends the next request, and when none may.

GitHub budgets requests per *user*, not per token, and its secondary limits are per user too. So the
pool works in accounts: one per distinct token owner (tokens of one user count once), each with the
quota last reported by GitHub, a block (``blocked_until``) set by a rate-limit answer, and the number
of requests in flight. ``acquire()`` hands out the account with the most quota that may send now;
when none may, it waits for the earliest reset with a visible message, or stops with
``RateLimitWaitTooLong`` when that wait is longer than ``max_wait``.

No request is ever sent on an account while it is told to wait: every request goes through
``acquire()``, which refuses blocked accounts, for every thread at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class TokenProbe:
    """What ``/rate_limit`` and ``/user`` said about one token before the crawl."""

    position: int  # 1-based position in the list the user gave
    token: Token | None  # None: unauthenticated
    login: str  # the owner; "anonymous" without a token
    limit: int
    remaining: int
    reset: float


@dataclass(slots=True)
class Account:
    """One GitHub user's budget, shared by all of that user's tokens."""

    login: str
    token: Token | None
    position: int
    limit: int
    remaining: int
    reset: float
    max_in_flight: int
    in_flight: int = 0
    blocked_until: float = 0.0
    block_reason: str = ""
    duplicate_positions: tuple[int, ...] = ()
    # Adaptive concurrency: a secondary limit halves this, a run of successes raises it again.
    allowed_in_flight: int = 0
    success_streak: int = 0

    def __post_init__(self) -> None:
        if self.allowed_in_flight == 0:
            self.allowed_in_flight = self.max_in_flight


@dataclass(frozen=True, slots=True)
class Lease:
    """Permission to send one request on an account; give it back with ``TokenPool.release``."""

    account: Account
    sent_at: float


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
            account = Account(
                login=probe.login,
                token=probe.token,
                position=probe.position,
                limit=probe.limit,
                remaining=probe.remaining,
                reset=probe.reset,
                max_in_flight=max_in_flight,
            )
            by_login[probe.login] = account
            self.accounts.append(account)

    # -- reading ---------------------------------------------------------------------------------

    def quota(self) -> dict[str, int]:
        """Remaining primary quota per account owner, as last reported by GitHub."""
        with self._cond:
            return {a.login: max(a.remaining, 0) for a in self.accounts}

    @property
    def total_remaining(self) -> int:
        return sum(self.quota().values())

    # -- the request cycle -----------------------------------------------------------------------

    def acquire(self) -> Lease:
        """Block until some account may send a request, then reserve one request on it."""
        announced: float | None = None
        with self._cond:
            while True:
                if self.cancelled:
                    raise FetchCancelled(_CANCELLED)
                now = self._clock.now()
                for account in self.accounts:
                    if account.remaining <= 0 and account.reset <= now:
                        # The window has reset; the next response tells the real figure. (At least one
                        # request: a server reporting a limit of 0 gets asked, not waited for forever.)
                        account.remaining = max(account.limit, 1)
                free = [
                    a
                    for a in self.accounts
                    if a.blocked_until <= now and a.remaining > 0 and a.in_flight < a.allowed_in_flight
                ]
                if free:
                    account = max(free, key=lambda a: (a.remaining, -a.in_flight))
                    account.in_flight += 1
                    account.remaining -= 1
                    return Lease(account=account, sent_at=now)
                wake_at = self._earliest_unpark(now)
                if wake_at is None:
                    # Every account is merely busy: wait for a release.
                    self._clock.wait(self._cond, 1.0)
                    continue
                wait = max(wake_at - now, 0.0)
                if wait > self.max_wait:
                    msg = self._too_long_message(wait)
                    raise RateLimitWaitTooLong(msg)
                if announced is None or abs(announced - wake_at) > 0.5:
                    announced = wake_at
                    self._announce_all_parked(wait)
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
        return lease.account.blocked_until <= self._clock.now()

    def release(self, lease: Lease, headers: Mapping[str, str] | None, *, ok: bool) -> None:
        """Return a lease with the response headers (``None`` when no response came)."""
        with self._cond:
            account = lease.account
            account.in_flight -= 1
            account.remaining += 1  # the unit reserved by acquire(); the headers say what was spent
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

    def block(self, account: Account, seconds: float, reason: str, *, secondary: bool) -> None:
        """Pause every request of ``account``'s user for ``seconds`` (all threads)."""
        with self._cond:
            now = self._clock.now()
            until = now + max(seconds, 0.0)
            if until > account.blocked_until:
                account.blocked_until = until
                account.block_reason = reason
                self._emit(
                    ProgressEvent(
                        kind="wait",
                        repo=self._repo,
                        wait=seconds,
                        reason=reason,
                        user=account.login,
                        quota={a.login: max(a.remaining, 0) for a in self.accounts},
                    )
                )
            if secondary:
                # Secondary limits punish concurrency: halve it for this user, recover slowly.
                account.allowed_in_flight = max(1, account.allowed_in_flight // 2)
                account.success_streak = 0
            else:
                account.remaining = 0
            self._cond.notify_all()

    # -- internals -------------------------------------------------------------------------------

    def _update_quota(self, account: Account, headers: Mapping[str, str]) -> None:
        info = parse_rate_headers(headers)
        if info is None or info.resource not in (None, "", "core"):
            return
        if info.reset > account.reset + 0.5:
            account.reset = info.reset  # a new window
        account.limit = info.limit
        # GitHub's figure, less the units reserved by requests still in flight (a 304 spends none,
        # so trusting the header, not counting our own requests, keeps free revalidations free).
        account.remaining = info.remaining - account.in_flight

    def _earliest_unpark(self, now: float) -> float | None:
        """When the first parked account may send again; None when no account is parked."""
        times: list[float] = []
        parked_all = True
        for account in self.accounts:
            if account.blocked_until > now:
                times.append(account.blocked_until)
            elif account.remaining <= 0:
                times.append(account.reset)
            else:
                parked_all = False
        if not parked_all or not times:
            return None
        return min(times)

    def _announce_all_parked(self, wait: float) -> None:
        reasons = sorted({a.block_reason or "primary rate limit (quota spent)" for a in self.accounts})
        self._emit(
            ProgressEvent(
                kind="wait",
                repo=self._repo,
                wait=wait,
                reason="every token is parked: " + "; ".join(reasons),
                quota={a.login: max(a.remaining, 0) for a in self.accounts},
            )
        )

    def _too_long_message(self, wait: float) -> str:
        owners = ", ".join(f"{a.login} (token #{a.position})" for a in self.accounts)
        return (
            f"every token is rate-limited; the earliest reset is in {wait:.0f}s, longer than "
            f"max_wait={self.max_wait:.0f}s (accounts: {owners}). Add a token of another GitHub user "
            "(GITHUB_TOKENS=tok1,tok2), raise max_wait, or rerun later: the checkpoint keeps finished PRs"
        )

    def _emit(self, event: ProgressEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)
