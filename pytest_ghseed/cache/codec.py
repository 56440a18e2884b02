"""A compact form of the models for the derived snapshot: nested tuples of plain values, for ``marshal``.

Why not JSON or pickle: ``json.loads`` of a snapshot spends most of its time unescaping the patches
and building dicts that are thrown away at once, and pickle rebuilds each frozen dataclass through
its ``__setstate__`` (one Python-level ``object.__setattr__`` per field). Here each model is a
tuple of its field values in field order; ``marshal`` reads tuples and strings at memory speed,
and each model is then built by one generated function that sets its slots (``models``' own
compiled constructors). Datetimes travel as ISO text (``fromisoformat`` reads them back exactly,
offset included), users as ``(login, id, type)`` (shared, as ``User.from_dict`` shares them).

The encoders and decoders are generated from the models' own field annotations, so a field added to
a model is carried without a change here; an annotation this module cannot map fails at import (the
test suite imports it). ``FORMAT`` changes whenever a model's fields change, and derived files of
another format are ignored and rebuilt.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pytest_ghseed import models
from pytest_ghseed.models import (
    Commit,
    FetchParams,
    FileChange,
    IssueComment,
    PullRequest,
    Repository,
    Review,
    ReviewComment,
)

#: Bumped when the encoding itself changes (the field lists are hashed into ``FORMAT`` anyway).
_VERSION = 1
_ITEMS: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (Review, Commit, FileChange, ReviewComment, IssueComment, PullRequest)
}
#: Every model the derived snapshot carries, by name.
_MODELS: list[tuple[str, type[Any]]] = [
    *_ITEMS.items(),
    ("Repository", Repository),
    ("FetchParams", FetchParams),
]
_TUPLE_OF = re.compile(r"^tuple\[(\w+), \.\.\.\]$")


def _kind(annotation: str) -> str:
    """How a field travels: ``plain``, ``dt``, ``dt?``, ``user?``, ``users``, or ``items:<Model>``."""
    if annotation == "datetime":
        return "dt"
    if annotation == "datetime | None":
        return "dt?"
    if annotation == "User | None":
        return "user?"
    match = _TUPLE_OF.match(annotation)
    if match and match.group(1) == "User":
        return "users"
    if match and match.group(1) in _ITEMS:
        return f"items:{match.group(1)}"
    if "User" in annotation or "datetime" in annotation or any(name in annotation for name in _ITEMS):
        msg = f"the derived snapshot cannot carry a field annotated {annotation!r}; teach cache/codec.py"
        raise TypeError(msg)
    return "plain"


def _fields(cls: type[Any]) -> list[tuple[str, str]]:
    return [(field.name, _kind(str(field.type))) for field in dataclasses.fields(cls)]


def _encode_expr(value: str, kind: str) -> str:
    if kind == "dt":
        return f"{value}.isoformat()"
    if kind == "dt?":
        return f"(None if {value} is None else {value}.isoformat())"
    if kind == "user?":
        return f"(None if {value} is None else ({value}.login, {value}.id, {value}.type))"
    if kind == "users":
        return f"tuple([(u.login, u.id, u.type) for u in {value}])"
    if kind.startswith("items:"):
        return f"tuple([encode_{kind[6:]}(x) for x in {value}])"
    return value


def _decode_expr(value: str, kind: str) -> str:
    if kind.startswith("items:"):
        # Inlined: one call per item (its constructor), not two.
        item = kind[6:]
        names = [f"{value}_{i}" for i in range(len(_fields(_ITEMS[item])))]
        args = ", ".join(_decode_expr(n, k) for n, (_, k) in zip(names, _fields(_ITEMS[item]), strict=True))
        return f"tuple([new_{item}({args}) for {', '.join(names)}, in {value}])"
    if kind == "dt":
        return f"iso({value})"
    if kind == "dt?":
        return f"(None if {value} is None else iso({value}))"
    if kind == "user?":
        return f"(None if {value} is None else user(*{value}))"
    if kind == "users":
        return f"tuple([user(*u) for u in {value}])"
    return value


def _compile() -> dict[str, Callable[..., Any]]:
    """``encode_<Model>`` (model -> tuple) and ``decode_<Model>`` (tuple -> model) for every model."""
    namespace: dict[str, Any] = {"iso": datetime.fromisoformat, "user": models._shared_user}
    lines: list[str] = []
    for name, cls in _MODELS:
        fields = _fields(cls)
        names = [f"f{i}" for i in range(len(fields))]
        namespace[f"new_{name}"] = models.compile_constructor(cls)
        encoded = ", ".join(_encode_expr(f"obj.{field}", kind) for field, kind in fields)
        lines.append(f"def encode_{name}(obj):\n    return ({encoded},)\n")
        decoded = ", ".join(_decode_expr(var, kind) for var, (_, kind) in zip(names, fields, strict=True))
        lines.append(
            f"def decode_{name}(t):\n    {', '.join(names)}, = t\n    return new_{name}({decoded})\n"
        )
    exec("\n".join(lines), namespace)  # as dataclasses and models build their functions
    return {key: value for key, value in namespace.items() if key.startswith(("encode_", "decode_"))}


_CODEC = _compile()
#: Changes whenever a model's fields or this encoding change: part of every derived file's header.
FORMAT = hashlib.sha256(
    repr((_VERSION, [(name, _fields(cls)) for name, cls in _MODELS])).encode()
).hexdigest()[:16]

encode_pull: Callable[[PullRequest], tuple[Any, ...]] = _CODEC["encode_PullRequest"]
decode_pull: Callable[[tuple[Any, ...]], PullRequest] = _CODEC["decode_PullRequest"]
encode_repository: Callable[[Repository], tuple[Any, ...]] = _CODEC["encode_Repository"]
decode_repository: Callable[[tuple[Any, ...]], Repository] = _CODEC["decode_Repository"]
encode_params: Callable[[FetchParams], tuple[Any, ...]] = _CODEC["encode_FetchParams"]
decode_params: Callable[[tuple[Any, ...]], FetchParams] = _CODEC["decode_FetchParams"]

__all__ = [
    "FORMAT",
    "decode_params",
    "decode_pull",
    "decode_repository",
    "encode_params",
    "encode_pull",
    "encode_repository",
]
