"""A synthetic project: a plausible team's pull-request history, generated from a :class:`ProjectSpec`.

``random.Random`` seeded from the spec only: one spec always gives byte-identical data. The team
(``HUMANS``, ``BOTS``, their stable ids) is a fixed pool, so generated data reads like a real team's
history; ``login_id`` gives any other login a stable id too.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from pytest_ghseed.emulator.data import (
    API,
    JSON,
    WEB,
    Project,
    RawPull,
    iso,
    reactions_json,
    user_json,
)
from pytest_ghseed.graphql.mapping import node_id
from pytest_ghseed.vocabulary import WORDS


@dataclass(frozen=True)
class ProjectSpec:
    """What to generate: repository name, number of pulls, seed, and whether to add extreme pulls."""

    full_name: str
    n_prs: int
    seed: int
    extremes: bool = True
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)


# A fixed pool of accounts with stable ids, so generated data reads like a real team's history.
HUMANS = (
    "ada-l",
    "grace-h",
    "linus-t",
    "margaret-h",
    "alan-t",
    "barbara-l",
    "ken-t",
    "dennis-r",
    "guido-v",
    "yukihiro-m",
    "brendan-e",
    "james-g",
    "bjarne-s",
    "anders-h",
    "rich-h",
)
#: The first few humans are maintainers (MEMBER, can merge).
MAINTAINERS = HUMANS[:5]
BOTS = (("dependabot[bot]", 49699333), ("renovate[bot]", 29139614))
USER_IDS: dict[str, int] = {login: 5_000_000 + 7919 * index for index, login in enumerate(HUMANS)} | dict(
    BOTS
)

LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("dependencies", "0366d6", "Pull requests that update a dependency file"),
    ("ci", "ededed", None),
    ("refactor", "fbca04", None),
)

DIRECTORIES = ("src/core", "src/api", "src/cli", "tests", "docs", "tools", "src/web/static")
STEMS = ("client", "models", "utils", "config", "parser", "cache", "views", "handlers", "errors", "index")
TEXT_EXTENSIONS = (".py", ".py", ".py", ".md", ".toml", ".js", ".txt")
BINARY_EXTENSIONS = (".png", ".woff2", ".ico")

#: Special pulls ``extremes=True`` adds (number -> kind) when a project has at least 20 pulls.
EXTREMES = {3: "crowded", 7: "commits-120", 11: "commits-300", 13: "files-3100", 17: "quiet"}


def login_id(login: str) -> int:
    """The stable id of a pool account, or a stable id derived from any other login."""
    if login in USER_IDS:
        return USER_IDS[login]
    return 9_000_000 + zlib.crc32(login.encode()) % 1_000_000


def pool_user(login: str) -> JSON:
    """The user object of a pool account."""
    return user_json(login, login_id(login), "Bot" if login.endswith("[bot]") else "User")


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _association(login: str) -> str:
    if login in MAINTAINERS:
        return "MEMBER"
    if login.endswith("[bot]"):
        return "NONE"
    return "CONTRIBUTOR"


def _weighted(rng: random.Random, low: int, high: int) -> int:
    """Small values are far likelier than large ones, as in real pull requests."""
    return min(high, low + int(rng.expovariate(1.0) * (high - low) / 3))


@dataclass
class _Clock:
    """Hands out non-decreasing timestamps after ``now``; ``scale`` 0 keeps them all equal."""

    now: datetime
    rng: random.Random
    scale: float

    def tick(self, low_minutes: float, high_minutes: float) -> datetime:
        self.now += timedelta(minutes=self.rng.uniform(low_minutes, high_minutes) * self.scale)
        return self.now


class SyntheticProject(Project):
    """A project generated from a :class:`ProjectSpec`; identical specs give identical data."""

    def __init__(self, spec: ProjectSpec) -> None:
        self.spec = spec
        owner, name = spec.full_name.split("/", 1)
        rng = random.Random(f"{spec.seed}:{spec.full_name}")
        repo_id = 100_000_000 + rng.randrange(10_000_000)
        self.owner_json = user_json(owner, login_id(owner), "Organization")
        super().__init__(self._repo_json(owner, name, repo_id, spec.start))
        created = spec.start + timedelta(days=1)
        for number in range(1, spec.n_prs + 1):
            created += timedelta(hours=rng.uniform(2, 20))
            kind = EXTREMES.get(number, "normal") if spec.extremes and spec.n_prs >= 20 else "normal"
            self._store(self._generate(number, created, kind, scale=1.0))

    def add_pull(self, title: str | None = None, **fields: Any) -> int:
        """Add an open pull request created now (with the next number); return its number."""
        with self.lock:
            number = max(self.numbers(), default=0) + 1
            pull = self._generate(number, datetime.now(UTC), "new", scale=0.0)
            if title is not None:
                pull.detail["title"] = title
            pull.detail.update(fields)
            self._store(pull)
            return number

    # -- generation ---------------------------------------------------------------------------------

    def _repo_json(self, owner: str, name: str, repo_id: int, start: datetime) -> JSON:
        full = f"{owner}/{name}"
        api = f"{API}/repos/{full}"
        return {
            "id": repo_id,
            "node_id": node_id("Repository", repo_id),
            "name": name,
            "full_name": full,
            "private": False,
            "owner": self.owner_json,
            "html_url": f"{WEB}/{full}",
            "description": f"Synthetic repository {full} served by the pytest-ghseed emulator",
            "fork": False,
            "url": api,
            "forks_url": f"{api}/forks",
            "keys_url": f"{api}/keys{{/key_id}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "teams_url": f"{api}/teams",
            "hooks_url": f"{api}/hooks",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "events_url": f"{api}/events",
            "assignees_url": f"{api}/assignees{{/user}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "tags_url": f"{api}/tags",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "languages_url": f"{api}/languages",
            "stargazers_url": f"{api}/stargazers",
            "contributors_url": f"{api}/contributors",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "commits_url": f"{api}/commits{{/sha}}",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "comments_url": f"{api}/comments{{/number}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "merges_url": f"{api}/merges",
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{api}/downloads",
            "issues_url": f"{api}/issues{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "labels_url": f"{api}/labels{{/name}}",
            "releases_url": f"{api}/releases{{/id}}",
            "deployments_url": f"{api}/deployments",
            "created_at": iso(start),
            "updated_at": iso(start),
            "pushed_at": iso(start),
            "git_url": f"git://github.com/{full}.git",
            "ssh_url": f"git@github.com:{full}.git",
            "clone_url": f"{WEB}/{full}.git",
            "svn_url": f"{WEB}/{full}",
            "homepage": None,
            "size": 1024,
            "stargazers_count": 42,
            "watchers_count": 42,
            "language": "Python",
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 3,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": 0,
            "license": {
                "key": "mit",
                "name": "MIT License",
                "spdx_id": "MIT",
                "url": f"{API}/licenses/mit",
                "node_id": "MDc6TGljZW5zZTEz",
            },
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": ["testing", "github"],
            "visibility": "public",
            "forks": 3,
            "open_issues": 0,
            "watchers": 42,
            "default_branch": "main",
        }

    def _generate(self, number: int, created: datetime, kind: str, scale: float) -> RawPull:
        # One generator per pull, seeded from the spec: pulls are independent of each other, so
        # add_pull() is as deterministic as the initial set.
        rng = random.Random(f"{self.spec.seed}:{self.spec.full_name}:{number}")
        clock = _Clock(created, rng, scale)
        is_bot = kind == "normal" and rng.random() < 0.1
        author = rng.choice(BOTS)[0] if is_bot else rng.choice(HUMANS)
        others = [login for login in HUMANS if login != author]

        roll = rng.random()
        if kind == "new":
            state = "open"
        elif kind != "normal":
            state = "merged"
        else:
            state = "merged" if roll < 0.70 else "closed" if roll < 0.85 else "open"

        n_commits = {"commits-120": 120, "commits-300": 300}.get(kind) or (
            1 if is_bot else _weighted(rng, 1, 10)
        )
        n_files = 3100 if kind == "files-3100" else (rng.randint(1, 2) if is_bot else _weighted(rng, 1, 30))
        if kind == "crowded":
            n_reviews, n_review_comments, n_issue_comments = 105, 12, 130
        elif kind == "quiet":
            n_reviews = n_review_comments = n_issue_comments = 0
        else:
            n_reviews = 0 if rng.random() < 0.25 else rng.randint(1, 4)
            n_review_comments = 0 if rng.random() < 0.4 else _weighted(rng, 1, 8)
            n_issue_comments = 0 if rng.random() < 0.4 else _weighted(rng, 1, 6)

        base_sha = _sha(rng)
        commits = self._commits(number, n_commits, author, base_sha, clock, rng)
        head_sha = commits[-1]["sha"]
        files = self._files(n_files, head_sha, rng)
        reviews = self._reviews(number, n_reviews, others, commits, clock, rng)
        review_comments = self._review_comments(
            number, n_review_comments, author, others, reviews, files, commits, clock, rng
        )
        issue_comments = self._issue_comments(number, n_issue_comments, author, others, clock, rng)
        finished = clock.tick(10, 600)
        detail = self._detail(number, created, state, kind, author, base_sha, head_sha, rng)
        last_activity = max(
            [created, finished if state != "open" else created]
            + [
                datetime.fromisoformat(c["commit"]["committer"]["date"].replace("Z", "+00:00"))
                for c in commits
            ]
            + [datetime.fromisoformat(item["updated_at"].replace("Z", "+00:00")) for item in review_comments]
            + [datetime.fromisoformat(item["updated_at"].replace("Z", "+00:00")) for item in issue_comments]
            + [
                datetime.fromisoformat(item["submitted_at"].replace("Z", "+00:00"))
                for item in reviews
                if "submitted_at" in item
            ]
        )
        detail["updated_at"] = iso(last_activity)
        if state != "open":
            detail["closed_at"] = iso(finished)
        if state == "merged":
            detail["merged_at"] = iso(finished)
            detail["merged"] = True
            detail["merged_by"] = pool_user(
                rng.choice([m for m in MAINTAINERS if m != author] or MAINTAINERS)
            )
        if state == "open":
            reviewed = {review["user"]["login"] for review in reviews if review["user"]}
            candidates = [login for login in others if login not in reviewed]
            detail["requested_reviewers"] = [
                pool_user(login) for login in rng.sample(candidates, rng.randint(0, 2))
            ]
        detail["comments"] = len(issue_comments)
        detail["review_comments"] = len(review_comments)
        detail["commits"] = len(commits)
        detail["additions"] = sum(f["additions"] for f in files)
        detail["deletions"] = sum(f["deletions"] for f in files)
        detail["changed_files"] = len(files)
        return RawPull(detail, reviews, commits, files, review_comments, issue_comments)

    def _detail(
        self,
        number: int,
        created: datetime,
        state: str,
        kind: str,
        author: str,
        base_sha: str,
        head_sha: str,
        rng: random.Random,
    ) -> JSON:
        full = self.full_name
        api = f"{API}/repos/{full}"
        pull_id = 1_000_000_000 + (self.repo_id % 100_000) * 10_000 + number
        words = rng.sample(WORDS, 3)
        if author.endswith("[bot]"):
            title = f"Bump {words[0]}-lib from 1.{rng.randint(0, 9)} to 2.{rng.randint(0, 9)}"
            branch = f"dependabot/pip/{words[0]}-lib-2"
            labels = ["dependencies"]
        else:
            title = f"{words[0].capitalize()} {words[1]} in {words[2]}"
            if kind != "normal":
                title = f"{title} ({kind})"
            branch = f"{author}/{words[0]}-{words[1]}-{number}"
            labels = rng.sample(
                [label[0] for label in LABELS if label[0] != "dependencies"], rng.randint(0, 2)
            )
        draft = state == "open" and kind == "normal" and rng.random() < 0.3
        if state == "open":
            mergeable: bool | None = rng.choice((True, True, False, None))
            mergeable_state = (
                "draft" if draft else {True: "clean", False: "dirty", None: "unknown"}[mergeable]
            )
        else:
            mergeable, mergeable_state = None, "unknown"
        html = f"{WEB}/{full}/pull/{number}"
        assignees = [pool_user(author)] if not author.endswith("[bot]") and rng.random() < 0.2 else []
        body = (
            None
            if rng.random() < 0.1
            else f"This pull request {words[0]}s {words[1]}.\n\nCloses #{max(1, number - 1)}.\n\n- [x] tests"
        )
        head_repo = self.repo
        return {
            "url": f"{api}/pulls/{number}",
            "id": pull_id,
            "node_id": node_id("PullRequest", pull_id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{number}",
            "number": number,
            "state": "open" if state == "open" else "closed",
            "locked": False,
            "title": title,
            "user": pool_user(author),
            "body": body,
            "created_at": iso(created),
            "updated_at": iso(created),
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": _sha(rng),
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [self._label(name) for name in labels],
            "milestone": None,
            "draft": draft,
            "commits_url": f"{api}/pulls/{number}/commits",
            "review_comments_url": f"{api}/pulls/{number}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "statuses_url": f"{api}/statuses/{head_sha}",
            "head": {
                "label": f"{self.owner_json['login']}:{branch}",
                "ref": branch,
                "sha": head_sha,
                "user": self.owner_json,
                "repo": head_repo,
            },
            "base": {
                "label": f"{self.owner_json['login']}:main",
                "ref": "main",
                "sha": base_sha,
                "user": self.owner_json,
                "repo": self.repo,
            },
            "_links": {
                "self": {"href": f"{api}/pulls/{number}"},
                "html": {"href": html},
                "issue": {"href": f"{api}/issues/{number}"},
                "comments": {"href": f"{api}/issues/{number}/comments"},
                "review_comments": {"href": f"{api}/pulls/{number}/comments"},
                "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/pulls/{number}/commits"},
                "statuses": {"href": f"{api}/statuses/{head_sha}"},
            },
            "author_association": _association(author),
            "auto_merge": None,
            "active_lock_reason": None,
            "merged": False,
            "mergeable": mergeable,
            "rebaseable": mergeable,
            "mergeable_state": mergeable_state,
            "merged_by": None,
            "comments": 0,
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": 0,
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        }

    def _label(self, name: str) -> JSON:
        color, description = next((c, d) for n, c, d in LABELS if n == name)
        label_id = 200_000_000 + LABELS.index((name, color, description))
        return {
            "id": label_id,
            "node_id": node_id("Label", label_id),
            "url": f"{API}/repos/{self.full_name}/labels/{quote(name)}",
            "name": name,
            "color": color,
            "default": name in ("bug", "enhancement", "documentation"),
            "description": description,
            "archived_at": None,
            "archived_by": None,
        }

    def _commits(
        self, number: int, count: int, author: str, base_sha: str, clock: _Clock, rng: random.Random
    ) -> list[JSON]:
        full = self.full_name
        commits: list[JSON] = []
        parent = base_sha
        for index in range(count):
            sha = _sha(rng)
            date = iso(clock.tick(1, 90))
            # Some commits carry an e-mail no GitHub account claims: author/committer are null.
            linked = rng.random() >= 0.05
            name = author.removesuffix("[bot]") if linked else f"Guest Coder {number}"
            email = f"{login_id(author)}+{author}@users.noreply.github.com" if linked else "guest@example.com"
            person = {"name": name, "email": email, "date": date}
            commits.append(
                {
                    "sha": sha,
                    "node_id": node_id("Commit", number * 1000 + index),
                    "commit": {
                        "author": person,
                        "committer": dict(person),
                        "message": f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} (step {index + 1})",
                        "tree": {"sha": _sha(rng), "url": f"{API}/repos/{full}/git/trees/{sha}"},
                        "url": f"{API}/repos/{full}/git/commits/{sha}",
                        "comment_count": 0,
                        "verification": {
                            "verified": False,
                            "reason": "unsigned",
                            "signature": None,
                            "payload": None,
                            "verified_at": None,
                        },
                    },
                    "url": f"{API}/repos/{full}/commits/{sha}",
                    "html_url": f"{WEB}/{full}/commit/{sha}",
                    "comments_url": f"{API}/repos/{full}/commits/{sha}/comments",
                    "author": pool_user(author) if linked else None,
                    "committer": pool_user(author) if linked else None,
                    "parents": [
                        {
                            "sha": parent,
                            "url": f"{API}/repos/{full}/commits/{parent}",
                            "html_url": f"{WEB}/{full}/commit/{parent}",
                        }
                    ],
                }
            )
            parent = sha
        return commits

    def _files(self, count: int, head_sha: str, rng: random.Random) -> list[JSON]:
        full = self.full_name
        files: list[JSON] = []
        used: set[str] = set()
        for index in range(count):
            binary = count < 1000 and rng.random() < 0.05
            ext = rng.choice(BINARY_EXTENSIONS if binary else TEXT_EXTENSIONS)
            directory = rng.choice(DIRECTORIES)
            filename = f"{directory}/{rng.choice(STEMS)}_{index}{ext}"
            used.add(filename)
            status = rng.choices(("modified", "added", "removed", "renamed"), (70, 15, 7, 8))[0]
            if count >= 1000:
                # The huge pull is a mechanical change: tiny, uniform diffs keep it fast to serve.
                status, additions, deletions = "modified", 1, 1
            elif binary:
                additions = deletions = 0
            else:
                additions = 0 if status == "removed" else _weighted(rng, 1, 400)
                deletions = 0 if status == "added" else _weighted(rng, 0, 200)
                if status == "removed":
                    deletions = max(deletions, 1)
                if status == "renamed" and rng.random() < 0.5:
                    additions = deletions = 0
            path = quote(filename)
            entry: JSON = {
                "sha": _sha(rng),
                "filename": filename,
                "status": status,
                "additions": additions,
                "deletions": deletions,
                "changes": additions + deletions,
                "blob_url": f"{WEB}/{full}/blob/{head_sha}/{path}",
                "raw_url": f"{WEB}/{full}/raw/{head_sha}/{path}",
                "contents_url": f"{API}/repos/{full}/contents/{path}?ref={head_sha}",
            }
            # GitHub omits the patch for binary files, for pure renames and for diffs too large.
            if not binary and 0 < additions + deletions <= 300:
                lines = [f"-old line {i}" for i in range(deletions)] + [
                    f"+new line {i}" for i in range(additions)
                ]
                entry["patch"] = f"@@ -1,{deletions} +1,{additions} @@\n" + "\n".join(lines)
            if status == "renamed":
                entry["previous_filename"] = f"{directory}/old_{rng.choice(STEMS)}_{index}{ext}"
            files.append(entry)
        return files

    def _maybe_user(self, login: str, rng: random.Random) -> JSON | None:
        """A pool user, or null for an account deleted since (GitHub sends ``"user": null``)."""
        return None if rng.random() < 0.03 else pool_user(login)

    def _reviews(
        self,
        number: int,
        count: int,
        reviewers: Sequence[str],
        commits: Sequence[JSON],
        clock: _Clock,
        rng: random.Random,
    ) -> list[JSON]:
        full = self.full_name
        html = f"{WEB}/{full}/pull/{number}"
        reviews: list[JSON] = []
        for index in range(count):
            review_id = 3_000_000_000 + (self.repo_id % 10_000) * 100_000 + number * 200 + index
            login = rng.choice(reviewers)
            # Only the last review of a pull may be pending: GitHub keeps one per reviewer, unsubmitted.
            pending = index == count - 1 and count < 100 and rng.random() < 0.08
            state = (
                "PENDING"
                if pending
                else rng.choices(
                    ("APPROVED", "COMMENTED", "CHANGES_REQUESTED", "DISMISSED"), (45, 35, 15, 5)
                )[0]
            )
            review: JSON = {
                "id": review_id,
                "node_id": node_id("PullRequestReview", review_id),
                "user": self._maybe_user(login, rng),
                "body": "" if rng.random() < 0.5 else f"Looks {rng.choice(('good', 'fine', 'off'))} to me.",
                "state": state,
                "html_url": f"{html}#pullrequestreview-{review_id}",
                "pull_request_url": f"{API}/repos/{full}/pulls/{number}",
                "author_association": _association(login),
                "_links": {
                    "html": {"href": f"{html}#pullrequestreview-{review_id}"},
                    "pull_request": {"href": f"{API}/repos/{full}/pulls/{number}"},
                },
                "commit_id": rng.choice(commits)["sha"],
            }
            if not pending:
                review["submitted_at"] = iso(clock.tick(5, 240))
            reviews.append(review)
        return reviews

    def _review_comments(
        self,
        number: int,
        count: int,
        author: str,
        others: Sequence[str],
        reviews: Sequence[JSON],
        files: Sequence[JSON],
        commits: Sequence[JSON],
        clock: _Clock,
        rng: random.Random,
    ) -> list[JSON]:
        full = self.full_name
        comments: list[JSON] = []
        for index in range(count):
            comment_id = 4_000_000_000 + (self.repo_id % 10_000) * 100_000 + number * 200 + index
            # About a third of the comments answer an earlier one, on the same line of the same file.
            parent = comments[rng.randrange(len(comments))] if comments and rng.random() < 0.35 else None
            login = author if parent is not None and rng.random() < 0.6 else rng.choice(others)
            target = rng.choice(files)
            line = parent["line"] if parent else rng.randint(1, 120)
            path = parent["path"] if parent else target["filename"]
            commit_id = commits[-1]["sha"]
            moment = iso(clock.tick(2, 120))
            url = f"{API}/repos/{full}/pulls/comments/{comment_id}"
            html = f"{WEB}/{full}/pull/{number}#discussion_r{comment_id}"
            submitted = [review for review in reviews if "submitted_at" in review]
            comment: JSON = {
                "url": url,
                "pull_request_review_id": rng.choice(submitted)["id"] if submitted else None,
                "id": comment_id,
                "node_id": node_id("PullRequestReviewComment", comment_id),
                "diff_hunk": f"@@ -{line},3 +{line},4 @@\n context\n+added line {line}",
                "path": path,
                "commit_id": commit_id,
                "original_commit_id": rng.choice(commits)["sha"],
                "user": self._maybe_user(login, rng),
                "body": f"Could we {rng.choice(WORDS)} here?" if parent is None else "Done, thanks.",
                "created_at": moment,
                "updated_at": moment,
                "html_url": html,
                "pull_request_url": f"{API}/repos/{full}/pulls/{number}",
                "author_association": _association(login),
                "_links": {
                    "self": {"href": url},
                    "html": {"href": html},
                    "pull_request": {"href": f"{API}/repos/{full}/pulls/{number}"},
                },
                "reactions": reactions_json(f"{url}/reactions", rng),
                "start_line": None,
                "original_start_line": None,
                "start_side": None,
                "line": line,
                "original_line": line,
                "side": "RIGHT",
                "original_position": 4,
                "position": 4,
                "subject_type": "line",
            }
            if parent is not None:
                comment["in_reply_to_id"] = parent.get("in_reply_to_id", parent["id"])
            comments.append(comment)
        return comments

    def _issue_comments(
        self,
        number: int,
        count: int,
        author: str,
        others: Sequence[str],
        clock: _Clock,
        rng: random.Random,
    ) -> list[JSON]:
        full = self.full_name
        comments: list[JSON] = []
        for index in range(count):
            comment_id = 5_000_000_000 + (self.repo_id % 10_000) * 100_000 + number * 200 + index
            login = author if rng.random() < 0.3 else rng.choice(others)
            moment = clock.tick(5, 300)
            edited = moment + timedelta(minutes=rng.choice((0, 0, 0, 7)) * clock.scale)
            url = f"{API}/repos/{full}/issues/comments/{comment_id}"
            comments.append(
                {
                    "url": url,
                    "html_url": f"{WEB}/{full}/pull/{number}#issuecomment-{comment_id}",
                    "issue_url": f"{API}/repos/{full}/issues/{number}",
                    "id": comment_id,
                    "node_id": node_id("IssueComment", comment_id),
                    "user": self._maybe_user(login, rng),
                    "created_at": iso(moment),
                    "updated_at": iso(edited),
                    "body": f"Thanks! {rng.choice(WORDS).capitalize()} looks right now.",
                    "author_association": _association(login),
                    "reactions": reactions_json(f"{url}/reactions", rng),
                    "performed_via_github_app": None,
                }
            )
        return comments
