"""The extract and its errata: converted by OpenAPI 3.0.3's own rules, each erratum real and needed."""

from __future__ import annotations

import json

import pytest

from tests.contracts.contract import Contract, load_extract, operation_for
from tests.contracts.errata import ERRATA, resolve_pointer
from tests.contracts.extract import OPERATIONS, to_json_schema
from tests.helpers import load_sample


def test_the_extract_names_its_source_version_and_licence() -> None:
    """The committed extract says which package and version it came from, and carries its MIT licence."""
    source = load_extract()["source"]
    assert source["package"] == "@octokit/openapi"
    assert source["version"].count(".") == 2
    assert source["license"] == "MIT" and source["description_license"]["name"] == "MIT"
    assert source["license_text"].startswith("MIT License")
    assert source["regenerate"].startswith("python tests/contracts/extract.py")


def test_the_extract_holds_every_operation_the_emulator_answers() -> None:
    """Each route of the emulator maps to an operation of the extract, and each operation is extracted."""
    operations = load_extract()["operations"]
    assert sorted(operations) == sorted(OPERATIONS)
    for path, operation in (
        ("/", "meta/root"),
        ("/repositories/1234/pulls/5/files?page=2", "pulls/list-files"),
        ("/api/v3/repos/a/b/issues/7", "issues/get"),
        ("/repos/a/b/issues/comments", "issues/list-comments-for-repo"),
        ("/users/dependabot%5Bbot%5D", "users/get-by-username"),
    ):
        assert operation_for(path) == operation


def test_nullable_follows_openapi_3_0_3() -> None:
    """nullable adds null to a sibling type only: an enum keeps its values, a oneOf without type stays."""
    assert to_json_schema({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert to_json_schema({"type": "string", "nullable": True, "enum": ["A"]}) == {
        "type": ["string", "null"],
        "enum": ["A"],
    }
    assert to_json_schema({"nullable": True, "oneOf": [{"type": "integer"}]}) == {
        "oneOf": [{"type": "integer"}]
    }
    assert to_json_schema(
        {"type": "object", "description": "x", "x-github": {}, "properties": {"description": {}}}
    ) == {
        "type": "object",
        "properties": {"description": {}},
    }


@pytest.mark.parametrize(
    "erratum", ERRATA, ids=[erratum.pointer.rsplit("/schemas/", 1)[1] for erratum in ERRATA]
)
def test_each_erratum_relaxes_an_existing_schema_and_says_why(erratum: object) -> None:
    """An erratum points at a schema of the extract, changes it, and names a reason and evidence."""
    from tests.contracts.errata import Erratum

    assert isinstance(erratum, Erratum)
    parent, key = resolve_pointer(load_extract(), erratum.pointer)
    assert key in parent
    assert erratum.patch(parent[key]) != parent[key]
    assert len(erratum.reason) > 40 and len(erratum.evidence) > 40


@pytest.mark.parametrize("erratum", [e for e in ERRATA if e.sample], ids=lambda e: e.sample)
def test_a_real_github_answer_needs_the_erratum(erratum: object) -> None:
    """The real GitHub answer cited as evidence breaks the bare description and passes with the erratum."""
    from tests.contracts.errata import Erratum

    assert isinstance(erratum, Erratum) and erratum.sample is not None
    body = json.dumps(load_sample(erratum.sample))
    path = "/repos/PyGithub/PyGithub/pulls/31/comments"
    others = tuple(e for e in ERRATA if e is not erratum)
    assert Contract(errata=others).errors(path, 200, body), "the sample breaks the description without it"
    assert Contract(errata=ERRATA).errors(path, 200, body) == []
