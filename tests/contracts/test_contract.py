"""Every answer of the emulator and of ``ghseed serve`` satisfies GitHub's published OpenAPI description."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_ghseed.emulator import Emulator, Project
from pytest_ghseed.emulator.serve import serve_config
from pytest_ghseed.emulator.server import start
from tests.contracts.conftest import REPO, TOKEN, Served, random_token, small_emulator
from tests.contracts.contract import Contract
from tests.contracts.walk import Answer, Walker

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def contract() -> Contract:
    """The extract with its errata, shared by the module's tests."""
    return Contract()


def _assert_valid(contract: Contract, answers: list[Answer], record_property: Any, target: str) -> None:
    before = contract.total
    errors = [
        error for answer in answers for error in contract.errors(answer.path, answer.status, answer.body)
    ]
    count = contract.total - before
    record_property(f"contract:{target}", count)
    assert errors == [], f"{len(errors)} schema errors in {count} responses:\n" + "\n".join(errors[:30])
    assert count == len(answers)


def _statuses(answers: list[Answer]) -> set[int]:
    return {answer.status for answer in answers}


def _walk_everything(base_url: str, token: str | None) -> Walker:
    """Every endpoint, every page (3 per page), the list filters, and the error answers of each kind."""
    walker = Walker(base_url, token, per_page=3)
    walker.everything(REPO)
    base = f"/repos/{REPO}"
    pulls = json.loads(walker.get(f"{base}/pulls?state=all&per_page=100").body)
    head_label = pulls[0]["head"]["label"]
    for query in (
        "state=open",
        "state=closed&sort=updated&direction=desc",
        "state=all&sort=popularity",
        "state=all&sort=long-running&direction=asc",
        "state=all&base=main",
        "state=all&base=nonexistent",
        f"state=all&head={head_label}",
        "state=all&head=nobody:nothing",
    ):
        walker.items(f"{base}/pulls?{query}")
    walker.items(f"{base}/pulls/comments?sort=updated&direction=desc")
    walker.items(f"{base}/issues/comments?since=2024-01-01T00:00:00Z")
    # Conditional requests: the strong form of the weak ETag, and "*", both answer 304.
    detail = walker.get(f"{base}/pulls/{pulls[0]['number']}")
    weak = detail.headers["ETag"]
    walker.get(f"{base}/pulls/{pulls[0]['number']}", **{"If-None-Match": weak.removeprefix("W/")})
    walker.get(f"{base}/pulls?state=all", **{"If-None-Match": "*"})
    # Errors: not found (PR, repository, user, sub-list), validation, unsupported API version.
    for path in (
        f"{base}/pulls/99999",
        "/repos/nobody/nothing",
        "/users/no-such-user-here",
        f"{base}/issues/99999",
    ):
        walker.get(path)
    walker.get(f"{base}/pulls?state=bogus")
    walker.get(f"{base}/pulls/comments?sort=bogus")
    walker.get(f"{base}/pulls", **{"X-GitHub-Api-Version": "1999-01-01"})
    return walker


def test_every_emulator_answer_satisfies_the_description(
    emulator: Emulator, contract: Contract, record_property: Any
) -> None:
    """Lists, details, sub-lists, repository, root, rate limit, users, 304 and errors of the emulator: 0 errors."""
    walker = _walk_everything(emulator.base_url, TOKEN)
    Walker(emulator.base_url, random_token()).get("/user")  # 401 Bad credentials
    anonymous = Walker(emulator.base_url, None)
    anonymous.get("/user")  # 401 Requires authentication
    answers = walker.answers + anonymous.answers
    # Rate limits on throwaway emulators (a secondary limit blocks the account for a minute).
    for status in (403, 429):
        with small_emulator(n_prs=2, primary_limit=1, primary_status=status) as tiny:
            limited = Walker(tiny.base_url, TOKEN)
            limited.get(f"/repos/{REPO}")
            limited.get(f"/repos/{REPO}/pulls")  # over the primary limit
            answers += limited.answers
        with small_emulator(n_prs=2, secondary_status=status) as tiny:
            tiny.inject_secondary(1, user="alice")
            answers.append(Walker(tiny.base_url, TOKEN).get(f"/repos/{REPO}"))
    assert {200, 304, 400, 401, 403, 404, 422, 429} <= _statuses(answers)
    _assert_valid(contract, answers, record_property, "emulator")


def test_every_served_answer_satisfies_the_description(
    served: Served, contract: Contract, record_property: Any
) -> None:
    """The same walk against ``ghseed serve`` of a recording, with a random token: 0 errors."""
    walker = _walk_everything(served.server.base_url, random_token())
    anonymous = Walker(served.server.base_url, None)
    anonymous.get("/user")  # 401: serve has no account for an anonymous client
    anonymous.get(f"/repos/{REPO}")
    answers = walker.answers + anonymous.answers
    assert {200, 304, 400, 401, 404, 422} <= _statuses(answers)
    _assert_valid(contract, answers, record_property, "serve")


def _strip_new_fields(node: Any) -> Any:
    """A body as an older recording has it: without the fields GitHub (or we) added since."""
    if isinstance(node, dict):
        return {
            key: _strip_new_fields(value)
            for key, value in node.items()
            if key not in ("network_count", "subscribers_count", "archived_at", "archived_by")
        }
    if isinstance(node, list):
        return [_strip_new_fields(item) for item in node]
    return node


@pytest.fixture(scope="module")
def old_recording(served: Served) -> Iterator[Emulator]:
    """The recording of the module, stripped of the newer fields, served as ``ghseed serve`` would."""
    from pytest_ghseed.cache.rebuild import raw_from_cassettes

    raw = raw_from_cassettes(served.store)
    project = Project.from_raw(_strip_new_fields(raw.repo), _strip_new_fields(raw.pulls))
    with start(serve_config(project)) as server:
        yield server


def test_a_recording_older_than_the_fields_still_serves_valid_answers(
    old_recording: Emulator, contract: Contract, record_property: Any
) -> None:
    """A recording without network_count, subscribers_count and the labels' archived_* is completed."""
    walker = Walker(old_recording.base_url, random_token(), per_page=100)
    walker.get(f"/repos/{REPO}")
    for pull in walker.items(f"/repos/{REPO}/pulls?state=all"):
        walker.get(f"/repos/{REPO}/pulls/{pull['number']}")
        walker.get(f"/repos/{REPO}/issues/{pull['number']}")
    repository = json.loads(walker.answers[0].body)
    assert repository["network_count"] == repository["forks_count"]
    assert repository["subscribers_count"] == 0
    _assert_valid(contract, walker.answers, record_property, "old-recording")
