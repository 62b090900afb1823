"""Nightly monitoring end to end (issue 15), under the Prefect test harness: a local HTTP
server publishes a new alert tile over a registered plot; the nightly flow fetches it (and
skips the unchanged tile with a conditional request), the plot turns `needs_review`, each
organisation's digest lists it, one e-mail per organisation reaches a real SMTP server on
127.0.0.1 (STARTTLS and a password), the exporter's lot shows its bundle stale; the same night
run again sends nothing."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import json
import shutil
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from fastapi.testclient import TestClient
from shapely.geometry import shape

from eudr_check.api import create_app
from eudr_check.datasets.catalog import load_catalog
from eudr_check.datasets.refresh import refresh
from eudr_check.reviews import Action, ReasonCode
from eudr_check.store.registry import Registry
from flows.check import bundle, check, ingest
from flows.nightly import nightly
from tests.api_world import settings as app_settings
from tests.local_http import no_proxy, serving

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_plots" / "cooperativa.geojson"
ALERTS = "gfw_integrated_alerts"
NEW_ALERT_DAY = (dt.date(2026, 11, 20) - dt.date(2014, 12, 31)).days  # days since the origin
SMTP_USER, SMTP_PASSWORD = "eudr", "s3cret-pass"


# --- a real SMTP server with STARTTLS and AUTH on 127.0.0.1 ------------------------------------


def _self_signed(folder: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


@dataclass
class Mailbox:
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append((list(envelope.rcpt_tos), _parsed(content)))
        return "250 OK"


def _parsed(content: bytes) -> EmailMessage:
    msg = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _part(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> AuthResult:  # fmt: skip
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(), SMTP_PASSWORD.encode())  # fmt: skip
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, authenticator=_authenticate,
                            auth_require_tls=True, ready_timeout=10)  # fmt: skip
    controller.start()
    for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_USER": SMTP_USER,
                        "SMTP_PASSWORD": SMTP_PASSWORD, "SMTP_CAFILE": str(cert),
                        "SMTP_FROM": "eudr-check <noreply@coop.example>",
                        "PUBLIC_URL": "https://eudr.coop.example"}.items():  # fmt: skip
        monkeypatch.setenv(f"EUDR_CHECK_{name}", value)
    try:
        yield box
    finally:
        controller.stop()


# --- a tile server with ETags -------------------------------------------------------------------


@dataclass
class Tiles:
    base: str = ""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path -> (body, etag)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, If-None-Match)

    def publish(self, name: str, body: bytes) -> None:
        self.files[f"/alerts/{name}"] = (body, '"' + hashlib.sha256(body).hexdigest()[:16] + '"')


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests are kept in `state.requests` for the assertions."""

    def do_GET(self) -> None:
        state: Tiles = self.server.state
        asked = self.headers.get("If-None-Match")
        state.requests.append((self.path, asked))
        found = state.files.get(self.path.split("?")[0])
        if found is None:
            self.send_error(404)
            return
        body, etag = found
        if asked == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def tiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tiles]:
    no_proxy(monkeypatch)
    with serving(_Handler, Tiles()) as state:
        yield state


# --- the night -----------------------------------------------------------------------------------


def _with_alert_over(path: Path, *boxes: tuple[float, float, float, float]) -> bytes:
    """The alert tile's bytes with a high-confidence alert of 2026-11-20 over some boxes."""
    with rasterio.open(path) as src:
        values, profile, t = src.read(1), src.profile, src.transform
    for bounds in boxes:
        c0, r0 = ~t @ (bounds[0], bounds[3])
        c1, r1 = ~t @ (bounds[2], bounds[1])
        rows = slice(max(0, int(r0)), int(np.ceil(r1)))
        cols = slice(max(0, int(c0)), int(np.ceil(c1)))
        values[rows, cols] = 30000 + NEW_ALERT_DAY
    from rasterio.io import MemoryFile

    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(values, 1)
        return bytes(mem.read())


def test_a_new_alert_tile_reaches_the_plot_the_digest_the_mail_and_the_lot(
    prefect_server: None, tmp_path: Path, smtp: Mailbox, tiles: Tiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    data = tmp_path / "data"
    shutil.copytree(ROOT / "sample_data", data)
    doc = yaml.safe_load((ROOT / "config" / "datasets.yaml").read_text(encoding="utf-8"))
    for d in doc["datasets"]:
        if d["id"] == ALERTS:
            d["source"] = tiles.base + "/alerts/{file}"
            assert d["refresh"] == "daily"
    catalog_path = tmp_path / "catalog.yaml"
    catalog_path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("EUDR_CHECK_CATALOG", str(catalog_path))
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    folder = data / ALERTS
    names = sorted(p.name for p in folder.glob("*.tif"))
    for name in names:  # the server has what the data folder has
        tiles.publish(name, (folder / name).read_bytes())

    with Registry.open(url) as registry:
        coop = registry.create_organisation("Cooperativa Sol Andino", "cooperative")
        exporter = registry.create_organisation("Exportadora del Norte", "exporter")
        registry.share(coop, exporter)
        rosa, _ = registry.create_token("technician", "Rosa", coop)
        registry.set_contact(rosa.id, "rosa@coop.example", "es")
        anna, anna_secret = registry.create_token("exporter", "Anna", exporter)
        registry.set_contact(anna.id, "anna@export.example", "en")
        admin, _ = registry.create_token("admin", "Ops", None)
        registry.set_contact(admin.id, "ops@coop.example", "en")
    ingest(path=str(SAMPLE), organisation_id=coop, registry_url=url)
    check(
        organisation_id=coop, registry_url=url, data_dir=str(data), catalog_path=str(catalog_path)
    )

    with Registry.open(url) as registry:
        rows = registry.latest_results(coop)
        free = [r for r in rows if r["verdict"] == "deforestation_free"
                and r["plot_id"].startswith("JAE-")]  # fmt: skip
        target = free[0]
        versions = [r["version_id"] for r in free[:5]]
        lot = registry.create_lot(exporter, "LOTE-2026-040", "coffee", "0901", 9000.0, versions)
        # Two doubtful plots of the same tile accepted by the cooperative's reviewer: one will
        # get the new alert (its review goes out of date), the other not (it still holds,
        # although the new tile changes its fingerprint too).
        doubtful = [r for r in rows if r["verdict"] == "needs_review"
                    and r["plot_id"].startswith("JAE-")][:2]  # fmt: skip
        why = [ReasonCode.FIELD_VISIT]
        for r in doubtful:
            registry.record_review(r["plot_key"], Action.ACCEPTED, why, reviewer="Luis",
                                   role="reviewer", organisation_id=coop)  # fmt: skip
        hit, spared = doubtful
    bundle(lot_id=lot, out_dir=str(tmp_path / "bundles"), registry_url=url, data_dir=str(data),
           catalog_path=str(catalog_path))  # fmt: skip

    # Yesterday's refresh: the data folder and the server agree (state with ETags is written).
    catalog = load_catalog(catalog_path)
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    tile_names = {ALERTS: [n.removeprefix(f"{ALERTS}_latest_").removesuffix(".tif") for n in names]}
    first = refresh(catalog, data, tile_names, now=yesterday, only={ALERTS})
    # (the same bytes as the folder's: "unchanged", but the ETags are kept for tonight)
    assert {o.status.value for o in first} == {"unchanged"} and all(o.etag for o in first)

    # Tonight the server has a new tile over the target plot.
    features = json.loads(SAMPLE.read_text(encoding="utf-8"))["features"]
    boxes = {f["properties"]["plot_id"]: shape(f["geometry"]).bounds for f in features}
    new_name = next(n for n in names if "00N_080W" in n)
    painted = _with_alert_over(folder / new_name, boxes[target["plot_id"]], boxes[hit["plot_id"]])
    tiles.publish(new_name, painted)
    tiles.requests.clear()
    done = nightly(registry_url=url, data_dir=str(data), catalog_path=str(catalog_path),
                   night="2026-12-05")  # fmt: skip

    # The new tile was fetched; the unchanged one was asked for conditionally and not sent.
    asked = dict(tiles.requests)
    assert all(etag is not None for etag in asked.values())
    assert done["refresh"]["failed"] == []
    assert done["refresh"]["tiles"] == {"fetched": 1, "unchanged": 1}
    assert (folder / new_name).read_bytes() == tiles.files[f"/alerts/{new_name}"][0]
    assert done["analysed"] >= 1

    with Registry.open(url) as registry:
        now = {r["plot_id"]: r for r in registry.latest_results(coop)}
        assert now[target["plot_id"]]["verdict"] == "needs_review"
        coop_digest = registry.digest(coop, "2026-12-05")
        exp_digest = registry.digest(exporter, "2026-12-05")
        fetches = registry.fetches(done["night_id"])
        (night_row,) = [n for n in registry.nights() if n.id == done["night_id"]]
    assert coop_digest is not None and exp_digest is not None
    kinds = {(i["kind"], i.get("plot_id")) for i in coop_digest.items}
    assert ("verdict_changed", target["plot_id"]) in kinds
    alert = next(i for i in coop_digest.items if i["kind"] == "new_alerts")
    assert alert["latest"] == "2026-11-20" and alert["confidence"] == 3 and alert["area_ha"] > 0
    outdated = {i["plot_id"] for i in coop_digest.items if i["kind"] == "review_outdated"}
    assert outdated == {hit["plot_id"]}
    with Registry.open(url) as registry:
        still, _ = registry.review_state_of(spared["plot_key"], [coop])
        gone, _ = registry.review_state_of(hit["plot_key"], [coop])
    assert (still.value, gone.value) == ("accepted", "outdated")
    exp_kinds = {i["kind"] for i in exp_digest.items}
    assert {"verdict_changed", "lot_changed", "bundle_stale"} <= exp_kinds
    lot_item = next(i for i in exp_digest.items if i["kind"] == "lot_changed")
    assert (lot_item["old"], lot_item["new"]) == ("negligible", "not_negligible")
    assert {(f["tile"], f["status"]) for f in fetches} == {
        ("00N_080W", "fetched"),
        ("10S_080W", "unchanged"),
    }
    assert night_row.status == "done"
    assert set(night_row.steps) == {"refresh", "check", "digest", "notify"}

    # One e-mail per organisation, in its people's language, with a link to the plot.
    by_rcpt = {tuple(r): m for r, m in smtp.messages}
    assert set(by_rcpt) == {("rosa@coop.example",), ("anna@export.example",)}
    rosa_mail = by_rcpt[("rosa@coop.example",)]
    assert "novedades" in rosa_mail["Subject"]
    body = _part(rosa_mail, "plain")
    assert target["plot_id"] in body and "requiere revisión" in body.lower()
    html = _part(rosa_mail, "html")
    assert "https://eudr.coop.example/plots/" in html
    assert "what changed" in by_rcpt[("anna@export.example",)]["Subject"]

    # The exporter's lot page shows the bundle stale; the news page lists the night.
    app = create_app(app_settings(url, catalog=catalog_path, datasets=data))
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {anna_secret}"}
        page = client.get(f"/lots/{lot}", headers=auth)
        assert page.status_code == 200 and 'data-stale="yes"' in page.text
        assert 'id="news-count"' in page.text
        listed = client.get("/api/news?lang=en", headers=auth).json()
        assert listed[0]["night"] == "2026-12-05" and listed[0]["counts"]["lot_changed"] == 1
        assert any("no longer matches" in i["text"] for i in listed[0]["items"])
        assert 'id="news-count"' in client.get("/lots", headers=auth).text  # the API marks nothing
        news = client.get("/news", headers=auth)
        assert news.status_code == 200 and 'data-night="2026-12-05"' in news.text
        assert 'id="news-count"' not in client.get("/lots", headers=auth).text  # seen now

    # The same night again: nothing fetched, nothing re-checked, no e-mail.
    tiles.requests.clear()
    again = nightly(registry_url=url, data_dir=str(data), catalog_path=str(catalog_path),
                    night="2026-12-05")  # fmt: skip
    assert again["analysed"] == 0
    assert again["refresh"]["tiles"] == {"not_due": 2}
    assert len(smtp.messages) == 2
    assert {m["status"] for m in again["mails"]} == {"already_sent"}


def _one_digest(url: str) -> tuple[int, int]:
    """A registry with one cooperative, one person with an e-mail and one stored digest."""
    with Registry.open(url) as registry:
        coop = registry.create_organisation("Cooperativa Sol Andino", "cooperative")
        rosa, _ = registry.create_token("technician", "Rosa", coop)
        registry.set_contact(rosa.id, "rosa@coop.example", "es")
        now = dt.datetime.now(dt.UTC)
        item = {"kind": "new_alerts", "plot_id": "JAE-001", "plot_key": 1,
                "dataset": ALERTS, "count": 3, "area_ha": 0.03, "latest": "2026-11-20",
                "confidence": 4}  # fmt: skip
        d = registry.save_digest(coop, "2026-12-05", now - dt.timedelta(days=1), now, [item],
                                 {"items": 1, "new_alerts": 1})  # fmt: skip
        return coop, d.id


def _digest_of(registry: Registry, org: int) -> Any:
    found = registry.digest(org, "2026-12-05")
    assert found is not None
    return found


def test_a_mail_that_fails_is_recorded_and_sent_by_the_next_try_once(
    tmp_path: Path, smtp: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eudr_check.mail import MailError
    from eudr_check.notify import mail_digest
    from eudr_check.settings import get_settings

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    coop, _ = _one_digest(url)
    good_port = get_settings().smtp_port
    monkeypatch.setenv("EUDR_CHECK_SMTP_PORT", str(_free_port()))  # nobody listens there
    with Registry.open(url) as registry:
        with pytest.raises(MailError, match=r"127\.0\.0\.1"):
            mail_digest(registry, _digest_of(registry, coop), get_settings())
        failed = registry.digest(coop, "2026-12-05")
        assert failed is not None and failed.mail_status == "failed" and failed.mail_error
        monkeypatch.setenv("EUDR_CHECK_SMTP_PORT", str(good_port))
        sent = mail_digest(registry, failed, get_settings())
        again = mail_digest(registry, _digest_of(registry, coop), get_settings())
    assert (sent.status, again.status) == ("sent", "already_sent")
    assert len(smtp.messages) == 1
    ((_, msg),) = smtp.messages
    assert msg["X-EUDR-Check-Digest"] == f"{coop}/2026-12-05"
    assert "confianza máxima" in _part(msg, "plain")


def test_a_wrong_password_is_a_mail_error_naming_the_server(
    tmp_path: Path, smtp: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eudr_check.mail import MailError, send
    from eudr_check.settings import get_settings

    monkeypatch.setenv("EUDR_CHECK_SMTP_PASSWORD", "wrong")
    with pytest.raises(MailError, match="SMTPAuthenticationError"):
        send(get_settings(), ["rosa@coop.example"], "x", "y")
    monkeypatch.setenv("EUDR_CHECK_SMTP_STARTTLS", "false")  # no TLS: the server refuses AUTH
    monkeypatch.setenv("EUDR_CHECK_SMTP_PASSWORD", SMTP_PASSWORD)
    with pytest.raises(MailError):
        send(get_settings(), ["rosa@coop.example"], "x", "y")
    assert smtp.messages == []


def test_a_failed_night_is_recorded_and_the_admins_told_once(
    prefect_server: None, tmp_path: Path, smtp: Mailbox
) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with Registry.open(url) as registry:
        ops, _ = registry.create_token("admin", "Ops", None)
        registry.set_contact(ops.id, "ops@coop.example", "en")
    broken = tmp_path / "catalog.yaml"
    broken.write_text("cutoff_date: not a date\n", encoding="utf-8")
    with pytest.raises(Exception, match="catalog"):
        nightly(registry_url=url, data_dir=str(tmp_path), catalog_path=str(broken),
                night="2026-12-06")  # fmt: skip
    with Registry.open(url) as registry:
        (night,) = registry.nights()
    assert night.status == "failed" and "catalog" in (night.error or "")
    assert night.steps["refresh"]["status"] == "failed"
    ((rcpt, msg),) = smtp.messages
    assert rcpt == ["ops@coop.example"] and "failed" in msg["Subject"]
    assert "refresh" in _part(msg, "plain")


def test_a_long_digest_mail_lists_fifty_items_and_points_to_the_page() -> None:
    from eudr_check.i18n import Lang
    from eudr_check.notify import MAIL_ITEMS, compose
    from eudr_check.store.nightly import DigestInfo

    now = dt.datetime.now(dt.UTC)
    items = [{"kind": "new_alerts", "plot_id": f"P-{i:03d}", "plot_key": i + 1,
              "dataset": ALERTS, "count": 1, "area_ha": 0.01, "latest": "2026-11-20",
              "confidence": 2} for i in range(120)]  # fmt: skip
    digest = DigestInfo(1, 1, "2026-12-05", now, now, items, {"items": 120}, now, None)
    subject, text, page = compose(digest, [Lang.ES, Lang.EN], "https://eudr.coop.example/")
    assert "(120)" in subject and " / " in subject  # both languages
    assert text.count("- Parcela P-") == MAIL_ITEMS and "P-050" not in text
    assert "… y 70 más en https://eudr.coop.example/news" in text
    assert "… and 70 more at https://eudr.coop.example/news" in text
    assert page.count('href="https://eudr.coop.example/plots/') == 2 * MAIL_ITEMS
