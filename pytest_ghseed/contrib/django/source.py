"""Where the Django integration gets its data: the one adapter over pytest-ghseed's core API.

Every call into the core (project names, the fetcher with its checkpoint, the cache, progress
rendering) goes through :func:`fetch_project`, so that a change of the core's API touches this file
only. It imports no Django: the management command and the pytest fixtures both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from pytest_ghseed.defaults import (
    DEFAULT_MAX_PRS,
    DEFAULT_MAX_WAIT,
    DEFAULT_RECORD_MODE,
    DEFAULT_WORKERS,
    RECORD_MODES,
)
from pytest_ghseed.models import FetchParams, Snapshot
from pytest_ghseed.parsing import parse_base_url, parse_choice, parse_positive_int
from pytest_ghseed.progress import ProgressEvent, ProgressRenderer, StreamOutput
from pytest_ghseed.projects import find_aliases, resolve_project

if TYPE_CHECKING:
    from typing import TextIO


class TextSink(Protocol):
    """What the progress display writes to: a text stream, or an adapter such as Django's OutputWrapper's."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...

    def isatty(self) -> bool: ...


# Re-exported: the command parses its options with the core's parsers, through this one module.
__all__ = [
    "RECORD_MODES",
    "FetchedProject",
    "fetch_project",
    "parse_base_url",
    "parse_positive_int",
    "progress_renderer",
]


@dataclass(frozen=True, slots=True)
class FetchedProject:
    """A project's snapshot as the seeders receive it, and how it was obtained."""

    name: str
    full_name: str
    snapshot: Snapshot
    source: str  # "cache", "fetched" or "refreshed"
    requests: int
    notes: tuple[str, ...]


def fetch_project(
    name: str,
    *,
    cache_dir: Path,
    max_prs: int | None = DEFAULT_MAX_PRS,
    record_mode: str = DEFAULT_RECORD_MODE,
    base_url: str | None = None,
    checkpoint_file: Path | None = None,
    workers: int = DEFAULT_WORKERS,
    max_wait: float = DEFAULT_MAX_WAIT,
    on_event: Callable[[ProgressEvent], None] | None = None,
) -> FetchedProject:
    """The snapshot of project ``name`` (preset, owner/repo, or a ``[tool.ghseed.aliases]`` alias).

    From the cache, or fetched through the token pool (``GITHUB_TOKENS`` / ``GITHUB_TOKEN``) with a
    resumable checkpoint, as ``record_mode`` says; ``demo`` without ``base_url`` is served by the
    built-in emulator. When every token is rate-limited for longer than ``max_wait`` seconds the
    fetch stops with ``RateLimitWaitTooLong``; the checkpoint keeps the finished pull requests for the
    next run. Raises ``GhseedError`` with a message fit for the user.
    """
    from pytest_ghseed.seed import FetchOptions, ensure

    mode = parse_choice(record_mode, RECORD_MODES, "record mode")
    project = resolve_project(name, find_aliases(Path.cwd()))
    result = ensure(
        project,
        cache_dir,
        FetchParams(max_prs=max_prs),
        record_mode=mode,
        options=FetchOptions(
            base_url=base_url, workers=workers, max_wait=max_wait, checkpoint_file=checkpoint_file
        ),
        on_event=on_event,
    )
    return FetchedProject(
        name=project.name,
        full_name=project.full_name,
        snapshot=result.snapshot,
        source=result.source,
        requests=result.requests,
        notes=result.notes,
    )


class _Renderer:
    """The ``ghseed fetch`` progress display (a bar on a terminal, plain lines otherwise) on any writer."""

    def __init__(self, stream: TextSink) -> None:
        # It calls write, flush and isatty only: what a TextSink has.
        self._output = StreamOutput(cast("TextIO", stream))
        self._renderer = ProgressRenderer(self._output)

    def __call__(self, event: ProgressEvent) -> None:
        self._renderer(event)

    def finish(self) -> None:
        self._output.end_status()


def progress_renderer(stream: TextSink) -> _Renderer:
    """A progress callback for :func:`fetch_project` writing to ``stream``; call ``finish()`` after the fetch."""
    return _Renderer(stream)
