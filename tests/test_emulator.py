"""The GitHub API emulator over real HTTP: headers, pagination, limits, faults, data and mutations."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
import requests

from pytest_ghseed.emulator import Emulator, Project, ProjectSpec, RawPull, SyntheticProject, start
from pytest_ghseed.emulator.data import DETAIL_ONLY_KEYS
from tests.helpers import EMULATOR_REPO as REPO
from tests.helpers import get, load_sample, small_config

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset")
SHA = re.compile(r"^[0-9a-f]{40}$")


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """A shared read-only emulator with the extreme pulls (no tight limits)."""
    with start(small_config(24, extremes=True)) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def project() -> SyntheticProject:
    """A 60-pull project like the demo's, for data checks."""
    return SyntheticProject(ProjectSpec(REPO, n_prs=60, seed=1))


def when(text: str) -> datetime:
    """Parse a GitHub timestamp."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- headers, pagination, routing -----------------------------------------------------------------


def test_headers_on_every_response(emu: Emulator) -> None:
    """200, 304, 404 and 401 responses all carry the rate-limit headers, a request id and JSON type."""
    ok = get(f"{emu.base_url}/repos/{REPO}/pulls/1")
    responses = [
        ok,
        get(f"{emu.base_url}/repos/{REPO}/pulls/1", **{"If-None-Match": ok.headers["ETag"]}),
        get(f"{emu.base_url}/repos/{REPO}/pulls/999"),
        get(f"{emu.base_url}/repos/{REPO}", token="nope"),
    ]
    assert [r.status_code for r in responses] == [200, 304, 404, 401]
    for response in responses:
        for header in RATE_HEADERS:
            assert response.headers[header].isdigit(), header
        assert response.headers["X-RateLimit-Resource"] == "core"
        assert response.headers["X-GitHub-Request-Id"]
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(r'W/"[0-9a-f]{64}"', ok.headers["ETag"])


def test_empty_list_gets_strong_etag(emu: Emulator) -> None:
    """An empty list (the quiet pull's reviews) gets a strong ETag and no Link header."""
    response = get(f"{emu.base_url}/repos/{REPO}/pulls/17/reviews")
    assert response.json() == []
    assert re.fullmatch(r'"[0-9a-f]{64}"', response.headers["ETag"])
    assert "Link" not in response.headers


def test_link_header_exact_format(emu: Emulator) -> None:
    """Link names the repository by id, keeps the own query first and lists prev, next, last, first."""
    repo_id = emu.project(REPO).repo_id
    response = get(f"{emu.base_url}/repos/{REPO}/pulls?state=all&per_page=5&page=2")
    base = f"{emu.base_url}/repositories/{repo_id}/pulls?state=all&per_page=5"
    assert response.headers["Link"] == (
        f'<{base}&page=1>; rel="prev", <{base}&page=3>; rel="next", '
        f'<{base}&page=5>; rel="last", <{base}&page=1>; rel="first"'
    )
    first = get(f"{emu.base_url}/repos/{REPO}/pulls?state=all&per_page=5")
    assert first.headers["Link"] == f'<{base}&page=2>; rel="next", <{base}&page=5>; rel="last"'
    last = get(first.headers["Link"].split(", ")[1][1:].split(">")[0])
    assert last.headers["Link"] == f'<{base}&page=4>; rel="prev", <{base}&page=1>; rel="first"'
    assert len(last.json()) == 4


def test_per_page_clamped_to_100(emu: Emulator) -> None:
    """per_page above 100 serves 100 items; the default is 30."""
    assert len(get(f"{emu.base_url}/repos/{REPO}/pulls/13/files?per_page=500").json()) == 100
    assert len(get(f"{emu.base_url}/repos/{REPO}/pulls/13/files").json()) == 30


def test_pulls_state_sort_direction_defaults(emu: Emulator) -> None:
    """Defaults follow GitHub: state open; sort created desc; other sorts ascending."""
    details = [p.detail for p in emu.project(REPO).pulls()]
    open_numbers = sorted((d["number"] for d in details if d["state"] == "open"), reverse=True)
    default = get(f"{emu.base_url}/repos/{REPO}/pulls?per_page=100").json()
    assert [item["number"] for item in default] == open_numbers
    updated = get(f"{emu.base_url}/repos/{REPO}/pulls?state=all&sort=updated&per_page=100").json()
    stamps = [item["updated_at"] for item in updated]
    assert stamps == sorted(stamps)
    closed = get(f"{emu.base_url}/repos/{REPO}/pulls?state=closed&direction=asc&per_page=100").json()
    assert {item["state"] for item in closed} == {"closed"}
    assert [item["number"] for item in closed] == sorted(item["number"] for item in closed)


def test_list_items_lack_detail_only_keys(emu: Emulator) -> None:
    """Items of GET /pulls have every detail key except the 12 detail-only ones."""
    item = get(f"{emu.base_url}/repos/{REPO}/pulls?state=all").json()[0]
    detail = get(f"{emu.base_url}/repos/{REPO}/pulls/{item['number']}").json()
    assert set(item) == set(detail) - set(DETAIL_ONLY_KEYS)
    assert set(DETAIL_ONLY_KEYS) <= set(detail)


def test_not_found_body(emu: Emulator) -> None:
    """Unknown routes and repositories answer GitHub's 404 body."""
    expected = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}
    for path in ("/nope", "/repos/ghseed/missing", f"/repos/{REPO}/pulls/1/labels"):
        response = get(f"{emu.base_url}{path}")
        assert (response.status_code, response.json()) == (404, expected)


def test_enterprise_prefix_rewrites_urls(emu: Emulator) -> None:
    """Under /api/v3 the body URLs and Link URLs use the /api/v3 prefix on the emulator's host."""
    response = get(f"{emu.enterprise_url}/repos/{REPO}/pulls?state=all&per_page=2")
    assert response.headers["Link"].startswith(f"<{emu.enterprise_url}/repositories/")
    assert response.json()[0]["url"].startswith(f"{emu.enterprise_url}/repos/{REPO}/pulls/")
    assert "api.github.com" not in response.text


def test_rate_limit_and_user_endpoints(emu: Emulator) -> None:
    """GET /rate_limit is free and reports the caller's budget; GET /user needs a token."""
    first = get(f"{emu.base_url}/rate_limit", token="tok-c").json()
    again = get(f"{emu.base_url}/rate_limit", token="tok-c").json()
    assert first["resources"]["core"]["remaining"] == again["rate"]["remaining"]
    assert {"core", "search", "graphql"} <= set(first["resources"])
    assert get(f"{emu.base_url}/user", token="tok-c").json()["login"] == "bob"
    assert get(f"{emu.base_url}/user", token=None).status_code == 401


# -- primary limits -------------------------------------------------------------------------------


def test_tokens_of_one_user_share_a_budget() -> None:
    """tok-a and tok-b (both alice) spend one budget; bob's token is unaffected."""
    with start(small_config(primary_limit=4, violation_grace_seconds=0.0)) as emu:
        url = f"{emu.base_url}/repos/{REPO}"
        assert [get(url, token=t).status_code for t in ("tok-a", "tok-a", "tok-b", "tok-b")] == [200] * 4
        refused = get(url, token="tok-b")
        assert refused.status_code == 403
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert refused.json()["message"].startswith("API rate limit exceeded for user ID ")
        assert get(url, token="tok-c").status_code == 200
        assert emu.stats.violations == 1


def test_unauthenticated_limit_and_window_reset() -> None:
    """Unauthenticated callers get the small per-IP budget, renewed when the window ends."""
    with start(small_config(unauthenticated_limit=3, window_seconds=0.5)) as emu:
        url = f"{emu.base_url}/repos/{REPO}"
        statuses = [get(url, token=None).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 403]
        assert get(url, token=None).headers["X-RateLimit-Limit"] == "3"
        time.sleep(0.6)
        assert get(url, token=None).status_code == 200


def test_primary_status_429_switch() -> None:
    """primary_status=429 answers an exhausted budget with 429 and the reset header."""
    with start(small_config(primary_limit=1, primary_status=429)) as emu:
        url = f"{emu.base_url}/repos/{REPO}"
        assert get(url).status_code == 200
        refused = get(url)
        assert refused.status_code == 429
        assert int(refused.headers["X-RateLimit-Reset"]) >= time.time()
        assert refused.json()["status"] == "429"
        assert emu.stats.too_many == 1


def test_not_modified_and_rate_limit_cost_nothing() -> None:
    """A 304 and GET /rate_limit leave X-RateLimit-Used unchanged."""
    with start(small_config()) as emu:
        url = f"{emu.base_url}/repos/{REPO}/pulls/2/commits"
        etag = get(url).headers["ETag"]
        revalidated = get(url, **{"If-None-Match": etag})
        assert (revalidated.status_code, revalidated.content) == (304, b"")
        assert revalidated.headers["X-RateLimit-Used"] == "1"
        assert get(f"{emu.base_url}/rate_limit").headers["X-RateLimit-Used"] == "1"
        assert emu.stats.not_modified == 1


# -- secondary limits -----------------------------------------------------------------------------


def test_secondary_limit_by_concurrency() -> None:
    """More in-flight requests of one user than allowed trigger a secondary limit, not violations."""
    config = small_config(secondary_max_concurrent=2, latency_seconds=0.2, secondary_block_seconds=0.1)
    with start(config) as emu, ThreadPoolExecutor(6) as pool:
        url = f"{emu.base_url}/repos/{REPO}"
        statuses = list(pool.map(lambda _: get(url).status_code, range(6)))
        assert statuses.count(403) >= 1
        assert emu.stats.secondary_hits >= 1
        assert emu.stats.max_concurrency_by_user["alice"] >= 3
        # All six were sent before any refusal went out: refused, yet not violations.
        assert emu.stats.violations == 0


def test_secondary_limit_by_rate() -> None:
    """More requests than allowed within the window trigger a secondary limit with Retry-After."""
    config = small_config(secondary_max_requests=3, secondary_window_seconds=5.0, secondary_block_seconds=2.0)
    with start(config) as emu:
        url = f"{emu.base_url}/repos/{REPO}"
        assert [get(url).status_code for _ in range(3)] == [200] * 3
        refused = get(url)
        assert refused.status_code == 403
        assert refused.headers["Retry-After"] == "2"
        assert refused.json()["message"].startswith("You have exceeded a secondary rate limit")
        assert get(url, token="tok-c").status_code == 200


@pytest.mark.parametrize("variant", ["retry-after", "reset", "none"])
def test_injected_secondary_variants(variant: str) -> None:
    """Each injected variant has its own hints, costs no quota, and blocks the user briefly."""
    with start(small_config(secondary_block_seconds=0.3, secondary_status=429)) as emu:
        url = f"{emu.base_url}/repos/{REPO}"
        assert get(url).status_code == 200
        emu.inject_secondary(count=1, user="alice", variant=variant)  # type: ignore[arg-type]
        refused = get(url, token="tok-b")
        assert refused.status_code == 429
        assert refused.headers["X-RateLimit-Used"] == "1"
        assert refused.headers["X-RateLimit-Remaining"] != "0"
        assert ("Retry-After" in refused.headers) == (variant == "retry-after")
        if variant == "reset":
            assert int(refused.headers["X-RateLimit-Reset"]) <= time.time() + 2
        assert get(url, token="tok-c").status_code == 200
        time.sleep(0.35)
        assert get(url).status_code == 200
        assert (emu.stats.secondary_hits, emu.stats.violations) == (1, 0)


def test_violations_counted_during_block() -> None:
    """Requests during a secondary block are refused again and counted as violations."""
    with start(small_config(secondary_block_seconds=0.3, violation_grace_seconds=0.0)) as emu:
        url = f"{emu.base_url}/repos/{REPO}"
        emu.inject_secondary(count=1, user="alice", abuse_message=True)
        first = get(url)
        assert first.json()["message"].startswith("You have triggered an abuse detection mechanism")
        assert [get(url, token=t).status_code for t in ("tok-a", "tok-b")] == [403, 403]
        stats = emu.stats
        assert (stats.secondary_hits, stats.violations, stats.forbidden) == (1, 2, 3)
        time.sleep(0.35)
        assert get(url).status_code == 200


def test_injected_count_spans_requests() -> None:
    """inject_secondary(count=2) refuses the next two admitted requests, each after the block ends."""
    with start(small_config(secondary_block_seconds=0.0)) as emu:
        url = f"{emu.base_url}/repos/{REPO}"
        emu.inject_secondary(count=2, user="alice", variant="none")
        assert [get(url).status_code for _ in range(3)] == [403, 403, 200]
        assert emu.stats.secondary_hits == 2


# -- faults, latency, tokens ----------------------------------------------------------------------


def test_fault_rate_roughly_honoured() -> None:
    """About fault_5xx_rate of requests answer 502/503 and they cost no quota."""
    with start(small_config(fault_5xx_rate=0.3, fault_seed=3)) as emu, requests.Session() as session:
        session.headers["Authorization"] = "token tok-a"
        statuses = [session.get(f"{emu.base_url}/repos/{REPO}").status_code for _ in range(200)]
        faults = sum(status in (502, 503) for status in statuses)
        assert 40 <= faults <= 80
        assert set(statuses) <= {200, 502, 503}
        emu.set_faults(fault_5xx_rate=0.0)
        last = session.get(f"{emu.base_url}/repos/{REPO}")
        assert last.headers["X-RateLimit-Used"] == str(200 - faults + 1)


def test_latency_applied() -> None:
    """latency_seconds delays each answer; set_faults changes it at runtime."""
    with start(small_config(latency_seconds=0.15)) as emu:
        began = time.monotonic()
        get(f"{emu.base_url}/repos/{REPO}")
        assert time.monotonic() - began >= 0.15
        emu.set_faults(latency_seconds=0.0)
        began = time.monotonic()
        get(f"{emu.base_url}/repos/{REPO}")
        assert time.monotonic() - began < 0.15


def test_revoke_and_add_token_mid_run() -> None:
    """A revoked token gets 401 Bad credentials from then on; an added token works at once."""
    with start(small_config()) as emu:
        url = f"{emu.base_url}/repos/{REPO}"
        assert get(url).status_code == 200
        emu.revoke_token("tok-a")
        refused = get(url)
        assert refused.status_code == 401
        assert refused.json() == {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        }
        emu.add_token("tok-d", "carol")
        assert get(url, token="tok-d").status_code == 200
        assert get(f"{emu.base_url}/user", token="tok-d").json()["login"] == "carol"


def test_bearer_scheme_accepted(emu: Emulator) -> None:
    """Authorization: Bearer works like token."""
    response = requests.get(f"{emu.base_url}/user", headers={"Authorization": "Bearer tok-c"}, timeout=10)
    assert response.json()["login"] == "bob"


def test_stats_count_duplicate_fetches() -> None:
    """Fetching one resource twice shows in fetch_counts and duplicate_fetches; /user does not."""
    with start(small_config()) as emu:
        for _ in range(2):
            get(f"{emu.base_url}/repos/{REPO}/pulls/1/files")
            get(f"{emu.enterprise_url}/user")
        get(f"{emu.base_url}/repos/{REPO}/pulls/2")
        stats = emu.stats
        assert stats.duplicate_fetches == 1
        assert stats.fetch_counts[f"/repos/{REPO}/pulls/1/files"] == 2
        assert stats.requests_by_token == {"tok-a": 5}
        assert stats.requests_by_path(f"/repos/{REPO}/pulls/1") == 2
        emu.reset_stats()
        assert emu.stats.total_requests == 0


# -- data -----------------------------------------------------------------------------------------


def test_same_seed_gives_identical_json() -> None:
    """Two projects from one spec serialize byte-identically; another seed differs."""

    def dump(project: Project) -> str:
        return json.dumps([project.repo, [vars(p) for p in project.pulls()]], sort_keys=True)

    spec = ProjectSpec(REPO, n_prs=25, seed=5)
    assert dump(SyntheticProject(spec)) == dump(SyntheticProject(spec))
    assert dump(SyntheticProject(spec)) != dump(SyntheticProject(ProjectSpec(REPO, n_prs=25, seed=6)))


def test_data_invariants(project: SyntheticProject) -> None:
    """Reviewers are not authors, time runs forward, shas are 40 hex and counts match the lists."""
    for pull in project.pulls():
        detail = pull.detail
        author = detail["user"]["login"]
        assert all(r["user"] is None or r["user"]["login"] != author for r in pull.reviews)
        created = when(detail["created_at"])
        activity = [when(c["commit"]["committer"]["date"]) for c in pull.commits]
        assert all(created <= moment for moment in activity)
        later = [when(r["submitted_at"]) for r in pull.reviews if "submitted_at" in r]
        later += [when(c["created_at"]) for c in pull.review_comments + pull.issue_comments]
        assert all(moment >= max(activity) for moment in later)
        if detail["closed_at"]:
            assert all(moment <= when(detail["closed_at"]) for moment in activity + later)
        closed = [when(detail["closed_at"])] if detail["closed_at"] else []
        assert when(detail["updated_at"]) == max(
            [*activity, *closed, *[when(c["updated_at"]) for c in pull.review_comments + pull.issue_comments]]
            + [when(r["submitted_at"]) for r in pull.reviews if "submitted_at" in r]
        )
        assert all(SHA.match(c["sha"]) for c in pull.commits)
        assert detail["head"]["sha"] == pull.commits[-1]["sha"]
        assert detail["commits"] == len(pull.commits)
        assert detail["changed_files"] == len(pull.files)
        assert detail["additions"] == sum(f["additions"] for f in pull.files)
        assert detail["deletions"] == sum(f["deletions"] for f in pull.files)
        assert detail["comments"] == len(pull.issue_comments)
        assert detail["review_comments"] == len(pull.review_comments)
        assert detail["merged"] == (detail["merged_at"] is not None)
        ids = {c["id"] for c in pull.review_comments}
        assert all(c["in_reply_to_id"] in ids for c in pull.review_comments if "in_reply_to_id" in c)


def test_data_has_a_realistic_mix(project: SyntheticProject) -> None:
    """States, bots, deleted users, binary files, renames, pending reviews and extremes all occur."""
    pulls = project.pulls()
    details = [p.detail for p in pulls]
    merged = sum(d["merged"] for d in details)
    assert 0.5 <= merged / len(details) <= 0.9
    assert any(d["state"] == "open" for d in details)
    assert any(d["state"] == "closed" and not d["merged"] for d in details)
    assert any(d["user"]["type"] == "Bot" and d["user"]["login"].endswith("[bot]") for d in details)
    assert any(c["author"] is None for p in pulls for c in p.commits)
    assert any(r["user"] is None for p in pulls for r in p.reviews + p.issue_comments + p.review_comments)
    files = [f for p in pulls for f in p.files if len(p.files) < 1000]
    assert any("patch" not in f for f in files)
    assert any(f["status"] == "renamed" and "previous_filename" in f for f in files)
    assert any(r["state"] == "PENDING" and "submitted_at" not in r for p in pulls for r in p.reviews)
    assert sum(not p.review_comments for p in pulls) / len(pulls) >= 0.25
    assert sum(not p.issue_comments for p in pulls) / len(pulls) >= 0.25
    assert sum(not p.reviews for p in pulls) >= 1
    by_number = {p.number: p for p in pulls}
    assert len(by_number[3].reviews) > 100
    assert len(by_number[3].issue_comments) > 100
    assert [len(by_number[n].commits) for n in (7, 11)] == [120, 300]
    assert len(by_number[13].files) == 3100
    quiet = by_number[17]
    assert quiet.reviews == []
    assert quiet.review_comments == []
    assert quiet.issue_comments == []


def test_truth_uses_api_visible_lists(project: SyntheticProject) -> None:
    """Truth caps commits at 250 and files at 3000 and sets the truncated flags."""
    truth = {pr.number: pr for pr in project.truth()}
    assert (len(truth[11].commits), truth[11].commits_truncated, truth[11].commits_count) == (250, True, 300)
    assert (len(truth[13].files), truth[13].files_truncated, truth[13].changed_files) == (3000, True, 3100)
    assert not truth[7].commits_truncated
    assert list(truth) == sorted(truth)


def test_update_pull_changes_the_detail_etag_only() -> None:
    """update_pull changes the detail and its ETag, bumps updated_at; unchanged lists keep their ETags (304)."""
    with start(small_config()) as emu:
        detail_url = f"{emu.base_url}/repos/{REPO}/pulls/2"
        reviews_url = f"{detail_url}/reviews"
        before = get(detail_url)
        reviews_etag = get(reviews_url).headers["ETag"]
        emu.project(REPO).update_pull(2, title="new title")
        after = get(detail_url, **{"If-None-Match": before.headers["ETag"]})
        assert after.status_code == 200
        assert after.json()["title"] == "new title"
        assert when(after.json()["updated_at"]).timestamp() >= time.time() - 5
        assert get(reviews_url, **{"If-None-Match": reviews_etag}).status_code == 304
        assert emu.truth(REPO)[1].title == "new title"


def test_add_pull_appears() -> None:
    """add_pull creates the next-numbered open pull, listed first under the default sort."""
    with start(small_config()) as emu:
        number = emu.project(REPO).add_pull(title="brand new")  # type: ignore[attr-defined]
        assert number == 7
        listed = get(f"{emu.base_url}/repos/{REPO}/pulls").json()
        assert (listed[0]["number"], listed[0]["title"], listed[0]["state"]) == (7, "brand new", "open")
        assert len(emu.truth(REPO)) == 7


def test_project_from_raw_is_served() -> None:
    """A project registered from raw recorded bodies is served like a synthetic one."""
    source = SyntheticProject(ProjectSpec("rec/orded", n_prs=3, seed=2, extremes=False))
    raw = [
        {"detail": p.detail, "reviews": p.reviews, "commits": p.commits, "files": p.files}
        for p in source.pulls()
    ]
    recorded = Project.from_raw(source.repo, raw)
    assert isinstance(recorded.pulls()[0], RawPull)
    with start(small_config()) as emu:
        emu.add_project(recorded)
        response = get(f"{emu.base_url}/repos/rec/orded/pulls/2/commits")
        assert len(response.json()) == len(source.pull(2).commits)  # type: ignore[union-attr]
        assert get(f"{emu.base_url}/repos/rec/orded/issues/2/comments").json() == []


def test_keys_match_the_real_samples(project: SyntheticProject) -> None:
    """Synthetic bodies have the keys of the recorded GitHub samples, in their current shapes."""
    pulls = project.pulls()
    user_extra = {"node_id", "user_view_type"}

    def user_keys(sample: dict[str, Any]) -> set[str]:
        return set(sample) | user_extra

    pull = load_sample("pull.json")
    detail = pulls[0].detail
    assert set(detail) == set(pull)
    assert set(detail["user"]) == set(pull["user"])
    assert set(detail["head"]) == set(pull["head"])
    assert set(detail["head"]["repo"]) == set(pull["head"]["repo"])
    assert set(detail["_links"]) == set(pull["_links"])
    listed = load_sample("pull-list.json")[0]
    assert set(listed) | {"draft", "auto_merge", "active_lock_reason"} == set(pull) - set(DETAIL_ONLY_KEYS)

    commit = load_sample("commits.json")[0]
    ours = pulls[0].commits[0]
    assert set(ours) == set(commit)
    assert set(ours["commit"]) == set(commit["commit"])
    assert set(ours["commit"]["verification"]) == set(commit["commit"]["verification"])

    file_keys = set(load_sample("files.json")[0]) | {"contents_url"}
    optional = {"patch", "previous_filename"}
    for entry in (f for p in pulls for f in p.files):
        assert file_keys - optional <= set(entry) <= file_keys | optional

    review = load_sample("reviews.json")[0]
    for item in (r for p in pulls for r in p.reviews):
        assert set(item) - {"submitted_at"} == (set(review) | {"node_id"}) - {"submitted_at"}
        assert item["user"] is None or set(item["user"]) == user_keys(review["user"])

    comment = load_sample("review-comments.json")[0]
    for item in (c for p in pulls for c in p.review_comments):
        assert set(item) - {"in_reply_to_id"} == set(comment)
        assert item["user"] is None or set(item["user"]) == user_keys(comment["user"])

    issue_keys = {
        "url", "html_url", "issue_url", "id", "node_id", "user", "created_at", "updated_at", "body",
        "author_association", "reactions", "performed_via_github_app",
    }  # fmt: skip
    for item in (c for p in pulls for c in p.issue_comments):
        assert set(item) == issue_keys
        assert set(item["reactions"]) == set(comment["reactions"])


def test_module_entry_point_serves_until_interrupted() -> None:
    """python -m pytest_ghseed.emulator prints its URL and tokens, serves, and exits 0 on Ctrl-C."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_ghseed.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            lines.append(process.stdout.readline())
        url = lines[0].split(" at ")[1].strip()
        assert get(f"{url}/repos/ghseed/demo", token="ghseed-demo-bob").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert any("ghseed-demo-alice-1" in line for line in lines)
    assert "Traceback" not in err


def test_requests_already_on_their_way_are_not_violations() -> None:
    """A request arriving within the grace after a refusal went out is refused but not counted."""
    with start(small_config(secondary_block_seconds=0.3, violation_grace_seconds=5.0)) as emu:
        url = f"{emu.base_url}/repos/{REPO}"
        emu.inject_secondary(count=1, user="alice")
        assert get(url).status_code == 403
        assert get(url).status_code == 403
        assert emu.stats.violations == 0
