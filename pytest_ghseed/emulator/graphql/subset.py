"""The part of GitHub's GraphQL schema the emulator serves: types, fields and the arguments kept.

Pure data, no graphql-core. :mod:`extract` cuts GitHub's published schema down to exactly this (every
name must exist there with the same types, so a query valid against the extract is valid against
GitHub), and :mod:`schema` refuses to load an extract with a field that has no resolver. Enums, input
objects and scalars reachable from the kept fields and arguments are kept whole.

To serve more, add the field here (with a resolver in :mod:`objects`) and rerun the extract command.
"""

from __future__ import annotations

#: Where the committed extract comes from (npm; MIT licence, Copyright (c) GitHub).
SOURCE_PACKAGE = "@octokit/graphql-schema"
SOURCE_VERSION = "15.26.1"

#: The arguments of a connection field that pages it (Relay's four).
PAGE = ("after", "before", "first", "last")

#: type name -> {field name -> arguments kept}. An argument left out here is unknown to the emulator
#: (a query that passes it fails validation, plainly) instead of being silently ignored.
OBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "Query": {"repository": ("owner", "name", "followRenames"), "rateLimit": (), "viewer": ()},
    "RateLimit": dict.fromkeys(("cost", "limit", "nodeCount", "remaining", "resetAt", "used"), ()),
    "Repository": {
        **dict.fromkeys(
            (
                "id",
                "databaseId",
                "name",
                "nameWithOwner",
                "owner",
                "url",
                "description",
                "homepageUrl",
                "isPrivate",
                "isFork",
                "isArchived",
                "visibility",
                "createdAt",
                "updatedAt",
                "pushedAt",
                "stargazerCount",
                "forkCount",
                "defaultBranchRef",
            ),
            (),
        ),
        "pullRequests": ("states", "labels", "headRefName", "baseRefName", "orderBy", *PAGE),
        "pullRequest": ("number",),
    },
    "Ref": {"name": ()},
    "User": dict.fromkeys(("id", "databaseId", "login", "name", "url"), ()),
    "Bot": dict.fromkeys(("id", "databaseId", "login", "url"), ()),
    "Organization": dict.fromkeys(("id", "databaseId", "login", "url"), ()),
    "Mannequin": dict.fromkeys(("id", "databaseId", "login", "url"), ()),
    "EnterpriseUserAccount": dict.fromkeys(("id", "login", "url"), ()),
    "Team": dict.fromkeys(("id", "databaseId", "name", "slug", "url"), ()),
    "PullRequest": {
        **dict.fromkeys(
            (
                "id",
                "databaseId",
                "fullDatabaseId",
                "number",
                "title",
                "body",
                "state",
                "isDraft",
                "closed",
                "merged",
                "locked",
                "maintainerCanModify",
                "isCrossRepository",
                "mergeable",
                "createdAt",
                "updatedAt",
                "closedAt",
                "mergedAt",
                "url",
                "authorAssociation",
                "author",
                "mergedBy",
                "baseRefName",
                "baseRefOid",
                "headRefName",
                "headRefOid",
                "headRepository",
                "headRepositoryOwner",
                "additions",
                "deletions",
                "changedFiles",
            ),
            (),
        ),
        "labels": PAGE,
        "commits": PAGE,
        "files": PAGE,
        "reviews": ("states", "author", *PAGE),
        "reviewThreads": PAGE,
        "comments": ("orderBy", *PAGE),
        "reviewRequests": PAGE,
    },
    "Label": dict.fromkeys(("id", "name", "color", "description", "isDefault"), ()),
    "PullRequestCommit": {"commit": (), "url": ()},
    "Commit": dict.fromkeys(
        ("id", "oid", "message", "authoredDate", "committedDate", "author", "committer", "url"), ()
    ),
    "GitActor": dict.fromkeys(("name", "email", "date", "user"), ()),
    "PullRequestChangedFile": dict.fromkeys(("path", "additions", "deletions", "changeType"), ()),
    "PullRequestReview": {
        **dict.fromkeys(
            (
                "id",
                "databaseId",
                "fullDatabaseId",
                "author",
                "authorAssociation",
                "body",
                "state",
                "submittedAt",
                "commit",
                "url",
            ),
            (),
        ),
        "comments": PAGE,
    },
    "PullRequestReviewThread": {"path": (), "line": (), "comments": PAGE},
    "PullRequestReviewComment": dict.fromkeys(
        (
            "id",
            "databaseId",
            "fullDatabaseId",
            "author",
            "authorAssociation",
            "body",
            "path",
            "line",
            "originalLine",
            "diffHunk",
            "createdAt",
            "updatedAt",
            "url",
            "replyTo",
            "commit",
            "originalCommit",
            "pullRequestReview",
        ),
        (),
    ),
    "IssueComment": dict.fromkeys(
        (
            "id",
            "databaseId",
            "fullDatabaseId",
            "author",
            "authorAssociation",
            "body",
            "createdAt",
            "updatedAt",
            "url",
        ),
        (),
    ),
    "ReviewRequest": {"requestedReviewer": ()},
    "PageInfo": dict.fromkeys(("endCursor", "hasNextPage", "hasPreviousPage", "startCursor"), ()),
}

#: Interfaces kept, with their fields; an object keeps an interface only when the interface is kept.
INTERFACES: dict[str, tuple[str, ...]] = {
    "Actor": ("login", "url"),
    "RepositoryOwner": ("id", "login", "url"),
}

#: Unions kept (members: those of GitHub's that are kept objects).
UNIONS: tuple[str, ...] = ("RequestedReviewer",)

#: The item type of every connection kept; ``<Item>Connection`` and ``<Item>Edge`` are added with
#: GitHub's standard fields.
CONNECTIONS: tuple[str, ...] = (
    "PullRequest",
    "Label",
    "PullRequestCommit",
    "PullRequestChangedFile",
    "PullRequestReview",
    "PullRequestReviewThread",
    "PullRequestReviewComment",
    "IssueComment",
    "ReviewRequest",
)

for _item in CONNECTIONS:
    OBJECTS[f"{_item}Connection"] = dict.fromkeys(("edges", "nodes", "pageInfo", "totalCount"), ())
    OBJECTS[f"{_item}Edge"] = {"cursor": (), "node": ()}
