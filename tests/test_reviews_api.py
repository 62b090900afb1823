"""Reviews through the JSON API (issue 13): evidence uploads sniffed and limited as plot
uploads are, photos' EXIF position measured against the plot, decisions only by exporters and
reviewers, other organisations' users answered 404, and a lot that turns negligible only
when its last doubtful plot is accepted or taken out.

Real components: the API world's registry (SQLite file, or PostgreSQL with
EUDR_CHECK_TEST_PG_URL), the bundled sample rasters, real JPEGs made with Pillow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from tests.api_world import BACKENDS, World, world_fixture
from tests.photos import jpeg


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from world_fixture(request, tmp_path_factory.mktemp("reviews-api"))


def _features(w: World) -> dict[int, Any]:
    got = w.get("tech_a", "/api/plots/geojson", params={"limit": 1000}).json()["features"]
    return {f["properties"]["id"]: f for f in got}


def _doubtful(w: World, verdict: str = "needs_review") -> list[dict[str, Any]]:
    return [p for p in w.plots_a if p["verdict"] == verdict]


def _photo(w: World, who: str, key: int, data: bytes, name: str = "finca.jpg") -> Any:
    return w.call(who, "POST", f"/api/plots/{key}/evidence",
                  files={"file": (name, data, "image/jpeg")}, data={"kind": "photo"})  # fmt: skip


def test_a_photo_is_attached_with_its_exif_position_and_distance(world: World) -> None:
    w = world
    plot = _doubtful(w)[0]
    geom = shape(_features(w)[plot["id"]]["geometry"])
    inside = shapely.Point(geom.representative_point())
    near = _photo(w, "tech_a", plot["id"], jpeg(inside.y, inside.x))
    assert near.status_code == 201, near.text
    got = near.json()
    assert got["taken_at"] == "2026-11-20T09:15:00" and got["media_type"] == "image/jpeg"
    assert got["distance_m"] == 0 and got["far"] is False
    # About 30 km north: flagged, not refused.
    far = _photo(w, "tech_a", plot["id"], jpeg(inside.y + 0.27, inside.x), "oficina.jpg").json()
    assert far["far"] is True and 29_000 < far["distance_m"] < 31_000
    # The same bytes twice: one stored blob, two attachments with the same hash.
    again = _photo(w, "tech_a", plot["id"], jpeg(inside.y, inside.x), "copia.jpg").json()
    assert again["sha256"] == got["sha256"] and again["id"] != got["id"]
    served = w.get("exp_x", got["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.content == jpeg(inside.y, inside.x)


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("vacia.jpg", b"", 422, "empty_file"),
        ("parcelas.jpg", b'{"type": "FeatureCollection", "features": []}', 422,
         "unsupported_evidence"),
        ("programa.pdf", b"MZ\x90\x00" + b"\x00" * 100, 422, "unsupported_evidence"),
        ("foto.pdf", jpeg(), 422, "extension_mismatch"),
        ("cortada.jpg", jpeg()[:200], 422, "unreadable_image"),
        ("enorme.jpg", b"\xff\xd8\xff" + b"\x00" * (20 * 1024 * 1024 + 4096), 413, "too_large"),
    ],
)  # fmt: skip
def test_evidence_uploads_are_sniffed_and_limited(
    world: World, name: str, data: bytes, status: int, code: str
) -> None:
    w = world
    key = _doubtful(w)[0]["id"]
    before = len(w.get("tech_a", f"/api/plots/{key}/evidence").json())
    r = _photo(w, "tech_a", key, data, name)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and name in body["message"]["es"] and name in body["message"]["en"]
    assert len(w.get("tech_a", f"/api/plots/{key}/evidence").json()) == before  # nothing kept


def test_other_organisations_get_404_and_technicians_only_propose(world: World) -> None:
    w = world
    key = _doubtful(w)[1]["id"]
    body = {"action": "accepted", "reasons": ["agroforestry_before_2021"]}
    for who in ("tech_b", "exp_y"):  # another cooperative; an exporter A shares nothing with
        for method, path, kw in (("GET", f"/api/plots/{key}/reviews", {}),
                                 ("POST", f"/api/plots/{key}/reviews", {"json": body}),
                                 ("GET", f"/api/plots/{key}/evidence", {})):  # fmt: skip
            r = w.call(who, method, path, **kw)
            assert r.status_code == 404, (who, path, r.text)
    refused = w.call("tech_a", "POST", f"/api/plots/{key}/reviews", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "cannot_decide"
    proposed = w.call("tech_a", "POST", f"/api/plots/{key}/reviews",
                      json={**body, "action": "proposed"})  # fmt: skip
    assert proposed.status_code == 201
    assert w.get("tech_a", f"/api/plots/{key}/reviews").json()["state"] == "open"
    # The cooperative's own reviewer decides for its plots; an exporter's reviewer sees A's.
    assert w.call("rev_a", "POST", f"/api/plots/{key}/reviews", json=body).status_code == 201
    assert w.get("tech_a", f"/api/plots/{key}/reviews").json()["state"] == "accepted"
    assert w.get("rev_x", f"/api/plots/{key}/reviews").json()["state"] == "accepted"
    assert w.get("tech_b", f"/api/plots/{key}/reviews").status_code == 404
    # Nonsense is refused with the reason, in both languages.
    free = next(p for p in w.plots_a if p["verdict"] == "deforestation_free")["id"]
    r = w.call("exp_x", "POST", f"/api/plots/{free}/reviews", json=body)
    assert r.status_code == 422 and "nothing to review" in r.json()["message"]["en"]
    r = w.call("exp_x", "POST", f"/api/plots/{key}/reviews",
               json={**body, "reasons": ["because"]})  # fmt: skip
    assert r.status_code == 422 and "unknown reason" in r.json()["message"]["en"]
    r = w.call("exp_x", "POST", f"/api/plots/{key}/reviews",
               json={**body, "evidence": ["0" * 64]})  # fmt: skip
    assert r.status_code == 422 and "not attached" in r.json()["message"]["en"]


def test_a_lot_turns_negligible_when_its_last_doubtful_plot_is_settled(world: World) -> None:
    w = world
    doubtful = _doubtful(w)[2:4] + _doubtful(w, "undetermined")[:1]
    free = [p for p in w.plots_a if p["verdict"] == "deforestation_free"][:2]
    body = {"reference": "LOT-REVIEW-1", "commodity": "coffee", "hs_code": "090111",
            "net_mass_kg": 500.0, "plots": [p["id"] for p in doubtful + free]}  # fmt: skip
    lot = w.call("exp_x", "POST", "/api/lots", json=body).json()
    path = f"/api/lots/{lot['id']}"
    c = w.get("exp_x", f"{path}/conclusion").json()
    assert c["conclusion"] == "not_negligible" and c["plots"] == 5
    assert {b["plot_id"] for b in c["blocking"]} == {p["plot_id"] for p in doubtful}
    assert c["country_risk"] == {"PE": "standard"} and "Art. 9-11" in c["regime"]["en"]
    # Exporter Z's opinion is not X's: no access at all.
    assert w.get("exp_z", f"{path}/conclusion").status_code == 404

    photo = _photo(w, "tech_a", doubtful[0]["id"], jpeg()).json()
    accept = {"action": "accepted", "reasons": ["agroforestry_before_2021", "field_visit_confirms"],
              "note": "Cafetal bajo sombra de 2014", "evidence": [photo["sha256"]],
              "imagery": {"layer": "Planet NICFI", "date": "2020-12"}}  # fmt: skip
    r = w.call("exp_x", "POST", f"/api/plots/{doubtful[0]['id']}/reviews", json=accept)
    assert r.status_code == 201, r.text
    assert r.json()["evidence"] == [photo["sha256"]] and r.json()["imagery"]["date"] == "2020-12"
    # Exporter X's reviewer decides for X's lots too.
    by_reviewer = {**accept, "evidence": []}
    r = w.call("rev_x", "POST", f"/api/plots/{doubtful[1]['id']}/reviews", json=by_reviewer)
    assert r.status_code == 201, r.text
    c = w.get("exp_x", f"{path}/conclusion").json()
    assert c["conclusion"] == "not_negligible" and c["accepted_by_review"] == 2
    assert [b["plot_id"] for b in c["blocking"]] == [doubtful[2]["plot_id"]]

    # The last one is taken out, explicitly and with its reason: the lot is negligible.
    trim = {"plots": [doubtful[2]["plot_id"]], "reason": "sin datos de 2020"}
    out = w.call("exp_x", "POST", f"{path}/take-out", json=trim)
    assert out.status_code == 200, out.text
    c = out.json()
    assert c["conclusion"] == "negligible" and c["plots"] == 4 and c["blocking"] == []
    assert [(x["plot_id"], x["reason"], x["by"]) for x in c["taken_out"]] == [
        (doubtful[2]["plot_id"], "sin datos de 2020", "exp_x")]  # fmt: skip
    assert w.get("exp_x", path).json()["plots"] == 4
    bad = w.call("exp_x", "POST", f"{path}/take-out", json={"plots": ["NOPE"], "reason": "x"})
    assert bad.status_code == 422 and bad.json()["code"] == "not_in_lot"


def test_the_queue_lists_what_still_needs_someone(world: World) -> None:
    w = world
    queue = w.get("exp_x", "/api/reviews").json()
    states = {i["state"] for i in queue}
    assert states <= {"open", "outdated"} and queue
    assert {i["verdict"] for i in queue} <= {"needs_review", "undetermined",
                                             "deforestation_detected"}  # fmt: skip
    accepted = w.get("exp_x", "/api/reviews", params={"state": "accepted"}).json()
    assert accepted and {i["state"] for i in accepted} == {"accepted"}
    assert not {i["id"] for i in queue} & {i["id"] for i in accepted}
    mine = w.get("tech_b", "/api/reviews").json()  # B sees its own doubtful plots, never A's
    assert {i["organisation_id"] for i in mine} <= {w.orgs["B"]}
    assert w.get("exp_y", "/api/reviews").json() == []


def test_an_imagery_layer_from_settings_is_allowed_shown_and_recorded(world: World) -> None:
    """Off by default (no outside host in the CSP); when set, its host is the one allowed,
    the plot page carries the layer, and a review made over it records layer and date."""
    from fastapi.testclient import TestClient

    from eudr_check.api import create_app
    from tests.api_world import settings

    w = world
    key = _doubtful(w)[4]["id"]
    plain = TestClient(w.app)
    plain.cookies.set("eudr_token", w.secrets["exp_x"])
    page = plain.get(f"/plots/{key}")
    assert page.status_code == 200 and 'name="imagery_used"' not in page.text
    assert "img-src 'self' data: blob:;" in page.headers["content-security-policy"]
    tiles = "https://{s}.tiles.example.org/mosaic/2020-12/{z}/{x}/{y}.png"
    conf = settings(w.url, imagery_url=tiles, imagery_name="Mosaico 2020-12",
                    imagery_date="2020-12", imagery_attribution="© Example")  # fmt: skip
    with TestClient(create_app(conf)) as client:
        client.cookies.set("eudr_token", w.secrets["exp_x"])
        page = client.get(f"/plots/{key}")
        assert page.status_code == 200
        assert "img-src 'self' data: blob: https://*.tiles.example.org;" in (
            page.headers["content-security-policy"])  # fmt: skip
        assert tiles in page.text and 'name="imagery_used"' in page.text
        sent = client.post(f"/plots/{key}/reviews", data={
            "action": "accepted", "reasons": ["imagery_confirms_no_clearing"],
            "imagery_used": "1"}, follow_redirects=False)  # fmt: skip
        assert sent.status_code == 303, sent.text
        bad = client.post(f"/plots/{key}/reviews", data={"action": "accepted"})
        assert bad.status_code == 422 and "al menos un motivo" in bad.text  # Spanish page
    got = w.get("exp_x", f"/api/plots/{key}/reviews").json()
    assert got["decision"]["imagery"] == {"layer": "Mosaico 2020-12", "date": "2020-12"}


def test_an_evidence_body_over_its_own_cap_is_413_before_it_is_read(world: World) -> None:
    """The evidence cap, not the plot-upload cap, bounds an evidence request's body."""
    from fastapi.testclient import TestClient

    from eudr_check.api import create_app
    from tests.api_world import settings

    w = world
    key = _doubtful(w)[0]["id"]
    conf = settings(w.url, max_evidence_mb=0.05, max_upload_mb=50)
    with TestClient(create_app(conf)) as client:
        client.headers["Authorization"] = f"Bearer {w.secrets['tech_a']}"
        huge = b"\xff\xd8\xff" + b"\x00" * (2 * 1024 * 1024)  # over cap + envelope: middleware
        r = client.post(f"/api/plots/{key}/evidence", files={"file": ("f.jpg", huge)})
        assert r.status_code == 413 and r.json()["code"] == "too_large"
        big = b"\xff\xd8\xff" + b"\x00" * (200 * 1024)  # under the envelope: the sniffer's 413
        r = client.post(f"/api/plots/{key}/evidence", files={"file": ("f.jpg", big)})
        assert r.status_code == 413 and "f.jpg" in r.json()["message"]["en"]


def test_the_plot_detail_carries_whisp_indicators_and_legality(world: World) -> None:
    """Issue 14 through the API: the sample's synthetic national park lies over JAE-019."""
    w = world
    key = next(p["id"] for p in w.plots_a if p["plot_id"] == "JAE-019")
    detail = w.get("exp_x", f"/api/plots/{key}").json()
    assert set(detail["indicators"]) == {"ind_01_treecover", "ind_02_commodities",
                                         "ind_03_disturbance_before_2020",
                                         "ind_04_disturbance_after_2020", "risk_pcrop"}  # fmt: skip
    (park,) = [f for f in detail["legality"] if f["code"] == "in_protected_area"]
    assert park["severity"] == "error" and "Parque Nacional de Muestra" in park["message"]["en"]
    page = TestClient(w.app)
    page.cookies.set("eudr_token", w.secrets["exp_x"])
    html = page.get(f"/plots/{key}").text
    assert 'id="whisp"' in html and "Parque Nacional de Muestra" in html
