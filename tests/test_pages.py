"""The web pages through fastapi's TestClient: every page for every role, scoped exactly like
the API, in Spanish and English, and failures always shown as pages (never JSON or a traceback).

The populated service is api_world's (SQLite; the API tests run it on PostgreSQL too). The
browser journey itself is in test_browser.py.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from eudr_check.api import i18n, views
from eudr_check.api.ratelimit import RateLimiter
from eudr_check.engine import RegisteredPlots, RegistrySink, run_check
from eudr_check.intake import read_plots
from eudr_check.rules import validate
from tests.api_world import SAMPLE_COUNTS, World, build_world, geojson_bytes
from tests.conftest import X0, Y0, feature, poly, square

TEMPLATES = Path(i18n.__file__).with_name("templates")
STATIC = Path(i18n.__file__).with_name("static")
PAGES = [
    "/",
    "/upload",
    "/plots",
    "/plots/1",
    "/shares",
    "/lots",
    "/lots/1",
    "/admin",
    "/uploads/1",
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with build_world("sqlite", tmp_path_factory.mktemp("pages")) as w:
        yield w


@pytest.fixture
def browser(world: World) -> Callable[..., TestClient]:
    """A client as one visitor: `who` signed in (by cookie, as the pages do), in `lang`."""

    def make(who: str | None = None, lang: str | None = None, https: bool = False) -> TestClient:
        cookies = {}
        if who is not None:
            cookies["eudr_token"] = world.secrets[who]
        if lang is not None:
            cookies["eudr_lang"] = lang
        base = "https://testserver" if https else "http://testserver"
        return TestClient(world.app, base_url=base, follow_redirects=False, cookies=cookies)

    return make


def page(response: Any, status: int = 200) -> str:
    """The HTML of a page answer, checked to be a page and never a traceback."""
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    return str(response.text)


def key_of(world: World, plot_id: str) -> int:
    return int(next(p["id"] for p in world.plots_a if p["plot_id"] == plot_id))


def first_with(world: World, verdict: str) -> int:
    return int(next(p["id"] for p in world.plots_a if p["verdict"] == verdict))


# signing in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_goes_to_signin(browser: Callable[..., TestClient], path: str) -> None:
    r = browser().get(path)
    assert r.status_code == 303
    assert r.headers["location"] == f"/signin?next={quote(path, safe='')}"


def test_signin_sets_a_strict_httponly_cookie(
    world: World, browser: Callable[..., TestClient]
) -> None:
    r = browser().post("/signin", data={"token": world.secrets["tech_a"], "next": "/plots?q=JAE"})
    assert r.status_code == 303 and r.headers["location"] == "/plots?q=JAE"
    cookie = r.headers["set-cookie"]
    assert f"eudr_token={world.secrets['tech_a']}" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    secure = browser(https=True).post("/signin", data={"token": world.secrets["exp_x"]})
    assert secure.headers["location"] == "/lots"  # the exporter's start page
    assert "Secure" in secure.headers["set-cookie"]


def test_signin_never_redirects_elsewhere(world: World, browser: Callable[..., TestClient]) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = browser().post("/signin", data={"token": world.secrets["tech_a"], "next": target})
        assert r.headers["location"] == "/plots"


@pytest.mark.parametrize(
    ("lang", "text"),
    [("es", "El token no es válido o fue revocado"), ("en", "The token is not valid or was")],
)
def test_signin_failure_is_a_401_page(
    world: World, browser: Callable[..., TestClient], lang: str, text: str
) -> None:
    for token in ("eudr_wrong", world.secrets["revoked"], "x" * 500):
        html = page(browser(lang=lang).post("/signin", data={"token": token}), 401)
        assert text in html
        assert 'id="token"' in html  # the form again
    # A revoked token in the cookie is no sign-in either.
    assert browser("revoked").get("/plots").status_code == 303


def test_signout_clears_the_cookie(browser: Callable[..., TestClient]) -> None:
    r = browser("tech_a").post("/signout")
    assert r.status_code == 303 and r.headers["location"] == "/signin?out=1"
    assert 'eudr_token=""' in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]
    assert "Sesión cerrada" in page(browser().get("/signin?out=1"))


@pytest.mark.parametrize(
    ("who", "home"), [("tech_a", "/plots"), ("exp_x", "/lots"), ("admin", "/admin")]
)
def test_home_by_role(browser: Callable[..., TestClient], who: str, home: str) -> None:
    assert browser(who).get("/").headers["location"] == home
    # Already signed in: the sign-in page goes on to where the visitor was heading.
    assert browser(who).get("/signin?next=/shares").headers["location"] == "/shares"


# roles and scope -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("tech_a", "/lots"), ("tech_a", "/admin"), ("exp_x", "/upload"), ("exp_x", "/admin"),
        ("exp_x", "/uploads/1"), ("admin", "/plots"), ("admin", "/upload"), ("admin", "/lots"),
        ("admin", "/shares"), ("admin", "/plots/1"),
    ],
)  # fmt: skip
def test_wrong_role_is_a_403_page(browser: Callable[..., TestClient], who: str, path: str) -> None:
    html = page(browser(who).get(path), 403)
    assert "Su rol" in html and "no permite esto" in html
    html = page(browser(who, lang="en").get(path), 403)
    assert "cannot do this" in html


def test_other_organisations_things_are_404_pages(
    world: World, browser: Callable[..., TestClient]
) -> None:
    plot_a = world.plots_a[0]["id"]
    assert "No se encontró la parcela" in page(browser("tech_b").get(f"/plots/{plot_a}"), 404)
    assert "Plot not found" in page(browser("exp_y", "en").get(f"/plots/{plot_a}"), 404)
    page(browser("exp_x").get(f"/plots/{plot_a}"))  # shared with X
    page(browser("tech_b").get(f"/uploads/{world.upload_a['id']}"), 404)
    page(browser("exp_y").get(f"/lots/{world.lot_x['id']}"), 404)
    for bad in ("/plots/999999999", "/plots/abc", "/plots/0", "/lots/99999999999999"):
        page(browser("exp_x").get(bad), 404)
    # The same scope for the pages' JSON: the map image and the map data.
    assert browser("tech_b").get(f"/api/plots/{plot_a}/map.png").status_code == 404
    ids = {
        f["properties"]["id"]
        for f in browser("tech_b").get("/api/plots/geojson").json()["features"]
    }
    assert plot_a not in ids


# pages -----------------------------------------------------------------------------------------


def test_results_page_counts_table_filters_and_map(
    world: World, browser: Callable[..., TestClient]
) -> None:
    html = page(browser("tech_a").get("/plots"))
    for verdict, n in SAMPLE_COUNTS.items():
        assert f'data-verdict-count="{verdict}">{n}<' in html
    assert 'data-verdict-count="all">74<' in html
    assert html.count('<tr data-plot="') == 50  # a page of 50
    assert "1–50 de 74" in html and 'rel="next" href="/plots?page=2"' in html
    assert "Cooperativa</th>" not in html  # a technician sees only their own
    assert 'data-src="/api/plots/geojson?limit=50&amp;offset=0"' in html

    html = page(browser("tech_a").get("/plots?verdict=deforestation_detected&status=&q="))
    assert html.count('<tr data-plot="') == SAMPLE_COUNTS["deforestation_detected"]
    assert 'data-src="/api/plots/geojson?verdict=deforestation_detected&amp;limit=50' in html
    html = page(browser("tech_a").get("/plots?page=2"))
    assert html.count('<tr data-plot="') == 24 and "51–74 de 74" in html
    html = page(browser("tech_a").get("/plots?q=lcv-00&verdict=bogus"))
    assert html.count('<tr data-plot="') == 9  # LCV-001..009; an unknown verdict means any

    html = page(browser("exp_x", "en").get("/plots"))
    assert "Plots shared with you" in html and "Cooperative</th>" in html
    assert 'data-verdict-count="all">74<' in html
    assert "Org A</option>" in html  # the cooperative filter
    html = page(browser("exp_y").get("/plots"))
    assert "No hay parcelas que mostrar" in html


def test_badges_and_the_unchecked_outline(browser: Callable[..., TestClient]) -> None:
    css = browser().get("/static/app.css").text
    for verdict, colour in (("deforestation_free", "--free"), ("needs_review", "--review"),
                            ("deforestation_detected", "--detected"),
                            ("undetermined", "--undetermined")):  # fmt: skip
        assert f".v-{verdict} {{ background: var({colour})" in css
    assert ".v-unchecked { background: #fff;" in css and "dashed" in css


def test_plot_detail(world: World, browser: Callable[..., TestClient]) -> None:
    key = first_with(world, "deforestation_detected")
    html = page(browser("tech_a").get(f"/plots/{key}"))
    assert f'src="/api/plots/{key}/map.png?lang=es"' in html
    assert "Deforestación detectada" in html and "pérdida de bosque después del 31/12/2020" in html
    assert html.count("<tr>\n      <td>1</td>") == 1  # one version in the history
    assert 'id="plot-shape"' in html and '"type": "Polygon"' in html
    html = page(browser("exp_x", "en").get(f"/plots/{key}"))
    assert f'src="/api/plots/{key}/map.png?lang=en"' in html and "Version history" in html

    # A repaired plot shows its original outline as well (JAE-002 had a hole).
    html = page(browser("tech_a").get(f"/plots/{key_of(world, 'JAE-002')}"))
    assert '"kind": "original"' in html and "reparada (original guardada)" in html
    # No geometry: no map, a note instead.
    html = page(browser("tech_a").get(f"/plots/{key_of(world, 'JAE-011')}"))
    assert "map.png" not in html and "Sin mapa de evidencia" in html


def test_evidence_map(world: World, browser: Callable[..., TestClient]) -> None:
    key = first_with(world, "deforestation_detected")
    es = browser("tech_a").get(f"/api/plots/{key}/map.png")
    assert es.status_code == 200 and es.headers["content-type"] == "image/png"
    assert es.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert es.headers["cache-control"].startswith("private")
    en = browser("exp_x").get(f"/api/plots/{key}/map.png?lang=en")
    assert en.status_code == 200 and en.content != es.content  # English legend
    assert browser("tech_a").get(f"/api/plots/{key}/map.png?lang=fr").status_code == 422
    # A point plot is drawn as the circle that was analysed (JAE-005 is a point).
    assert (
        browser("tech_a").get(f"/api/plots/{key_of(world, 'JAE-005')}/map.png").status_code == 200
    )
    # No geometry: a clear 404, never a 500.
    r = browser("tech_a").get(f"/api/plots/{key_of(world, 'JAE-011')}/map.png")
    assert r.status_code == 404 and r.json()["code"] == "no_geometry"
    assert r.json()["message"]["es"].startswith("La parcela no tiene geometría")
    # Off the globe (LCV-008 has a latitude of -95.85): not drawable either, still no 500.
    r = browser("tech_a").get(f"/api/plots/{key_of(world, 'LCV-008')}/map.png")
    assert r.status_code == 404 and r.json()["code"] == "no_geometry"


def test_evidence_map_of_an_unchecked_plot_is_409(
    world: World, browser: Callable[..., TestClient], tmp_path: Path
) -> None:
    # Registered but never checked (no queue involved): cooperative C's own plot.
    path = tmp_path / "c.geojson"
    path.write_bytes(geojson_bytes(feature(poly(square(X0 + 0.2, Y0)), plot_id="C-1")))
    report = validate(read_plots(path), fix=True)
    world.registry.register_upload(world.orgs["C"], report, path.name, "0" * 64)
    row = next(r for r in world.registry.latest_results(world.orgs["C"]) if r["plot_id"] == "C-1")
    r = browser("tech_c").get(f"/api/plots/{row['plot_key']}/map.png")
    assert r.status_code == 409 and r.json()["code"] == "not_checked"
    html = page(browser("tech_c").get(f"/plots/{row['plot_key']}"))
    assert "Sin verificar" in html and "map.png" not in html
    plots = RegisteredPlots(world.registry, [row["version_id"]])
    run_check(plots, world.app.state.sources, sinks=[RegistrySink(world.registry)])
    assert browser("tech_c").get(f"/api/plots/{row['plot_key']}/map.png").status_code == 200


def test_upload_pages(world: World, browser: Callable[..., TestClient]) -> None:
    html = page(browser("tech_a").get("/upload"))
    assert 'id="drop"' in html and 'type="file"' in html and 'action="/api/uploads"' in html
    assert "Máximo 50 MB" in html
    assert f'href="/uploads/{world.upload_a["id"]}"' in html
    assert "Cargas recientes" in html and "cooperativa.geojson" in html
    data = re.search(r'id="page-data">(.*?)</script>', html, re.S)
    assert data and '"report.title"' in data.group(1)

    html = page(browser("tech_a", "en").get(f"/uploads/{world.upload_a['id']}"))
    assert "Validation report: cooperativa.geojson" in html
    assert "75 rows read · 74 new plots" in html and 'data-state="done"' in html
    assert 'data-count="error">' in html and "Check finished: 74 plots." in html


def test_shares_page(world: World, browser: Callable[..., TestClient]) -> None:
    tech = browser("tech_c")
    z = world.orgs["Z"]
    assert "No compartido" in page(tech.get("/shares"))
    r = tech.post(f"/shares/{z}", data={"action": "share"})
    assert r.status_code == 303 and r.headers["location"] == f"/shares?done=share&org={z}"
    html = page(tech.get(r.headers["location"]))
    assert "Ahora comparte sus parcelas con Org Z" in html
    assert re.search(rf'data-exporter="{z}">\s*<td>Org Z</td>\s*<td><span class="badge '
                     r'v-deforestation_free">Compartido', html)  # fmt: skip
    assert "Org C" in page(browser("exp_z").get("/shares"))  # the exporter's view
    tech.post(f"/shares/{z}", data={"action": "unshare"})
    assert "Org C" not in page(browser("exp_z").get("/shares"))
    # Sharing with a cooperative, or unsharing what is not shared: 404 pages.
    page(tech.post(f"/shares/{world.orgs['A']}", data={"action": "share"}), 404)
    page(tech.post(f"/shares/{z}", data={"action": "unshare"}), 404)
    page(browser("exp_x").post(f"/shares/{z}", data={"action": "share"}), 403)


def test_the_shares_notice_names_no_organisation_the_page_does_not_list(
    world: World, browser: Callable[..., TestClient]
) -> None:
    tech = browser("tech_c", "en")
    other_coop = world.orgs["A"]  # a cooperative: never listed to another cooperative
    html = page(tech.get(f"/shares?done=share&org={other_coop}"))
    assert "Org A" not in html
    assert "Org Z" in page(tech.get(f"/shares?done=share&org={world.orgs['Z']}"))


def test_bidirectional_controls_are_shown_not_obeyed(
    world: World, browser: Callable[..., TestClient]
) -> None:
    admin = browser("admin")
    name = "Coop \u202egnp.exe"
    r = admin.post("/admin/organisations", data={"name": name, "kind": "cooperative"})
    assert r.status_code == 303
    html = page(admin.get(r.headers["location"]))
    assert "\u202e" not in html and "Coop [U+202E]gnp.exe" in html


def test_lots_pages(world: World, browser: Callable[..., TestClient]) -> None:
    exp = browser("exp_x")
    html = page(exp.get("/lots"))
    assert "LOT-X-1" in html and html.count('name="plots"') == 74
    free = [p["id"] for p in world.plots_a if p["verdict"] == "deforestation_free"][:3]
    form = {"reference": "LOTE-7", "commodity": "cocoa", "hs_code": "180100",
            "net_mass_kg": "2.500,5", "plots": [str(k) for k in free]}  # fmt: skip
    r = exp.post("/lots", data=form)
    assert r.status_code == 303
    html = page(exp.get(r.headers["location"]))
    assert "Lote LOTE-7" in html and 'data-verdict-count="deforestation_free">3<' in html
    assert "2,500" in html  # 2.500,5 kg read as two and a half tonnes
    assert f'href="/api/lots/{r.headers["location"].split("/")[-1]}/bundle?lang=es"' in html

    # Errors come back on the form, with what was typed kept.
    html = page(exp.post("/lots", data={"reference": "", "hs_code": "12", "net_mass_kg": "x"}), 422)
    for field in ("reference", "commodity", "hs_code", "net_mass_kg", "plots"):
        assert i18n.text("es", f"lots.field.{field}") in html
    html = page(exp.post("/lots", data={**form, "hs_code": "090111"}), 422)
    assert "no corresponde a cocoa" in html and 'value="LOTE-7"' in html
    html = page(exp.post("/lots", data=form), 409)
    assert "Ya existe un lote con la referencia" in html
    other = str(world.plots_b[0]["id"])
    html = page(browser("exp_x", "en").post("/lots", data={**form, "plots": [other]}), 422)
    assert "Plots unknown or not shared with you" in html
    html = page(browser("exp_y").get("/lots"))
    assert "Ninguna cooperativa comparte todavía parcelas" in html


def test_lot_page_warns_about_flagged_plots(
    world: World, browser: Callable[..., TestClient]
) -> None:
    flagged = [first_with(world, "deforestation_detected"), first_with(world, "needs_review")]
    form = {"reference": "LOTE-RISK", "commodity": "coffee", "hs_code": "0901",
            "net_mass_kg": "10", "plots": [str(k) for k in flagged]}  # fmt: skip
    location = browser("exp_x").post("/lots", data=form).headers["location"]
    html = page(browser("exp_x", "en").get(location))
    assert "negligible risk cannot be declared" in html
    assert "?lang=en" in html


def test_admin_page(world: World, browser: Callable[..., TestClient]) -> None:
    admin = browser("admin")
    html = page(admin.get("/admin"))
    assert "Org A" in html and "tech_a" in html and "revocado el" in html
    r = admin.post(
        "/admin/organisations", data={"name": "Cooperativa Nueva", "kind": "cooperative"}
    )
    assert r.status_code == 303
    assert "Organización «Cooperativa Nueva» creada." in page(admin.get(r.headers["location"]))
    org = int(r.headers["location"].split("=")[-1])

    new_token = {"name": "Ana", "role": "technician", "organisation_id": str(org)}
    html = page(admin.post("/admin/tokens", data=new_token), 201)
    secret = re.search(r'<code id="new-secret">([^<]+)</code>', html)
    assert secret and "no se volverá a mostrar" in html
    mine = browser()
    mine.cookies.set("eudr_token", secret.group(1))
    assert mine.get("/").headers["location"] == "/plots"
    token_id = int(mine.get("/api/me").json()["token_id"])
    assert secret.group(1) not in page(admin.get("/admin"))  # shown once only

    r = admin.post(f"/admin/tokens/{token_id}/revoke")
    assert r.status_code == 303 and "Token" in page(admin.get(r.headers["location"]))
    assert mine.get("/").status_code == 303 and mine.get("/").headers["location"].startswith(
        "/signin"
    )
    # Refusals are shown on the page: a technician token for an exporter, an empty name.
    exporter_org = str(world.orgs["X"])
    refused = {"name": "x", "role": "technician", "organisation_id": exporter_org}
    html = page(admin.post("/admin/tokens", data=refused), 422)
    assert 'id="admin-error"' in html
    page(admin.post("/admin/organisations", data={"name": " ", "kind": "exporter"}), 422)
    page(admin.post("/admin/tokens/999999/revoke"), 404)


# language, errors, limits ---------------------------------------------------------------------


def test_language_switch(browser: Callable[..., TestClient]) -> None:
    tech = browser("tech_a")
    assert '<html lang="es">' in page(tech.get("/plots"))
    r = tech.get("/lang/en?next=/plots%3Fverdict%3Dneeds_review")
    assert r.status_code == 303 and r.headers["location"] == "/plots?verdict=needs_review"
    assert "eudr_lang=en" in r.headers["set-cookie"]
    html = page(tech.get("/plots"))
    assert '<html lang="en">' in html and ">Upload file</a>" in html and "Needs review" in html
    assert tech.get("/lang/es?next=//evil.example").headers["location"] == "/"
    page(tech.get("/lang/de"), 404)


def test_i18n_texts_complete() -> None:
    assert set(i18n.ES) == set(i18n.EN)
    fields = string.Formatter()
    for key in i18n.ES:
        names_es = {f for _, f, _, _ in fields.parse(i18n.ES[key]) if f}
        names_en = {f for _, f, _, _ in fields.parse(i18n.EN[key]) if f}
        assert names_es == names_en, key
    # Every literal key the templates use exists (keys built with ~ are checked by the pages).
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z_.]+)["']\s*[,)]""", template.read_text("utf-8")))
    assert used and used <= set(i18n.ES), used - set(i18n.ES)
    for prefix, names in (("verdict.", (*views.VERDICTS, views.UNCHECKED)),
                          ("status.", ("ok", "warning", "error"))):  # fmt: skip
        assert {prefix + n for n in names} <= set(i18n.ES)


def test_unexpected_failure_is_a_500_page(
    browser: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("secret detail from deep inside")

    monkeypatch.setattr(views, "plot_page", broken)
    html = page(browser("tech_a").get("/plots"), 500)
    assert "Algo falló en el servidor" in html and "secret detail" not in html


def test_posts_from_other_sites_are_refused(
    world: World, browser: Callable[..., TestClient]
) -> None:
    forged = browser("tech_c").post(
        f"/shares/{world.orgs['Z']}",
        data={"action": "share"},
        headers={"Origin": "https://evil.example"},
    )
    html = page(forged, 403)
    assert "no viene de este sitio" in html
    assert world.orgs["Z"] not in {o.id for o in world.registry.partners(world.orgs["C"])}
    ok = browser().post(
        "/signin", data={"token": world.secrets["tech_c"]}, headers={"Origin": "http://testserver"}
    )
    assert ok.status_code == 303


def test_rate_limit_applies_to_pages(world: World, browser: Callable[..., TestClient]) -> None:
    saved = world.app.state.limiter
    # A minute of its own (a clock far ahead): the module's earlier requests do not count.
    world.app.state.limiter = RateLimiter(world.registry, 2, clock=lambda: 6e10)
    try:
        tech = browser("tech_a")
        page(tech.get("/shares"))
        page(tech.get("/shares"))
        r = tech.get("/shares")
        assert "Demasiadas solicitudes" in page(r, 429) and int(r.headers["retry-after"]) >= 1
    finally:
        world.app.state.limiter = saved


def test_static_files_and_vendored_leaflet(browser: Callable[..., TestClient]) -> None:
    client = browser()
    for path in ("/static/app.css", "/static/js/app.js", "/static/js/upload.js",
                 "/static/js/map.js", "/static/js/lots.js", "/static/favicon.svg",
                 "/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
                 "/static/vendor/leaflet/images/layers.png"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    assert 'version="1.9.4"' in client.get("/static/vendor/leaflet/leaflet.js").text.replace(
        't.version="1.9.4"', 'version="1.9.4"'
    )
    assert (STATIC / "vendor" / "leaflet" / "LICENSE").read_text().startswith("BSD 2-Clause")
    # Nothing in the pages or scripts points outside the site (no CDN, tiles or web fonts).
    for path in [*TEMPLATES.glob("*.html"), *STATIC.glob("js/*.js"), STATIC / "app.css"]:
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", path.read_text("utf-8")), path
        assert "tile.openstreetmap" not in path.read_text("utf-8")


def test_basemap_outlines(browser: Callable[..., TestClient]) -> None:
    assert browser().get("/basemap.geojson?bbox=-80,-6,-78,-4").status_code == 303
    r = browser("tech_a").get("/basemap.geojson?bbox=-80,-6,-78,-4")
    codes = {f["properties"]["iso2"] for f in r.json()["features"]}
    assert codes == {"PE", "EC"}
    assert browser("tech_a").get("/basemap.geojson?bbox=nonsense").json()["features"] == []
