"""``ghseed serve`` (and the emulator under it) answers like api.github.com, checked with curl and requests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from pytest_ghseed.emulator import Emulator
from pytest_ghseed.emulator.diff import MISSING_HEADER
from pytest_ghseed.emulator.protocol import SUPPORTED_API_VERSIONS
from tests.contracts.conftest import REPO, TOKEN, Served, random_token

CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed on this machine")


def curl(url: str, *args: str) -> tuple[int, dict[str, str], str]:
    """``curl`` as a user would run it: status, headers (lower-case names) and body."""
    assert CURL is not None
    # -I prints the headers itself; otherwise -D - puts them before the body.
    dump = [] if "-I" in args else ["-D", "-"]
    done = subprocess.run(
        [CURL, "-sS", *dump, "--max-time", "20", *args, url],
        capture_output=True,
        check=True,
    )
    head, _, body = done.stdout.decode().partition("\r\n\r\n")
    status_line, *lines = head.split("\r\n")
    headers = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)
    }
    return int(status_line.split()[1]), headers, body


def _numbers(served: Served) -> list[int]:
    return [pr.number for pr in served.snapshot.prs]


@needs_curl
def test_curl_get_root_answers_the_api_root(served: Served) -> None:
    """`curl /` answers GitHub's API root with URLs on the serving address (GitHub CLI's first call)."""
    status, headers, body = curl(served.server.base_url + "/")
    root = json.loads(body)
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert root["current_user_url"] == f"{served.server.base_url}/user"
    assert root["repository_url"] == f"{served.server.base_url}/repos/{{owner}}/{{repo}}"


@needs_curl
def test_curl_head_answers_the_get_headers_without_a_body(served: Served) -> None:
    """`curl -I` gets 200, the ETag and Content-Length a GET gets, and no body."""
    url = f"{served.server.base_url}/repos/{REPO}/pulls?state=all"
    status, headers, body = curl(url, "-I", "-H", f"Authorization: Bearer {random_token()}")
    get = requests.get(url, timeout=10)
    assert status == 200 and body == ""
    assert headers["etag"] == get.headers["ETag"]
    assert int(headers["content-length"]) == len(get.content)


@needs_curl
def test_curl_if_none_match_star_and_the_strong_form_of_a_weak_etag_answer_304(served: Served) -> None:
    """RFC 9110 weak comparison: `*` and `"x"` both match `W/"x"`; a 304 costs no quota."""
    url = f"{served.server.base_url}/repos/{REPO}/pulls/{_numbers(served)[0]}"
    etag = requests.get(url, timeout=10).headers["ETag"]
    assert etag.startswith('W/"')
    status, headers, body = curl(url, "-H", "If-None-Match: *")
    assert (status, body) == (304, "")
    strong_status, strong_headers, _ = curl(url, "-H", f"If-None-Match: {etag.removeprefix('W/')}")
    assert strong_status == 304
    assert strong_headers["x-ratelimit-used"] == headers["x-ratelimit-used"], "a 304 is free"
    assert curl(url, "-H", 'If-None-Match: "something-else"')[0] == 200


@needs_curl
def test_curl_base_and_head_filter_the_pull_requests_as_github_does(served: Served) -> None:
    """`base=` keeps that base branch only; `head=owner:ref` one branch; a `head` without owner is ignored."""
    pulls_url = f"{served.server.base_url}/repos/{REPO}/pulls"
    everything = json.loads(curl(f"{pulls_url}?state=all&per_page=100")[2])
    assert len(everything) == len(_numbers(served))
    assert json.loads(curl(f"{pulls_url}?state=all&base=nonexistent")[2]) == []
    assert len(json.loads(curl(f"{pulls_url}?state=all&per_page=100&base=main")[2])) == len(everything)
    label = everything[3]["head"]["label"]
    ref = everything[3]["head"]["ref"]
    only = json.loads(curl(f"{pulls_url}?state=all&head={label}")[2])
    assert [pull["number"] for pull in only] == [everything[3]["number"]]
    assert len(json.loads(curl(f"{pulls_url}?state=all&per_page=100&head={ref}")[2])) == len(everything)


def test_sort_and_direction_order_the_list_as_github_does(served: Served) -> None:
    """sort=updated (default asc), sort=created (default desc) and direction order the pull requests."""
    pulls_url = f"{served.server.base_url}/repos/{REPO}/pulls?state=all&per_page=100"
    created = [p["number"] for p in requests.get(pulls_url, timeout=10).json()]
    assert created == sorted(_numbers(served), reverse=True)  # numbers follow creation here
    updated = requests.get(f"{pulls_url}&sort=updated", timeout=10).json()
    stamps = [(p["updated_at"], p["number"]) for p in updated]
    assert stamps == sorted(stamps)
    desc = requests.get(f"{pulls_url}&sort=updated&direction=desc", timeout=10).json()
    assert [p["number"] for p in desc] == [p["number"] for p in reversed(updated)]
    assert requests.get(f"{pulls_url}&state=open", timeout=10).json() == [
        p for p in requests.get(f"{pulls_url}", timeout=10).json() if p["state"] == "open"
    ]


@needs_curl
def test_curl_diff_media_type_answers_a_unified_diff_of_the_recorded_patches(
    served: Served, tmp_path: Path
) -> None:
    """The diff media type answers git's diff; `git apply --numstat` reads it back to the recorded counts."""
    pr = max(served.snapshot.prs, key=lambda p: sum(1 for f in p.files if f.patch))
    url = f"{served.server.base_url}/repos/{REPO}/pulls/{pr.number}"
    status, headers, body = curl(url, "-H", "Accept: application/vnd.github.diff")
    assert status == 200 and headers["content-type"].startswith("application/vnd.github.diff")
    patched = [f for f in pr.files if f.patch]
    assert body.count("diff --git ") == len(patched) + sum(
        1 for f in pr.files if not f.patch and f.status == "renamed" and not f.changes
    )
    missing = [f for f in pr.files if not f.patch and not (f.status == "renamed" and not f.changes)]
    assert int(headers[MISSING_HEADER.lower()]) == len(missing)
    if missing:
        assert "have no recorded patch" in body and missing[0].filename in body
    git = shutil.which("git")
    if git is not None:
        (tmp_path / "pr.diff").write_text(body)
        numstat = subprocess.run(
            [git, "apply", "--numstat", "pr.diff"], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout
        counted = {
            line.split("\t")[2]: (int(line.split("\t")[0]), int(line.split("\t")[1]))
            for line in numstat.splitlines()
        }
        for change in patched:
            assert counted[change.filename] == (change.additions, change.deletions)
    patch = requests.get(url, headers={"Accept": "application/vnd.github.v3.patch"}, timeout=10)
    assert patch.headers["Content-Type"].startswith("application/vnd.github.patch")
    assert patch.text.startswith("From ") and f"Subject: [PATCH] {pr.title}" in patch.text
    assert body in patch.text


@needs_curl
def test_curl_unsupported_api_version_answers_400_listing_the_supported_ones(served: Served) -> None:
    """An unknown X-GitHub-Api-Version gets GitHub's 400 naming it and the supported versions."""
    url = f"{served.server.base_url}/repos/{REPO}"
    status, _, body = curl(url, "-H", "X-GitHub-Api-Version: 2020-01-01")
    message = json.loads(body)["message"]
    assert status == 400
    assert '"2020-01-01", is not a supported version' in message
    assert all(f'"{version}"' in message for version in SUPPORTED_API_VERSIONS)
    for version in SUPPORTED_API_VERSIONS:
        assert curl(url, "-H", f"X-GitHub-Api-Version: {version}")[0] == 200


def test_serve_accepts_any_token_or_none_and_the_emulator_does_not(
    served: Served, emulator: Emulator
) -> None:
    """A client's own token works on `ghseed serve`; the emulator keeps GitHub's 401 for unknown tokens."""
    headers = {"Authorization": f"token {random_token()}"}
    assert (
        requests.get(f"{served.server.base_url}/repos/{REPO}", headers=headers, timeout=10).status_code == 200
    )
    assert requests.get(f"{served.server.base_url}/repos/{REPO}", timeout=10).status_code == 200
    assert requests.get(f"{emulator.base_url}/repos/{REPO}", headers=headers, timeout=10).status_code == 401


@pytest.mark.parametrize("token", [None, "random"])
def test_rate_limit_body_agrees_with_the_headers(served: Served, token: str | None) -> None:
    """/rate_limit's core and rate entries equal the X-RateLimit-* headers, with a token or without."""
    headers = {"Authorization": f"token {random_token()}"} if token else {}
    response = requests.get(f"{served.server.base_url}/rate_limit", headers=headers, timeout=10)
    body = response.json()
    for entry in (body["rate"], body["resources"]["core"]):
        assert entry["limit"] == int(response.headers["X-RateLimit-Limit"]) >= 100_000
        assert entry["remaining"] == int(response.headers["X-RateLimit-Remaining"])
        assert entry["reset"] == int(response.headers["X-RateLimit-Reset"])


def test_users_and_the_issue_view_of_a_pull_request_are_served(served: Served) -> None:
    """/users/{login} answers for a recorded author; /issues/{n} is the issue view of a recorded PR."""
    base = served.server.base_url
    pr = next(p for p in served.snapshot.prs if p.user is not None)
    assert pr.user is not None
    user = requests.get(f"{base}/users/{pr.user.login}", timeout=10).json()
    assert (user["login"], user["id"]) == (pr.user.login, pr.user.id)
    assert requests.get(f"{base}/users/nobody-recorded-this", timeout=10).status_code == 404
    issue = requests.get(f"{base}/repos/{REPO}/issues/{pr.number}", timeout=10).json()
    assert (issue["number"], issue["title"], issue["state"]) == (pr.number, pr.title, pr.state)
    assert issue["pull_request"]["url"] == f"{base}/repos/{REPO}/pulls/{pr.number}"
    assert issue["comments"] == len(pr.issue_comments)


def test_open_issues_count_follows_the_open_pull_requests(emulator: Emulator) -> None:
    """The synthetic repository counts its open pull requests as open issues, as GitHub counts both."""
    repo = requests.get(
        f"{emulator.base_url}/repos/{REPO}", headers={"Authorization": f"token {TOKEN}"}, timeout=10
    ).json()
    open_prs = sum(1 for pull in emulator.project(REPO).pulls() if pull.detail["state"] == "open")
    assert open_prs > 0
    assert repo["open_issues_count"] == repo["open_issues"] == open_prs
