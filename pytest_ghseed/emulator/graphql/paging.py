"""GitHub's connections: Relay paging over a list, opaque cursors, and GitHub's paging errors."""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import FieldNode

if TYPE_CHECKING:
    from typing import TypeAlias

    from graphql import GraphQLResolveInfo

    Info: TypeAlias = GraphQLResolveInfo[Any]

#: Most items one connection page may hold.
MAX_PAGE = 100

_CURSOR_PREFIX = "cursor:v2:"

Key = list[Any]


class GitHubError(Exception):
    """A field error as GitHub reports it: a ``type`` beside the message, path and locations."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Served:
    """What one query returned: nodes of its connections (what the timeout knob measures), and the
    pull requests it read by number (``owner/name#number``: the stats show what a crawl read twice)."""

    nodes: int = 0
    pulls: Counter[str] = field(default_factory=Counter)


def encode_cursor(key: Key) -> str:
    """An opaque cursor for the item with sort key ``key`` (GitHub's are base64 too)."""
    return base64.b64encode((_CURSOR_PREFIX + json.dumps(key, separators=(",", ":"))).encode()).decode()


def decode_cursor(cursor: str) -> Key:
    """The sort key in ``cursor``; GitHub's INVALID_CURSOR_ARGUMENTS error when it is not one of ours."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        if text.startswith(_CURSOR_PREFIX):
            key = json.loads(text[len(_CURSOR_PREFIX) :])
            if isinstance(key, list):
                return key
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise GitHubError("INVALID_CURSOR_ARGUMENTS", f"`{cursor}` does not appear to be a valid cursor.")


def _check(info: Info, first: int | None, last: int | None) -> None:
    """GitHub's paging rules, in its order; only a connection asked for items needs first or last."""
    name = info.field_name
    asks_items = any(
        isinstance(selection, FieldNode) and selection.name.value in ("nodes", "edges", "pageInfo")
        for node in info.field_nodes
        for selection in (node.selection_set.selections if node.selection_set else ())
    )
    if first is None and last is None and asks_items:
        raise GitHubError(
            "MISSING_PAGINATION_BOUNDARIES",
            f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
        )
    for arg, value in (("first", first), ("last", last)):
        if value is not None and value < 0:
            raise GitHubError(
                "INVALID_PAGINATION", f"`{arg}` on the `{name}` connection cannot be less than zero."
            )
    for arg, value in (("first", first), ("last", last)):
        if value is not None and value > MAX_PAGE:
            raise GitHubError(
                "EXCESSIVE_PAGINATION",
                f"Requesting {value} records on the `{name}` connection exceeds the `{arg}` limit of "
                f"{MAX_PAGE} records.",
            )


@dataclass
class PageInfo:
    """GraphQL ``PageInfo``."""

    startCursor: str | None
    endCursor: str | None
    hasNextPage: bool
    hasPreviousPage: bool


@dataclass
class Edge:
    """A ``...Edge``: the cursor and the node."""

    cursor: str
    node: Any


@dataclass
class Connection:
    """A ``...Connection``: one page of a list and the list's size."""

    totalCount: int
    pageInfo: PageInfo
    _items: list[Any]
    _keys: list[Key]
    _served: Served
    _counted: bool = field(default=False)

    def _count(self) -> None:
        if not self._counted:
            self._counted = True
            self._served.nodes += len(self._items)

    def nodes(self, info: Info) -> list[Any]:
        """The page's items."""
        self._count()
        return self._items

    def edges(self, info: Info) -> list[Edge]:
        """The page's items with their cursors."""
        self._count()
        return [Edge(encode_cursor(key), item) for key, item in zip(self._keys, self._items, strict=True)]


def connection(
    info: Info,
    items: Sequence[Any],
    wrap: Callable[[Any], Any],
    *,
    keys: Sequence[Key] | None = None,
    first: int | None = None,
    last: int | None = None,
    after: str | None = None,
    before: str | None = None,
) -> Connection:
    """One page of ``items`` by Relay's algorithm, as GitHub pages (bidirectional page info).

    ``keys`` are the items' sort keys, ascending in list order (default: the position, which is
    stable for lists that only grow at the end). Cursors carry keys, not offsets, so a page boundary
    stays put when items are added elsewhere in the order.
    """
    _check(info, first, last)
    all_keys: list[Key] = list(keys) if keys is not None else [[index] for index in range(len(items))]
    start, end = 0, len(items)
    if after is not None:
        start = bisect_right(all_keys, decode_cursor(after))
    if before is not None:
        end = max(start, bisect_left(all_keys, decode_cursor(before)))
    window = list(range(start, end))
    has_next = end < len(items) if before is not None else False
    has_previous = start > 0 if after is not None else False
    if first is not None:
        has_next = has_next or len(window) > first
        window = window[:first]
    if last is not None:
        has_previous = has_previous or len(window) > last
        window = window[len(window) - last :] if last else []
    page_keys = [all_keys[i] for i in window]
    page_info = PageInfo(
        startCursor=encode_cursor(page_keys[0]) if page_keys else None,
        endCursor=encode_cursor(page_keys[-1]) if page_keys else None,
        hasNextPage=has_next,
        hasPreviousPage=has_previous,
    )
    served: Served = info.context.served
    return Connection(len(items), page_info, [wrap(items[i]) for i in window], page_keys, served)
