"""Tests of examples/orm_example: generated and real pull requests mapped into a user's SQLAlchemy models."""

from __future__ import annotations

import importlib.util
import random
import statistics
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("sqlalchemy", minversion="2.0")

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pytest_ghseed.emulator.synthetic import ProjectSpec, SyntheticProject
from pytest_ghseed.factories import PullRequestFactory, make_real_factory
from pytest_ghseed.models import PullRequest, Repository, Snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "orm_example" / "orm.py"


@pytest.fixture(scope="module")
def orm() -> ModuleType:
    """The example's module, loaded from its file (examples/ is not a package on sys.path)."""
    spec = importlib.util.spec_from_file_location("ghseed_orm_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered: SQLAlchemy evaluates the string annotations (Mapped["Review"]) in the module's
    # namespace, which it finds through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_snapshot() -> Snapshot:
    """The emulator's demo project (60 pull requests), as a recorded snapshot."""
    truth = SyntheticProject(ProjectSpec("ghseed/demo", n_prs=60, seed=20240101, extremes=True)).truth()
    return Snapshot(
        repository=Repository(full_name="ghseed/demo", id=1),
        recorded_at=datetime(2025, 1, 1, tzinfo=UTC),
        prs=tuple(truth),
    )


@pytest.fixture
def session(orm: ModuleType) -> Iterator[Session]:
    """A session on a fresh in-memory database with the example's tables."""
    with Session(orm.memory_engine()) as session:
        yield session


def expected_median(prs: Sequence[PullRequest]) -> timedelta:
    """The median time to merge, computed in Python from the models."""
    seconds = [(pr.merged_at - pr.created_at).total_seconds() for pr in prs if pr.merged_at is not None]
    return timedelta(seconds=statistics.median(seconds))


def expected_reviews(prs: Sequence[PullRequest]) -> dict[str, int]:
    """Reviews received per author, computed in Python from the models."""
    counts: Counter[str] = Counter()
    for pr in prs:
        if pr.user is not None:
            counts[pr.user.login] += len(pr.reviews)
    return dict(sorted(counts.items()))


def assert_queries_match(orm: ModuleType, session: Session, prs: Sequence[PullRequest]) -> None:
    """The example's SQL metrics agree with the same metrics computed from the models."""
    assert orm.load(session, prs) == len(prs)
    assert session.scalar(select(func.count()).select_from(orm.Review)) == sum(len(pr.reviews) for pr in prs)
    median = orm.median_time_to_merge(session)
    # julianday() is a float of days: a millisecond is far below what the data's seconds resolve.
    assert abs(median - expected_median(prs)) < timedelta(milliseconds=1)
    assert orm.reviews_per_author(session) == expected_reviews(prs)


def test_generated_prs_map_and_query(orm: ModuleType, session: Session) -> None:
    """Pull requests from PullRequestFactory load into the ORM and the metrics come out right."""
    prs = PullRequestFactory.build_batch(60, rng=random.Random(11)) + PullRequestFactory.build_batch(
        20, merged=True, with_reviews=True, rng=random.Random(12)
    )
    assert_queries_match(orm, session, prs)


def test_real_prs_map_and_query(orm: ModuleType, session: Session, demo_snapshot: Snapshot) -> None:
    """The recorded pull requests of the demo project load into the ORM and the metrics come out right."""
    assert_queries_match(orm, session, demo_snapshot.prs)
    pull = session.get(orm.Pull, demo_snapshot.prs[0].id)
    assert pull is not None
    assert pull.title == demo_snapshot.prs[0].title


def test_real_and_real_seeded_prs_share_one_database(
    orm: ModuleType, session: Session, demo_snapshot: Snapshot
) -> None:
    """Real-seeded pull requests have fresh ids, so they load next to the real ones without clashes."""
    generated = make_real_factory(demo_snapshot, seed=8).build_batch(100)
    everything = [*demo_snapshot.prs, *generated]
    assert_queries_match(orm, session, everything)
    merged_authors = session.scalars(
        select(orm.Pull.author).where(orm.Pull.merged.is_(True)).distinct()
    ).all()
    assert set(merged_authors) <= {pr.user.login for pr in demo_snapshot.prs if pr.user is not None}


def test_empty_database_has_no_median(orm: ModuleType, session: Session) -> None:
    """With no merged pull request the median is None, not an error."""
    orm.load(session, PullRequestFactory.build_batch(5, draft=True, rng=random.Random(3)))
    assert orm.median_time_to_merge(session) is None
