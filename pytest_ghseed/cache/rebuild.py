"""Rebuild a snapshot from cassettes alone: the proof that the cassettes are the source of truth.

Reads the recorded responses directly (``cassettes.load_interactions``), never through vcrpy's
replay, whose request matching scans every interaction for every request.

A cassette may hold several generations of a resource (a resumed or refreshed fetch appends): the
last 200 answer of a detail wins, a list restarts at each first page, and 304s change nothing.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_ghseed.cache.cassettes import load_interactions
from pytest_ghseed.cache.layout import graphql_shard_number, listing_sequence
from pytest_ghseed.cache.metadata import Metadata
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.errors import CacheError, CorruptFile
from pytest_ghseed.models import PullRequest, Repository, Snapshot
from pytest_ghseed.projects import fetch_command
from pytest_ghseed.traffic import read_json

GITHUB_API = "https://api.github.com"
_RESOURCE = re.compile(r"/(pulls|issues)/(\d+)(/[a-z_]+)?$")
_REPO = re.compile(r"^(?:/api/v3)?/repos/([^/]+/[^/]+)$")
_LIST_NAMES = {
    ("pulls", "/reviews"): "reviews",
    ("pulls", "/commits"): "commits",
    ("pulls", "/files"): "files",
    ("pulls", "/comments"): "review_comments",
    ("issues", "/comments"): "issue_comments",
}


#: What reading a recorded body raises when someone edited it into something else.
MALFORMED = (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError)


def malformed_body(path: Path, exc: BaseException) -> CorruptFile:
    """The error for a cassette at ``path`` whose recorded body could not be read (``exc``)."""
    return CorruptFile(path, f"a recorded body is malformed ({exc.__class__.__name__}: {exc})")


def rebuild_project(store: ProjectStore) -> Snapshot:
    """Rebuild the project's snapshot from its cassettes alone and write it with its metadata.

    The one rebuild: ``ghseed rebuild`` and the cache's self-healing both call it. It needs the
    metadata of a finished recording (written last, it says which pull requests were recorded and
    with which parameters); without it the cassettes are the partial traffic of an interrupted fetch,
    which only a fetch can finish. Raises ``CorruptFile`` for an unusable cassette (left in place:
    the caller decides whether to quarantine it) and ``CacheError`` when nothing can be rebuilt.
    """
    try:
        metadata = store.read_metadata()
    except CacheError as exc:
        msg = (
            f"cannot rebuild {store.name}: no usable metadata.json ({exc}). Without it the cassettes are "
            f"the traffic of an unfinished fetch; finish it with `{fetch_command(store.project, store.cache_dir)}`"
        )
        raise CacheError(msg) from None
    snapshot = snapshot_from_cassettes(store, metadata)
    store.save(snapshot, metadata.for_snapshot(snapshot))
    return snapshot


def snapshot_from_cassettes(store: ProjectStore, metadata: Metadata) -> Snapshot:
    """The snapshot the cassettes record for ``metadata``'s pull requests. Reads only; changes nothing."""
    files = store.layout.cassettes()
    if not files:
        msg = (
            f"no cassettes in {store.cassette_dir}: nothing to rebuild from. "
            f"Fetch with `{fetch_command(store.project, store.cache_dir)}`"
        )
        raise CacheError(msg)
    repository: Repository | None = None
    prs: list[PullRequest] = []
    comments = _BulkReader()
    for path in files:
        if graphql_shard_number(path.name) is not None:
            continue  # GraphQL answers: read below, for the PRs recorded through GraphQL
        try:
            if listing_sequence(path.name) is not None:
                repository = _repository(path) or repository
                comments.read(path)
            else:
                pr = _pull_request(path, comments.grouped())
                if pr is not None:
                    prs.append(pr)
        except MALFORMED as exc:
            raise malformed_body(path, exc) from None
    if metadata.graphql:
        # PRs last recorded through GraphQL: from their answers (a REST detail in their cassette is older).
        from pytest_ghseed.cache.graphql_rebuild import recorded_pulls

        graphql = set(metadata.graphql)
        prs = [pr for pr in prs if pr.number not in graphql]
        prs += [pull.model() for pull in recorded_pulls(store, graphql).values()]
    if repository is None:
        msg = f"{store.cassette_dir} has no recorded answer for the repository itself; fetch again"
        raise CacheError(msg)
    wanted = set(metadata.numbers)
    if wanted:
        chosen = sorted((pr for pr in prs if pr.number in wanted), key=lambda pr: pr.number)
        snapshot = Snapshot(
            repository=repository, recorded_at=metadata.recorded_at, prs=tuple(chosen), params=metadata.params
        )
    else:
        every = Snapshot(repository=repository, recorded_at=metadata.recorded_at, prs=tuple(prs))
        snapshot = every.select(metadata.params)
    if len(snapshot.prs) != metadata.pr_count:
        msg = (
            f"the cassettes in {store.cassette_dir} hold {len(snapshot.prs)} of the {metadata.pr_count} "
            "recorded pull requests (a cassette is missing); fetch again"
        )
        raise CacheError(msg)
    return snapshot


def _repository(path: Path) -> Repository | None:
    found: Repository | None = None
    for interaction in load_interactions(path):
        route = urllib.parse.urlsplit(interaction.uri).path
        if interaction.status == 200 and _REPO.match(route):
            found = Repository.from_github(read_json(interaction.body))
    return found


BulkComments = dict[str, dict[int, list[Any]]]
_BULK = re.compile(r"/(pulls|issues)/comments$")
_LINKED_NUMBER = re.compile(r"/(?:pulls|issues)/(\d+)$")
#: Comment lists the fetcher may read repository-wide, and the key of the PR detail that counts them.
_BULK_LISTS = (
    ("review_comments", "review_comments", "pull_request_url"),
    ("issue_comments", "comments", "issue_url"),
)


#: Lists the fetcher skips when the detail counts 0 of them (reviews have no count).
_COUNTED_LISTS = (
    ("commits", "commits"),
    ("files", "changed_files"),
    ("review_comments", "review_comments"),
    ("issue_comments", "comments"),
)


class _BulkReader:
    """Comments recorded through the repository-wide lists, over every listing shard (oldest first)."""

    def __init__(self) -> None:
        self._by_id: dict[str, dict[int, Any]] = {name: {} for name, _, _ in _BULK_LISTS}
        self._grouped: BulkComments | None = None

    def read(self, path: Path) -> None:
        for interaction in load_interactions(path):
            match = _BULK.search(urllib.parse.urlsplit(interaction.uri).path)
            if interaction.status != 200 or not match:
                continue
            name = "review_comments" if match.group(1) == "pulls" else "issue_comments"
            for comment in read_json(interaction.body):
                self._by_id[name][int(comment["id"])] = comment  # a later recording of a comment wins
        self._grouped = None

    def grouped(self) -> BulkComments:
        """The comments grouped by pull request, oldest first."""
        if self._grouped is None:
            grouped: BulkComments = {}
            for name, _count_key, link_key in _BULK_LISTS:
                for comment in sorted(self._by_id[name].values(), key=lambda c: (c["created_at"], c["id"])):
                    linked = _LINKED_NUMBER.search(urllib.parse.urlsplit(str(comment.get(link_key, ""))).path)
                    if linked:
                        grouped.setdefault(name, {}).setdefault(int(linked.group(1)), []).append(comment)
            self._grouped = grouped
        return self._grouped


def _raw_pull(path: Path, bulk: BulkComments | None = None) -> dict[str, Any] | None:
    """The last 200 body of a pull's detail and of each sub-list (pages joined), as GitHub sent them.

    Comment lists the fetcher read repository-wide (``bulk``, from the listing cassette) fill in what
    the pull's own cassette lacks.
    """
    detail, lists = recorded_lists(path)
    if detail is None:
        return None
    raw: dict[str, Any] = {"detail": detail, **lists}
    # The fetcher's own rules, so that a rebuild gives what the fetch gave:
    for name, count_key in _COUNTED_LISTS:
        if int(detail.get(count_key, 1)) == 0:
            raw[name] = []  # a count of 0 was never asked for: older recorded pages are stale
    for name, count_key, _link_key in _BULK_LISTS:
        count = int(detail.get(count_key, 0))
        from_bulk = (bulk or {}).get(name, {}).get(int(detail["number"]), [])
        if count == 0 or not from_bulk:
            continue
        # Comments read repository-wide are newer than the PR's own pages (a refresh reads only the
        # recent ones): merged by id, they must add up to the detail's count, as the fetcher checks.
        merged = {int(c["id"]): c for c in raw[name]}
        merged.update({int(c["id"]): c for c in from_bulk})
        if len(merged) == count:
            raw[name] = sorted(merged.values(), key=lambda c: (c["created_at"], c["id"]))
    return raw


def recorded_lists(path: Path) -> tuple[dict[str, Any] | None, dict[str, list[Any]]]:
    """The last 200 body of a pull's detail (None: not recorded) and of each sub-list, pages joined."""
    detail: dict[str, Any] | None = None
    pages: dict[str, dict[int, list[Any]]] = {}
    for interaction in load_interactions(path):
        if interaction.status != 200:
            continue  # errors were retried; 304s confirm what an earlier 200 said
        parts = urllib.parse.urlsplit(interaction.uri)
        match = _RESOURCE.search(parts.path)
        if not match:
            continue
        kind, sub = match.group(1), match.group(3)
        if kind == "pulls" and sub is None:
            detail = read_json(interaction.body)
            continue
        name = _LIST_NAMES.get((kind, sub or ""))
        if name is None:
            continue
        page = int(urllib.parse.parse_qs(parts.query).get("page", ["1"])[0])
        if page == 1:
            pages[name] = {}  # a new generation of this list starts
        pages.setdefault(name, {})[page] = read_json(interaction.body)
    lists = {name: [item for n in sorted(by) for item in by[n]] for name, by in pages.items()}
    return detail, {name: lists.get(name, []) for name in _LIST_NAMES.values()}


def _pull_request(path: Path, bulk: BulkComments) -> PullRequest | None:
    raw = _raw_pull(path, bulk)
    if raw is None:
        return None
    detail = raw["detail"]
    return PullRequest.from_github(
        detail,
        reviews=raw["reviews"],
        commits=raw["commits"],
        files=raw["files"],
        review_comments=raw["review_comments"],
        issue_comments=raw["issue_comments"],
        commits_truncated=int(detail.get("commits", 0)) > len(raw["commits"]),
        files_truncated=int(detail.get("changed_files", 0)) > len(raw["files"]),
    )


@dataclass(frozen=True, slots=True)
class RawProject:
    """A project's GitHub bodies as recorded: the repository and, per pull, detail and sub-lists."""

    repo: dict[str, Any]
    pulls: list[dict[str, Any]]


def raw_from_cassettes(store: ProjectStore, *, api_url: str = GITHUB_API) -> RawProject:
    """The raw GitHub JSON of the repository and of every recorded pull, for serving it again.

    Recorded bodies link to the API they came from (for an emulator, an address long gone); those
    links are rewritten to ``api_url`` so that a server that maps ``api_url`` onto its own address
    (as the emulator does with https://api.github.com) keeps clients on its host. Nothing is moved
    aside: a corrupt cassette raises ``CacheError``.
    """
    files = store.layout.cassettes()
    if not files:
        msg = f"no cassettes in {store.cassette_dir}: nothing to serve. Fetch with `{fetch_command(store.project, store.cache_dir)}`"
        raise CacheError(msg)
    repo_text: str | None = None
    raws: list[dict[str, Any]] = []
    comments = _BulkReader()
    for path in files:
        try:
            if listing_sequence(path.name) is not None:
                repo_text = _repository_text(path) or repo_text
                comments.read(path)
            else:
                raw = _raw_pull(path, comments.grouped())
                if raw is not None:
                    raws.append(raw)
        except MALFORMED as exc:
            raise malformed_body(path, exc) from None
    if repo_text is None:
        msg = f"{store.cassette_dir} has no recorded answer for the repository itself; fetch again"
        raise CacheError(msg)
    repo = read_json(repo_text)
    origin = _recorded_api(repo)
    target = api_url.rstrip("/")

    def relink(body: Any) -> Any:
        if not origin or origin == target:
            return body
        # Through the JSON text: URLs sit at every depth (user, head.repo, _links, ...).
        return json.loads(json.dumps(body).replace(json.dumps(origin)[1:-1], json.dumps(target)[1:-1]))

    pulls = [relink(raw) for raw in sorted(raws, key=lambda raw: int(raw["detail"]["number"]))]
    return RawProject(repo=relink(repo), pulls=pulls)


def _repository_text(path: Path) -> str | None:
    found: str | None = None
    for interaction in load_interactions(path):
        route = urllib.parse.urlsplit(interaction.uri).path
        if interaction.status == 200 and _REPO.match(route):
            read_json(interaction.body)  # must parse: a corrupt body is a corrupt cassette
            found = interaction.body
    return found


def _recorded_api(repo: dict[str, Any]) -> str | None:
    """The API root the repository body was served from: its ``url`` minus ``/repos/owner/name``."""
    url = str(repo.get("url") or "")
    suffix = f"/repos/{repo.get('full_name', '')}"
    return url[: -len(suffix)] if url.endswith(suffix) else None
