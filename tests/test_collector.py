"""The cyclic collector's policy during a build (workers.few_collections, imports_uncollected)."""
from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from generator import workers

ROOT = Path(__file__).parent.parent

FRESH = """
import gc, sys
import generator.cli
assert "generator.pipeline" not in sys.modules and "sympy" not in sys.modules   # or the guard never freezes
from generator.workers import imports_uncollected
seen = []
with imports_uncollected():
    seen.append(gc.isenabled())
    import generator.pipeline
print(seen[0], gc.isenabled(), gc.get_freeze_count() > 10_000)
"""


def test_a_fresh_process_imports_gen_uncollected_and_freezes_what_it_imported():
    out = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, check=True, timeout=60,
                         cwd=ROOT).stdout.split()
    assert out == ["False", "True", "True"]


def test_where_gen_is_imported_already_nothing_is_frozen_or_disabled():
    import generator.pipeline  # noqa: F401
    frozen = gc.get_freeze_count()
    with workers.imports_uncollected():
        assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_few_collections_raises_the_thresholds_and_restores_them():
    before = gc.get_threshold()
    with workers.few_collections():
        assert gc.get_threshold()[0] >= 50_000
    assert gc.get_threshold() == before
