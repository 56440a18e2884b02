"""factory-boy factories over the models, and pull-request factories seeded from a recorded snapshot.

Two families share one implementation:

- ``UserFactory``, ``PullRequestFactory``, ``ReviewFactory``, ... build plausible objects from a small
  synthetic team (named as pytest-factoryboy expects, so ``register(PullRequestFactory)`` gives the
  fixtures ``pull_request_factory`` and ``pull_request``);
- :meth:`RealPullRequestFactory.from_snapshot` (or :func:`make_real_factory`) builds pull requests
  whose titles, people, file paths, sizes, review counts and durations are drawn from a snapshot.

``PullRequestFactory`` gets every random choice from two parameters: ``source`` (where values come
from: the synthetic team, or a snapshot) and ``rng`` (a ``random.Random``). By default ``rng`` is
factory-boy's own generator, so ``factory.random.reseed_random()`` (or pytest-randomly) makes the
plain factories reproducible; the real factory passes a private generator, so it never depends on,
nor disturbs, global state.

Every pull request is internally consistent whatever the traits: ``merged`` implies ``state ==
"closed"`` and ``merged_at``; the counters equal the lengths of the lists and the sums over
``files``; every review and comment falls between ``created_at`` and ``merged_at``/``closed_at``
(or ``updated_at`` while open); no one reviews their own pull request. Explicit overrides win over
all of that: ``build(additions=5)`` gives a pull request whose ``additions`` is 5 whatever its files.

The model fields ``merged`` and ``draft`` share their names with traits, so a factory sets them
through ``is_merged`` / ``is_draft`` (renamed on the way to the model): ``build(merged=True)`` is the
trait, and it keeps the pull request consistent.

This is the only module of pytest-ghseed that imports factory-boy; the plugin imports it lazily.
"""

# factory-boy ships py.typed but leaves its declarations (LazyAttribute, Trait, ...) unannotated, so
# strict mode would flag every declaration; the relaxation stays in the one module that uses it.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import itertools
import random
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from factory.base import Factory
from factory.declarations import LazyAttribute, LazyFunction, SelfAttribute, Sequence, SubFactory, Trait

from pytest_ghseed.factory_sources import (
    LARGE_MIN_FILES,
    LARGE_MIN_LINES,
    SYNTHETIC,
    AuthorKind,
    Crew,
    FileShape,
    Outcome,
    SnapshotSource,
    Source,
    draw_moments,
    global_rng,
    kind_of,
    patch_of,
    previous_name,
    sha,
    stable_id,
)
from pytest_ghseed.models import (
    Commit,
    FileChange,
    IssueComment,
    PullRequest,
    Review,
    ReviewComment,
    Snapshot,
    User,
)
from pytest_ghseed.vocabulary import WORDS

__all__ = [
    "LARGE_MIN_FILES",
    "LARGE_MIN_LINES",
    "CommitFactory",
    "FileChangeFactory",
    "IssueCommentFactory",
    "PullRequestFactory",
    "RealPullRequestFactory",
    "ReviewCommentFactory",
    "ReviewFactory",
    "UserFactory",
    "make_real_factory",
]


class Flag(Trait):
    """A ``factory.Trait`` that is also declared, as ``False``, when not passed.

    factory-boy looks a plain trait up on every build, and a trait not passed makes it build an
    error message that prints every declaration: a third of a pull request's build time. Declared
    traits also show in ``_meta.declarations``, so ``register(PullRequestFactory, "merged_pull_request",
    merged=True)`` works with pytest-factoryboy.
    """

    def as_declarations(self, field_name: str, declarations: dict[str, Any]) -> dict[str, Any]:
        overrides: dict[str, Any] = super().as_declarations(field_name, declarations)
        return {field_name: False, **overrides}


# -- single-object factories ----------------------------------------------------------------------


class UserFactory(Factory[User]):
    """A GitHub account; the ``bot`` trait makes an app account such as ``helper-3[bot]``."""

    class Meta:
        model = User

    class Params:
        bot = Flag(
            login=Sequence(lambda n: f"helper-{n}[bot]"),
            type="Bot",
        )

    login = Sequence(lambda n: f"dev-{n}")
    id = LazyAttribute(lambda o: stable_id(o.login))
    type = "User"


class ReviewFactory(Factory[Review]):
    """A submitted review; ``pending`` gives one not yet submitted (no ``submitted_at``)."""

    class Meta:
        model = Review

    class Params:
        rng = LazyFunction(global_rng)
        pending = Flag(state="PENDING", submitted_at=None)

    id = Sequence(lambda n: 3_000_000_000 + n)
    user = SubFactory(UserFactory)
    state = LazyAttribute(lambda o: SYNTHETIC.review_state(o.rng))
    body = LazyAttribute(lambda o: SYNTHETIC.phrase(o.rng, "review"))
    submitted_at = LazyAttribute(lambda o: SYNTHETIC.created_at(o.rng))
    commit_id = LazyAttribute(lambda o: sha(o.rng))


class CommitFactory(Factory[Commit]):
    """A commit linked to a GitHub account; ``unlinked`` gives one whose e-mail no account claims."""

    class Meta:
        model = Commit

    class Params:
        rng = LazyFunction(global_rng)
        unlinked = Flag(author_login=None, author_email="guest@example.com", author_name="Guest")

    sha = LazyAttribute(lambda o: sha(o.rng))
    message = LazyAttribute(lambda o: SYNTHETIC.phrase(o.rng, "commit"))
    author_login = Sequence(lambda n: f"dev-{n}")
    author_name = SelfAttribute("author_login")
    author_email = LazyAttribute(lambda o: f"{o.author_login}@users.noreply.github.com")
    authored_at = LazyAttribute(lambda o: SYNTHETIC.created_at(o.rng))
    committed_at = SelfAttribute("authored_at")


class FileChangeFactory(Factory[FileChange]):
    """A changed file whose ``changes`` is ``additions + deletions`` and whose patch matches them."""

    class Meta:
        model = FileChange

    class Params:
        rng = LazyFunction(global_rng)
        shape = LazyAttribute(lambda o: SYNTHETIC.shapes(o.rng, large=False, kind="human")[0])
        binary = Flag(additions=0, deletions=0, patch=None)

    filename = LazyAttribute(lambda o: SYNTHETIC.paths(o.rng, 1)[0])
    status = LazyAttribute(lambda o: o.shape.status)
    additions = LazyAttribute(lambda o: o.shape.additions)
    deletions = LazyAttribute(lambda o: o.shape.deletions)
    changes = LazyAttribute(lambda o: o.additions + o.deletions)
    previous_filename = LazyAttribute(lambda o: previous_name(o.filename) if o.status == "renamed" else None)
    patch = LazyAttribute(lambda o: patch_of(o.additions, o.deletions))


class ReviewCommentFactory(Factory[ReviewComment]):
    """A comment on a line of the diff; ``outdated`` gives one whose line no longer exists."""

    class Meta:
        model = ReviewComment

    class Params:
        rng = LazyFunction(global_rng)
        outdated = Flag(line=None)

    id = Sequence(lambda n: 4_000_000_000 + n)
    user = SubFactory(UserFactory)
    body = LazyAttribute(lambda o: SYNTHETIC.phrase(o.rng, "comment"))
    path = LazyAttribute(lambda o: SYNTHETIC.paths(o.rng, 1)[0])
    line = LazyAttribute(lambda o: o.rng.randint(1, 120))
    created_at = LazyAttribute(lambda o: SYNTHETIC.created_at(o.rng))
    in_reply_to_id = None


class IssueCommentFactory(Factory[IssueComment]):
    """A comment in a pull request's conversation."""

    class Meta:
        model = IssueComment

    class Params:
        rng = LazyFunction(global_rng)

    id = Sequence(lambda n: 5_000_000_000 + n)
    user = SubFactory(UserFactory)
    body = LazyAttribute(lambda o: f"Thanks! {o.rng.choice(WORDS).capitalize()} looks right now.")
    created_at = LazyAttribute(lambda o: SYNTHETIC.created_at(o.rng))


# -- the pull request -------------------------------------------------------------------------------
#
# The sub-lists are built with the models' constructors rather than the factories above: they must
# agree with the pull request (times, author, paths, shas), and a factory-boy build costs ~50 us per
# object, which adds up to seconds over a few thousand pull requests.


def _window_end(o: Any) -> datetime:
    """The latest moment activity may have: merge, close, or (open) the latest update."""
    ends = [t for t in (o.merged_at, o.closed_at) if t is not None]
    return min(ends) if ends else o.updated_at  # type: ignore[no-any-return]


def _files(o: Any) -> tuple[FileChange, ...]:
    shapes: list[FileShape] = o.shapes
    paths = o.source.paths(o.rng, len(shapes))
    files = []
    for shape, path in zip(shapes, paths, strict=True):
        files.append(
            FileChange(
                filename=path,
                status=shape.status,
                additions=shape.additions,
                deletions=shape.deletions,
                changes=shape.lines,
                previous_filename=previous_name(path) if shape.status == "renamed" else None,
                patch=patch_of(shape.additions, shape.deletions) if shape.has_patch else None,
            )
        )
    return tuple(files)


def _commits(o: Any) -> tuple[Commit, ...]:
    author: User | None = o.user
    login = author.login if author is not None else None
    name = login.removesuffix("[bot]") if login else "ghost"
    email = f"{author.id}+{login}@users.noreply.github.com" if author is not None else "ghost@example.com"
    moments = draw_moments(o.rng, o.created_at, _window_end(o), o.n_commits)
    return tuple(
        Commit(
            sha=sha(o.rng),
            message=o.source.phrase(o.rng, "commit"),
            author_name=name,
            author_email=email,
            author_login=login,
            authored_at=moment,
            committed_at=moment,
        )
        for moment in moments
    )


def _reviews(o: Any) -> tuple[Review, ...]:
    crew: Crew = o.crew
    shas = [c.sha for c in o.commits] or [o.head_sha]
    moments = draw_moments(o.rng, o.created_at, _window_end(o), len(crew.review_users))
    base = o.id * 1000
    return tuple(
        Review(
            id=base + index,
            user=user,
            state=o.source.review_state(o.rng),
            body=o.source.phrase(o.rng, "review"),
            submitted_at=moment,
            commit_id=o.rng.choice(shas),
        )
        for index, (user, moment) in enumerate(zip(crew.review_users, moments, strict=True))
    )


def _review_comments(o: Any) -> tuple[ReviewComment, ...]:
    files: tuple[FileChange, ...] = o.files
    if not files:
        return ()
    crew: Crew = o.crew
    people: list[User | None] = [u for u in (crew.author, *crew.reviewers) if u is not None] or [None]
    moments = draw_moments(o.rng, o.created_at, _window_end(o), o.n_review_comments)
    comments: list[ReviewComment] = []
    base = o.id * 1000 + 500
    for index, moment in enumerate(moments):
        # About a third answer an earlier thread, on its file and line, as reviews go back and forth.
        parent = o.rng.choice(comments) if comments and o.rng.random() < 0.35 else None
        comments.append(
            ReviewComment(
                id=base + index,
                user=o.rng.choice(people),
                body=o.source.phrase(o.rng, "comment"),
                path=parent.path if parent else o.rng.choice(files).filename,
                line=parent.line if parent else o.rng.randint(1, 120),
                created_at=moment,
                in_reply_to_id=(parent.in_reply_to_id or parent.id) if parent else None,
            )
        )
    return tuple(comments)


def _issue_comments(o: Any) -> tuple[IssueComment, ...]:
    crew: Crew = o.crew
    people: list[User | None] = [
        u for u in (crew.author, *crew.commenters, *crew.reviewers) if u is not None
    ] or [None]
    moments = draw_moments(o.rng, o.created_at, _window_end(o), o.n_issue_comments)
    base = o.id * 1000 + 800
    return tuple(
        IssueComment(
            id=base + index,
            user=o.rng.choice(people),
            body=f"Thanks! {o.rng.choice(WORDS).capitalize()} looks right now.",
            created_at=moment,
        )
        for index, moment in enumerate(moments)
    )


def _crew(o: Any) -> Crew:
    drawn: Crew = o.drawn_crew
    if o.user == drawn.author:
        return drawn
    # The author was overridden: find the people around *their* pull requests instead.
    return o.source.crew_for(o.rng, o.user, o.min_reviews)  # type: ignore[no-any-return]


def _requested_reviewers(o: Any) -> tuple[User, ...]:
    if o.state != "open":
        return ()
    crew: Crew = o.crew
    reviewed = {u.login for u in crew.reviewers}
    candidates = [u for u in crew.commenters if u.login not in reviewed and u != o.user]
    return tuple(o.rng.sample(candidates, min(len(candidates), o.rng.randint(0, 2))))


def _slug(title: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words[:4]) or "change"


class PullRequestFactory(Factory[PullRequest]):
    """A consistent pull request, with its reviews, commits, files and comments.

    Traits: ``merged``, ``closed_unmerged``, ``draft`` (open), ``with_reviews`` (at least one
    review), ``large`` (see :data:`LARGE_MIN_FILES`), ``bot_author``. Parameters for finer control:
    ``outcome`` ("open" / "merged" / "closed"), ``n_commits``, ``n_review_comments``,
    ``n_issue_comments``, ``duration`` (time to merge/close), ``rng`` and ``source``.

    With pytest-factoryboy, traits work as overrides too:
    ``register(PullRequestFactory, "merged_pull_request", merged=True)``.
    """

    class Meta:
        model = PullRequest
        # "merged" and "draft" are trait names, so the fields are declared under other names.
        rename = {"is_merged": "merged", "is_draft": "draft"}

    class Params:
        rng = LazyFunction(global_rng)
        source: Source = SYNTHETIC
        # The parameters traits set hold plain values: factory-boy applies a Params class's plain
        # values first and traits next, but orders traits and lazy declarations arbitrarily, so a
        # trait could not reliably override a lazy parameter. ``None`` means "draw one".
        outcome: Outcome | None = None
        author_kind: AuthorKind | None = None
        min_reviews = 0
        size = "normal"
        drawn_outcome = LazyAttribute(lambda o: o.outcome or o.source.outcome(o.rng))
        drawn_crew = LazyAttribute(lambda o: o.source.crew(o.rng, o.author_kind, o.min_reviews))
        crew = LazyAttribute(_crew)
        shapes = LazyAttribute(
            lambda o: o.source.shapes(o.rng, large=o.size == "large", kind=kind_of(o.user))
        )
        drawn_counts = LazyAttribute(lambda o: o.source.counts(o.rng, kind_of(o.user)))
        n_commits = LazyAttribute(lambda o: o.drawn_counts[0])
        n_review_comments = LazyAttribute(lambda o: o.drawn_counts[1])
        n_issue_comments = LazyAttribute(lambda o: o.drawn_counts[2])
        duration = LazyAttribute(lambda o: o.source.duration(o.rng, o.drawn_outcome))
        drawn_text = LazyAttribute(lambda o: o.source.text(o.rng, kind_of(o.user)))

        merged = Flag(outcome="merged")
        closed_unmerged = Flag(outcome="closed")
        draft = Flag(outcome="open", is_draft=True)
        with_reviews = Flag(min_reviews=1)
        large = Flag(size="large")
        bot_author = Flag(author_kind="bot")

    number = Sequence(lambda n: n + 1)
    id = LazyAttribute(lambda o: o.source.pr_id(o.number))
    title = LazyAttribute(lambda o: o.drawn_text[0])
    body = LazyAttribute(lambda o: o.drawn_text[1])
    # is_merged counts too, so that overriding the field alone still gives a consistent pull.
    state = LazyAttribute(lambda o: "open" if o.drawn_outcome == "open" and not o.is_merged else "closed")
    is_merged = LazyAttribute(lambda o: o.drawn_outcome == "merged")
    is_draft = LazyAttribute(lambda o: o.state == "open" and o.rng.random() < o.source.draft_rate)
    created_at = LazyAttribute(lambda o: o.source.created_at(o.rng))
    merged_at = LazyAttribute(lambda o: o.created_at + o.duration if o.is_merged else None)
    closed_at = LazyAttribute(
        lambda o: o.merged_at or (o.created_at + o.duration if o.state == "closed" else None)
    )
    updated_at = LazyAttribute(lambda o: o.closed_at or o.created_at + o.duration)
    user = LazyAttribute(lambda o: o.drawn_crew.author)
    labels = LazyAttribute(lambda o: o.drawn_text[2])
    base_ref = LazyAttribute(lambda o: o.source.base_ref)
    head_ref = LazyAttribute(lambda o: f"{o.user.login if o.user else 'ghost'}/{_slug(o.title)}-{o.number}")
    files = LazyAttribute(_files)
    commits = LazyAttribute(_commits)
    head_sha = LazyAttribute(lambda o: o.commits[-1].sha if o.commits else sha(o.rng))
    reviews = LazyAttribute(_reviews)
    review_comments = LazyAttribute(_review_comments)
    issue_comments = LazyAttribute(_issue_comments)
    additions = LazyAttribute(lambda o: sum(f.additions for f in o.files))
    deletions = LazyAttribute(lambda o: sum(f.deletions for f in o.files))
    changed_files = LazyAttribute(lambda o: len(o.files))
    commits_count = LazyAttribute(lambda o: len(o.commits))
    comments_count = LazyAttribute(lambda o: len(o.issue_comments))
    review_comments_count = LazyAttribute(lambda o: len(o.review_comments))
    merged_by = LazyAttribute(lambda o: o.source.merger(o.rng, o.user) if o.is_merged else None)
    requested_reviewers = LazyAttribute(_requested_reviewers)
    html_url = LazyAttribute(lambda o: f"https://github.com/{o.source.full_name}/pull/{o.number}")
    commits_truncated = False
    files_truncated = False


# -- seeded from real data --------------------------------------------------------------------------


class RealPullRequestFactory:
    """Builds pull requests whose values are drawn from a recorded snapshot, reproducibly.

    Use :meth:`from_snapshot`. It takes the same traits and overrides as :class:`PullRequestFactory`
    (``build_batch(50, merged=True)``). All randomness comes from a private ``random.Random(seed)``:
    two factories made with one seed build equal pull requests, whatever else runs in the process.
    Numbers continue after the snapshot's highest, and ids after its highest id, so generated and
    real pull requests can live side by side.
    """

    def __init__(self, source: SnapshotSource, seed: int) -> None:
        self.source = source
        #: The seed this factory was made with: print it to rerun a failing test with the same data.
        self.seed = seed
        self._rng = random.Random(seed)
        self._numbers: Iterator[int] = itertools.count(source.max_number + 1)

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, seed: int | None = None) -> RealPullRequestFactory:
        """A factory drawing from ``snapshot``; ``seed=None`` picks a fresh seed (see :attr:`seed`)."""
        chosen = secrets.randbelow(2**32) if seed is None else seed
        return cls(SnapshotSource(snapshot), chosen)

    def with_seed(self, seed: int | None) -> RealPullRequestFactory:
        """A factory over the same snapshot with another seed (``None``: a fresh one).

        Reading a snapshot into draw tables takes a few tens of milliseconds for 200 pull requests;
        this skips it, so a fixture can hand each test its own seeded factory cheaply.
        """
        return RealPullRequestFactory(self.source, secrets.randbelow(2**32) if seed is None else seed)

    @property
    def large_threshold(self) -> int:
        """Changed lines (additions + deletions) a ``large`` pull request has at least."""
        return self.source.large_threshold

    def reset(self) -> None:
        """Start over: the next builds repeat the first ones since construction."""
        self._rng = random.Random(self.seed)
        self._numbers = itertools.count(self.source.max_number + 1)

    def build(self, **kwargs: Any) -> PullRequest:
        """One pull request; ``kwargs`` are traits (``merged=True``) or field overrides."""
        # The number is drawn even when overridden, so an override does not shift later numbers.
        number = next(self._numbers)
        kwargs.setdefault("number", number)
        pr: PullRequest = PullRequestFactory.build(rng=self._rng, source=self.source, **kwargs)
        return pr

    def build_batch(self, size: int, **kwargs: Any) -> list[PullRequest]:
        """``size`` pull requests with the same traits and overrides."""
        return [self.build(**kwargs) for _ in range(size)]

    # The models are plain values with no database behind them: creating is building.
    create = build
    create_batch = build_batch
    __call__ = build

    def __repr__(self) -> str:
        return f"<RealPullRequestFactory {self.source.full_name} seed={self.seed}>"


def make_real_factory(snapshot: Snapshot, seed: int | None = None) -> RealPullRequestFactory:
    """The real-data factory the pytest plugin hands to tests (``seed=None``: a fresh one)."""
    return RealPullRequestFactory.from_snapshot(snapshot, seed=seed)
