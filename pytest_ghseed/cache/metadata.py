"""``metadata.json``: what a project's cache holds and how it was recorded, without the pull requests.

Written last of a project's files, so its presence means the snapshot beside it is whole. Typed
fields: the ETags of each pull request's resources (for free 304 revalidation in a refresh), the
repository's own ETag, every selection (fetch parameters) whose pull requests are all recorded, and
when GitHub was last asked (``checked_at``): a refresh that finds nothing new writes only that, so
the snapshot and the cassettes stay byte for byte as they were.

Older files (0.1.0) kept every ETag in one string-keyed ``etags`` dict with the repository's under the
key ``"repository"``; they are still read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pytest_ghseed.defaults import tool_version
from pytest_ghseed.models import SCHEMA_VERSION, FetchParams, Snapshot, format_datetime, parse_datetime

#: The ETags of one pull request's resources, by resource (``detail``, ``reviews``, ``commits``, ...).
ResourceTags = dict[str, str]
_LEGACY_REPOSITORY_KEY = "repository"


@dataclass(frozen=True, slots=True)
class Metadata:
    """What the cache knows about a recorded project."""

    project: str
    repository: str
    recorded_at: datetime
    tool_version: str
    schema_version: int
    pr_count: int
    params: FetchParams
    base_url: str
    #: Per pull-request number, the ETag of each of its resources.
    pr_etags: dict[int, ResourceTags] = field(default_factory=dict)
    repository_etag: str | None = None
    #: Every selection whose PRs are all in the snapshot; ``params`` is the first.
    covered: tuple[FetchParams, ...] = ()
    #: The PR numbers in the snapshot, so that a rebuild from the cassettes takes exactly these.
    numbers: tuple[int, ...] = ()
    #: sha256 of snapshot.json as written with this metadata: a crash between the two writes shows.
    snapshot_sha256: str | None = None
    #: When the crawl saved here was planned (its checkpoint's ``planned_at``): a checkpoint left by a
    #: crash after the save is recognised as done.
    crawl: str | None = None
    #: Whether the people in this recording are pseudonyms (``pseudonyms``), and a fingerprint of the
    #: salt they were made with (None when not known): a refresh with another salt is refused.
    pseudonymized: bool = False
    pseudonym_salt: str | None = None
    #: The PRs whose last recording came through GraphQL (``graphql-*`` cassettes, their files in their
    #: own cassette when patches were fetched); the others through REST. A rebuild reads each where it is.
    graphql: tuple[int, ...] = ()
    #: When a refresh last found the data unchanged on GitHub (None: never since ``recorded_at``).
    checked_at: datetime | None = None

    @classmethod
    def describe(
        cls,
        project: str,
        snapshot: Snapshot,
        *,
        base_url: str,
        pr_etags: Mapping[int, ResourceTags] | None = None,
        repository_etag: str | None = None,
        covered: tuple[FetchParams, ...] = (),
        snapshot_sha256: str | None = None,
        crawl: str | None = None,
        pseudonymized: bool = False,
        pseudonym_salt: str | None = None,
        graphql: tuple[int, ...] = (),
    ) -> Metadata:
        """The metadata of ``snapshot`` as this version of pytest-ghseed records it (the one builder)."""
        return cls(
            project=project,
            repository=snapshot.repository.full_name,
            recorded_at=snapshot.recorded_at,
            tool_version=tool_version(),
            schema_version=SCHEMA_VERSION,
            pr_count=len(snapshot.prs),
            params=snapshot.params,
            base_url=base_url,
            pr_etags={number: dict(tags) for number, tags in (pr_etags or {}).items()},
            repository_etag=repository_etag,
            covered=covered or (snapshot.params,),
            numbers=tuple(pr.number for pr in snapshot.prs),
            snapshot_sha256=snapshot_sha256,
            crawl=crawl,
            pseudonymized=pseudonymized or pseudonym_salt is not None,
            pseudonym_salt=pseudonym_salt,
            graphql=tuple(sorted(set(graphql) & {pr.number for pr in snapshot.prs})),
        )

    def for_snapshot(self, snapshot: Snapshot, snapshot_sha256: str | None = None) -> Metadata:
        """This metadata describing ``snapshot`` (a rebuild): counts and numbers follow, the rest stays."""
        return dataclasses.replace(
            self,
            tool_version=tool_version(),
            schema_version=SCHEMA_VERSION,
            pr_count=len(snapshot.prs),
            numbers=tuple(pr.number for pr in snapshot.prs),
            snapshot_sha256=snapshot_sha256,
        )

    @property
    def selections(self) -> tuple[FetchParams, ...]:
        """The covered selections (at least the recorded parameters)."""
        return self.covered or (self.params,)

    def checked(self, when: datetime) -> Metadata:
        """This metadata, checked against GitHub at ``when`` (found unchanged)."""
        return dataclasses.replace(self, checked_at=when)

    def age_seconds(self, now: datetime | None = None) -> float:
        current = now or datetime.now(UTC)
        return (current - self.recorded_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "repository": self.repository,
            "recorded_at": format_datetime(self.recorded_at),
            "tool_version": self.tool_version,
            "schema_version": self.schema_version,
            "pr_count": self.pr_count,
            "params": self.params.to_dict(),
            "base_url": self.base_url,
            "pr_etags": {str(number): tags for number, tags in sorted(self.pr_etags.items())},
            "repository_etag": self.repository_etag,
            "covered": [selection.to_dict() for selection in self.selections],
            "numbers": list(self.numbers),
            "snapshot_sha256": self.snapshot_sha256,
            "crawl": self.crawl,
            "pseudonymized": self.pseudonymized,
            "pseudonym_salt": self.pseudonym_salt,
            "graphql": list(self.graphql),
            "checked_at": format_datetime(self.checked_at),
        }

    @classmethod
    def from_dict(cls, data: object) -> Metadata:
        """Parse ``metadata.json``; ``ValueError``, ``KeyError`` or ``TypeError`` when it is malformed."""
        data = _mapping(data, "metadata.json")
        recorded = parse_datetime(_text(data, "recorded_at"))
        if recorded is None:
            msg = "recorded_at is empty"
            raise ValueError(msg)
        pr_etags, repository_etag = _etags(data)
        covered = data.get("covered") or [data["params"]]
        if not isinstance(covered, list):
            msg = "covered must be a list of fetch parameters"
            raise TypeError(msg)
        numbers = data.get("numbers") or []
        graphql = data.get("graphql") or []
        if not isinstance(numbers, list) or not isinstance(graphql, list):
            msg = "numbers and graphql must be lists of pull-request numbers"
            raise TypeError(msg)
        checked = data.get("checked_at")
        checked_at = None if checked is None else parse_datetime(_text(data, "checked_at"))
        return cls(
            project=_text(data, "project"),
            repository=_text(data, "repository"),
            recorded_at=recorded,
            tool_version=_text(data, "tool_version"),
            schema_version=_whole(data["schema_version"], "schema_version"),
            pr_count=_whole(data["pr_count"], "pr_count"),
            params=FetchParams.from_dict(_mapping(data["params"], "params")),
            base_url=str(data.get("base_url") or ""),
            pr_etags=pr_etags,
            repository_etag=repository_etag,
            covered=tuple(FetchParams.from_dict(_mapping(c, "covered")) for c in covered),
            numbers=tuple(_whole(n, "numbers") for n in numbers),
            snapshot_sha256=_optional_text(data, "snapshot_sha256"),
            crawl=_optional_text(data, "crawl"),
            pseudonymized=_flag(data, "pseudonymized") or data.get("pseudonym_salt") is not None,
            pseudonym_salt=_optional_text(data, "pseudonym_salt"),
            graphql=tuple(_whole(n, "graphql") for n in graphql),
            checked_at=checked_at,
        )


def _etags(data: Mapping[str, Any]) -> tuple[dict[int, ResourceTags], str | None]:
    if "pr_etags" in data:
        raw = _mapping(data["pr_etags"], "pr_etags")
        repository = data.get("repository_etag")
        if repository is not None and not isinstance(repository, str):
            msg = "repository_etag must be a string"
            raise TypeError(msg)
        return {_whole(int(k), "pr_etags"): _tags(v) for k, v in raw.items()}, repository
    # 0.1.0: one dict, PR numbers as strings, the repository's under "repository".
    legacy = dict(_mapping(data.get("etags") or {}, "etags"))
    repository_tags = legacy.pop(_LEGACY_REPOSITORY_KEY, None)
    repository_etag = _tags(repository_tags).get("detail") if repository_tags is not None else None
    return {_whole(int(k), "etags"): _tags(v) for k, v in legacy.items()}, repository_etag


def _tags(value: object) -> ResourceTags:
    tags = _mapping(value, "an ETag entry")
    return {str(name): str(tag) for name, tag in tags.items() if isinstance(tag, str)}


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        msg = f"{what} must be a JSON object, found {type(value).__name__}"
        raise TypeError(msg)
    return value


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        msg = f"{key} must be a string, found {type(value).__name__}"
        raise TypeError(msg)
    return value


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        msg = f"{key} must be a string, found {type(value).__name__}"
        raise TypeError(msg)
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        msg = f"{key} must be true or false, found {value!r}"[:200]
        raise TypeError(msg)
    return value


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"{what} must hold whole numbers of 0 or more, found {value!r}"
        raise ValueError(msg)
    return value
