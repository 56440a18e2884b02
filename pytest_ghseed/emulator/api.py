"""The REST resources: routing a path to a project's JSON, list filters and pagination.

Nothing here knows about HTTP, tokens or limits; :mod:`server` wraps it. Bodies are serialized
while the project's lock is held, so a concurrent mutation never tears a response.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from pytest_ghseed.defaults import COMMITS_CAP, FILES_CAP
from pytest_ghseed.emulator.data import Project, RawPull, SyntheticProject, list_item
from pytest_ghseed.emulator.diff import MISSING_HEADER, format_patch, unified_diff
from pytest_ghseed.emulator.protocol import SUPPORTED_API_VERSIONS, Media
from pytest_ghseed.emulator.views import (
    complete_repo,
    issue_json,
    known_users,
    live_repository_json,
    profile_json,
    root_json,
)

DOCS = "https://docs.github.com/rest"
JSON_TYPE = "application/json; charset=utf-8"

_REPO = re.compile(r"^/(?:repos/(?P<owner>[^/]+)/(?P<name>[^/]+)|repositories/(?P<id>\d+))(?P<rest>/.*)?$")
_PULL_PART = re.compile(r"^/pulls/(?P<number>\d+)(?:/(?P<part>reviews|commits|files|comments))?$")
_ISSUE = re.compile(r"^/issues/(?P<number>\d+)(?P<comments>/comments)?$")
_USER = re.compile(r"^/users/(?P<login>[^/]+)$")

Query = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class ApiResult:
    """A resolved resource: status, serialized canonical body, and what Link and ETag need."""

    status: int
    text: str
    #: Canonical ``/repos/{owner}/{name}/...`` path plus sorted query: one key per resource.
    resource: str
    #: Paginated lists only: the path Link URLs use, the page served, and the last page.
    link_path: str | None = None
    page: int = 1
    last_page: int = 1
    content_type: str = JSON_TYPE
    #: Headers of this representation beyond the usual ones (the diff's missing-patch count).
    headers: tuple[tuple[str, str], ...] = ()


def error_body(status: int, message: str, documentation_url: str = DOCS) -> str:
    """GitHub's error body shape."""
    return json.dumps({"message": message, "documentation_url": documentation_url, "status": str(status)})


def not_found(resource: str) -> ApiResult:
    """GitHub's 404."""
    return ApiResult(404, error_body(404, "Not Found"), resource)


def _dump(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


def _int(query: Mapping[str, str], key: str, default: int) -> int:
    try:
        return int(query.get(key, default))
    except ValueError:
        return default


def paginate(items: Sequence[Any], query: Query, resource: str, link_path: str) -> ApiResult:
    """One page of a list, as GitHub pages it (``per_page`` 30 by default, at most 100)."""
    params = dict(query)
    per_page = max(1, min(100, _int(params, "per_page", 30)))
    page = max(1, _int(params, "page", 1))
    last = max(1, math.ceil(len(items) / per_page))
    chunk = list(items[(page - 1) * per_page : page * per_page])
    return ApiResult(200, _dump(chunk), resource, link_path if items else None, page, last)


def link_header(origin: str, result: ApiResult, query: Query) -> str | None:
    """GitHub's ``Link`` header: prev, next, last, first (those that apply), own query first."""
    if result.link_path is None:
        return None
    own = [(key, value) for key, value in query if key != "page"]

    def url(page: int) -> str:
        return f"{origin}{result.link_path}?{urlencode([*own, ('page', str(page))])}"

    links: list[str] = []
    if result.page > 1:
        links.append(f'<{url(min(result.page - 1, result.last_page))}>; rel="prev"')
    if result.page < result.last_page:
        links.append(f'<{url(result.page + 1)}>; rel="next"')
        links.append(f'<{url(result.last_page)}>; rel="last"')
    if result.page > 1:
        links.append(f'<{url(1)}>; rel="first"')
    return ", ".join(links) or None


def _timestamp(value: str | None) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else 0.0


_SORT_KEYS: dict[str, Callable[[Mapping[str, Any]], float]] = {
    "created": lambda d: _timestamp(d["created_at"]),
    "updated": lambda d: _timestamp(d["updated_at"]),
    "popularity": lambda d: float(d.get("comments", 0)),
    "long-running": lambda d: _timestamp(d["updated_at"]) - _timestamp(d["created_at"]),
}


def _list_pulls(project: Project, query: Query, resource: str) -> ApiResult:
    params = dict(query)
    state = params.get("state", "open")
    sort = params.get("sort", "created")
    # GitHub: "desc when sort is created or sort is not specified, otherwise asc".
    direction = params.get("direction", "desc" if sort == "created" else "asc")
    if state not in ("open", "closed", "all") or sort not in _SORT_KEYS or direction not in ("asc", "desc"):
        return ApiResult(422, error_body(422, "Validation Failed"), resource)
    key = _SORT_KEYS[sort]
    details = [
        pull.detail
        for pull in project.pulls()
        if state in ("all", pull.detail["state"]) and _branch_matches(pull.detail, params)
    ]
    details.sort(key=lambda d: (key(d), d["number"]), reverse=direction == "desc")
    items = [list_item(detail) for detail in details]
    return paginate(items, query, resource, f"/repositories/{project.repo_id}/pulls")


def _branch_matches(detail: Mapping[str, Any], params: Mapping[str, str]) -> bool:
    """GitHub's ``base`` (a branch name) and ``head`` (``user:ref`` or ``org:ref``) filters.

    A ``head`` without the ``owner:`` part is ignored, as GitHub ignores it (it then answers every
    pull request: hub4j/github-api PR #538, PyGithub issue #1566). A pull request from a deleted fork
    has no head label and matches no ``head``.
    """
    base = params.get("base")
    if base is not None and (detail.get("base") or {}).get("ref") != base:
        return False
    head = params.get("head")
    if head is None or ":" not in head:
        return True
    owner, _, ref = head.partition(":")
    label = (detail.get("head") or {}).get("label")
    if not label:
        return False
    label_owner, _, label_ref = str(label).partition(":")
    return label_owner.lower() == owner.lower() and label_ref == ref


def _pull_part(
    project: Project, pull: RawPull, part: str | None, query: Query, resource: str, media: Media
) -> ApiResult:
    number = pull.number
    if part is None and media != "json":
        files = pull.files[:FILES_CAP]
        diff, missing = unified_diff(files, pull.detail.get("changed_files"))
        text = diff if media == "diff" else format_patch(pull.detail, pull.commits[:COMMITS_CAP], diff)
        return ApiResult(
            200,
            text,
            f"{resource}#{media}",
            content_type=f"application/vnd.github.{media}; charset=utf-8",
            headers=((MISSING_HEADER, str(missing)),),
        )
    if part is None:
        return ApiResult(200, _dump(pull.detail), resource)
    if part == "issue":
        return ApiResult(
            200, _dump(issue_json(pull.detail, project.repo, len(pull.issue_comments))), resource
        )
    lists: dict[str, tuple[list[dict[str, Any]], str]] = {
        "reviews": (pull.reviews, f"pulls/{number}/reviews"),
        "commits": (pull.commits[:COMMITS_CAP], f"pulls/{number}/commits"),
        "files": (pull.files[:FILES_CAP], f"pulls/{number}/files"),
        "comments": (pull.review_comments, f"pulls/{number}/comments"),
        "issue-comments": (pull.issue_comments, f"issues/{number}/comments"),
    }
    items, tail = lists[part]
    return paginate(items, query, resource, f"/repositories/{project.repo_id}/{tail}")


def _repo_comments(project: Project, kind: str, query: Query, resource: str) -> ApiResult:
    """GitHub's repository-wide comment lists (``/pulls/comments``, ``/issues/comments``).

    ``since`` keeps comments updated at or after it; ``sort`` is created (default) or updated;
    ``direction`` defaults to asc. A crawler reads every PR's comments with a few pages of these.
    """
    params = dict(query)
    sort = params.get("sort", "created")
    direction = params.get("direction", "asc")
    if sort not in ("created", "updated") or direction not in ("asc", "desc"):
        return ApiResult(422, error_body(422, "Validation Failed"), resource)
    since = _timestamp(params.get("since")) if params.get("since") else None
    comments = [
        comment
        for pull in project.pulls()
        for comment in (pull.review_comments if kind == "pulls" else pull.issue_comments)
        if since is None or _timestamp(comment["updated_at"]) >= since
    ]
    key = _SORT_KEYS[sort]
    comments.sort(key=lambda c: (key(c), c["id"]), reverse=direction == "desc")
    return paginate(comments, query, resource, f"/repositories/{project.repo_id}/{kind}/comments")


def _user(projects: Mapping[str, Project], login: str, resource: str) -> ApiResult:
    """``GET /users/{login}``: a profile for any account the served bodies mention."""
    for project in projects.values():
        with project.lock:
            user = known_users(project.repo, project.pulls()).get(login.lower())
        if user is not None:
            return ApiResult(200, _dump(profile_json(user)), resource)
    return not_found(resource)


def _repository(project: Project) -> dict[str, Any]:
    if isinstance(project, SyntheticProject):
        return live_repository_json(project.repo, project.pulls())
    return complete_repo(project.repo)


def resolve(
    projects: Mapping[str, Project],
    path: str,
    query: Query,
    *,
    media: Media = "json",
    repo_comment_lists: bool = True,
) -> ApiResult:
    """Answer ``GET path?query`` from the projects (keyed by lower-case ``owner/name``).

    ``media`` is the representation asked for (a pull request's diff or patch); without
    ``repo_comment_lists`` the repository-wide comment lists answer 404, as on servers without them.
    """
    path = path.rstrip("/") or "/"
    if path == "/":
        return ApiResult(200, _dump(root_json()), "/")
    if path == "/versions":
        return ApiResult(200, _dump(list(SUPPORTED_API_VERSIONS)), "/versions")
    user_match = _USER.match(path)
    if user_match is not None:
        return _user(projects, user_match["login"], path)
    match = _REPO.match(path)
    if match is None:
        return not_found(path)
    if match["id"] is not None:
        project = next((p for p in projects.values() if p.repo_id == int(match["id"])), None)
    else:
        project = projects.get(f"{match['owner']}/{match['name']}".lower())
    if project is None:
        return not_found(path)
    rest = match["rest"] or ""
    canonical = f"/repos/{project.full_name}{rest}"
    resource = f"{canonical}?{urlencode(sorted(query))}" if query else canonical
    with project.lock:
        if rest == "":
            return ApiResult(200, _dump(_repository(project)), resource)
        if rest == "/pulls":
            return _list_pulls(project, query, resource)
        if rest in ("/pulls/comments", "/issues/comments"):
            if not repo_comment_lists:
                return not_found(resource)
            return _repo_comments(project, rest.split("/")[1], query, resource)
        part_match = _PULL_PART.match(rest)
        issue_match = _ISSUE.match(rest)
        if part_match is not None:
            number, part = int(part_match["number"]), part_match["part"]
        elif issue_match is not None:
            number = int(issue_match["number"])
            part = "issue-comments" if issue_match["comments"] else "issue"
        else:
            return not_found(resource)
        pull = project.pull(number)
        if pull is None:
            return not_found(resource)
        return _pull_part(project, pull, part, query, resource, media if part is None else "json")
