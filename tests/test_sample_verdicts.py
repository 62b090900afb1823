"""Every plot of the sample cooperative gets the verdict sample_data/README.md promises, through
the public pipeline on the synthetic sample rasters.

The README table has one row per feature of sample_plots/cooperativa.geojson, in file order; the
repeated ID SIG-020 is numbered `SIG-020 (#1)`, `SIG-020 (#2)`. The codes in backticks at the
end of its *why (en)* column are reason codes the result must carry.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eudr_check.datasets.catalog import load_catalog
from eudr_check.intake import read_plots
from eudr_check.reasons import Reason, Verdict
from eudr_check.rules import ValidationReport, validate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sample_data"
README = DATA / "README.md"
PLOTS = ROOT / "sample_plots" / "cooperativa.geojson"


@dataclass(frozen=True)
class Row:
    key: str  # plot_id, or "SIG-020 (#1)" for a repeated ID
    verdict: str
    reasons: tuple[str, ...]

    @property
    def plot_id(self) -> str:
        return self.key.split(" (#")[0]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def verdict_table() -> list[Row]:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("| plot_id | expected verdict |"))
    header = _cells(lines[start])
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cell = dict(zip(header, _cells(line), strict=True))
        codes = tuple(re.findall(r"`([a-z0-9_]+)`", cell["why (en)"]))
        rows.append(Row(cell["plot_id"], cell["expected verdict"], codes))
    return rows


def keyed(ids: list[str]) -> list[str]:
    counts, seen = Counter(ids), Counter[str]()
    out = []
    for pid in ids:
        seen[pid] += 1
        out.append(f"{pid} (#{seen[pid]})" if counts[pid] > 1 else pid)
    return out


ROWS = verdict_table()


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return validate(read_plots(PLOTS), fix=True)


@pytest.fixture(scope="module")
def run(report: ValidationReport) -> Any:
    from eudr_check.engine import DataSources, check_report

    catalog = load_catalog(ROOT / "config" / "datasets.yaml")
    return check_report(report, DataSources(catalog, DATA))


def test_table_has_one_row_per_plot_in_file_order(report: ValidationReport) -> None:
    assert [r.key for r in ROWS] == keyed(report.plots["plot_id"].tolist())
    assert len(ROWS) == 75
    assert {r.verdict for r in ROWS} == {v.value for v in Verdict}
    known = {r.value for r in Reason}
    for r in ROWS:
        assert r.reasons and set(r.reasons) <= known, r


def test_table_has_a_realistic_mix() -> None:
    counts = Counter(r.verdict for r in ROWS)
    analysed = [r for r in ROWS if "geometry_error" not in r.reasons]
    assert counts["deforestation_free"] >= len(analysed) * 0.4
    assert counts["needs_review"] >= 5 and counts["deforestation_detected"] >= 3
    assert any("no_data" in r.reasons and r.verdict == "undetermined" for r in analysed)


def test_every_plot_gets_its_expected_verdict(run: Any) -> None:
    results = run.results
    assert len(results) == len(ROWS)
    wrong = [
        f"{row.key}: expected {row.verdict}, got {res.verdict.value} "
        f"({', '.join(r.code.value for r in res.reasons)})"
        for row, res in zip(ROWS, results, strict=True)
        if res.verdict.value != row.verdict
    ]
    assert not wrong, "\n".join(wrong)
    assert [res.plot_id for res in results] == [row.plot_id for row in ROWS]


def test_every_plot_carries_its_main_reasons(run: Any) -> None:
    missing = []
    for row, res in zip(ROWS, run.results, strict=True):
        got = {r.code.value for r in res.reasons}
        if not set(row.reasons) <= got:
            missing.append(f"{row.key}: expected {row.reasons}, got {sorted(got)}")
    assert not missing, "\n".join(missing)
