"""Statements as the EU's V3 request elements (lxml, in the XSD's order), and back.

A built request is validated against the EU's XSDs before it is written or sent; an XSD
problem is reported with the element and the plots of the producer it sits in.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from eudr_check.dds import contract
from eudr_check.dds.model import Statement
from eudr_check.errors import DdsSchemaError

D = f"{{{contract.DDS_NS}}}"
C = f"{{{contract.COMMON_NS}}}"
NSMAP = {"dds": contract.DDS_NS, "eudrCommon": contract.COMMON_NS}


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def statement_element(statement: Statement, tag: str = "statement") -> etree._Element:
    """`DueDiligenceStatementBaseType` of one statement."""
    o = statement.options
    st = etree.Element(D + tag, nsmap=NSMAP)
    if statement.internal_ref:
        _sub(st, D + "internalReferenceNumber", statement.internal_ref)
    _sub(st, D + "activityType", o.activity.value)
    if o.operator_name:
        rep = _sub(st, D + "representedOperator")
        if o.eori:
            ref = _sub(rep, C + "operatorReferenceNumber")
            _sub(ref, C + "identifierType", "eori")
            _sub(ref, C + "identifierValue", o.eori)
        _sub(rep, C + "operatorName", o.operator_name)
    if o.country_of_activity:
        _sub(st, D + "countryOfActivity", o.country_of_activity.upper())
    if o.border_cross_country:
        _sub(st, D + "borderCrossCountry", o.border_cross_country.upper())
    if statement.comment:
        _sub(st, D + "comment", statement.comment)
    for i, commodity in enumerate(statement.commodities, start=1):
        c = _sub(st, D + "commodities")
        _sub(c, D + "position", str(i))
        desc = _sub(c, D + "descriptors")
        _sub(desc, C + "descriptionOfGoods", commodity.description)
        measure = _sub(desc, C + "goodsMeasure")
        _sub(measure, C + "netWeight", f"{commodity.net_mass_kg:f}")
        _sub(c, D + "hsHeading", commodity.hs_heading)
        for j, producer in enumerate(commodity.producers, start=1):
            p = _sub(c, D + "producers")
            _sub(p, D + "position", str(j))
            _sub(p, D + "country", producer.country)
            if producer.name:
                _sub(p, D + "name", producer.name)
            _sub(p, D + "geometryGeojson", base64.b64encode(producer.geojson).decode("ascii"))
    _sub(st, D + "geoLocationConfidential", "true" if o.confidential else "false")
    return st


def submit_request(statement: Statement) -> etree._Element:
    root = etree.Element(D + "SubmitDdsRequest", nsmap=NSMAP)
    _sub(root, D + "operatorRole", statement.options.role.value)
    root.append(statement_element(statement))
    check(root, statement)
    return root


def amend_request(uuid: str, statement_el: etree._Element) -> etree._Element:
    """AmendDdsRequest for a statement element (as built, or read back from a request file)."""
    root = etree.Element(D + "AmendDdsRequest", nsmap=NSMAP)
    _sub(root, D + "uuid", uuid)
    copy = etree.fromstring(etree.tostring(statement_el))
    copy.tag = D + "statement"
    root.append(copy)
    check(root)
    return root


def check(element: etree._Element, statement: Statement | None = None) -> None:
    """Raise DdsSchemaError naming the element and, inside a producer, its plots."""
    problems = contract.validate(element)
    if not problems:
        return
    lines_es, lines_en = [], []
    for p in problems[:10]:
        where = p.path
        plots: Sequence[str] = ()
        if statement is not None:
            comm, prod = p.positions("commodities"), p.positions("producers")
            if comm and prod:
                entry = statement.producer_at(comm[0], prod[0])
                plots = entry.plot_ids if entry else ()
        shown = ", ".join(plots[:5]) + (" …" if len(plots) > 5 else "")
        lines_es.append(f"{where}: {p.message}" + (f" (parcelas {shown})" if plots else ""))
        lines_en.append(f"{where}: {p.message}" + (f" (plots {shown})" if plots else ""))
    raise DdsSchemaError(problems, lines_es, lines_en)


def statement_hash(element: etree._Element) -> str:
    """SHA-256 of the request's canonical XML (C14N 2.0): the same statement, the same hash."""
    return hashlib.sha256(etree.tostring(element, method="c14n2")).hexdigest()


def to_bytes(element: etree._Element) -> bytes:
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def read_request(path: Path) -> etree._Element:
    """A request file written by `dds build`, checked against the XSDs again: it may have been
    edited since."""
    try:
        root = etree.fromstring(Path(path).read_bytes(), contract.parser())
    except (OSError, etree.XMLSyntaxError) as exc:
        raise DdsSchemaError.unreadable(path, str(exc)) from None
    if root.tag not in (D + "SubmitDdsRequest", D + "AmendDdsRequest"):
        raise DdsSchemaError.unreadable(
            path, f"not a SubmitDdsRequest: {etree.QName(root).localname}"
        )
    check(root)
    return root
