"""pytest-django integration: a test database seeded once per session from real pull requests.

In your ``conftest.py``::

    from pytest_ghseed.contrib.django.pytest_fixtures import seeded_django_db_setup

    django_db_setup = seeded_django_db_setup("metrics.seeders.MetricsSeeder")

and run ``pytest --ghseed-project=demo`` (or set ``ghseed_project`` in the ini file). pytest-django
creates the test database as usual; then every configured project's snapshot (the plugin's
``ghseed_snapshots`` fixture: the same cache, record modes and options as every ghseed fixture) is
written through your seeder, once per session. Tests marked ``django_db`` (or using ``db``) see the
rows; each test's own changes are rolled back as usual. ``transactional_db`` tests flush the tables
after they run, taking the seeded rows with them: keep those in another session or seed them yourself.
With pytest-xdist every worker seeds its own test database from the one recording.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pytest

from pytest_ghseed.contrib.django.seeder import RealProjectSeeder, SeedReport, load_seeder, seed_snapshot

if TYPE_CHECKING:
    from pytest_django import DjangoDbBlocker

    from pytest_ghseed.models import Snapshot


def seeded_django_db_setup(
    seeder: RealProjectSeeder | type[RealProjectSeeder] | str,
) -> Callable[..., Mapping[str, SeedReport]]:
    """A session fixture named ``django_db_setup`` that extends pytest-django's with the seeding.

    Assign it to ``django_db_setup`` in a conftest. Its value, should a test ask for
    ``django_db_setup``, is the :class:`SeedReport` of each project, by name.
    """

    @pytest.fixture(scope="session", name="django_db_setup")
    def seeded(
        django_db_setup: None,
        django_db_blocker: DjangoDbBlocker,
        ghseed_snapshots: Mapping[str, Snapshot],
    ) -> Mapping[str, SeedReport]:
        instance = load_seeder(seeder)
        reports: dict[str, SeedReport] = {}
        with django_db_blocker.unblock():
            for name, snapshot in ghseed_snapshots.items():
                reports[name] = seed_snapshot(instance, name, snapshot)
        return reports

    fixture: Callable[..., Mapping[str, SeedReport]] = seeded
    return fixture
