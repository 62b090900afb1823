"""A statement's life, recorded in the registry: submit, poll for the numbers, amend, withdraw.

Every call's exchanges (exact request and response bytes) are kept with the submission. The
same statement is not filed twice by accident: a request whose canonical hash was already
filed to the same environment (and is not failed, rejected or withdrawn) is refused. When a
submission times out after it may have arrived, it is looked up by its internal reference
before anything is sent again.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from eudr_check.dds import contract
from eudr_check.dds.client import TracesClient
from eudr_check.dds.request_xml import amend_request, statement_hash, to_bytes
from eudr_check.errors import DdsError, TracesError, TracesNotFound, TracesUnavailable
from eudr_check.i18n import Text
from eudr_check.store.dds import FAILED, DdsRecord
from eudr_check.store.registry import Registry

log = logging.getLogger(__name__)
D = f"{{{contract.DDS_NS}}}"
DEAD = frozenset({FAILED, "REJECTED", "WITHDRAWN"})
NO_UUID = Text("esta presentación no tiene UUID: no llegó al sistema de la UE",
               "this submission has no UUID: it never reached the EU system")  # fmt: skip


def request_plot_ids(request: etree._Element) -> list[str]:
    """The plot ids inside a request (the feature ids of each producer's GeoJSON)."""
    ids: list[str] = []
    for el in request.iter(D + "geometryGeojson"):
        try:
            doc = json.loads(base64.b64decode(el.text or ""))
        except (ValueError, TypeError):
            continue
        for feature in doc.get("features", []) if isinstance(doc, dict) else []:
            if isinstance(feature, dict) and feature.get("id") is not None:
                ids.append(str(feature["id"]))
    return ids


def submit(
    registry: Registry, client: TracesClient, request: etree._Element, *,
    organisation_id: int | None = None, lot_id: int | None = None, part: int = 1,
    parts: int = 1, overrides: Sequence[Mapping[str, Any]] = (), again: bool = False,
) -> DdsRecord:  # fmt: skip
    """File one SubmitDdsRequest; the recorded submission with its UUID."""
    digest = statement_hash(request)
    if not again:
        live = [r for r in registry.dds_find(hashes=[digest], endpoint=client.dds_url)
                if r.status not in DEAD]  # fmt: skip
        if live:
            r = live[0]
            raise DdsError(Text(
                f"esta declaración ya se presentó (UUID {r.uuid}, estado {r.status}): consulte "
                "su estado con `eudr-check dds status`, o modifíquela con `dds amend`",
                f"this statement was already filed (UUID {r.uuid}, status {r.status}): see it "
                "with `eudr-check dds status`, or change it with `dds amend`",
            ))  # fmt: skip
    ref = request.findtext(f"{D}statement/{D}internalReferenceNumber")
    sid = registry.dds_create(
        endpoint=client.dds_url, statement_hash=digest, request_xml=to_bytes(request),
        plot_ids=request_plot_ids(request), organisation_id=organisation_id, lot_id=lot_id,
        part=part, parts=parts, internal_ref=ref, overrides=overrides,
    )  # fmt: skip
    start = len(client.exchanges)
    uuid: str | None
    try:
        uuid = client.submit(request)
    except TracesUnavailable as exc:
        uuid = _arrived(registry, client, ref) if exc.maybe_sent else None
        if uuid is None:
            _failed(registry, sid, client, start, exc)
            raise
    except TracesError as exc:
        _failed(registry, sid, client, start, exc)
        raise
    registry.dds_update(sid, client.exchanges[start:], uuid=uuid, status="SUBMITTED",
                        submitted_at=_now(), error=None)  # fmt: skip
    record = registry.dds_get(sid)
    assert record is not None
    log.info("DDS submitted: %s (submission %s)", uuid, sid)
    return record


def _arrived(registry: Registry, client: TracesClient, ref: str | None) -> str | None:
    """After a timeout: the UUID of the statement if it did arrive (found by its internal
    reference, and not one of ours already)."""
    if not ref:
        return None
    try:
        found = client.by_internal_ref(ref)
    except TracesError:
        return None
    known = {r.uuid for r in registry.dds_find(uuids=[o.uuid for o in found])}
    fresh = [o for o in found if o.uuid not in known]
    return fresh[-1].uuid if fresh else None


def _failed(registry: Registry, sid: int, client: TracesClient, start: int, exc: Exception) -> None:
    message = exc.message("en") if isinstance(exc, TracesError) else str(exc)
    registry.dds_update(sid, client.exchanges[start:], status=FAILED, error=message)


def refresh(
    registry: Registry, client: TracesClient, records: Sequence[DdsRecord]
) -> list[DdsRecord]:
    """Ask the EU system how these statements stand and record it (status, reference and
    verification numbers, rejection reason, the authority's message)."""
    by_uuid = {r.uuid: r for r in records if r.uuid}
    if not by_uuid:
        return list(records)
    start = len(client.exchanges)
    try:
        overviews = client.status(list(by_uuid))
    except TracesNotFound:
        overviews = []
    exchanges = client.exchanges[start:]
    owner = next(iter(by_uuid.values())).id if len(by_uuid) == 1 else None
    registry.dds_exchanges_add(owner, exchanges)
    now = _now()
    for o in overviews:
        r = by_uuid.get(o.uuid)
        if r is None:
            continue
        registry.dds_update(
            r.id, status=o.status, reference_number=o.reference or r.reference_number,
            verification_number=o.verification or r.verification_number,
            rejection_reason=o.rejection_reason, communication=o.communication, checked_at=now,
        )  # fmt: skip
    return [registry.dds_get(r.id) or r for r in records]


def amend(
    registry: Registry, client: TracesClient, record: DdsRecord, request: etree._Element
) -> DdsRecord:
    """Replace a filed statement's content (72 h window, while AVAILABLE): `request` is a
    SubmitDdsRequest (a new build) or an AmendDdsRequest."""
    if record.uuid is None:
        raise DdsError(NO_UUID)
    statement = request.find(f"{D}statement")
    if statement is None:
        raise DdsError(Text("la solicitud no contiene ninguna declaración",
                            "the request holds no statement"))  # fmt: skip
    body = amend_request(record.uuid, statement)
    start = len(client.exchanges)
    try:
        status = client.amend(body)
    except TracesError:
        registry.dds_exchanges_add(record.id, client.exchanges[start:])
        raise
    registry.dds_update(
        record.id, client.exchanges[start:], status=status, amended_at=_now(),
        request_xml=to_bytes(request), statement_hash=statement_hash(request),
        plot_ids=request_plot_ids(request),
    )  # fmt: skip
    out = registry.dds_get(record.id)
    assert out is not None
    return out


def withdraw(registry: Registry, client: TracesClient, record: DdsRecord) -> DdsRecord:
    if record.uuid is None:
        raise DdsError(NO_UUID)
    start = len(client.exchanges)
    try:
        status = client.withdraw(record.uuid)
    except TracesError:
        registry.dds_exchanges_add(record.id, client.exchanges[start:])
        raise
    registry.dds_update(record.id, client.exchanges[start:], status=status,
                        withdrawn_at=_now())  # fmt: skip
    out = registry.dds_get(record.id)
    assert out is not None
    return out


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
