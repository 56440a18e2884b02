"""The test database is created by pytest-django, then seeded once per session from the demo project."""

from __future__ import annotations

from pytest_ghseed.contrib.django.pytest_fixtures import seeded_django_db_setup

django_db_setup = seeded_django_db_setup("metrics.seeders.MetricsSeeder")
