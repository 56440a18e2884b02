"""What a GraphQL query costs, by GitHub's published rules ("Rate limits and query limits for the GraphQL API").

- A *connection* is a field given ``first`` or ``last``. Filling it takes as many requests as the
  product of the ``first``/``last`` of the connections above it (1 at the top), and it may return
  that product times its own ``first``/``last`` nodes.
- The cost in points is the sum of the requests, divided by 100 and rounded to the nearest whole
  number (halves up), at least 1. A query may ask for at most 500,000 nodes.
- Where fragments on different types branch, the most expensive branch counts (only one type can
  be there at run time).

It reads the query's syntax tree only (no schema), so GitHub's documented examples can be checked
as written, even those that ask for fields the emulator does not serve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    Undefined,
    value_from_ast_untyped,
)

#: GitHub's limit on the nodes one query may ask for.
NODE_LIMIT = 500_000


@dataclass
class Tally:
    """Requests and nodes of part of a query, and its connections in document order."""

    requests: int = 0
    nodes: int = 0
    #: (field name, nodes it may return, its syntax node), outermost first.
    connections: list[tuple[str, int, FieldNode]] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.nodes += other.nodes
        self.connections.extend(other.connections)


@dataclass(frozen=True)
class Analysis:
    """A query's price: the requests GitHub counts, the points they cost, and the nodes asked for."""

    requests: int
    nodes: int
    connections: tuple[tuple[str, int, FieldNode], ...]

    @property
    def cost(self) -> int:
        """Points: requests / 100, rounded to the nearest whole number (halves up), at least 1."""
        return max(1, (self.requests + 50) // 100)

    def node_limit_error(self, limit: int = NODE_LIMIT) -> dict[str, Any] | None:
        """GitHub's MAX_NODE_LIMIT_EXCEEDED error when the query asks for more than ``limit`` nodes."""
        if self.nodes <= limit:
            return None
        for name, nodes, node in self.connections:
            if nodes > limit:
                message = (
                    f"By the time this query traverses to the {name} connection, it is requesting up to "
                    f"{nodes:,} possible nodes which exceeds the maximum limit of {limit:,}."
                )
                error: dict[str, Any] = {"type": "MAX_NODE_LIMIT_EXCEEDED", "message": message}
                if node.loc is not None:
                    location = node.loc.source.get_location(node.loc.start)
                    error["locations"] = [{"line": location.line, "column": location.column}]
                return error
        message = (
            f"This query requests up to {self.nodes:,} possible nodes which exceeds the maximum limit of "
            f"{limit:,}."
        )
        return {"type": "MAX_NODE_LIMIT_EXCEEDED", "message": message}


def analyze(
    document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None = None
) -> Analysis:
    """Price ``operation`` of ``document`` with ``variables`` (their defaults filled in)."""
    values = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    tally = _Walker(fragments, values).selection_set(operation.selection_set, 1)
    return Analysis(tally.requests, tally.nodes, tuple(tally.connections))


class _Walker:
    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode], variables: dict[str, Any]) -> None:
        self.fragments = fragments
        self.variables = variables

    def _argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = value_from_ast_untyped(argument.value, self.variables)
                return None if value is Undefined else value
        return None

    def _included(self, node: SelectionNode) -> bool:
        for directive in node.directives or ():
            arguments = {
                a.name.value: value_from_ast_untyped(a.value, self.variables)
                for a in directive.arguments or ()
            }
            if directive.name.value == "skip" and arguments.get("if") is True:
                return False
            if directive.name.value == "include" and arguments.get("if") is False:
                return False
        return True

    def _page_size(self, node: FieldNode) -> int | None:
        # GitHub reads `first`, else `last`; a field with neither is not a connection it counts.
        for name in ("first", "last"):
            value = self._argument(node, name)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, value)
        return None

    def selection_set(self, selections: SelectionSetNode | None, multiplier: int) -> Tally:
        common = Tally()
        branches: dict[str, Tally] = {}
        for selection in selections.selections if selections is not None else ():
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                common.add(self.field(selection, multiplier))
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                part = self.selection_set(selection.selection_set, multiplier)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition = fragment.type_condition
                part = self.selection_set(fragment.selection_set, multiplier)
            if condition is None:
                common.add(part)
            else:
                branches.setdefault(condition.name.value, Tally()).add(part)
        if branches:
            common.add(max(branches.values(), key=lambda tally: (tally.requests, tally.nodes)))
        return common

    def field(self, node: FieldNode, multiplier: int) -> Tally:
        size = self._page_size(node)
        if size is None:
            return self.selection_set(node.selection_set, multiplier)
        nodes = multiplier * size
        tally = Tally(multiplier, nodes, [(node.name.value, nodes, node)])
        tally.add(self.selection_set(node.selection_set, nodes))
        return tally
