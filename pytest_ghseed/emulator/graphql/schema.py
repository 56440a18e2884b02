"""GitHub's schema (the committed extract), bound to the emulator's resolvers; built once, on first use."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema

from pytest_ghseed.emulator.graphql import objects

EXTRACT = Path(__file__).with_name("github.graphql")

_lock = threading.Lock()
_schema: GraphQLSchema | None = None


def _big_int(value: Any) -> str:
    # GitHub's BigInt travels as a string ("encoded as a string", says its description).
    return str(int(value))


def _type_name(value: Any, info: Any, abstract: Any) -> str:
    return str(value.typename)


def _bind(schema: GraphQLSchema) -> GraphQLSchema:
    big_int = schema.get_type("BigInt")
    # graphql-core 3.3 calls coerce_output_value (serialize is its deprecated name): set both.
    for hook in ("serialize", "coerce_output_value"):
        setattr(big_int, hook, _big_int)
    for name in ("Actor", "RepositoryOwner", "RequestedReviewer"):
        schema.get_type(name).resolve_type = _type_name  # type: ignore[union-attr]
    return schema


def github_schema() -> GraphQLSchema:
    """The emulator's schema: GitHub's types and fields (see ``subset``), resolvers bound."""
    global _schema
    with _lock:
        if _schema is None:
            # The extract passes graphql-core's schema check; GitHub's whole schema does not (interface
            # deprecation rules), which is why this does not rely on it: queries are checked against
            # the types, and the schema itself was checked when the extract was made.
            _schema = _bind(build_schema(EXTRACT.read_text(encoding="utf-8")))
        return _schema


def root() -> objects.QueryRoot:
    """The root value queries start from."""
    return objects.QueryRoot()
