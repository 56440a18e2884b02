"""``python -m pytest_ghseed.cli``: the ``ghseed`` command."""

from pytest_ghseed.cli import main

raise SystemExit(main())
