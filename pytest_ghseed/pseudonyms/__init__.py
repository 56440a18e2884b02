"""Pseudonymized recordings: real people replaced by stable pseudonyms before anything is written.

A recording of a real repository is full of people (logins, names, e-mail addresses, avatars, profile
URLs, the same in texts). With ``--ghseed-pseudonymize`` every person gets a pseudonym derived with a
keyed hash (HMAC-SHA256) from a secret salt that never enters the cache, so the committed files cannot
be reversed by hashing known logins. The parts:

- ``rules``: the pure derivations (account id -> login, id, avatar; e-mail; name) and what a
  pseudonym looks like (so that pseudonymizing twice changes nothing);
- ``people``: who is known (the originals, by GitHub user id, e-mail and name) and the one walker
  that learns them from GitHub's JSON and the snapshot, and replaces (or, for ``verify``, finds) them;
- ``home``: where the salt and the list of originals live, beside the cache dir and outside it
  (``.ghseed/``, ignored by git);
- ``recording``: the decisions (a pseudonymized recording stays pseudonymized), the recorder's and the
  snapshot's single hooks, the sweep of cassettes written before a person was known, and the check
  ``ghseed verify`` runs.

This module itself holds only what the cassette recorder needs without importing the rest: the
interface of the hook and the hook that changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_ghseed.models import Snapshot
    from pytest_ghseed.traffic import Exchange


class PeopleFilter(Protocol):
    """What the recorder and the snapshot save call on the data they are about to write."""

    #: Whether this recording's people are pseudonymized.
    pseudonymized: bool
    #: A fingerprint of the salt (never the salt), recorded in the metadata; None when not pseudonymized.
    salt_fingerprint: str | None

    def exchanges(self, shard: str, exchanges: list[Exchange]) -> list[Exchange]:
        """The exchanges of one cassette shard, people replaced."""
        ...

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A checkpoint record (a pull request in the snapshot's form), people replaced."""
        ...

    def finish(
        self, snapshot: Snapshot, cassette_dir: Path, check: Callable[[str, object], None]
    ) -> Snapshot:
        """The snapshot about to be saved, people replaced; cassettes written before a person was known
        are swept again (``check`` is the leak guard each rewritten file passes)."""
        ...


class NoPeople:
    """The filter of a recording that keeps real people: changes nothing."""

    pseudonymized = False
    salt_fingerprint: str | None = None

    def exchanges(self, shard: str, exchanges: list[Exchange]) -> list[Exchange]:
        return exchanges

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        return record

    def finish(
        self, snapshot: Snapshot, cassette_dir: Path, check: Callable[[str, object], None]
    ) -> Snapshot:
        return snapshot


NO_PEOPLE: PeopleFilter = NoPeople()
