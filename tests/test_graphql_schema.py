"""The emulator's GraphQL schema: an exact, checked extract of GitHub's published one, every field answered."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import build_schema, introspection_from_schema, print_schema, validate_schema

from pytest_ghseed.emulator.graphql import extract, objects, subset
from pytest_ghseed.emulator.graphql.objects import RateLimitNode
from pytest_ghseed.emulator.graphql.paging import Connection, Edge, PageInfo, Served
from pytest_ghseed.emulator.graphql.schema import EXTRACT, github_schema
from pytest_ghseed.emulator.synthetic import SyntheticProject
from tests.helpers import FULL_SCHEMA_ENV, small_config

EXTRACT_TEXT = EXTRACT.read_text(encoding="utf-8")


def _body(sdl: str) -> str:
    """The SDL without the header comment."""
    return print_schema(build_schema(sdl))


def test_extract_holds_exactly_the_subset() -> None:
    """Every type, field and argument of the extract is one named in subset.py, and each of those is there."""
    schema = build_schema(EXTRACT_TEXT)
    kept = {
        **subset.OBJECTS,
        **{name: dict.fromkeys(fields, ()) for name, fields in subset.INTERFACES.items()},
    }
    for name, fields in kept.items():
        type_ = schema.get_type(name)
        assert type_ is not None, name
        assert set(type_.fields) == set(fields), name  # type: ignore[attr-defined]
        for field_name, args in fields.items():
            assert set(type_.fields[field_name].args) == set(args), f"{name}.{field_name}"  # type: ignore[attr-defined]
    composite = {
        t.name for t in schema.type_map.values() if hasattr(t, "fields") and not t.name.startswith("__")
    }
    inputs = {t.name for t in schema.type_map.values() if type(t).__name__ == "GraphQLInputObjectType"}
    assert composite - inputs == set(kept)
    assert set(schema.get_type("RequestedReviewer").types) == {  # type: ignore[union-attr]
        schema.get_type(n) for n in ("Bot", "Mannequin", "Team", "User")
    }


def test_extract_passes_graphql_cores_schema_check() -> None:
    """Unlike GitHub's whole schema, the extract passes graphql-core's own schema validation."""
    assert validate_schema(build_schema(EXTRACT_TEXT)) == []


def test_extract_names_its_source_version_and_licence() -> None:
    """The header names the npm package, its version, its checksum and its MIT licence, with the command."""
    header = EXTRACT_TEXT.split("\n\n", 1)[0]
    assert f"npm {subset.SOURCE_PACKAGE}@{subset.SOURCE_VERSION}, schema.json (sha256 " in header
    assert "Copyright (c) GitHub" in header and "Licensed as MIT" in header
    assert "python -m pytest_ghseed.emulator.graphql.extract" in header


def test_extracting_from_the_extract_gives_the_extract_back() -> None:
    """The extractor, run on the extract's own introspection, reproduces it: it keeps what subset.py names."""
    introspection: Any = introspection_from_schema(build_schema(EXTRACT_TEXT))
    text = extract.render(introspection, version="x", sha256="y", licence="MIT")
    assert _body(text) == _body(EXTRACT_TEXT)


def test_a_subset_naming_what_github_lacks_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A field GitHub's schema does not have stops the extract, naming it."""
    introspection: Any = introspection_from_schema(build_schema(EXTRACT_TEXT))
    monkeypatch.setitem(subset.OBJECTS, "PullRequest", {**subset.OBJECTS["PullRequest"], "patch": ()})
    with pytest.raises(extract.ExtractError, match=r"GitHub's schema has no field PullRequest\.patch"):
        extract.prune(introspection)


def test_extract_equals_a_fresh_one_from_the_published_package(tmp_path: Any) -> None:
    """Regenerated from GitHub's published package (set GHSEED_GRAPHQL_SCHEMA to its tarball), nothing changes."""
    import os
    from pathlib import Path

    location = os.environ.get(FULL_SCHEMA_ENV, "")
    if not location.endswith(".tgz"):
        pytest.skip(f"set {FULL_SCHEMA_ENV} to the @octokit/graphql-schema tarball to run this")
    out = tmp_path / "github.graphql"
    assert extract.main(["--tarball", location, "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == EXTRACT_TEXT, Path(location).name


def test_every_field_of_every_type_has_a_resolver() -> None:
    """Each object type's class answers every field of the type (an attribute or a method)."""
    project = SyntheticProject(small_config(n_prs=20, extremes=True).projects[0])  # type: ignore[arg-type]
    raw = project.pull(3)
    assert raw is not None
    pull = objects.PullNode(project, raw)
    team = {
        "id": 1,
        "node_id": "T_1",
        "name": "Core",
        "slug": "core",
        "html_url": "https://github.com/orgs/o/teams/core",
    }
    samples: dict[str, Any] = {
        "Query": objects.QueryRoot(),
        "RateLimit": RateLimitNode(1, 1, 5000, 4999, 1, 0),
        "Repository": objects.RepositoryNode(project),
        "Ref": objects.RefNode("main"),
        "User": objects.ActorNode(raw.detail["user"]),
        "Team": objects.TeamNode(team),
        "PullRequest": pull,
        "Label": objects.LabelNode({"name": "bug", "color": "d73a4a", "id": 1}),
        "PullRequestCommit": objects.PullRequestCommitNode(raw.commits[0], pull.url),
        "Commit": objects.CommitNode(raw.commits[0]),
        "GitActor": objects.GitActorNode(raw.commits[0]["commit"]["author"], raw.commits[0]["author"]),
        "PullRequestChangedFile": objects.ChangedFileNode(raw.files[0]),
        "PullRequestReview": objects.ReviewNode(raw.reviews[0], pull),
        "PullRequestReviewThread": objects.ThreadNode([raw.review_comments[0]], pull),
        "PullRequestReviewComment": objects.ReviewCommentNode(raw.review_comments[0], pull),
        "IssueComment": objects.IssueCommentNode(raw.issue_comments[0]),
        "ReviewRequest": objects.ReviewRequestNode(objects.TeamNode(team)),
        "PageInfo": PageInfo(None, None, False, False),
        "Connection": Connection(0, PageInfo(None, None, False, False), [], [], Served()),
        "Edge": Edge("cursor", None),
    }
    for kind in ("Bot", "Organization", "Mannequin", "EnterpriseUserAccount"):
        samples[kind] = objects.ActorNode({"login": "x", "id": 1, "type": kind})
    schema = github_schema()
    checked = 0
    for type_ in schema.type_map.values():
        fields = getattr(type_, "fields", None)
        if type_.name.startswith("__") or fields is None or type(type_).__name__ != "GraphQLObjectType":
            continue
        key = (
            "Connection"
            if type_.name.endswith("Connection")
            else "Edge"
            if type_.name.endswith("Edge")
            else type_.name
        )
        instance = samples[key]
        for name in fields:
            assert hasattr(instance, name), f"{type_.name}.{name} has no resolver"
            checked += 1
        assert key in objects.TYPES or key in ("Connection", "Edge", "PageInfo")
    assert checked > 150
