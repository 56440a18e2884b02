"""The benchmark scripts stay importable: a rename in the package cannot silently break them."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCHMARKS.glob("bench_*.py")))
def test_benchmark_script_imports(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ``benchmarks/bench_*.py`` imports cleanly and has a ``main``."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    module = importlib.import_module(name)
    assert callable(getattr(module, "main", None))
    sys.modules.pop(name, None)
