"""Helpers for the GraphQL tests: one POST to an emulator, and GitHub's published schema when present."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_ghseed.emulator import Emulator

#: Point this at GitHub's full published schema (npm @octokit/graphql-schema: the package tarball or its
#: schema.json) to also check queries against all of it, not only against the committed extract.
FULL_SCHEMA_ENV = "GHSEED_GRAPHQL_SCHEMA"


def post(
    emu: Emulator,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = "tok-a",
    path: str = "/graphql",
) -> requests.Response:
    """One GraphQL POST on a fresh connection, as ``Authorization: bearer <token>``."""
    headers = {"Authorization": f"bearer {token}"} if token is not None else {}
    return requests.post(
        emu.base_url + path, json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
    )


def data(response: requests.Response) -> dict[str, Any]:
    """The ``data`` of a successful answer (status 200, no errors), or fail showing the answer."""
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, (response.status_code, body)
    result: dict[str, Any] = body["data"]
    return result


def full_published_schema() -> Any:
    """GitHub's whole published schema as a graphql-core schema, or skip (it is not in the repository)."""
    from graphql import build_client_schema

    from pytest_ghseed.emulator.graphql.extract import read_tarball

    location = os.environ.get(FULL_SCHEMA_ENV)
    if not location:
        pytest.skip(
            f"set {FULL_SCHEMA_ENV} to the @octokit/graphql-schema tarball or schema.json to run this"
        )
    path = Path(location)
    if path.suffix == ".tgz":
        introspection = read_tarball(path.read_bytes())[0]
    else:
        introspection = json.loads(path.read_text(encoding="utf-8"))
    # GitHub's schema fails graphql-core's own schema check (interface deprecation rules): skip it.
    return build_client_schema(introspection, assume_valid=True)
