"""Resources derived from a project's bodies, and the completion of older recordings.

GitHub answers more than the bodies a crawl records: the API root, a user's profile, the issue view
of a pull request, a repository whose open-issue count follows its pull requests. These are built
here from what the project holds, deterministically. :func:`complete_repo` and :func:`complete_pull`
fill the fields a recording made before they were kept (or before GitHub sent them) lacks, so old
caches still serve answers that satisfy GitHub's published description.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from typing import Any

from pytest_ghseed.emulator.data import API, JSON, WEB, RawPull, user_json
from pytest_ghseed.graphql.mapping import node_id

#: Keys of GitHub's ``public-user`` beyond the simple user object, with the values we serve: a recording
#: has no profile, so these are neutral, fixed values (GitHub's own for an empty profile).
PROFILE_DEFAULTS: dict[str, Any] = {
    "name": None,
    "company": None,
    "blog": "",
    "location": None,
    "email": None,
    "hireable": None,
    "bio": None,
    "twitter_username": None,
    "public_repos": 0,
    "public_gists": 0,
    "followers": 0,
    "following": 0,
    "created_at": "2015-01-01T00:00:00Z",
    "updated_at": "2015-01-01T00:00:00Z",
}

#: What a recording lacks and how it is filled (documented in the README's "ghseed serve" section).
REPO_FILLS: dict[str, str] = {
    "network_count": "forks_count (a root repository's network is its forks)",
    "subscribers_count": "0 (watchers were not recorded)",
}
LABEL_FILLS = ("archived_at", "archived_by")  # null: the label is not archived


def root_json() -> JSON:
    """``GET /``: the API root, GitHub's hypermedia index (URLs on ``API``; the server rewrites them)."""
    search = "{&page,per_page,sort,order}"
    return {
        "current_user_url": f"{API}/user",
        "current_user_authorizations_html_url": f"{WEB}/settings/connections/applications{{/client_id}}",
        "authorizations_url": f"{API}/authorizations",
        "code_search_url": f"{API}/search/code?q={{query}}{search}",
        "commit_search_url": f"{API}/search/commits?q={{query}}{search}",
        "emails_url": f"{API}/user/emails",
        "emojis_url": f"{API}/emojis",
        "events_url": f"{API}/events",
        "feeds_url": f"{API}/feeds",
        "followers_url": f"{API}/user/followers",
        "following_url": f"{API}/user/following{{/target}}",
        "gists_url": f"{API}/gists{{/gist_id}}",
        "hub_url": f"{API}/hub",
        "issue_search_url": f"{API}/search/issues?q={{query}}{search}",
        "issues_url": f"{API}/issues",
        "keys_url": f"{API}/user/keys",
        "label_search_url": f"{API}/search/labels?q={{query}}&repository_id={{repository_id}}{{&page,per_page}}",
        "notifications_url": f"{API}/notifications",
        "organization_url": f"{API}/orgs/{{org}}",
        "organization_repositories_url": f"{API}/orgs/{{org}}/repos{{?type,page,per_page,sort}}",
        "organization_teams_url": f"{API}/orgs/{{org}}/teams",
        "public_gists_url": f"{API}/gists/public",
        "rate_limit_url": f"{API}/rate_limit",
        "repository_url": f"{API}/repos/{{owner}}/{{repo}}",
        "repository_search_url": f"{API}/search/repositories?q={{query}}{search}",
        "current_user_repositories_url": f"{API}/user/repos{{?type,page,per_page,sort}}",
        "starred_url": f"{API}/user/starred{{/owner}}{{/repo}}",
        "starred_gists_url": f"{API}/gists/starred",
        "topic_search_url": f"{API}/search/topics?q={{query}}{{&page,per_page}}",
        "user_url": f"{API}/users/{{user}}",
        "user_organizations_url": f"{API}/user/orgs",
        "user_repositories_url": f"{API}/users/{{user}}/repos{{?type,page,per_page,sort}}",
        "user_search_url": f"{API}/search/users?q={{query}}{search}",
    }


def profile_json(user: Mapping[str, Any], **profile: Any) -> JSON:
    """``GET /users/{login}`` (and ``/user``): the simple user object plus the public profile keys."""
    body = {**user_json(str(user["login"]), int(user["id"]), str(user.get("type", "User"))), **user}
    body.setdefault("user_view_type", "public")
    return {**body, **PROFILE_DEFAULTS, **profile}


def _users_in(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every user object (a mapping with login, id and avatar_url) nested anywhere in ``node``."""
    if isinstance(node, Mapping):
        if "login" in node and "id" in node and "avatar_url" in node:
            yield node
        for key, value in node.items():
            if key != "repo":  # head/base repositories repeat the owner; enough to see it once
                yield from _users_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _users_in(item)


def known_users(repo: Mapping[str, Any], pulls: list[RawPull]) -> dict[str, Mapping[str, Any]]:
    """Every account the project's bodies mention, by lower-case login (logins are case-insensitive)."""
    found: dict[str, Mapping[str, Any]] = {}
    sources: list[Any] = [repo.get("owner")]
    for pull in pulls:
        sources.extend((pull.detail, pull.reviews, pull.review_comments, pull.issue_comments, pull.commits))
    for source in sources:
        for user in _users_in(source):
            found.setdefault(str(user["login"]).lower(), user)
    return found


def issue_json(detail: Mapping[str, Any], repo: Mapping[str, Any], n_issue_comments: int) -> JSON:
    """``GET /repos/{o}/{r}/issues/{n}`` for a pull request: its issue view, built from its detail.

    GitHub's issue id differs from the pull request id and is not recorded: it is derived from the
    pull request's node id (stable across runs).
    """
    number = int(detail["number"])
    repo_api = str(repo["url"])
    issue_url = f"{repo_api}/issues/{number}"
    issue_id = 2_000_000_000 + zlib.crc32(f"issue:{detail.get('node_id')}".encode()) % 1_000_000_000
    merged_by = detail.get("merged_by") if detail.get("merged") else None
    return {
        "url": issue_url,
        "repository_url": repo_api,
        "labels_url": f"{issue_url}/labels{{/name}}",
        "comments_url": f"{issue_url}/comments",
        "events_url": f"{issue_url}/events",
        "html_url": detail["html_url"],
        "id": issue_id,
        "node_id": node_id("Issue", issue_id),
        "number": number,
        "title": detail["title"],
        "user": detail["user"],
        "labels": [complete_label(label) for label in detail.get("labels", [])],
        "state": detail["state"],
        "locked": bool(detail.get("locked", False)),
        "assignee": detail.get("assignee"),
        "assignees": list(detail.get("assignees", [])),
        "milestone": detail.get("milestone"),
        "comments": int(detail.get("comments", n_issue_comments)),
        "created_at": detail["created_at"],
        "updated_at": detail["updated_at"],
        "closed_at": detail.get("closed_at"),
        "author_association": detail.get("author_association", "NONE"),
        "active_lock_reason": detail.get("active_lock_reason"),
        "draft": bool(detail.get("draft", False)),
        "pull_request": {
            "url": detail["url"],
            "html_url": detail["html_url"],
            "diff_url": detail.get("diff_url"),
            "patch_url": detail.get("patch_url"),
            "merged_at": detail.get("merged_at"),
        },
        "body": detail.get("body"),
        "closed_by": merged_by,
        "reactions": {
            "url": f"{issue_url}/reactions",
            "total_count": 0,
            **dict.fromkeys(("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0),
        },
        "timeline_url": f"{issue_url}/timeline",
        "performed_via_github_app": None,
        "state_reason": None,
    }


def complete_label(label: Mapping[str, Any]) -> JSON:
    """A label with ``archived_at``/``archived_by`` (null when a recording lacks them)."""
    return {**label, **{key: label.get(key) for key in LABEL_FILLS}}


def complete_repo(repo: Mapping[str, Any]) -> JSON:
    """A full repository with the keys :data:`REPO_FILLS` names, filled where a recording lacks them."""
    out = dict(repo)
    out.setdefault("network_count", int(repo.get("forks_count") or 0))
    out.setdefault("subscribers_count", 0)
    return out


def complete_pull(pull: RawPull) -> RawPull:
    """The pull with the labels of its detail (and so of its list item) completed."""
    detail = dict(pull.detail)
    detail["labels"] = [complete_label(label) for label in detail.get("labels", [])]
    return RawPull(detail, pull.reviews, pull.commits, pull.files, pull.review_comments, pull.issue_comments)


def live_repository_json(repo: Mapping[str, Any], pulls: list[RawPull]) -> JSON:
    """A synthetic repository with its open-issue count following its open pulls, as they change.

    GitHub counts open issues and open pull requests together; a synthetic project has pull
    requests only, so the count is its open pull requests'. (A recording keeps GitHub's count.)
    """
    open_count = sum(1 for pull in pulls if pull.detail.get("state") == "open")
    return {**complete_repo(repo), "open_issues_count": open_count, "open_issues": open_count}
