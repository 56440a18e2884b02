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
import math
import posixpath
import random
import secrets
import zlib
from collections.abc import Iterator
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import factory.random
from factory.base import Factory
from factory.declarations import LazyAttribute, LazyFunction, SelfAttribute, Sequence, SubFactory, Trait

from pytest_ghseed.defaults import COMMITS_CAP, FILES_CAP
from pytest_ghseed.errors import UsageError
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

Outcome = Literal["open", "merged", "closed"]
AuthorKind = Literal["human", "bot"]

#: A ``large`` pull request from the synthetic factories has at least this many files and changed lines.
LARGE_MIN_FILES = 25
LARGE_MIN_LINES = 1000


_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_SUBMITTED_STATES = ("APPROVED", "COMMENTED", "CHANGES_REQUESTED", "DISMISSED")
_WORDS = (
    "fix",
    "add",
    "support",
    "refactor",
    "cache",
    "pagination",
    "tokens",
    "retry",
    "docs",
    "typing",
    "parser",
    "cli",
    "errors",
    "tests",
    "speed",
    "config",
)


def sha(rng: random.Random) -> str:
    """A random 40-hex-digit git object id."""
    return f"{rng.getrandbits(160):040x}"


def _stable_id(login: str) -> int:
    # crc32 rather than hash(): str hashes change between processes (PYTHONHASHSEED).
    return 10_000_000 + zlib.crc32(login.encode()) % 90_000_000


def _user(login: str) -> User:
    return User(login=login, id=_stable_id(login), type="Bot" if login.endswith("[bot]") else "User")


def _kind(user: User | None) -> AuthorKind:
    return "bot" if user is not None and user.is_bot else "human"


def _seconds(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds()))


def _moments(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    """``count`` sorted whole-second moments in ``[start, end]`` (GitHub reports seconds)."""
    span = max(0, _seconds(end - start))
    return [
        start + timedelta(seconds=offset) for offset in sorted(rng.randint(0, span) for _ in range(count))
    ]


def _patch(additions: int, deletions: int) -> str | None:
    """A unified-diff hunk with the right line counts; ``None`` where GitHub omits it (too large)."""
    if additions + deletions == 0 or additions + deletions > 300:
        return None
    # List repetition, not a loop: large pull requests hold thousands of these.
    lines = ["-removed line"] * deletions + ["+added line"] * additions
    return f"@@ -1,{deletions} +1,{additions} @@\n" + "\n".join(lines)


def _previous_name(path: str) -> str:
    head, _, tail = path.rpartition("/")
    return f"{head}/old_{tail}" if head else f"old_{tail}"


@dataclass(frozen=True, slots=True)
class FileShape:
    """The size of one changed file, without its path: what the real factory resamples."""

    status: str
    additions: int
    deletions: int
    has_patch: bool

    @property
    def lines(self) -> int:
        return self.additions + self.deletions


@dataclass(frozen=True, slots=True)
class Crew:
    """Who takes part in one pull request: its author, the users of its reviews, its commenters.

    ``review_users`` has one entry per review (``None``: an account deleted since), none of them the
    author; it fixes both the review count and who reviews, so that they stay a real combination.
    """

    author: User | None
    review_users: tuple[User | None, ...]
    commenters: tuple[User, ...]

    @property
    def reviewers(self) -> tuple[User, ...]:
        seen: dict[str, User] = {}
        for user in self.review_users:
            if user is not None:
                seen.setdefault(user.login, user)
        return tuple(seen.values())


class Source:
    """Where a pull request's values come from; every method takes the generator to draw with."""

    full_name: str
    base_ref: str
    draft_rate: float

    def crew(self, rng: random.Random, kind: AuthorKind | None, min_reviews: int) -> Crew:
        """An author (of ``kind``, or any) and the people around one of their pull requests."""
        raise NotImplementedError

    def crew_for(self, rng: random.Random, author: User | None, min_reviews: int) -> Crew:
        """The people around a pull request by this (overridden) author."""
        raise NotImplementedError

    def outcome(self, rng: random.Random) -> Outcome:
        raise NotImplementedError

    def created_at(self, rng: random.Random) -> datetime:
        raise NotImplementedError

    def duration(self, rng: random.Random, outcome: Outcome) -> timedelta:
        """Time to merge, to close, or (open) to the latest update."""
        raise NotImplementedError

    def shapes(self, rng: random.Random, *, large: bool, kind: AuthorKind) -> list[FileShape]:
        raise NotImplementedError

    def paths(self, rng: random.Random, count: int) -> list[str]:
        """``count`` distinct file paths."""
        raise NotImplementedError

    def text(self, rng: random.Random, kind: AuthorKind) -> tuple[str, str, tuple[str, ...]]:
        """A title, a body and labels that go together."""
        raise NotImplementedError

    def counts(self, rng: random.Random, kind: AuthorKind) -> tuple[int, int, int]:
        """How many commits, review comments and issue comments."""
        raise NotImplementedError

    def review_state(self, rng: random.Random) -> str:
        raise NotImplementedError

    def merger(self, rng: random.Random, author: User | None) -> User | None:
        raise NotImplementedError

    def phrase(self, rng: random.Random, what: Literal["commit", "review", "comment"]) -> str:
        raise NotImplementedError

    def pr_id(self, number: int) -> int:
        return 1_000_000_000 + number


class SyntheticSource(Source):
    """A small made-up team: a few maintainers who merge, buddies who review each other, two bots."""

    full_name = "octo-org/octo-repo"
    base_ref = "main"
    draft_rate = 0.3

    HUMANS = (
        "ada-l",
        "grace-h",
        "linus-t",
        "margaret-h",
        "alan-t",
        "barbara-l",
        "ken-t",
        "guido-v",
        "yukihiro-m",
        "brendan-e",
        "bjarne-s",
        "rich-h",
    )
    MAINTAINERS = HUMANS[:4]
    BOTS = ("dependabot[bot]", "renovate[bot]")
    DIRECTORIES = ("src/core", "src/api", "src/cli", "tests", "docs", "tools", "src/web")
    STEMS = ("client", "models", "utils", "config", "parser", "cache", "views", "handlers", "errors", "index")
    EXTENSIONS = (".py", ".md", ".toml", ".js")
    LABELS = ("bug", "enhancement", "documentation", "ci", "refactor")

    def __init__(self) -> None:
        self._paths = sorted(
            f"{d}/{s}{e}" for d in self.DIRECTORIES for s in self.STEMS for e in self.EXTENSIONS
        )

    def _buddies(self, login: str) -> tuple[User, ...]:
        # A fixed ring of three reviewers per person, so review pairs look like a real team's.
        if login in self.HUMANS:
            index = self.HUMANS.index(login)
            return tuple(_user(self.HUMANS[(index + step) % len(self.HUMANS)]) for step in (1, 2, 5))
        return tuple(_user(m) for m in self.MAINTAINERS if m != login)

    def crew(self, rng: random.Random, kind: AuthorKind | None, min_reviews: int) -> Crew:
        bot = kind == "bot" or (kind is None and rng.random() < 0.1)
        author = _user(rng.choice(self.BOTS if bot else self.HUMANS))
        return self.crew_for(rng, author, min_reviews)

    def crew_for(self, rng: random.Random, author: User | None, min_reviews: int) -> Crew:
        login = author.login if author is not None else ""
        buddies = self._buddies(login)
        count = max(min_reviews, 0 if rng.random() < 0.25 else rng.randint(1, 4))
        # Now and then a reviewer has deleted their account since: GitHub then sends "user": null.
        users = tuple(None if rng.random() < 0.03 else rng.choice(buddies) for _ in range(count))
        return Crew(author, users, buddies)

    def outcome(self, rng: random.Random) -> Outcome:
        roll = rng.random()
        return "merged" if roll < 0.7 else "closed" if roll < 0.85 else "open"

    def created_at(self, rng: random.Random) -> datetime:
        return _EPOCH + timedelta(seconds=rng.randint(0, 365 * 86_400))

    def duration(self, rng: random.Random, outcome: Outcome) -> timedelta:
        # Log-normal: most pull requests finish within a day, a long tail takes weeks.
        median_hours = {"merged": 20.0, "closed": 72.0, "open": 48.0}[outcome]
        hours = rng.lognormvariate(math.log(median_hours), 1.0)
        return timedelta(seconds=max(60, int(hours * 3600)))

    def shapes(self, rng: random.Random, *, large: bool, kind: AuthorKind) -> list[FileShape]:
        if large:
            count = rng.randint(LARGE_MIN_FILES, 40)
        elif kind == "bot":
            count = rng.randint(1, 2)
        else:
            count = min(30, 1 + int(rng.expovariate(1.0) * 4))
        shapes = []
        for _ in range(count):
            status = rng.choices(("modified", "added", "removed", "renamed"), (70, 15, 7, 8))[0]
            if not large and rng.random() < 0.05:
                # A binary file: GitHub counts no lines and sends no patch.
                shapes.append(FileShape(status, 0, 0, has_patch=False))
                continue
            low = LARGE_MIN_LINES // LARGE_MIN_FILES if large else 1
            additions = 0 if status == "removed" else low + int(rng.expovariate(1.0) * 60)
            deletions = 0 if status == "added" else int(rng.expovariate(1.0) * 30)
            if status == "removed":
                deletions = max(deletions, low)
            shapes.append(FileShape(status, additions, deletions, has_patch=additions + deletions <= 300))
        return shapes

    def paths(self, rng: random.Random, count: int) -> list[str]:
        return _distinct_paths(rng, self._paths, count)

    def text(self, rng: random.Random, kind: AuthorKind) -> tuple[str, str, tuple[str, ...]]:
        first, second, third = rng.sample(_WORDS, 3)
        if kind == "bot":
            title = f"Bump {first}-lib from 1.{rng.randint(0, 9)} to 2.{rng.randint(0, 9)}"
            return title, f"Bumps {first}-lib to the latest version.", ("dependencies",)
        title = f"{first.capitalize()} {second} in {third}"
        body = "" if rng.random() < 0.1 else f"This pull request {first}s {second}.\n\n- [x] tests"
        return title, body, tuple(rng.sample(self.LABELS, rng.randint(0, 2)))

    def counts(self, rng: random.Random, kind: AuthorKind) -> tuple[int, int, int]:
        commits = 1 if kind == "bot" else min(COMMITS_CAP, 1 + int(rng.expovariate(1.0) * 3))
        review_comments = 0 if rng.random() < 0.4 else 1 + int(rng.expovariate(1.0) * 3)
        issue_comments = 0 if rng.random() < 0.4 else 1 + int(rng.expovariate(1.0) * 2)
        return commits, review_comments, issue_comments

    def review_state(self, rng: random.Random) -> str:
        return rng.choices(_SUBMITTED_STATES, (45, 35, 15, 5))[0]

    def merger(self, rng: random.Random, author: User | None) -> User | None:
        login = author.login if author is not None else ""
        return _user(rng.choice([m for m in self.MAINTAINERS if m != login]))

    def phrase(self, rng: random.Random, what: Literal["commit", "review", "comment"]) -> str:
        word = rng.choice(_WORDS)
        if what == "commit":
            return f"{word.capitalize()} {rng.choice(_WORDS)}"
        if what == "review":
            return rng.choice(("", "", "Looks good to me.", f"Please {word} first."))
        return f"Could we {word} here?"


def _distinct_paths(rng: random.Random, pool: Seq[str], count: int) -> list[str]:
    """``count`` distinct paths from ``pool``; past its size, numbered variants of its paths."""
    if count <= len(pool):
        return rng.sample(pool, count)
    # GitHub never lists a path twice in one pull request, even one larger than the known tree.
    chosen, taken, index = list(pool), set(pool), 0
    while len(chosen) < count:
        root, ext = posixpath.splitext(pool[index % len(pool)])
        candidate = f"{root}_{index // len(pool) + 1}{ext}"
        index += 1
        if candidate not in taken:
            taken.add(candidate)
            chosen.append(candidate)
    rng.shuffle(chosen)
    return chosen


def _outcome_of(pr: PullRequest) -> Outcome:
    if pr.merged:
        return "merged"
    return "open" if pr.state == "open" else "closed"


class SnapshotSource(Source):
    """Values resampled from one snapshot: each draw picks real values (a bootstrap), never invents.

    Who-with-whom is kept as recorded: a pull request's author, review count and reviewers come from
    one real pull request by that author, so every (author, reviewer) pair is one that happened.
    Sizes come whole from a real pull request by the same kind of author (bot or human), so that
    the distribution of a pull request's total additions is the real one, and not the sum of
    independent per-file draws (which would lose that bots make one-line bumps).
    """

    def __init__(self, snapshot: Snapshot) -> None:
        prs = snapshot.prs
        if not prs:
            msg = (
                f"the snapshot of {snapshot.repository.full_name} has no pull requests, so there is "
                "nothing to draw values from; fetch the project again with a wider selection "
                "(for example a larger max_prs, or state='all'), or use PullRequestFactory instead"
            )
            raise UsageError(msg)
        self.full_name = snapshot.repository.full_name
        self.base_ref = snapshot.repository.default_branch
        self.max_number = max(pr.number for pr in prs)
        self.max_id = max(pr.id for pr in prs)
        # Pull requests by a deleted account (user null) cannot anchor an author-reviewer pairing.
        self._authored = [pr for pr in prs if pr.user is not None]
        self._by_kind: dict[AuthorKind, list[PullRequest]] = {
            kind: [pr for pr in self._authored if _kind(pr.user) == kind] or list(prs)
            for kind in ("human", "bot")
        }
        self._outcomes = [_outcome_of(pr) for pr in prs]
        open_prs = [pr for pr in prs if pr.state == "open"]
        self.draft_rate = sum(pr.draft for pr in open_prs) / len(open_prs) if open_prs else 0.0
        created = sorted(pr.created_at for pr in prs)
        self._created_low, self._created_span = created[0], _seconds(created[-1] - created[0])
        self._durations: dict[Outcome, list[int]] = {"merged": [], "closed": [], "open": []}
        for pr, outcome in zip(prs, self._outcomes, strict=True):
            end = pr.merged_at or pr.closed_at or pr.updated_at
            self._durations[outcome].append(_seconds(end - pr.created_at))

        # Sorted: a set's order changes between processes, and it must not reach the draws.
        self._paths = sorted({f.filename for pr in prs for f in pr.files})
        shapes = {pr.number: self._shapes_of(pr) for pr in prs}
        totals = sorted(sum(s.lines for s in bundle) for bundle in shapes.values())
        #: A ``large`` real pull request changes at least this many lines: the snapshot's 90th percentile.
        self.large_threshold = totals[min(len(totals) - 1, int(0.9 * len(totals)))]
        self._large_shapes = [b for b in shapes.values() if sum(s.lines for s in b) >= self.large_threshold]
        self._kind_shapes = {kind: [shapes[pr.number] for pr in pool] for kind, pool in self._by_kind.items()}

        self._review_states = [r.state for pr in prs for r in pr.reviews if r.state in _SUBMITTED_STATES]
        self._mergers = sorted(
            {pr.merged_by.login: pr.merged_by for pr in prs if pr.merged_by is not None}.items()
        )
        commenters: dict[str, dict[str, User]] = {}
        for pr in self._authored:
            assert pr.user is not None
            people = commenters.setdefault(pr.user.login, {})
            people.update((c.user.login, c.user) for c in pr.issue_comments if c.user is not None)
        self._commenters = {login: tuple(p[k] for k in sorted(p)) for login, p in commenters.items()}
        self._phrases: dict[str, list[str]] = {
            "commit": [c.message for pr in prs for c in pr.commits if c.message] or ["Update"],
            "review": [r.body for pr in prs for r in pr.reviews] or [""],
            "comment": [c.body for pr in prs for c in pr.review_comments if c.body] or ["Looks good."],
        }
        self._pools: dict[tuple[AuthorKind | None, int], list[PullRequest]] = {}

    @staticmethod
    def _shapes_of(pr: PullRequest) -> list[FileShape]:
        return [
            FileShape(f.status, f.additions, f.deletions, has_patch=f.patch is not None)
            for f in pr.files[:FILES_CAP]
        ]

    def _pool(self, kind: AuthorKind | None, min_reviews: int) -> list[PullRequest]:
        key = (kind, min_reviews)
        if key not in self._pools:
            self._pools[key] = [
                pr
                for pr in self._authored
                if (kind is None or _kind(pr.user) == kind) and len(self._review_users(pr)) >= min_reviews
            ]
        return self._pools[key]

    @staticmethod
    def _review_users(pr: PullRequest) -> tuple[User | None, ...]:
        # GitHub lets an author comment on their own pull request as a review; those are not reviews
        # by a reviewer, and the factories promise that reviewers differ from the author.
        author = pr.user.login if pr.user is not None else None
        return tuple(r.user for r in pr.reviews if r.user is None or r.user.login != author)

    def _crew_of(self, pr: PullRequest) -> Crew:
        login = pr.user.login if pr.user is not None else ""
        return Crew(pr.user, self._review_users(pr), self._commenters.get(login, ()))

    def crew(self, rng: random.Random, kind: AuthorKind | None, min_reviews: int) -> Crew:
        pool = self._pool(kind, min_reviews)
        if not pool:
            wanted = " ".join(
                part
                for part in (
                    f"by a {kind} author" if kind else "",
                    f"with at least {min_reviews} review(s)" if min_reviews else "",
                )
                if part
            )
            msg = (
                f"the snapshot of {self.full_name} has no pull request {wanted or 'with an author'} "
                "to draw from; drop that trait, or record a snapshot that has such pull requests"
            )
            raise UsageError(msg)
        return self._crew_of(rng.choice(pool))

    def crew_for(self, rng: random.Random, author: User | None, min_reviews: int) -> Crew:
        login = author.login if author is not None else None
        pool = [pr for pr in self._pool(None, min_reviews) if pr.user is not None and pr.user.login == login]
        if pool:
            return self._crew_of(rng.choice(pool))
        if min_reviews:
            msg = (
                f"the snapshot of {self.full_name} has no reviewed pull request by {login!r}, so there "
                "are no real reviewers to draw for them; pick an author from the snapshot, or drop "
                "the with_reviews trait"
            )
            raise UsageError(msg)
        # An author the snapshot never saw: no one is known to review them, so no reviews.
        return Crew(author, (), ())

    def outcome(self, rng: random.Random) -> Outcome:
        return rng.choice(self._outcomes)

    def created_at(self, rng: random.Random) -> datetime:
        return self._created_low + timedelta(seconds=rng.randint(0, self._created_span))

    def duration(self, rng: random.Random, outcome: Outcome) -> timedelta:
        # A snapshot may lack, say, closed-unmerged pull requests; the nearest outcome stands in.
        for candidate in (outcome, "merged", "closed", "open"):
            values = self._durations[candidate]
            if values:
                return timedelta(seconds=rng.choice(values))
        raise AssertionError("a non-empty snapshot has at least one duration")  # pragma: no cover

    def shapes(self, rng: random.Random, *, large: bool, kind: AuthorKind) -> list[FileShape]:
        pool = self._large_shapes if large else self._kind_shapes[kind]
        shapes = list(rng.choice(pool))
        rng.shuffle(shapes)
        return shapes

    def paths(self, rng: random.Random, count: int) -> list[str]:
        return _distinct_paths(rng, self._paths or ["README.md"], count)

    def text(self, rng: random.Random, kind: AuthorKind) -> tuple[str, str, tuple[str, ...]]:
        # Title, body and labels of one real pull request by the same kind of author: a bot's
        # "Bump x from 1 to 2" never lands on a human's feature branch.
        pr = rng.choice(self._by_kind[kind])
        return pr.title, pr.body, pr.labels

    def counts(self, rng: random.Random, kind: AuthorKind) -> tuple[int, int, int]:
        pool = self._by_kind[kind]
        commits = min(COMMITS_CAP, max(1, rng.choice(pool).commits_count))
        return commits, len(rng.choice(pool).review_comments), len(rng.choice(pool).issue_comments)

    def review_state(self, rng: random.Random) -> str:
        return rng.choice(self._review_states) if self._review_states else "COMMENTED"

    def merger(self, rng: random.Random, author: User | None) -> User | None:
        if not self._mergers:
            return author
        login = author.login if author is not None else ""
        others = [user for name, user in self._mergers if name != login]
        return rng.choice(others or [user for _, user in self._mergers])

    def phrase(self, rng: random.Random, what: Literal["commit", "review", "comment"]) -> str:
        return rng.choice(self._phrases[what])

    def pr_id(self, number: int) -> int:
        # Above every real id, so generated and real pull requests can share one database.
        return self.max_id + number


_SYNTHETIC = SyntheticSource()


def _global_rng() -> random.Random:
    # factory-boy's generator (not the random module's): what factory.random.reseed_random() seeds.
    return factory.random.randgen


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
    id = LazyAttribute(lambda o: _stable_id(o.login))
    type = "User"


class ReviewFactory(Factory[Review]):
    """A submitted review; ``pending`` gives one not yet submitted (no ``submitted_at``)."""

    class Meta:
        model = Review

    class Params:
        rng = LazyFunction(_global_rng)
        pending = Flag(state="PENDING", submitted_at=None)

    id = Sequence(lambda n: 3_000_000_000 + n)
    user = SubFactory(UserFactory)
    state = LazyAttribute(lambda o: _SYNTHETIC.review_state(o.rng))
    body = LazyAttribute(lambda o: _SYNTHETIC.phrase(o.rng, "review"))
    submitted_at = LazyAttribute(lambda o: _SYNTHETIC.created_at(o.rng))
    commit_id = LazyAttribute(lambda o: sha(o.rng))


class CommitFactory(Factory[Commit]):
    """A commit linked to a GitHub account; ``unlinked`` gives one whose e-mail no account claims."""

    class Meta:
        model = Commit

    class Params:
        rng = LazyFunction(_global_rng)
        unlinked = Flag(author_login=None, author_email="guest@example.com", author_name="Guest")

    sha = LazyAttribute(lambda o: sha(o.rng))
    message = LazyAttribute(lambda o: _SYNTHETIC.phrase(o.rng, "commit"))
    author_login = Sequence(lambda n: f"dev-{n}")
    author_name = SelfAttribute("author_login")
    author_email = LazyAttribute(lambda o: f"{o.author_login}@users.noreply.github.com")
    authored_at = LazyAttribute(lambda o: _SYNTHETIC.created_at(o.rng))
    committed_at = SelfAttribute("authored_at")


class FileChangeFactory(Factory[FileChange]):
    """A changed file whose ``changes`` is ``additions + deletions`` and whose patch matches them."""

    class Meta:
        model = FileChange

    class Params:
        rng = LazyFunction(_global_rng)
        shape = LazyAttribute(lambda o: _SYNTHETIC.shapes(o.rng, large=False, kind="human")[0])
        binary = Flag(additions=0, deletions=0, patch=None)

    filename = LazyAttribute(lambda o: _SYNTHETIC.paths(o.rng, 1)[0])
    status = LazyAttribute(lambda o: o.shape.status)
    additions = LazyAttribute(lambda o: o.shape.additions)
    deletions = LazyAttribute(lambda o: o.shape.deletions)
    changes = LazyAttribute(lambda o: o.additions + o.deletions)
    previous_filename = LazyAttribute(lambda o: _previous_name(o.filename) if o.status == "renamed" else None)
    patch = LazyAttribute(lambda o: _patch(o.additions, o.deletions))


class ReviewCommentFactory(Factory[ReviewComment]):
    """A comment on a line of the diff; ``outdated`` gives one whose line no longer exists."""

    class Meta:
        model = ReviewComment

    class Params:
        rng = LazyFunction(_global_rng)
        outdated = Flag(line=None)

    id = Sequence(lambda n: 4_000_000_000 + n)
    user = SubFactory(UserFactory)
    body = LazyAttribute(lambda o: _SYNTHETIC.phrase(o.rng, "comment"))
    path = LazyAttribute(lambda o: _SYNTHETIC.paths(o.rng, 1)[0])
    line = LazyAttribute(lambda o: o.rng.randint(1, 120))
    created_at = LazyAttribute(lambda o: _SYNTHETIC.created_at(o.rng))
    in_reply_to_id = None


class IssueCommentFactory(Factory[IssueComment]):
    """A comment in a pull request's conversation."""

    class Meta:
        model = IssueComment

    class Params:
        rng = LazyFunction(_global_rng)

    id = Sequence(lambda n: 5_000_000_000 + n)
    user = SubFactory(UserFactory)
    body = LazyAttribute(lambda o: f"Thanks! {o.rng.choice(_WORDS).capitalize()} looks right now.")
    created_at = LazyAttribute(lambda o: _SYNTHETIC.created_at(o.rng))


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
                previous_filename=_previous_name(path) if shape.status == "renamed" else None,
                patch=_patch(shape.additions, shape.deletions) if shape.has_patch else None,
            )
        )
    return tuple(files)


def _commits(o: Any) -> tuple[Commit, ...]:
    author: User | None = o.user
    login = author.login if author is not None else None
    name = login.removesuffix("[bot]") if login else "ghost"
    email = f"{author.id}+{login}@users.noreply.github.com" if author is not None else "ghost@example.com"
    moments = _moments(o.rng, o.created_at, _window_end(o), o.n_commits)
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
    moments = _moments(o.rng, o.created_at, _window_end(o), len(crew.review_users))
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
    moments = _moments(o.rng, o.created_at, _window_end(o), o.n_review_comments)
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
    moments = _moments(o.rng, o.created_at, _window_end(o), o.n_issue_comments)
    base = o.id * 1000 + 800
    return tuple(
        IssueComment(
            id=base + index,
            user=o.rng.choice(people),
            body=f"Thanks! {o.rng.choice(_WORDS).capitalize()} looks right now.",
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
        rng = LazyFunction(_global_rng)
        source: Source = _SYNTHETIC
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
        shapes = LazyAttribute(lambda o: o.source.shapes(o.rng, large=o.size == "large", kind=_kind(o.user)))
        drawn_counts = LazyAttribute(lambda o: o.source.counts(o.rng, _kind(o.user)))
        n_commits = LazyAttribute(lambda o: o.drawn_counts[0])
        n_review_comments = LazyAttribute(lambda o: o.drawn_counts[1])
        n_issue_comments = LazyAttribute(lambda o: o.drawn_counts[2])
        duration = LazyAttribute(lambda o: o.source.duration(o.rng, o.drawn_outcome))
        drawn_text = LazyAttribute(lambda o: o.source.text(o.rng, _kind(o.user)))

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
