"""The GraphQL crawl's documents and conversions: valid for GitHub's schema, priced as planned, REST's models."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import get_operation_ast, parse, validate

from pytest_ghseed.emulator.graphql.cost import analyze
from pytest_ghseed.emulator.graphql.schema import github_schema
from pytest_ghseed.graphql import queries as q
from pytest_ghseed.graphql.convert import (
    PullAssembly,
    commit_from_graphql,
    file_from_graphql,
    pull_request_from_graphql,
    user_from_graphql,
)
from pytest_ghseed.models import User
from tests.helpers import full_published_schema

SMALLEST = q.PageSizes(**dict.fromkeys(q.PageSizes.__dataclass_fields__, 1))
LARGEST = q.PageSizes(**dict.fromkeys(q.PageSizes.__dataclass_fields__, 100))
CURSOR = "Y3Vyc29yOnYyOlswXQ=="


def every_overflow() -> list[q.Overflow]:
    """One overflow page of every kind and direction the module can ask for."""
    items: list[q.Overflow] = []
    for kind in q.LEAVES:
        items.append(q.Overflow(7, kind, after=CURSOR, first=100))  # type: ignore[arg-type]
        items.append(q.Overflow(7, kind, after=CURSOR, first=40, before=CURSOR))  # type: ignore[arg-type]
        items.append(q.Overflow(7, kind, last=100))  # type: ignore[arg-type]
        items.append(q.Overflow(7, kind, before=CURSOR, last=3))  # type: ignore[arg-type]
    items.append(q.Overflow(7, "reviewThreads", after=CURSOR, first=9))
    items.append(q.Overflow(7, "threadComments", after=CURSOR, first=100))
    items.append(q.Overflow(7, "threadComments", after=CURSOR, first=5, thread_after=CURSOR, thread_index=2))
    return items


def every_document() -> list[str]:
    """Every document the query module can build, over the range of its parameters."""
    documents = [q.repository_query(), q.rate_limit_query()]
    for direction in ("ASC", "DESC"):
        for page in (1, 100):
            documents.append(q.pull_list_query(page, direction))  # type: ignore[arg-type]
        for sizes in (q.DEFAULT_SIZES, SMALLEST, LARGEST):
            documents.append(q.pull_page_query(sizes, direction))  # type: ignore[arg-type]
    for sizes in (q.DEFAULT_SIZES, SMALLEST, LARGEST):
        documents.append(q.pulls_by_number_query([1], sizes))
        documents.append(q.pulls_by_number_query([1, 20, 300], sizes))
    items = every_overflow()
    documents += [q.overflow_query([item]) for item in items]
    documents.append(q.overflow_query(items, LARGEST))
    # The fetcher's own: the plan (every order, direction and state filter) and its batches.
    for order in ("CREATED_AT", "UPDATED_AT"):
        for direction in ("ASC", "DESC"):
            for states in ((), ("OPEN",), ("CLOSED", "MERGED")):
                documents.append(q.plan_query(100, order=order, direction=direction, states=states))  # type: ignore[arg-type]
    for sizes in (q.DEFAULT_SIZES, SMALLEST, LARGEST):
        for leaves in (q.LEAVES, q.LEAVES_WITHOUT_FILES):
            documents.append(q.batch_query(every_first_page(sizes, leaves), items, sizes))
            documents.append(q.batch_query(every_first_page(sizes, leaves), (), sizes))
    documents.append(q.batch_query((), items))
    return documents


def every_first_page(sizes: q.PageSizes, leaves: tuple[str, ...]) -> list[q.FirstPage]:
    """First pages of every shape: counts unknown, every list empty, every list full, threads at the cap."""
    empty = dict.fromkeys(q.COUNTED, 0)
    full = dict.fromkeys(q.COUNTED, 500)
    return [
        q.first_page(1, sizes, leaves),
        q.first_page(2, sizes, leaves, empty),
        q.first_page(3, sizes, leaves, full),
        q.first_page(4, sizes, leaves, {**empty, "reviewThreads": 7, "commits": 3}),
    ]


def test_every_query_the_module_builds_is_valid_for_githubs_schema() -> None:
    """Each document validates against GitHub's schema (the committed extract of it) with no error."""
    schema = github_schema()
    documents = every_document()
    assert len(documents) > 40
    for document in documents:
        assert validate(schema, parse(document)) == [], document


def test_every_query_the_module_builds_is_valid_for_the_whole_published_schema() -> None:
    """Each document validates against the whole published schema (GHSEED_GRAPHQL_SCHEMA points to it)."""
    schema = full_published_schema()
    for document in every_document():
        assert validate(schema, parse(document)) == [], document


def requests_of(document: str) -> int:
    parsed = parse(document)
    operation = get_operation_ast(parsed)
    assert operation is not None
    return analyze(parsed, operation).requests


@pytest.mark.parametrize("sizes", [q.DEFAULT_SIZES, SMALLEST, LARGEST])
def test_a_pull_page_costs_what_the_page_sizes_say(sizes: q.PageSizes) -> None:
    """GitHub counts 1 request for the list plus requests_per_pull for each PR the page may hold."""
    assert requests_of(q.pull_page_query(sizes)) == 1 + sizes.pulls * sizes.requests_per_pull
    assert requests_of(q.pulls_by_number_query([1, 2, 3], sizes)) == 3 * sizes.requests_per_pull


def test_overflow_items_cost_what_they_say_and_batches_cost_one_point() -> None:
    """Each overflow item's requests are GitHub's count; a batch stays within 149 requests: 1 point."""
    items = every_overflow()
    for item in items:
        assert requests_of(q.overflow_query([item])) == item.requests, item
    many = items * 12
    groups = list(q.batches(many))
    assert [item for group in groups for item in group] == many
    for group in groups:
        assert requests_of(q.overflow_query(group)) == sum(item.requests for item in group) <= q.ONE_POINT
    assert len(groups) == -(-sum(item.requests for item in many) // q.ONE_POINT)


def test_page_sizes_outside_githubs_bounds_are_refused() -> None:
    """A page size of 0 or 101 is refused with the bounds and the value."""
    with pytest.raises(ValueError, match=r"page size threads=0 is outside GitHub's bounds 1\.\.100"):
        q.PageSizes(threads=0)
    with pytest.raises(ValueError, match="pulls=101"):
        q.PageSizes(pulls=101)
    with pytest.raises(ValueError, match="at least one"):
        q.pulls_by_number_query([])


def test_actors_become_rest_users() -> None:
    """A Bot gets REST's [bot] suffix and type; ids come from databaseId; null stays None."""
    bot = {"__typename": "Bot", "login": "dependabot", "databaseId": 49699333}
    assert user_from_graphql(bot) == User("dependabot[bot]", 49699333, "Bot")
    assert user_from_graphql({"__typename": "User", "login": "ada", "databaseId": 5}) == User(
        "ada", 5, "User"
    )
    assert user_from_graphql(None) is None


def test_an_apps_commit_is_linked_through_its_no_reply_address() -> None:
    """GitActor.user is null for Apps; the [bot] no-reply address links the commit as REST does."""
    person = {"name": "dependabot[bot]", "email": "49699333+dependabot[bot]@users.noreply.github.com"}
    commit = {
        "oid": "a" * 40,
        "message": "Bump",
        "author": {**person, "date": "2024-01-02T03:04:05+02:00", "user": None},
    }
    converted = commit_from_graphql(commit)
    assert converted.author_login == "dependabot[bot]"
    assert converted.authored_at is not None and converted.authored_at.utcoffset() is not None
    stranger = {**commit, "author": {"name": "x", "email": "5+ada@users.noreply.github.com", "user": None}}
    assert commit_from_graphql(stranger).author_login is None


def test_files_have_no_patch_and_rest_statuses() -> None:
    """GraphQL's changed file becomes REST's FileChange with patch and previous_filename None."""
    converted = file_from_graphql({"path": "a.py", "additions": 2, "deletions": 1, "changeType": "DELETED"})
    assert (converted.status, converted.changes, converted.patch, converted.previous_filename) == (
        "removed",
        3,
        None,
        None,
    )


def pull_node(**lists: Any) -> dict[str, Any]:
    """A minimal PR node whose lists are whole (no next pages), overridden by ``lists``."""

    def whole(nodes: list[Any]) -> dict[str, Any]:
        return {
            "totalCount": len(nodes),
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": nodes,
        }

    node: dict[str, Any] = {
        "number": 5,
        "fullDatabaseId": "3000000001",
        "title": "t",
        "body": "",
        "state": "MERGED",
        "isDraft": False,
        "merged": True,
        "mergedAt": "2024-01-02T00:00:00Z",
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-02T00:00:00Z",
        "closedAt": "2024-01-02T00:00:00Z",
        "url": "https://github.com/o/r/pull/5",
        "author": None,
        "mergedBy": None,
        "baseRefName": "main",
        "headRefName": "x",
        "headRefOid": "b" * 40,
        "additions": 0,
        "deletions": 0,
        "changedFiles": 0,
        "reviewThreads": {
            "totalCount": 0,
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [],
        },
    }
    for name in q.LEAVES:
        node[name] = whole([])
    node.update(lists)
    return node


def test_review_comments_come_by_ascending_id_whatever_their_threads() -> None:
    """Threads group comments; the model lists them by id, as REST does, with replies' in_reply_to_id."""

    def comment(ident: int, reply_to: int | None = None) -> dict[str, Any]:
        return {
            "fullDatabaseId": str(ident),
            "author": None,
            "body": "",
            "path": "a.py",
            "line": 1,
            "createdAt": "2024-01-01T00:00:00Z",
            "replyTo": {"fullDatabaseId": str(reply_to)} if reply_to else None,
        }

    threads = {
        "nodes": [
            {"comments": {"totalCount": 2, "nodes": [comment(7), comment(9, 7)]}},
            {"comments": {"totalCount": 1, "nodes": [comment(8)]}},
        ]
    }
    pr = pull_request_from_graphql(pull_node(reviewThreads=threads))
    assert [(c.id, c.in_reply_to_id) for c in pr.review_comments] == [(7, None), (8, None), (9, 7)]
    assert pr.review_comments_count == 3 and pr.id == 3000000001 and pr.state == "closed"


def test_commits_cap_gives_rests_list_and_flag() -> None:
    """commits_cap cuts the list as REST does and sets commits_truncated; without it all are kept."""
    commits = [
        {"commit": {"oid": f"{i:040x}", "message": "m", "author": None, "committer": None}} for i in range(5)
    ]
    node = pull_node(commits={"totalCount": 5, "nodes": commits})
    assert len(pull_request_from_graphql(node).commits) == 5
    capped = pull_request_from_graphql(node, commits_cap=3)
    assert (len(capped.commits), capped.commits_truncated, capped.commits_count) == (3, True, 5)


def test_assembly_pages_long_lists_from_both_ends_and_refuses_to_build_early() -> None:
    """A list with 350 left is read forward and backward at once; build() waits until it is whole."""
    first = [{"path": f"f{i}", "additions": 0, "deletions": 0, "changeType": "ADDED"} for i in range(100)]
    node = pull_node(
        files={"totalCount": 450, "pageInfo": {"hasNextPage": True, "endCursor": "c100"}, "nodes": first}
    )
    assembly = PullAssembly(node)
    assert assembly.pending() == [
        q.Overflow(5, "files", after="c100", first=100),
        q.Overflow(5, "files", last=100),
    ]
    with pytest.raises(ValueError, match=r"#5 still needs 2 overflow page\(s\)"):
        assembly.build()
    with pytest.raises(ValueError, match="reviewThreads must be asked with edges"):
        PullAssembly(pull_node(reviewThreads={"totalCount": 0, "nodes": []}))
    assert q.overflow_query(assembly.pending()).count("pullRequest(number: 5)") == 2


def test_counts_decide_what_a_first_page_asks_and_costs() -> None:
    """A list the plan counted empty is asked for its count alone (free); threads as many as there are."""
    counts = {**dict.fromkeys(q.COUNTED, 0), "commits": 4, "reviewThreads": 3}
    page = q.first_page(9, q.DEFAULT_SIZES, q.LEAVES, counts)
    assert page.asked == ("commits",) and page.threads == 3
    document = q.batch_query([page])
    assert requests_of(document) == page.requests == 1 + 1 + 3
    assert "labels { totalCount }" in document and "reviewThreads(first: 3)" in document
    nothing = q.first_page(10, q.DEFAULT_SIZES, q.LEAVES, dict.fromkeys(q.COUNTED, 0))
    assert nothing.requests == 0 == requests_of(q.batch_query([nothing]))


def test_overflow_aliases_name_what_they_answer() -> None:
    """An overflow alias gives back its PR, list, direction, size and thread (all a rebuild needs)."""
    for index, item in enumerate(every_overflow()):
        back = q.Overflow.from_alias(item.alias(index))
        assert back is not None
        assert (back.number, back.kind, back.backward, back.size, back.thread_index) == (
            item.number,
            item.kind,
            item.backward,
            item.size,
            item.thread_index,
        )
    assert q.Overflow.from_alias("p12") is None and q.Overflow.from_alias("o1_2_bogus_f3_0") is None


def test_plan_counters_are_read_and_checked() -> None:
    """The plan's counters become counts by list name; a counter that is not a count is refused."""
    node = {"changedFiles": 3, **{name: {"totalCount": 2} for name in q.COUNTED if name != "files"}}
    assert q.counts_of(node) == {**dict.fromkeys(q.COUNTED, 2), "files": 3}
    with pytest.raises(ValueError, match="not a count"):
        q.counts_of({**node, "changedFiles": "3"})
    with pytest.raises(ValueError, match="state 'DRAFT'"):
        q.plan_query(states=("DRAFT",))


def documents_a_crawl_sent(tmp_path: Any) -> list[str]:
    """Every GraphQL document the fetcher sent in crawls of the extreme PRs: with and without patches,
    with timeouts shrinking its queries, and a refresh; as the cassettes recorded them."""
    import json

    from pytest_ghseed.cache.cassettes import load_interactions
    from pytest_ghseed.cache.store import ProjectStore
    from pytest_ghseed.emulator import start
    from pytest_ghseed.models import FetchParams
    from pytest_ghseed.projects import resolve_project
    from pytest_ghseed.seed import FetchOptions, ensure
    from tests.helpers import REPO, make_config

    project = resolve_project(REPO)
    documents: set[str] = set()
    runs = [
        ({}, FetchParams(max_prs=None), "once"),
        ({"graphql_timeout_nodes": 300}, FetchParams(max_prs=None, patches=False), "once"),
        ({}, FetchParams(max_prs=None), "new_episodes"),
    ]
    for index, (overrides, params, mode) in enumerate(runs):
        with start(make_config(n_prs=20, extremes=True, **overrides)) as emu:
            cache = tmp_path / f"run{index if mode == 'once' else 0}"
            if mode == "new_episodes":
                emu.project(REPO).update_pull(3, title="changed")
            ensure(
                project,
                cache,
                params,
                record_mode=mode,  # type: ignore[arg-type]
                options=FetchOptions(base_url=emu.base_url, tokens=["tok-bob"], api="graphql"),
            )
        for path in ProjectStore(cache, project.folder).layout.graphql_cassettes():
            documents |= {
                json.loads(i.request_body)["query"] for i in load_interactions(path) if i.request_body
            }
    return sorted(documents)


@pytest.mark.slow
def test_every_query_the_fetcher_sent_is_valid_for_githubs_schema(tmp_path: Any) -> None:
    """The documents recorded by real crawls validate against the extract and, when it is at hand
    (GHSEED_GRAPHQL_SCHEMA), against GitHub's whole published schema."""
    documents = documents_a_crawl_sent(tmp_path)
    assert len(documents) > 20
    assert any("GhseedPlan" in d for d in documents) and any("GhseedBatch" in d for d in documents)
    extract = github_schema()
    for document in documents:
        assert validate(extract, parse(document)) == [], document
    published = full_published_schema()
    for document in documents:
        assert validate(published, parse(document)) == [], document
