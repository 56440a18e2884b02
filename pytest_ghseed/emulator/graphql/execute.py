"""One GraphQL request, in GitHub's order: parse, validate against the schema, price, charge, execute.

The HTTP side (:mod:`endpoint`) hands over the decoded body and a way to charge the user's budget;
this module answers with the status and the JSON body GitHub would send.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)

from pytest_ghseed.emulator.data import Project
from pytest_ghseed.emulator.graphql import cost, schema
from pytest_ghseed.emulator.graphql.objects import Context, RateLimitNode
from pytest_ghseed.emulator.graphql.paging import GitHubError, Served
from pytest_ghseed.emulator.limits import Quota

TIMEOUT_MESSAGE = (
    "Something went wrong while executing your query. This may be the result of a timeout, or it could "
    "be a GitHub bug. Please include `{request_id}` when reporting this issue."
)


@dataclass(frozen=True)
class Request:
    """What one POST asked, and of whom."""

    body: Mapping[str, Any]
    viewer: str
    user_id: int
    request_id: str
    rate_limit_type: str
    timeout_nodes: int | None


@dataclass(frozen=True)
class Answer:
    """GitHub's answer: HTTP status, JSON body, points charged, and the budget to put in the headers."""

    status: int
    body: dict[str, Any]
    charged: int
    quota: Quota | None = None
    #: Pull requests the answer holds, read by number: ``owner/name#number`` -> times.
    pulls: Mapping[str, int] = field(default_factory=dict)


#: Charge this many points; the budget after it, or None when fewer points remain (nothing charged).
Charge = Callable[[int], Quota | None]


def rate_limited(kind: str, user_id: int) -> dict[str, Any]:
    """The body of a query refused because the user's GraphQL budget is spent."""
    if kind == "RATE_LIMIT":
        message = f"API rate limit already exceeded for user ID {user_id}."
        return {"errors": [{"type": "RATE_LIMIT", "code": "graphql_rate_limit", "message": message}]}
    return {
        "errors": [{"type": "RATE_LIMITED", "message": f"API rate limit exceeded for user ID {user_id}."}]
    }


def run(request: Request, projects: Mapping[str, Project], charge: Charge) -> Answer:
    """Answer one request body (already JSON-decoded) for ``request.viewer``."""
    query, variables = request.body.get("query"), request.body.get("variables")
    operation_name = request.body.get("operationName")
    if not isinstance(query, str) or not query.strip():
        return _errors({"message": "A query attribute must be specified and must be a string."})
    if variables is None:
        variables = {}
    if not isinstance(variables, dict) or not (operation_name is None or isinstance(operation_name, str)):
        return _errors({"message": "Variables must be an object and operationName a string."})
    try:
        document = parse(query)
    except GraphQLSyntaxError as error:
        return _errors(_format(error))
    github = schema.github_schema()
    problems = validate(github, document)
    if problems:
        return Answer(200, {"errors": [_validation(p) for p in problems]}, 0)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        name = f"named {operation_name!r}" if operation_name else "to run (name one with operationName)"
        return _errors({"message": f"No operation {name}."})

    analysis = cost.analyze(document, operation, variables)
    too_big = analysis.node_limit_error()
    if too_big is not None:
        return Answer(200, {"errors": [too_big]}, 0)
    # A query that only asks for rateLimit is not charged (GitHub: "rate-limit-only checks").
    points = 0 if _only_rate_limit(operation) else analysis.cost
    quota = charge(points)
    if quota is None:
        return Answer(200, rate_limited(request.rate_limit_type, request.user_id), 0)

    rate = RateLimitNode(analysis.cost, analysis.nodes, quota.limit, quota.remaining, quota.used, quota.reset)
    context = Context(projects, request.viewer, rate, Served())
    with ExitStack() as stack:
        # Every project is held still while the query reads it: no mutation can tear an answer.
        for key in sorted(projects):
            stack.enter_context(projects[key].lock)
        result = execute_sync(
            github,
            document,
            root_value=schema.root(),
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
        )
    if request.timeout_nodes is not None and context.served.nodes > request.timeout_nodes:
        message = TIMEOUT_MESSAGE.format(request_id=request.request_id)
        return Answer(502, {"data": None, "errors": [{"message": message}]}, points, quota)
    body: dict[str, Any] = {}
    errors = [_format(error) for error in result.errors or ()]
    # Variable errors stop a query before it runs: GitHub then sends no data at all.
    if result.data is not None or any("path" in error for error in errors):
        body["data"] = result.data
    if errors:
        body["errors"] = errors
    return Answer(200, body, points, quota, dict(context.served.pulls))


def _errors(*errors: dict[str, Any]) -> Answer:
    return Answer(200, {"errors": list(errors)}, 0)


def _only_rate_limit(operation: OperationDefinitionNode) -> bool:
    selections = operation.selection_set.selections
    return operation.operation == OperationType.QUERY and all(
        isinstance(s, FieldNode) and s.name.value in ("rateLimit", "__typename") for s in selections
    )


def _format(error: GraphQLError) -> dict[str, Any]:
    """A field error as GitHub words it: ``type`` (GitHub's own errors), ``path``, ``locations``, ``message``."""
    out: dict[str, Any] = {}
    original = error.original_error
    if isinstance(original, GitHubError):
        out["type"] = original.kind
    if error.path is not None:
        out["path"] = list(error.path)
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    out["message"] = error.message
    return out


# graphql-core's wording -> graphql-ruby's (GitHub's), for the validation errors clients meet most.
_UNDEFINED_FIELD = re.compile(r"^Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'\.")
_UNKNOWN_ARGUMENT = re.compile(r"^Unknown argument '(?P<arg>\w+)' on field '(?P<type>\w+)\.(?P<field>\w+)'\.")
_MISSING_ARGUMENT = re.compile(r"^Field '(?P<field>\w+)' argument '(?P<arg>\w+)' of type '.*' is required")


def _validation(error: GraphQLError) -> dict[str, Any]:
    formatted = _format(error)
    message = error.message
    if match := _UNDEFINED_FIELD.match(message):
        formatted["message"] = f"Field '{match['field']}' doesn't exist on type '{match['type']}'"
        formatted["extensions"] = {
            "code": "undefinedField",
            "typeName": match["type"],
            "fieldName": match["field"],
        }
    elif match := _UNKNOWN_ARGUMENT.match(message):
        formatted["message"] = f"Field '{match['field']}' doesn't accept argument '{match['arg']}'"
        formatted["extensions"] = {
            "code": "argumentNotAccepted",
            "name": match["field"],
            "argumentName": match["arg"],
        }
    elif match := _MISSING_ARGUMENT.match(message):
        formatted["message"] = f"Field '{match['field']}' is missing required arguments: {match['arg']}"
        formatted["extensions"] = {"code": "missingRequiredArguments", "arguments": match["arg"]}
    return formatted
