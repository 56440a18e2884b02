"""Values from the command line, ini files, markers and the environment: parsed, or a usage error that
names the option and the value and says what fits. One parser per kind of value, shared by all.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from pytest_ghseed.errors import UsageError

_Choice = TypeVar("_Choice", bound=str)
_T = TypeVar("_T")


def parse_base_url(value: str, what: str) -> str:
    """An http(s) API URL without a trailing slash; a usage error naming the value otherwise."""
    from urllib.parse import urlparse

    text = value.strip()
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        msg = (
            f"{what} {value!r} is not an http(s) URL; use https://api.github.com, or "
            "https://HOST/api/v3 for GitHub Enterprise Server"
        )
        raise UsageError(msg)
    return text.rstrip("/")


def parse_positive_int(value: str, what: str) -> int:
    """An integer >= 1, or a usage error naming the option and the value."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        msg = f"{what} must be a whole number of at least 1, got {value!r}"
        raise UsageError(msg)
    return number


def parse_choice(value: str, allowed: tuple[_Choice, ...], what: str) -> _Choice:
    """One of ``allowed``, or a usage error naming the allowed values and the value given."""
    for choice in allowed:
        if value == choice:
            return choice
    msg = f"{what} must be one of {', '.join(allowed)}; got {value!r}"
    raise UsageError(msg)


def parse_date(value: str, what: str) -> datetime:
    """An ISO date or datetime (``2024-01-31`` or ``2024-01-31T12:00:00Z``), as aware UTC."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        msg = f"{what} must be an ISO date like 2024-01-31 or 2024-01-31T12:00:00Z; got {value!r}"
        raise UsageError(msg) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw]?)$")
_UNIT_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: str, what: str) -> float:
    """``90``, ``90s``, ``15m``, ``12h``, ``7d``, ``2w`` -> seconds."""
    match = _DURATION.match(value.strip().lower())
    if not match:
        msg = f"{what} must be a duration like 90s, 15m, 12h, 7d or 2w; got {value!r}"
        raise UsageError(msg)
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_seconds(value: str, what: str) -> float:
    """A finite number of seconds, 0 or more."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not (0 <= seconds < float("inf")):
        msg = f"{what} must be 0 or more seconds, got {value!r}"
        raise UsageError(msg)
    return seconds


def parse_seed(value: str, what: str) -> int:
    """A whole number (0 or more) that seeds the factories."""
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        msg = f"{what} must be a whole number of 0 or more, got {value!r}"
        raise UsageError(msg)
    return number


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def parse_flag(value: str, what: str) -> bool:
    """``true``/``yes``/``on``/``1`` or ``false``/``no``/``off``/``0`` (any case)."""
    text = value.strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    msg = f"{what} must be true or false, got {value!r}"
    raise UsageError(msg)


def argparse_type(
    parse: Callable[[str, str], _T],
    what: str,
    error: Callable[[str], Exception] = argparse.ArgumentTypeError,
) -> Callable[[str], _T]:
    """An argparse ``type=`` from one of these parsers: its message becomes ``error`` (argparse's own).

    Shared by the ``ghseed`` command, the Django management command and the pytest plugin (which
    raises ``pytest.UsageError``, as pytest-xdist does), so all three refuse a value alike.
    """

    def convert(value: str) -> _T:
        try:
            return parse(value, what)
        except UsageError as exc:
            raise error(str(exc)) from None

    return convert
