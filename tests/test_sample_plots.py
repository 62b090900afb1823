"""The bundled sample cooperative (sample_plots/): each deliberately broken plot listed in the
README gets its code, no good plot gets an error, and every sample file can be read.

The README's problem table is the single statement of what the sample contains; it is written
by scripts/make_sample_plots.py together with the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import shapely

from eudr_check.findings import Code, Finding, Severity

SAMPLES = Path(__file__).resolve().parents[1] / "sample_plots"
MAIN = SAMPLES / "cooperativa.geojson"
# A finding about a pair of plots may name either one, with the other as the related plot.
PAIR_CODES = {"duplicate_geometry", "overlap"}
# The EU rules the sample covers on purpose, one broken plot (or pair) each.
COVERED = {
    "self_intersection", "spike", "hole", "ring_not_closed", "too_few_positions", "linestring",
    "latlon_swapped", "low_precision", "rounding_duplicates", "z_or_m_values", "point_over_4ha",
    "area_mismatch", "area_too_small", "area_too_large", "duplicate_plot_id",
    "duplicate_geometry", "overlap", "outside_country", "near_border", "country_inferred",
    "country_invalid", "area_is_string", "point_nested_coordinates", "coord_out_of_range",
    "multipart", "degenerate_polygon",
}  # fmt: skip


@dataclass(frozen=True)
class Expected:
    plot_id: str
    files: tuple[str, ...]
    code: str
    severity: str


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def problem_table(readme: str) -> list[Expected]:
    """Rows of the README table whose header starts `| plot_id | file(s) |`."""
    lines = readme.splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.replace(" ", "").startswith("|plot_id|file(s)|")
    )
    header = _cells(lines[start])
    rows = []
    for line in lines[start + 2 :]:  # skip the | --- | line
        if not line.startswith("|"):
            break
        cell = dict(zip(header, _cells(line), strict=True))
        rows.append(
            Expected(
                plot_id=cell["plot_id"].strip("`"),
                files=tuple(f.strip().strip("`") for f in cell["file(s)"].split(",")),
                code=cell["expected code"].strip("`"),
                severity=cell["severity"],
            )
        )
    return rows


EXPECTED = problem_table((SAMPLES / "README.md").read_text(encoding="utf-8"))
MAIN_EXPECTED = [row for row in EXPECTED if MAIN.name in row.files]
MAIN_IDS = {f["properties"]["plot_id"] for f in json.loads(MAIN.read_text("utf-8"))["features"]}
GOOD_IDS = MAIN_IDS - {row.plot_id for row in EXPECTED}
ROW_IDS = [f"{row.plot_id}-{row.code}" for row in MAIN_EXPECTED]
OTHER_FILES = sorted(p.name for p in SAMPLES.iterdir() if p.name not in ("README.md", MAIN.name))


def _findings_of(findings: list[Finding], plot_id: str, code: str) -> list[Finding]:
    return [
        f
        for f in findings
        if f.code.value == code
        and (f.plot_id == plot_id or (code in PAIR_CODES and f.related_plot_id == plot_id))
    ]


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    """Intake and rule findings for the main file (rules run without repairs)."""
    from eudr_check.intake import read_plots
    from eudr_check.rules import validate

    table = read_plots(MAIN)
    report = validate(table, fix=False)
    # Whether the report repeats intake's findings is validate's business: look at both.
    return [*table.findings, *report.findings]


# ---- the table and the data agree (no rules needed) ----
def test_problem_table_is_parsed_and_consistent() -> None:
    assert len(EXPECTED) >= 27
    assert {row.code for row in EXPECTED} == COVERED
    known_files = {p.name for p in SAMPLES.iterdir()}
    for row in EXPECTED:
        assert Code(row.code).value == row.code
        assert Severity(row.severity) in (Severity.ERROR, Severity.WARNING, Severity.REPAIRED)
        assert row.plot_id in MAIN_IDS, row.plot_id
        assert MAIN.name in row.files and set(row.files) <= known_files, row
    # Pairs are listed under both plots.
    for code in PAIR_CODES:
        assert sum(row.code == code for row in EXPECTED) == 2


def test_sample_is_mostly_good_and_labelled_fictional() -> None:
    doc = json.loads(MAIN.read_text("utf-8"))
    assert "ficticia" in doc["name"]
    assert len(GOOD_IDS) > len(EXPECTED)
    readme = (SAMPLES / "README.md").read_text("utf-8")
    assert "Made with Natural Earth." in readme
    assert sum(p.stat().st_size for p in SAMPLES.iterdir()) < 1_000_000


def test_good_plots_pass_intake_cleanly() -> None:
    from eudr_check.intake import read_plots

    table = read_plots(MAIN)
    assert len(table.plots) == len(json.loads(MAIN.read_text("utf-8"))["features"])
    errors = [f for f in table.findings if f.plot_id in GOOD_IDS]
    assert errors == []
    good = table.plots[table.plots["plot_id"].isin(GOOD_IDS)]
    assert good["usable"].all()
    assert set(good["producer_country"]) == {"PE"}
    assert set(good["commodity"]) == {"coffee", "cocoa"}


# ---- the rules find what the table says ----
@pytest.mark.parametrize("row", MAIN_EXPECTED, ids=ROW_IDS)
def test_broken_plot_gets_its_code(findings: list[Finding], row: Expected) -> None:
    found = _findings_of(findings, row.plot_id, row.code)
    got = sorted({f.code.value for f in findings if f.plot_id == row.plot_id})
    assert found, f"{row.plot_id}: expected {row.code}, got {got}"
    assert any(f.severity.value == row.severity for f in found), [f.severity for f in found]


@pytest.mark.parametrize("row", MAIN_EXPECTED, ids=ROW_IDS)
def test_broken_plot_has_no_second_error(findings: list[Finding], row: Expected) -> None:
    """Each broken plot was designed to break exactly one rule: its code is its only error."""
    other = {
        f.code.value
        for f in findings
        if f.plot_id == row.plot_id and f.severity is Severity.ERROR and f.code.value != row.code
    }
    assert not other, f"{row.plot_id} ({row.code}) also got {sorted(other)}"


def test_good_plots_get_no_error(findings: list[Finding]) -> None:
    errors = sorted(
        (f.plot_id, f.code.value)
        for f in findings
        if f.plot_id in GOOD_IDS and f.severity is Severity.ERROR
    )
    assert errors == []


# ---- every other format reads ----
@pytest.mark.parametrize("name", OTHER_FILES)
def test_sample_file_reads(name: str) -> None:
    from eudr_check.intake import read_plots

    table = read_plots(SAMPLES / name)
    assert len(table.plots) > 0
    assert set(table.plots["plot_id"]) <= MAIN_IDS, "plot codes must be read from the file"


def test_utm_without_crs_is_flagged_with_zone_17s() -> None:
    from eudr_check.intake import read_plots

    table = read_plots(SAMPLES / "cooperativa_utm_sin_crs.csv")
    flagged = [f for f in table.findings if f.code is Code.CRS_PROJECTED_UNKNOWN]
    assert {f.plot_id for f in flagged} == set(table.plots["plot_id"])
    assert all(f.param("epsg") == 32717 for f in flagged)


def test_shapefile_is_reprojected_onto_the_main_geometries() -> None:
    from eudr_check.intake import read_plots

    table = read_plots(SAMPLES / "cooperativa_shp.zip")
    assert any(f.code is Code.CRS_REPROJECTED for f in table.findings)
    main = {}
    for feature in json.loads(MAIN.read_text("utf-8"))["features"]:
        main.setdefault(feature["properties"]["plot_id"], []).append(
            shapely.geometry.shape(feature["geometry"])
        )
    for plot_id, geom in zip(table.plots["plot_id"], table.plots.geometry, strict=True):
        # UTM metres were stored to the cm: back in degrees that is well under 1e-6.
        assert min(geom.hausdorff_distance(g) for g in main[plot_id]) < 1e-6, plot_id
