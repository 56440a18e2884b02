"""pytest-ghseed for Django: seed your own models from real pull requests (``pip install pytest-ghseed[django]``).

Add ``"pytest_ghseed.contrib.django"`` to ``INSTALLED_APPS`` for the ``seed_real_projects`` management
command, subclass :class:`~pytest_ghseed.contrib.django.seeder.RealProjectSeeder` to map pull requests,
reviews, commits, files and comments onto your models, and in tests use
:func:`~pytest_ghseed.contrib.django.pytest_fixtures.seeded_django_db_setup`. See docs/django.md.

Nothing outside this package imports Django: ``pytest_ghseed.plugin`` stays free of it.
"""
