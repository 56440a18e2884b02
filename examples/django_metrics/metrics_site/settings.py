"""Settings of the example: SQLite in a file next to manage.py, or wherever DJANGO_METRICS_DB says."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# An example that serves no page: the key only has to exist.
SECRET_KEY = "django-metrics-example-not-a-secret"
DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "pytest_ghseed.contrib.django",  # the seed_real_projects management command
    "metrics",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        # Tests and scripts point this elsewhere, so that the example folder stays clean.
        "NAME": os.environ.get("DJANGO_METRICS_DB", str(BASE_DIR / "db.sqlite3")),
    }
}

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# pytest-ghseed: who maps pull requests onto our models, and where recordings are kept.
GHSEED_SEEDER = "metrics.seeders.MetricsSeeder"
GHSEED_CACHE_DIR = os.environ.get("DJANGO_METRICS_CACHE_DIR", str(BASE_DIR / "cassettes"))
