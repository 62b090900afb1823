"""The client the tool uses against acceptance, here against the local stand-in of the EU
service (which validates every request with the EU's XSDs and checks the digest): the whole
life of a statement recorded in a real registry, each fault class mapped to a clear error with
the EU's own ID, and transport failures retried only where that cannot file twice."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from zeep.exceptions import Fault

from eudr_check.dds import contract
from eudr_check.dds.builder import build_statements
from eudr_check.dds.client import TracesClient, _fault_error, endpoints
from eudr_check.dds.double import TracesDouble
from eudr_check.dds.lifecycle import amend, refresh, submit, withdraw
from eudr_check.dds.model import StatementOptions
from eudr_check.dds.request_xml import submit_request
from eudr_check.errors import (
    ConfigError,
    DdsError,
    DdsSchemaError,
    TracesAuthError,
    TracesNotFound,
    TracesPermissionDenied,
    TracesRejected,
    TracesSchemaRejected,
    TracesUnavailable,
)
from eudr_check.settings import Settings
from eudr_check.store.registry import Registry
from tests.test_dds_builder import options, plot

USER, KEY = "eudr-user", "test-auth-key"
D = f"{{{contract.DDS_NS}}}"
UNKNOWN = "071874bd-8c62-4cac-8eb6-b2fbe003410c"


@pytest.fixture
def double() -> Iterator[TracesDouble]:
    with TracesDouble(users={USER: KEY}) as d:
        yield d


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with Registry.open(f"sqlite:///{tmp_path / 'reg.db'}") as reg:
        yield reg


def client_for(
    d: TracesDouble, key: str = KEY, client_id: str = "eudr-test", **kw: object
) -> TracesClient:
    return TracesClient(d.dds_url, d.verify_url, USER, key, client_id, **kw)  # type: ignore[arg-type]


def request(n: int = 3, **kw: object) -> etree._Element:
    build = build_statements([plot(i) for i in range(n)], options(**kw))
    return submit_request(build.statements[0])


def test_submit_status_numbers_amend_withdraw_all_recorded(
    double: TracesDouble, registry: Registry
) -> None:
    client = client_for(double)
    rec = submit(registry, client, request(), part=1, parts=1)
    assert rec.status == "SUBMITTED" and rec.uuid in double.statements
    assert rec.plot_ids == ("P00000", "P00001", "P00002")
    (rec,) = refresh(registry, client, [rec])
    assert rec.status == "AVAILABLE"
    assert rec.reference_number and len(rec.reference_number) == 14
    assert rec.verification_number and len(rec.verification_number) >= 5
    stored = registry.dds_get(rec.id)
    assert stored is not None and stored.reference_number == rec.reference_number

    changed = request(net_mass_kg=18_000.0)
    rec2 = amend(registry, client, rec, changed)
    assert rec2.status == "AVAILABLE" and rec2.amended_at is not None
    assert rec2.statement_hash != rec.statement_hash
    (rec2,) = refresh(registry, client, [rec2])
    assert rec2.reference_number == rec.reference_number  # an amendment keeps the number
    assert double.statements[rec.uuid].version == 2

    result = client.verify(rec.reference_number, rec.verification_number)
    assert result.result == "EXISTING_USABLE"
    rec3 = withdraw(registry, client, rec2)
    assert rec3.status == "WITHDRAWN" and rec3.withdrawn_at is not None
    assert (
        client.verify(rec.reference_number, rec.verification_number).result == "EXISTING_NON_USABLE"
    )

    ops = [e.operation for e in registry.dds_exchanges(rec.id)]
    assert ops == ["submitDds", "getDds", "amendDds", "getDds", "withdrawDds"]
    for e in registry.dds_exchanges(rec.id):
        assert b"#PasswordDigest" in e.request and KEY.encode() not in e.request
        assert e.status == 200 and e.response and b"Envelope" in e.response
    assert b"<dds:SubmitDdsRequest" in registry.dds_request(rec.id) or b"SubmitDdsRequest" in (
        registry.dds_request(rec.id)
    )


def test_the_same_statement_is_not_filed_twice(double: TracesDouble, registry: Registry) -> None:
    client = client_for(double)
    submit(registry, client, request())
    sent = len(double.exchanges)
    with pytest.raises(DdsError, match="already filed"):
        submit(registry, client, request())
    assert len(double.exchanges) == sent  # refused before sending
    again = submit(registry, client, request(), again=True)
    assert again.uuid is not None


def test_an_unknown_hs_code_is_the_eus_refusal_with_its_id(
    double: TracesDouble, registry: Registry
) -> None:
    el = request()
    el.find(f".//{D}hsHeading").text = "970100"  # valid for the XSD, not an Annex I product
    with pytest.raises(TracesRejected) as info:
        submit(registry, client_for(double), el)
    assert info.value.error_ids == ["EUDR_COMMODITIES_HS_CODE_INVALID"]
    assert "EUDR_COMMODITIES_HS_CODE_INVALID" in info.value.message("es")
    (rec,) = registry.dds_find()
    assert rec.status == "FAILED" and rec.uuid is None
    assert "EUDR_COMMODITIES_HS_CODE_INVALID" in (rec.error or "")
    assert registry.dds_exchanges(rec.id)[0].status == 500


def test_oversize_geolocation_is_refused_with_the_eus_id(registry: Registry) -> None:
    with (
        TracesDouble(users={USER: KEY}, max_geo_bytes=500) as d,
        pytest.raises(TracesRejected) as info,
    ):
        client_for(d).submit(request())
    assert info.value.error_ids == ["EUDR_MAXIMUM_GEO_SIZE_REACHED"]


@pytest.mark.parametrize("case", ["wrong_key", "revoked"])
def test_a_wrong_or_revoked_key_is_a_clear_message_naming_the_settings(
    double: TracesDouble, case: str
) -> None:
    if case == "revoked":
        double.revoke(USER)
    client = client_for(double, key="typo-key" if case == "wrong_key" else KEY)
    with pytest.raises(TracesAuthError) as info:
        client.status([UNKNOWN])
    text = info.value.message("en")
    assert "EUDR_CHECK_TRACES_AUTH_KEY" in text and "FailedAuthentication" in text
    assert "typo-key" not in text and KEY not in text
    assert "EUDR_CHECK_TRACES_AUTH_KEY" in info.value.message("es")


def test_a_clock_off_by_ten_minutes_is_named_as_such() -> None:
    ahead = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)  # noqa: E731
    with TracesDouble(users={USER: KEY}, clock=ahead) as d, pytest.raises(TracesAuthError) as info:
        client_for(d).status([UNKNOWN])
    assert info.value.fault == "MessageExpired"
    assert "NTP" in info.value.message("en") and "reloj" in info.value.message("es")


def test_not_found_and_permission_denied_keep_the_eus_ids(double: TracesDouble) -> None:
    with pytest.raises(TracesNotFound) as info:
        client_for(double).status([UNKNOWN])
    assert info.value.error_ids == ["EUDR_WEBSERVICE_STATEMENT_NOT_FOUND"]
    with pytest.raises(TracesPermissionDenied) as denied:
        client_for(double, client_id="someone-else").status([UNKNOWN])
    assert denied.value.errors and denied.value.errors[0][0]


def test_a_request_off_the_schema_never_leaves(double: TracesDouble) -> None:
    el = request()
    el.find(f".//{D}producers/{D}country").text = "PER"
    with pytest.raises(DdsSchemaError):
        client_for(double).submit(el)
    assert double.exchanges == []


def test_a_cvc_fault_from_the_server_maps_to_the_schema_error() -> None:
    fault = Fault(
        "cvc-pattern-valid: Value 'PER' is not facet-valid with respect to pattern", code="S:Client"
    )
    err = _fault_error("submitDds", fault)
    assert isinstance(err, TracesSchemaRejected)
    assert "cvc-pattern-valid" in err.message("en")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_retried_with_backoff_then_reported() -> None:
    port = _closed_port()
    waits: list[float] = []
    base = f"http://127.0.0.1:{port}/tracesnt/ws/"
    client = TracesClient(
        base + contract.DDS_SERVICE,
        base + contract.VERIFY_SERVICE,
        USER,
        KEY,
        retries=3,
        sleep=waits.append,
    )
    with pytest.raises(TracesUnavailable) as info:
        client.submit(request())
    # Besides the pace's own short waits: 0.5, 1 and 2 s before the three retries.
    assert [w for w in waits if w in (0.5, 1.0, 2.0)] == [0.5, 1.0, 2.0]
    assert len(client.exchanges) == 4 and not info.value.maybe_sent
    assert "could not be reached" in info.value.message("en")


def test_the_five_calls_per_second_limit_is_kept(double: TracesDouble, registry: Registry) -> None:
    client = client_for(double)
    rec = submit(registry, client, request())
    for _ in range(7):
        client.status([rec.uuid or ""])
    assert all(e.status != 429 for e in client.exchanges)
    assert len(double.exchanges) == 8


def test_a_429_is_waited_out_and_retried() -> None:
    with TracesDouble(users={USER: KEY}, calls_per_second=1) as d:
        client = client_for(d, calls_per_second=5.0)
        uuid = client.submit(request())
        client.status([uuid])
        statuses = [e.status for e in client.exchanges]
    assert 429 in statuses and statuses[-1] == 200


def test_settings_choose_the_environment_and_missing_credentials_are_explained() -> None:
    acc = endpoints(Settings(traces_env="acceptance"))
    assert (
        acc[0]
        == "https://acceptance.eudr.webcloud.ec.europa.eu/tracesnt/ws/EUDRDueDiligenceStatementServiceV3"
    )
    prod = endpoints(Settings(traces_env="production"))
    assert (
        prod[1] == "https://eudr.webcloud.ec.europa.eu/tracesnt/ws/EUDRVerifyDeclarationServiceV3"
    )
    own = endpoints(
        Settings(
            traces_endpoint="http://127.0.0.1:9/tracesnt/ws/EUDRDueDiligenceStatementServiceV3"
        )
    )
    assert own[1] == "http://127.0.0.1:9/tracesnt/ws/EUDRVerifyDeclarationServiceV3"
    with pytest.raises(ConfigError, match="EUDR_CHECK_TRACES_USERNAME"):
        TracesClient.from_settings(Settings(traces_username=None))
    secret = Settings(traces_username="u", traces_auth_key="k3y-value")  # type: ignore[arg-type]
    assert "k3y-value" not in repr(secret) and "k3y-value" not in str(secret.model_dump())


def test_a_general_hs_code_never_goes_on_another_commodity() -> None:
    opts = StatementOptions({"*": "1801"}, 5.0)
    assert opts.hs_for("cocoa") == "1801" and opts.hs_for("coffee") is None


def test_a_submit_answer_lost_to_a_timeout_is_found_by_internal_reference_not_resent(
    double: TracesDouble, registry: Registry
) -> None:
    client = client_for(double, timeout_s=1.0)
    double.answer_late(2.5)  # the EU files it; its answer comes after our 1 s timeout
    rec = submit(registry, client, request(internal_ref="COOP-2026-12"))
    (uuid,) = double.statements  # filed exactly once: the submit was not retried
    assert rec.uuid == uuid and rec.status == "SUBMITTED"
    operations = [e.operation for e in client.exchanges]
    assert operations.count("submitDds") == 1
    assert operations[-1] == "getDdsByInternalReference"
    lost = next(e for e in client.exchanges if e.operation == "submitDds")
    assert lost.status is None and lost.response is None and lost.error, lost
    # Recorded with every exchange, the unanswered submit included.
    stored = registry.dds_exchanges(rec.id)
    assert [e.operation for e in stored][-1] == "getDdsByInternalReference"
    # The same statement again is refused by its hash, not filed a second time.
    with pytest.raises(DdsError):
        submit(registry, client, request(internal_ref="COOP-2026-12"))
    assert len(double.statements) == 1
