"""A user's own ORM models, filled from pytest-ghseed pull requests, and two metrics computed in SQL.

This is what an application under test might look like: a ``Pull`` table and a ``Review`` table
(SQLAlchemy 2.x declarative mapping) and report queries over them. Tests map pull requests from
``PullRequestFactory``, from ``RealPullRequestFactory`` or straight from a snapshot with
:func:`to_orm`, then assert on the query results.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, String, create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from pytest_ghseed.models import PullRequest


class Base(DeclarativeBase):
    """The declarative base of this example's models."""


class Pull(Base):
    """One pull request, as the application stores it."""

    __tablename__ = "pull"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(512))
    author: Mapped[str | None] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(10))
    merged: Mapped[bool]
    # Stored as naive UTC: SQLite has no time zones, and mixing aware and naive values breaks queries.
    created_at: Mapped[datetime] = mapped_column(DateTime)
    merged_at: Mapped[datetime | None] = mapped_column(DateTime)
    additions: Mapped[int]
    deletions: Mapped[int]
    reviews: Mapped[list[Review]] = relationship(back_populates="pull", cascade="all, delete-orphan")


class Review(Base):
    """One submitted (or pending) review of a pull request."""

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    pull_id: Mapped[int] = mapped_column(ForeignKey("pull.id"), index=True)
    reviewer: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    pull: Mapped[Pull] = relationship(back_populates="reviews")


def _naive_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def to_orm(pr: PullRequest) -> Pull:
    """Map a pytest-ghseed pull request (generated or real) to this application's ``Pull`` row."""
    created = _naive_utc(pr.created_at)
    assert created is not None
    return Pull(
        id=pr.id,
        number=pr.number,
        title=pr.title,
        author=pr.user.login if pr.user is not None else None,
        state=pr.state,
        merged=pr.merged,
        created_at=created,
        merged_at=_naive_utc(pr.merged_at),
        additions=pr.additions,
        deletions=pr.deletions,
        reviews=[
            Review(
                id=review.id,
                reviewer=review.user.login if review.user is not None else None,
                state=review.state,
                submitted_at=_naive_utc(review.submitted_at),
            )
            for review in pr.reviews
        ],
    )


def memory_engine() -> Engine:
    """A fresh in-memory SQLite database with this example's tables."""
    engine = create_engine("sqlite+pysqlite:///:memory:")
    Base.metadata.create_all(engine)
    return engine


def load(session: Session, prs: Iterable[PullRequest]) -> int:
    """Store the pull requests; returns how many were added."""
    rows = [to_orm(pr) for pr in prs]
    session.add_all(rows)
    session.flush()
    return len(rows)


def median_time_to_merge(session: Session) -> timedelta | None:
    """The median time from creation to merge over merged pulls; ``None`` when none is merged."""
    # julianday() differences are in days; SQLite has no MEDIAN, so the ordering is done in Python.
    days = session.scalars(
        select(func.julianday(Pull.merged_at) - func.julianday(Pull.created_at)).where(Pull.merged.is_(True))
    ).all()
    if not days:
        return None
    return timedelta(days=statistics.median(days))


def reviews_per_author(session: Session) -> dict[str, int]:
    """How many reviews each author's pull requests received, authors without reviews included (0)."""
    rows = session.execute(
        select(Pull.author, func.count(Review.id))
        .outerjoin(Review, Review.pull_id == Pull.id)
        .where(Pull.author.is_not(None))
        .group_by(Pull.author)
        .order_by(Pull.author)
    ).all()
    return {author: int(count) for author, count in rows if author is not None}
