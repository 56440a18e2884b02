"""Rate-limit accounting: primary budgets per window and secondary blocks, per account.

An *identity* is a user login for authenticated requests (so tokens of one user share everything)
or ``ip:<address>`` for unauthenticated ones. All state sits behind one lock: the admit decision and
the charge happen atomically, so concurrent requests can never overspend a budget.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from pytest_ghseed.emulator.config import EmulatorConfig, SecondaryVariant


@dataclass(frozen=True)
class Quota:
    """The values of the ``X-RateLimit-*`` headers for one response."""

    limit: int
    remaining: int
    used: int
    reset: int  # epoch seconds


@dataclass(frozen=True)
class Verdict:
    """What to do with one request: serve it, or refuse it with a primary or a secondary limit."""

    kind: Literal["ok", "primary", "secondary"]
    quota: Quota
    #: True when the caller had already been told to wait (a block was active, or quota was 0).
    violation: bool = False
    #: Secondary refusals only: how the response looks, and how long to wait.
    variant: SecondaryVariant = "retry-after"
    retry_after: int = 0
    abuse_message: bool = False


@dataclass
class _Budget:
    """A primary budget of points that refills when its window ends (GraphQL's, beside REST's requests)."""

    limit: int
    used: int = 0
    reset_at: float | None = None  # None until the first charge opens a window
    exhausted_told_at: float = math.inf


@dataclass
class _Account:
    limit: int
    used: int = 0
    reset_at: float | None = None  # None until the first charged request opens a window
    in_flight: int = 0
    recent: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    block_variant: SecondaryVariant = "retry-after"
    block_abuse: bool = False
    injected: deque[tuple[SecondaryVariant, bool]] = field(default_factory=deque)
    # When the client was first *told* (a response left the server) about the current block and
    # about the exhausted budget. Only requests sent after that are violations: requests already
    # in flight when the news went out could not have known.
    block_told_at: float = math.inf
    exhausted_told_at: float = math.inf
    #: GraphQL: its own primary budget, and (time, points) of recent queries for the secondary limit.
    graphql: _Budget | None = None
    graphql_points: deque[tuple[float, int]] = field(default_factory=deque)


class RateLimiter:
    """Primary and secondary limits of every identity, as GitHub enforces them."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}

    def _account(self, identity: str) -> _Account:
        account = self._accounts.get(identity)
        if account is None:
            limit = (
                self.config.unauthenticated_limit if identity.startswith("ip:") else self.config.primary_limit
            )
            account = self._accounts[identity] = _Account(limit)
        return account

    def _roll_window(self, account: _Account, now: float) -> None:
        if account.reset_at is not None and now >= account.reset_at:
            account.used, account.reset_at, account.exhausted_told_at = 0, None, math.inf

    def _quota(self, account: _Account, now: float) -> Quota:
        reset_at = account.reset_at if account.reset_at is not None else now + self.config.window_seconds
        # Rounded up: a client that sleeps until the advertised reset must never arrive early.
        return Quota(account.limit, max(0, account.limit - account.used), account.used, math.ceil(reset_at))

    def quota(self, identity: str, now: float) -> Quota:
        """The current quota of an identity, without charging anything."""
        with self._lock:
            account = self._account(identity)
            self._roll_window(account, now)
            return self._quota(account, now)

    def enter(self, identity: str) -> None:
        """A request of this identity is in flight (counts toward the concurrency limit)."""
        with self._lock:
            self._account(identity).in_flight += 1

    def leave(self, identity: str) -> None:
        """A request of this identity has been answered."""
        with self._lock:
            self._account(identity).in_flight -= 1

    def inject(self, identity: str, count: int, variant: SecondaryVariant, abuse_message: bool) -> None:
        """The next ``count`` admitted requests of this identity get a secondary limit."""
        with self._lock:
            self._account(identity).injected.extend([(variant, abuse_message)] * count)

    def refund(self, identity: str, now: float) -> Quota:
        """Give back the unit charged for a request that turned out free (a 304)."""
        with self._lock:
            account = self._account(identity)
            account.used = max(0, account.used - 1)
            return self._quota(account, now)

    def told(self, identity: str, verdict: Verdict, quota: Quota, sent_at: float) -> None:
        """Note that a response telling the client to wait (a limit, or remaining 0) went out."""
        with self._lock:
            account = self._account(identity)
            if verdict.kind == "secondary":
                account.block_told_at = min(account.block_told_at, sent_at)
            elif verdict.kind == "primary" or quota.remaining == 0:
                account.exhausted_told_at = min(account.exhausted_told_at, sent_at)

    def admit(self, identity: str, now: float, sent_at: float) -> Verdict:
        """Decide one request (sent by the client at ``sent_at``) and, if served, charge it one unit."""
        cfg = self.config
        with self._lock:
            account = self._account(identity)
            self._roll_window(account, now)
            if now < account.blocked_until:
                told = sent_at >= account.block_told_at + cfg.violation_grace_seconds
                return self._secondary(
                    account, now, account.block_variant, account.block_abuse, violation=told
                )
            if account.reset_at is not None and account.used >= account.limit:
                told = sent_at >= account.exhausted_told_at + cfg.violation_grace_seconds
                return Verdict("primary", self._quota(account, now), violation=told)
            account.recent.append(now)
            while account.recent and account.recent[0] <= now - cfg.secondary_window_seconds:
                account.recent.popleft()
            if account.injected:
                variant, abuse = account.injected.popleft()
                return self._trigger(account, now, variant, abuse)
            too_fast = (
                cfg.secondary_max_requests is not None and len(account.recent) > cfg.secondary_max_requests
            )
            if self._too_concurrent(account) or too_fast:
                return self._trigger(account, now, cfg.secondary_variant, False)
            if account.reset_at is None:
                account.reset_at = now + cfg.window_seconds
            account.used += 1
            return Verdict("ok", self._quota(account, now))

    def _too_concurrent(self, account: _Account) -> bool:
        limit = self.config.secondary_max_concurrent
        return limit is not None and account.in_flight > limit

    def _trigger(
        self,
        account: _Account,
        now: float,
        variant: SecondaryVariant,
        abuse: bool,
        budget: _Budget | None = None,
    ) -> Verdict:
        account.blocked_until = now + self.config.secondary_block_seconds
        account.block_told_at = math.inf
        account.block_variant, account.block_abuse = variant, abuse
        return self._secondary(account, now, variant, abuse, violation=False, budget=budget)

    def _secondary(
        self,
        account: _Account,
        now: float,
        variant: SecondaryVariant,
        abuse: bool,
        *,
        violation: bool,
        budget: _Budget | None = None,
    ) -> Verdict:
        # The headers of a refusal describe the budget of the resource asked (core, or graphql).
        quota = self._quota(account, now) if budget is None else self._budget_quota(budget, now)
        if variant == "reset":
            # GitHub's other shape: no Retry-After, remaining untouched, reset at the block's end.
            quota = Quota(quota.limit, quota.remaining, quota.used, math.ceil(account.blocked_until))
        wait = max(1, math.ceil(account.blocked_until - now))
        return Verdict("secondary", quota, violation, variant, wait, abuse)

    # -- GraphQL: its own budget of points; the secondary state (blocks, concurrency) is the account's --

    def _budget(self, identity: str, now: float) -> tuple[_Account, _Budget]:
        account = self._account(identity)
        self._roll_window(account, now)
        budget = account.graphql
        if budget is None:
            # GitHub's GraphQL API has no unauthenticated budget (it answers 401 first anyway).
            limit = 0 if identity.startswith("ip:") else self.config.graphql_limit
            budget = account.graphql = _Budget(limit)
        if budget.reset_at is not None and now >= budget.reset_at:
            budget.used, budget.reset_at, budget.exhausted_told_at = 0, None, math.inf
        return account, budget

    def _budget_quota(self, budget: _Budget, now: float) -> Quota:
        reset_at = budget.reset_at if budget.reset_at is not None else now + self.config.window_seconds
        return Quota(budget.limit, max(0, budget.limit - budget.used), budget.used, math.ceil(reset_at))

    def graphql_quota(self, identity: str, now: float) -> Quota:
        """The current GraphQL budget of an identity, without charging anything."""
        with self._lock:
            _, budget = self._budget(identity, now)
            return self._budget_quota(budget, now)

    def admit_graphql(self, identity: str, now: float, sent_at: float, points: int) -> Verdict:
        """The gate before a GraphQL query is read: secondary limits, then an exhausted budget.

        ``points`` is the query's weight for the secondary limit (GitHub: 1 for a query, 5 for a
        mutation), which is not its primary cost: that is charged by :meth:`charge_graphql` once the
        query is analysed. Nothing is charged here.
        """
        cfg = self.config
        with self._lock:
            account, budget = self._budget(identity, now)
            if now < account.blocked_until:
                told = sent_at >= account.block_told_at + cfg.violation_grace_seconds
                return self._secondary(
                    account, now, account.block_variant, account.block_abuse, violation=told, budget=budget
                )
            if budget.reset_at is not None and budget.used >= budget.limit:
                told = sent_at >= budget.exhausted_told_at + cfg.violation_grace_seconds
                return Verdict("primary", self._budget_quota(budget, now), violation=told)
            recent = account.graphql_points
            recent.append((now, points))
            while recent and recent[0][0] <= now - cfg.secondary_window_seconds:
                recent.popleft()
            if account.injected:
                variant, abuse = account.injected.popleft()
                return self._trigger(account, now, variant, abuse, budget)
            cap = cfg.graphql_secondary_points
            too_many_points = cap is not None and sum(p for _, p in recent) > cap
            if self._too_concurrent(account) or too_many_points:
                return self._trigger(account, now, cfg.secondary_variant, False, budget)
            return Verdict("ok", self._budget_quota(budget, now))

    def charge_graphql(self, identity: str, now: float, cost: int) -> Quota | None:
        """Charge an analysed query ``cost`` points; None (nothing charged) when fewer remain."""
        with self._lock:
            _, budget = self._budget(identity, now)
            if cost > budget.limit - budget.used:
                return None
            if cost > 0:
                if budget.reset_at is None:
                    budget.reset_at = now + self.config.window_seconds
                budget.used += cost
            return self._budget_quota(budget, now)

    def told_graphql(self, identity: str, quota: Quota, sent_at: float) -> None:
        """Note that a GraphQL answer showing an empty budget (remaining 0) went out."""
        if quota.remaining > 0:
            return
        with self._lock:
            _, budget = self._budget(identity, sent_at)
            budget.exhausted_told_at = min(budget.exhausted_told_at, sent_at)
