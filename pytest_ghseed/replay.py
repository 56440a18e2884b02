"""Replaying a recording in your own tests: a PyGithub client whose every request is answered from it.

The cassettes hold what the fetcher asked, as it asked it: against the base URL of the recording (for
the demo, an emulator on a port long gone), with ``per_page=100`` on every list. A client asking
otherwise finds no recorded answer. ``replay_github`` gives a client that asks the same way, under a
vcrpy cassette made of the project's listing and the pull requests named, in record mode ``none``:
nothing reaches the network, and a request that was never recorded fails at once, naming it.

What the fetcher did not ask is not in the recording: a sub-list whose count was 0, and the comment
lists of a pull request whose comments were read through the repository-wide lists
(``/pulls/comments``, ``/issues/comments``, in the listing). Everything else a PR has is there.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ghseed.cache.layout import SHARD_SUFFIX, listing_sequence, pr_shard
from pytest_ghseed.errors import CacheError

if TYPE_CHECKING:
    from github import Github

#: The page size the fetcher asks for (PyGithub must ask the same to find the recorded pages).
PER_PAGE = 100


def recorded_base_url(cassette_dir: Path) -> str:
    """The API base URL the recording in ``cassette_dir`` was made against (from its metadata)."""
    metadata = Path(cassette_dir).parent / "metadata.json"
    try:
        base_url = json.loads(metadata.read_text(encoding="utf-8")).get("base_url")
    except (OSError, ValueError, AttributeError) as exc:
        msg = f"cannot read the recorded base URL from {metadata}: {exc}; record the project first"
        raise CacheError(msg) from None
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        msg = f"{metadata} names no base URL ({base_url!r}); record the project again with this version"
        raise CacheError(msg)
    return base_url


@contextlib.contextmanager
def replay_github(cassette_dir: Path | str, *pulls: int) -> Iterator[Github]:
    """A PyGithub ``Github`` answered from ``cassette_dir``: the listing, and the cassettes of ``pulls``.

    Use it with the ``ghseed_cassette_dir`` fixture::

        with replay_github(ghseed_cassette_dir, 42) as gh:
            pull = gh.get_repo("owner/name").get_pull(42)
            reviews = list(pull.get_reviews())
    """
    from github import Github

    from pytest_ghseed.cache.cassettes import compress, replay_vcr

    folder = Path(cassette_dir)
    shards = [*_listing_shards(folder), *(pr_shard(number) for number in pulls)]
    with tempfile.TemporaryDirectory(prefix="ghseed-replay-") as tmp:
        combined = Path(tmp) / f"replay{SHARD_SUFFIX}"
        combined.write_bytes(compress(json.dumps(_combined(folder, shards))))
        gh = Github(
            base_url=recorded_base_url(folder),
            per_page=PER_PAGE,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        try:
            with replay_vcr().use_cassette(str(combined), allow_playback_repeats=True):
                yield gh
        finally:
            gh.close()


def _listing_shards(folder: Path) -> list[str]:
    """The listing's shards (file stems), oldest first: every answer that belongs to no pull request."""
    try:
        names = [p.name for p in folder.glob(f"*{SHARD_SUFFIX}")]
    except OSError:
        names = []
    found = sorted((sequence, name) for name in names if (sequence := listing_sequence(name)) is not None)
    if not found:
        msg = f"no listing cassette in {folder}: record the project first (ghseed fetch)"
        raise CacheError(msg)
    return [name.removesuffix(SHARD_SUFFIX) for _, name in found]


def _combined(folder: Path, shards: list[str]) -> dict[str, Any]:
    """One vcrpy cassette holding the interactions of several shards, in order."""
    from pytest_ghseed.cache.cassettes import read_cassette_data

    interactions: list[Any] = []
    for shard in shards:
        path = folder / f"{shard}{SHARD_SUFFIX}"
        if not path.is_file():
            msg = f"no cassette {path.name} in {folder}: is that pull request in the recording?"
            raise CacheError(msg)
        interactions.extend(read_cassette_data(path)["interactions"])
    return {"version": 1, "interactions": interactions}
