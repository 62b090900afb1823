"""The EU Information System's own V3 contract (WSDL + XSD), shipped in the package, offline.

The files import each other by their acceptance URLs; `catalog.xml` (an OASIS XML catalog)
maps every such URL to the file beside it. Schemas compile through a resolver that answers from
the catalog and refuses anything else, so validation never reaches the network. Every request
the tool sends is validated here first (`validate`), and so is every answer of the local
stand-in (`eudr_check.dds.double`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(str(files("eudr_check") / "data" / "eu_traces_api"))
CATALOG_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"

DDS_NS = "http://ec.europa.eu/tracesnt/certificate/eudr/due-diligence-statement/v3"
COMMON_NS = "http://ec.europa.eu/tracesnt/certificate/eudr/common/v3"
VERIFY_NS = "http://ec.europa.eu/tracesnt/certificate/eudr/verify-declaration/v3"
BASE_NS = "http://ec.europa.eu/sanco/tracesnt/base/v4"
ERROR_NS = "http://ec.europa.eu/sanco/tracesnt/error/v01"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

DDS_SERVICE = "EUDRDueDiligenceStatementServiceV3"
VERIFY_SERVICE = "EUDRVerifyDeclarationServiceV3"
WSDL = {
    DDS_SERVICE: ROOT / DDS_SERVICE / f"{DDS_SERVICE}.wsdl",
    VERIFY_SERVICE: ROOT / VERIFY_SERVICE / f"{VERIFY_SERVICE}.wsdl",
}
# The schema that declares each namespace's request and response elements.
_SCHEMA_OF = {
    DDS_NS: f"{DDS_SERVICE}?xsd=4",
    VERIFY_NS: f"{VERIFY_SERVICE}?xsd=3",
    BASE_NS: f"{DDS_SERVICE}?xsd=1",
}
_ACCEPTANCE = "https://acceptance.eudr.webcloud.ec.europa.eu:443/tracesnt/ws/"


class ContractError(LookupError):
    """A URL the shipped contract does not hold (it would need the network)."""


@functools.cache
def catalog() -> dict[str, Path]:
    """URL -> local file, from catalog.xml."""
    tree = etree.parse(str(ROOT / "catalog.xml"))
    return {e.get("name"): ROOT / e.get("uri") for e in tree.iterfind(f"{{{CATALOG_NS}}}uri")}


def local_file(url: str) -> Path:
    """The shipped file for a URL of the contract; also accepts the URL without ':443' and
    with the production host, since both serve the same files."""
    url = url.replace(
        "https://eudr.webcloud.ec.europa.eu", "https://acceptance.eudr.webcloud.ec.europa.eu"
    )
    url = re.sub(r"^(https://[^/:]+)(/)", r"\1:443\2", url)
    found = catalog().get(url)
    if found is None:
        raise ContractError(f"not part of the shipped EU contract: {url}")
    return found


def service_file(service: str, query: str) -> Path:
    """`?wsdl`, `?wsdl=N`, `?xsd=N` of a service, as its server would answer them."""
    return local_file(f"{_ACCEPTANCE}{service}?{query}")


class _CatalogResolver(etree.Resolver):  # type: ignore[misc]
    def resolve(self, url: str | None, pubid: str | None, context: Any) -> Any:
        if url is None:
            return None
        if url.startswith("file:") or url.startswith("/"):
            return None  # a local file: libxml2 reads it itself
        return self.resolve_filename(str(local_file(url)), context)


def parser() -> etree.XMLParser:
    """An XML parser that resolves the contract's URLs from the catalog and never the network."""
    p = etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=True)
    p.resolvers.add(_CatalogResolver())
    return p


@functools.cache
def _schema(key: str) -> etree.XMLSchema:
    doc = etree.parse(str(local_file(_ACCEPTANCE + key)), parser())
    return etree.XMLSchema(doc)


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One XSD violation: where (a path of element names and 1-based positions) and what."""

    path: str
    message: str
    line: int

    def positions(self, name: str) -> list[int]:
        """The 1-based positions of every `name` step in the path (commodities, producers)."""
        return [int(m or 1) for m in re.findall(rf"(?:^|/)[\w]*:?{name}(?:\[(\d+)\])?", self.path)]


def validate(element: etree._Element) -> list[SchemaProblem]:
    """The XSD problems of one request or response element (the SOAP body's child, or a
    header such as WebServiceClientId), by the schema of its namespace."""
    ns = etree.QName(element).namespace
    key = _SCHEMA_OF.get(ns or "")
    if key is None:
        return [SchemaProblem("/", f"no schema in the EU contract for namespace {ns!r}", 0)]
    schema = _schema(key)
    # Validate a copy as its own document: the error paths then start at this element.
    doc = etree.ElementTree(etree.fromstring(etree.tostring(element)))
    if schema.validate(doc):
        return []
    return [SchemaProblem(str(e.path), e.message, e.line) for e in schema.error_log]
