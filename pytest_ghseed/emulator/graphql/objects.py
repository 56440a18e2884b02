"""The GraphQL objects the emulator serves, read from the REST JSON of its projects (one truth).

Each class answers one GraphQL type: an attribute or a method per field, named as the field
(graphql-core's default resolver reads ``getattr(obj, field)`` and calls it with the arguments).
Nothing is invented: a value the REST data does not hold is not served (the field is not in the
subset), or is what GitHub answers when there is none (null, an empty list).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pytest_ghseed.defaults import FILES_CAP
from pytest_ghseed.emulator.data import Project, RawPull
from pytest_ghseed.emulator.graphql.paging import Connection, GitHubError, Served, connection
from pytest_ghseed.emulator.synthetic import pool_user
from pytest_ghseed.graphql.mapping import MERGEABLE_STATE, PATCH_STATUS, graphql_login, node_id, pull_state

if TYPE_CHECKING:
    from typing import TypeAlias

    from graphql import GraphQLResolveInfo

    Info: TypeAlias = GraphQLResolveInfo[Any]

JSON = Mapping[str, Any]


def _timestamp(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else 0.0


@dataclass
class RateLimitNode:
    """``RateLimit``: this query's price and the user's GraphQL budget after it."""

    cost: int
    nodeCount: int
    limit: int
    remaining: int
    used: int
    reset: int

    @property
    def resetAt(self) -> str:
        return datetime.fromtimestamp(self.reset, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Context:
    """What the resolvers of one query see."""

    projects: Mapping[str, Project]
    viewer: str
    rate: RateLimitNode
    served: Served


class ActorNode:
    """An account: ``User``, ``Bot``, ``Organization``, ``Mannequin`` (REST ``type``)."""

    def __init__(self, data: JSON) -> None:
        kind = str(data.get("type") or "User")
        self.typename = kind if kind in ("User", "Bot", "Organization", "Mannequin") else "User"
        self.login = graphql_login(str(data["login"]), self.typename)
        self.databaseId = data.get("id")
        self.id = data.get("node_id") or node_id(self.typename, int(data.get("id") or 0))
        self.url = data.get("html_url") or f"https://github.com/{self.login}"
        # A user's profile name: the simple user objects of pull requests do not carry it, so it is
        # null unless recorded (as GitHub answers for a user who set none).
        self.name = data.get("name")


def actor(data: JSON | None) -> ActorNode | None:
    """The account of a REST user object; None for ``null`` (a deleted account)."""
    return ActorNode(data) if data else None


class TeamNode:
    """``Team`` (a review request may name one)."""

    typename = "Team"

    def __init__(self, data: JSON) -> None:
        self.id = data.get("node_id") or node_id("Team", int(data.get("id") or 0))
        self.databaseId = data.get("id")
        self.name = data.get("name") or ""
        self.slug = data.get("slug") or ""
        self.url = data.get("html_url") or ""


class RefNode:
    """``Ref`` (the default branch)."""

    def __init__(self, name: str) -> None:
        self.name = name


class LabelNode:
    """``Label``."""

    def __init__(self, data: JSON) -> None:
        self.id = data.get("node_id") or node_id("Label", int(data.get("id") or 0))
        self.name = data["name"]
        self.color = data.get("color") or ""
        self.description = data.get("description")
        self.isDefault = bool(data.get("default", False))


class GitActorNode:
    """``GitActor``: the name, e-mail and date in a commit, and the GitHub user they map to."""

    def __init__(self, person: JSON, linked: JSON | None) -> None:
        self.name = person.get("name")
        self.email = person.get("email")
        self.date = person.get("date")
        # GitActor.user is typed User: an App's commits (dependabot[bot]) have none, as on GitHub.
        self.user = ActorNode(linked) if linked and (linked.get("type") or "User") == "User" else None


class CommitNode:
    """``Commit`` (from a REST commit object of the pull request's commit list)."""

    def __init__(self, data: JSON) -> None:
        git = data.get("commit") or {}
        author, committer = git.get("author") or {}, git.get("committer") or {}
        self.id = data.get("node_id")
        self.oid = data["sha"]
        self.message = git.get("message") or ""
        self.authoredDate = author.get("date")
        self.committedDate = committer.get("date")
        self.author = GitActorNode(author, data.get("author")) if author else None
        self.committer = GitActorNode(committer, data.get("committer")) if committer else None
        self.url = data.get("html_url")


class PullRequestCommitNode:
    """``PullRequestCommit``: a commit as part of a pull request."""

    def __init__(self, data: JSON, pull_url: str) -> None:
        self.commit = CommitNode(data)
        self.url = f"{pull_url}/commits/{data['sha']}"


class ChangedFileNode:
    """``PullRequestChangedFile``: GraphQL has no patch and no previous filename."""

    def __init__(self, data: JSON) -> None:
        self.path = data["filename"]
        self.additions = int(data.get("additions", 0))
        self.deletions = int(data.get("deletions", 0))
        self.changeType = PATCH_STATUS.get(str(data.get("status")), "MODIFIED")


class _Comment:
    """What issue comments, reviews and review comments share."""

    def __init__(self, data: JSON, kind: str) -> None:
        self._data = data
        self.id = data.get("node_id") or node_id(kind, int(data["id"]))
        # databaseId is a 32-bit Int: past 2**31 graphql-core reports it as GitHub does, null + error.
        self.databaseId = int(data["id"])
        self.fullDatabaseId = int(data["id"])
        self.author = actor(data.get("user"))
        self.authorAssociation = data.get("author_association") or "NONE"
        self.body = data.get("body") or ""
        self.url = data.get("html_url")


class IssueCommentNode(_Comment):
    """``IssueComment``: a comment in the conversation."""

    def __init__(self, data: JSON) -> None:
        super().__init__(data, "IssueComment")
        self.createdAt = data.get("created_at")
        self.updatedAt = data.get("updated_at") or self.createdAt


class PullNode:
    """``PullRequest``: the REST detail and the sub-lists of one pull request."""

    def __init__(self, project: Project, raw: RawPull) -> None:
        self._project = project
        self._raw = raw
        detail = raw.detail
        self._detail = detail
        merged = bool(detail.get("merged", detail.get("merged_at") is not None))
        head, base = detail.get("head") or {}, detail.get("base") or {}
        head_repo, base_repo = head.get("repo") or {}, base.get("repo") or {}
        self.id = detail.get("node_id") or node_id("PullRequest", int(detail["id"]))
        self.databaseId = int(detail["id"])
        self.fullDatabaseId = int(detail["id"])
        self.number = int(detail["number"])
        self.title = detail.get("title") or ""
        self.body = detail.get("body") or ""
        self.state = pull_state(str(detail["state"]), merged)
        self.isDraft = bool(detail.get("draft", False))
        self.closed = detail["state"] != "open"
        self.merged = merged
        self.locked = bool(detail.get("locked", False))
        self.maintainerCanModify = bool(detail.get("maintainer_can_modify", False))
        self.isCrossRepository = head_repo.get("full_name") != base_repo.get("full_name")
        self.mergeable = MERGEABLE_STATE[detail.get("mergeable")]
        self.createdAt = detail["created_at"]
        self.updatedAt = detail["updated_at"]
        self.closedAt = detail.get("closed_at")
        self.mergedAt = detail.get("merged_at")
        self.url = detail.get("html_url") or ""
        self.authorAssociation = detail.get("author_association") or "NONE"
        self.author = actor(detail.get("user"))
        self.mergedBy = actor(detail.get("merged_by"))
        self.baseRefName = base.get("ref", "")
        self.baseRefOid = base.get("sha", "")
        self.headRefName = head.get("ref", "")
        self.headRefOid = head.get("sha", "")
        # The head repository: null once it is deleted (REST: "repo": null), and so is its owner.
        same = head_repo.get("full_name") == base_repo.get("full_name") and head_repo
        self.headRepository = (
            RepositoryNode(project) if same else RepositoryNode.of(head_repo) if head_repo else None
        )
        self.headRepositoryOwner = actor(head_repo.get("owner")) if head_repo else None
        self.additions = int(detail.get("additions", 0))
        self.deletions = int(detail.get("deletions", 0))
        self.changedFiles = int(detail.get("changed_files", len(raw.files)))

    def labels(self, info: Info, **page: Any) -> Connection:
        return connection(info, self._detail.get("labels") or [], LabelNode, **page)

    def commits(self, info: Info, **page: Any) -> Connection:
        # Unlike REST's /commits (250 at most), GraphQL pages through every commit.
        return connection(info, self._raw.commits, lambda c: PullRequestCommitNode(c, self.url), **page)

    def files(self, info: Info, **page: Any) -> Connection:
        # GraphQL stops at 3,000 files like REST (totalCount included); changedFiles has the true count.
        return connection(info, self._raw.files[:FILES_CAP], ChangedFileNode, **page)

    def reviews(
        self,
        info: Info,
        states: Sequence[str] | None = None,
        author: str | None = None,
        **page: Any,
    ) -> Connection:
        chosen = [
            review
            for review in self._raw.reviews
            if (states is None or review.get("state") in states)
            and (author is None or _login(review.get("user")) == author)
        ]
        return connection(info, chosen, lambda r: ReviewNode(r, self), **page)

    def reviewThreads(self, info: Info, **page: Any) -> Connection:
        return connection(info, _threads(self._raw.review_comments), lambda t: ThreadNode(t, self), **page)

    def comments(self, info: Info, orderBy: Mapping[str, str] | None = None, **page: Any) -> Connection:
        items = list(self._raw.issue_comments)
        keys = None
        if orderBy is not None:
            sign = -1 if orderBy["direction"] == "DESC" else 1
            items.sort(key=lambda c: (sign * _timestamp(c.get("updated_at")), sign * int(c["id"])))
            keys = [[sign * _timestamp(c.get("updated_at")), sign * int(c["id"])] for c in items]
        return connection(info, items, IssueCommentNode, keys=keys, **page)

    def reviewRequests(self, info: Info, **page: Any) -> Connection:
        requests = [ReviewRequestNode(actor(user)) for user in self._detail.get("requested_reviewers") or ()]
        requests += [ReviewRequestNode(TeamNode(team)) for team in self._detail.get("requested_teams") or ()]
        return connection(info, requests, lambda r: r, **page)

    # -- lookups for the nodes below ----------------------------------------------------------------

    def commit(self, sha: str | None) -> CommitNode | None:
        found = next((c for c in self._raw.commits if c.get("sha") == sha), None) if sha else None
        return CommitNode(found) if found is not None else None

    def review(self, review_id: int | None) -> ReviewNode | None:
        found = next((r for r in self._raw.reviews if r.get("id") == review_id), None)
        return ReviewNode(found, self) if found is not None else None

    def review_comment(self, comment_id: int | None) -> ReviewCommentNode | None:
        found = next((c for c in self._raw.review_comments if c.get("id") == comment_id), None)
        return ReviewCommentNode(found, self) if found is not None else None

    def review_comments_of(self, review_id: int) -> list[JSON]:
        return [c for c in self._raw.review_comments if c.get("pull_request_review_id") == review_id]


def _login(user: JSON | None) -> str | None:
    return graphql_login(str(user["login"]), str(user.get("type") or "User")) if user else None


def _threads(comments: Sequence[JSON]) -> list[list[JSON]]:
    """Review comments grouped as GitHub threads them: a first comment and the replies to it."""
    threads: dict[int, list[JSON]] = {}
    for comment in comments:
        root = comment.get("in_reply_to_id")
        if root is not None and root in threads:
            threads[root].append(comment)
        else:
            # A reply whose first comment is gone starts a thread of its own.
            threads[int(comment["id"])] = [comment]
    return list(threads.values())


class ReviewNode(_Comment):
    """``PullRequestReview``."""

    def __init__(self, data: JSON, pull: PullNode) -> None:
        super().__init__(data, "PullRequestReview")
        self._pull = pull
        self.state = data.get("state") or "COMMENTED"
        self.submittedAt = data.get("submitted_at")
        self.commit = pull.commit(data.get("commit_id"))

    def comments(self, info: Info, **page: Any) -> Connection:
        items = self._pull.review_comments_of(int(self._data["id"]))
        return connection(info, items, lambda c: ReviewCommentNode(c, self._pull), **page)


class ThreadNode:
    """``PullRequestReviewThread``: a first review comment and its replies."""

    def __init__(self, comments: list[JSON], pull: PullNode) -> None:
        self._comments = comments
        self._pull = pull
        self.path = comments[0]["path"]
        self.line = comments[0].get("line")

    def comments(self, info: Info, **page: Any) -> Connection:
        return connection(info, self._comments, lambda c: ReviewCommentNode(c, self._pull), **page)


class ReviewCommentNode(_Comment):
    """``PullRequestReviewComment``: a comment on a line of the diff."""

    def __init__(self, data: JSON, pull: PullNode) -> None:
        super().__init__(data, "PullRequestReviewComment")
        self._pull = pull
        self.path = data["path"]
        self.line = data.get("line")
        self.originalLine = data.get("original_line")
        self.diffHunk = data.get("diff_hunk") or ""
        self.createdAt = data.get("created_at")
        self.updatedAt = data.get("updated_at") or self.createdAt

    def replyTo(self, info: Info) -> ReviewCommentNode | None:
        return self._pull.review_comment(self._data.get("in_reply_to_id"))

    def commit(self, info: Info) -> CommitNode | None:
        return self._pull.commit(self._data.get("commit_id"))

    def originalCommit(self, info: Info) -> CommitNode | None:
        return self._pull.commit(self._data.get("original_commit_id"))

    def pullRequestReview(self, info: Info) -> ReviewNode | None:
        return self._pull.review(self._data.get("pull_request_review_id"))


class ReviewRequestNode:
    """``ReviewRequest``: the person (or team) asked for a review."""

    def __init__(self, reviewer: ActorNode | TeamNode | None) -> None:
        self.requestedReviewer = reviewer


# GitHub's pull request orders: `orderBy.field` -> the REST detail's sort value.
_PULL_ORDERS: dict[str, Callable[[JSON], float]] = {
    "CREATED_AT": lambda d: _timestamp(d.get("created_at")),
    "UPDATED_AT": lambda d: _timestamp(d.get("updated_at")),
    "COMMENTS": lambda d: float(d.get("comments", 0)),
}


class RepositoryNode:
    """``Repository``."""

    def __init__(self, project: Project | None, repo: JSON | None = None) -> None:
        self._project = project
        repo = project.repo if project is not None else repo or {}
        self.id = repo.get("node_id") or node_id("Repository", int(repo.get("id") or 0))
        self.databaseId = int(repo.get("id") or 0)
        self.name = repo["name"]
        self.nameWithOwner = repo["full_name"]
        self.owner = ActorNode(repo["owner"])
        self.url = repo.get("html_url") or f"https://github.com/{self.nameWithOwner}"
        self.description = repo.get("description")
        self.homepageUrl = repo.get("homepage") or None
        self.isPrivate = bool(repo.get("private", False))
        self.isFork = bool(repo.get("fork", False))
        self.isArchived = bool(repo.get("archived", False))
        self.visibility = str(repo.get("visibility") or ("private" if self.isPrivate else "public")).upper()
        self.createdAt = repo.get("created_at")
        self.updatedAt = repo.get("updated_at") or self.createdAt
        self.pushedAt = repo.get("pushed_at")
        self.stargazerCount = int(repo.get("stargazers_count", 0))
        self.forkCount = int(repo.get("forks_count", 0))
        branch = repo.get("default_branch")
        self.defaultBranchRef = RefNode(branch) if branch else None

    @classmethod
    def of(cls, repo: JSON) -> RepositoryNode:
        """Another repository (a fork a pull request comes from): its fields, none of its pull requests."""
        return cls(None, repo)

    def pullRequests(
        self,
        info: Info,
        states: Sequence[str] | None = None,
        labels: Sequence[str] | None = None,
        headRefName: str | None = None,
        baseRefName: str | None = None,
        orderBy: Mapping[str, str] | None = None,
        **page: Any,
    ) -> Connection:
        order = orderBy or {"field": "CREATED_AT", "direction": "ASC"}
        value = _PULL_ORDERS[order["field"]]
        sign = -1 if order["direction"] == "DESC" else 1
        chosen: list[tuple[list[Any], RawPull]] = []
        project = self._project
        if project is None:
            return connection(info, [], lambda raw: raw, **page)
        for raw in project.pulls():
            detail = raw.detail
            merged = bool(detail.get("merged", detail.get("merged_at") is not None))
            if states and pull_state(str(detail["state"]), merged) not in states:
                continue
            names = {label["name"] for label in detail.get("labels") or ()}
            if labels and not names.intersection(labels):
                continue
            if headRefName is not None and (detail.get("head") or {}).get("ref") != headRefName:
                continue
            if baseRefName is not None and (detail.get("base") or {}).get("ref") != baseRefName:
                continue
            chosen.append(([sign * value(detail), sign * raw.number], raw))
        chosen.sort(key=lambda pair: pair[0])
        return connection(
            info,
            [raw for _, raw in chosen],
            lambda raw: PullNode(project, raw),
            keys=[key for key, _ in chosen],
            **page,
        )

    def pullRequest(self, info: Info, number: int) -> PullNode:
        project = self._project
        raw = project.pull(number) if project is not None else None
        if raw is None or project is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to a PullRequest with the number of {number}.")
        served: Served = info.context.served
        served.pulls[f"{project.full_name}#{number}"] += 1
        return PullNode(project, raw)


class QueryRoot:
    """``Query``: the entry points."""

    def repository(self, info: Info, owner: str, name: str, followRenames: bool = True) -> RepositoryNode:
        context: Context = info.context
        project = context.projects.get(f"{owner}/{name}".lower())
        if project is None:
            raise GitHubError(
                "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'."
            )
        return RepositoryNode(project)

    def rateLimit(self, info: Info) -> RateLimitNode:
        context: Context = info.context
        return context.rate

    def viewer(self, info: Info) -> ActorNode:
        context: Context = info.context
        return ActorNode(pool_user(context.viewer))


#: GraphQL object type -> the class answering it (checked against the extract when it loads).
TYPES: dict[str, type] = {
    "Query": QueryRoot,
    "RateLimit": RateLimitNode,
    "Repository": RepositoryNode,
    "Ref": RefNode,
    "User": ActorNode,
    "Bot": ActorNode,
    "Organization": ActorNode,
    "Mannequin": ActorNode,
    "EnterpriseUserAccount": ActorNode,
    "Team": TeamNode,
    "PullRequest": PullNode,
    "Label": LabelNode,
    "PullRequestCommit": PullRequestCommitNode,
    "Commit": CommitNode,
    "GitActor": GitActorNode,
    "PullRequestChangedFile": ChangedFileNode,
    "PullRequestReview": ReviewNode,
    "PullRequestReviewThread": ThreadNode,
    "PullRequestReviewComment": ReviewCommentNode,
    "IssueComment": IssueCommentNode,
    "ReviewRequest": ReviewRequestNode,
}
