"""The ArcGIS REST downloader against a local server on 127.0.0.1 that behaves like SERNANP's
(maxRecordCount pages, exceededTransferLimit, ArcGIS's HTTP-200 errors), with and without
resultOffset paging; the file it writes is read back as a vector layer."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from eudr_check.datasets.arcgis import download_layer
from eudr_check.datasets.catalog import AreaKind, VectorDataset, VectorFields
from eudr_check.errors import DownloadError
from eudr_check.overlaps import overlap_stats
from eudr_check.rules.area import geodesic_area_ha

N_FEATURES = 2_345


def _ha(geom: shapely.Geometry) -> float:
    return float(geodesic_area_ha(np.array([geom], dtype=object))[0])


def _feature(i: int) -> dict[str, Any]:
    x, y = -77.0 + (i % 50) * 0.02, -6.0 - (i // 50) * 0.02
    ring = [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]
    props = {"OBJECTID": i + 1, "anp_nomb": f"Área {i + 1}", "anp_cate": "Reserva Comunal"}
    return {"type": "Feature", "id": i + 1, "properties": props,
            "geometry": {"type": "Polygon", "coordinates": [ring]}}  # fmt: skip


class _Layer(BaseHTTPRequestHandler):
    paging = True
    fail = False
    seen: list[str] = []  # noqa: RUF012 (per server class, set in the fixture)

    def log_message(self, *args: object) -> None:
        """Quiet: the requests are kept in `seen` and checked by the tests instead."""

    def _send(self, doc: object) -> None:
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        type(self).seen.append(self.path)
        if url.path.endswith("/MapServer/0"):
            caps = {"supportsPagination": self.paging}
            self._send({"name": "ANP", "maxRecordCount": 1000, "objectIdField": "OBJECTID",
                        "advancedQueryCapabilities": caps})  # fmt: skip
            return
        if self.fail:
            self._send({"error": {"code": 400, "message": "Unable to complete operation.",
                                  "details": ["Invalid query parameters."]}})  # fmt: skip
            return
        if q.get("returnIdsOnly") == "true":
            self._send(
                {"objectIdFieldName": "OBJECTID", "objectIds": list(range(N_FEATURES, 0, -1))}
            )
            return
        if "objectIds" in q:
            ids = [int(i) for i in q["objectIds"].split(",")]
            assert len(ids) <= 1000
            self._send({"type": "FeatureCollection", "features": [_feature(i - 1) for i in ids]})
            return
        assert self.paging and q["orderByFields"] == "OBJECTID" and q["f"] == "geojson"
        start, n = int(q["resultOffset"]), min(int(q["resultRecordCount"]), 1000)
        page = [_feature(i) for i in range(start, min(start + n, N_FEATURES))]
        self._send({"type": "FeatureCollection", "features": page,
                    "properties": {"exceededTransferLimit": start + n < N_FEATURES}})  # fmt: skip


@pytest.fixture(params=[True, False], ids=["paging", "by-ids"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, type[_Layer]]]:
    handler = type("Handler", (_Layer,), {"paging": request.param, "seen": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        port = httpd.server_address[1]
        yield (
            f"http://127.0.0.1:{port}/arcgis_server/rest/services/sernanp_peru/anp/MapServer/0",
            handler,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()


def _vd(url: str) -> VectorDataset:
    return VectorDataset(
        id="sernanp_anp", title="SERNANP ANP (local test server)", version="test",
        kind=AreaKind.PROTECTED_AREA, file="{data_dir}/sernanp/anp_nacional.geojson",
        fields=VectorFields(name="anp_nomb", category="anp_cate"), source=url,
        licence="test", attribution="test",
    )  # fmt: skip


def test_every_feature_once_then_read_back_as_a_layer(
    server: tuple[str, type[_Layer]], tmp_path: Path
) -> None:
    url, handler = server
    got = download_layer(_vd(url), tmp_path)
    assert got.features == N_FEATURES and got.pages == 3
    queries = [urllib.parse.parse_qs(urllib.parse.urlsplit(p).query) for p in handler.seen
               if "/query?" in p]  # fmt: skip
    # Every query asks for all fields in WGS84; pages are the layer's description + 3.
    assert all(q["outSR"] == ["4326"] and q["outFields"] == ["*"] for q in queries)
    assert len(handler.seen) == 1 + len(queries) and len(queries) == 3 + (not handler.paging)
    doc = json.loads(got.path.read_text())
    ids = [f["properties"]["OBJECTID"] for f in doc["features"]]
    assert sorted(ids) == list(range(1, N_FEATURES + 1))  # none skipped, none twice
    note = json.loads(got.path.with_name(got.path.name + ".source.json").read_text())
    assert note["sha256"] == got.sha256 and note["features"] == N_FEATURES
    plot = shapely.box(-77.0, -6.0, -76.995, -5.995)  # a quarter of feature 1
    (stats,) = overlap_stats(_vd(url), tmp_path, [plot], [_ha(plot)])
    (o,) = stats.overlaps
    assert o.name == "Área 1" and o.share == pytest.approx(1.0)


def test_an_arcgis_error_fails_and_leaves_nothing(
    server: tuple[str, type[_Layer]], tmp_path: Path
) -> None:
    url, handler = server
    handler.fail = True
    with pytest.raises(DownloadError, match="ArcGIS error 400"):
        download_layer(_vd(url), tmp_path)
    assert not (tmp_path / "sernanp").exists() or not any((tmp_path / "sernanp").iterdir())
