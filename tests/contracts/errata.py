"""Errata of GitHub's OpenAPI description: the only places where our answers may differ from it.

Each erratum relaxes one schema of the extract, at one JSON pointer, because GitHub's own answers
break the description there. Each names the reason and real-world evidence: a real GitHub answer
recorded in ``../shared/github-samples`` (checked by ``test_errata.py``: the sample fails the
unpatched extract and passes the patched one), or the public report in GitHub's description
repository or a client's tracker. Nothing else is tolerated: the contract tests allow 0 errors.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]


@dataclass(frozen=True)
class Erratum:
    """One relaxation of the description, with why and the evidence."""

    #: JSON pointer into the extract (``/components/schemas/...``).
    pointer: str
    #: What the schema there becomes, given what it was.
    patch: Callable[[Schema], Schema]
    reason: str
    evidence: str
    #: A file of ``../shared/github-samples`` holding a real answer that needs this erratum, if any.
    sample: str | None = None


def _or_null(schema: Schema) -> Schema:
    return {"anyOf": [{"type": "null"}, schema]}


def _enum_or_null(schema: Schema) -> Schema:
    return {**schema, "enum": [*schema["enum"], None]}


ERRATA: tuple[Erratum, ...] = (
    Erratum(
        "/components/schemas/pull-request-review-comment/properties/start_side",
        _enum_or_null,
        "A single-line review comment has no start side: GitHub sends start_side null. The "
        "description marks it nullable but its enum (LEFT, RIGHT) lacks null, and OpenAPI 3.0.3 "
        "says nullable does not extend an enum.",
        "Real GitHub answer: GET /repos/PyGithub/PyGithub/pulls/31/comments (2023-06, PyGithub's "
        "replay data): both comments have start_side null.",
        sample="review-comments.json",
    ),
    Erratum(
        "/components/schemas/pull-request-review-comment/properties/original_line",
        lambda schema: {**schema, "type": ["integer", "null"]},
        "A review comment GitHub cannot place on a line of the original diff (old comments, made "
        "with diff positions only) has original_line null; the description types it integer.",
        "Real GitHub answer: GET /repos/PyGithub/PyGithub/pulls/31/comments (2023-06, PyGithub's "
        "replay data): the second comment has original_line null (and line 73).",
        sample="review-comments.json",
    ),
    Erratum(
        "/components/schemas/issue/properties/state_reason",
        _enum_or_null,
        "An open issue, and the issue view of a pull request, has state_reason null. GitHub's "
        "OpenAPI 3.1 description lists null in this enum; its 3.0 form (this package) drops it.",
        "github/rest-api-description issue #4492 quotes the 3.1 definition: enum [completed, "
        "reopened, not_planned, null]; GitHub's docs for GET /issues/{n} list null as a value.",
    ),
    Erratum(
        "/components/schemas/pull-request/properties/head/properties/repo",
        _or_null,
        "A pull request whose head fork was deleted has head.repo null.",
        "github/rest-api-description issues #161, #424 (GET /pulls/{n} of a PR from a deleted "
        "fork); githubkit issue #200 (ghostty-org/ghostty#533 fails validation on head.repo null).",
    ),
    Erratum(
        "/components/schemas/pull-request-simple/properties/head/properties/repo",
        _or_null,
        "The list form of a pull request from a deleted fork has head.repo null too.",
        "github/rest-api-description issue #1811 (GET /repos/apache/pulsar/pulls, PR 6036).",
    ),
    Erratum(
        "/components/schemas/pull-request-simple/properties/labels/items/properties/description",
        lambda schema: {**schema, "type": ["string", "null"]},
        "A label without a description has description null in pull-request lists, as in the "
        "detail (where the description already allows null).",
        "github/rest-api-description issue #1812 (GET /repos/apache/pulsar/pulls); githubkit "
        "issue #7 (listing pull requests failed validation on it).",
    ),
    Erratum(
        "/components/schemas/commit/properties/author",
        _or_null,
        "A commit whose author e-mail belongs to no GitHub account has author null. The "
        "description writes nullable beside a oneOf with no type, which OpenAPI 3.0.3 gives no "
        "effect, so null is refused.",
        "octokit/octokit.js issue #1418 (a commit of racket/racket listed with author null); "
        "octokit/octokit.net issue #1433 (author and committer null on compare, raw JSON quoted); "
        "gitbucket PR #4099 (api.github.com/repos/torvalds/linux/commits/fddb5ce... has author null).",
    ),
    Erratum(
        "/components/schemas/commit/properties/committer",
        _or_null,
        "Same as the author: a committer e-mail linked to no account gives committer null.",
        "octokit/octokit.net issue #1433 (author and committer null, raw JSON quoted); nextcloud/"
        "github_helper PR #105 (a commit of nextcloud/bruteforcesettings with both null).",
    ),
)


def resolve_pointer(document: Any, pointer: str) -> tuple[Any, str]:
    """The parent container and the last key of ``pointer`` in ``document``."""
    parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("/").split("/")]
    node = document
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, parts[-1]


def apply(extract: dict[str, Any], errata: tuple[Erratum, ...] = ERRATA) -> dict[str, Any]:
    """A copy of the extract with every erratum applied."""
    patched = copy.deepcopy(extract)
    for erratum in errata:
        parent, key = resolve_pointer(patched, erratum.pointer)
        parent[key] = erratum.patch(parent[key])
    return patched
