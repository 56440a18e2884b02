"""Lets the example tests import the example application module next to them."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# A Django project with its own pytest.ini (settings module, pytest-django): run `pytest` inside that
# folder. Collected from here it would have no Django settings.
collect_ignore = ["django_metrics"]
