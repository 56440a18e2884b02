"""The Django app that provides the ``seed_real_projects`` management command."""

from __future__ import annotations

from django.apps import AppConfig


class GhseedConfig(AppConfig):
    """pytest-ghseed as an installed app: no models, one management command."""

    name = "pytest_ghseed.contrib.django"
    # "django" would clash with Django's own labels' namespace in messages; "ghseed" says whose it is.
    label = "ghseed"
    verbose_name = "pytest-ghseed"
