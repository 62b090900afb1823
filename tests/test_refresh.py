"""The nightly refresh against a real HTTP server on 127.0.0.1 that speaks conditional and
range requests (ETag, If-None-Match, If-Modified-Since, Last-Modified, Range, If-Range)."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.io import MemoryFile

from eudr_check.datasets.catalog import Catalog, load_catalog
from eudr_check.datasets.download import part_path, read_checksums
from eudr_check.datasets.refresh import (
    RefreshOutcome,
    RefreshStatus,
    read_state,
    refresh,
    sidecar_path,
    state_path,
)
from eudr_check.errors import ConfigError
from tests.local_http import no_proxy, serving
from tests.test_downloads import tif_bytes

CATALOG = Path(__file__).resolve().parents[1] / "config" / "datasets.yaml"
TIMEOUT = 5.0
GFW = "gfw_integrated_alerts"
MINAM = "minam_geobosques_alertas"
TILE = "10S_080W"
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
HTML = b"<!doctype html><html><body><h1>Service temporarily unavailable</h1></body></html>"


@dataclass
class Resource:
    data: bytes
    etag: str | None
    last_modified: str | None


@dataclass
class Seen:
    """One request the server answered: its path, headers (lower-case names) and status."""

    path: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class Served:
    base: str = ""
    files: dict[str, Resource] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    html: bool = False  # answer with an HTML page and 200, as a broken portal does
    md5: str | None = None  # "good" or "bad": send a Content-MD5 header
    stall: bool = False  # send half the body, then wait for `release` (bounded)
    cut: bool = False  # send half the body, then close the connection
    release: threading.Event = field(default_factory=threading.Event)

    def publish(self, path: str, data: bytes, etag: str | None, when: datetime | None) -> bytes:
        modified = email.utils.format_datetime(when, usegmt=True) if when else None
        self.files[path] = Resource(data, f'"{etag}"' if etag else None, modified)
        return data


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests are kept in `state.seen` for the assertions."""

    def do_GET(self) -> None:
        state: Served = self.server.state
        seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
        state.seen.append(seen)
        res = state.files.get(self.path)
        if res is None:
            seen.status = 404
            self.send_error(404)
            return
        if state.html:
            seen.status = 200
            self._head(200, len(HTML), res, content_type="text/html; charset=utf-8")
            self.wfile.write(HTML)
            return
        if self._not_modified(res):
            seen.status = 304
            self.send_response(304)
            self._validators(res)
            self.end_headers()
            return
        start, status = 0, 200
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and self._if_range(res):
            start, status = int(match[1]), 206
            if start >= len(res.data):
                seen.status = 416
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(res.data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        seen.status = status
        body = res.data[start:]
        self._head(status, len(body), res, start=start)
        try:
            if state.stall or state.cut:
                self.wfile.write(body[: len(body) // 2])
                if state.cut:
                    return
                state.release.wait(TIMEOUT * 2)
                self.wfile.write(body[len(body) // 2 :])
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was killed mid-transfer

    def _head(self, status: int, length: int, res: Resource, *, start: int = 0,
              content_type: str = "image/tiff") -> None:  # fmt: skip
        state: Served = self.server.state
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        if status == 206:
            size = len(res.data)
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        elif state.md5 and not state.html:
            digest = hashlib.md5(res.data if state.md5 == "good" else b"other").digest()
            self.send_header("Content-MD5", base64.b64encode(digest).decode())
        self._validators(res)
        self.end_headers()

    def _validators(self, res: Resource) -> None:
        if res.etag:
            self.send_header("ETag", res.etag)
        if res.last_modified:
            self.send_header("Last-Modified", res.last_modified)

    def _not_modified(self, res: Resource) -> bool:
        tags = self.headers.get("If-None-Match")
        if tags is not None:  # it wins over If-Modified-Since (RFC 9110 13.2.2)
            return tags.strip() == "*" or res.etag in [t.strip() for t in tags.split(",")]
        since = self.headers.get("If-Modified-Since")
        if since and res.last_modified:
            return email.utils.parsedate_to_datetime(
                res.last_modified
            ) <= email.utils.parsedate_to_datetime(since)
        return False

    def _if_range(self, res: Resource) -> bool:
        value = self.headers.get("If-Range")
        if value is None:
            return True
        if value.startswith(('"', "W/")):  # an entity tag: strong comparison only
            return not value.startswith("W/") and value == res.etag
        return value == res.last_modified


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    no_proxy(monkeypatch)


@pytest.fixture
def server() -> Iterator[Served]:
    with serving(_Handler, Served()) as state:
        yield state


def _catalog(base: str, *, minam_source: bool = True) -> Catalog:
    """The real catalog, GFW alerts and GeoBosques (two yearly layers) served by the test
    server, everything else disabled."""
    datasets = []
    for d in load_catalog(CATALOG).datasets:
        if d.id == GFW:
            d = d.model_copy(update={"source": base + "/gfw/{version}/{tile}.tif"})
        elif d.id == MINAM:
            layers = {k: v for k, v in d.layers.items() if k in ("alertas_2024", "alertas_2025")}
            source = base + "/minam/{file}" if minam_source else None
            d = d.model_copy(update={"enabled": True, "layers": layers, "source": source})
        else:
            d = d.model_copy(update={"enabled": False})
        datasets.append(d)
    return load_catalog(CATALOG).model_copy(update={"datasets": datasets})


@pytest.fixture
def catalog(server: Served) -> Catalog:
    return _catalog(server.base)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


URL_PATH = f"/gfw/latest/{TILE}.tif"


def _target(data_dir: Path, tile: str = TILE) -> Path:
    return data_dir / GFW / f"{GFW}_latest_{tile}.tif"


def _publish(server: Served, seed: int, etag: str | None = "v1", tile: str = TILE) -> bytes:
    when = T0 - timedelta(hours=seed)
    return server.publish(f"/gfw/latest/{tile}.tif", tif_bytes(-10, -80, seed), etag, when)


def _run(catalog: Catalog, data_dir: Path, at: datetime, tiles: list[str] | None = None,
         **kw: Any) -> list[RefreshOutcome]:  # fmt: skip
    return refresh(catalog, data_dir, {GFW: tiles or [TILE]}, now=at, timeout=TIMEOUT, **kw)


def _one(outcomes: list[RefreshOutcome]) -> RefreshOutcome:
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


def _opens(path: Path | str) -> bool:
    with rasterio.open(path) as ds:
        return ds.count == 1 and ds.crs is not None and ds.read(1).shape == (60, 60)


# --- conditional requests ----------------------------------------------------------------------


def test_first_refresh_fetches_and_records(
    server: Served, catalog: Catalog, data_dir: Path
) -> None:
    data = _publish(server, 1)
    server.md5 = "good"
    out = _one(_run(catalog, data_dir, T0))
    target = _target(data_dir)
    digest = hashlib.sha256(data).hexdigest()
    assert out.status is RefreshStatus.FETCHED and out.error is None
    assert (out.path, out.sha256, out.bytes, out.etag, out.resumed) == (
        str(target), digest, len(data), '"v1"', False,
    )  # fmt: skip
    assert out.checked_at == "2026-03-02T02:00:00+00:00"
    assert target.read_bytes() == data and _opens(target)
    assert not part_path(target).exists() and not sidecar_path(part_path(target)).exists()
    assert read_checksums(catalog.get(GFW), data_dir) == {target.name: digest}
    seen = _one_request(server)
    assert "if-none-match" not in seen.headers and "if-modified-since" not in seen.headers
    state = read_state(catalog.get(GFW), data_dir)
    assert state.checked_at == out.checked_at
    entry = state.files[target.name]
    assert (entry.etag, entry.sha256, entry.last_modified, entry.error) == (
        '"v1"', digest, server.files[URL_PATH].last_modified, None,
    )  # fmt: skip
    assert state_path(catalog.get(GFW), data_dir) == data_dir / GFW / "REFRESH.json"
    log = json.loads((data_dir / GFW / "downloads.json").read_text(encoding="utf-8"))
    assert log[-1]["etag"] == '"v1"' and log[-1]["by"] == "refresh"
    assert RefreshOutcome.from_dict(json.loads(json.dumps(out.to_dict()))) == out
    assert out.to_dict()["status"] == "fetched"


def _one_request(server: Served) -> Seen:
    assert len(server.seen) == 1, server.seen
    return server.seen.pop()


def test_second_refresh_is_conditional_and_unchanged(
    server: Served, catalog: Catalog, data_dir: Path
) -> None:
    data = _publish(server, 1)
    _run(catalog, data_dir, T0)
    server.seen.clear()
    target = _target(data_dir)
    mtime = target.stat().st_mtime_ns
    out = _one(_run(catalog, data_dir, T0 + timedelta(days=1)))
    seen = _one_request(server)
    assert seen.headers["if-none-match"] == '"v1"'
    assert seen.headers["if-modified-since"] == server.files[URL_PATH].last_modified
    assert seen.status == 304
    assert out.status is RefreshStatus.UNCHANGED and out.etag == '"v1"'
    assert out.sha256 == hashlib.sha256(data).hexdigest()
    assert target.read_bytes() == data and target.stat().st_mtime_ns == mtime
    assert read_state(catalog.get(GFW), data_dir).checked_at == out.checked_at


def test_last_modified_alone_is_asked_with(
    server: Served, catalog: Catalog, data_dir: Path
) -> None:
    _publish(server, 1, etag=None)
    assert _one(_run(catalog, data_dir, T0)).etag is None
    server.seen.clear()
    assert _one(_run(catalog, data_dir, T0 + timedelta(days=1))).status is RefreshStatus.UNCHANGED
    seen = _one_request(server)
    assert "if-none-match" not in seen.headers and seen.status == 304
    assert seen.headers["if-modified-since"] == server.files[URL_PATH].last_modified


def test_published_tile_is_fetched(server: Served, catalog: Catalog, data_dir: Path) -> None:
    old = _publish(server, 1)
    _run(catalog, data_dir, T0)
    server.seen.clear()
    new = _publish(server, 2, etag="v2")
    out = _one(_run(catalog, data_dir, T0 + timedelta(days=1)))
    seen = _one_request(server)
    assert seen.headers["if-none-match"] == '"v1"' and seen.status == 200
    assert out.status is RefreshStatus.FETCHED and out.etag == '"v2"'
    target = _target(data_dir)
    assert target.read_bytes() == new != old
    digest = hashlib.sha256(new).hexdigest()
    assert (
        read_checksums(catalog.get(GFW), data_dir) == {target.name: digest} and out.sha256 == digest
    )
    assert read_state(catalog.get(GFW), data_dir).files[target.name].etag == '"v2"'


def test_same_bytes_without_validators_leave_the_file(
    server: Served, catalog: Catalog, data_dir: Path
) -> None:
    """A server with neither ETag nor Last-Modified: every check is a full GET, but the same
    bytes again do not replace (touch) the file."""
    server.publish(URL_PATH, tif_bytes(-10, -80, 1), None, None)
    _run(catalog, data_dir, T0)
    mtime = _target(data_dir).stat().st_mtime_ns
    out = _one(_run(catalog, data_dir, T0 + timedelta(days=1)))
    assert out.status is RefreshStatus.UNCHANGED
    assert _target(data_dir).stat().st_mtime_ns == mtime
    assert not part_path(_target(data_dir)).exists()


@pytest.mark.parametrize(("hours", "due"), [(1, False), (19.9, False), (20, True)])
def test_daily_due_after_20_hours(
    server: Served, catalog: Catalog, data_dir: Path, hours: float, due: bool
) -> None:
    _publish(server, 1)
    _run(catalog, data_dir, T0)
    server.seen.clear()
    out = _one(_run(catalog, data_dir, T0 + timedelta(hours=hours)))
    if due:
        assert out.status is RefreshStatus.UNCHANGED and len(server.seen) == 1
    else:
        assert out.status is RefreshStatus.NOT_DUE and server.seen == []
        assert (
            out.sha256
            == read_state(catalog.get(GFW), data_dir).files[Path(out.path or "").name].sha256
        )
        # A not-due run does not move the dataset's last check.
        assert read_state(catalog.get(GFW), data_dir).checked_at == T0.isoformat()


@pytest.mark.parametrize("how", ["edited", "deleted"])
def test_hand_changed_file_is_fetched_unconditionally(
    server: Served, catalog: Catalog, data_dir: Path, how: str
) -> None:
    data = _publish(server, 1)
    _run(catalog, data_dir, T0)
    server.seen.clear()
    target = _target(data_dir)
    if how == "edited":
        target.write_bytes(data[:-1] + b"\x00")
        at = T0 + timedelta(days=1)
    else:
        target.unlink()
        at = T0 + timedelta(hours=1)  # not due by time: a missing file is due anyway
    out = _one(_run(catalog, data_dir, at))
    seen = _one_request(server)
    assert "if-none-match" not in seen.headers and "if-modified-since" not in seen.headers
    assert seen.status == 200 and out.status is RefreshStatus.FETCHED
    assert target.read_bytes() == data


# --- a bad answer never replaces a good tile ----------------------------------------------------


@pytest.mark.parametrize("bad", ["html", "truncated_tif", "content_md5", "three_bands"])
def test_bad_body_keeps_the_old_tile(
    server: Served, catalog: Catalog, data_dir: Path, bad: str
) -> None:
    old = _publish(server, 1)
    _run(catalog, data_dir, T0)
    sums = read_checksums(catalog.get(GFW), data_dir)
    new = tif_bytes(-10, -80, 2)
    if bad == "html":
        server.html = True
    elif bad == "truncated_tif":  # the server itself has a cut file (its length agrees)
        server.publish(URL_PATH, new[: len(new) - 200], "v2", T0)
    elif bad == "content_md5":
        server.publish(URL_PATH, new, "v2", T0)
        server.md5 = "bad"
    else:
        server.publish(URL_PATH, _three_bands(), "v2", T0)
    server.seen.clear()
    out = _one(_run(catalog, data_dir, T0 + timedelta(days=1)))
    assert out.status is RefreshStatus.FAILED, out
    assert out.error is not None
    assert GFW in out.error and TILE in out.error and server.base + URL_PATH in out.error
    assert ("HTML page" in out.error) is (bad == "html")
    target = _target(data_dir)
    assert target.read_bytes() == old and _opens(target)
    assert not part_path(target).exists() and not sidecar_path(part_path(target)).exists()
    assert read_checksums(catalog.get(GFW), data_dir) == sums
    # The failure is remembered, so the next run tries again although the dataset was checked.
    entry = read_state(catalog.get(GFW), data_dir).files[target.name]
    assert entry.error == out.error and entry.etag == '"v1"'
    server.html, server.md5 = False, None
    new = _publish(server, 3, etag="v3")
    again = _one(_run(catalog, data_dir, T0 + timedelta(days=1, hours=1)))
    assert again.status is RefreshStatus.FETCHED and target.read_bytes() == new


def _three_bands() -> bytes:
    """A real GeoTIFF, but an RGB picture rather than an alert layer."""
    with MemoryFile() as mem:
        with mem.open(driver="GTiff", width=4, height=4, count=3, dtype="uint8",
                      crs="EPSG:4326", transform=Affine(1, 0, -80, 0, -1, -10)) as dst:  # fmt: skip
            dst.write(np.zeros((3, 4, 4), "uint8"))
        return bytes(mem.read())


def test_http_errors_fail_one_tile_and_the_rest_go_on(
    server: Served, catalog: Catalog, data_dir: Path
) -> None:
    _publish(server, 1)
    outcomes = _run(catalog, data_dir, T0, tiles=["00N_080W", TILE.lower(), TILE, "bogus"])
    by_tile = {o.tile: o for o in outcomes}
    assert len(outcomes) == 3  # 10s_080w and 10S_080W are one tile
    missing = by_tile["00N_080W"]
    assert missing.status is RefreshStatus.FAILED and missing.path is None
    assert missing.error == (
        f"{GFW} layer alerts tile 00N_080W: HTTP 404 Not Found "
        f"({server.base}/gfw/latest/00N_080W.tif)"
    )
    assert by_tile[TILE].status is RefreshStatus.FETCHED
    assert by_tile["bogus"].status is RefreshStatus.FAILED and "bogus" in str(
        by_tile["bogus"].error
    )


def test_unreachable_server_fails_with_the_url(data_dir: Path) -> None:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        out = _one(_run(_catalog(f"http://127.0.0.1:{port}"), data_dir, T0))
    assert out.status is RefreshStatus.FAILED
    assert f"127.0.0.1:{port}/gfw/latest/{TILE}.tif" in str(out.error) and GFW in str(out.error)


def test_no_source_and_selection(server: Served, data_dir: Path) -> None:
    catalog = _catalog(server.base, minam_source=False)
    _publish(server, 1)
    tiles = {GFW: [TILE], MINAM: ["all"], "hansen_gfc": [TILE]}
    outcomes = refresh(catalog, data_dir, tiles, now=T0, timeout=TIMEOUT, only={MINAM})
    assert [(o.dataset_id, o.layer, o.status, o.error) for o in outcomes] == [
        (MINAM, "alertas_2024", RefreshStatus.NO_SOURCE, None),
        (MINAM, "alertas_2025", RefreshStatus.NO_SOURCE, None),
    ]
    assert server.seen == [] and not state_path(catalog.get(MINAM), data_dir).exists()
    # hansen_gfc has no refresh schedule: never refreshed, whatever tiles are given.
    everything = refresh(catalog, data_dir, tiles, now=T0, timeout=TIMEOUT)
    assert {o.dataset_id for o in everything} == {GFW, MINAM}
    with pytest.raises(ConfigError, match="nope"):
        refresh(catalog, data_dir, tiles, now=T0, only={"nope"})


# --- a tile read inside a zip archive ----------------------------------------------------------


def _zip(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(member, data)
    return buf.getvalue()


def test_zip_archive_is_the_file_fetched(server: Served, catalog: Catalog, data_dir: Path) -> None:
    for year in (2024, 2025):
        archive = _zip(f"Alertas_{year}.tif", tif_bytes(-10, -80, year))
        server.publish(f"/minam/Alertas_{year}.zip", archive, f"a{year}", T0)
    outcomes = refresh(catalog, data_dir, {MINAM: ["ALL"]}, now=T0, timeout=TIMEOUT)
    assert [(o.layer, o.tile, o.status) for o in outcomes] == [
        ("alertas_2024", "all", RefreshStatus.FETCHED),
        ("alertas_2025", "all", RefreshStatus.FETCHED),
    ]
    folder = data_dir / "minam_geobosques"
    assert outcomes[0].path == str(folder / "Alertas_2024.zip")
    assert _opens(f"/vsizip/{folder}/Alertas_2024.zip/Alertas_2024.tif")
    # Weekly: not due after 6 days, due after 6.5; an archive without the member is refused.
    server.seen.clear()
    later = refresh(catalog, data_dir, {MINAM: ["all"]}, now=T0 + timedelta(days=6))
    assert {o.status for o in later} == {RefreshStatus.NOT_DUE} and server.seen == []
    kept = (folder / "Alertas_2025.zip").read_bytes()
    server.publish("/minam/Alertas_2025.zip", _zip("other.tif", tif_bytes(0, 0, 9)), "b", T0)
    week = refresh(catalog, data_dir, {MINAM: ["all"]}, now=T0 + timedelta(days=6.5))
    assert [o.status for o in week] == [RefreshStatus.UNCHANGED, RefreshStatus.FAILED]
    assert "Alertas_2025.tif" in str(week[1].error)
    assert (folder / "Alertas_2025.zip").read_bytes() == kept


# --- interrupted transfers ----------------------------------------------------------------------


def test_cut_transfer_keeps_its_part_and_resumes(
    server: Served, catalog: Catalog, data_dir: Path
) -> None:
    old = _publish(server, 1)
    _run(catalog, data_dir, T0)
    new = _publish(server, 2, etag="v2")
    server.cut = True
    out = _one(_run(catalog, data_dir, T0 + timedelta(days=1)))
    target = _target(data_dir)
    part = part_path(target)
    assert out.status is RefreshStatus.FAILED and "incomplete" in str(out.error)
    assert target.read_bytes() == old and part.read_bytes() == new[: len(new) // 2]
    server.cut = False
    server.seen.clear()
    # The part makes the file due, although the dataset's check is an hour old.
    again = _one(_run(catalog, data_dir, T0 + timedelta(days=1, hours=1)))
    seen = _one_request(server)
    assert seen.headers["range"] == f"bytes={len(new) // 2}-" and seen.headers["if-range"] == '"v2"'
    assert seen.status == 206 and again.status is RefreshStatus.FETCHED and again.resumed
    assert target.read_bytes() == new and not part.exists()


def test_complete_part_is_installed_on_416(
    server: Served, catalog: Catalog, data_dir: Path
) -> None:
    new = _publish(server, 2, etag="v2")
    target = _target(data_dir)
    part = part_path(target)
    part.parent.mkdir(parents=True)
    part.write_bytes(new)
    sidecar = {"url": server.base + URL_PATH, "etag": '"v2"', "total": len(new)}
    sidecar_path(part).write_text(json.dumps(sidecar), encoding="utf-8")
    out = _one(_run(catalog, data_dir, T0))
    assert _one_request(server).status == 416
    assert out.status is RefreshStatus.FETCHED and out.resumed and target.read_bytes() == new


def test_part_without_its_record_starts_over(
    server: Served, catalog: Catalog, data_dir: Path
) -> None:
    new = _publish(server, 2)
    part = part_path(_target(data_dir))
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\x00" * 100)  # no sidecar: nothing says which file these bytes are of
    out = _one(_run(catalog, data_dir, T0))
    seen = _one_request(server)
    assert "range" not in seen.headers and seen.status == 200
    assert out.status is RefreshStatus.FETCHED and not out.resumed
    assert _target(data_dir).read_bytes() == new


_CHILD = textwrap.dedent("""
    import sys
    from datetime import datetime
    from pathlib import Path
    from eudr_check.datasets.catalog import Catalog
    from eudr_check.datasets.refresh import refresh
    catalog = Catalog.model_validate_json(Path(sys.argv[1]).read_text(encoding="utf-8"))
    refresh(catalog, Path(sys.argv[2]), {"gfw_integrated_alerts": ["10S_080W"]},
            now=datetime.fromisoformat(sys.argv[3]), timeout=30)
""")


@pytest.mark.parametrize("meanwhile", ["same", "changed"])
def test_killed_refresh_keeps_old_tile_and_resumes(
    server: Served, catalog: Catalog, data_dir: Path, tmp_path: Path, meanwhile: str
) -> None:
    old = _publish(server, 1)
    _run(catalog, data_dir, T0)
    new = _publish(server, 2, etag="v2")
    half = len(new) // 2
    server.stall = True
    catalog_json = tmp_path / "catalog.json"
    catalog_json.write_text(catalog.model_dump_json(), encoding="utf-8")
    target = _target(data_dir)
    part = part_path(target)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["no_proxy"] = "127.0.0.1,localhost"
    at = T0 + timedelta(days=1)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(catalog_json), str(data_dir), at.isoformat()],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not (part.is_file() and part.stat().st_size >= half):
            if child.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the child never wrote half the part: {child.stderr}")
            time.sleep(0.02)
    finally:
        child.kill()  # SIGKILL: no cleanup of any kind runs in the child
        _, err = child.communicate(timeout=TIMEOUT)
    assert child.returncode == -9, err
    assert target.read_bytes() == old and _opens(target)
    assert part.read_bytes() == new[:half]
    assert json.loads(sidecar_path(part).read_text(encoding="utf-8"))["etag"] == '"v2"'

    server.stall = False
    if meanwhile == "changed":
        new = _publish(server, 3, etag="v3")
    server.seen.clear()
    out = _one(_run(catalog, data_dir, at + timedelta(minutes=10)))
    seen = _one_request(server)
    assert seen.headers["range"] == f"bytes={half}-" and seen.headers["if-range"] == '"v2"'
    assert "if-none-match" not in seen.headers
    assert seen.status == (206 if meanwhile == "same" else 200)
    assert out.status is RefreshStatus.FETCHED and out.resumed is (meanwhile == "same")
    assert target.read_bytes() == new and _opens(target)
    assert not part.exists() and not sidecar_path(part).exists()
    digest = hashlib.sha256(new).hexdigest()
    assert read_checksums(catalog.get(GFW), data_dir) == {target.name: digest}
    assert read_state(catalog.get(GFW), data_dir).files[target.name].etag == out.etag
