"""A pull request recorded through GraphQL, as the REST bodies the emulator serves (``ghseed serve``).

The emulator's one truth is REST's JSON; a GraphQL recording holds GraphQL answers. This turns the
assembled GraphQL node of a PR (``cache/graphql_rebuild``) back into REST's detail and sub-lists:
every value the answers hold, under REST's names (``graphql.mapping``); links built the way GitHub
builds them; and what the answers cannot know answered as GitHub answers an empty value (no
assignee, no milestone, ``mergeable: null``, no reactions), never invented. With patches the files
are REST's own bodies, recorded beside the answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_ghseed.emulator.data import API, JSON, WEB, user_json
from pytest_ghseed.graphql.mapping import (
    REST_FILE_STATUS,
    bot_login_from_email,
    node_id,
    rest_login,
    rest_pull_state,
)

#: The id of an account a recording names only by login (a fork's owner): GitHub's never-used 0.
_UNKNOWN_ID = 0


def _user(actor: Mapping[str, Any] | None) -> JSON | None:
    if not actor:
        return None
    kind = str(actor.get("__typename") or "User")
    return user_json(rest_login(str(actor["login"]), kind), int(actor.get("databaseId") or 0), kind)


def _nodes(node: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = node.get(name) or {}
    return list(value.get("nodes") or [edge["node"] for edge in value.get("edges") or ()])


def rest_pull(
    node: Mapping[str, Any], rest_files: Sequence[Mapping[str, Any]] | None, repo: Mapping[str, Any]
) -> JSON:
    """The REST bodies of one recorded PR: ``{"detail", "reviews", "commits", "files", "review_comments",
    "issue_comments"}`` (what ``Project.from_raw`` takes)."""
    full = str(repo["full_name"])
    number = int(node["number"])
    api = f"{API}/repos/{full}"
    pull_url, html = f"{api}/pulls/{number}", str(node.get("url") or f"{WEB}/{full}/pull/{number}")
    head_sha = str(node.get("headRefOid") or "")
    owner = repo.get("owner") or {}
    head_repo: Any = None
    head_owner = owner
    if node.get("headRepository"):
        name_with_owner = str(node["headRepository"].get("nameWithOwner") or "")
        if name_with_owner.casefold() == full.casefold():
            head_repo = repo
        else:
            login = str((node.get("headRepositoryOwner") or {}).get("login") or name_with_owner.split("/")[0])
            head_owner = user_json(login, _UNKNOWN_ID)
            head_repo = _fork(name_with_owner, head_owner)
    threads = _nodes(node, "reviewThreads")
    comments = [c for thread in threads for c in (thread.get("comments") or {}).get("nodes") or ()]
    merged = bool(node.get("merged"))
    detail: JSON = {
        "url": pull_url,
        "id": int(node["fullDatabaseId"]),
        "node_id": node_id("PullRequest", int(node["fullDatabaseId"])),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": f"{api}/issues/{number}",
        "number": number,
        "state": rest_pull_state(str(node["state"])),
        "locked": False,
        "title": node.get("title") or "",
        "user": _user(node.get("author")),
        "body": node.get("body") or None,
        "created_at": node["createdAt"],
        "updated_at": node["updatedAt"],
        "closed_at": node.get("closedAt"),
        "merged_at": node.get("mergedAt"),
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [
            user
            for r in _nodes(node, "reviewRequests")
            if (user := _user(r.get("requestedReviewer")))
            and r["requestedReviewer"].get("__typename") in ("User", "Bot", "Mannequin")
        ],
        "requested_teams": [],
        "labels": [_label(api, label) for label in _nodes(node, "labels")],
        "milestone": None,
        "draft": bool(node.get("isDraft")),
        "commits_url": f"{pull_url}/commits",
        "review_comments_url": f"{pull_url}/comments",
        "review_comment_url": f"{api}/pulls/comments{{/number}}",
        "comments_url": f"{api}/issues/{number}/comments",
        "statuses_url": f"{api}/statuses/{head_sha}",
        "head": {
            "label": f"{head_owner.get('login', '')}:{node.get('headRefName', '')}",
            "ref": node.get("headRefName", ""),
            "sha": head_sha,
            "user": head_owner,
            "repo": head_repo,
        },
        "base": {
            "label": f"{owner.get('login', '')}:{node.get('baseRefName', '')}",
            "ref": node.get("baseRefName", ""),
            "sha": node.get("baseRefOid") or "",
            "user": owner,
            "repo": repo,
        },
        "author_association": "NONE",
        "auto_merge": None,
        "active_lock_reason": None,
        "merged": merged,
        "mergeable": None,
        "rebaseable": None,
        "mergeable_state": "unknown",
        "merged_by": _user(node.get("mergedBy")),
        "comments": int((node.get("comments") or {}).get("totalCount", 0)),
        "review_comments": len(comments),
        "maintainer_can_modify": False,
        "commits": int((node.get("commits") or {}).get("totalCount", 0)),
        "additions": int(node.get("additions", 0)),
        "deletions": int(node.get("deletions", 0)),
        "changed_files": int(node.get("changedFiles", 0)),
    }
    files = list(rest_files) if rest_files is not None else [_file(f) for f in _nodes(node, "files")]
    return {
        "detail": detail,
        "reviews": [_review(r, pull_url, html) for r in _nodes(node, "reviews")],
        "commits": [_commit(c["commit"], api) for c in _nodes(node, "commits")],
        "files": files,
        "review_comments": sorted(
            (_review_comment(c, api, pull_url) for c in comments), key=lambda c: int(c["id"])
        ),
        "issue_comments": [_issue_comment(c, api, number) for c in _nodes(node, "comments")],
    }


def _fork(full_name: str, owner: JSON) -> JSON:
    """A fork a PR comes from, by name: what a recording knows of it (REST's simple repository)."""
    name = full_name.split("/", 1)[-1]
    return {
        "id": _UNKNOWN_ID,
        "node_id": node_id("Repository", _UNKNOWN_ID),
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": owner,
        "html_url": f"{WEB}/{full_name}",
        "description": None,
        "fork": True,
        "url": f"{API}/repos/{full_name}",
    }


def _label(api: str, label: Mapping[str, Any]) -> JSON:
    name = str(label["name"])
    return {
        "id": _UNKNOWN_ID,
        "node_id": "",
        "url": f"{api}/labels/{name}",
        "name": name,
        "color": "",
        "default": False,
        "description": None,
    }


def _file(node: Mapping[str, Any]) -> JSON:
    additions, deletions = int(node.get("additions", 0)), int(node.get("deletions", 0))
    return {
        "filename": node["path"],
        "status": REST_FILE_STATUS.get(str(node.get("changeType")), "modified"),
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
    }


def _commit(commit: Mapping[str, Any], api: str) -> JSON:
    author = commit.get("author") or {}
    committer = commit.get("committer") or {}
    user = author.get("user")
    login = str(user["login"]) if user else bot_login_from_email(author.get("email"))
    linked = None
    if user:
        linked = user_json(login or "", int(user.get("databaseId") or 0))
    elif login:
        # An App's no-reply address starts with its account id: "49699333+dependabot[bot]@...".
        account = str(author.get("email") or "").split("+", 1)[0]
        linked = user_json(login, int(account) if account.isdigit() else _UNKNOWN_ID, "Bot")
    sha = str(commit["oid"])
    return {
        "sha": sha,
        "node_id": "",
        "commit": {
            "author": {"name": author.get("name"), "email": author.get("email"), "date": author.get("date")},
            "committer": {"name": None, "email": None, "date": committer.get("date")},
            "message": commit.get("message") or "",
            "url": f"{api}/git/commits/{sha}",
            "comment_count": 0,
        },
        "url": f"{api}/commits/{sha}",
        "html_url": f"{WEB}/{api.removeprefix(API + '/repos/')}/commit/{sha}",
        "comments_url": f"{api}/commits/{sha}/comments",
        "author": linked,
        "committer": None,
        "parents": [],
    }


def _review(review: Mapping[str, Any], pull_url: str, html: str) -> JSON:
    review_id = int(review["fullDatabaseId"])
    return {
        "id": review_id,
        "node_id": node_id("PullRequestReview", review_id),
        "user": _user(review.get("author")),
        "body": review.get("body") or "",
        "state": review["state"],
        "html_url": f"{html}#pullrequestreview-{review_id}",
        "pull_request_url": pull_url,
        "author_association": "NONE",
        "submitted_at": review.get("submittedAt"),
        "commit_id": (review.get("commit") or {}).get("oid"),
    }


def _review_comment(comment: Mapping[str, Any], api: str, pull_url: str) -> JSON:
    comment_id = int(comment["fullDatabaseId"])
    reply_to = comment.get("replyTo")
    out: JSON = {
        "id": comment_id,
        "node_id": node_id("PullRequestReviewComment", comment_id),
        "url": f"{api}/pulls/comments/{comment_id}",
        "pull_request_url": pull_url,
        "user": _user(comment.get("author")),
        "body": comment.get("body") or "",
        "path": comment["path"],
        "line": comment.get("line"),
        "created_at": comment["createdAt"],
        "updated_at": comment["createdAt"],
        "author_association": "NONE",
    }
    if reply_to:
        out["in_reply_to_id"] = int(reply_to["fullDatabaseId"])
    return out


def _issue_comment(comment: Mapping[str, Any], api: str, number: int) -> JSON:
    comment_id = int(comment["fullDatabaseId"])
    return {
        "id": comment_id,
        "node_id": node_id("IssueComment", comment_id),
        "url": f"{api}/issues/comments/{comment_id}",
        "issue_url": f"{api}/issues/{number}",
        "user": _user(comment.get("author")),
        "body": comment.get("body") or "",
        "created_at": comment["createdAt"],
        "updated_at": comment["createdAt"],
        "author_association": "NONE",
    }
