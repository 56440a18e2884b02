"""Typed, immutable models of GitHub pull-request data.

Every model is a frozen, slotted dataclass with three doors:

- ``from_github(json)``: built from a GitHub REST response body (tolerant of ``null`` users, missing
  ``patch``, pending reviews without ``submitted_at``, and older shapes that lack newer keys);
- ``to_dict()`` / ``from_dict()``: a plain-dict form (JSON-safe: datetimes as ISO-8601 strings) that
  round-trips exactly; it is what the snapshot stores.

Sequences are tuples so that one test cannot change what another test sees. This module imports
nothing of ours but the leaf ``defaults``, and nothing heavy: the pytest plugin loads it on first use
of a fixture.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pytest_ghseed.defaults import (
    DEFAULT_MAX_PRS,
    DEFAULT_ORDER,
    DEFAULT_STATE,
    ORDERS,
    STATES,
    PullOrder,
    PullState,
)

JSON = dict[str, Any]

#: Bumped whenever the plain-dict form of a model changes incompatibly.
SCHEMA_VERSION = 1


@contextlib.contextmanager
def bulk_loading() -> Iterator[None]:
    """Pause the cyclic garbage collector while a snapshot's objects are created.

    A snapshot is hundreds of thousands of small, acyclic objects (JSON values, then models); the
    collector would otherwise scan the growing heap again and again while they are created. Inside
    ``long_lived`` the collector stays paused at the end: ``long_lived`` freezes the new objects first.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled and _LONG_LIVED.active:
            _LONG_LIVED.paused = True
        elif enabled:
            gc.enable()


@dataclass
class _LongLived:
    active: bool = False
    #: A bulk load inside left the collector paused, for ``long_lived`` to resume after freezing.
    paused: bool = False


_LONG_LIVED = _LongLived()


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Make objects that live until the process ends (a test session's snapshot) out of the collector's way.

    A 5,000-PR snapshot is about 200,000 objects the cyclic collector would walk again in every full
    collection of the session (measured: 1.2 s of a 200-test session; the first collection after the
    load alone 0.12 s). What is garbage now is collected first (a small heap: before the load); a
    bulk load inside leaves the collector paused; at the end everything alive is frozen (``gc.freeze``:
    never walked again, still freed by reference counting) and the collector resumes. If nothing was
    bulk-loaded (a fetch, which collects as it goes), garbage is collected once more before freezing.
    The price: an object alive at that moment that later becomes part of a garbage cycle stays until
    the process ends. Not nested; one thread at a time (the session loads under its lock).
    """
    if not gc.isenabled() or _LONG_LIVED.active:
        yield
        return
    gc.collect()
    _LONG_LIVED.active, _LONG_LIVED.paused = True, False
    try:
        yield
    finally:
        _LONG_LIVED.active = False
        if not _LONG_LIVED.paused:
            gc.collect()
        gc.freeze()
        gc.enable()


def parse_datetime(value: str | None) -> datetime | None:
    """Parse GitHub's ISO-8601 timestamps (``2024-01-01T10:00:00Z``) into aware UTC datetimes."""
    if not value:
        return None
    # Python 3.11+ reads the "Z" itself, in one call: this runs for every timestamp of a loading snapshot.
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        # GitHub always sends UTC; a naive value can only come from a hand-written dict.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_datetime(value: datetime | None) -> str | None:
    """Format an aware datetime the way GitHub does (UTC, ``Z`` suffix, seconds precision or finer)."""
    if value is None:
        return None
    utc = value.astimezone(UTC)
    text = utc.isoformat()
    return text.replace("+00:00", "Z")


def _required_datetime(value: str | None, what: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        msg = f"{what} is missing; GitHub always sends it, so the response is not a {what.split('.')[0]}"
        raise ValueError(msg)
    return parsed


@dataclass(frozen=True, slots=True)
class User:
    """A GitHub account: a person, a bot (``dependabot[bot]``) or an organization."""

    login: str
    id: int
    type: str = "User"

    @classmethod
    def from_github(cls, data: Mapping[str, Any] | None) -> User | None:
        """Build from a GitHub user object; ``None`` for ``null`` (a deleted account)."""
        if not data:
            return None
        return cls(login=str(data["login"]), id=int(data["id"]), type=str(data.get("type") or "User"))

    def to_dict(self) -> JSON:
        return {"login": self.login, "id": self.id, "type": self.type}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> User | None:
        if data is None:
            return None
        return _shared_user(data["login"], data["id"], data.get("type", "User"))

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot"


@functools.lru_cache(maxsize=8192)
def _shared_user(login: str, user_id: int, kind: str) -> User:
    # The same few people appear thousands of times in a snapshot; frozen Users can be shared.
    return User(login=login, id=user_id, type=kind)


def _user_dict(user: User | None) -> JSON | None:
    return None if user is None else user.to_dict()


@dataclass(frozen=True, slots=True)
class Review:
    """A pull-request review. ``submitted_at`` is ``None`` while the review is pending."""

    id: int
    user: User | None
    state: str
    body: str
    submitted_at: datetime | None
    commit_id: str | None

    @classmethod
    def from_github(cls, data: Mapping[str, Any]) -> Review:
        return cls(
            id=int(data["id"]),
            user=User.from_github(data.get("user")),
            state=str(data["state"]),
            body=data.get("body") or "",
            submitted_at=parse_datetime(data.get("submitted_at")),
            commit_id=data.get("commit_id"),
        )

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "user": _user_dict(self.user),
            "state": self.state,
            "body": self.body,
            "submitted_at": format_datetime(self.submitted_at),
            "commit_id": self.commit_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Review:
        return _fast_new(cls)(
            id=data["id"],
            user=User.from_dict(data["user"]),
            state=data["state"],
            body=data["body"],
            submitted_at=parse_datetime(data["submitted_at"]),
            commit_id=data["commit_id"],
        )


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit of a pull request. ``author_login`` is ``None`` when no GitHub user is linked."""

    sha: str
    message: str
    author_name: str | None
    author_email: str | None
    author_login: str | None
    authored_at: datetime | None
    committed_at: datetime | None

    @classmethod
    def from_github(cls, data: Mapping[str, Any]) -> Commit:
        git = data.get("commit") or {}
        git_author = git.get("author") or {}
        git_committer = git.get("committer") or {}
        linked = data.get("author")
        return cls(
            sha=str(data["sha"]),
            message=git.get("message") or "",
            author_name=git_author.get("name"),
            author_email=git_author.get("email"),
            author_login=linked.get("login") if linked else None,
            authored_at=parse_datetime(git_author.get("date")),
            committed_at=parse_datetime(git_committer.get("date")),
        )

    def to_dict(self) -> JSON:
        return {
            "sha": self.sha,
            "message": self.message,
            "author_name": self.author_name,
            "author_email": self.author_email,
            "author_login": self.author_login,
            "authored_at": format_datetime(self.authored_at),
            "committed_at": format_datetime(self.committed_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Commit:
        return _fast_new(cls)(
            sha=data["sha"],
            message=data["message"],
            author_name=data["author_name"],
            author_email=data["author_email"],
            author_login=data["author_login"],
            authored_at=parse_datetime(data["authored_at"]),
            committed_at=parse_datetime(data["committed_at"]),
        )


@dataclass(frozen=True, slots=True)
class FileChange:
    """One changed file. ``patch`` is ``None`` when GitHub omits it (binary or too large)."""

    filename: str
    status: str
    additions: int
    deletions: int
    changes: int
    previous_filename: str | None = None
    patch: str | None = None

    @classmethod
    def from_github(cls, data: Mapping[str, Any]) -> FileChange:
        return cls(
            filename=str(data["filename"]),
            status=str(data["status"]),
            additions=int(data.get("additions", 0)),
            deletions=int(data.get("deletions", 0)),
            changes=int(data.get("changes", 0)),
            previous_filename=data.get("previous_filename"),
            patch=data.get("patch"),
        )

    def to_dict(self) -> JSON:
        return {
            "filename": self.filename,
            "status": self.status,
            "additions": self.additions,
            "deletions": self.deletions,
            "changes": self.changes,
            "previous_filename": self.previous_filename,
            "patch": self.patch,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileChange:
        # Explicit keys and no keyword matching: this runs for every file of every PR of a loading snapshot.
        return _fast_new(cls)(
            data["filename"],
            data["status"],
            data["additions"],
            data["deletions"],
            data["changes"],
            data["previous_filename"],
            data["patch"],
        )


@dataclass(frozen=True, slots=True)
class ReviewComment:
    """A comment on a line of the diff. ``line`` is ``None`` on outdated comments."""

    id: int
    user: User | None
    body: str
    path: str
    line: int | None
    created_at: datetime
    in_reply_to_id: int | None = None

    @classmethod
    def from_github(cls, data: Mapping[str, Any]) -> ReviewComment:
        return cls(
            id=int(data["id"]),
            user=User.from_github(data.get("user")),
            body=data.get("body") or "",
            path=str(data["path"]),
            line=data.get("line"),
            created_at=_required_datetime(data.get("created_at"), "review_comment.created_at"),
            in_reply_to_id=data.get("in_reply_to_id"),
        )

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "user": _user_dict(self.user),
            "body": self.body,
            "path": self.path,
            "line": self.line,
            "created_at": format_datetime(self.created_at),
            "in_reply_to_id": self.in_reply_to_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewComment:
        return _fast_new(cls)(
            id=data["id"],
            user=User.from_dict(data["user"]),
            body=data["body"],
            path=data["path"],
            line=data["line"],
            created_at=_required_datetime(data["created_at"], "review_comment.created_at"),
            in_reply_to_id=data["in_reply_to_id"],
        )


@dataclass(frozen=True, slots=True)
class IssueComment:
    """A comment in the pull request's conversation tab."""

    id: int
    user: User | None
    body: str
    created_at: datetime

    @classmethod
    def from_github(cls, data: Mapping[str, Any]) -> IssueComment:
        return cls(
            id=int(data["id"]),
            user=User.from_github(data.get("user")),
            body=data.get("body") or "",
            created_at=_required_datetime(data.get("created_at"), "issue_comment.created_at"),
        )

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "user": _user_dict(self.user),
            "body": self.body,
            "created_at": format_datetime(self.created_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IssueComment:
        return _fast_new(cls)(
            id=data["id"],
            user=User.from_dict(data["user"]),
            body=data["body"],
            created_at=_required_datetime(data["created_at"], "issue_comment.created_at"),
        )


_Item = TypeVar("_Item", Review, Commit, FileChange, ReviewComment, IssueComment)
_Model = TypeVar("_Model")


def compile_constructor(cls: type[_Model]) -> Callable[..., _Model]:
    """A constructor for a frozen slotted dataclass that sets its slots directly (also used by
    ``cache.codec``, which builds every model of a derived snapshot with one).

    It does what the generated ``__init__`` does (same parameters, same result) without one
    ``object.__setattr__`` call per field, which frozen dataclasses pay: loading a snapshot builds tens of
    thousands of these objects, and this halves that cost. Generated with ``exec`` as dataclasses do.
    """
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]  # any dataclass
    body = "".join(f"    set_{name}(obj, {name})\n" for name in names)
    source = f"def construct({', '.join(names)}):\n    obj = new(cls)\n{body}    return obj\n"
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    namespace.update({f"set_{name}": getattr(cls, name).__set__ for name in names})
    exec(source, namespace)
    constructor: Callable[..., _Model] = namespace["construct"]
    return constructor


_CONSTRUCTORS: dict[type, Callable[..., Any]] = {
    kind: compile_constructor(kind) for kind in (Review, Commit, FileChange, ReviewComment, IssueComment)
}


def _fast_new(cls: type[_Item]) -> Callable[..., _Item]:
    return _CONSTRUCTORS[cls]


def _tuple_of(kind: type[_Item], items: Sequence[Mapping[str, Any]]) -> tuple[_Item, ...]:
    return tuple(kind.from_github(item) for item in items)


def _tuple_from_dicts(kind: type[_Item], items: Sequence[Mapping[str, Any]]) -> tuple[_Item, ...]:
    return tuple(map(kind.from_dict, items))


@dataclass(frozen=True, slots=True)
class PullRequest:
    """A pull request with its reviews, commits, changed files and comments.

    The counters (``additions``, ``commits_count``, ...) are GitHub's own, from the detail endpoint.
    The lists are what the API returns: ``commits`` stops at 250 and ``files`` at 3,000 entries, and
    ``commits_truncated`` / ``files_truncated`` say when a cap was hit.
    """

    number: int
    id: int
    title: str
    body: str
    state: str
    draft: bool
    merged: bool
    merged_at: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    user: User | None
    labels: tuple[str, ...]
    base_ref: str
    head_ref: str
    head_sha: str
    additions: int
    deletions: int
    changed_files: int
    commits_count: int
    comments_count: int
    review_comments_count: int
    merged_by: User | None
    requested_reviewers: tuple[User, ...]
    html_url: str
    reviews: tuple[Review, ...] = ()
    commits: tuple[Commit, ...] = ()
    files: tuple[FileChange, ...] = ()
    review_comments: tuple[ReviewComment, ...] = ()
    issue_comments: tuple[IssueComment, ...] = ()
    commits_truncated: bool = False
    files_truncated: bool = False

    @classmethod
    def from_github(
        cls,
        detail: Mapping[str, Any],
        *,
        reviews: Sequence[Mapping[str, Any]] = (),
        commits: Sequence[Mapping[str, Any]] = (),
        files: Sequence[Mapping[str, Any]] = (),
        review_comments: Sequence[Mapping[str, Any]] = (),
        issue_comments: Sequence[Mapping[str, Any]] = (),
        commits_truncated: bool = False,
        files_truncated: bool = False,
    ) -> PullRequest:
        """Build from the single-pull body plus the bodies of its sub-lists (all pages joined).

        A list item (``GET /pulls``) lacks the counters; they default to 0 / ``False`` there, so use
        the detail body whenever the counters matter.
        """
        merged_at = parse_datetime(detail.get("merged_at"))
        head = detail.get("head") or {}
        base = detail.get("base") or {}
        return cls(
            number=int(detail["number"]),
            id=int(detail["id"]),
            title=detail.get("title") or "",
            body=detail.get("body") or "",
            state=str(detail["state"]),
            draft=bool(detail.get("draft", False)),
            # The detail has "merged"; a list item only has merged_at, which implies it.
            merged=bool(detail.get("merged", merged_at is not None)),
            merged_at=merged_at,
            created_at=_required_datetime(detail.get("created_at"), "pull_request.created_at"),
            updated_at=_required_datetime(detail.get("updated_at"), "pull_request.updated_at"),
            closed_at=parse_datetime(detail.get("closed_at")),
            user=User.from_github(detail.get("user")),
            labels=tuple(str(label["name"]) for label in detail.get("labels") or ()),
            base_ref=str(base.get("ref", "")),
            head_ref=str(head.get("ref", "")),
            head_sha=str(head.get("sha", "")),
            additions=int(detail.get("additions", 0)),
            deletions=int(detail.get("deletions", 0)),
            changed_files=int(detail.get("changed_files", 0)),
            commits_count=int(detail.get("commits", 0)),
            comments_count=int(detail.get("comments", 0)),
            review_comments_count=int(detail.get("review_comments", 0)),
            merged_by=User.from_github(detail.get("merged_by")),
            requested_reviewers=tuple(
                user
                for user in (User.from_github(r) for r in detail.get("requested_reviewers") or ())
                if user is not None
            ),
            html_url=str(detail.get("html_url", "")),
            reviews=_tuple_of(Review, reviews),
            commits=_tuple_of(Commit, commits),
            files=_tuple_of(FileChange, files),
            review_comments=_tuple_of(ReviewComment, review_comments),
            issue_comments=_tuple_of(IssueComment, issue_comments),
            commits_truncated=commits_truncated,
            files_truncated=files_truncated,
        )

    def to_dict(self) -> JSON:
        return {
            "number": self.number,
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "state": self.state,
            "draft": self.draft,
            "merged": self.merged,
            "merged_at": format_datetime(self.merged_at),
            "created_at": format_datetime(self.created_at),
            "updated_at": format_datetime(self.updated_at),
            "closed_at": format_datetime(self.closed_at),
            "user": _user_dict(self.user),
            "labels": list(self.labels),
            "base_ref": self.base_ref,
            "head_ref": self.head_ref,
            "head_sha": self.head_sha,
            "additions": self.additions,
            "deletions": self.deletions,
            "changed_files": self.changed_files,
            "commits_count": self.commits_count,
            "comments_count": self.comments_count,
            "review_comments_count": self.review_comments_count,
            "merged_by": _user_dict(self.merged_by),
            "requested_reviewers": [u.to_dict() for u in self.requested_reviewers],
            "html_url": self.html_url,
            "reviews": [r.to_dict() for r in self.reviews],
            "commits": [c.to_dict() for c in self.commits],
            "files": [f.to_dict() for f in self.files],
            "review_comments": [c.to_dict() for c in self.review_comments],
            "issue_comments": [c.to_dict() for c in self.issue_comments],
            "commits_truncated": self.commits_truncated,
            "files_truncated": self.files_truncated,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PullRequest:
        """Build from the plain-dict form; ``TypeError``/``ValueError`` when a value has the wrong type.

        The plain-dict form comes from a committed file that anyone can edit, so the types are checked
        (cheaply: a snapshot of thousands of PRs loads on every test run).
        """
        _check_pull_dict(data)
        return cls(
            number=data["number"],
            id=data["id"],
            title=data["title"],
            body=data["body"],
            state=data["state"],
            draft=data["draft"],
            merged=data["merged"],
            merged_at=parse_datetime(data["merged_at"]),
            created_at=_required_datetime(data["created_at"], "pull_request.created_at"),
            updated_at=_required_datetime(data["updated_at"], "pull_request.updated_at"),
            closed_at=parse_datetime(data["closed_at"]),
            user=User.from_dict(data["user"]),
            labels=tuple(data["labels"]),
            base_ref=data["base_ref"],
            head_ref=data["head_ref"],
            head_sha=data["head_sha"],
            additions=data["additions"],
            deletions=data["deletions"],
            changed_files=data["changed_files"],
            commits_count=data["commits_count"],
            comments_count=data["comments_count"],
            review_comments_count=data["review_comments_count"],
            merged_by=User.from_dict(data["merged_by"]),
            requested_reviewers=tuple(
                u for u in (User.from_dict(r) for r in data["requested_reviewers"]) if u is not None
            ),
            html_url=data["html_url"],
            reviews=_tuple_from_dicts(Review, data["reviews"]),
            commits=_tuple_from_dicts(Commit, data["commits"]),
            files=_tuple_from_dicts(FileChange, data["files"]),
            review_comments=_tuple_from_dicts(ReviewComment, data["review_comments"]),
            issue_comments=_tuple_from_dicts(IssueComment, data["issue_comments"]),
            commits_truncated=data.get("commits_truncated", False),
            files_truncated=data.get("files_truncated", False),
        )

    @property
    def reviewers(self) -> tuple[str, ...]:
        """Logins of the people who submitted a review, in first-review order, without repeats."""
        seen: dict[str, None] = {}
        for review in self.reviews:
            if review.user is not None:
                seen.setdefault(review.user.login, None)
        return tuple(seen)


_PULL_INTS = (
    "number",
    "id",
    "additions",
    "deletions",
    "changed_files",
    "commits_count",
    "comments_count",
    "review_comments_count",
)
_PULL_TEXTS = ("title", "body", "state", "base_ref", "head_ref", "head_sha", "html_url")
_PULL_FLAGS = ("draft", "merged")
_PULL_LISTS = (
    "labels",
    "requested_reviewers",
    "reviews",
    "commits",
    "files",
    "review_comments",
    "issue_comments",
)
#: Integer fields of the items of each list (the rest are texts, dates and users, checked as they are built).
_ITEM_INTS = {
    "reviews": ("id",),
    "files": ("additions", "deletions", "changes"),
    "review_comments": ("id",),
    "issue_comments": ("id",),
}


def _is_int(value: object) -> bool:
    return type(value) is int


def _check_pull_dict(data: object) -> None:
    if not isinstance(data, Mapping):
        msg = f"a pull request must be an object, found {type(data).__name__}"
        raise TypeError(msg)
    for key in _PULL_INTS:
        if not _is_int(data[key]) or data[key] < 0:
            msg = f"pull request field {key} must be a whole number, found {data[key]!r}"[:200]
            raise TypeError(msg)
    for key in _PULL_TEXTS:
        if not isinstance(data[key], str):
            msg = f"pull request #{data['number']} field {key} must be text, found {type(data[key]).__name__}"
            raise TypeError(msg)
    for key in _PULL_FLAGS:
        if not isinstance(data[key], bool):
            msg = f"pull request #{data['number']} field {key} must be true or false, found {data[key]!r}"[
                :200
            ]
            raise TypeError(msg)
    for key in _PULL_LISTS:
        items = data[key]
        if not isinstance(items, list):
            msg = f"pull request #{data['number']} field {key} must be a list, found {type(items).__name__}"
            raise TypeError(msg)
        ints = _ITEM_INTS.get(key, ())
        for item in items:
            if key == "labels":
                if not isinstance(item, str):
                    msg = f"pull request #{data['number']} has a label that is not text: {item!r}"[:200]
                    raise TypeError(msg)
                continue
            if not isinstance(item, dict) or not all(_is_int(item[k]) for k in ints):
                msg = f"pull request #{data['number']} has a malformed entry in {key}: {item!r}"[:200]
                raise TypeError(msg)


@dataclass(frozen=True, slots=True)
class Repository:
    """The repository a snapshot was taken from."""

    full_name: str
    id: int
    default_branch: str = "main"
    html_url: str = ""
    description: str | None = None
    private: bool = False

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]

    @classmethod
    def from_github(cls, data: Mapping[str, Any]) -> Repository:
        return cls(
            full_name=str(data["full_name"]),
            id=int(data["id"]),
            default_branch=str(data.get("default_branch") or "main"),
            html_url=str(data.get("html_url") or ""),
            description=data.get("description"),
            private=bool(data.get("private", False)),
        )

    def to_dict(self) -> JSON:
        return {
            "full_name": self.full_name,
            "id": self.id,
            "default_branch": self.default_branch,
            "html_url": self.html_url,
            "description": self.description,
            "private": self.private,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Repository:
        if (
            not isinstance(data["full_name"], str)
            or data["full_name"].count("/") != 1
            or not _is_int(data["id"])
        ):
            msg = f"the repository must have an owner/name full_name and a numeric id, found {data!r}"[:200]
            raise TypeError(msg)
        return cls(
            full_name=data["full_name"],
            id=data["id"],
            default_branch=data["default_branch"],
            html_url=data["html_url"],
            description=data["description"],
            private=data["private"],
        )


@dataclass(frozen=True, slots=True)
class FetchParams:
    """What was asked of the crawl: which pull requests, chosen how.

    ``order="recent"`` keeps the most recently created ``max_prs`` pull requests (users want current
    data); ``"oldest"`` keeps the first ones. ``since``/``until`` bound ``created_at``.
    ``patches=False`` (a GraphQL crawl with ``--no-patches``): files come without ``patch`` and
    ``previous_filename``, so such a recording covers no request that wants them.
    """

    max_prs: int | None = DEFAULT_MAX_PRS
    state: PullState = DEFAULT_STATE
    order: PullOrder = DEFAULT_ORDER
    since: datetime | None = None
    until: datetime | None = None
    patches: bool = True

    def to_dict(self) -> JSON:
        data: JSON = {
            "max_prs": self.max_prs,
            "state": self.state,
            "order": self.order,
            "since": format_datetime(self.since),
            "until": format_datetime(self.until),
        }
        if not self.patches:
            # Written only when off: files and checkpoints of every earlier recording (which all have
            # patches) stay byte for byte what they were, and still match the same parameters.
            data["patches"] = False
        return data

    def covers(self, wanted: FetchParams) -> bool:
        """Whether a snapshot taken with these parameters contains every PR ``wanted`` selects."""
        if wanted.patches and not self.patches:
            return False
        if self.since is not None and (wanted.since is None or wanted.since < self.since):
            return False
        if self.until is not None and (wanted.until is None or wanted.until > self.until):
            return False
        if self.max_prs is None:
            return self.state in ("all", wanted.state)
        return (
            self.state == wanted.state
            and self.order == wanted.order
            and wanted.max_prs is not None
            and wanted.max_prs <= self.max_prs
        )

    def wants(self, pr: Selectable) -> bool:
        """Whether ``pr`` matches the state and created range (not the count)."""
        if self.state != "all" and pr.state != self.state:
            return False
        if self.since is not None and pr.created_at < self.since:
            return False
        return not (self.until is not None and pr.created_at > self.until)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FetchParams:
        max_prs, state, order = data.get("max_prs"), data.get("state", "all"), data.get("order", "recent")
        if max_prs is not None and (not _is_int(max_prs) or max_prs < 1):
            msg = f"fetch parameter max_prs must be a whole number of at least 1 or null, found {max_prs!r}"[
                :200
            ]
            raise ValueError(msg)
        if state not in STATES or order not in ORDERS:
            msg = f"fetch parameters state {state!r} / order {order!r} are not among {STATES} / {ORDERS}"[
                :200
            ]
            raise ValueError(msg)
        patches = data.get("patches", True)
        if not isinstance(patches, bool):
            msg = f"fetch parameter patches must be true or false, found {patches!r}"[:200]
            raise ValueError(msg)
        return cls(
            max_prs=max_prs,
            state=state,
            order=order,
            since=parse_datetime(data.get("since")),
            until=parse_datetime(data.get("until")),
            patches=patches,
        )


class Selectable(Protocol):
    """What a selection looks at: a pull request, or an index entry standing for one."""

    @property
    def number(self) -> int: ...

    @property
    def state(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


_Selected = TypeVar("_Selected", bound=Selectable)


def choose(prs: Sequence[_Selected], params: FetchParams) -> list[_Selected]:
    """The PRs that ``params`` asks for, by number: state, created range, the N most recent or oldest."""
    chosen = sorted((pr for pr in prs if params.wants(pr)), key=lambda pr: pr.number)
    if params.max_prs is not None and len(chosen) > params.max_prs:
        chosen = chosen[-params.max_prs :] if params.order == "recent" else chosen[: params.max_prs]
    return chosen


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything recorded for one project: the repository, its pull requests, and how they were fetched."""

    repository: Repository
    recorded_at: datetime
    prs: tuple[PullRequest, ...]
    params: FetchParams = field(default_factory=FetchParams)

    def to_dict(self) -> JSON:
        return {
            "schema_version": SCHEMA_VERSION,
            "repository": self.repository.to_dict(),
            "recorded_at": format_datetime(self.recorded_at),
            "params": self.params.to_dict(),
            "prs": [pr.to_dict() for pr in self.prs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Snapshot:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            msg = (
                f"snapshot schema_version is {version!r}, this pytest-ghseed reads {SCHEMA_VERSION}; "
                "rebuild it with `ghseed rebuild PROJECT` or refetch"
            )
            raise ValueError(msg)
        with bulk_loading():
            return cls._from_dict(data)

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any]) -> Snapshot:
        if not isinstance(data["prs"], list):
            msg = f"snapshot prs must be a list, found {type(data['prs']).__name__}"
            raise TypeError(msg)
        prs = tuple(PullRequest.from_dict(pr) for pr in data["prs"])
        numbers = [pr.number for pr in prs]
        if len(set(numbers)) != len(numbers):
            twice = sorted({n for n in numbers if numbers.count(n) > 1})[:5]
            msg = f"the snapshot holds pull request(s) {', '.join(f'#{n}' for n in twice)} more than once"
            raise ValueError(msg)
        return cls(
            repository=Repository.from_dict(data["repository"]),
            recorded_at=_required_datetime(data["recorded_at"], "snapshot.recorded_at"),
            params=FetchParams.from_dict(data.get("params") or {}),
            prs=prs,
        )

    def select(self, params: FetchParams) -> Snapshot:
        """The PRs that ``params`` asks for (state, created range, the N most recent or oldest)."""
        prs = choose(self.prs, params)
        if len(prs) == len(self.prs) and self.params == params:
            return self
        return Snapshot(
            repository=self.repository, recorded_at=self.recorded_at, prs=tuple(prs), params=params
        )

    def pr(self, number: int) -> PullRequest:
        """The pull request with this number; ``KeyError`` naming the number when absent."""
        for pr in self.prs:
            if pr.number == number:
                return pr
        msg = f"pull request #{number} is not in the snapshot of {self.repository.full_name}"
        raise KeyError(msg)
