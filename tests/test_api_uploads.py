"""Uploads through the API (validation report at once, verdicts after the background check,
content sniffing, size limit, per-token rate limit) and the filters of /api/plots."""

from __future__ import annotations

import io
import math
import random
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from eudr_check.api import create_app
from eudr_check.store import Registry
from tests.api_world import (
    BACKENDS,
    SAMPLE,
    SAMPLE_COUNTS,
    World,
    geojson_bytes,
    settings,
    world_fixture,
)
from tests.conftest import X0, Y0, feature, poly, square
from tests.test_sample_verdicts import ROWS

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from world_fixture(request, tmp_path_factory.mktemp("api"))


def upload(w: World, who: str, name: str, data: bytes, **form: Any) -> Any:
    return w.call(who, "POST", "/api/uploads", files={"file": (name, data)}, data=form)


# the sample cooperative ---------------------------------------------------------------------------


def test_the_validation_report_comes_back_at_once(world: World) -> None:
    up = world.upload_a
    assert (up["file_name"], up["rows"], up["new_plots"], up["new_versions"]) == (
        "cooperativa.geojson", 75, 74, 74)  # fmt: skip
    assert up["duplicates"] == 1 and up["unchanged"] == 0 and up["fixed"] is True
    assert up["check"]["total"] == 74 and up["check"]["state"] in ("pending", "done")
    report = up["validation"]
    assert report["plots"] == 75
    assert report["ok"] + report["warning"] + report["error"] == 75
    assert report["repaired"] > 0 and report["error"] > 0
    findings = report["findings"]
    assert {"duplicate_plot_id", "self_intersection", "hole"} <= {f["code"] for f in findings}
    for f in findings:
        assert f["message"]["es"] and f["message"]["en"]
        assert f["message"]["es"] != f["message"]["en"], f
    [dup] = [f for f in findings if f["code"] == "duplicate_plot_id"]
    assert dup["plot_id"] == "SIG-020" and dup["severity"] == "error"


def test_after_the_check_every_plot_has_its_expected_verdict(world: World) -> None:
    detail = world.get("tech_a", f"/api/uploads/{world.upload_a['id']}").json()
    check = detail["check"]
    assert (check["state"], check["checked"], check["total"], check["error"]) == (
        "done", 74, 74, None)  # fmt: skip
    # The preflight: the sample rasters are clips; two plots lie beyond them (SIG-001, SIG-008).
    assert check["missing_tiles"] == [] and check["outside"]["hansen_gfc"] == 2
    (note, *_) = check["data_notes"]
    assert "2 plot(s) (wholly or partly) outside the files present" in note["en"]
    assert "2 parcela(s) fuera" in note["es"]
    page = world.get("tech_a", "/api/plots", params={"limit": 1000}).json()
    assert page["total"] == 74 and page["counts"] == SAMPLE_COUNTS
    got = {p["plot_id"]: p["verdict"] for p in page["items"]}
    # The README's table, one row per feature; the repeated ID's second row is not registered.
    expected = {r.plot_id: r.verdict for r in ROWS if not r.key.endswith("(#2)")}
    assert got == expected
    for p in page["items"]:
        assert p["reasons"] and all(r["message"]["es"] and r["message"]["en"] for r in p["reasons"])
        assert p["checked_at"] and p["run_id"] and p["version"] == 1


def test_reuploading_the_same_file_creates_no_versions(world: World) -> None:
    before = {p["id"]: p["version_id"] for p in world.plots_a}
    again = upload(world, "tech_a", SAMPLE.name, SAMPLE.read_bytes())
    assert again.status_code == 201, again.text
    doc = again.json()
    assert (doc["new_plots"], doc["new_versions"], doc["unchanged"], doc["duplicates"]) == (
        0,
        0,
        74,
        1,
    )
    assert doc["validation"]["plots"] == 75  # the report of this file, all the same
    world.wait()
    after = world.get("tech_a", "/api/plots", params={"limit": 1000}).json()
    assert {p["id"]: p["version_id"] for p in after["items"]} == before
    assert after["counts"] == SAMPLE_COUNTS


def test_a_plot_shows_its_versions_and_results(world: World) -> None:
    plot = next(p for p in world.plots_a if p["verdict"] == "deforestation_detected")
    detail = world.get("tech_a", f"/api/plots/{plot['id']}").json()
    assert {k: detail[k] for k in plot} == plot
    [version] = detail["versions"]
    assert version["upload_id"] == world.upload_a["id"]
    assert version["file_name"] == "cooperativa.geojson"
    assert version["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert version["results"] and version["results"][-1]["verdict"] == "deforestation_detected"


# refusals ----------------------------------------------------------------------------------------


def test_a_renamed_pdf_is_refused_naming_the_file(world: World) -> None:
    before = len(world.get("tech_c", "/api/uploads").json())
    r = upload(world, "tech_c", "parcelas_socios.geojson", PDF)
    assert r.status_code == 422
    doc = r.json()
    assert doc["code"] == "bad_file"
    assert (
        doc["message"]["es"].startswith("parcelas_socios.geojson: ")
        and "PDF" in doc["message"]["es"]
    )
    assert (
        doc["message"]["en"].startswith("parcelas_socios.geojson: ")
        and "PDF" in doc["message"]["en"]
    )
    assert len(world.get("tech_c", "/api/uploads").json()) == before


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("vacio.geojson", b"", "empty_file"),
        ("roto.zip", b"PK\x03\x04 not really a zip", "bad_file"),
        ("lista.geojson", b"[1, 2, 3]", "bad_file"),
        ("ninguna.geojson", geojson_bytes(), "bad_file"),
    ],
)
def test_unreadable_files_are_422_naming_the_file(
    world: World, name: str, data: bytes, code: str
) -> None:
    r = upload(world, "tech_c", name, data)
    assert r.status_code == 422, r.text
    doc = r.json()
    assert doc["code"] == code
    assert name in doc["message"]["es"] and name in doc["message"]["en"]
    assert doc["message"]["es"] != doc["message"]["en"]


def test_text_the_registry_cannot_store_is_refused(world: World) -> None:
    """NUL (PostgreSQL refuses it) or a lone surrogate (not encodable) in a plot's text: a
    clear 422 naming the row, on every backend, and nothing registered."""
    before = len(world.get("tech_c", "/api/uploads").json())
    geometry = poly(square(X0 + 0.3, Y0))
    for props in ({"plot_id": "C-\u0000"}, {"ProducerName": "Ana\ud800"}):
        data = geojson_bytes(feature(geometry, **{"plot_id": "C-NUL", **props}))
        r = upload(world, "tech_c", "texto.geojson", data)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "bad_text"
        assert "texto.geojson: row 1 " in r.json()["message"]["en"]
    assert len(world.get("tech_c", "/api/uploads").json()) == before


def test_plot_ids_too_long_to_index_are_refused(world: World) -> None:
    """Regression: a random 8000-character ID made PostgreSQL's index fail (500). At most 500
    characters, which fit the index even as 4-byte UTF-8 that does not compress."""
    rng = random.Random(5)
    geometry = poly(square(X0 + 0.6, Y0))

    def ident(n: int) -> str:
        return "".join(chr(rng.randrange(0x1D400, 0x1D7FF)) for _ in range(n))

    too_long = upload(world, "tech_c", "ids.geojson",
                      geojson_bytes(feature(geometry, plot_id=ident(2000))))  # fmt: skip
    assert too_long.status_code == 422, too_long.text
    assert too_long.json()["code"] == "plot_id_too_long"
    assert (
        "row 1" in too_long.json()["message"]["en"] and "2000" in too_long.json()["message"]["es"]
    )
    longest = ident(500)
    ok = upload(world, "tech_c", "ids.geojson", geojson_bytes(feature(geometry, plot_id=longest)))
    assert ok.status_code == 201, ok.text
    found = world.get("tech_c", "/api/plots", params={"q": longest[:100]}).json()["items"]
    assert [p["plot_id"] for p in found] == [longest]


def test_the_country_option_is_checked(world: World) -> None:
    geometry = poly(square(X0 + 0.4, Y0))
    data = geojson_bytes(feature(geometry, plot_id="C-PAIS", ProducerCountry=None))
    bad = upload(world, "tech_c", "sin_pais.geojson", data, country="Narnia")
    assert bad.status_code == 422 and bad.json()["code"] == "bad_country"
    assert "Narnia" in bad.json()["message"]["es"]
    good = upload(world, "tech_c", "sin_pais.geojson", data, country="Perú")
    assert good.status_code == 201, good.text
    assert "country_missing" not in {f["code"] for f in good.json()["validation"]["findings"]}
    world.wait()
    [plot] = world.get("tech_c", "/api/plots", params={"q": "C-PAIS"}).json()["items"]
    detail = world.get("tech_c", f"/api/plots/{plot['id']}").json()
    assert detail["versions"][-1]["producer_country"] == "PE"


def test_no_repair_keeps_geometries_as_uploaded(world: World) -> None:
    x, y, d = X0 + 0.5, Y0, 0.000912
    bow = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    data = geojson_bytes(feature(poly([bow]), plot_id="C-BOW"))
    kept = upload(world, "tech_c", "lazo.geojson", data, no_repair="true").json()
    assert kept["fixed"] is False and kept["validation"]["error"] == 1
    fixed = upload(world, "tech_c", "lazo.geojson", data).json()
    assert fixed["fixed"] is True and fixed["validation"]["repaired"] == 1
    assert fixed["new_versions"] == 1  # the repaired geometry is a new version of C-BOW


# the plot list's filters --------------------------------------------------------------------------


def _page(w: World, who: str = "tech_a", **params: Any) -> dict[str, Any]:
    r = w.get(who, "/api/plots", params=params)
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def test_filter_by_verdict_keeps_the_counts_of_all(world: World) -> None:
    for verdict, n in SAMPLE_COUNTS.items():
        page = _page(world, verdict=verdict, limit=1000)
        assert page["total"] == n == len(page["items"])
        assert {p["verdict"] for p in page["items"]} == {verdict}
        assert page["counts"] == SAMPLE_COUNTS  # the tabs still show every verdict
    assert _page(world, verdict="unchecked")["total"] == 0


def test_filter_by_status_and_search(world: World) -> None:
    status = Counter(p["status"] for p in world.plots_a)
    assert set(status) <= {"ok", "warning", "error"} and len(status) > 1
    for s, n in status.items():
        page = _page(world, status=s, limit=1000)
        assert page["total"] == n and {p["status"] for p in page["items"]} == {s}
        assert sum(page["counts"].values()) == n
    found = _page(world, q="jae-00", limit=1000)["items"]
    assert found and all("JAE-00" in p["plot_id"] for p in found)
    assert {p["plot_id"] for p in found} == {
        p["plot_id"] for p in world.plots_a if "jae-00" in p["plot_id"].casefold()
    }
    assert _page(world, q="no-such-plot")["total"] == 0


def test_filter_by_organisation(world: World) -> None:
    a, b = world.orgs["A"], world.orgs["B"]
    assert _page(world, organisation_id=a)["total"] == 74
    assert _page(world, organisation_id=b)["total"] == 0
    assert _page(world, "exp_x", organisation_id=a)["total"] == 74
    assert _page(world, "exp_x", organisation_id=b)["total"] == 0


def test_limit_and_offset(world: World) -> None:
    everything = _page(world, limit=1000)["items"]
    assert [p["id"] for p in everything] == [p["id"] for p in world.plots_a]
    page = _page(world, limit=10, offset=5)
    assert page["total"] == 74 and page["items"] == everything[5:15]
    assert _page(world, limit=10, offset=70)["items"] == everything[70:]
    assert _page(world, offset=74)["items"] == []
    assert len(_page(world)["items"]) == 74  # default limit 100
    features = world.get("tech_a", "/api/plots/geojson", params={"limit": 3, "offset": 2}).json()
    assert [f["properties"]["id"] for f in features["features"]] == [
        p["id"] for p in everything[2:5]
    ]
    assert all(
        f["geometry"]["type"] in ("Polygon", "MultiPolygon", "Point") for f in features["features"]
    )


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"offset": -1},
        {"verdict": "free"},
        {"status": "bad"},
        {"organisation_id": 0},
        {"organisation_id": 2**31},
        {"q": "x" * 101},
    ],
)
def test_bad_filters_are_422(world: World, params: dict[str, Any]) -> None:
    r = world.get("tech_a", "/api/plots", params=params)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"


# size limit and rate limit (their own small services) ---------------------------------------------


def small_service(tmp_path: Path, **changes: Any) -> tuple[TestClient, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'small.db'}"
    with Registry.open(url) as reg:
        coop = reg.create_organisation("Coop", "cooperative")
        exporter = reg.create_organisation("Exp", "exporter")
        secrets = {
            "tech": reg.create_token("technician", "tech", coop)[1],
            "tech2": reg.create_token("technician", "tech2", coop)[1],
            "exp": reg.create_token("exporter", "exp", exporter)[1],
        }
    return TestClient(create_app(settings(url, **changes))), secrets


def _multipart(name: str, data: bytes, boundary: str = "limite") -> tuple[bytes, bytes, str]:
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()  # fmt: skip
    return head, data, f"\r\n--{boundary}--\r\n"


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    client, secrets = small_service(tmp_path, max_upload_mb=0.02)  # 20 KiB
    with client:
        yield client, secrets


def test_a_body_over_the_limit_is_413_with_content_length(
    limited: tuple[TestClient, dict[str, str]],
) -> None:
    client, secrets = limited
    auth = {"Authorization": f"Bearer {secrets['tech']}"}
    small = geojson_bytes(feature(poly(square()), plot_id="P1"))
    assert (
        client.post("/api/uploads", headers=auth, files={"file": ("a.geojson", small)}).status_code
        == 201
    )
    big = small + b" " * 30_000  # still valid JSON, but too large
    r = client.post("/api/uploads", headers=auth, files={"file": ("grande.geojson", big)})
    assert r.status_code == 413
    doc = r.json()
    assert doc["code"] == "too_large"
    assert "0.02 MB" in doc["message"]["es"] and "0.02 MB" in doc["message"]["en"]
    # Refused before anything else, even before the token is looked at.
    r = client.post("/api/uploads", files={"file": ("grande.geojson", big)})
    assert r.status_code == 413
    assert len(client.get("/api/uploads", headers=auth).json()) == 1


def test_a_chunked_body_over_the_limit_is_413(limited: tuple[TestClient, dict[str, str]]) -> None:
    client, secrets = limited
    head, _, tail = _multipart("chunks.geojson", b"")

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(10):
            yield b" " * 4096
        yield tail.encode()

    headers = {"Authorization": f"Bearer {secrets['tech']}",
               "Content-Type": "multipart/form-data; boundary=limite"}  # fmt: skip
    request = client.build_request("POST", "/api/uploads", headers=headers, content=body())
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    r = client.send(request)
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    # A chunked JSON body too (a lot request), for any route.
    exp = {"Authorization": f"Bearer {secrets['exp']}", "Content-Type": "application/json"}
    r = client.post("/api/lots", headers=exp, content=(b"[" + b" " * 4096 for _ in range(10)))
    assert r.status_code == 413
    assert (
        client.get("/api/uploads", headers={"Authorization": f"Bearer {secrets['tech']}"}).json()
        == []
    )


def test_a_small_chunked_body_goes_through(limited: tuple[TestClient, dict[str, str]]) -> None:
    client, secrets = limited
    head, data, tail = _multipart("poco.geojson", geojson_bytes(feature(poly(square()))))
    headers = {"Authorization": f"Bearer {secrets['tech']}",
               "Content-Type": "multipart/form-data; boundary=limite"}  # fmt: skip
    r = client.post("/api/uploads", headers=headers, content=iter([head, data, tail.encode()]))
    assert r.status_code == 201, r.text
    assert r.json()["file_name"] == "poco.geojson"


def _one_minute(*clients: TestClient) -> None:
    """The limits' clock stopped mid-minute: a test never straddles two windows."""
    for c in clients:
        for limiter in (c.app.state.limiter, c.app.state.sign_in_limiter):  # type: ignore[attr-defined]
            limiter._clock = lambda: 6e10 + 30


def test_rate_limit_per_token(tmp_path: Path) -> None:
    client, secrets = small_service(tmp_path, rate_limit_per_minute=3)
    _one_minute(client)
    tech, other = ({"Authorization": f"Bearer {secrets[k]}"} for k in ("tech", "tech2"))
    with client:
        assert [client.get("/api/me", headers=tech).status_code for _ in range(3)] == [200] * 3
        limited = client.get("/api/me", headers=tech)
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert limited.json()["message"]["es"] and limited.json()["message"]["en"]
        # 3 a minute, stopped mid-minute: the next one is 30 s away.
        assert int(limited.headers["retry-after"]) == 30
        # Other tokens (even of the same cooperative) are not affected; nor is /healthz.
        assert [client.get("/api/me", headers=other).status_code for _ in range(3)] == [200] * 3
        assert client.get("/api/plots", headers=tech).status_code == 429
        assert client.get("/healthz").status_code == 200
        # Requests without a valid token are refused before they count against anyone.
        assert client.get("/api/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_limit_holds_across_two_processes_of_the_service(tmp_path: Path) -> None:
    """Two apps on one registry, as two server processes: one budget, not two."""
    client, secrets = small_service(tmp_path, rate_limit_per_minute=4)
    url = f"sqlite:///{tmp_path / 'small.db'}"
    second = TestClient(create_app(settings(url, rate_limit_per_minute=4)))
    _one_minute(client, second)
    tech = {"Authorization": f"Bearer {secrets['tech']}"}
    with client, second:
        codes = [c.get("/api/me", headers=tech).status_code for c in (client, second) * 3]
    assert codes == [200, 200, 200, 200, 429, 429]


def test_failed_sign_ins_are_limited_per_address(tmp_path: Path) -> None:
    client, secrets = small_service(tmp_path, failed_auth_per_minute=5)
    _one_minute(client)
    tech = {"Authorization": f"Bearer {secrets['tech']}"}
    with client:
        wrong = [client.get("/api/me", headers={"Authorization": f"Bearer guess{i}"}).status_code
                 for i in range(5)]  # fmt: skip
        assert wrong == [401] * 5
        # Past the limit even a right token waits: the address may not go on guessing.
        r = client.get("/api/me", headers=tech)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        page = client.post("/signin", data={"token": "guess"},
                           headers={"Origin": "http://testserver"})  # fmt: skip
        assert page.status_code == 429


def _nested(kind: str, depth: int) -> bytes:
    point = '{"type":"Point","coordinates":[-78.8,-5.6]}'
    props, geometry = '{"plot_id":"N1"}', point
    if kind == "collections":
        geometry = '{"type":"GeometryCollection","geometries":[' * depth + point + "]}" * depth
    elif kind == "arrays":
        geometry = '{"type":"Polygon","coordinates":' + "[" * depth + "0" + "]" * depth + "}"
    else:
        props = '{"plot_id":"N1","x":' + '{"a":' * depth + "1" + "}" * depth + "}"
    return ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":' + props
            + ',"geometry":' + geometry + "}]}").encode()  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "depth"), [("collections", 900), ("arrays", 5000), ("properties", 5000)]
)
def test_deeply_nested_json_is_a_422_in_both_languages(world: World, kind: str,
                                                       depth: int) -> None:  # fmt: skip
    r = upload(world, "tech_a", "nested.geojson", _nested(kind, depth))
    assert r.status_code == 422, r.text  # never a 500
    body = r.json()
    assert body["code"] in ("bad_file", "too_deep")
    assert "profundidad" in body["message"]["es"] and "deeply" in body["message"]["en"]


def _kmz(kml: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("doc.kml", kml)
    return buf.getvalue()


def test_a_zip_bomb_is_refused_within_a_few_times_the_upload_cap(tmp_path: Path) -> None:
    client, secrets = small_service(tmp_path, max_upload_mb=0.5)  # may expand to 2 MB
    auth = {"Authorization": f"Bearer {secrets['tech']}"}
    kml = (b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           + b" " * 40_000_000 + b"</Document></kml>")  # fmt: skip
    bomb = _kmz(kml)
    assert len(bomb) < 100_000  # 40 MB of content in well under 0.5 MB
    with client:
        r = client.post("/api/uploads", headers=auth, files={"file": ("bomba.kmz", bomb)})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "bad_file" and "2 MB" in body["message"]["en"]
    assert "EUDR_CHECK_MAX_UNZIPPED_MB" in body["message"]["es"]


def test_an_upload_over_the_plot_or_vertex_limit_is_413(tmp_path: Path) -> None:
    client, secrets = small_service(tmp_path, max_upload_plots=3, max_upload_vertices=40)
    auth = {"Authorization": f"Bearer {secrets['tech']}"}
    many = geojson_bytes(*(feature(poly(square(X0 + i * 0.01, Y0)), plot_id=f"P{i}")
                           for i in range(4)))  # fmt: skip
    few = geojson_bytes(*(feature(poly(square(X0 + i * 0.01, Y0)), plot_id=f"Q{i}")
                          for i in range(2)))  # fmt: skip
    ring = [[X0 + 0.001 * math.cos(k / 30 * math.tau), Y0 + 0.001 * math.sin(k / 30 * math.tau)]
            for k in range(30)]  # fmt: skip
    ring.append(ring[0])
    detailed = geojson_bytes(*(feature(poly([ring]), plot_id=f"R{i}") for i in range(2)))
    with client:
        r = client.post("/api/uploads", headers=auth, files={"file": ("m.geojson", many)})
        assert r.status_code == 413 and r.json()["code"] == "too_many_plots"
        assert "EUDR_CHECK_MAX_UPLOAD_PLOTS" in r.json()["message"]["en"]
        r = client.post("/api/uploads", headers=auth, files={"file": ("d.geojson", detailed)})
        assert r.status_code == 413 and r.json()["code"] == "too_many_vertices"
        assert client.post("/api/uploads", headers=auth,
                           files={"file": ("f.geojson", few)}).status_code == 201  # fmt: skip
