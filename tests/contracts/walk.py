"""Walk every GET endpoint a served repository has, following ``Link`` pagination; keep the answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests


@dataclass(frozen=True)
class Answer:
    """One response: the path asked (with query), status, raw body and headers."""

    path: str
    status: int
    body: bytes
    headers: dict[str, str]


class Walker:
    """GET requests against one server with one token, small pages so lists span several."""

    def __init__(self, base_url: str, token: str | None, per_page: int = 2) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.per_page = per_page
        self.answers: list[Answer] = []

    def get(self, path: str, **headers: str) -> Answer:
        url = path if "://" in path else self.base_url + path
        response = self.session.get(url, headers=headers, timeout=30)
        split = urlsplit(response.url)
        answer = Answer(
            split.path + (f"?{split.query}" if split.query else ""),
            response.status_code,
            response.content,
            dict(response.headers),
        )
        self.answers.append(answer)
        return answer

    def pages(self, path: str) -> Iterator[Answer]:
        """Every page of a list, first to last, by the ``Link`` header's next relation."""
        joiner = "&" if "?" in path else "?"
        answer = self.get(f"{path}{joiner}per_page={self.per_page}")
        while True:
            yield answer
            links = requests.utils.parse_header_links(answer.headers.get("Link", ""))
            following = next((link["url"] for link in links if link.get("rel") == "next"), None)
            if following is None or answer.status != 200:
                return
            answer = self.get(following)

    def items(self, path: str) -> list[dict[str, object]]:
        """Every item of a list."""
        out: list[dict[str, object]] = []
        for page in self.pages(path):
            assert page.status == 200, (page.path, page.status, page.body[:200])
            out.extend(requests.models.complexjson.loads(page.body))
        return out

    def everything(self, repo: str) -> None:
        """The API root, the repository, every list and every pull request with all its sub-lists."""
        base = f"/repos/{repo}"
        for path in ("/", "/versions", "/rate_limit", "/user", base):
            self.get(path)
        pulls = self.items(f"{base}/pulls?state=all")
        logins: set[str] = set()
        for pull in pulls:
            number = pull["number"]
            user = pull.get("user")
            if isinstance(user, dict):
                logins.add(str(user["login"]))
            self.get(f"{base}/pulls/{number}")
            self.get(f"{base}/issues/{number}")
            for part in ("reviews", "commits", "files", "comments"):
                self.items(f"{base}/pulls/{number}/{part}")
            self.items(f"{base}/issues/{number}/comments")
        self.items(f"{base}/pulls/comments")
        self.items(f"{base}/issues/comments")
        for login in sorted(logins):
            self.get(f"/users/{login}")
