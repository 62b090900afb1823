"""The DDS builder: producers grouped, verdicts refused or overridden, the EU's limits kept
(1,000 producers per commodity, 10,000 per statement, 25 MB of geolocation) with exact counts,
and every built request valid against the EU's own XSDs."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
import shapely
from lxml import etree
from shapely.geometry import Point, Polygon

from eudr_check.dds import contract
from eudr_check.dds.builder import Limits, build_statements, check_options
from eudr_check.dds.model import (
    MAX_GEO_BYTES,
    CommodityEntry,
    DeclaredPlot,
    ProducerEntry,
    Statement,
    StatementOptions,
)
from eudr_check.dds.request_xml import amend_request, statement_hash, submit_request
from eudr_check.errors import DdsSchemaError, OptionError
from eudr_check.reasons import Verdict

FREE = Verdict.DEFORESTATION_FREE
D = f"{{{contract.DDS_NS}}}"


def square(i: int, side: float = 0.001, n: int = 4) -> Polygon:
    """A plot near Jaén (Peru); `n` vertices on a circle when more than 4 are asked."""
    x, y = -78.8 + (i % 1000) * 0.002, -5.7 - (i // 1000) * 0.002
    if n == 4:
        return Polygon([(x, y), (x, y + side), (x + side, y + side), (x + side, y)])  # clockwise
    return Point(x, y).buffer(side, quad_segs=max(1, n // 4))


def plot(
    i: int, producer: str | None = None, verdict: Verdict | None = FREE, **kw: object
) -> DeclaredPlot:
    values: dict[str, object] = {
        "plot_id": f"P{i:05d}",
        "geometry": square(i),
        "verdict": verdict,
        "producer_name": producer if producer is not None else f"Productor {i}",
        "producer_country": "PE",
        "production_place": "Jaén",
        "declared_area_ha": 1.5,
        "commodity": "coffee",
    }
    values.update(kw)
    return DeclaredPlot(**values)  # type: ignore[arg-type]


def options(**kw: object) -> StatementOptions:
    values: dict[str, object] = {
        "hs_codes": {"*": "090111"},
        "net_mass_kg": 19_200.0,
        "internal_ref": "COOP-2026-12",
        "country_of_activity": "DE",
    }
    values.update(kw)
    return StatementOptions(**values)  # type: ignore[arg-type]


def decoded(entry: ProducerEntry) -> dict[str, object]:
    doc: dict[str, object] = json.loads(entry.geojson)
    return doc


def test_producers_are_grouped_and_plots_become_one_eu_feature_collection() -> None:
    plots = [plot(1, "Ana Quispe"), plot(2, "Ana Quispe"), plot(3, "Luis Huamán")]
    build = build_statements(plots, options())
    (st,) = build.statements
    (commodity,) = st.commodities
    assert [p.name for p in commodity.producers] == ["Ana Quispe", "Luis Huamán"]
    assert commodity.producers[0].plot_ids == ("P00001", "P00002")
    doc = decoded(commodity.producers[0])
    assert doc["type"] == "FeatureCollection"
    features = doc["features"]
    assert isinstance(features, list) and len(features) == 2
    props = features[0]["properties"]
    assert props == {
        "ProducerName": "Ana Quispe",
        "ProducerCountry": "PE",
        "ProductionPlace": "Jaén",
        "Area": 1.5,
    }
    ring = features[0]["geometry"]["coordinates"][0]
    # Six decimals at most, and the outer ring counter-clockwise (RFC 7946) though given clockwise.
    assert all(len(repr(c).split(".")[1]) <= 6 for xy in ring for c in xy)
    assert shapely.Polygon(ring).exterior.is_ccw
    assert commodity.net_mass_kg == Decimal("19200.000000")
    assert st.internal_ref == "COOP-2026-12" and st.comment is None


def test_verdicts_other_than_free_are_refused_unless_overridden_with_a_reason() -> None:
    plots = [
        plot(1),
        plot(2, verdict=Verdict.NEEDS_REVIEW),
        plot(3, verdict=Verdict.UNDETERMINED),
        plot(4, verdict=Verdict.DEFORESTATION_DETECTED),
        plot(5, verdict=None),
        plot(6, geometry=None),
        plot(7, producer_country=None),
        plot(8, commodity="cocoa"),
    ]
    build = build_statements(
        plots, options(), {"P00002": "Field visit 2026-11-20: shade coffee", "P00003": "   "}
    )
    assert build.plots_in == 8
    assert build.statements[0].plot_ids == ["P00001", "P00002"]
    assert [(o.plot_id, o.verdict) for o in build.overridden] == [("P00002", Verdict.NEEDS_REVIEW)]
    codes = {r.plot_id: r.code for r in build.refused}
    assert codes == {
        "P00003": "verdict_not_accepted",
        "P00004": "verdict_not_accepted",
        "P00005": "verdict_not_accepted",
        "P00006": "no_geometry",
        "P00007": "no_country",
        "P00008": "commodity_mismatch",
    }
    cocoa = next(r for r in build.refused if r.plot_id == "P00008")
    assert "cacao" in cocoa.es and "café" in cocoa.es and "090111" in cocoa.es
    assert "cocoa" in cocoa.en and "coffee" in cocoa.en
    only_coffee = build_statements(
        [plot(8, commodity="cocoa")], options(hs_codes={"coffee": "0901"})
    )
    assert [r.code for r in only_coffee.refused] == ["no_hs_code"]
    undetermined = next(r for r in build.refused if r.plot_id == "P00003")
    assert "«Indeterminado»" in undetermined.es
    assert "Undetermined" in undetermined.en


def test_1001_producers_make_two_statements_of_1000_and_1() -> None:
    plots = [plot(i) for i in range(1001)]
    build = build_statements(plots, options())
    assert [s.producer_count for s in build.statements] == [1000, 1]
    assert [s.internal_ref for s in build.statements] == ["COOP-2026-12-1of2", "COOP-2026-12-2of2"]
    assert "Part 2 of 2" in (build.statements[1].comment or "")
    # The net mass is shared out by area and adds up to the gram.
    masses = [c.net_mass_kg for s in build.statements for c in s.commodities]
    assert sum(masses) == Decimal("19200.000000")
    assert masses[1] == Decimal("19.180819")  # 1 of 1001 equal plots
    for st in build.statements:
        assert contract.validate(submit_request(st)) == []


def test_10001_producers_over_eleven_headings_split_at_10000() -> None:
    heads = [
        "090111",
        "090112",
        "090121",
        "090122",
        "090190",
        "210111",
        "210112",
        "1801",
        "1802",
        "1803",
        "1804",
    ]
    hs = {f"c{k}": h for k, h in enumerate(heads)}
    plots = [plot(i, commodity=f"c{i % 11}") for i in range(10_001)]
    build = build_statements(plots, options(hs_codes=hs))
    assert [s.producer_count for s in build.statements] == [10_000, 1]
    first = build.statements[0]
    assert len(first.commodities) == 11
    assert all(len(c.producers) <= 1000 for c in first.commodities)
    assert sum(len(s.plot_ids) for s in build.statements) == 10_001
    request = submit_request(first)  # validated against the XSDs as it is made
    assert len(request.findall(f".//{D}producers")) == 10_000


def test_25_mb_of_geolocation_is_split_where_the_next_producer_would_pass_it() -> None:
    # 60 producers of one plot with 16,000 vertices each: about 0.6 MB of base64 apiece.
    plots = [plot(i, geometry=square(i, side=0.0005, n=16_000)) for i in range(60)]
    build = build_statements(plots, options())
    sizes = [s.geo_bytes for s in build.statements]
    assert len(build.statements) == 2
    assert sizes[0] <= MAX_GEO_BYTES and sum(sizes) > MAX_GEO_BYTES
    first, second = build.statements
    next_one = second.commodities[0].producers[0]
    assert sizes[0] + next_one.encoded_size > MAX_GEO_BYTES  # it did not fit
    assert len(first.plot_ids) + len(second.plot_ids) == 60
    # The size counted is the base64 text actually sent.
    sent = sum(len(e.text) for e in submit_request(first).iter(f"{D}geometryGeojson"))
    assert sent == sizes[0]


def test_a_producer_over_the_size_limit_is_split_into_entries_and_a_lone_giant_refused() -> None:
    limits = Limits(geo_bytes=4_000)
    plots = [plot(i, "Ana Quispe") for i in range(12)] + [
        plot(99, "Luis", geometry=square(99, n=2_000))
    ]
    build = build_statements(plots, options(), limits=limits)
    entries = [p for s in build.statements for c in s.commodities for p in c.producers]
    assert all(p.encoded_size <= 4_000 for p in entries)
    assert {p.name for p in entries} == {"Ana Quispe"}
    assert sum(len(p.plot_ids) for p in entries) == 12 and len(entries) > 1
    assert [(r.plot_id, r.code) for r in build.refused] == [("P00099", "too_large")]


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"hs_codes": {"*": "0901X"}}, "hs"),
        ({"hs_codes": {"*": "8471"}}, "hs"),
        ({"hs_codes": {"coffee": "1801"}}, "hs"),
        ({"net_mass_kg": 0.0}, "net_mass_kg"),
        ({"country_of_activity": "PE"}, "country_of_activity"),
        ({"eori": "not an eori", "operator_name": "X"}, "eori"),
        ({"eori": "DE123456789"}, "operator_name"),
        ({"description": "x" * 151}, "description"),
        ({"internal_ref": "r" * 36}, "internal_ref"),
    ],
)
def test_options_the_eu_would_refuse_are_refused_first(kw: dict[str, object], code: str) -> None:
    with pytest.raises(OptionError) as info:
        check_options(options(**kw))
    assert info.value.code == code
    assert info.value.message("es") and info.value.message("en")


def test_every_kind_of_request_validates_and_a_representative_names_the_operator() -> None:
    opts = options(
        operator_name="Kaffee Import GmbH",
        eori="DE123456789012345",
        border_cross_country="NL",
        comment="Lot 7",
        confidential=True,
        description="Café verde arábica, Jaén",
    )
    st = build_statements([plot(1), plot(2)], opts).statements[0]
    submit = submit_request(st)
    assert submit.findtext(f"{D}operatorRole") == "REPRESENTATIVE_OPERATOR"
    c = f"{{{contract.COMMON_NS}}}"
    rep = submit.find(f"{D}statement/{D}representedOperator")
    assert rep is not None and rep.findtext(f"{c}operatorName") == "Kaffee Import GmbH"
    assert rep.findtext(f"{c}operatorReferenceNumber/{c}identifierValue") == "DE123456789012345"
    assert submit.findtext(f"{D}statement/{D}geoLocationConfidential") == "true"
    amend = amend_request("071874bd-8c62-4cac-8eb6-b2fbe003410c", submit.find(f"{D}statement"))
    assert contract.validate(amend) == []
    # The hash is of canonical XML: the same statement serialised differently hashes the same.
    again = etree.fromstring(etree.tostring(submit, pretty_print=True))
    assert statement_hash(again) != "" and statement_hash(submit) == statement_hash(
        etree.fromstring(etree.tostring(submit))
    )


def test_an_xsd_problem_names_the_element_and_the_plots_of_its_producer() -> None:
    entry = ProducerEntry("Ana", "PER", ("P1", "P2"), b'{"type":"FeatureCollection"}', 1.0)
    st = Statement(
        1, 1, options(), "R", None, (CommodityEntry("090111", "Coffee", Decimal("10"), (entry,)),)
    )
    with pytest.raises(DdsSchemaError) as info:
        submit_request(st)
    text = info.value.message("en")
    assert "producers[1]/dds:country" in text or "producers/dds:country" in text
    assert "P1, P2" in text and "PER" in text
    assert "parcelas P1, P2" in info.value.message("es")


def test_producer_geojson_round_trips_through_base64() -> None:
    st = build_statements([plot(1, declared_area_ha=None, geometry=Point(-78.8, -5.7))], options())
    el = submit_request(st.statements[0])
    raw = base64.b64decode(el.find(f".//{D}geometryGeojson").text)
    doc = json.loads(raw)
    assert doc["features"][0]["geometry"] == {"type": "Point", "coordinates": [-78.8, -5.7]}
    # A point without a declared area carries its measured one, or none (the EU assumes 4 ha).
    assert "Area" not in doc["features"][0]["properties"]
