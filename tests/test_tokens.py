"""TokenPool unit tests: selection by quota, owner de-duplication, parking, pausing, giving up."""

from __future__ import annotations

import threading
import time

import pytest

from pytest_ghseed.clock import ManualClock
from pytest_ghseed.errors import RateLimitWaitTooLong
from pytest_ghseed.fetch.tokens import TokenPool, TokenProbe
from pytest_ghseed.progress import ProgressEvent
from pytest_ghseed.secrets import Token, fingerprint, tokens_from_env


def probe(
    position: int, login: str, remaining: int, reset: float = 10_000.0, limit: int = 5000
) -> TokenProbe:
    return TokenProbe(
        position=position,
        token=Token(f"tok-{position}"),
        login=login,
        limit=limit,
        remaining=remaining,
        reset=reset,
    )


def test_tokens_from_env_prefers_the_list_and_drops_blanks() -> None:
    """GITHUB_TOKENS wins over GITHUB_TOKEN; blanks and spaces are dropped."""
    assert tokens_from_env({"GITHUB_TOKENS": " a, ,b ", "GITHUB_TOKEN": "c"}) == [Token("a"), Token("b")]
    assert tokens_from_env({"GITHUB_TOKEN": " c "}) == [Token("c")]
    assert tokens_from_env({}) == []


def test_fingerprint_is_short_stable_and_hides_the_token() -> None:
    """A fingerprint names a token without containing any of it."""
    token = "ghp_" + "A" * 36
    assert fingerprint(token) == fingerprint(token)
    assert "AAAA" not in fingerprint(token)
    assert len(fingerprint(token)) == len("sha256:") + 8


def test_picks_the_account_with_most_quota() -> None:
    """The account with the most remaining quota sends the next request."""
    pool = TokenPool([probe(1, "alice", 10), probe(2, "bob", 500)], clock=ManualClock(1000.0))
    lease = pool.acquire()
    assert lease.account.login == "bob"
    pool.release(
        lease,
        {"x-ratelimit-remaining": "3", "x-ratelimit-limit": "5000", "x-ratelimit-reset": "10000"},
        ok=True,
    )
    assert pool.acquire().account.login == "alice"


def test_tokens_of_one_user_count_once() -> None:
    """Two tokens of one user share one budget: the second is noted and not used."""
    pool = TokenPool([probe(1, "alice", 100), probe(2, "alice", 100), probe(3, "bob", 50)])
    assert [a.login for a in pool.accounts] == ["alice", "bob"]
    assert pool.total_remaining == 150
    assert any("token #2 belongs to alice" in note for note in pool.notes)
    assert all("tok-" not in note for note in pool.notes)


def test_headers_update_quota_and_a_new_window_replaces_it() -> None:
    """Within a window the lower figure wins; a later reset brings the new window's figure."""
    clock = ManualClock(1000.0)
    pool = TokenPool([probe(1, "alice", 100, reset=2000)], clock=clock)
    lease = pool.acquire()
    pool.release(
        lease,
        {"X-RateLimit-Remaining": "42", "X-RateLimit-Limit": "5000", "X-RateLimit-Reset": "2000"},
        ok=True,
    )
    assert pool.quota() == {"alice": 42}
    lease = pool.acquire()
    pool.release(
        lease,
        {"x-ratelimit-remaining": "4999", "x-ratelimit-limit": "5000", "x-ratelimit-reset": "5600"},
        ok=True,
    )
    assert pool.quota() == {"alice": 4999}


def test_spent_account_is_parked_until_reset_and_the_other_is_used() -> None:
    """An account at 0 is skipped while another has quota."""
    clock = ManualClock(1000.0)
    pool = TokenPool([probe(1, "alice", 1, reset=1500), probe(2, "bob", 1, reset=1500)], clock=clock)
    first = pool.acquire()
    second = pool.acquire()
    assert {first.account.login, second.account.login} == {"alice", "bob"}


def test_all_parked_waits_for_the_earliest_reset_and_says_so() -> None:
    """With every account spent, acquire waits until the earliest reset (an hour here) and says so."""
    events: list[ProgressEvent] = []
    clock = ManualClock()
    pool = TokenPool(
        [probe(1, "alice", 0, reset=clock.now() + 3000), probe(2, "bob", 0, reset=clock.now() + 3500)],
        on_event=events.append,
        clock=clock,
    )
    lease = pool.acquire()
    assert lease.account.login == "alice"
    assert clock.waited == pytest.approx(3000)
    waits = [e for e in events if e.kind == "wait"]
    assert waits and waits[0].wait == pytest.approx(3000)
    assert "every token is parked" in (waits[0].reason or "")


def test_gives_up_when_the_wait_exceeds_max_wait() -> None:
    """When the earliest reset is further than max_wait, a clear error names the accounts, not tokens."""
    clock = ManualClock(1000.0)
    pool = TokenPool([probe(1, "alice", 0, reset=clock.now() + 900)], clock=clock, max_wait=60)
    with pytest.raises(RateLimitWaitTooLong, match=r"earliest reset is in 900s.*max_wait=60s") as info:
        pool.acquire()
    assert "alice (token #1)" in str(info.value)
    assert "tok-1" not in str(info.value)


def test_block_pauses_every_request_of_that_user_until_it_ends() -> None:
    """After a secondary limit, no lease is given on that user before the block (a minute here) ends."""
    clock = ManualClock()
    pool = TokenPool([probe(1, "alice", 100)], max_in_flight=4, clock=clock)
    lease = pool.acquire()
    blocked_at = clock.now()
    pool.block(lease.account, 60, "secondary rate limit", secondary=True)
    pool.release(lease, None, ok=False)
    for _ in range(3):
        leased = pool.acquire()
        assert clock.now() >= blocked_at + 60
        pool.release(leased, None, ok=True)
    assert clock.waited == pytest.approx(60)


def test_secondary_limit_halves_concurrency_and_successes_restore_it() -> None:
    """A secondary limit halves how many requests one user may have in flight; a success streak adds one back."""
    pool = TokenPool([probe(1, "alice", 1000)], max_in_flight=8)
    account = pool.accounts[0]
    lease = pool.acquire()
    pool.block(account, 0.0, "secondary", secondary=True)
    pool.release(lease, None, ok=False)
    assert account.allowed_in_flight == 4
    for _ in range(20):
        pool.release(pool.acquire(), None, ok=True)
    assert account.allowed_in_flight == 5


def test_in_flight_cap_per_user() -> None:
    """No more than max_in_flight leases exist at once for one user."""
    pool = TokenPool([probe(1, "alice", 1000)], max_in_flight=2)
    first, second = pool.acquire(), pool.acquire()
    third: list[object] = []
    thread = threading.Thread(target=lambda: third.append(pool.acquire()))
    thread.start()
    thread.join(timeout=0.2)
    assert third == []
    pool.release(first, None, ok=True)
    thread.join(timeout=2)
    assert len(third) == 1
    pool.release(second, None, ok=True)


def test_free_answers_do_not_drain_the_local_quota() -> None:
    """304s (and unanswered requests) cost no quota: GitHub's figure, not our request count, is kept."""
    pool = TokenPool([probe(1, "alice", 10, reset=10_000)], clock=ManualClock(1000.0))
    for _ in range(30):
        lease = pool.acquire()
        pool.release(
            lease,
            {"x-ratelimit-remaining": "10", "x-ratelimit-limit": "5000", "x-ratelimit-reset": "10000"},
            ok=True,
        )
        lease = pool.acquire()
        pool.release(lease, None, ok=False)
    assert pool.quota() == {"alice": 10}


def test_cancel_wakes_a_thread_waiting_for_a_reset_at_once() -> None:
    """A cancelled crawl does not leave threads parked until a reset half a minute away."""
    from pytest_ghseed.fetch.tokens import FetchCancelled

    pool = TokenPool([probe(1, "alice", 0, reset=time.time() + 30)], max_wait=100)
    outcome: list[BaseException] = []

    def worker() -> None:
        try:
            pool.acquire()
        except FetchCancelled as exc:
            outcome.append(exc)

    thread = threading.Thread(target=worker)
    started = time.monotonic()
    thread.start()
    time.sleep(0.2)
    pool.cancel()
    thread.join(timeout=5)
    assert outcome and "stopped" in str(outcome[0])
    assert time.monotonic() - started < 2
    with pytest.raises(FetchCancelled):
        pool.pause(10)


# -- both budgets of a user: REST's requests (core) and GraphQL's points (graphql) -------------------


def graphql_probe(position: int, login: str, core: int, graphql: int, reset: float = 10_000.0) -> TokenProbe:
    return TokenProbe(
        position=position,
        token=Token(f"tok-{position}"),
        login=login,
        limit=5000,
        remaining=core,
        reset=reset,
        graphql=(5000, graphql, reset),
    )


def graphql_headers(remaining: int, reset: int = 10_000) -> dict[str, str]:
    return {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": "graphql",
    }


def test_most_remaining_is_chosen_per_resource() -> None:
    """REST goes to the user with the most requests left, GraphQL to the one with the most points left."""
    pool = TokenPool(
        [graphql_probe(1, "alice", core=4000, graphql=10), graphql_probe(2, "bob", core=100, graphql=3000)],
        clock=ManualClock(1000.0),
    )
    assert pool.acquire("core").account.login == "alice"
    assert pool.acquire("graphql").account.login == "bob"
    assert pool.quota("graphql") == {"alice": 10, "bob": 2999}


def test_headers_update_the_budget_they_name() -> None:
    """x-ratelimit-resource: graphql updates the GraphQL budget only; core headers the REST one."""
    pool = TokenPool([graphql_probe(1, "alice", core=4000, graphql=5000)], clock=ManualClock(1000.0))
    pool.release(pool.acquire("graphql"), graphql_headers(4321), ok=True)
    assert pool.quota("graphql") == {"alice": 4321} and pool.quota() == {"alice": 4000}
    pool.release(pool.acquire("core"), {**graphql_headers(99), "x-ratelimit-resource": "search"}, ok=True)
    assert pool.quota("graphql") == {"alice": 4321} and pool.quota() == {"alice": 4000}


def test_a_spent_graphql_budget_parks_graphql_only() -> None:
    """After GraphQL's primary limit, REST requests of the same user go on; GraphQL waits for its reset."""
    clock = ManualClock(1000.0)
    pool = TokenPool(
        [graphql_probe(1, "alice", core=4000, graphql=5000, reset=1300)], clock=clock, max_wait=600
    )
    lease = pool.acquire("graphql")
    pool.block(lease.account, 300, "GraphQL primary rate limit", secondary=False, resource="graphql")
    pool.release(lease, graphql_headers(0, reset=1300), ok=False)
    assert pool.acquire("core").account.login == "alice"
    assert clock.waited == 0
    pool.acquire("graphql")
    assert clock.waited == pytest.approx(300)


def test_a_secondary_limit_stops_both_budgets_of_the_account() -> None:
    """Secondary limits are per account: a block from a GraphQL answer stops REST requests too."""
    clock = ManualClock(1000.0)
    pool = TokenPool([graphql_probe(1, "alice", core=4000, graphql=5000)], clock=clock)
    lease = pool.acquire("graphql")
    pool.block(lease.account, 60, "secondary rate limit", secondary=True, resource="graphql")
    pool.release(lease, None, ok=False)
    pool.acquire("core")
    assert clock.waited == pytest.approx(60)


def test_graphql_waits_longer_than_max_wait_say_which_api() -> None:
    """Every GraphQL budget spent until after max_wait: the error names GraphQL, the accounts, no token."""
    clock = ManualClock(1000.0)
    pool = TokenPool([graphql_probe(1, "alice", core=4000, graphql=0, reset=2000)], clock=clock, max_wait=60)
    with pytest.raises(
        RateLimitWaitTooLong, match=r"rate-limited for the GraphQL API; the earliest reset is in 1000s"
    ):
        pool.acquire("graphql")
    assert pool.acquire("core").account.login == "alice"
