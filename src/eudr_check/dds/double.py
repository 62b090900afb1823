"""A local stand-in ("test double") for the EU Information System's DDS V3 SOAP services.

It is NOT the EU system: it imitates, on 127.0.0.1, the parts of TRACES that this project
talks to, so tests and demos run with no network and no EU account. What it checks:

- HTTP: `?wsdl`, `?wsdl=N`, `?xsd=N` of both services, served from the EU's own files shipped
  in the package (`contract`), with the acceptance address rewritten to the double's own;
  per-client throttling (more than `calls_per_second` POSTs in a sliding second -> HTTP 429,
  `Retry-After: 1`, nothing processed); Content-Length required (411), bodies over
  2 x max_geo_bytes + 1 MB refused (413).
- SOAP 1.1 envelopes (no DOCTYPE; SOAP 1.2 -> S:VersionMismatch); WS-Security (UsernameToken
  with PasswordDigest, Nonce and Created, plus a `wsu:Timestamp`): missing parts, unknown or
  revoked users, wrong digests, replayed nonces, expired timestamps and a clock more than
  5 minutes off; the `WebServiceClientId` header.
- Every request body, every answer and every fault detail against the EU's XSDs
  (`contract.validate`). A request off the schema gets an `S:Client` fault worded like the
  EU's Java (Xerces) validator, `cvc-...`; an answer of the double off the schema is a bug of
  the double and becomes HTTP 500 with the problems, never a silently wrong answer.
- Business rules of submit/amend (EUDR Annex I HS headings, geolocation size and GeoJSON
  content, producer and commodity counts, net weight for IMPORT/EXPORT, the represented
  operator), the statement lifecycle (SUBMITTED -> AVAILABLE with reference and verification
  numbers, amend and withdraw within 72 hours, REJECTED on `reject()`), retrieval and verify.

Error IDs, and where they come from:

- In the EU's V3 "Operator API Reference" (section 6.1.6, retrieval):
  EUDR_WEBSERVICE_STATEMENT_NOT_FOUND, EUDR_NUMBER_EMPTY, EUDR_NUMBER_INVALID,
  EUDR_NUMBER_TOO_LONG (the XSD's maxLength usually fires first, as `cvc-maxLength-valid`).
- In the EU's "EUDR API specifications for Operators - Conformance Test 4" (v1.3, 2025; written
  for the V1 API, not shipped here; V3 may have renamed some): EUDR_COMMODITIES_HS_CODE_INVALID,
  EUDR_MAXIMUM_GEO_SIZE_REACHED, and, used here for the matching rules,
  EUDR_COMMODITIES_DESCRIPTOR_NET_MASS_EMPTY, EUDR_BEHALF_OPERATOR_NOT_PROVIDED,
  EUDR_COMMODITIES_PRODUCER_GEO_INVALID, EUDR_COMMODITIES_PRODUCER_GEO_LATITUDE_INVALID,
  EUDR_COMMODITIES_PRODUCER_GEO_LONGITUDE_INVALID, EUDR_COMMODITIES_PRODUCER_GEO_POLYGON_INVALID.
- GUESSES of this double (no EU document names them; the real IDs may differ): see `GUESSED`
  (client ID refused, another operator's statement, more than 100 commodities or 10,000
  producers, represented operator without EORI, not AVAILABLE, the 72 hours passed, activity
  type changed on amend).

The WS-Security fault codes and strings are those of the OASIS WSS 1.0 specification.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import collections
import contextlib
import copy
import datetime as dt
import hmac
import json
import logging
import re
import secrets
import string
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from eudr_check.dds import contract
from eudr_check.dds.wsse import password_digest

log = logging.getLogger(__name__)

S = f"{{{contract.SOAP_NS}}}"
D = f"{{{contract.DDS_NS}}}"
C = f"{{{contract.COMMON_NS}}}"
V = f"{{{contract.VERIFY_NS}}}"
B = f"{{{contract.BASE_NS}}}"
E = f"{{{contract.ERROR_NS}}}"
WSSE = f"{{{contract.WSSE_NS}}}"
WSU = f"{{{contract.WSU_NS}}}"
_DIGEST_TYPE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)
_ACCEPTANCE = b"https://acceptance.eudr.webcloud.ec.europa.eu:443/tracesnt/ws/"
_BASE_PATH = "/tracesnt/ws/"
_XML = "text/xml; charset=utf-8"

# IDs documented by the EU (see the module docstring for the documents).
NOT_FOUND = "EUDR_WEBSERVICE_STATEMENT_NOT_FOUND"
NUMBER_EMPTY = "EUDR_NUMBER_EMPTY"
NUMBER_INVALID = "EUDR_NUMBER_INVALID"
NUMBER_TOO_LONG = "EUDR_NUMBER_TOO_LONG"
HS_CODE_INVALID = "EUDR_COMMODITIES_HS_CODE_INVALID"
GEO_SIZE = "EUDR_MAXIMUM_GEO_SIZE_REACHED"
NET_MASS_EMPTY = "EUDR_COMMODITIES_DESCRIPTOR_NET_MASS_EMPTY"
BEHALF_MISSING = "EUDR_BEHALF_OPERATOR_NOT_PROVIDED"
GEO_INVALID = "EUDR_COMMODITIES_PRODUCER_GEO_INVALID"
GEO_LATITUDE = "EUDR_COMMODITIES_PRODUCER_GEO_LATITUDE_INVALID"
GEO_LONGITUDE = "EUDR_COMMODITIES_PRODUCER_GEO_LONGITUDE_INVALID"
GEO_POLYGON = "EUDR_COMMODITIES_PRODUCER_GEO_POLYGON_INVALID"
# GUESSES: named by this double, in the EU's style; no EU document gives these.
CLIENT_ID_INVALID = "EUDR_WEBSERVICE_CLIENT_ID_INVALID"
NOT_OWNER = "EUDR_WEBSERVICE_STATEMENT_OF_ANOTHER_OPERATOR"
TOO_MANY_COMMODITIES = "EUDR_MAXIMUM_COMMODITIES_REACHED"
TOO_MANY_PRODUCERS = "EUDR_MAXIMUM_PRODUCERS_REACHED"
BEHALF_EORI_MISSING = "EUDR_BEHALF_OPERATOR_EORI_MISSING"
NOT_AVAILABLE = "EUDR_WEBSERVICE_STATEMENT_NOT_AVAILABLE"
WINDOW_CLOSED = "EUDR_WEBSERVICE_AMEND_WITHDRAW_PERIOD_EXPIRED"
ACTIVITY_CHANGED = "EUDR_ACTIVITY_TYPE_CANNOT_BE_CHANGED"
GUESSED = frozenset(
    {
        CLIENT_ID_INVALID,
        NOT_OWNER,
        TOO_MANY_COMMODITIES,
        TOO_MANY_PRODUCERS,
        BEHALF_EORI_MISSING,
        NOT_AVAILABLE,
        WINDOW_CLOSED,
        ACTIVITY_CHANGED,
    }
)

# EUDR Annex I: an hsHeading must begin with one of these.
ANNEX_I_HEADINGS = {
    "cattle": ("0102", "0201", "0202", "0206", "4101", "4104", "4107"),
    "cocoa": tuple(f"180{n}" for n in range(1, 7)),
    "coffee": ("0901", "210111", "210112"),
    "oil palm": ("1207", "1511", "1513", "2306", "2905", "2915", "3823", "3401"),
    "rubber": ("4001", *(f"40{n:02d}" for n in range(5, 18))),
    "soya": ("1201", "1208", "1507", "2304"),
    "wood": ("44", "47", "48", "49", "9401", "9403", "9406"),
}
ANNEX_I = tuple(h for headings in ANNEX_I_HEADINGS.values() for h in headings)
MAX_COMMODITIES = 100
MAX_PRODUCERS = 10_000
AMEND_WINDOW = dt.timedelta(hours=72)
CLOCK_SKEW = dt.timedelta(minutes=5)
_GEOMETRIES = {"Point", "MultiPoint", "Polygon", "MultiPolygon", "GeometryCollection"}
_CODE_ALPHABET = string.ascii_uppercase + string.digits
_NUMBER = re.compile(r"[A-Za-z0-9]+")

# The parser for requests: no entities, no network (a request is untrusted input).
_REQUEST_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True, slots=True)
class Stored:
    """One statement as the double holds it; replaced (never mutated) on every change."""

    uuid: str
    username: str
    internal_ref: str
    status: str
    reference: str | None
    verification: str | None
    rejection_reason: str | None
    submitted_at: dt.datetime
    version: int
    statement: Any  # the dds:statement element as received (lxml)
    operator_role: str = "OPERATOR"
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    """One POST as the double answered it: operation ("" when not known), HTTP status, and the
    fault code (e.g. "wsse:FailedAuthentication", "S:Client") or first error ID, or None."""

    operation: str
    http_status: int
    code: str | None


@dataclass(frozen=True, slots=True)
class Problem:
    """One error:Error of a fault detail."""

    id: str
    message: str
    field: str


class _Fault(Exception):
    """A SOAP fault to answer with (HTTP 500)."""

    def __init__(
        self, code: str, text: str, detail: Any = None, log_code: str | None = None
    ) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.detail = detail
        self.log_code = log_code or code


class ContractBug(RuntimeError):
    """The double was about to send something the EU's XSDs refuse: a bug of the double."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _xml_time(moment: dt.datetime) -> str:
    """2026-05-20T09:55:01.000Z, as the EU system writes its dates."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _instant(text: str | None) -> dt.datetime | None:
    if not text or not text.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _code(length: int) -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def _sub(parent: Any, tag: str, text: str | None = None) -> Any:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _checked(element: Any) -> Any:
    """The element, if the EU's XSDs accept it; else the double has a bug."""
    problems = contract.validate(element)
    if problems:
        listed = "; ".join(f"{p.path}: {p.message}" for p in problems)
        raise ContractBug(f"{etree.QName(element).localname} off the EU schema: {listed}")
    return element


def _cvc(problem: contract.SchemaProblem) -> str:
    """A libxml2 problem worded as the EU's Java validator (Xerces) words it: `cvc-...`."""
    m = problem.message
    facet = re.search(r"\[facet '(\w+)'\]", m)
    if facet:
        rule = f"cvc-{facet.group(1)}-valid"
    elif "not expected" in m:
        rule = "cvc-complex-type.2.4.a"
    elif "Missing child" in m:
        rule = "cvc-complex-type.2.4.b"
    elif "No matching global declaration" in m:
        rule = "cvc-elt.1.a"
    else:
        rule = "cvc-type.3.1.3"
    return f"{rule}: {problem.path}: {m}"


def _refusal(ns: str, kind: str, *problems: Problem) -> _Fault:
    """A fault with an `<ns:kind>` detail of error:Error elements (schema-checked)."""
    exc = etree.Element(f"{{{ns}}}{kind}", nsmap={"ns5": ns, "error": contract.ERROR_NS})
    for p in problems:
        err = _sub(exc, E + "Error")
        _sub(err, E + "ID", p.id)
        _sub(err, E + "Message", p.message)
        _sub(err, E + "Field", p.field)
    return _Fault("S:Server", problems[0].message, _checked(exc), problems[0].id)


def _rules(*problems: Problem) -> _Fault:
    return _refusal(contract.DDS_NS, "BusinessRulesValidationException", *problems)


def _wss_fault(kind: str) -> _Fault:
    texts = {
        "InvalidSecurity": "An error was discovered processing the <wsse:Security> header",
        "FailedAuthentication": "The security token could not be authenticated or authorized",
        "MessageExpired": "The message has expired",
    }
    return _Fault(f"wsse:{kind}", texts[kind])


# --- business rules of a statement ------------------------------------------------------------


def _positions(value: Any, depth: int) -> Iterable[Any]:
    """Every position of a coordinates array nested `depth` levels (0 = one position)."""
    if depth == 0:
        yield value
        return
    if not isinstance(value, list):
        raise ValueError("coordinates are not an array")
    for item in value:
        yield from _positions(item, depth - 1)


def _geometry_problem(geom: Any, depth: int = 0) -> tuple[str, str] | None:
    """(error ID, message) of the first problem of one GeoJSON geometry, or None."""
    if not isinstance(geom, dict) or geom.get("type") not in _GEOMETRIES:
        kind = geom.get("type") if isinstance(geom, dict) else type(geom).__name__
        return GEO_INVALID, f"geometry type {kind!r} is not one of {sorted(_GEOMETRIES)}"
    if geom["type"] == "GeometryCollection":
        members = geom.get("geometries")
        if not isinstance(members, list) or not members or depth > 8:
            return GEO_INVALID, "a GeometryCollection needs a non-empty 'geometries' array"
        for member in members:
            found = _geometry_problem(member, depth + 1)
            if found:
                return found
        return None
    levels = {"Point": 0, "MultiPoint": 1, "Polygon": 2, "MultiPolygon": 3}[geom["type"]]
    coords: Any = geom.get("coordinates")
    try:
        positions = list(_positions(coords, levels))
        if geom["type"] in ("Polygon", "MultiPolygon"):
            rings = [coords] if geom["type"] == "Polygon" else coords
            for polygon in rings:
                for ring in polygon:
                    if len(ring) < 4 or ring[0] != ring[-1]:
                        return GEO_POLYGON, "a polygon ring needs 4 or more positions, closed"
    except (ValueError, TypeError):
        return GEO_INVALID, f"the {geom['type']} coordinates are not nested arrays of positions"
    if not positions:
        return GEO_INVALID, f"the {geom['type']} has no coordinates"
    for pos in positions:
        ok = isinstance(pos, list) and len(pos) in (2, 3)
        if not ok or not all(isinstance(n, int | float) and not isinstance(n, bool) for n in pos):
            return GEO_INVALID, f"{pos!r} is not a [longitude, latitude] position"
        if not -180 <= pos[0] <= 180:
            return GEO_LONGITUDE, f"longitude {pos[0]} is outside [-180, 180]"
        if not -90 <= pos[1] <= 90:
            return GEO_LATITUDE, f"latitude {pos[1]} is outside [-90, 90]"
    return None


def _geojson_problem(raw: bytes) -> tuple[str, str] | None:
    """(error ID, message) of decoded geometryGeojson bytes, or None when acceptable."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return GEO_INVALID, "the geolocation is not JSON (UTF-8)"
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list) or not features:
            return GEO_INVALID, "the FeatureCollection has no features"
    elif kind == "Feature":
        features = [doc]
    else:
        return _geometry_problem(doc)
    for feature in features:
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            return GEO_INVALID, "a member of the FeatureCollection is not a Feature"
        found = _geometry_problem(feature.get("geometry"))
        if found:
            return found
    return None


def statement_problems(statement: Any, role: str, max_geo_bytes: int) -> list[Problem]:
    """The business-rule problems of one (schema-valid) dds:statement, in document order."""
    problems: list[Problem] = []

    def add(error_id: str, message: str, field: str) -> None:
        problems.append(Problem(error_id, message, field))

    activity = statement.findtext(D + "activityType")
    commodities = statement.findall(D + "commodities")
    if len(commodities) > MAX_COMMODITIES:
        add(TOO_MANY_COMMODITIES, f"At most {MAX_COMMODITIES} commodities per statement "
            f"({len(commodities)} given).", "commodities")  # fmt: skip
    geo_bytes = producers = 0
    for i, commodity in enumerate(commodities, start=1):
        hs = (commodity.findtext(D + "hsHeading") or "").strip()
        if not hs.startswith(ANNEX_I):
            add(HS_CODE_INVALID, f"The HS heading {hs} is not in EUDR Annex I.",
                f"commodities[{i}].hsHeading")  # fmt: skip
        weight = commodity.find(f"{D}descriptors/{C}goodsMeasure/{C}netWeight")
        if activity in ("IMPORT", "EXPORT") and weight is None:
            add(NET_MASS_EMPTY, f"The net weight is mandatory for activity {activity}.",
                f"commodities[{i}].descriptors.goodsMeasure.netWeight")  # fmt: skip
        for j, producer in enumerate(commodity.findall(D + "producers"), start=1):
            producers += 1
            where = f"commodities[{i}].producers[{j}].geometryGeojson"
            text = "".join((producer.findtext(D + "geometryGeojson") or "").split())
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                add(GEO_INVALID, "The geolocation is not base64.", where)
                continue
            before, geo_bytes = geo_bytes, geo_bytes + len(raw)
            if before <= max_geo_bytes < geo_bytes:  # reported once, where the limit is crossed
                add(GEO_SIZE, f"The geolocation of the statement exceeds {max_geo_bytes} bytes.",
                    where)  # fmt: skip
            found = _geojson_problem(raw)
            if found:
                add(found[0], f"Invalid geolocation: {found[1]}.", where)
    if producers > MAX_PRODUCERS:
        add(TOO_MANY_PRODUCERS, f"At most {MAX_PRODUCERS} producers per statement "
            f"({producers} given).", "commodities.producers")  # fmt: skip
    if role == "REPRESENTATIVE_OPERATOR":
        represented = statement.find(D + "representedOperator")
        kinds = {
            (ref.findtext(C + "identifierType") or "").strip()
            for ref in ([] if represented is None else represented)
            if ref.tag == C + "operatorReferenceNumber"
        }
        if represented is None:
            add(BEHALF_MISSING, "An authorised representative must name the represented "
                "operator.", "representedOperator")  # fmt: skip
        elif "eori" not in kinds:
            add(BEHALF_EORI_MISSING, "The represented operator needs an EORI identifier.",
                "representedOperator.operatorReferenceNumber")  # fmt: skip
    return problems


# --- the server --------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], double: TracesDouble) -> None:
        super().__init__(address, _Handler)
        self.double = double


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = (("Content-Type", _XML),)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection does not hold a thread for ever
    # Headers and body in one segment: no Nagle/delayed-ACK stall of ~40 ms per answer.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._answer(self._guarded(lambda: self.server.double._get(self.path)))

    def do_POST(self) -> None:
        double = self.server.double
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._answer(_text(411, "Content-Length required"))
            return
        if int(length) > double.max_body_bytes:
            self.close_connection = True
            self._answer(_text(413, f"request larger than {double.max_body_bytes} bytes"))
            return
        data = self.rfile.read(int(length))
        answer = self._guarded(lambda: double._post(self.path, self.client_address[0], data))
        delay = double._take_delay()
        if delay:  # done, but answered late: the client's read timeout fires first
            time.sleep(delay)
        self._answer(answer)

    def _guarded(self, work: Callable[[], _Answer]) -> _Answer:
        try:
            return work()
        except Exception as exc:  # a bug of the double: answer 500 with it, and log it
            log.exception("TRACES double: internal error on %s %s", self.command, self.path)
            self.server.double._record(Exchange("", 500, "internal-error"))
            return _text(500, f"internal error of the TRACES double: {exc}")

    def _answer(self, answer: _Answer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("TRACES double: " + format, *args)


def _text(status: int, text: str, *headers: tuple[str, str]) -> _Answer:
    return _Answer(
        status, text.encode("utf-8"), (("Content-Type", "text/plain; charset=utf-8"), *headers)
    )


class TracesDouble:
    """The stand-in: `start()` it (or use it as a context manager), point a client at
    `dds_url` / `verify_url`, and inspect `statements` and `exchanges`."""

    def __init__(
        self,
        users: dict[str, str] | None = None,
        client_id: str = "eudr-test",
        available_after_s: float = 0.0,
        max_geo_bytes: int = 25_000_000,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], dt.datetime] | None = None,
        calls_per_second: int = 5,
    ) -> None:
        self.users = dict(users if users is not None else {"eudr-user": "test-auth-key"})
        self.client_id = client_id
        self.available_after_s = available_after_s
        self.max_geo_bytes = max_geo_bytes
        # Base64 takes 4/3 of the geolocation, plus the rest of the envelope.
        self.max_body_bytes = 2 * max_geo_bytes + 1_000_000
        self.host = host
        self.port = port
        self.clock = clock or _utc_now
        self.calls_per_second = calls_per_second
        self.statements: dict[str, Stored] = {}
        self.exchanges: list[Exchange] = []
        self._revoked: set[str] = set()
        self._delays: collections.deque[float] = collections.deque()
        self._nonces: dict[bytes, dt.datetime] = {}
        self._references: set[str] = set()
        # Throttling is in real time (time.monotonic), not by `clock`, which tests move.
        self._calls: dict[str, collections.deque[float]] = {}
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._operations: dict[str, dict[str, tuple[str, Callable[[str, Any], Any]]]] = {
            contract.DDS_SERVICE: {
                D + "SubmitDdsRequest": ("submitDds", self._submit),
                D + "AmendDdsRequest": ("amendDds", self._amend),
                D + "WithdrawDdsRequest": ("withdrawDds", self._withdraw),
                D + "GetDdsRequest": ("getDds", self._get_dds),
                D + "GetDdsByInternalReferenceRequest": (
                    "getDdsByInternalReference",
                    self._by_internal_ref,
                ),
                D + "GetDdsByIdentifiersRequest": ("getDdsByIdentifiers", self._by_identifiers),
            },
            contract.VERIFY_SERVICE: {
                V + "VerifyDeclarationRequest": ("verifyDeclaration", self._verify),
            },
        }

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> TracesDouble:
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self)
        # A short poll interval: stop() (shutdown) returns within it.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="traces-double", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> TracesDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the TRACES double is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{_BASE_PATH}"

    @property
    def dds_url(self) -> str:
        return self.base_url + contract.DDS_SERVICE

    @property
    def verify_url(self) -> str:
        return self.base_url + contract.VERIFY_SERVICE

    # --- what a competent authority or the user's profile would do --------------------------

    def reject(self, uuid: str, reason: str) -> None:
        """The statement becomes REJECTED with this reason (KeyError if unknown)."""
        if len(reason) > 1000:  # the XSD's RejectionReasonType
            raise ValueError("a rejection reason has at most 1000 characters")
        with self._lock:
            stored = self.statements[uuid.lower()]
            self.statements[stored.uuid] = replace(
                stored, status="REJECTED", rejection_reason=reason, updated_at=self.clock()
            )

    def revoke(self, username: str) -> None:
        """The user's authentication key no longer works."""
        with self._lock:
            self._revoked.add(username)

    def answer_late(self, seconds: float) -> None:
        """The next POST is carried out in full but answered `seconds` late, as when the
        EU's answer is lost to a client timeout: what was filed must not be filed twice."""
        with self._lock:
            self._delays.append(seconds)

    def _take_delay(self) -> float:
        with self._lock:
            return self._delays.popleft() if self._delays else 0.0

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    # --- HTTP --------------------------------------------------------------------------------

    def _service(self, path: str) -> str | None:
        name = path[len(_BASE_PATH) :] if path.startswith(_BASE_PATH) else ""
        return name if name in self._operations else None

    def _get(self, target: str) -> _Answer:
        url = urlsplit(target)
        service = self._service(url.path)
        if service is None or not re.fullmatch(r"wsdl(=\d+)?|xsd=\d+", url.query):
            return _text(404, "not found")
        try:
            path = contract.service_file(service, url.query)
        except contract.ContractError:
            return _text(404, "not found")
        # A real server names itself in its WSDL and imports: so does the double.
        return _Answer(200, path.read_bytes().replace(_ACCEPTANCE, self.base_url.encode()))

    def _admit(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(client, collections.deque())
            while calls and now - calls[0] >= 1.0:
                calls.popleft()
            if len(calls) >= self.calls_per_second:
                return False
            calls.append(now)
            return True

    def _post(self, path: str, client: str, data: bytes) -> _Answer:
        service = self._service(urlsplit(path).path)
        if service is None:
            return _text(404, "not found")
        if not self._admit(client):
            self._record(Exchange("", 429, None))
            return _text(
                429,
                f"Too many requests: at most {self.calls_per_second} calls per second",
                ("Retry-After", "1"),
            )
        operation = ""
        try:
            header, request = self._envelope(data)
            operation, handler = self._operations[service].get(request.tag, ("", None))
            username = self._authenticate(header)
            self._check_client_id(header, service)
            if handler is None:
                raise _Fault("S:Client", f"Cannot find dispatch method for {request.tag}")
            problems = contract.validate(request)
            if problems:
                raise _Fault("S:Client", _cvc(problems[0]))
            with self._lock:
                response = _checked(handler(username, request))
        except _Fault as fault:
            self._record(Exchange(operation, 500, fault.log_code))
            return _Answer(500, self._fault_envelope(fault))
        self._record(Exchange(operation, 200, None))
        return _Answer(200, self._success_envelope(response))

    def _envelope(self, data: bytes) -> tuple[Any, Any]:
        """(Header or None, the Body's one element) of a SOAP 1.1 envelope."""
        try:
            root = etree.fromstring(data, _REQUEST_PARSER)
        except etree.XMLSyntaxError as exc:
            raise _Fault("S:Client", f"Couldn't parse the SOAP message: {exc}") from None
        if root.getroottree().docinfo.doctype:  # SOAP 1.1 forbids a DTD in a message
            raise _Fault("S:Client", "A SOAP message must not contain a DOCTYPE")
        if etree.QName(root).localname == "Envelope" and root.tag != S + "Envelope":
            raise _Fault("S:VersionMismatch", "Only SOAP 1.1 envelopes are accepted")
        body = root.find(S + "Body") if root.tag == S + "Envelope" else None
        children = [] if body is None else [c for c in body if isinstance(c.tag, str)]
        if len(children) != 1:
            raise _Fault("S:Client", "Not a SOAP envelope with one element in its Body")
        return root.find(S + "Header"), children[0]

    def _authenticate(self, header: Any) -> str:
        """The username of a valid UsernameToken, else a WS-Security fault."""
        security = None if header is None else header.find(WSSE + "Security")
        stamp = None if security is None else security.find(WSU + "Timestamp")
        token = None if security is None else security.find(WSSE + "UsernameToken")
        if stamp is None or token is None:
            raise _wss_fault("InvalidSecurity")
        username = (token.findtext(WSSE + "Username") or "").strip()
        password = token.find(WSSE + "Password")
        nonce_text = token.findtext(WSSE + "Nonce")
        created_text = token.findtext(WSU + "Created")
        created, stamp_created = _instant(created_text), _instant(stamp.findtext(WSU + "Created"))
        expires = _instant(stamp.findtext(WSU + "Expires"))
        if not username or password is None or not nonce_text or created is None:
            raise _wss_fault("InvalidSecurity")
        if stamp_created is None or expires is None:
            raise _wss_fault("InvalidSecurity")
        now = self.clock()
        if expires < now or any(abs(now - t) > CLOCK_SKEW for t in (created, stamp_created)):
            raise _wss_fault("MessageExpired")
        try:
            nonce = base64.b64decode(nonce_text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise _wss_fault("FailedAuthentication") from None
        with self._lock:
            key = self.users.get(username)
            if key is None or username in self._revoked:
                raise _wss_fault("FailedAuthentication")
            expected = password_digest(nonce, created_text or "", key)
            given = (password.text or "").strip()
            if password.get("Type") != _DIGEST_TYPE or not hmac.compare_digest(expected, given):
                raise _wss_fault("FailedAuthentication")
            # A nonce older than the skew window cannot come back (MessageExpired first).
            for old in [n for n, t in self._nonces.items() if now - t > 2 * CLOCK_SKEW]:
                del self._nonces[old]
            if nonce in self._nonces:
                raise _wss_fault("FailedAuthentication")
            self._nonces[nonce] = created
        return username

    def _check_client_id(self, header: Any, service: str) -> None:
        found = None if header is None else header.find(B + "WebServiceClientId")
        if found is not None:
            problems = contract.validate(found)
            if problems:
                raise _Fault("S:Client", _cvc(problems[0]))
        if found is None or (found.text or "").strip() != self.client_id:
            raise _refusal(self._ns(service), "PermissionDeniedException", Problem(
                CLIENT_ID_INVALID, "The WebServiceClientId header is missing or is not this "
                "user's client ID.", "WebServiceClientId"))  # fmt: skip

    @staticmethod
    def _ns(service: str) -> str:
        return contract.VERIFY_NS if service == contract.VERIFY_SERVICE else contract.DDS_NS

    def _success_envelope(self, response: Any) -> bytes:
        now = self.clock()
        env = etree.Element(S + "Envelope", nsmap={"S": contract.SOAP_NS})
        security = etree.SubElement(
            etree.SubElement(env, S + "Header"),
            WSSE + "Security",
            nsmap={"wsse": contract.WSSE_NS, "wsu": contract.WSU_NS},
        )
        stamp = _sub(security, WSU + "Timestamp")
        _sub(stamp, WSU + "Created", _xml_time(now))
        _sub(stamp, WSU + "Expires", _xml_time(now + dt.timedelta(seconds=5)))
        _sub(env, S + "Body").append(response)
        return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))

    @staticmethod
    def _fault_envelope(fault: _Fault) -> bytes:
        env = etree.Element(S + "Envelope", nsmap={"S": contract.SOAP_NS})
        # The wsse prefix of a WS-Security faultcode is declared on the Fault itself.
        nsmap = {"wsse": contract.WSSE_NS} if fault.code.startswith("wsse:") else None
        el = etree.SubElement(_sub(env, S + "Body"), S + "Fault", nsmap=nsmap)
        _sub(el, "faultcode", fault.code)
        _sub(el, "faultstring", fault.text)
        if fault.detail is not None:
            _sub(el, "detail").append(fault.detail)
        return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))

    # --- state -------------------------------------------------------------------------------

    def _settle(self, stored: Stored) -> Stored:
        """SUBMITTED -> AVAILABLE once `available_after_s` has passed, with its numbers."""
        now = self.clock()
        waited = (now - stored.submitted_at).total_seconds()
        if stored.status != "SUBMITTED" or waited < self.available_after_s:
            return stored
        country = (stored.statement.findtext(D + "countryOfActivity") or "XX").strip().upper()
        reference = ""
        while not reference or reference in self._references:
            reference = f"{stored.submitted_at:%y}{country}{_code(10)}"
        self._references.add(reference)
        settled = replace(
            stored, status="AVAILABLE", reference=reference, verification=_code(8), updated_at=now
        )
        self.statements[stored.uuid] = settled
        return settled

    def _own(self, username: str, uuid: str) -> Stored:
        """The caller's statement for amend/withdraw, settled, within its 72 hours."""
        stored = self.statements.get(uuid.lower())
        if stored is None:
            raise _rules(Problem(NOT_FOUND, f"No statement {uuid}.", "uuid"))
        if stored.username != username:
            mine = Problem(NOT_OWNER, f"The statement {uuid} is not this user's.", "uuid")
            raise _refusal(contract.DDS_NS, "PermissionDeniedException", mine)
        stored = self._settle(stored)
        if stored.status != "AVAILABLE":
            raise _rules(Problem(NOT_AVAILABLE, f"The statement is {stored.status}, "
                                 "not AVAILABLE.", "uuid"))  # fmt: skip
        if self.clock() - stored.submitted_at > AMEND_WINDOW:
            raise _rules(Problem(WINDOW_CLOSED, "More than 72 hours have passed since the "
                                 "submission.", "uuid"))  # fmt: skip
        return stored

    def _overview(self, parent: Any, stored: Stored) -> None:
        el = _sub(parent, D + "ddsOverviewList")
        _sub(el, C + "uuid", stored.uuid)
        _sub(el, C + "internalReferenceNumber", stored.internal_ref)
        if stored.reference:
            _sub(el, C + "referenceNumber", stored.reference)
        if stored.verification:
            _sub(el, C + "verificationNumber", stored.verification)
        _sub(el, C + "status", stored.status)
        if stored.status == "REJECTED" and stored.rejection_reason is not None:
            _sub(el, C + "rejectionReason", stored.rejection_reason)
        _sub(el, C + "date", _xml_time(stored.updated_at or stored.submitted_at))
        _sub(el, C + "updatedBy", stored.username)
        _sub(el, C + "version", str(stored.version))

    @staticmethod
    def _response(tag: str, ns: str = contract.DDS_NS) -> Any:
        return etree.Element(f"{{{ns}}}{tag}", nsmap={"ns3": contract.COMMON_NS, "ns5": ns})

    def _not_found(self, what: str, field: str) -> _Fault:
        return _refusal(contract.DDS_NS, "NotFoundException", Problem(NOT_FOUND, what, field))

    @staticmethod
    def _number_problems(reference: str, verification: str) -> list[Problem]:
        """EUDR_NUMBER_* problems (the XSD's maxLength catches most of TOO_LONG first)."""
        problems = []
        for field, value, longest in (("referenceNumber", reference, 14),
                                      ("verificationNumber", verification, 35)):  # fmt: skip
            if not value:
                problems.append(Problem(NUMBER_EMPTY, f"The {field} is empty.", field))
            elif not _NUMBER.fullmatch(value):
                problems.append(Problem(NUMBER_INVALID, f"The {field} has prohibited "
                                        "characters.", field))  # fmt: skip
            elif len(value) > longest:
                problems.append(Problem(NUMBER_TOO_LONG, f"The {field} is longer than "
                                        f"{longest} characters.", field))  # fmt: skip
        return problems

    def _find_by_numbers(self, reference: str, verification: str) -> Stored | None:
        for stored in list(self.statements.values()):
            if stored.reference and stored.reference.upper() == reference.upper():
                stored = self._settle(stored)
                if (stored.verification or "").upper() == verification.upper():
                    return stored
        return None

    # --- operations (under the lock; the request is schema-valid) ----------------------------

    def _submit(self, username: str, request: Any) -> Any:
        role = request.findtext(D + "operatorRole") or "OPERATOR"
        statement = request.find(D + "statement")
        problems = statement_problems(statement, role, self.max_geo_bytes)
        if problems:
            raise _rules(*problems)
        now = self.clock()
        country = (statement.findtext(D + "countryOfActivity") or "XX").strip().upper()
        internal = (statement.findtext(D + "internalReferenceNumber") or "").strip()
        stored = Stored(
            uuid=str(uuidlib.uuid4()),
            username=username,
            internal_ref=internal or f"{now:%y}{country}{_code(10)}",
            status="SUBMITTED",
            reference=None,
            verification=None,
            rejection_reason=None,
            submitted_at=now,
            version=1,
            statement=copy.deepcopy(statement),
            operator_role=role,
            updated_at=now,
        )
        self.statements[stored.uuid] = stored
        response = self._response("SubmitDdsResponse")
        _sub(response, D + "uuid", stored.uuid)
        return response

    def _amend(self, username: str, request: Any) -> Any:
        stored = self._own(username, request.findtext(D + "uuid") or "")
        statement = request.find(D + "statement")
        problems = statement_problems(statement, stored.operator_role, self.max_geo_bytes)
        before = stored.statement.findtext(D + "activityType")
        after = statement.findtext(D + "activityType")
        if before != after:
            problems.append(Problem(ACTIVITY_CHANGED, f"The activity type cannot change from "
                                    f"{before} to {after}.", "activityType"))  # fmt: skip
        if problems:
            raise _rules(*problems)
        internal = (statement.findtext(D + "internalReferenceNumber") or "").strip()
        amended = replace(
            stored,
            statement=copy.deepcopy(statement),
            version=stored.version + 1,
            internal_ref=internal or stored.internal_ref,
            status="AVAILABLE",
            updated_at=self.clock(),
        )
        self.statements[stored.uuid] = amended
        return self._modified("AmendDdsResponse", amended)

    def _withdraw(self, username: str, request: Any) -> Any:
        stored = self._own(username, request.findtext(D + "uuid") or "")
        withdrawn = replace(stored, status="WITHDRAWN", updated_at=self.clock())
        self.statements[stored.uuid] = withdrawn
        return self._modified("WithdrawDdsResponse", withdrawn)

    def _modified(self, tag: str, stored: Stored) -> Any:
        response = self._response(tag)
        _sub(response, D + "uuid", stored.uuid)
        _sub(response, D + "status", stored.status)
        return response

    def _get_dds(self, username: str, request: Any) -> Any:
        found: dict[str, Stored] = {}
        for el in request.findall(D + "uuidList"):
            stored = self.statements.get((el.text or "").strip().lower())
            if stored is not None and stored.username == username:
                found[stored.uuid] = self._settle(stored)
        if not found:
            raise self._not_found("No statement with these UUIDs.", "uuidList")
        response = self._response("GetDdsResponse")
        for stored in found.values():
            self._overview(response, stored)
        return response

    def _by_internal_ref(self, username: str, request: Any) -> Any:
        ref = (request.findtext(D + "internalReference") or "").strip()
        found = [
            self._settle(s)
            for s in list(self.statements.values())
            if s.username == username and s.internal_ref == ref
        ]
        if not found:
            raise self._not_found(
                f"No statement with internal reference {ref!r}.", "internalReference"
            )
        response = self._response("GetDdsByInternalReferenceResponse")
        for stored in found[:100]:  # the XSD allows 100 overviews per answer
            self._overview(response, stored)
        return response

    def _by_identifiers(self, username: str, request: Any) -> Any:
        pair = request.find(D + "referenceAndVerificationNumber")
        reference = (pair.findtext(C + "referenceNumber") or "").strip()
        verification = (pair.findtext(C + "verificationNumber") or "").strip()
        problems = self._number_problems(reference, verification)
        if problems:
            raise _refusal(contract.DDS_NS, "NotFoundException", *problems)
        stored = self._find_by_numbers(reference, verification)
        if stored is None or stored.status not in ("AVAILABLE", "ARCHIVED"):
            raise self._not_found(
                "No AVAILABLE or ARCHIVED statement with these numbers.",
                "referenceAndVerificationNumber",
            )
        response = self._response("GetDdsByIdentifiersResponse")
        response.append(copy.deepcopy(stored.statement))
        return response

    def _verify(self, username: str, request: Any) -> Any:
        reference = (request.findtext(V + "referenceNumber") or "").strip()
        verification = (request.findtext(V + "verificationNumber") or "").strip()
        problems = self._number_problems(reference, verification)
        if problems:
            raise _refusal(contract.VERIFY_NS, "BusinessRulesValidationException", *problems)
        stored = self._find_by_numbers(reference, verification)
        response = self._response("VerifyDeclarationResponse", contract.VERIFY_NS)
        if stored is None:
            _sub(response, V + "result", "NON_EXISTENT")
        elif stored.status in ("AVAILABLE", "ARCHIVED"):
            _sub(response, V + "result", "EXISTING_USABLE")
        else:
            _sub(response, V + "result", "EXISTING_NON_USABLE")
            _sub(response, V + "status", stored.status)
        _sub(response, V + "dateTime", _xml_time(self.clock()))
        return response


def main(argv: list[str] | None = None) -> None:
    """Serve the double until interrupted (for demos: `python -m eudr_check.dds.double`)."""
    parser = argparse.ArgumentParser(
        prog="python -m eudr_check.dds.double",
        description="A local stand-in for the EU Information System's DDS V3 SOAP services "
        "(not the EU system).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--user", default="eudr-user")
    parser.add_argument("--key", default="test-auth-key", help="the user's authentication key")
    parser.add_argument("--client-id", default="eudr-test")
    parser.add_argument(
        "--available-after",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long a statement stays SUBMITTED",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    double = TracesDouble(
        users={args.user: args.key},
        client_id=args.client_id,
        available_after_s=args.available_after,
        host=args.host,
        port=args.port,
    )
    with double:
        print(double.dds_url, flush=True)
        print(double.verify_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()


__all__ = ["GUESSED", "Exchange", "Problem", "Stored", "TracesDouble", "main", "statement_problems"]
