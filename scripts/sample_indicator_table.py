"""Write the sample cooperative's indicators and legality table into sample_plots/README.md
(between its `<!-- indicators:begin -->` and `<!-- indicators:end -->` markers): a check of
sample_plots/cooperativa.geojson on sample_data/ with config/datasets.yaml, one row per plot
that shows an indicator other than the common case or a legality finding, and the counts.

Run with `.venv/bin/python scripts/sample_indicator_table.py` after changing the sample data,
the catalog or the indicator policy; tests/test_sample_table.py fails when the table is stale.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "sample_plots" / "README.md"
BEGIN, END = "<!-- indicators:begin -->", "<!-- indicators:end -->"
LEGAL = ("in_protected_area", "on_indigenous_land", "in_production_forest")


def table() -> str:
    from eudr_check.datasets.catalog import load_catalog
    from eudr_check.engine import DataSources, check_report
    from eudr_check.intake import read_plots
    from eudr_check.reports.records import plot_records
    from eudr_check.rules import validate

    catalog = load_catalog(ROOT / "config" / "datasets.yaml")
    report = validate(read_plots(ROOT / "sample_plots" / "cooperativa.geojson"), fix=True)
    run = check_report(report, DataSources(catalog, ROOT / "sample_data"))
    optional = frozenset(d.id for d in catalog.enabled if d.optional)
    records = plot_records(report, run.results, 0, catalog.indicators, optional)
    combos: Counter[tuple[str, ...]] = Counter()
    rows = []
    for rec in records:
        ind = rec.indicators.as_row() if rec.indicators else {}
        values = tuple(ind.values()) or ("–",) * 5
        combos[(rec.result.verdict.value, *values)] += 1
        legal = [f for f in rec.findings if f.code.value in LEGAL]
        if (
            legal
            or ind.get("ind_03_disturbance_before_2020") == "yes"
            or (ind.get("risk_pcrop") in ("high", "undetermined"))
        ):
            what = "; ".join(f"`{f.code.value}` ({f.severity.value}, {f.param('percent')} % in "
                             f"{f.param('name')})" for f in legal) or "–"  # fmt: skip
            rows.append(f"| {rec.plot_id} | {rec.result.verdict.value} | "
                        + " | ".join(values) + f" | {what} |")  # fmt: skip
    head = ("| verdict | ind_01 tree cover 2020 | ind_02 commodity 2020 | ind_03 disturbed before "
            "2021 | ind_04 disturbed after 2020 | risk_pcrop | plots |\n| --- | --- | --- | --- | "
            "--- | --- | --- |")  # fmt: skip
    counts = "\n".join(f"| {' | '.join(k)} | {n} |" for k, n in sorted(combos.items()))
    plots = ("| plot | verdict | ind_01 | ind_02 | ind_03 | ind_04 | risk_pcrop | legality |\n"
             "| --- | --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows))  # fmt: skip
    return (
        f"{BEGIN}\n## Indicators and legality (synthetic layers)\n\n"
        "Whisp-compatible indicators (`ind_01`–`ind_04`, `risk_pcrop`) and legality findings of "
        "the sample cooperative, from `eudr-check check` on `sample_data/` (synthetic rasters, and "
        "the synthetic protected area, buffer zone and native community of `sample_data/sernanp/` "
        "and `sample_data/comunidades/`). No sample raster maps a commodity in 2020 "
        "(`ind_02` is no everywhere); `unknown`: a dataset that could show it has no data over "
        "the plot. Written by `scripts/sample_indicator_table.py`.\n\n"
        f"{head}\n{counts}\n\nPlots worth a look (a legality finding, a disturbance before 2021, "
        f"or a high or undetermined risk):\n\n{plots}\n{END}"
    )


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = table()
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + new + text[text.index(END) + len(END) :]
    else:
        text = text.replace("## Credits", new + "\n\n## Credits", 1)
    README.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
