"""The emulator's GraphQL API over HTTP: GitHub's types and answers, from the same data as REST."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from github import Auth, Github
from graphql import GraphQLNamedType, get_named_type, is_abstract_type, is_leaf_type

from pytest_ghseed.defaults import COMMITS_CAP, FILES_CAP
from pytest_ghseed.emulator import Emulator, start
from pytest_ghseed.emulator.graphql.schema import github_schema
from pytest_ghseed.fetch.graphql_crawl import crawl_pulls
from pytest_ghseed.graphql.queries import PageSizes
from pytest_ghseed.models import Commit, PullRequest, Repository
from tests.helpers import EMULATOR_REPO as REPO
from tests.helpers import data, post, small_config

OWNER, NAME = REPO.split("/")


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """20 pull requests with the extremes: 105 reviews, 300 commits, 3,100 files, a quiet one."""
    with start(small_config(n_prs=20, extremes=True)) as emulator:
        yield emulator


def pygithub_post(emu: Emulator, token: str = "tok-a", base_url: str | None = None) -> Any:
    """A crawl transport over PyGithub's own GraphQL call (``Requester.graphql_query``)."""
    # PyGithub paces writes (POST) 1 s apart and other requests 0.25 s by default: not needed here.
    client = Github(
        auth=Auth.Token(token),
        base_url=base_url or emu.base_url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    requester = client.requester

    def send(query: str, variables: Mapping[str, Any]) -> Mapping[str, Any]:
        headers, body = requester.graphql_query(query, dict(variables))
        assert headers["x-ratelimit-resource"] == "graphql"
        return body["data"]  # type: ignore[no-any-return]

    return send


def without_rest_only_fields(pr: PullRequest) -> PullRequest:
    """The PR without what only REST has: file patches and previous filenames."""
    files = tuple(dataclasses.replace(f, patch=None, previous_filename=None) for f in pr.files)
    return dataclasses.replace(pr, files=files)


def test_graphql_crawl_through_pygithub_equals_the_rest_truth(emu: Emulator) -> None:
    """Every PR fetched over GraphQL (PyGithub, HTTP) equals the REST truth field by field, patches aside."""
    result = crawl_pulls(
        pygithub_post(emu), OWNER, NAME, PageSizes(pulls=8, threads=1), commits_cap=COMMITS_CAP
    )
    truth = emu.truth(REPO)
    assert [pr.number for pr in result.prs] == [pr.number for pr in truth]
    for got, want in zip(result.prs, truth, strict=True):
        assert got == without_rest_only_fields(want), got.number
    assert result.repository == Repository.from_github(emu.project(REPO).repo)
    assert all(f.patch is None and f.previous_filename is None for pr in result.prs for f in pr.files)


def test_graphql_pages_every_commit_where_rest_stops_at_250(emu: Emulator) -> None:
    """Without a cap the 300-commit PR has all 300 commits; REST's truth has the first 250 and the flag."""
    result = crawl_pulls(pygithub_post(emu, "tok-c"), OWNER, NAME)
    pr = next(pr for pr in result.prs if pr.number == 11)
    raw = emu.project(REPO).pull(11)
    assert raw is not None
    assert pr.commits == tuple(Commit.from_github(c) for c in raw.commits)
    assert len(pr.commits) == pr.commits_count == 300 and not pr.commits_truncated
    truth = next(t for t in emu.truth(REPO) if t.number == 11)
    assert pr.commits[:COMMITS_CAP] == truth.commits and truth.commits_truncated


def test_files_stop_at_3000_as_on_github(emu: Emulator) -> None:
    """GraphQL's files, like REST's, stop at 3,000 (totalCount too); changedFiles keeps the true count."""
    query = "query($o:String!,$n:String!){repository(owner:$o,name:$n){pullRequest(number:13){changedFiles files(first:1){totalCount}}}}"
    pull = data(post(emu, query, {"o": OWNER, "n": NAME}))["repository"]["pullRequest"]
    assert pull == {"changedFiles": 3100, "files": {"totalCount": FILES_CAP}}


def test_enterprise_path_answers_pygithubs_graphql_url(emu: Emulator) -> None:
    """PyGithub with an Enterprise base URL (/api/v3) posts to /api/graphql, which answers."""
    requester = Github(
        auth=Auth.Token("tok-b"), base_url=emu.enterprise_url, retry=None, seconds_between_writes=None
    ).requester
    assert requester.graphql_url == f"{emu.base_url}/api/graphql"
    headers, body = requester.graphql_query("query { viewer { login } }", {})
    assert body == {"data": {"viewer": {"login": "alice"}}}
    assert headers["x-ratelimit-resource"] == "graphql"


def test_bot_logins_lose_their_suffix_and_big_ids_need_full_database_id() -> None:
    """A Bot's login has no [bot]; a 32-bit databaseId past 2**31 is null with an error, fullDatabaseId a string."""
    with start(small_config(n_prs=30)) as emu:
        bot_pr = next(pr for pr in emu.truth(REPO) if pr.user is not None and pr.user.is_bot)
        reviewed = next(pr for pr in emu.truth(REPO) if pr.reviews)
        query = (
            "query($o:String!,$n:String!,$b:Int!,$r:Int!){repository(owner:$o,name:$n){"
            "bot: pullRequest(number:$b){author{__typename login ...on Bot{databaseId}}}"
            "reviewed: pullRequest(number:$r){reviews(first:1){nodes{databaseId fullDatabaseId}}}}}"
        )
        answer = post(emu, query, {"o": OWNER, "n": NAME, "b": bot_pr.number, "r": reviewed.number}).json()
    assert bot_pr.user is not None and bot_pr.user.login.endswith("[bot]")
    author = answer["data"]["repository"]["bot"]["author"]
    assert author == {
        "__typename": "Bot",
        "login": bot_pr.user.login.removesuffix("[bot]"),
        "databaseId": bot_pr.user.id,
    }
    review = answer["data"]["repository"]["reviewed"]["reviews"]["nodes"][0]
    assert review == {"databaseId": None, "fullDatabaseId": str(reviewed.reviews[0].id)}
    assert reviewed.reviews[0].id > 2**31
    [error] = answer["errors"]
    assert error["path"] == ["repository", "reviewed", "reviews", "nodes", 0, "databaseId"]
    assert (
        error["message"] == f"Int cannot represent non 32-bit signed integer value: {reviewed.reviews[0].id}"
    )


def test_unknown_pull_request_is_a_partial_error_beside_the_data(emu: Emulator) -> None:
    """A PR number GitHub does not know: null with a NOT_FOUND error, the rest of the data intact."""
    query = 'query { repository(owner: "ghseed", name: "demo") { nameWithOwner pullRequest(number: 999) { title } } }'
    body = post(emu, query).json()
    assert body["data"] == {"repository": {"nameWithOwner": REPO, "pullRequest": None}}
    assert body["errors"] == [
        {
            "type": "NOT_FOUND",
            "path": ["repository", "pullRequest"],
            "locations": [{"line": 1, "column": query.index("pullRequest") + 1}],
            "message": "Could not resolve to a PullRequest with the number of 999.",
        }
    ]


def test_unknown_repository_is_not_found(emu: Emulator) -> None:
    """An unknown repository answers GitHub's NOT_FOUND error and a null repository."""
    body = post(emu, 'query { repository(owner: "nobody", name: "nothing") { id } }').json()
    assert body["data"] == {"repository": None}
    assert body["errors"][0]["type"] == "NOT_FOUND"
    assert body["errors"][0]["message"] == "Could not resolve to a Repository with the name 'nobody/nothing'."


@pytest.mark.parametrize(
    ("arguments", "kind", "message"),
    [
        (
            "",
            "MISSING_PAGINATION_BOUNDARIES",
            "You must provide a `first` or `last` value to properly paginate the `commits` connection.",
        ),
        (
            "first: 101",
            "EXCESSIVE_PAGINATION",
            "Requesting 101 records on the `commits` connection exceeds the `first` limit of 100 records.",
        ),
        (
            "last: 250",
            "EXCESSIVE_PAGINATION",
            "Requesting 250 records on the `commits` connection exceeds the `last` limit of 100 records.",
        ),
        ("first: -1", "INVALID_PAGINATION", "`first` on the `commits` connection cannot be less than zero."),
        (
            'first: 1, after: "bm90IG91cnM="',
            "INVALID_CURSOR_ARGUMENTS",
            "`bm90IG91cnM=` does not appear to be a valid cursor.",
        ),
    ],
)
def test_paging_errors_as_github_words_them(emu: Emulator, arguments: str, kind: str, message: str) -> None:
    """first/last missing, over 100, negative, or a foreign cursor: GitHub's error, the parent null."""
    selection = f"commits({arguments})" if arguments else "commits"
    query = f'query {{ repository(owner: "ghseed", name: "demo") {{ pullRequest(number: 1) {{ {selection} {{ nodes {{ url }} }} }} }} }}'
    body = post(emu, query).json()
    [error] = body["errors"]
    assert (error["type"], error["message"]) == (kind, message)
    assert error["path"] == ["repository", "pullRequest", "commits"]
    # commits is non-null (PullRequestCommitConnection!), so the null goes up to the pull request.
    assert body["data"] == {"repository": {"pullRequest": None}}


def test_total_count_alone_needs_no_first(emu: Emulator) -> None:
    """A connection asked only for its totalCount needs no first or last (as on GitHub)."""
    query = 'query { repository(owner: "ghseed", name: "demo") { pullRequests { totalCount } } }'
    assert data(post(emu, query)) == {"repository": {"pullRequests": {"totalCount": 20}}}


def test_validation_errors_use_githubs_wording_and_cost_nothing(emu: Emulator) -> None:
    """An unknown field or argument is refused with graphql-ruby's (GitHub's) messages, and not charged."""
    before = post(emu, "query { viewer { login } }", token="tok-c").headers
    body = post(emu, "query { viewer { login nope } rateLimit(dryRun: true) { cost } }", token="tok-c").json()
    after = post(emu, "query { viewer { login } }", token="tok-c").headers
    messages = [(e["message"], e["extensions"]["code"]) for e in body["errors"]]
    assert messages == [
        ("Field 'nope' doesn't exist on type 'User'", "undefinedField"),
        ("Field 'rateLimit' doesn't accept argument 'dryRun'", "argumentNotAccepted"),
    ]
    assert "data" not in body
    assert int(after["x-ratelimit-used"]) == int(before["x-ratelimit-used"]) + 1


def test_requests_gitHub_refuses_before_reading_the_query(emu: Emulator) -> None:
    """No token, a bad token, a body that is not JSON, no query: GitHub's 401, 401, 400 and error."""
    assert post(emu, "{ viewer { login } }", token=None).json()["message"] == (
        "This endpoint requires you to be authenticated."
    )
    bad = post(emu, "{ viewer { login } }", token="nope")
    assert (bad.status_code, bad.json()["message"]) == (401, "Bad credentials")
    import requests

    garbled = requests.post(
        emu.base_url + "/graphql", data=b"{not json", headers={"Authorization": "bearer tok-a"}, timeout=10
    )
    assert (garbled.status_code, garbled.json()["message"]) == (400, "Problems parsing JSON")
    empty = post(emu, "")
    assert empty.json() == {
        "errors": [{"message": "A query attribute must be specified and must be a string."}]
    }


def test_pull_requests_filter_order_and_page_both_ways(emu: Emulator) -> None:
    """states, labels and orderBy select as GitHub does; cursors page forward and backward over the same list."""
    truth = emu.truth(REPO)
    query = (
        'query($after:String,$before:String,$first:Int,$last:Int){repository(owner:"ghseed",name:"demo"){'
        "pullRequests(first:$first,last:$last,after:$after,before:$before,states:[OPEN],"
        "orderBy:{field:CREATED_AT,direction:DESC}){totalCount pageInfo{hasNextPage hasPreviousPage startCursor endCursor} nodes{number}}}}"
    )
    open_newest_first = [
        pr.number for pr in sorted(truth, key=lambda p: p.created_at, reverse=True) if pr.state == "open"
    ]
    forward: list[int] = []
    after = None
    while True:
        page = data(post(emu, query, {"first": 2, "after": after}))["repository"]["pullRequests"]
        forward += [node["number"] for node in page["nodes"]]
        assert page["totalCount"] == len(open_newest_first)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert forward == open_newest_first
    last = data(post(emu, query, {"last": 2}))["repository"]["pullRequests"]
    assert [n["number"] for n in last["nodes"]] == open_newest_first[-2:]
    before = data(post(emu, query, {"last": 1, "before": last["pageInfo"]["startCursor"]}))
    assert [n["number"] for n in before["repository"]["pullRequests"]["nodes"]] == open_newest_first[-3:-2]

    labelled = (
        'query{repository(owner:"ghseed",name:"demo"){pullRequests(first:100,labels:["bug"]){nodes{number}}}}'
    )
    numbers = [n["number"] for n in data(post(emu, labelled))["repository"]["pullRequests"]["nodes"]]
    assert numbers == [pr.number for pr in truth if "bug" in pr.labels]


def _select_all(type_: GraphQLNamedType, expanded: set[str]) -> str:
    """A selection of every field of ``type_``; a type met again gets ``__typename`` only."""
    schema = github_schema()
    expanded.add(type_.name)
    if is_abstract_type(type_):
        members = schema.get_possible_types(type_)  # type: ignore[arg-type]
        parts = [f"... on {t.name} {_select_all(t, expanded)}" for t in members if t.name not in expanded]
        return "{ __typename " + " ".join(parts) + " }"
    parts = ["__typename"]
    for name, field in type_.fields.items():  # type: ignore[attr-defined]
        target = get_named_type(field.type)
        arguments = {"number": 3, "owner": '"ghseed"', "name": '"demo"', "first": 3}
        args = ", ".join(f"{a}: {arguments[a]}" for a in field.args if a in arguments)
        head = f"{name}({args})" if args else name
        if is_leaf_type(target):
            parts.append(head)
        else:
            inner = "{ __typename }" if target.name in expanded else _select_all(target, expanded)
            parts.append(f"{head} {inner}")
    return "{ " + " ".join(parts) + " }"


def test_every_field_of_the_extract_is_answered(emu: Emulator) -> None:
    """A query asking every type's every field succeeds: no field of the schema lacks a resolver."""
    query = "query " + _select_all(github_schema().query_type, set())
    body = post(emu, query).json()
    # PRs 1 to 3 (the crowded one) are asked in full; #3 again by number.
    assert body["data"]["repository"]["pullRequests"]["totalCount"] == 20
    assert body["data"]["repository"]["pullRequest"] == {"__typename": "PullRequest"}
    # The only errors are GitHub's own: 32-bit databaseIds of ids past 2**31.
    assert body.get("errors")
    assert {e["path"][-1] for e in body["errors"]} == {"databaseId"}
    assert body["data"]["viewer"] == {"__typename": "User"}
    assert body["data"]["rateLimit"]["limit"] == 5000
