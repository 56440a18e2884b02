"""Orchestration shared by the pytest fixtures and the ``ghseed`` command: load, fetch, refresh.

``ensure()`` applies the record mode (named as vcrpy names them):

- ``once``: use the cache when it covers the request; otherwise fetch (resuming a checkpoint). A
  cache older than ``max_age`` is refreshed.
- ``none``: never touch the network; a missing cache raises ``CacheMissing`` with the command
  that records it.
- ``new_episodes``: refresh: fetch the pull requests created or updated since the snapshot, and
  revalidate the rest with stored ETags (304s cost no quota).
- ``all``: fetch everything again.

One process at a time per cache dir (an advisory lock), so pytest-xdist workers fetch once: the
first fetches, the others wait and then load. Under the lock the cache is read and healed first
(``heal``); cassettes found missing are recorded again (``rerecord``). Heavy modules are imported
inside functions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pytest_ghseed.cache.metadata import Metadata
from pytest_ghseed.cache.store import ProjectStore
from pytest_ghseed.defaults import (
    DEFAULT_API,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_WAIT,
    DEFAULT_WORKERS,
    Api,
    RecordMode,
)
from pytest_ghseed.errors import CacheError, FetchError, GhseedError
from pytest_ghseed.heal import load_cached, lost_cassettes, metadata_or_none, settle_quietly
from pytest_ghseed.models import FetchParams, PullRequest, Repository, Snapshot
from pytest_ghseed.progress import ProgressEvent
from pytest_ghseed.projects import Project, fetch_command
from pytest_ghseed.secrets import Scrubber, Token, tokens_from_env

if TYPE_CHECKING:
    from pytest_ghseed.cache.cassettes import CassetteRecorder
    from pytest_ghseed.cache.derived import CachedSnapshot
    from pytest_ghseed.fetch.fetcher import FetchedPull, FetchResult

Source = Literal["cache", "fetched", "refreshed"]

#: A refresh looks a little before the recording time: clocks differ, and a PR updated while the
#: previous fetch ran may have been read before its update.
_REFRESH_OVERLAP = timedelta(minutes=5)


class CacheMissing(CacheError):
    """Offline (record mode ``none``) and nothing is recorded for the project."""


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How to reach GitHub and how hard to push it."""

    base_url: str | None = None  # None: GITHUB_API_URL or api.github.com (the emulator for `demo`)
    #: None: GITHUB_TOKENS / GITHUB_TOKEN. Plain strings are wrapped in ``Token`` at once.
    tokens: Sequence[str | Token] | None = field(default=None, repr=False)
    workers: int = DEFAULT_WORKERS
    max_wait: float = DEFAULT_MAX_WAIT
    checkpoint_file: Path | None = None
    #: Replace real people by stable pseudonyms (``pseudonyms``); a pseudonymized recording stays so.
    pseudonymize: bool = False
    #: Which GitHub API fetches (``fetch/choose``): rest, graphql, or auto.
    api: Api = DEFAULT_API


@dataclass(frozen=True, slots=True)
class SeedResult:
    """A project's snapshot and how it was obtained this run."""

    snapshot: Snapshot
    source: Source
    requests: int
    quota_left: int | None = None
    notes: tuple[str, ...] = ()


# -- the entry point ---------------------------------------------------------------------------------


def ensure(
    project: Project,
    cache_dir: Path,
    params: FetchParams,
    *,
    record_mode: RecordMode = "once",
    options: FetchOptions | None = None,
    max_age: float | None = None,
    on_event: Callable[[ProgressEvent], None] | None = None,
    fresh_since: datetime | None = None,
) -> SeedResult:
    """The snapshot of ``project`` for ``params``, from the cache or GitHub as the record mode says.

    ``fresh_since``: data recorded at or after this moment counts as fetched already in ``all`` and
    ``new_episodes`` modes (pytest-xdist workers pass the session's start, so only one of them fetches).
    """
    store = ProjectStore(cache_dir, project.folder)
    opts = options or FetchOptions()
    # Whatever goes wrong, what is shown never holds a token: the configured ones are masked too.
    scrubber = Scrubber([*tokens_from_env(), *Token.wrap_all(opts.tokens or ())])
    try:
        # One process at a time per cache dir: xdist workers wait here while the first one fetches.
        with store.lock(create=record_mode != "none"):
            notes = settle_quietly(store) if store.is_ours() else []
            if fresh_since is not None and record_mode in ("all", "new_episodes"):
                cached = load_cached(store, notes, project)
                if (
                    cached is not None
                    and last_checked(store, cached) >= fresh_since
                    and covered_by(store, cached, params)
                ):
                    # Another worker of this session has just fetched it.
                    return SeedResult(
                        snapshot=cached.select(params), source="cache", requests=0, notes=tuple(notes)
                    )
            result = _ensure_locked(project, store, params, record_mode, opts, max_age, on_event)
            return dataclasses.replace(result, notes=(*notes, *result.notes))
    except GhseedError as exc:
        exc.args = (scrubber.redact(str(exc)),)
        raise
    except Exception as exc:
        # Not one of our errors: a bug, or something no check foresaw. Said once, clearly, without a
        # traceback whose frames could show a token; the cause stays chained for a debugger.
        what = f"{type(exc).__name__}: {scrubber.redact(str(exc))}"[:400]
        msg = (
            f"unexpected error while getting {project.name} ({what}); the cache and the checkpoint are left "
            "as they were. This is a pytest-ghseed bug: please report it"
        )
        raise FetchError(msg) from exc


def _ensure_locked(
    project: Project,
    store: ProjectStore,
    params: FetchParams,
    mode: RecordMode,
    options: FetchOptions,
    max_age: float | None,
    on_event: Callable[[ProgressEvent], None] | None,
) -> SeedResult:
    from pytest_ghseed.pseudonyms.recording import check_request

    check_request(store, project.full_name, options.pseudonymize)
    notes: list[str] = []
    if mode == "all":
        return fetch_and_save(project, store, params, options, on_event=on_event, fresh=True)
    cached = load_cached(store, notes, project)
    if mode == "none":
        if cached is None:
            msg = (
                f"no recorded data for project {project.name!r} in {store.path} and the record mode is "
                f"'none' (offline). Record it with: {fetch_command(project.name, store.cache_dir)}"
            )
            raise CacheMissing(msg)
        if params.patches and not any(s.patches for s in covered_selections(store, cached)):
            # Fewer PRs than asked is served with a note; files without their patches would be wrong data.
            msg = (
                f"project {project.name!r} in {store.path} was recorded without patches (--no-patches) and "
                "the record mode is 'none' (offline); record it with patches: "
                f"{fetch_command(project.name, store.cache_dir)} --record-mode all"
            )
            raise CacheMissing(msg)
        return _from_cache(cached, params, notes, project, store)
    if cached is not None and covered_by(store, cached, params):
        age = (_now() - last_checked(store, cached)).total_seconds()
        stale = max_age is not None and age >= max_age
        if mode == "new_episodes" or stale:
            if stale:
                notes.append(f"the cache is older than max_age ({max_age:.0f}s): refreshing")
            result = refresh(project, store, cached.full(), options, on_event=on_event)
            return dataclasses.replace(
                result, snapshot=result.snapshot.select(params), notes=(*notes, *result.notes)
            )
        lost = lost_cassettes(store, cached)
        if lost is not None:
            result = rerecord(project, store, cached.full(), lost, options, on_event=on_event)
            return dataclasses.replace(
                result, snapshot=result.snapshot.select(params), notes=(*notes, *result.notes)
            )
        return _from_cache(cached, params, notes, project, store)
    previous = cached.full() if cached is not None else None
    result = fetch_and_save(project, store, params, options, on_event=on_event, previous=previous)
    return dataclasses.replace(result, notes=(*notes, *result.notes))


def _from_cache(
    cached: CachedSnapshot, params: FetchParams, notes: list[str], project: Project, store: ProjectStore
) -> SeedResult:
    if not covered_by(store, cached, params):
        notes.append(
            f"the cache of {project.name} was recorded with other parameters ({_describe(cached.params)}) "
            f"than asked ({_describe(params)}); using what it has. Refresh with: "
            f"{fetch_command(project.name, store.cache_dir)} --max-prs N"
        )
    return SeedResult(snapshot=cached.select(params), source="cache", requests=0, notes=tuple(notes))


def last_checked(store: ProjectStore, snapshot: Snapshot | CachedSnapshot) -> datetime:
    """When the cached data was last known to match GitHub: the snapshot's recording, or a later
    refresh that found it unchanged (``checked_at`` in the metadata)."""
    metadata = metadata_or_none(store)
    checked = metadata.checked_at if metadata is not None else None
    return max(snapshot.recorded_at, checked) if checked is not None else snapshot.recorded_at


def covered_selections(store: ProjectStore, snapshot: Snapshot | CachedSnapshot) -> tuple[FetchParams, ...]:
    """The selections whose PRs are all in ``snapshot`` (fetched at some point, then merged in).

    A selection that found fewer PRs than its ``max_prs`` was recorded as "every PR" of its state and
    date range when it was fetched (see ``fetch_and_save``).
    """
    metadata = metadata_or_none(store)
    return metadata.selections if metadata is not None else (snapshot.params,)


def covered_by(store: ProjectStore, snapshot: Snapshot | CachedSnapshot, params: FetchParams) -> bool:
    """Whether ``snapshot`` holds every PR that ``params`` selects."""
    return any(selection.covers(params) for selection in covered_selections(store, snapshot))


def _widest(selections: Sequence[FetchParams]) -> FetchParams:
    """One listing that finds every PR any of the selections may contain (for a refresh).

    Always every state: a PR closed since the last recording must be seen to leave an "open" selection.
    """
    sinces = [s.since for s in selections]
    untils = [s.until for s in selections]
    return FetchParams(
        max_prs=None,
        state="all",
        since=None if None in sinces else min(s for s in sinces if s is not None),
        until=None if None in untils else max(u for u in untils if u is not None),
        # Patches if any selection has them: a refresh must not take them from PRs that had them.
        patches=any(s.patches for s in selections),
    )


# -- fetching ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def github_endpoint(project: Project, options: FetchOptions) -> Iterator[tuple[str, list[Token]]]:
    """The base URL and tokens to use; for ``demo`` without a base URL, a running built-in emulator."""
    if project.is_demo and options.base_url is None:
        from pytest_ghseed.emulator import DEMO_TOKENS, demo_config, start

        with start(demo_config()) as emulator:
            # One token per demo user: the demo shows a pool of users, not a warning about duplicates.
            per_user = {user: token for token, user in reversed(DEMO_TOKENS.items())}
            yield emulator.base_url, Token.wrap_all(per_user.values())
        return
    base_url = options.base_url or os.environ.get("GITHUB_API_URL") or DEFAULT_BASE_URL
    yield base_url, tokens_from_env() if options.tokens is None else Token.wrap_all(options.tokens)


def fetch_and_save(
    project: Project,
    store: ProjectStore,
    params: FetchParams,
    options: FetchOptions,
    *,
    on_event: Callable[[ProgressEvent], None] | None = None,
    fresh: bool = False,
    previous: Snapshot | None = None,
) -> SeedResult:
    """Fetch ``project`` (resuming a checkpoint unless ``fresh``), record cassettes, save the snapshot.

    With ``previous`` (an older snapshot of other parameters), its resources are revalidated by
    ETag, so what did not change costs no quota.
    """
    from pytest_ghseed.checkpoint import discard

    store.ensure()
    checkpoint_path = options.checkpoint_file or store.checkpoint_path
    if fresh:
        discard(checkpoint_path)
        discard(store.layout.refresh_checkpoint)  # it would bring back older data
    known = _previous_pulls(store, previous) if previous is not None else None
    notes: list[str] = []
    try:
        result, base_url, recorder = _crawl(
            project,
            store,
            options,
            params,
            checkpoint_path,
            own_checkpoint=options.checkpoint_file is None,
            notes=notes,
            on_event=on_event,
            previous=known,
        )
    except BaseException:
        # A first fetch that failed before recording anything leaves no empty folder behind.
        store.remove_if_empty()
        raise
    prs = {pr.number: pr for pr in result.prs}
    pr_etags = dict(result.etags)
    # A selection that found fewer PRs than it asked for saw the whole listing: it holds every PR.
    exhausted = params.max_prs is not None and len(result.prs) < params.max_prs
    selection = dataclasses.replace(params, max_prs=None) if exhausted else params
    primary, recorded_at = params, result.started_at
    covered: tuple[FetchParams, ...] = (selection,)
    if previous is not None and known is not None:
        # Another selection joins the cache: keep what it had, so that neither selection refetches.
        prs = {**{pr.number: pr for pr in previous.prs}, **prs}
        pr_etags = {**{n: pull.etags for n, pull in known.items()}, **pr_etags}
        primary, covered = previous.params, (*covered_selections(store, previous), selection)
        # The kept PRs are as old as the previous recording: a refresh must look back that far.
        recorded_at = min(recorded_at, previous.recorded_at)
    snapshot = Snapshot(
        repository=result.repository,
        recorded_at=recorded_at,
        prs=tuple(prs[n] for n in sorted(prs)),
        params=primary,
    )
    saved = _finish(project, store, snapshot, result, base_url, recorder, pr_etags, covered, "fetched", notes)
    return dataclasses.replace(saved, snapshot=saved.snapshot.select(params))


def refresh(
    project: Project,
    store: ProjectStore,
    cached: Snapshot,
    options: FetchOptions,
    *,
    on_event: Callable[[ProgressEvent], None] | None = None,
) -> SeedResult:
    """Fetch what changed since ``cached`` was last checked, revalidating by ETag, and save the merge.

    Found nothing new: only ``metadata.json`` is written (the time of this check, and ETags GitHub
    renewed), the snapshot and the cassettes stay byte for byte as they were. Found changes: the
    snapshot, the metadata, the changed PRs' cassettes and this refresh's listing shards are written.
    """
    known = _previous_pulls(store, cached)
    covered = covered_selections(store, cached)
    notes: list[str] = []
    result, base_url, recorder = _crawl(
        project,
        store,
        options,
        _widest(covered),
        store.layout.refresh_checkpoint,
        own_checkpoint=True,
        notes=notes,
        on_event=on_event,
        updated_since=last_checked(store, cached) - _REFRESH_OVERLAP,
        previous=known,
        known_repository=_known_repository(store, cached),
    )
    merged = {pr.number: pr for pr in cached.prs}
    unchanged = result.repository == cached.repository and all(
        merged.get(pr.number) == pr for pr in result.prs
    )
    merged.update({pr.number: pr for pr in result.prs})
    pr_etags = {n: pull.etags for n, pull in known.items()}
    pr_etags.update(result.etags)
    # Nothing new: the recorded snapshot stays as it is, byte for byte, and only the check time moves.
    snapshot = (
        cached
        if unchanged
        else Snapshot(
            repository=result.repository,
            recorded_at=result.started_at,
            prs=tuple(merged[n] for n in sorted(merged)),
            params=cached.params,
        )
    )
    return _finish(
        project,
        store,
        snapshot,
        result,
        base_url,
        recorder,
        pr_etags,
        covered,
        "refreshed",
        notes,
        checked_at=result.started_at if unchanged else None,
    )


def rerecord(
    project: Project,
    store: ProjectStore,
    cached: Snapshot,
    lost: tuple[int, ...],
    options: FetchOptions,
    *,
    on_event: Callable[[ProgressEvent], None] | None = None,
) -> SeedResult:
    """Record again the cassettes that were lost (quarantined, deleted), so the cache heals itself.

    Lost PR cassettes: those PRs are fetched afresh (no ETags: a 304 would not put their data back on
    disk) and merged. A lost listing holds the repository and the comments read in bulk, which no
    single PR's cassette replaces: the whole selection is fetched again.
    """
    if not lost:
        again = fetch_and_save(project, store, cached.params, options, on_event=on_event, fresh=True)
        note = f"the listing cassette of {project.name} was missing: recorded the whole selection again"
        return dataclasses.replace(again, notes=(note, *again.notes))
    notes: list[str] = []
    result, base_url, recorder = _crawl(
        project,
        store,
        options,
        cached.params,
        store.layout.repair_checkpoint,
        own_checkpoint=True,
        notes=notes,
        on_event=on_event,
        only=lost,
    )
    merged = {pr.number: pr for pr in cached.prs}
    merged.update({pr.number: pr for pr in result.prs})
    snapshot = dataclasses.replace(cached, prs=tuple(merged[n] for n in sorted(merged)))
    pr_etags = {n: pull.etags for n, pull in _previous_pulls(store, cached).items()}
    pr_etags.update(result.etags)
    shown = ", ".join(f"#{n}" for n in lost[:5]) + (" ..." if len(lost) > 5 else "")
    notes.append(f"re-recorded {len(lost)} missing cassette(s) of {project.name} ({shown})")
    covered = covered_selections(store, cached)
    return _finish(project, store, snapshot, result, base_url, recorder, pr_etags, covered, "fetched", notes)


def _finish(
    project: Project,
    store: ProjectStore,
    snapshot: Snapshot,
    result: FetchResult,
    base_url: str,
    recorder: CassetteRecorder,
    pr_etags: dict[int, dict[str, str]],
    covered: tuple[FetchParams, ...],
    source: Source,
    notes: list[str],
    *,
    checked_at: datetime | None = None,
) -> SeedResult:
    """Save what a crawl produced, then drop its checkpoint, and say how it went.

    ``checked_at``: the crawl found ``snapshot`` (the cached one) unchanged at that moment; only the
    metadata is written.
    """
    crawl = result.checkpoint.planned_at if result.checkpoint is not None else None
    # The PRs last recorded through GraphQL: this crawl's, and those kept from before it refetched none.
    before = metadata_or_none(store)
    graphql = set(before.graphql) if before is not None else set()
    graphql = (graphql - {pr.number for pr in result.prs}) | set(result.graphql)
    saved = _save(
        project,
        store,
        snapshot,
        base_url,
        recorder,
        pr_etags,
        result.repository_etag,
        covered,
        crawl,
        graphql,
        checked_at,
        written=_written_by_checkpoint(result),
    )
    if result.checkpoint is not None:
        # Only now: until the snapshot is on disk, the checkpoint is the only copy of the data.
        result.checkpoint.discard()
    return SeedResult(
        snapshot=saved,
        source=source,
        requests=result.requests,
        quota_left=result.quota_left,
        notes=(*notes, *result.notes),
    )


def _crawl(
    project: Project,
    store: ProjectStore,
    options: FetchOptions,
    params: FetchParams,
    checkpoint_path: Path,
    *,
    own_checkpoint: bool,
    notes: list[str],
    on_event: Callable[[ProgressEvent], None] | None,
    **fetch_options: Any,
) -> tuple[FetchResult, str, CassetteRecorder]:
    """Run one crawl, recorded into the project's cassettes; return it, the base URL and the recorder."""
    from pytest_ghseed.cache.cassettes import CassetteRecorder
    from pytest_ghseed.fetch.choose import fetch_with
    from pytest_ghseed.pseudonyms.recording import people_for

    people = people_for(store, project.full_name, options.pseudonymize, notes)
    with github_endpoint(project, options) as (base_url, tokens):
        # A refresh holds its listing answers until it finds a change: finding none, it writes nothing.
        hold = fetch_options.get("updated_since") is not None
        recorder = CassetteRecorder(store.cassette_dir, tokens, people, hold_listing=hold)
        result = _fetch_resetting_foreign_checkpoint(
            checkpoint_path,
            own_checkpoint=own_checkpoint,
            notes=notes,
            fetch=lambda: fetch_with(
                options.api,
                project.full_name,
                params,
                checkpoint_path=checkpoint_path,
                base_url=base_url,
                tokens=tokens,
                workers=options.workers,
                max_wait=options.max_wait,
                on_event=on_event,
                sink=recorder,
                scrubber=recorder.scrubber,
                record_filter=recorder.people.record if recorder.people.pseudonymized else None,
                **fetch_options,
            ),
        )
    return result, base_url, recorder


def _fetch_resetting_foreign_checkpoint(
    checkpoint_path: Path,
    *,
    own_checkpoint: bool,
    notes: list[str],
    fetch: Callable[[], FetchResult],
) -> FetchResult:
    """Run ``fetch``; a checkpoint of other parameters in our own cache folder is moved aside, not fatal.

    An interrupted fetch of another selection (say ``--ghseed-max-prs=500``, then Ctrl-C) must not
    block every later run. A checkpoint the user named (``--checkpoint-file``) stays an error.
    """
    from pytest_ghseed._files import move_aside
    from pytest_ghseed.checkpoint import CheckpointMismatch, data_log_path

    try:
        return fetch()
    except CheckpointMismatch as exc:
        if not own_checkpoint:
            raise
        moved = [
            move_aside(p, "other-params").name
            for p in (checkpoint_path, data_log_path(checkpoint_path))
            if p.exists()
        ]
        notes.append(f"{exc.args[0].split(';')[0]}; moved it aside ({', '.join(moved)}) and started afresh")
        return fetch()


def _known_repository(store: ProjectStore, snapshot: Snapshot) -> tuple[Repository, str] | None:
    metadata = metadata_or_none(store)
    etag = metadata.repository_etag if metadata is not None else None
    return (snapshot.repository, etag) if etag else None


def _previous_pulls(store: ProjectStore, snapshot: Snapshot) -> dict[int, FetchedPull]:
    from pytest_ghseed.fetch.fetcher import FetchedPull

    metadata = metadata_or_none(store)
    etags = metadata.pr_etags if metadata is not None else {}
    return {pr.number: FetchedPull(pr=pr, etags=dict(etags.get(pr.number, {}))) for pr in snapshot.prs}


def _save(
    project: Project,
    store: ProjectStore,
    snapshot: Snapshot,
    base_url: str,
    recorder: CassetteRecorder,
    pr_etags: dict[int, dict[str, str]],
    repository_etag: str | None,
    covered: tuple[FetchParams, ...],
    crawl: str | None,
    graphql: set[int],
    checked_at: datetime | None = None,
    *,
    written: Callable[[PullRequest], str | None] | None = None,
) -> Snapshot:
    """Write snapshot and metadata (or, with ``checked_at``, the metadata alone), scrubbed as written.

    A pseudonymized recording's people are replaced first. The store passes every piece through the
    recorder's scrubber on its way to the file: token-shaped text in a PR body is stored (and
    returned) scrubbed, as in the cassettes.
    """
    if checked_at is None:
        snapshot = recorder.people.finish(snapshot, store.cassette_dir, recorder.scrubber.check)
    metadata = Metadata.describe(
        project.name,
        snapshot,
        base_url=recorder.scrubber.scrub(base_url),
        pr_etags=pr_etags,
        repository_etag=repository_etag,
        covered=covered,
        crawl=crawl,
        pseudonym_salt=recorder.people.salt_fingerprint,
        graphql=tuple(graphql),
    )
    if checked_at is not None:
        # The snapshot on disk stays as it is: the metadata keeps describing it.
        before = metadata_or_none(store)
        digest = before.snapshot_sha256 if before is not None and before.snapshot_sha256 else None
        checked = dataclasses.replace(
            metadata.checked(checked_at), snapshot_sha256=digest or store.snapshot_digest()
        )
        store.save_metadata(checked, recorder.scrubber)
        return snapshot
    return store.save(snapshot, metadata, recorder.scrubber, written)


def _written_by_checkpoint(result: FetchResult) -> Callable[[PullRequest], str | None] | None:
    """A PR's JSON as the crawl's checkpoint wrote it (serialized and scanned once), for the snapshot."""
    from pytest_ghseed.fetch.fetcher import FetchedPull

    checkpoint = result.checkpoint
    if checkpoint is None:
        return None
    fetched = {pr.number: pr for pr in result.prs}

    def written(pr: PullRequest) -> str | None:
        if fetched.get(pr.number) is not pr:
            return None  # not this crawl's PR (kept from the previous recording): serialized anew
        text = checkpoint.stored_text(pr.number)
        return FetchedPull.pr_text(text, result.etags.get(pr.number, {})) if text is not None else None

    return written


def _now() -> datetime:
    return datetime.now(UTC)


def _describe(params: FetchParams) -> str:
    parts = [f"max_prs={params.max_prs}", f"state={params.state}", f"order={params.order}"]
    if params.since:
        parts.append(f"since={params.since.date()}")
    if params.until:
        parts.append(f"until={params.until.date()}")
    if not params.patches:
        parts.append("no patches")
    return ", ".join(parts)
