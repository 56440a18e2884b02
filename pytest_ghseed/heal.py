"""Reading a project's cache, and healing it: what a crash, a killed run or a hostile edit left.

``seed`` calls this under the cache lock before it decides anything. A file the store cannot read is
quarantined here (moved aside, with a note, never deleted) and rebuilt from the cassettes or fetched
again; a snapshot whose metadata describes another one (a crash between the two writes) gets its
metadata again; temporary files, staging folders and checkpoints of crawls already saved are
cleaned; cassettes that went missing are found (``lost_cassettes``) for ``seed`` to record again.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_ghseed.cache.metadata import Metadata
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.errors import CacheError, CorruptFile, IncompatibleSchema, MissingFile
from pytest_ghseed.models import Snapshot
from pytest_ghseed.projects import Project

if TYPE_CHECKING:
    from pytest_ghseed.cache.derived import CachedSnapshot


def metadata_or_none(store: ProjectStore) -> Metadata | None:
    try:
        return store.read_metadata()
    except CacheError:
        return None


def load_cached(
    store: ProjectStore, notes: list[str], project: Project | None = None
) -> CachedSnapshot | None:
    """The cached snapshot; rebuilt from the cassettes if it is corrupt or missing; None if there is none.

    The metadata file is written last, so it marks a finished recording: cassettes without it are
    the partial traffic of an interrupted fetch (its checkpoint resumes it) and are not a cache.
    A corrupt file is quarantined (moved aside; the note says where), never deleted. A snapshot
    whose metadata describes another one (a crash between the two writes) gets its metadata again.

    Read through the derived snapshot (``cache.derived``): the pull requests are built when a
    selection asks for them, and only those it keeps.
    """
    from pytest_ghseed.cache import derived

    if not store.is_ours():
        return None
    snapshot: CachedSnapshot | None
    try:
        snapshot = derived.load(store)
    except MissingFile:
        snapshot = None
    except CorruptFile as exc:
        notes.append(quarantined(store, exc))
        snapshot = None
    except IncompatibleSchema as exc:
        notes.append(str(exc))
        snapshot = None
    if snapshot is not None:
        try:
            metadata: Metadata | None = store.read_metadata()
        except MissingFile:
            metadata = None
        except CorruptFile as exc:
            # The snapshot is whole (written before the metadata): it is used, and described again
            # (only the ETags and the list of covered selections are lost).
            notes.append(f"{quarantined(store, exc)} The snapshot itself is intact and is used.")
            from pytest_ghseed.pseudonyms.recording import looks_pseudonymized

            name = project.name if project is not None else store.project
            whole = snapshot.full()
            described = Metadata.describe(name, whole, base_url="", pseudonymized=looks_pseudonymized(whole))
            store.save_metadata(dataclasses.replace(described, snapshot_sha256=store.snapshot_digest()))
            metadata = None
        if metadata is not None and snapshot.repository.full_name != metadata.repository:
            why = f"it holds {snapshot.repository.full_name!r} but metadata.json says {metadata.repository!r}"
            notes.append(quarantined(store, CorruptFile(store.snapshot_path, why)))
            return load_cached(store, notes, project)
        if metadata is not None and not _snapshot_matches(store, snapshot, metadata):
            try:
                notes.append(_describe_again(store, snapshot.full(), metadata))
            except CacheError as exc:  # a read-only checkout: serve the snapshot, say what could not be fixed
                notes.append(
                    f"{store.metadata_path.name} describes another snapshot and cannot be rewritten: {exc}"
                )
        return snapshot
    try:
        store.read_metadata()
    except MissingFile:
        return None
    except CorruptFile as exc:
        notes.append(quarantined(store, exc))
        return None
    from pytest_ghseed.cache.rebuild import rebuild_project

    try:
        rebuilt = rebuild_project(store)
    except CorruptFile as exc:
        notes.append(f"rebuilding from the cassettes failed: {quarantined(store, exc)}")
        return None
    except CacheError as exc:
        notes.append(f"rebuilding from the cassettes failed: {exc}")
        return None
    notes.append(f"rebuilt the snapshot of {store.name} from its cassettes ({len(rebuilt.prs)} PRs)")
    return derived.CachedSnapshot.of(rebuilt)


def _describe_again(store: ProjectStore, snapshot: Snapshot, metadata: Metadata) -> str:
    """Write metadata for the snapshot beside it (an interrupted save wrote the snapshot, not the metadata).

    The snapshot was written first and whole, so it is the truth; the metadata keeps what it knew
    (ETags, covered selections: at worst a later request fetches again what it no longer finds).
    """
    from pytest_ghseed.checkpoint import read_progress

    progress = read_progress(store.checkpoint_path)
    crawl = progress.planned_at if progress is not None and progress.completed else metadata.crawl
    repaired = dataclasses.replace(
        metadata.for_snapshot(snapshot, snapshot_sha256=store.snapshot_digest()), crawl=crawl
    )
    store.save_metadata(repaired)
    settle(store)
    return (
        f"{store.metadata_path.name} described another snapshot than {store.snapshot_path.name} (a save "
        f"interrupted between the two); wrote it again for the {len(snapshot.prs)} PRs of the snapshot"
    )


def settle_quietly(store: ProjectStore) -> list[str]:
    """``settle``, but a cache it cannot clean (a read-only checkout in CI) is only noted, never fatal."""
    try:
        return settle(store)
    except CacheError as exc:
        return [f"could not clean what an interrupted run left in {store.path}: {exc}"]


def settle(store: ProjectStore) -> list[str]:
    """Finish or clean what an interrupted run left (the lock is held): temp files, a done checkpoint."""
    from pytest_ghseed.checkpoint import data_log_path, discard, read_progress

    notes = store.clear_leftovers()
    for checkpoint in (
        store.checkpoint_path,
        store.layout.refresh_checkpoint,
        store.layout.repair_checkpoint,
    ):
        progress = read_progress(checkpoint)
        if progress is None:
            continue
        # Read only when there is a checkpoint to judge: at 5,000 PRs metadata.json is 2 MB of ETags,
        # and a load without a checkpoint gets it from the derived file's memo (cache/derived.py).
        metadata = metadata_or_none(store)
        if not progress.readable and metadata is not None:
            # Nothing can resume from it, and a finished recording stands: set it aside, never delete.
            moved = [store.quarantine(p).name for p in (checkpoint, data_log_path(checkpoint)) if p.exists()]
            notes.append(f"{checkpoint.name} is unusable; moved aside ({', '.join(moved)})")
            continue
        if (
            progress.completed
            and metadata is not None
            and progress.planned_at is not None
            and progress.planned_at == metadata.crawl
            and store.snapshot_matches(metadata)
        ):
            # Its crawl was saved; only the final clean-up was missed.
            discard(checkpoint)
            notes.append(f"removed {checkpoint.name}: its crawl was already saved (an interrupted clean-up)")
    return notes


def lost_cassettes(store: ProjectStore, cached: CachedSnapshot) -> tuple[int, ...] | None:
    """PR numbers whose cassette is gone (moved aside, deleted); () when the listing is; None when none is.

    One listing of the cassette folder (not a look per PR: this runs on every cached load).
    """
    from pytest_ghseed.cache.layout import graphql_shard_number, listing_sequence, shard_number

    numbers = cached.numbers
    names = store.layout.cassette_names()
    if not names and not numbers:
        return None
    if not any(listing_sequence(name) is not None for name in names):
        return ()
    answered = any(graphql_shard_number(name) is not None for name in names)
    recorded = {shard_number(name) for name in names}
    missing = [n for n in numbers if n not in recorded]
    if not missing:
        return None
    metadata = metadata_or_none(store)
    graphql = set(metadata.graphql) if metadata is not None else set()
    # A PR recorded through GraphQL lives in the GraphQL cassettes (and its files, with patches, in its own).
    through_graphql = [n for n in missing if n in graphql and answered]
    with_files: set[int] = set()
    if through_graphql and cached.params.patches:
        with_files = {pr.number for pr in cached.pulls(through_graphql) if pr.changed_files > 0}
    lost = tuple(n for n in missing if n not in through_graphql or n in with_files)
    return lost or None


def _snapshot_matches(store: ProjectStore, cached: CachedSnapshot, metadata: Metadata) -> bool:
    """Whether snapshot.json is the one ``metadata`` was written with (the derived copy knows its digest)."""
    if metadata.snapshot_sha256 is None:
        return True
    if cached.digest is not None:
        return cached.digest == metadata.snapshot_sha256
    return store.snapshot_matches(metadata)


def quarantined(store: ProjectStore, exc: CorruptFile) -> str:
    """Move the corrupt file aside and say so."""
    moved = store.quarantine(Path(str(exc.path)))
    return f"{exc}; moved aside to {moved.name}. It will be fetched again."
