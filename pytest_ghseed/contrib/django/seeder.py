"""The seeder interface: map a snapshot's pull requests onto your own Django models, idempotently.

Subclass :class:`RealProjectSeeder` and return a :class:`Row` for each thing you store::

    class MetricsSeeder(RealProjectSeeder):
        def team_member(self, user, ctx):
            return Row(TeamMember, key={"github_id": user.id}, values={"login": user.login})

        def pull_request(self, pr, ctx):
            return Row(PullRequest, key={"github_id": pr.id},
                       values={"number": pr.number, "author": ctx.member(pr.user), ...})

        def review(self, review, pull, ctx):  # pull: your saved PullRequest row
            return Row(Review, key={"github_id": review.id}, values={"pull_request": pull, ...})

Return ``None`` for what you do not store. :func:`seed_snapshot` writes the rows stage by stage (team
members, pull requests, then reviews, commits, files, review comments, issue comments), so each stage
gets the saved rows of the ones before it for its foreign keys.

How rows are written, and why:

- Identity is the row's ``key``: the GitHub id, or for what has none (a commit, a changed file) the
  parent row and the sha or path. Per model and stage, the keys already in the database are read in
  bulk with their stored values (one query per ~900 keys); new rows are inserted with
  ``bulk_create``, rows whose values differ are updated with ``bulk_update``, the rest are left
  alone. Running twice creates nothing and updates nothing the second time.
- Not ``bulk_create(ignore_conflicts=True)``: it updates nothing, cannot say which rows were new (the
  counts and ``--dry-run`` need that), leaves primary keys unset (children need them), and swallows
  conflicts on every other unique constraint too, so a real bug would pass silently.
- Not ``bulk_create(update_conflicts=True)``: it needs a unique constraint on exactly the key fields
  (MySQL and MariaDB ignore ``unique_fields`` and act on any unique index), Oracle lacks it, it sets
  primary keys only on some backends, and it cannot count without writing, which a dry run must.
- Not ``update_or_create``: two or three queries a row, some 50,000 for 1,000 pull requests.
- One transaction per project (``transaction.atomic``): an error in any row rolls the whole project
  back, so a failure never leaves a half-seeded project. If two processes seed the same project at
  once, the later insert meets the unique constraint (declare one on your keys) and its project is
  rolled back whole; run it again.
- ``bulk_create`` and ``bulk_update`` call neither ``save()`` nor signals, and do not touch
  ``auto_now`` fields: compute such values in your ``Row.values``.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from django.db import DEFAULT_DB_ALIAS, models, transaction

from pytest_ghseed.errors import GhseedError
from pytest_ghseed.models import (
    Commit,
    FileChange,
    IssueComment,
    PullRequest,
    Review,
    ReviewComment,
    Snapshot,
    User,
)

Key: TypeAlias = tuple[Hashable, ...]

#: Rows per existence query: below SQLite's historical limit of 999 parameters, whatever the key size.
_LOOKUP_PARAMETERS = 900


class SeederError(GhseedError):
    """A seeder that cannot work as written (a bad key, a Row that is not a Row, an unknown seeder)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One row to write: its model, the fields that identify it, and the fields to set.

    ``key`` holds the identity (usually ``{"github_id": ...}``; a foreign key may take the parent row);
    ``values`` the rest. Every row of one model within a stage uses the same key and value fields.
    """

    model: type[models.Model]
    key: Mapping[str, Any]
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ModelCount:
    """Rows of one model created, updated (some value differed) and left as they were, or would be in a dry run."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: ModelCount) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged

    def describe(self, *, dry_run: bool) -> str:
        """``3 created, 1 updated, 40 unchanged`` (``would create``, ``would update`` in a dry run)."""
        create, update = ("would create", "would update") if dry_run else ("created", "updated")
        return f"{self.created} {create}, {self.updated} {update}, {self.unchanged} unchanged"


@dataclass(slots=True)
class SeedReport:
    """What seeding one project did (or would do, with ``dry_run``), per model label (``app.Model``)."""

    project: str
    repository: str
    dry_run: bool
    prs: int
    counts: dict[str, ModelCount] = field(default_factory=dict)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """One line per model: ``metrics.Review: 120 created, 0 updated, 0 unchanged``."""
        return [f"{label}: {count.describe(dry_run=self.dry_run)}" for label, count in self.counts.items()]


class SeedContext:
    """What a seeder's methods may need beyond the item itself: the project, and the saved team members."""

    def __init__(self, project: str, snapshot: Snapshot, *, dry_run: bool) -> None:
        self.project = project
        self.snapshot = snapshot
        self.repository = snapshot.repository
        self.dry_run = dry_run
        self._members: dict[int, models.Model] = {}
        self._members_by_login: dict[str, models.Model] = {}

    def member(self, user: User | None) -> models.Model | None:
        """The team-member row of ``user``; ``None`` for a deleted account or a user you did not store.

        In a dry run, a member that is not in the database yet is an unsaved instance.
        """
        return None if user is None else self._members.get(user.id)

    def member_by_login(self, login: str | None) -> models.Model | None:
        """The team-member row with this login (commits carry a login only), or ``None``."""
        return None if login is None else self._members_by_login.get(login)

    def _remember(self, user: User, row: models.Model) -> None:
        self._members[user.id] = row
        self._members_by_login[user.login] = row


class RealProjectSeeder(abc.ABC):
    """Maps pull requests and what belongs to them onto your models; return ``None`` to skip an item.

    Only :meth:`pull_request` is required. The children's methods get ``pull``, the saved row that
    :meth:`pull_request` returned for their pull request (unsaved in a dry run if it is new).
    """

    #: The database alias to write to.
    using: str = DEFAULT_DB_ALIAS
    #: Rows per INSERT/UPDATE statement; ``None`` lets Django pick the most the backend allows.
    batch_size: int | None = None

    def team_member(self, user: User, ctx: SeedContext) -> Row | None:
        """A row for a person seen in the project (author, reviewer, commenter, merger)."""
        return None

    @abc.abstractmethod
    def pull_request(self, pr: PullRequest, ctx: SeedContext) -> Row | None:
        """The row of one pull request."""

    def review(self, review: Review, pull: models.Model, ctx: SeedContext) -> Row | None:
        return None

    def commit(self, commit: Commit, pull: models.Model, ctx: SeedContext) -> Row | None:
        return None

    def file_change(self, change: FileChange, pull: models.Model, ctx: SeedContext) -> Row | None:
        return None

    def review_comment(self, comment: ReviewComment, pull: models.Model, ctx: SeedContext) -> Row | None:
        return None

    def issue_comment(self, comment: IssueComment, pull: models.Model, ctx: SeedContext) -> Row | None:
        return None


def load_seeder(spec: RealProjectSeeder | type[RealProjectSeeder] | str) -> RealProjectSeeder:
    """A seeder from an instance, a class, or a dotted path (``"metrics.seeders.MetricsSeeder"``)."""
    from django.utils.module_loading import import_string

    target: object = spec
    if isinstance(spec, str):
        try:
            target = import_string(spec)
        except ImportError as exc:
            msg = (
                f"cannot import the seeder {spec!r} ({exc}); give the dotted path of your "
                "RealProjectSeeder subclass, e.g. 'metrics.seeders.MetricsSeeder'"
            )
            raise SeederError(msg) from None
    if isinstance(target, type) and issubclass(target, RealProjectSeeder):
        kind = target
        try:
            target = kind()
        except TypeError as exc:  # an abstract method left out, or a constructor that needs arguments
            msg = f"cannot create the seeder {kind.__qualname__} ({exc}); implement pull_request()"
            raise SeederError(msg) from None
    if not isinstance(target, RealProjectSeeder):
        msg = f"the seeder {spec!r} is not a RealProjectSeeder (subclass or instance); got {target!r}"
        raise SeederError(msg)
    return target


def seed_snapshot(
    seeder: RealProjectSeeder,
    project: str,
    snapshot: Snapshot,
    *,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Write ``snapshot`` through ``seeder`` in one transaction; with ``dry_run``, only count.

    ``progress`` receives one line per stage. Returns the counts per model.
    """
    started = time.monotonic()
    report = SeedReport(
        project=project, repository=snapshot.repository.full_name, dry_run=dry_run, prs=len(snapshot.prs)
    )
    ctx = SeedContext(project, snapshot, dry_run=dry_run)
    writer = _Writer(seeder, report, progress)
    # Reads too run in the transaction in a dry run: its counts see one consistent database.
    with transaction.atomic(using=seeder.using):
        people = list(_people(snapshot))
        members = writer.write("team members", [seeder.team_member(user, ctx) for user in people])
        for user, row in zip(people, members, strict=True):
            if row is not None:
                ctx._remember(user, row)
        pull_rows = writer.write("pull requests", [seeder.pull_request(pr, ctx) for pr in snapshot.prs])
        pulls = [(pr, row) for pr, row in zip(snapshot.prs, pull_rows, strict=True) if row is not None]
        writer.write("reviews", [seeder.review(r, row, ctx) for pr, row in pulls for r in pr.reviews])
        writer.write("commits", [seeder.commit(c, row, ctx) for pr, row in pulls for c in pr.commits])
        writer.write("files", [seeder.file_change(f, row, ctx) for pr, row in pulls for f in pr.files])
        writer.write(
            "review comments",
            [seeder.review_comment(c, row, ctx) for pr, row in pulls for c in pr.review_comments],
        )
        writer.write(
            "issue comments",
            [seeder.issue_comment(c, row, ctx) for pr, row in pulls for c in pr.issue_comments],
        )
    report.seconds = time.monotonic() - started
    return report


def _people(snapshot: Snapshot) -> Iterator[User]:
    """Every account that appears in the snapshot, once each, in order of appearance."""
    seen: set[int] = set()
    for pr in snapshot.prs:
        candidates = [
            pr.user,
            pr.merged_by,
            *pr.requested_reviewers,
            *(r.user for r in pr.reviews),
            *(c.user for c in pr.review_comments),
            *(c.user for c in pr.issue_comments),
        ]
        for user in candidates:
            if user is not None and user.id not in seen:
                seen.add(user.id)
                yield user


class _Writer:
    """Writes the rows of one stage, model by model: bulk lookup of existing keys, then bulk insert/update."""

    def __init__(
        self, seeder: RealProjectSeeder, report: SeedReport, progress: Callable[[str], None] | None
    ) -> None:
        self.using = seeder.using
        self.batch_size = seeder.batch_size
        self.report = report
        self.progress = progress

    def write(self, stage: str, rows: Sequence[object]) -> list[models.Model | None]:
        """The saved (in a dry run: matched or unsaved) instance of each row, ``None`` where the row is.

        ``rows`` are what the seeder's methods returned: anything at run time, checked here.
        """
        by_model: dict[type[models.Model], list[tuple[int, Row]]] = {}
        for index, row in enumerate(rows):
            if row is None:
                continue
            if not isinstance(row, Row):
                msg = f"the seeder's method for {stage} must return a Row or None, got {row!r}"
                raise SeederError(msg)
            by_model.setdefault(row.model, []).append((index, row))
        saved: list[models.Model | None] = [None] * len(rows)
        for model, indexed in by_model.items():
            count, instances = self._upsert(stage, model, [row for _, row in indexed])
            for (index, _), instance in zip(indexed, instances, strict=True):
                saved[index] = instance
            self.report.counts.setdefault(model._meta.label, ModelCount()).add(count)
            if self.progress is not None:
                self.progress(
                    f"{self.report.project}: {stage} -> {model._meta.label}: "
                    f"{count.describe(dry_run=self.report.dry_run)}"
                )
        return saved

    def _upsert(
        self, stage: str, model: type[models.Model], rows: list[Row]
    ) -> tuple[ModelCount, list[models.Model]]:
        key_names, value_names = tuple(rows[0].key), sorted(rows[0].values)
        key_columns = _columns(stage, model, key_names, what="key")
        value_columns = _columns(stage, model, value_names, what="value")
        overlap = sorted(set(value_names).intersection(key_names))
        if overlap:
            msg = f"a {stage} Row of {model._meta.label} names {overlap} in both key and values; name each field once"
            raise SeederError(msg)
        unique: dict[Key, Row] = {}
        for row in rows:
            if tuple(row.key) != key_names or sorted(row.values) != value_names:
                msg = (
                    f"every {stage} Row of {model._meta.label} must have the same key and value fields; "
                    f"got key {key_names} with values {value_names}, then key {tuple(row.key)} "
                    f"with values {sorted(row.values)}"
                )
                raise SeederError(msg)
            unique[_db_values(row.key.values())] = row  # the same item twice: the last one wins
        existing = self._existing(model, key_columns, value_columns, list(unique))
        count = ModelCount()
        instances: dict[Key, models.Model] = {}
        new: list[models.Model] = []
        changed: list[models.Model] = []
        for key, row in unique.items():
            instance = model(**row.key, **row.values)
            instances[key] = instance
            if key not in existing:
                new.append(instance)
                continue
            pk, stored = existing[key]
            instance.pk = pk
            instance._state.adding = False
            instance._state.db = self.using
            if stored == _db_values(row.values[name] for name in value_names):
                count.unchanged += 1
            else:
                changed.append(instance)
        count.created, count.updated = len(new), len(changed)
        if not self.report.dry_run:
            manager = model._default_manager.db_manager(self.using)
            if new:
                manager.bulk_create(new, batch_size=self.batch_size)
            if changed:
                manager.bulk_update(changed, value_names, batch_size=self.batch_size)
            unset = [key for key, instance in instances.items() if instance.pk is None]
            if unset:  # a backend that returns no primary keys from a bulk insert (MySQL)
                for key, (pk, _) in self._existing(model, key_columns, [], unset).items():
                    instances[key].pk = pk
        return count, [instances[_db_values(row.key.values())] for row in rows]

    def _existing(
        self, model: type[models.Model], key_columns: list[str], value_columns: list[str], keys: list[Key]
    ) -> dict[Key, tuple[Any, Key]]:
        """The primary key and stored values of every ``keys`` entry already in the database."""
        # A key with an unsaved parent (a dry run's new pull request) cannot be in the database.
        wanted = [key for key in keys if not any(isinstance(part, _Unsaved) for part in key)]
        found: dict[Key, tuple[Any, Key]] = {}
        queryset = model._default_manager.db_manager(self.using).all()
        width = len(key_columns)
        chunk = max(1, _LOOKUP_PARAMETERS // width)
        for start in range(0, len(wanted), chunk):
            part = set(wanted[start : start + chunk])
            filters = {f"{name}__in": {key[i] for key in part} for i, name in enumerate(key_columns)}
            # Each column's IN list is a superset: keep only the exact combinations asked for.
            for record in queryset.filter(**filters).values_list(*key_columns, "pk", *value_columns):
                key = tuple(record[:width])
                if key in part:
                    found[key] = (record[width], tuple(record[width + 1 :]))
        return found


@dataclass(frozen=True, slots=True)
class _Unsaved:
    """Stands for a row not in the database yet (a dry run's new parent): equal only to itself."""

    identity: int


def _db_values(values: Iterable[Any]) -> Key:
    """Values as the database stores them, for comparison: a related row stands for its primary key."""
    return tuple(_db_value(value) for value in values)


def _db_value(value: Any) -> Hashable:
    if not isinstance(value, models.Model):
        return value  # type: ignore[no-any-return]
    # Two unsaved parents must not make one key: (None, "README.md") of two new pull requests.
    return _Unsaved(id(value)) if value.pk is None else value.pk


def _columns(stage: str, model: type[models.Model], names: Sequence[str], *, what: str) -> list[str]:
    """The database columns (``pull_request_id`` for ``pull_request``) of a Row's key or value fields."""
    from django.core.exceptions import FieldDoesNotExist

    if what == "key" and not names:
        msg = f"a {stage} Row of {model._meta.label} has an empty key; give the field(s) that identify it, e.g. github_id"
        raise SeederError(msg)
    columns = []
    for name in names:
        try:
            found = model._meta.get_field(name)
        except FieldDoesNotExist:
            msg = f"{model._meta.label} has no field {name!r} (a {what} field of its {stage} Row)"
            raise SeederError(msg) from None
        if not isinstance(found, models.Field) or not found.concrete or found.primary_key:
            msg = (
                f"the {what} field {name!r} of {model._meta.label} is not a column that can be set "
                "(a reverse relation, a many-to-many field or the primary key); use the model's own fields"
            )
            raise SeederError(msg)
        columns.append(found.attname)
    return columns
