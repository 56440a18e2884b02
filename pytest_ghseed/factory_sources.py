"""Where generated pull requests get their values: a small synthetic team, or a recorded snapshot.

A ``Source`` answers every question a factory asks (who is the author, who reviews, how long until
merge, which files, how big) with a draw from a ``random.Random``; ``SyntheticSource`` draws from a
fixed, plausible team, ``SnapshotSource`` from the distributions of a recorded snapshot (the same
people, paths, sizes, review counts and durations as the real project). The factory-boy declarations
that use them are in ``factories``. Nothing here imports factory-boy but its generator (``global_rng``).
"""

from __future__ import annotations

import math
import posixpath
import random
import zlib
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import factory.random

from pytest_ghseed.defaults import COMMITS_CAP, FILES_CAP
from pytest_ghseed.errors import UsageError
from pytest_ghseed.models import (
    PullRequest,
    Snapshot,
    User,
)
from pytest_ghseed.vocabulary import WORDS

Outcome = Literal["open", "merged", "closed"]
AuthorKind = Literal["human", "bot"]

#: A ``large`` pull request from the synthetic factories has at least this many files and changed lines.
LARGE_MIN_FILES = 25
LARGE_MIN_LINES = 1000


_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_SUBMITTED_STATES = ("APPROVED", "COMMENTED", "CHANGES_REQUESTED", "DISMISSED")


def sha(rng: random.Random) -> str:
    """A random 40-hex-digit git object id."""
    return f"{rng.getrandbits(160):040x}"


def stable_id(login: str) -> int:
    # crc32 rather than hash(): str hashes change between processes (PYTHONHASHSEED).
    return 10_000_000 + zlib.crc32(login.encode()) % 90_000_000


def _user(login: str) -> User:
    return User(login=login, id=stable_id(login), type="Bot" if login.endswith("[bot]") else "User")


def kind_of(user: User | None) -> AuthorKind:
    return "bot" if user is not None and user.is_bot else "human"


def _seconds(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds()))


def draw_moments(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    """``count`` sorted whole-second moments in ``[start, end]`` (GitHub reports seconds)."""
    span = max(0, _seconds(end - start))
    return [
        start + timedelta(seconds=offset) for offset in sorted(rng.randint(0, span) for _ in range(count))
    ]


def patch_of(additions: int, deletions: int) -> str | None:
    """A unified-diff hunk with the right line counts; ``None`` where GitHub omits it (too large)."""
    if additions + deletions == 0 or additions + deletions > 300:
        return None
    # List repetition, not a loop: large pull requests hold thousands of these.
    lines = ["-removed line"] * deletions + ["+added line"] * additions
    return f"@@ -1,{deletions} +1,{additions} @@\n" + "\n".join(lines)


def previous_name(path: str) -> str:
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
        first, second, third = rng.sample(WORDS, 3)
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
        word = rng.choice(WORDS)
        if what == "commit":
            return f"{word.capitalize()} {rng.choice(WORDS)}"
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
            kind: [pr for pr in self._authored if kind_of(pr.user) == kind] or list(prs)
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
                if (kind is None or kind_of(pr.user) == kind) and len(self._review_users(pr)) >= min_reviews
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


SYNTHETIC = SyntheticSource()


def global_rng() -> random.Random:
    # factory-boy's generator (not the random module's): what factory.random.reseed_random() seeds.
    return factory.random.randgen
