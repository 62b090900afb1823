"""The local stand-in for the EU Information System (`eudr_check.dds.double`), over raw HTTP.

Envelopes are built here with lxml (not with the project's client), so these tests pin what
the double accepts and answers on the wire, and that its answers meet the EU's own XSDs.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from lxml import etree

from eudr_check.dds import contract, double
from eudr_check.dds.double import TracesDouble
from eudr_check.dds.wsse import password_digest, zulu

S = f"{{{contract.SOAP_NS}}}"
D = f"{{{contract.DDS_NS}}}"
C = f"{{{contract.COMMON_NS}}}"
V = f"{{{contract.VERIFY_NS}}}"
E = f"{{{contract.ERROR_NS}}}"
WSSE = f"{{{contract.WSSE_NS}}}"
WSU = f"{{{contract.WSU_NS}}}"
NSMAP = {"dds": contract.DDS_NS, "eudrCommon": contract.COMMON_NS}
DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)
BASE64 = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
USER, KEY, CLIENT = "eudr-user", "test-auth-key", "eudr-test"
T0 = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMEOUT = 10
# A ~1 ha coffee plot near Villa Rica, Pasco (Peru), 6 decimals.
PERU_PLOT = {
    "type": "Polygon",
    "coordinates": [
        [
            [-75.271234, -10.741234],
            [-75.270334, -10.741234],
            [-75.270334, -10.740334],
            [-75.271234, -10.740334],
            [-75.271234, -10.741234],
        ]
    ],
}
LINE = {"type": "LineString", "coordinates": [[-75.2, -10.7], [-75.1, -10.7]]}
XML = {"Content-Type": "text/xml; charset=utf-8"}


# --- envelopes ---------------------------------------------------------------------------------


def envelope(
    username: str,
    key: str,
    body: Any,
    client_id: str | None = CLIENT,
    created: dt.datetime | None = None,
    expires: dt.datetime | None = None,
    nonce: bytes | None = None,
) -> bytes:
    """A SOAP 1.1 envelope as the EU samples have it: Timestamp, then UsernameToken with a
    PasswordDigest, then WebServiceClientId (left out when client_id is None)."""
    created = created or dt.datetime.now(dt.UTC)
    expires = expires or created + dt.timedelta(seconds=60)
    nonce = nonce or os.urandom(16)
    env = etree.Element(S + "Envelope", nsmap={"soapenv": contract.SOAP_NS, "v4": contract.BASE_NS})
    header = etree.SubElement(env, S + "Header")
    security = etree.SubElement(
        header, WSSE + "Security", nsmap={"wsse": contract.WSSE_NS, "wsu": contract.WSU_NS}
    )
    stamp = etree.SubElement(security, WSU + "Timestamp")
    etree.SubElement(stamp, WSU + "Created").text = zulu(created)
    etree.SubElement(stamp, WSU + "Expires").text = zulu(expires)
    token = etree.SubElement(security, WSSE + "UsernameToken")
    etree.SubElement(token, WSSE + "Username").text = username
    password = etree.SubElement(token, WSSE + "Password", Type=DIGEST)
    password.text = password_digest(nonce, zulu(created), key)
    encoded = etree.SubElement(token, WSSE + "Nonce", EncodingType=BASE64)
    encoded.text = base64.b64encode(nonce).decode()
    etree.SubElement(token, WSU + "Created").text = zulu(created)
    if client_id is not None:
        etree.SubElement(header, f"{{{contract.BASE_NS}}}WebServiceClientId").text = client_id
    etree.SubElement(env, S + "Body").append(body)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


def _el(parent: Any, tag: str, text: str | None = None) -> Any:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def geojson_b64(*geometries: dict[str, Any]) -> str:
    features = [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries]
    doc = {"type": "FeatureCollection", "features": features}
    return base64.b64encode(json.dumps(doc).encode()).decode()


def statement(
    hs: str = "090111",
    producer_country: str = "PE",
    activity: str = "IMPORT",
    net_weight: str | None = "1200",
    geo: str | None = None,
    internal_ref: str | None = "LOT-2026-001",
    represented: bool = False,
) -> Any:
    """A dds:statement of one coffee commodity from one Peruvian producer, in XSD order."""
    st = etree.Element(D + "statement", nsmap=NSMAP)
    if internal_ref is not None:
        _el(st, D + "internalReferenceNumber", internal_ref)
    _el(st, D + "activityType", activity)
    if represented:
        rep = _el(st, D + "representedOperator")
        _el(rep, C + "operatorName", "Cafés del Sur SL")
    _el(st, D + "countryOfActivity", "BE")
    _el(st, D + "borderCrossCountry", "BE")
    commodity = _el(st, D + "commodities")
    _el(commodity, D + "position", "1")
    desc = _el(commodity, D + "descriptors")
    _el(desc, C + "descriptionOfGoods", "Green coffee, not roasted")
    measure = _el(desc, C + "goodsMeasure")
    if net_weight is not None:
        _el(measure, C + "netWeight", net_weight)
    else:
        _el(measure, C + "supplementaryUnit", "20")
        _el(measure, C + "supplementaryUnitQualifier", "KGM")
    _el(commodity, D + "hsHeading", hs)
    producer = _el(commodity, D + "producers")
    _el(producer, D + "position", "1")
    _el(producer, D + "country", producer_country)
    _el(producer, D + "name", "Cooperativa Agraria Villa Rica")
    _el(producer, D + "geometryGeojson", geo if geo is not None else geojson_b64(PERU_PLOT))
    _el(st, D + "geoLocationConfidential", "false")
    return st


def submit_request(role: str = "OPERATOR", **kw: Any) -> Any:
    req = etree.Element(D + "SubmitDdsRequest", nsmap=NSMAP)
    _el(req, D + "operatorRole", role)
    req.append(statement(**kw))
    return req


def amend_request(uuid: str, **kw: Any) -> Any:
    req = etree.Element(D + "AmendDdsRequest", nsmap=NSMAP)
    _el(req, D + "uuid", uuid)
    req.append(statement(**kw))
    return req


def withdraw_request(uuid: str) -> Any:
    req = etree.Element(D + "WithdrawDdsRequest", nsmap=NSMAP)
    _el(req, D + "uuid", uuid)
    return req


def get_request(*uuids: str) -> Any:
    req = etree.Element(D + "GetDdsRequest", nsmap=NSMAP)
    for uuid in uuids:
        _el(req, D + "uuidList", uuid)
    return req


def internal_ref_request(ref: str) -> Any:
    req = etree.Element(D + "GetDdsByInternalReferenceRequest", nsmap=NSMAP)
    _el(req, D + "internalReference", ref)
    return req


def identifiers_request(reference: str, verification: str) -> Any:
    req = etree.Element(D + "GetDdsByIdentifiersRequest", nsmap=NSMAP)
    pair = _el(req, D + "referenceAndVerificationNumber")
    _el(pair, C + "referenceNumber", reference)
    _el(pair, C + "verificationNumber", verification)
    return req


def verify_request(reference: str, verification: str) -> Any:
    req = etree.Element(V + "VerifyDeclarationRequest", nsmap={"v": contract.VERIFY_NS})
    _el(req, V + "referenceNumber", reference)
    _el(req, V + "verificationNumber", verification)
    return req


# --- answers -----------------------------------------------------------------------------------


def body_child(response: requests.Response) -> Any:
    root = etree.fromstring(response.content)
    assert root.tag == S + "Envelope"
    return root.find(S + "Body")[0]


def ok(response: requests.Response) -> Any:
    """The answer element of a 200, checked against the EU's XSD."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    answer = body_child(response)
    assert contract.validate(answer) == []
    return answer


def fault(response: requests.Response) -> tuple[etree.QName, str, Any]:
    """(faultcode resolved to a QName, faultstring, the detail's exception element or None)."""
    assert response.status_code == 500, response.text
    el = body_child(response)
    assert el.tag == S + "Fault"
    prefix, _, local = el.findtext("faultcode").partition(":")
    code = etree.QName(el.nsmap[prefix], local)
    detail = el.find("detail")
    return code, el.findtext("faultstring"), None if detail is None else detail[0]


def errors(exception: Any) -> list[tuple[str, str, str]]:
    assert contract.validate(exception) == []  # the detail meets the EU's error XSD
    return [
        (e.findtext(E + "ID"), e.findtext(E + "Message"), e.findtext(E + "Field"))
        for e in exception.iterfind(E + "Error")
    ]


def overview(answer: Any) -> dict[str, str]:
    (item,) = answer.findall(D + "ddsOverviewList")
    return {etree.QName(c).localname: c.text for c in item}


# --- fixtures ----------------------------------------------------------------------------------


class Clock:
    """UTC now as the double sees it; tests move it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_double(clock: Clock) -> Iterator[Callable[..., TracesDouble]]:
    started: list[TracesDouble] = []

    def make(**kw: Any) -> TracesDouble:
        kw.setdefault("clock", clock)
        kw.setdefault("calls_per_second", 1000)  # throttling has its own test
        started.append(TracesDouble(**kw).start())
        return started[-1]

    yield make
    for d in started:
        d.stop()


@pytest.fixture
def traces(make_double: Callable[..., TracesDouble]) -> TracesDouble:
    return make_double()


Post = Callable[..., requests.Response]


@pytest.fixture
def post(traces: TracesDouble, clock: Clock) -> Post:
    """POST one body element to the DDS service (verify=True: the verify service), signed with
    the fake clock's time unless told otherwise."""

    def send(
        body: Any,
        *,
        to: TracesDouble | None = None,
        verify: bool = False,
        user: str = USER,
        key: str = KEY,
        **kw: Any,
    ) -> requests.Response:
        target = to or traces
        kw.setdefault("created", clock.now)
        url = target.verify_url if verify else target.dds_url
        data = envelope(user, key, body, **kw)
        headers = {**XML, "SOAPAction": '""'}
        return requests.post(url, data=data, headers=headers, timeout=TIMEOUT)

    return send


def submitted(post: Post, **kw: Any) -> str:
    (uuid,) = ok(post(submit_request(**kw))).findall(D + "uuid")
    return str(uuid.text)


def available(post: Post, uuid: str) -> dict[str, str]:
    return overview(ok(post(get_request(uuid))))


# --- contract files ----------------------------------------------------------------------------


def test_wsdl_is_served_and_names_the_double(traces: TracesDouble) -> None:
    for url in (traces.dds_url, traces.verify_url):
        response = requests.get(url + "?wsdl", timeout=TIMEOUT)
        assert response.status_code == 200
        wsdl = etree.fromstring(response.content)
        location = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location")
        assert location == url
        assert b"acceptance.eudr" not in response.content
        assert traces.base_url.startswith("http://127.0.0.1:")
    imported = requests.get(traces.dds_url + "?wsdl=1", timeout=TIMEOUT)
    assert imported.status_code == 200
    etree.fromstring(imported.content)


def test_xsd_is_served_and_unknown_queries_are_not(traces: TracesDouble) -> None:
    response = requests.get(traces.dds_url + "?xsd=4", timeout=TIMEOUT)
    assert response.status_code == 200
    schema = etree.fromstring(response.content)
    assert schema.get("targetNamespace") == contract.DDS_NS
    imports = [i.get("schemaLocation") for i in schema.iter("{*}import")]
    assert imports and all(loc.startswith(traces.base_url) for loc in imports)
    for query in ("?xsd=99", "?wsdl=9", "?foo", ""):
        assert requests.get(traces.dds_url + query, timeout=TIMEOUT).status_code == 404


# --- submit and status -------------------------------------------------------------------------


def test_submit_returns_a_uuid_in_a_secured_envelope(traces: TracesDouble, post: Post) -> None:
    response = post(submit_request())
    answer = ok(response)
    assert answer.tag == D + "SubmitDdsResponse"
    uuid = answer.findtext(D + "uuid")
    assert UUID.fullmatch(uuid)
    root = etree.fromstring(response.content)
    assert root.find(f"{S}Header/{WSSE}Security/{WSU}Timestamp/{WSU}Created") is not None
    stored = traces.statements[uuid]
    assert (stored.status, stored.username, stored.version) == ("SUBMITTED", USER, 1)
    assert stored.internal_ref == "LOT-2026-001"
    assert traces.exchanges[-1] == double.Exchange("submitDds", 200, None)


def test_get_dds_shows_available_with_numbers(post: Post) -> None:
    uuid = submitted(post)
    item = available(post, uuid)
    assert item["uuid"] == uuid
    assert item["status"] == "AVAILABLE"
    assert re.fullmatch(r"26BE[A-Z0-9]{10}", item["referenceNumber"])
    assert re.fullmatch(r"[A-Z0-9]{8}", item["verificationNumber"])
    assert (item["internalReferenceNumber"], item["version"]) == ("LOT-2026-001", "1")
    assert "rejectionReason" not in item


def test_a_statement_stays_submitted_until_processed(
    make_double: Callable[..., TracesDouble], post: Post
) -> None:
    slow = make_double(available_after_s=3600)
    uuid = ok(post(submit_request(), to=slow)).findtext(D + "uuid")
    item = overview(ok(post(get_request(uuid), to=slow)))
    assert item["status"] == "SUBMITTED"
    assert "referenceNumber" not in item and "verificationNumber" not in item


def test_internal_reference_lookup(post: Post) -> None:
    uuid = submitted(post, internal_ref=None)
    generated = available(post, uuid)["internalReferenceNumber"]
    assert len(generated) == 14
    assert overview(ok(post(internal_ref_request(generated))))["uuid"] == uuid
    _, _, exc = fault(post(internal_ref_request("NO-SUCH-LOT")))
    assert exc.tag == D + "NotFoundException"


def test_get_by_identifiers_returns_the_statement(post: Post) -> None:
    uuid = submitted(post)
    item = available(post, uuid)
    answer = ok(post(identifiers_request(item["referenceNumber"], item["verificationNumber"])))
    assert answer.findtext(f"{D}statement/{D}commodities/{D}hsHeading") == "090111"
    _, _, exc = fault(post(identifiers_request(item["referenceNumber"], "WRONG123")))
    assert exc.tag == D + "NotFoundException"
    assert errors(exc)[0][0] == "EUDR_WEBSERVICE_STATEMENT_NOT_FOUND"
    _, _, exc = fault(post(identifiers_request("26BE-BAD", "ABCDEFGH")))
    assert errors(exc)[0][0] == "EUDR_NUMBER_INVALID"


# --- schema and WS-Security --------------------------------------------------------------------


def test_schema_invalid_request_is_a_client_fault(traces: TracesDouble, post: Post) -> None:
    code, text, detail = fault(post(submit_request(producer_country="PER")))
    assert code.localname == "Client" and code.namespace == contract.SOAP_NS
    assert text.startswith("cvc-pattern-valid: ")
    assert "country" in text and "PER" in text
    assert detail is None
    assert traces.statements == {}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong key", "FailedAuthentication"),
        ("unknown user", "FailedAuthentication"),
        ("revoked", "FailedAuthentication"),
        ("expired", "MessageExpired"),
        ("clock skew", "MessageExpired"),
        ("no security", "InvalidSecurity"),
    ],
)
def test_ws_security_faults(
    traces: TracesDouble, post: Post, clock: Clock, case: str, expected: str
) -> None:
    body = submit_request()
    if case == "wrong key":
        response = post(body, key="not-the-key")
    elif case == "unknown user":
        response = post(body, user="somebody")
    elif case == "revoked":
        traces.revoke(USER)
        response = post(body)
    elif case == "expired":
        ago = clock.now - dt.timedelta(minutes=10)
        response = post(body, created=ago, expires=ago + dt.timedelta(seconds=60))
    elif case == "clock skew":
        later = clock.now + dt.timedelta(minutes=6)
        response = post(body, created=later, expires=later + dt.timedelta(seconds=60))
    else:
        env = etree.fromstring(envelope(USER, KEY, body, created=clock.now))
        header = env.find(S + "Header")
        header.remove(header.find(WSSE + "Security"))
        response = requests.post(
            traces.dds_url, data=etree.tostring(env), timeout=TIMEOUT, headers=XML
        )
    code, text, detail = fault(response)
    assert (code.namespace, code.localname) == (contract.WSSE_NS, expected)
    assert detail is None and text
    assert traces.statements == {}
    assert traces.exchanges[-1].code == f"wsse:{expected}"


def test_a_replayed_nonce_is_refused(traces: TracesDouble, post: Post) -> None:
    nonce = os.urandom(16)
    ok(post(submit_request(), nonce=nonce))
    code, _, _ = fault(post(submit_request(), nonce=nonce))
    assert code.localname == "FailedAuthentication"
    assert len(traces.statements) == 1


def test_missing_client_id_is_permission_denied(post: Post) -> None:
    code, text, exc = fault(post(submit_request(), client_id=None))
    assert code.localname == "Server"
    assert exc.tag == D + "PermissionDeniedException"
    ((error_id, message, field),) = errors(exc)
    assert error_id in double.GUESSED and text == message and field == "WebServiceClientId"
    _, _, exc = fault(
        post(verify_request("26BEAAAAAAAAAA", "ABCDEFGH"), verify=True, client_id="someone-else")
    )
    assert exc.tag == V + "PermissionDeniedException"


# --- business rules ----------------------------------------------------------------------------


def test_hs_code_outside_annex_i(post: Post) -> None:
    code, text, exc = fault(post(submit_request(hs="999999")))
    assert code.localname == "Server"
    assert exc.tag == D + "BusinessRulesValidationException"
    ((error_id, message, field),) = errors(exc)
    assert (error_id, field) == ("EUDR_COMMODITIES_HS_CODE_INVALID", "commodities[1].hsHeading")
    assert text == message


def test_geolocation_over_the_size_limit(
    make_double: Callable[..., TracesDouble], post: Post
) -> None:
    small = make_double(max_geo_bytes=100)
    _, _, exc = fault(post(submit_request(), to=small))
    assert ("EUDR_MAXIMUM_GEO_SIZE_REACHED", "commodities[1].producers[1].geometryGeojson") in [
        (i, f) for i, _, f in errors(exc)
    ]


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        (
            {"geo": geojson_b64({"type": "Point", "coordinates": [-75.2, 95.0]})},
            "EUDR_COMMODITIES_PRODUCER_GEO_LATITUDE_INVALID",
        ),
        ({"geo": geojson_b64(LINE)}, "EUDR_COMMODITIES_PRODUCER_GEO_INVALID"),
        ({"geo": base64.b64encode(b"not json").decode()}, "EUDR_COMMODITIES_PRODUCER_GEO_INVALID"),
        ({"net_weight": None}, "EUDR_COMMODITIES_DESCRIPTOR_NET_MASS_EMPTY"),
        ({"role": "REPRESENTATIVE_OPERATOR"}, "EUDR_BEHALF_OPERATOR_NOT_PROVIDED"),
        ({"role": "REPRESENTATIVE_OPERATOR", "represented": True}, double.BEHALF_EORI_MISSING),
    ],
)
def test_other_business_rules(post: Post, kw: dict[str, Any], expected: str) -> None:
    _, _, exc = fault(post(submit_request(**kw)))
    assert exc.tag == D + "BusinessRulesValidationException"
    assert expected in [i for i, _, _ in errors(exc)]


def test_domestic_needs_no_net_weight(post: Post) -> None:
    assert submitted(post, activity="DOMESTIC", net_weight=None)


# --- amend, withdraw, verify, reject -----------------------------------------------------------


def test_amend_keeps_the_reference_and_bumps_the_version(traces: TracesDouble, post: Post) -> None:
    uuid = submitted(post)
    before = available(post, uuid)
    answer = ok(post(amend_request(uuid, net_weight="1500")))
    assert (answer.tag, answer.findtext(D + "uuid"), answer.findtext(D + "status")) == (
        D + "AmendDdsResponse",
        uuid,
        "AVAILABLE",
    )
    after = available(post, uuid)
    assert after["referenceNumber"] == before["referenceNumber"]
    assert after["verificationNumber"] == before["verificationNumber"]
    assert after["version"] == "2"
    weight = traces.statements[uuid].statement.findtext(f".//{C}netWeight")
    assert weight == "1500"


def test_amend_after_73_hours_is_refused(traces: TracesDouble, post: Post, clock: Clock) -> None:
    uuid = submitted(post)
    available(post, uuid)
    clock.now += dt.timedelta(hours=73)
    _, _, exc = fault(post(amend_request(uuid)))
    assert exc.tag == D + "BusinessRulesValidationException"
    assert [i for i, _, _ in errors(exc)] == [double.WINDOW_CLOSED]
    assert traces.statements[uuid].version == 1


def test_amend_cannot_change_the_activity_nor_touch_anothers(
    make_double: Callable[..., TracesDouble], post: Post
) -> None:
    two = make_double(users={USER: KEY, "other": "other-key"})
    uuid = ok(post(submit_request(), to=two)).findtext(D + "uuid")
    ok(post(get_request(uuid), to=two))
    _, _, exc = fault(post(amend_request(uuid, activity="DOMESTIC"), to=two))
    assert [i for i, _, _ in errors(exc)] == [double.ACTIVITY_CHANGED]
    _, _, exc = fault(post(withdraw_request(uuid), to=two, user="other", key="other-key"))
    assert exc.tag == D + "PermissionDeniedException"
    _, _, exc = fault(post(withdraw_request("00000000-0000-4000-8000-000000000000"), to=two))
    assert errors(exc)[0][0] == "EUDR_WEBSERVICE_STATEMENT_NOT_FOUND"


def test_withdraw_then_verify(post: Post) -> None:
    uuid = submitted(post)
    item = available(post, uuid)
    pair = (item["referenceNumber"], item["verificationNumber"])
    verified = ok(post(verify_request(*pair), verify=True))
    assert verified.findtext(V + "result") == "EXISTING_USABLE"
    answer = ok(post(withdraw_request(uuid)))
    assert answer.findtext(D + "status") == "WITHDRAWN"
    verified = ok(post(verify_request(*pair), verify=True))
    assert verified.findtext(V + "result") == "EXISTING_NON_USABLE"
    assert verified.findtext(V + "status") == "WITHDRAWN"
    assert verified.findtext(V + "dateTime").startswith("2026-12-03T10:00:00")


def test_verify_of_an_unknown_pair(post: Post) -> None:
    answer = ok(post(verify_request("26BEZZZZZZZZZZ", "ZZZZZZZZ"), verify=True))
    assert answer.findtext(V + "result") == "NON_EXISTENT"
    assert answer.find(V + "status") is None


def test_get_dds_of_an_unknown_uuid(post: Post) -> None:
    code, _, exc = fault(post(get_request("6f1c2a3b-0000-4000-8000-0000000000aa")))
    assert code.localname == "Server"
    assert exc.tag == D + "NotFoundException"
    assert [i for i, _, _ in errors(exc)] == ["EUDR_WEBSERVICE_STATEMENT_NOT_FOUND"]


def test_reject_shows_rejected_with_the_reason(traces: TracesDouble, post: Post) -> None:
    uuid = submitted(post)
    traces.reject(uuid, "Geolocation overlaps a protected area")
    item = available(post, uuid)
    assert item["status"] == "REJECTED"
    assert item["rejectionReason"] == "Geolocation overlaps a protected area"


# --- HTTP --------------------------------------------------------------------------------------


def test_more_than_five_calls_a_second_are_throttled(
    make_double: Callable[..., TracesDouble], post: Post
) -> None:
    five = make_double(calls_per_second=5)
    throttled = []
    with requests.Session() as session:
        for _ in range(10):
            response = session.post(five.dds_url, data=b"<not-soap/>", timeout=TIMEOUT, headers=XML)
            if response.status_code == 429:
                throttled.append(response)
                break
    assert throttled, "no 429 in 10 quick calls"
    assert throttled[0].headers["Retry-After"] == "1"
    assert b"Envelope" not in throttled[0].content
    assert [e.http_status for e in five.exchanges].count(429) == 1


def test_a_body_that_is_not_soap_is_a_client_fault(traces: TracesDouble) -> None:
    response = requests.post(traces.dds_url, data=b"<<<", timeout=TIMEOUT, headers=XML)
    code, _, _ = fault(response)
    assert code.localname == "Client"


def test_main_serves_until_interrupted() -> None:
    cmd = [sys.executable, "-m", "eudr_check.dds.double", "--port", "0"]
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            ready, _, _ = select.select([proc.stdout], [], [], 20)
            assert ready, "the double printed no URL"
            dds_url = proc.stdout.readline().strip() if proc.stdout else ""
            assert dds_url.endswith("/tracesnt/ws/EUDRDueDiligenceStatementServiceV3")
            assert requests.get(dds_url + "?wsdl", timeout=TIMEOUT).status_code == 200
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0


def test_a_dtd_is_refused(traces: TracesDouble, clock: Clock) -> None:
    data = envelope(
        USER, KEY, get_request("6f1c2a3b-0000-4000-8000-0000000000aa"), created=clock.now
    )
    data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e "boom">]>', 1)
    response = requests.post(traces.dds_url, data=data, timeout=TIMEOUT, headers=XML)
    code, text, _ = fault(response)
    assert code.localname == "Client" and "DOCTYPE" in text


def test_an_answer_off_the_eu_schema_is_a_bug_not_an_answer(
    traces: TracesDouble, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    uuid = submitted(post)
    monkeypatch.setattr(double, "_xml_time", lambda moment: "not a date")
    response = post(get_request(uuid))
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "off the EU schema" in response.text and "date" in response.text
    assert traces.exchanges[-1].code == "internal-error"
