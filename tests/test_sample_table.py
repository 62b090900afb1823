"""sample_plots/README.md's indicators and legality table is what a check of the sample says
(scripts/sample_indicator_table.py writes it; run it after changing data, catalog or policy)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_table_matches_a_check_of_the_sample() -> None:
    spec = importlib.util.spec_from_file_location(
        "table", ROOT / "scripts" / "sample_indicator_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "sample_plots" / "README.md").read_text(encoding="utf-8")
    fresh = module.table()
    assert fresh in text, "stale: run .venv/bin/python scripts/sample_indicator_table.py"
    assert "`in_protected_area` (error" in fresh and "`on_indigenous_land`" in fresh
