"""Validate answers against the committed extract of GitHub's OpenAPI description (plus errata).

:class:`Contract` maps a request path to its operation, picks the response schema for the status
(an operation's own, or GitHub's ``basic-error`` for error statuses the description leaves out of
that operation: rate limits, bad credentials, a bad API version) and lists every schema error.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.contracts.errata import ERRATA, Erratum, apply

EXTRACT_PATH = Path(__file__).resolve().parent / "github-openapi-extract.json"
_URI = "urn:ghseed:github-openapi-extract"

_REPO = r"/(?:repos/[^/]+/[^/]+|repositories/\d+)"
#: (path pattern, operationId): the description's GET operations in the forms the emulator answers
#: (``/repositories/{id}/...`` is the form GitHub's own Link headers use).
ROUTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(f"^{pattern}$"), operation)
    for pattern, operation in (
        ("/", "meta/root"),
        ("/versions", "meta/get-all-versions"),
        ("/rate_limit", "rate-limit/get"),
        ("/user", "users/get-authenticated"),
        ("/users/[^/]+", "users/get-by-username"),
        (_REPO, "repos/get"),
        (f"{_REPO}/pulls", "pulls/list"),
        (f"{_REPO}/pulls/comments", "pulls/list-review-comments-for-repo"),
        (f"{_REPO}/pulls/\\d+", "pulls/get"),
        (f"{_REPO}/pulls/\\d+/reviews", "pulls/list-reviews"),
        (f"{_REPO}/pulls/\\d+/commits", "pulls/list-commits"),
        (f"{_REPO}/pulls/\\d+/files", "pulls/list-files"),
        (f"{_REPO}/pulls/\\d+/comments", "pulls/list-review-comments"),
        (f"{_REPO}/issues/comments", "issues/list-comments-for-repo"),
        (f"{_REPO}/issues/\\d+", "issues/get"),
        (f"{_REPO}/issues/\\d+/comments", "issues/list-comments"),
    )
)


def load_extract() -> dict[str, Any]:
    """The committed extract, as written by ``extract.py``."""
    return json.loads(EXTRACT_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def operation_for(path: str) -> str | None:
    """The operationId answering ``GET path`` (query and trailing slash ignored), or None."""
    path = path.split("?", 1)[0].removeprefix("/api/v3")
    path = path.rstrip("/") or "/"
    return next((operation for pattern, operation in ROUTES if pattern.match(path)), None)


@dataclass
class Contract:
    """The extract with errata applied, and a tally of what was validated."""

    errata: tuple[Erratum, ...] = ERRATA
    extract: dict[str, Any] = field(default_factory=load_extract)
    validated: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.document = apply(self.extract, self.errata)
        resource: Resource[Any] = Resource(contents=self.document, specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}

    @property
    def source(self) -> str:
        """``@octokit/openapi 23.0.2``: where the extract came from."""
        source = self.extract["source"]
        return f"{source['package']} {source['version']}"

    def _validator(self, pointer: str) -> Draft202012Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            validator = Draft202012Validator({"$ref": f"{_URI}#{pointer}"}, registry=self._registry)
            self._validators[pointer] = validator
        return validator

    def errors(self, path: str, status: int, body: bytes | str) -> list[str]:
        """Every way the answer ``status``/``body`` to ``GET path`` breaks the description."""
        operation = operation_for(path)
        if operation is None:
            return [f"GET {path}: no operation of the description answers this path"]
        self.validated[f"{operation} {status}"] += 1
        responses = self.document["operations"][operation]["responses"]
        key = str(status)
        if key in responses:
            if responses[key] is None:
                return [] if not body else [f"GET {path} {status}: the description says no body, got some"]
            pointer = f"/operations/{operation.replace('/', '~1')}/responses/{key}"
        elif status >= 400:
            pointer = "/components/schemas/basic-error"
        else:
            return [f"GET {path}: status {status} is not a response of {operation}"]
        try:
            instance = json.loads(body)
        except ValueError:
            return [f"GET {path} {status}: the body is not JSON: {body[:80]!r}"]
        return [
            f"GET {path} {status} ({operation}) at {'/'.join(map(str, error.absolute_path)) or '<root>'}: "
            f"{error.message[:300]}"
            for error in self._validator(pointer).iter_errors(instance)
        ]

    @property
    def total(self) -> int:
        """Responses validated so far."""
        return sum(self.validated.values())
