"""Projects the emulator serves: raw GitHub JSON per resource, synthetic or recorded.

A :class:`Project` holds one repository's JSON and, per pull request, the raw bodies of the detail
and of every sub-list, exactly as GitHub would send them (URLs on ``https://api.github.com``; the
server rewrites them to its own address). :class:`SyntheticProject` fills a project from a
:class:`ProjectSpec` with ``random.Random`` seeded from the spec only, so one spec always gives
byte-identical data; :meth:`Project.from_raw` fills one from recorded bodies.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pytest_ghseed.defaults import COMMITS_CAP, FILES_CAP
from pytest_ghseed.graphql.mapping import node_id

if TYPE_CHECKING:
    from pytest_ghseed.models import PullRequest


JSON = dict[str, Any]

API = "https://api.github.com"
WEB = "https://github.com"


#: Keys only the single-pull endpoint sends; ``GET /pulls`` items lack them.
DETAIL_ONLY_KEYS = (
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "commits",
    "additions",
    "deletions",
    "changed_files",
)

REACTION_KEYS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")


def iso(moment: datetime) -> str:
    """Format a timestamp the way GitHub does: UTC, seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_json(login: str, user_id: int, kind: str = "User") -> JSON:
    """A current-shape user object (with ``node_id`` and ``user_view_type``)."""
    slug = quote(login, safe="")
    api = f"{API}/users/{slug}"
    html = f"{WEB}/apps/{login.removesuffix('[bot]')}" if kind == "Bot" else f"{WEB}/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": node_id("Bot" if kind == "Bot" else kind, user_id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": html,
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def reactions_json(url: str, rng: random.Random) -> JSON:
    """A reactions summary; most comments have none."""
    counts = {key: (rng.choice((0, 0, 0, 0, 1, 2)) if key in ("+1", "heart") else 0) for key in REACTION_KEYS}
    return {"url": url, "total_count": sum(counts.values()), **counts}


def list_item(detail: Mapping[str, Any]) -> JSON:
    """The ``GET /pulls`` form of a pull: the detail without its detail-only keys."""
    return {key: value for key, value in detail.items() if key not in DETAIL_ONLY_KEYS}


@dataclass
class RawPull:
    """The raw GitHub bodies of one pull request: the detail and its full sub-lists.

    ``commits`` and ``files`` may exceed GitHub's caps; the server cuts them as GitHub does.
    ETags are derived from the served bodies, as GitHub's are: a mutation changes the ETag of exactly
    the resources whose content it changes.
    """

    detail: JSON
    reviews: list[JSON] = field(default_factory=list)
    commits: list[JSON] = field(default_factory=list)
    files: list[JSON] = field(default_factory=list)
    review_comments: list[JSON] = field(default_factory=list)
    issue_comments: list[JSON] = field(default_factory=list)

    @property
    def number(self) -> int:
        """The pull request number."""
        return int(self.detail["number"])


class Project:
    """One repository as the emulator serves it; thread-safe for concurrent reads and mutations."""

    def __init__(self, repo: Mapping[str, Any], pulls: Iterable[RawPull] = ()) -> None:
        self.repo: JSON = dict(repo)
        self.lock = threading.RLock()
        self._pulls: dict[int, RawPull] = {}
        for pull in pulls:
            self._pulls[pull.number] = pull

    @classmethod
    def from_raw(cls, repo: Mapping[str, Any], pulls: Iterable[RawPull | Mapping[str, Any]]) -> Project:
        """Build a project from recorded bodies (``RawPull`` or mappings with the same field names).

        Fields GitHub's description requires that a recording lacks (made before they were kept, or
        by an older emulator) are filled the documented way of :mod:`views`: ``network_count`` and
        ``subscribers_count`` of the repository, ``archived_at``/``archived_by`` of labels.
        """
        from pytest_ghseed.emulator.views import complete_pull, complete_repo

        raw = [
            pull
            if isinstance(pull, RawPull)
            else RawPull(
                detail=dict(pull["detail"]),
                reviews=list(pull.get("reviews", ())),
                commits=list(pull.get("commits", ())),
                files=list(pull.get("files", ())),
                review_comments=list(pull.get("review_comments", ())),
                issue_comments=list(pull.get("issue_comments", ())),
            )
            for pull in pulls
        ]
        return cls(complete_repo(repo), [complete_pull(pull) for pull in raw])

    @property
    def full_name(self) -> str:
        """``owner/name`` of the repository."""
        return str(self.repo["full_name"])

    @property
    def repo_id(self) -> int:
        """GitHub's numeric id of the repository (used in ``/repositories/{id}`` links)."""
        return int(self.repo["id"])

    def numbers(self) -> list[int]:
        """Pull request numbers, ascending."""
        with self.lock:
            return sorted(self._pulls)

    def pull(self, number: int) -> RawPull | None:
        """The raw pull ``number`` (the live object: hold :attr:`lock` while reading it)."""
        with self.lock:
            return self._pulls.get(number)

    def pulls(self) -> list[RawPull]:
        """All raw pulls by number (live objects: hold :attr:`lock` while reading them)."""
        with self.lock:
            return [self._pulls[n] for n in sorted(self._pulls)]

    def _store(self, pull: RawPull) -> None:
        with self.lock:
            self._pulls[pull.number] = pull

    def update_pull(self, number: int, **fields: Any) -> None:
        """Change detail fields of a pull and bump its ``updated_at`` to now (so the detail's ETag changes)."""
        with self.lock:
            pull = self._pulls[number]
            pull.detail.update(fields)
            pull.detail["updated_at"] = iso(datetime.now(UTC))

    def truth(self) -> list[PullRequest]:
        """What a perfect fetch must produce: models built from the API-visible (capped) lists."""
        from pytest_ghseed.models import PullRequest

        with self.lock:
            return [
                PullRequest.from_github(
                    pull.detail,
                    reviews=pull.reviews,
                    commits=pull.commits[:COMMITS_CAP],
                    files=pull.files[:FILES_CAP],
                    review_comments=pull.review_comments,
                    issue_comments=pull.issue_comments,
                    commits_truncated=len(pull.commits) > COMMITS_CAP,
                    files_truncated=len(pull.files) > FILES_CAP,
                )
                for pull in self.pulls()
            ]
