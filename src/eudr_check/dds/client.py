"""The EU Information System's DDS V3 services, through zeep, from the shipped WSDL.

- The WSDL and XSDs come from the package (no network to load them); the service address is
  the environment's (acceptance by default) or EUDR_CHECK_TRACES_ENDPOINT.
- WS-Security: UsernameToken with PasswordDigest and a one-minute Timestamp (`dds.wsse`);
  the `WebServiceClientId` header on every call.
- Every request body is validated against the EU's XSDs before it leaves (a zeep plugin), and
  the exact bytes sent and received are kept (`exchanges`) for the five-year record.
- At most 5 calls per second from this process; timeouts; retries with backoff on transport
  errors only (connection refused, 429, 502-504, timeouts), never on an answer of the EU system.
  A submission is retried only when it cannot have arrived (the connection was never made):
  after a timeout it may have, and the caller looks it up by internal reference instead.
- SOAP faults become our error tree with the EU's own error IDs, messages and fields.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault, TransportError, ValidationError
from zeep.plugins import Plugin

from eudr_check.dds import contract
from eudr_check.dds.request_xml import check
from eudr_check.dds.wsse import EudrUsernameToken
from eudr_check.errors import (
    ConfigError,
    TracesAuthError,
    TracesError,
    TracesNotFound,
    TracesPermissionDenied,
    TracesRejected,
    TracesSchemaRejected,
    TracesUnavailable,
)
from eudr_check.i18n import Text
from eudr_check.settings import Settings

log = logging.getLogger(__name__)

HOSTS = {
    "acceptance": "https://acceptance.eudr.webcloud.ec.europa.eu/tracesnt/ws/",
    "production": "https://eudr.webcloud.ec.europa.eu/tracesnt/ws/",
}
_DDS_BINDING = f"{{{contract.DDS_NS}}}EUDRDueDiligenceStatementSoapBinding"
_VERIFY_BINDING = f"{{{contract.VERIFY_NS}}}EUDRVerifyDeclarationSoapBinding"
# Operations that may be sent twice without filing twice.
_IDEMPOTENT = {"getDds", "getDdsByInternalReference", "getDdsByIdentifiers", "amendDds",
               "withdrawDds", "verify-declaration"}  # fmt: skip
_RETRY_STATUS = {429, 502, 503, 504}
_WSS_FAULTS = {"FailedAuthentication", "InvalidSecurity", "InvalidSecurityToken",
               "MessageExpired", "FailedCheck", "SecurityTokenUnavailable"}  # fmt: skip


def endpoints(settings: Settings) -> tuple[str, str]:
    """(DDS service URL, verify service URL) for the settings."""
    if settings.traces_endpoint:
        dds = settings.traces_endpoint.rstrip("/")
        base = dds.rsplit("/", 1)[0] + "/"
    else:
        base = HOSTS[settings.traces_env]
        dds = base + contract.DDS_SERVICE
    return dds, base + contract.VERIFY_SERVICE


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP exchange with the EU system, byte for byte (the key never appears in it: only
    its digest, nonce and time do)."""

    operation: str
    address: str
    sent_at: dt.datetime
    request: bytes
    status: int | None
    response: bytes | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Overview:
    """A statement as getDds reports it."""

    uuid: str
    internal_ref: str | None
    reference: str | None
    verification: str | None
    status: str
    rejection_reason: str | None = None
    communication: str | None = None
    date: dt.datetime | None = None
    updated_by: str | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    result: str  # EXISTING_USABLE | EXISTING_NON_USABLE | NON_EXISTENT
    status: str | None
    checked_at: dt.datetime


class _Pace:
    """At most `per_second` call starts per second from this process (all threads)."""

    def __init__(self, per_second: float, sleep: Callable[[float], None]) -> None:
        # 5 % slack: six calls never fall inside one second of the server's clock.
        self.gap = 1.05 / per_second
        self.sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.gap
        if start > now:
            self.sleep(start - now)


class _Transport(zeep.Transport):
    """Loads the contract from the package; posts with pace, retries and a byte record."""

    def __init__(self, client: TracesClient, timeout_s: float) -> None:
        super().__init__(session=requests.Session(), timeout=timeout_s, operation_timeout=timeout_s)
        self.client = client

    def load(self, url: str) -> bytes:
        if url.startswith(("http://", "https://")):
            return contract.local_file(url).read_bytes()
        return bytes(super().load(url))

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        operation = headers.get("SOAPAction", "").strip('"').rsplit("/", 1)[-1]
        return self.client._post(self.session, address, message, headers, operation)


class _Validate(Plugin):
    """Refuse to send a body that does not meet the EU's XSDs."""

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        body = envelope.find(f"{{{contract.SOAP_NS}}}Body")
        for child in body if body is not None else ():
            check(child)
        return envelope, http_headers


class TracesClient:
    """The DDS and verify services of one environment, for one web-service user."""

    def __init__(
        self, dds_url: str, verify_url: str, username: str, auth_key: str,
        client_id: str = "eudr-test", *, timeout_s: float = 60.0, retries: int = 3,
        calls_per_second: float = 5.0, sleep: Callable[[float], None] = time.sleep,
    ) -> None:  # fmt: skip
        self.dds_url, self.verify_url = dds_url, verify_url
        self.username = username
        self.client_id = client_id
        self.retries = retries
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.exchanges: list[Exchange] = []
        self._pace = _Pace(calls_per_second, sleep)
        transport = _Transport(self, timeout_s)
        wsse = EudrUsernameToken(username, auth_key)
        opts = zeep.Settings(strict=True, xml_huge_tree=True)
        plugins = [_Validate()]
        self._dds = zeep.Client(str(contract.WSDL[contract.DDS_SERVICE]), transport=transport,
                                wsse=wsse, settings=opts, plugins=plugins)  # fmt: skip
        self._verify = zeep.Client(str(contract.WSDL[contract.VERIFY_SERVICE]),
                                   transport=transport, wsse=wsse, settings=opts,
                                   plugins=plugins)  # fmt: skip
        self.dds = self._dds.create_service(_DDS_BINDING, dds_url)
        self.verifier = self._verify.create_service(_VERIFY_BINDING, verify_url)

    @classmethod
    def from_settings(cls, settings: Settings) -> TracesClient:
        if not settings.traces_username or settings.traces_auth_key is None:
            raise ConfigError(Text(
                "Faltan las credenciales del sistema de información de la UE: defina "
                "EUDR_CHECK_TRACES_USERNAME y EUDR_CHECK_TRACES_AUTH_KEY (véase README, «Presentar "
                "la declaración»).",
                "The EU Information System credentials are missing: set "
                "EUDR_CHECK_TRACES_USERNAME and EUDR_CHECK_TRACES_AUTH_KEY (see README, "
                "'Filing the statement').",
            ))  # fmt: skip
        dds, verify = endpoints(settings)
        return cls(
            dds, verify, settings.traces_username,
            settings.traces_auth_key.get_secret_value(), settings.traces_client_id,
            timeout_s=settings.traces_timeout_s, retries=settings.traces_retries,
            calls_per_second=settings.traces_calls_per_second,
        )  # fmt: skip

    # operations -----------------------------------------------------------------------------

    def submit(self, request: etree._Element) -> str:
        """Send a SubmitDdsRequest element; the UUID the EU system gave the statement."""
        values = self._values(self._dds, request)
        result = self._call("submitDds", self.dds.submitDds, **values)
        return str(result)

    def amend(self, request: etree._Element) -> str:
        """Send an AmendDdsRequest element; the statement's status afterwards."""
        values = self._values(self._dds, request)
        result = self._call("amendDds", self.dds.amendDds, **values)
        return str(result.status)

    def withdraw(self, uuid: str) -> str:
        result = self._call("withdrawDds", self.dds.withdrawDds, uuid=uuid)
        return str(result.status)

    def status(self, uuids: Sequence[str]) -> list[Overview]:
        """getDds, 100 UUIDs per call (the EU's limit)."""
        out: list[Overview] = []
        for start in range(0, len(uuids), 100):
            chunk = list(uuids[start : start + 100])
            result = self._call("getDds", self.dds.getDds, uuidList=chunk)
            out.extend(_overview(o) for o in (result or []))
        return out

    def by_internal_ref(self, ref: str) -> list[Overview]:
        result = self._call("getDdsByInternalReference", self.dds.getDdsByInternalReference,
                            internalReference=ref)  # fmt: skip
        return [_overview(o) for o in (result or [])]

    def by_identifiers(self, reference: str, verification: str) -> Any:
        pair = {"referenceNumber": reference, "verificationNumber": verification}
        return self._call("getDdsByIdentifiers", self.dds.getDdsByIdentifiers,
                          referenceAndVerificationNumber=pair)  # fmt: skip

    def verify(self, reference: str, verification: str) -> VerifyResult:
        result = self._call("verifyDeclaration", self.verifier.verifyDeclaration,
                            referenceNumber=reference, verificationNumber=verification)  # fmt: skip
        return VerifyResult(str(result.result), _opt(result.status), result.dateTime)

    # plumbing ----------------------------------------------------------------------------------

    def _values(self, client: zeep.Client, request: etree._Element) -> dict[str, Any]:
        """A request element as zeep values, so zeep writes it again inside the envelope (the
        egress plugin validates what it wrote)."""
        element = client.get_element(request.tag)
        parsed = element.parse(request, client.wsdl.types)
        return {name: parsed[name] for name in parsed}

    def _call(self, operation: str, method: Callable[..., Any], **values: Any) -> Any:
        headers = {"webServiceClientId": self.client_id}
        try:
            return method(**values, _soapheaders=headers)
        except Fault as fault:
            raise _fault_error(operation, fault) from None
        except TransportError as exc:
            raise _unavailable(operation, f"HTTP {exc.status_code}") from None
        except ValidationError as exc:
            raise TracesSchemaRejected(operation, Text(
                f"la solicitud no cumple el esquema de la UE: {exc}",
                f"the request does not meet the EU's schema: {exc}",
            )) from None  # fmt: skip
        except etree.XMLSyntaxError as exc:
            raise _unavailable(operation, f"the answer is not XML ({exc})") from None

    def _post(
        self, session: requests.Session, address: str, message: bytes,
        headers: dict[str, str], operation: str,
    ) -> requests.Response:  # fmt: skip
        idempotent = operation in _IDEMPOTENT
        attempt = 0
        while True:
            self._pace.wait()
            sent_at = dt.datetime.now(dt.UTC)
            try:
                response = session.post(address, data=message, headers=headers,
                                        timeout=self.timeout_s)  # fmt: skip
            except requests.RequestException as exc:
                self.exchanges.append(Exchange(operation, address, sent_at, message, None, None,
                                               type(exc).__name__))  # fmt: skip
                never_sent = isinstance(exc, requests.ConnectTimeout) or (
                    isinstance(exc, requests.ConnectionError) and _refused(exc)
                )
                if attempt < self.retries and (idempotent or never_sent):
                    attempt += 1
                    self._backoff(attempt, operation, type(exc).__name__)
                    continue
                raise _unavailable(
                    operation, type(exc).__name__, maybe_sent=not never_sent
                ) from None
            self.exchanges.append(Exchange(operation, address, sent_at, message,
                                           response.status_code, response.content))  # fmt: skip
            # 429: not processed at all; 502-504: a gateway before the service.
            retry = (idempotent or response.status_code == 429) and attempt < self.retries
            if retry and response.status_code in _RETRY_STATUS and not _is_soap(response):
                attempt += 1
                wait = _retry_after(response)
                self._backoff(attempt, operation, f"HTTP {response.status_code}", wait)
                continue
            return response

    def _backoff(self, attempt: int, operation: str, why: str, at_least: float = 0.0) -> None:
        delay = max(at_least, 0.5 * 2 ** (attempt - 1))
        log.warning("EU system %s: %s, retry %s in %.1f s", operation, why, attempt, delay)
        self.sleep(delay)


def _refused(exc: requests.ConnectionError) -> bool:
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text


def _is_soap(response: requests.Response) -> bool:
    return b"Envelope" in response.content[:500]


def _retry_after(response: requests.Response) -> float:
    try:
        return min(30.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _overview(o: Any) -> Overview:
    comm = getattr(o, "communicationToOperator", None)
    return Overview(
        uuid=str(o.uuid),
        internal_ref=_opt(o.internalReferenceNumber),
        reference=_opt(o.referenceNumber),
        verification=_opt(o.verificationNumber),
        status=str(o.status),
        rejection_reason=_opt(o.rejectionReason),
        communication=None if comm is None else _opt(comm.content),
        date=o.date,
        updated_by=_opt(o.updatedBy),
        version=None if o.version is None else int(o.version),
    )


def _unavailable(operation: str, why: str, maybe_sent: bool = False) -> TracesUnavailable:
    es_tail = (
        " La declaración pudo llegar: consulte su estado antes de reenviarla." if maybe_sent else ""
    )
    en_tail = (
        " The statement may have arrived: look it up before sending it again." if maybe_sent else ""
    )
    err = TracesUnavailable(operation, Text(
        f"no se pudo contactar con el sistema de información de la UE ({operation}: {why})."
        + es_tail,
        f"the EU Information System could not be reached ({operation}: {why}).{en_tail}",
    ), fault=why)  # fmt: skip
    err.maybe_sent = maybe_sent
    return err


def _fault_error(operation: str, fault: Fault) -> TracesError:
    code = (fault.code or "").rsplit(":", 1)[-1].rsplit("}", 1)[-1]
    text = (fault.message or "").strip()
    detail = fault.detail if isinstance(fault.detail, etree._Element) else None
    kind, errors = _detail(detail)
    listed = "; ".join(f"{i}: {m}" + (f" ({f})" if f else "") for i, m, f in errors) or text
    if code in _WSS_FAULTS:
        if code == "MessageExpired":
            es = (
                "el sistema de la UE dio el mensaje por caducado: compruebe el reloj de este "
                "equipo (NTP); la hora debe estar a menos de 5 minutos de la del servidor"
            )
            en = (
                "the EU system found the message expired: check this machine's clock (NTP); "
                "it must be within 5 minutes of the server's"
            )
        else:
            es = (
                "el sistema de la UE rechazó las credenciales: compruebe "
                "EUDR_CHECK_TRACES_USERNAME y EUDR_CHECK_TRACES_AUTH_KEY (la clave de "
                "autenticación pudo cambiarse o revocarse en el perfil de TRACES)"
            )
            en = (
                "the EU system refused the credentials: check EUDR_CHECK_TRACES_USERNAME and "
                "EUDR_CHECK_TRACES_AUTH_KEY (the authentication key may have been changed or "
                "revoked in the TRACES profile)"
            )
        return TracesAuthError(operation, Text(f"{es} [{code}: {text}]", f"{en} [{code}: {text}]"),
                               fault=code)  # fmt: skip
    if kind == "BusinessRulesValidationException":
        return TracesRejected(operation, Text(
            f"el sistema de la UE rechazó la solicitud ({operation}): {listed}",
            f"the EU system rejected the request ({operation}): {listed}",
        ), fault=kind, errors=errors)  # fmt: skip
    if kind == "NotFoundException":
        return TracesNotFound(operation, Text(
            f"el sistema de la UE no encontró la declaración ({operation}): {listed}",
            f"the EU system found no such statement ({operation}): {listed}",
        ), fault=kind, errors=errors)  # fmt: skip
    if kind == "PermissionDeniedException":
        return TracesPermissionDenied(operation, Text(
            f"el sistema de la UE no permite esta operación a este usuario ({operation}): {listed}",
            f"the EU system does not allow this user this operation ({operation}): {listed}",
        ), fault=kind, errors=errors)  # fmt: skip
    if text.startswith("cvc-"):
        return TracesSchemaRejected(operation, Text(
            f"el sistema de la UE encontró la solicitud fuera de su esquema: {text}",
            f"the EU system found the request off its schema: {text}",
        ), fault=code or "cvc")  # fmt: skip
    return TracesError(operation, Text(
        f"el sistema de la UE devolvió un error ({operation}): {code} {text}".strip(),
        f"the EU system returned an error ({operation}): {code} {text}".strip(),
    ), fault=code or None, errors=errors)  # fmt: skip


def _detail(detail: etree._Element | None) -> tuple[str | None, list[tuple[str, str, str]]]:
    """The exception element's local name and its (ID, Message, Field) errors."""
    if detail is None:
        return None, []
    for child in detail:
        if not isinstance(child.tag, str):
            continue
        kind = etree.QName(child).localname
        errors = [
            (
                (e.findtext(f"{{{contract.ERROR_NS}}}ID") or "").strip(),
                (e.findtext(f"{{{contract.ERROR_NS}}}Message") or "").strip(),
                (e.findtext(f"{{{contract.ERROR_NS}}}Field") or "").strip(),
            )
            for e in child.iterfind(f"{{{contract.ERROR_NS}}}Error")
        ]
        return kind, errors
    return None, []


__all__ = ["Exchange", "Overview", "TracesClient", "VerifyResult", "endpoints"]
