"""Tests of the factory-boy factories: invariants under every trait, seeding from a snapshot, determinism."""

from __future__ import annotations

import bisect
import math
import random
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import factory.random
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ghseed.emulator.synthetic import ProjectSpec, SyntheticProject
from pytest_ghseed.errors import GhseedError
from pytest_ghseed.factories import (
    LARGE_MIN_FILES,
    LARGE_MIN_LINES,
    CommitFactory,
    FileChangeFactory,
    IssueCommentFactory,
    PullRequestFactory,
    RealPullRequestFactory,
    ReviewCommentFactory,
    ReviewFactory,
    UserFactory,
    make_real_factory,
)
from pytest_ghseed.models import (
    Commit,
    FileChange,
    IssueComment,
    PullRequest,
    Repository,
    Review,
    ReviewComment,
    Snapshot,
    User,
)

SHA = re.compile(r"[0-9a-f]{40}")
RECORDED_AT = datetime(2025, 1, 1, tzinfo=UTC)
#: Traits under test, each alone, and the plain default.
TRAITS: list[dict[str, bool]] = [
    {},
    {"merged": True},
    {"draft": True},
    {"closed_unmerged": True},
    {"with_reviews": True},
    {"large": True},
    {"bot_author": True},
]
TRAIT_IDS = [next(iter(t), "default") for t in TRAITS]
N_PER_TRAIT = 500


def snapshot_of(prs: Sequence[PullRequest], full_name: str = "ghseed/demo") -> Snapshot:
    """A snapshot of ``prs`` as the store would hand it to fixtures."""
    return Snapshot(repository=Repository(full_name=full_name, id=1), recorded_at=RECORDED_AT, prs=tuple(prs))


@pytest.fixture(scope="session")
def demo_snapshot() -> Snapshot:
    """The demo project with 200 pull requests: enough for stable distributions, built in ~0.3 s."""
    truth = SyntheticProject(ProjectSpec("ghseed/demo", n_prs=200, seed=20240101, extremes=True)).truth()
    return snapshot_of(truth)


@pytest.fixture(scope="session")
def demo_factory(demo_snapshot: Snapshot) -> RealPullRequestFactory:
    """A real-seeded factory over the demo snapshot, to derive other seeds from with ``with_seed``."""
    return make_real_factory(demo_snapshot, seed=0)


def pairs_of(prs: Sequence[PullRequest]) -> set[tuple[str, str]]:
    """The (author, reviewer) login pairs of these pull requests."""
    return {
        (pr.user.login, review.user.login)
        for pr in prs
        for review in pr.reviews
        if pr.user is not None and review.user is not None
    }


@pytest.fixture(scope="session")
def real_pairs(demo_snapshot: Snapshot) -> set[tuple[str, str]]:
    """Every (author, reviewer) login pair that occurs in the demo snapshot."""
    return pairs_of(demo_snapshot.prs)


def problems(pr: PullRequest) -> list[str]:
    """Every broken invariant of one pull request, described; empty when it is consistent."""
    found: list[str] = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            found.append(f"#{pr.number}: {what}")

    check(pr.state in ("open", "closed"), f"state {pr.state!r}")
    if pr.merged:
        check(pr.state == "closed", "merged but not closed")
        check(
            pr.merged_at is not None and pr.closed_at == pr.merged_at, "merged without merged_at == closed_at"
        )
        check(pr.merged_by is not None, "merged without merged_by")
        check(not pr.draft, "merged draft")
    else:
        check(pr.merged_at is None and pr.merged_by is None, "merged_at/merged_by on an unmerged pull")
    check((pr.state == "closed") == (pr.closed_at is not None), "closed_at disagrees with state")
    check(pr.changed_files == len(pr.files), "changed_files != len(files)")
    check(pr.additions == sum(f.additions for f in pr.files), "additions != sum over files")
    check(pr.deletions == sum(f.deletions for f in pr.files), "deletions != sum over files")
    check(all(f.changes == f.additions + f.deletions for f in pr.files), "file changes != a + d")
    check(len({f.filename for f in pr.files}) == len(pr.files), "a path listed twice")
    check(pr.commits_count == len(pr.commits), "commits_count != len(commits)")
    check(pr.comments_count == len(pr.issue_comments), "comments_count != len(issue_comments)")
    check(pr.review_comments_count == len(pr.review_comments), "review_comments_count != len(...)")
    check(all(SHA.fullmatch(c.sha) for c in pr.commits), "a commit sha is not 40 hex")
    check(SHA.fullmatch(pr.head_sha) is not None, "head_sha is not 40 hex")
    check(not pr.commits or pr.head_sha == pr.commits[-1].sha, "head_sha is not the last commit")
    check(all(r.commit_id is None or SHA.fullmatch(r.commit_id) for r in pr.reviews), "review commit_id")
    author = pr.user.login if pr.user is not None else None
    check(all(r.user is None or r.user.login != author for r in pr.reviews), "author reviews own pull")
    check(pr.created_at.tzinfo is not None, "naive created_at")
    end = pr.merged_at or pr.closed_at or pr.updated_at
    check(pr.created_at <= pr.updated_at, "updated_at before created_at")
    moments = [r.submitted_at for r in pr.reviews if r.submitted_at is not None]
    moments += [c.created_at for c in pr.review_comments] + [c.created_at for c in pr.issue_comments]
    check(all(pr.created_at <= m <= end for m in moments), "a review or comment outside created..end")
    paths = {f.filename for f in pr.files}
    check(all(c.path in paths for c in pr.review_comments), "a review comment on a file not changed")
    ids = [c.id for c in pr.review_comments]
    check(all(c.in_reply_to_id in ids for c in pr.review_comments if c.in_reply_to_id), "dangling reply")
    return found


def trait_problems(pr: PullRequest, trait: dict[str, bool], large_lines: int, large_files: int) -> list[str]:
    """What a pull request built with ``trait`` lacks of what the trait promises."""
    name = next(iter(trait), "default")
    promised = {
        "default": True,
        "merged": pr.merged and pr.state == "closed",
        "draft": pr.draft and pr.state == "open",
        "closed_unmerged": pr.state == "closed" and not pr.merged,
        "with_reviews": len(pr.reviews) >= 1,
        "large": pr.additions + pr.deletions >= large_lines and pr.changed_files >= large_files,
        "bot_author": pr.user is not None and pr.user.is_bot,
    }[name]
    return [] if promised else [f"#{pr.number}: not {name}"]


# -- the plain factories ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("trait", TRAITS, ids=TRAIT_IDS)
def test_plain_factory_invariants_per_trait(trait: dict[str, bool]) -> None:
    """500 pull requests per trait from PullRequestFactory are all consistent and have the trait."""
    prs = PullRequestFactory.build_batch(N_PER_TRAIT, rng=random.Random(4242), **trait)
    broken = [
        p for pr in prs for p in problems(pr) + trait_problems(pr, trait, LARGE_MIN_LINES, LARGE_MIN_FILES)
    ]
    assert broken == []


def test_plain_factory_default_mix_covers_every_outcome() -> None:
    """The default mix has merged, closed and open (some draft) pull requests, with and without reviews."""
    prs = PullRequestFactory.build_batch(300, rng=random.Random(7))
    assert {pr.state for pr in prs} == {"open", "closed"}
    assert any(pr.merged for pr in prs)
    assert any(pr.state == "closed" and not pr.merged for pr in prs)
    assert any(pr.draft for pr in prs)
    assert any(pr.reviews for pr in prs)
    assert any(not pr.reviews for pr in prs)
    assert any(pr.user is not None and pr.user.is_bot for pr in prs)


def test_plain_factory_overrides_keep_consistency() -> None:
    """Overriding the author, the creation time or the field behind a trait keeps the rest consistent."""
    author = User(login="someone-new", id=1, type="User")
    created = datetime(2020, 5, 5, tzinfo=UTC)
    prs = [
        PullRequestFactory.build(rng=random.Random(seed), user=author, created_at=created, is_merged=True)
        for seed in range(50)
    ]
    assert all(pr.user == author and pr.created_at == created and pr.merged for pr in prs)
    assert [p for pr in prs for p in problems(pr)] == []
    files = (
        FileChangeFactory.build(additions=3, deletions=4),
        FileChangeFactory.build(additions=1, deletions=0),
    )
    pr = PullRequestFactory.build(files=files)
    assert (pr.additions, pr.deletions, pr.changed_files) == (4, 4, 2)


def test_plain_factory_reproducible_with_factory_boy_reseed() -> None:
    """Without an explicit rng, reseeding factory-boy's generator reproduces a pull request."""
    saved = factory.random.randgen.getstate()
    try:
        factory.random.randgen.seed(99)
        first = PullRequestFactory.build(number=1)
        factory.random.randgen.seed(99)
        second = PullRequestFactory.build(number=1)
    finally:
        # Leave factory-boy's global generator as we found it, for the tests that run after us.
        factory.random.randgen.setstate(saved)
    assert first == second


def test_single_object_factories_build_models() -> None:
    """Each model has a factory that builds that model, with its traits applied."""
    rng = random.Random(1)
    assert isinstance(UserFactory.build(), User)
    bot = UserFactory.build(bot=True)
    assert bot.is_bot
    assert bot.login.endswith("[bot]")
    review = ReviewFactory.build(rng=rng)
    assert isinstance(review, Review)
    assert review.submitted_at is not None
    assert review.state != "PENDING"
    pending = ReviewFactory.build(pending=True)
    assert pending.state == "PENDING"
    assert pending.submitted_at is None
    commit = CommitFactory.build(rng=rng)
    assert isinstance(commit, Commit)
    assert SHA.fullmatch(commit.sha)
    assert CommitFactory.build(unlinked=True).author_login is None
    change = FileChangeFactory.build(rng=rng)
    assert isinstance(change, FileChange)
    assert change.changes == change.additions + change.deletions
    assert FileChangeFactory.build(binary=True).patch is None
    assert FileChangeFactory.build(status="renamed").previous_filename is not None
    comment = ReviewCommentFactory.build(rng=rng)
    assert isinstance(comment, ReviewComment)
    assert comment.line is not None
    assert ReviewCommentFactory.build(outdated=True).line is None
    assert isinstance(IssueCommentFactory.build(rng=rng), IssueComment)
    assert ReviewFactory.build(user__login="carol").user == User("carol", UserFactory.build(login="carol").id)


def test_pytest_factoryboy_registration(pytester: pytest.Pytester) -> None:
    """register(PullRequestFactory) gives pull_request and pull_request_factory; traits register too."""
    pytest.importorskip("pytest_factoryboy")
    pytester.makepyfile(
        """
        from pytest_factoryboy import register
        from pytest_ghseed.factories import PullRequestFactory, ReviewFactory, UserFactory

        register(UserFactory)
        register(ReviewFactory)
        register(PullRequestFactory)
        register(PullRequestFactory, "merged_pull_request", merged=True)
        register(PullRequestFactory, "closed_pull_request", outcome="closed")

        def test_fixtures(pull_request, pull_request_factory, review, user):
            assert pull_request.commits_count == len(pull_request.commits)
            assert issubclass(pull_request_factory, PullRequestFactory)
            assert review.user == user

        def test_registered_with_a_trait(merged_pull_request):
            assert merged_pull_request.merged and merged_pull_request.state == "closed"

        def test_registered_with_a_parameter(closed_pull_request):
            assert closed_pull_request.state == "closed" and not closed_pull_request.merged

        def test_traits_through_the_factory_fixture(pull_request_factory):
            assert pull_request_factory(draft=True).draft
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


# -- seeded from a snapshot ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("trait", TRAITS, ids=TRAIT_IDS)
def test_real_factory_invariants_per_trait(
    trait: dict[str, bool], demo_snapshot: Snapshot, real_pairs: set[tuple[str, str]]
) -> None:
    """500 real-seeded pull requests per trait are consistent, have the trait, and pair real people."""
    real = make_real_factory(demo_snapshot, seed=31337)
    prs = real.build_batch(N_PER_TRAIT, **trait)
    broken = [p for pr in prs for p in problems(pr) + trait_problems(pr, trait, real.large_threshold, 1)]
    assert broken == []
    assert pairs_of(prs) <= real_pairs


def test_real_factory_draws_values_from_the_snapshot(demo_snapshot: Snapshot) -> None:
    """Titles, bodies, authors, file paths, labels and commit messages all occur in the snapshot."""
    real_prs = demo_snapshot.prs
    prs = make_real_factory(demo_snapshot, seed=5).build_batch(200)
    assert {pr.title for pr in prs} <= {pr.title for pr in real_prs}
    assert {pr.body for pr in prs} <= {pr.body for pr in real_prs}
    assert {pr.labels for pr in prs} <= {pr.labels for pr in real_prs}
    assert {pr.user for pr in prs} <= {pr.user for pr in real_prs}
    assert {f.filename for pr in prs for f in pr.files} <= {f.filename for pr in real_prs for f in pr.files}
    assert {c.message for pr in prs for c in pr.commits} <= {c.message for pr in real_prs for c in pr.commits}
    # New numbers and ids: generated pull requests can sit next to the real ones in one database.
    assert min(pr.number for pr in prs) > max(pr.number for pr in real_prs)
    assert min(pr.id for pr in prs) > max(pr.id for pr in real_prs)


def ks_statistic(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    xs, ys = sorted(a), sorted(b)
    # Evaluate both CDFs at every observed value (right-continuous, so ties count in full).
    return max(
        abs(bisect.bisect_right(xs, v) / len(xs) - bisect.bisect_right(ys, v) / len(ys)) for v in xs + ys
    )


def ks_critical(n: int, m: int, c_alpha: float = 1.949) -> float:
    """The asymptotic two-sample KS critical value; c(0.001) = 1.949."""
    return c_alpha * math.sqrt((n + m) / (n * m))


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by the nearest-rank method (a value that occurs in the data)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def hours_to_merge(prs: Sequence[PullRequest]) -> list[float]:
    """Time from creation to merge of the merged pull requests, in hours."""
    return [(pr.merged_at - pr.created_at) / timedelta(hours=1) for pr in prs if pr.merged_at is not None]


METRICS: dict[str, Callable[[Sequence[PullRequest]], list[float]]] = {
    "additions": lambda prs: [float(pr.additions) for pr in prs],
    "review_count": lambda prs: [float(len(pr.reviews)) for pr in prs],
    "hours_to_merge": hours_to_merge,
}


@pytest.fixture(scope="module")
def generated_for_distributions(demo_snapshot: Snapshot) -> list[PullRequest]:
    """1,000 pull requests from the real-seeded factory, shared by the distribution tests."""
    return make_real_factory(demo_snapshot, seed=2024).build_batch(1000)


@pytest.mark.slow
@pytest.mark.parametrize("metric", sorted(METRICS))
def test_real_factory_matches_snapshot_distributions(
    metric: str, demo_snapshot: Snapshot, generated_for_distributions: list[PullRequest]
) -> None:
    """Additions, review counts and time to merge follow the snapshot's distributions (KS and quantiles)."""
    real = METRICS[metric](demo_snapshot.prs)
    generated = METRICS[metric](generated_for_distributions)
    # The factory resamples real values, so any gap between the two samples is sampling noise. The
    # KS critical value at alpha = 0.001 bounds that noise for samples of these sizes (about 0.15
    # for 1,000 against 200); a factory that drew from the wrong distribution (say, independent
    # per-file sizes for bots, or uniform review counts) lands well above it.
    statistic = ks_statistic(generated, real)
    assert statistic < ks_critical(len(generated), len(real)), f"{metric}: KS {statistic:.3f}"
    # Quantiles: each generated p25/p50/p75/p90 must lie between the real quantiles 0.1 below and
    # 0.1 above it. A tolerance in probability rather than in units holds for counts and for
    # heavy-tailed hours alike; 0.1 is a little above the KS bound, which already implies it.
    for q in (0.25, 0.5, 0.75, 0.9):
        low, high = quantile(real, max(0.0, q - 0.1)), quantile(real, min(1.0, q + 0.1))
        assert low <= quantile(generated, q) <= high, f"{metric} p{round(q * 100)}"


def test_real_factory_conditions_reviewers_on_the_author(
    demo_snapshot: Snapshot, real_pairs: set[tuple[str, str]]
) -> None:
    """An overridden real author gets only their real reviewers; an unknown author gets none."""
    real = make_real_factory(demo_snapshot, seed=3)
    author = next(pr.user for pr in demo_snapshot.prs if pr.user is not None and pr.reviews)
    prs = real.build_batch(100, user=author, with_reviews=True)
    assert all(pr.reviews for pr in prs)
    assert {(author.login, r.user.login) for pr in prs for r in pr.reviews if r.user} <= real_pairs
    stranger = User(login="never-seen", id=2, type="User")
    assert all(not pr.reviews for pr in real.build_batch(20, user=stranger))
    with pytest.raises(GhseedError, match="never-seen"):
        real.build(user=stranger, with_reviews=True)


def test_real_factory_build_batch_with_trait_and_overrides(demo_snapshot: Snapshot) -> None:
    """build_batch(50, merged=True) gives 50 merged pull requests; field overrides are honoured."""
    real = make_real_factory(demo_snapshot, seed=1)
    assert all(pr.merged for pr in real.build_batch(50, merged=True))
    assert [pr.title for pr in real.create_batch(3, title="Pinned")] == ["Pinned"] * 3
    assert real.create(closed_unmerged=True).state == "closed"
    assert isinstance(real(), PullRequest)


# -- determinism ----------------------------------------------------------------------------------------


def test_same_seed_same_objects_whatever_global_state(demo_snapshot: Snapshot) -> None:
    """Two factories with one seed build equal pull requests, even with global random use between."""
    first = make_real_factory(demo_snapshot, seed=123).build_batch(40, with_reviews=True)
    random.random()
    PullRequestFactory.build_batch(5)  # advances factory-boy's global generator and sequences
    second = make_real_factory(demo_snapshot, seed=123).build_batch(40, with_reviews=True)
    assert first == second


def test_different_seed_different_objects(demo_snapshot: Snapshot) -> None:
    """Another seed gives other pull requests."""
    first = make_real_factory(demo_snapshot, seed=123).build_batch(10)
    other = make_real_factory(demo_snapshot, seed=124).build_batch(10)
    assert first != other
    assert [pr.title for pr in first] != [pr.title for pr in other]


def test_seed_is_exposed_and_reproduces(demo_snapshot: Snapshot) -> None:
    """Without a seed the factory picks one, exposes it as .seed, and that seed reproduces the data."""
    unseeded = RealPullRequestFactory.from_snapshot(demo_snapshot)
    assert isinstance(unseeded.seed, int)
    assert str(unseeded.seed) in repr(unseeded)
    built = unseeded.build_batch(5)
    assert make_real_factory(demo_snapshot, unseeded.seed).build_batch(5) == built
    unseeded.reset()
    assert unseeded.build_batch(5) == built


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_any_seed_gives_consistent_reproducible_prs(
    seed: int, demo_snapshot: Snapshot, demo_factory: RealPullRequestFactory, real_pairs: set[tuple[str, str]]
) -> None:
    """For any seed, the real factory's pull requests are consistent, real-paired and reproducible."""
    prs = make_real_factory(demo_snapshot, seed).build_batch(4)
    assert [p for pr in prs for p in problems(pr)] == []
    assert pairs_of(prs) <= real_pairs
    assert demo_factory.with_seed(seed).build_batch(4) == prs


# -- errors -----------------------------------------------------------------------------------------------


def test_empty_snapshot_is_a_clear_error() -> None:
    """A snapshot without pull requests raises a GhseedError naming the project and the next step."""
    with pytest.raises(GhseedError, match=r"acme/empty has no pull requests.*fetch"):
        make_real_factory(snapshot_of([], "acme/empty"), seed=1)


def test_trait_the_snapshot_cannot_serve_is_a_clear_error(demo_snapshot: Snapshot) -> None:
    """bot_author on a snapshot without bot-authored pull requests says so, instead of inventing a bot."""
    humans_only = snapshot_of([pr for pr in demo_snapshot.prs if pr.user is not None and not pr.user.is_bot])
    real = make_real_factory(humans_only, seed=1)
    with pytest.raises(GhseedError, match="bot author"):
        real.build(bot_author=True)


def test_snapshot_with_only_open_prs_still_builds_merged(demo_snapshot: Snapshot) -> None:
    """A snapshot without merged pull requests borrows another outcome's durations for merged=True."""
    open_only = snapshot_of([pr for pr in demo_snapshot.prs if pr.state == "open"])
    prs = make_real_factory(open_only, seed=1).build_batch(20, merged=True)
    assert all(pr.merged for pr in prs)
    assert [p for pr in prs for p in problems(pr)] == []
