"""Proof that data comes from disk: refuse every outgoing connection of this process for a while.

Used by ``ghseed rebuild`` (a rebuild reads the cassettes only) and by the test suite, which must
show that a replay sends nothing.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import NoReturn

BLOCKED_MESSAGE = "network access is blocked: this step reads recorded data only"


@contextlib.contextmanager
def network_blocked(message: str = BLOCKED_MESSAGE) -> Iterator[list[object]]:
    """Refuse every ``connect`` in this process while active; yields the list of refused addresses."""
    saved = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection)
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        attempts.append(args[1] if len(args) > 1 else args[0] if args else None)
        raise OSError(message)

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    try:
        yield attempts
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.create_connection = saved  # type: ignore[method-assign]
