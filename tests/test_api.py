"""The JSON API against issue 5: every endpoint × every role, each organisation seeing only its
own (or shared) plots, uploads and lots, revoked tokens refused, lots and their bundles.

Real components throughout: a registry file (or PostgreSQL with EUDR_CHECK_TEST_PG_URL), the
bundled sample rasters, background checks in the app's own queue. Uploads, limits and the
plot filters are in test_api_uploads.py; schemathesis in test_api_schema.py.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute

from eudr_check.api.deps import MAX_ID
from eudr_check.reports.bundle_verify import verify_bundle
from eudr_check.store.schema import ApiToken
from tests.api_world import BACKENDS, SAMPLE_COUNTS, World, geojson_bytes, world_fixture
from tests.conftest import X0, Y0, feature, poly, square


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from world_fixture(request, tmp_path_factory.mktemp("api"))


# every endpoint × every role ------------------------------------------------------------------

ROLES = ("admin", "technician", "exporter", "reviewer", "no_token", "revoked")
# Who plays each role: technician of cooperative A, exporter X (A shares with X), the
# reviewer of cooperative A.
PLAYER: dict[str, str | None] = {
    "admin": "admin", "technician": "tech_a", "exporter": "exp_x", "reviewer": "rev_a",
    "no_token": None, "revoked": "revoked",
}  # fmt: skip
_serial = itertools.count(1)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the route's template, as in app.routes
    status: int  # for the roles allowed
    roles: frozenset[str]  # allowed; other authenticated roles get 403, no/revoked token 401
    public: bool = False  # no authentication at all: every role gets `status`
    params: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    request: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    setup: Callable[[World], None] | None = None

    def expected(self, role: str) -> int:
        if self.public or role in self.roles:
            return self.status
        return 401 if role in ("no_token", "revoked") else 403


def _spare_token(w: World) -> dict[str, Any]:
    info, _ = w.registry.create_token("admin", f"spare {next(_serial)}")
    return {"token_id": info.id}


def _new_lot(w: World) -> dict[str, Any]:
    plots = [p["id"] for p in w.plots_a[5:8]]
    body = {"reference": f"LOT-TABLE-{next(_serial)}", "commodity": "cocoa", "hs_code": "1801",
            "net_mass_kg": 1200.5, "plots": plots}  # fmt: skip
    return {"json": body}


def _sample_upload(w: World) -> dict[str, Any]:
    from tests.api_world import SAMPLE

    return {"files": {"file": (SAMPLE.name, SAMPLE.read_bytes())}}


TECH, EXP, ADMIN = frozenset({"technician"}), frozenset({"exporter"}), frozenset({"admin"})
MEMBERS = TECH | EXP | frozenset({"reviewer"})
EVERYONE = frozenset({"admin", "technician", "exporter", "reviewer"})


def _doubtful_key(w: World) -> int:
    return next(p["id"] for p in w.plots_a if p["verdict"] == "needs_review")


def _doubtful_in_lot(w: World) -> str:
    return next(str(i["plot_id"]) for i in w.lot_x["items"]
                if i["verdict"] not in (None, "deforestation_free"))  # fmt: skip


def _photo(w: World) -> dict[str, Any]:
    from tests.photos import jpeg

    return {"files": {"file": ("finca.jpg", jpeg(X0, Y0), "image/jpeg")},
            "data": {"kind": "photo"}}  # fmt: skip


def _evidence_id(w: World) -> dict[str, Any]:
    key = _doubtful_key(w)
    made = w.call("tech_a", "POST", f"/api/plots/{key}/evidence", **_photo(w))
    assert made.status_code == 201, made.text
    return {"plot_key": key, "evidence_id": made.json()["id"]}


def _lot_to_trim(w: World) -> dict[str, Any]:
    plots = [p["id"] for p in w.plots_a[10:12]]
    body = {"reference": f"LOT-TRIM-{next(_serial)}", "commodity": "coffee", "hs_code": "0901",
            "net_mass_kg": 10.0, "plots": plots}  # fmt: skip
    made = w.call("exp_x", "POST", "/api/lots", json=body)
    assert made.status_code == 201, made.text
    return {"lot_id": made.json()["id"]}


def _trim(w: World) -> dict[str, Any]:
    return {"json": {"plots": [w.plots_a[10]["plot_id"]], "reason": "sold to another buyer"}}


ENDPOINTS = [
    Endpoint("GET", "/healthz", 200, EVERYONE, public=True),
    Endpoint("GET", "/api/me", 200, EVERYONE),
    Endpoint("GET", "/api/organisations", 200, ADMIN),
    Endpoint("POST", "/api/organisations", 201, ADMIN,
             request=lambda w: {"json": {"name": f"Org {next(_serial)}", "kind": "exporter"}}),
    Endpoint("GET", "/api/tokens", 200, ADMIN),
    Endpoint("POST", "/api/tokens", 201, ADMIN,
             request=lambda w: {"json": {"name": "table", "role": "admin"}}),
    Endpoint("DELETE", "/api/tokens/{token_id}", 204, ADMIN, params=_spare_token),
    Endpoint("GET", "/api/exporters", 200, TECH),
    Endpoint("GET", "/api/shares", 200, MEMBERS),
    Endpoint("PUT", "/api/shares/{exporter_id}", 204, TECH,
             params=lambda w: {"exporter_id": w.orgs["Z"]}),
    Endpoint("DELETE", "/api/shares/{exporter_id}", 204, TECH,
             params=lambda w: {"exporter_id": w.orgs["Z"]},
             setup=lambda w: w.registry.share(w.orgs["A"], w.orgs["Z"])),
    Endpoint("POST", "/api/uploads", 201, TECH, request=_sample_upload),
    Endpoint("GET", "/api/uploads", 200, TECH),
    Endpoint("GET", "/api/uploads/{upload_id}", 200, TECH,
             params=lambda w: {"upload_id": w.upload_a["id"]}),
    Endpoint("GET", "/api/plots", 200, MEMBERS),
    Endpoint("GET", "/api/plots/geojson", 200, MEMBERS),
    Endpoint("GET", "/api/plots/{plot_key}", 200, MEMBERS,
             params=lambda w: {"plot_key": w.plots_a[0]["id"]}),
    Endpoint("GET", "/api/plots/{plot_key}/map.png", 200, MEMBERS,
             params=lambda w: {"plot_key": w.plots_a[0]["id"]}),
    Endpoint("POST", "/api/lots", 201, EXP, request=_new_lot),
    Endpoint("GET", "/api/lots", 200, EXP),
    Endpoint("GET", "/api/lots/{lot_id}", 200, EXP, params=lambda w: {"lot_id": w.lot_x["id"]}),
    Endpoint("GET", "/api/lots/{lot_id}/bundle", 200, EXP,
             params=lambda w: {"lot_id": w.lot_x["id"]}),
    Endpoint("GET", "/api/lots/{lot_id}/dds", 200, EXP, params=lambda w: {"lot_id": w.lot_x["id"]}),
    Endpoint("POST", "/api/lots/{lot_id}/overrides", 204, EXP,
             params=lambda w: {"lot_id": w.lot_x["id"]},
             request=lambda w: {"json": {"plot_id": _doubtful_in_lot(w),
                                         "reason": "shade coffee since 2012"}}),
    Endpoint("GET", "/api/plots/{plot_key}/evidence", 200, MEMBERS,
             params=lambda w: {"plot_key": _doubtful_key(w)}),
    Endpoint("POST", "/api/plots/{plot_key}/evidence", 201, MEMBERS,
             params=lambda w: {"plot_key": _doubtful_key(w)}, request=_photo),
    Endpoint("GET", "/api/plots/{plot_key}/evidence/{evidence_id}", 200, MEMBERS,
             params=_evidence_id),
    Endpoint("GET", "/api/plots/{plot_key}/reviews", 200, MEMBERS,
             params=lambda w: {"plot_key": _doubtful_key(w)}),
    Endpoint("POST", "/api/plots/{plot_key}/reviews", 201, MEMBERS,
             params=lambda w: {"plot_key": _doubtful_key(w)},
             request=lambda w: {"json": {"action": "proposed",
                                         "reasons": ["agroforestry_before_2021"]}}),
    Endpoint("GET", "/api/reviews", 200, MEMBERS),
    Endpoint("GET", "/api/news", 200, MEMBERS),
    Endpoint("GET", "/api/lots/{lot_id}/conclusion", 200, EXP,
             params=lambda w: {"lot_id": w.lot_x["id"]}),
    Endpoint("POST", "/api/lots/{lot_id}/take-out", 200, EXP, params=_lot_to_trim,
             request=_trim),
    # This world has no EU credentials: filing answers 409 eu_not_configured, after the role
    # check (tests/test_dds_api.py files against the local stand-in of the EU system).
    Endpoint("POST", "/api/lots/{lot_id}/dds", 409, EXP, params=lambda w: {"lot_id": w.lot_x["id"]},
             request=lambda w: {"json": {"activity": "IMPORT"}}),
    Endpoint("POST", "/api/lots/{lot_id}/dds/refresh", 409, EXP,
             params=lambda w: {"lot_id": w.lot_x["id"]}),
    Endpoint("POST", "/api/lots/{lot_id}/dds/{dds_id}/withdraw", 409, EXP,
             params=lambda w: {"lot_id": w.lot_x["id"], "dds_id": 1}),
    Endpoint("POST", "/api/dds/verify", 409, EXP,
             request=lambda w: {"json": {"reference_number": "26DEIRGXDEPBQU",
                                         "verification_number": "SVMR7BHI"}}),
]  # fmt: skip


def _flat_routes(routes: list[Any]) -> Iterator[tuple[str, Any]]:
    """(full path, route) of every route, through included routers (FastAPI 0.150+ keeps them
    as one entry per router, whose contexts carry the prefixed paths)."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            for ctx in route.effective_route_contexts():
                yield ctx.path, ctx.original_route
        else:
            yield getattr(route, "path", ""), route


def api_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every JSON API route the app serves."""
    out = set()
    for path, route in _flat_routes(app.routes):
        if isinstance(route, APIRoute) and (path == "/healthz" or path.startswith("/api")):
            out.update((m, path) for m in route.methods - {"HEAD", "OPTIONS"})
    return out


def test_the_table_covers_every_api_route(world: World) -> None:
    """A new endpoint without a row here fails the suite."""
    table = {(e.method, e.path) for e in ENDPOINTS}
    served = api_routes(world.app)
    assert served - table == set(), "endpoints without a role test"
    assert table - served == set(), "rows for endpoints that no longer exist"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
def test_every_endpoint_for_every_role(world: World, endpoint: Endpoint, role: str) -> None:
    if endpoint.setup is not None:
        endpoint.setup(world)
    path = endpoint.path.format(**endpoint.params(world))
    r = world.call(PLAYER[role], endpoint.method, path, **endpoint.request(world))
    assert r.status_code == endpoint.expected(role), r.text
    if r.status_code in (401, 403):
        body = r.json()
        assert body["code"] == ("unauthorised" if r.status_code == 401 else "forbidden")
        assert body["message"]["es"] and body["message"]["en"]
    if r.status_code == 401:
        assert r.headers["www-authenticate"] == "Bearer"


# what each organisation sees --------------------------------------------------------------------


def _keys(items: list[dict[str, Any]]) -> set[int]:
    return {p["id"] for p in items}


def test_technicians_see_only_their_own_plots(world: World) -> None:
    a, b = world.orgs["A"], world.orgs["B"]
    assert len(world.plots_a) == 74 and {p["organisation_id"] for p in world.plots_a} == {a}
    assert len(world.plots_b) == 2 and {p["organisation_id"] for p in world.plots_b} == {b}
    assert not _keys(world.plots_a) & _keys(world.plots_b)
    # The same plot ID in two cooperatives is two plots; a search finds only one's own.
    found = world.get("tech_b", "/api/plots", params={"q": "JAE-001"}).json()
    assert [(p["plot_id"], p["organisation_id"]) for p in found["items"]] == [("JAE-001", b)]
    assert world.get("tech_b", "/api/plots", params={"organisation_id": a}).json()["total"] == 0


def test_a_cooperative_asking_for_anothers_plot_or_upload_gets_404(world: World) -> None:
    plot_a, upload_a = world.plots_a[0]["id"], world.upload_a["id"]
    for template, key in (("/api/plots/{}", plot_a), ("/api/plots/{}/map.png", plot_a),
                          ("/api/uploads/{}", upload_a)):  # fmt: skip
        path = template.format(key)
        missing = world.get("tech_b", template.format(MAX_ID))
        r = world.get("tech_b", path)
        assert r.status_code == 404 and missing.status_code == 404
        # Exactly the answer for something that does not exist: ids reveal nothing.
        assert r.json() == missing.json()
        assert world.get("tech_a", path).status_code == 200
    assert world.upload_b["id"] not in {u["id"] for u in world.get("tech_a", "/api/uploads").json()}
    assert {u["id"] for u in world.get("tech_b", "/api/uploads").json()} == {world.upload_b["id"]}


def test_an_exporter_sees_exactly_what_was_shared_with_it(world: World) -> None:
    page = world.get("exp_x", "/api/plots", params={"limit": 1000}).json()
    assert _keys(page["items"]) == _keys(world.plots_a)
    assert page["counts"] == SAMPLE_COUNTS
    shared = world.get("exp_x", "/api/shares").json()
    assert [o["id"] for o in shared] == [world.orgs["A"]]
    assert world.get("exp_x", f"/api/plots/{world.plots_a[3]['id']}").status_code == 200
    assert world.get("exp_x", f"/api/plots/{world.plots_b[0]['id']}").status_code == 404
    features = world.get("exp_x", "/api/plots/geojson", params={"limit": 1000}).json()["features"]
    assert {f["properties"]["id"] for f in features} == _keys(world.plots_a)


def test_an_exporter_nothing_was_shared_with_sees_nothing(world: World) -> None:
    page = world.get("exp_y", "/api/plots").json()
    assert page == {"total": 0, "counts": {}, "items": [], "next_after": None}
    assert world.get("exp_y", "/api/plots/geojson").json()["features"] == []
    assert world.get("exp_y", "/api/shares").json() == []
    assert world.get("exp_y", "/api/lots").json() == []
    for plot in world.plots_a[:3] + world.plots_b:
        assert world.get("exp_y", f"/api/plots/{plot['id']}").status_code == 404
        assert world.get("exp_y", f"/api/plots/{plot['id']}/map.png").status_code == 404
    lot = world.lot_x["id"]
    for path in (f"/api/lots/{lot}", f"/api/lots/{lot}/bundle"):
        r = world.get("exp_y", path)
        assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_sharing_and_unsharing_decide_what_an_exporter_sees(world: World) -> None:
    c, z = world.orgs["C"], world.orgs["Z"]
    files = {
        "file": ("c.geojson", geojson_bytes(feature(poly(square(X0 + 0.09, Y0)), plot_id="C-1")))
    }
    assert world.call("tech_c", "POST", "/api/uploads", files=files).status_code == 201
    world.wait()
    plots_c = world.get("tech_c", "/api/plots").json()["items"]
    assert [p["plot_id"] for p in plots_c] == ["C-1"]
    assert world.call("tech_c", "PUT", f"/api/shares/{z}").status_code == 204
    assert world.call("tech_c", "PUT", f"/api/shares/{z}").status_code == 204  # idempotent
    seen = world.get("exp_z", "/api/plots", params={"organisation_id": c}).json()["items"]
    assert _keys(seen) == _keys(plots_c)
    lot = {"reference": "Z-1", "commodity": "coffee", "hs_code": "0901", "net_mass_kg": 10,
           "plots": [plots_c[0]["id"]]}  # fmt: skip
    made = world.call("exp_z", "POST", "/api/lots", json=lot)
    assert made.status_code == 201, made.text
    assert world.call("tech_c", "DELETE", f"/api/shares/{z}").status_code == 204
    assert world.call("tech_c", "DELETE", f"/api/shares/{z}").status_code == 404
    assert world.get("exp_z", "/api/plots", params={"organisation_id": c}).json()["total"] == 0
    assert world.get("exp_z", f"/api/plots/{plots_c[0]['id']}").status_code == 404
    # A lot already made is a record (the EUDR has operators keep due-diligence records for
    # five years): it keeps its plots, as they were, and its bundle; nothing newer is seen.
    kept = world.get("exp_z", f"/api/lots/{made.json()['id']}").json()
    assert [i["plot_id"] for i in kept["items"]] == ["C-1"]
    bundle = world.get("exp_z", f"/api/lots/{made.json()['id']}/bundle")
    assert bundle.status_code == 200 and bundle.headers["cache-control"] == "no-store"
    # Only exporters can be shared with; an unknown id reads like a cooperative's.
    for target in (world.orgs["B"], MAX_ID):
        r = world.call("tech_c", "PUT", f"/api/shares/{target}")
        assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_exporters_listed_to_technicians(world: World) -> None:
    listed = {o["id"]: o["kind"] for o in world.get("tech_a", "/api/exporters").json()}
    assert {world.orgs[k] for k in "XYZ"} <= set(listed)
    assert set(listed.values()) == {"exporter"}


def test_me_names_the_caller(world: World) -> None:
    me = world.get("tech_a", "/api/me").json()
    assert me == {"token_id": world.token_ids["tech_a"], "name": "tech_a", "role": "technician",
                  "organisation_id": world.orgs["A"], "organisation_name": "Org A"}  # fmt: skip
    admin = world.get("admin", "/api/me").json()
    assert admin["role"] == "admin" and admin["organisation_id"] is None


# tokens and revocation ---------------------------------------------------------------------------


def test_a_revoked_token_gets_401(world: World) -> None:
    r = world.get("revoked", "/api/me")
    assert r.status_code == 401 and r.json()["code"] == "unauthorised"
    listed = {t["id"]: t for t in world.get("admin", "/api/tokens").json()}
    assert listed[world.token_ids["revoked"]]["revoked_at"] is not None
    assert listed[world.token_ids["tech_a"]]["revoked_at"] is None
    # The same secret in the pages' cookie is refused too.
    for who, status in (("revoked", 401), ("tech_a", 200)):
        cookie = {"Cookie": f"eudr_token={world.secrets[who]}"}
        assert world.client.get("/api/me", headers=cookie).status_code == status


def test_revoking_through_the_api_is_immediate_and_idempotent(world: World) -> None:
    body = {"name": "short-lived", "role": "technician", "organisation_id": world.orgs["C"]}
    made = world.call("admin", "POST", "/api/tokens", json=body).json()
    auth = {"Authorization": f"Bearer {made['token']}"}
    assert world.client.get("/api/me", headers=auth).status_code == 200
    for _ in range(2):
        assert world.call("admin", "DELETE", f"/api/tokens/{made['id']}").status_code == 204
    assert world.client.get("/api/me", headers=auth).status_code == 401
    gone = world.call("admin", "DELETE", f"/api/tokens/{MAX_ID}")
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"
    for bad in ("0", "-1", str(MAX_ID + 1), "abc"):
        assert world.call("admin", "DELETE", f"/api/tokens/{bad}").status_code == 422


def test_revoking_with_the_cli(world: World) -> None:
    body = {"name": "cli", "role": "exporter", "organisation_id": world.orgs["Y"]}
    made = world.call("admin", "POST", "/api/tokens", json=body).json()
    auth = {"Authorization": f"Bearer {made['token']}"}
    assert world.client.get("/api/me", headers=auth).status_code == 200
    env = {**os.environ, "EUDR_CHECK_REGISTRY_URL": world.url}
    cli = [sys.executable, "-m", "eudr_check.cli", "admin", "revoke-token"]
    done = subprocess.run([*cli, str(made["id"])], capture_output=True, text=True, env=env,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert world.client.get("/api/me", headers=auth).status_code == 401
    unknown = subprocess.run([*cli, str(MAX_ID)], capture_output=True, text=True, env=env,
                             timeout=120)  # fmt: skip
    assert unknown.returncode == 2 and str(MAX_ID) in unknown.stderr


def test_token_secrets_are_shown_once_and_stored_hashed(world: World) -> None:
    body = {"name": "once", "role": "exporter", "organisation_id": world.orgs["X"]}
    r = world.call("admin", "POST", "/api/tokens", json=body)
    assert r.status_code == 201
    made = r.json()
    secret = made["token"]
    assert secret.startswith("eudr_") and len(secret) > 40
    assert made["role"] == "exporter" and made["organisation_name"] == "Org X"
    listing = world.get("admin", "/api/tokens")
    assert secret not in listing.text
    assert all("token" not in t for t in listing.json())
    assert made["id"] in {t["id"] for t in listing.json()}
    with world.registry.engine.connect() as conn:
        stored = conn.execute(sa.select(ApiToken.token_hash).where(ApiToken.id == made["id"]))
        token_hash = stored.scalar_one()
    assert token_hash != secret and secret not in token_hash and len(token_hash) == 64
    me = world.client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["token_id"] == made["id"] and me["organisation_id"] == world.orgs["X"]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"role": "technician", "org": "X"}, "a technician token needs a cooperative"),
        ({"role": "exporter", "org": "A"}, "an exporter token needs an exporter"),
        ({"role": "admin", "org": "A"}, "admin tokens belong to no organisation"),
        ({"role": "technician", "org": None}, "a technician token needs an organisation"),
        ({"role": "exporter", "org": MAX_ID}, "an unknown organisation"),
    ],
)
def test_token_role_must_fit_the_organisation(world: World, body: dict[str, Any], why: str) -> None:
    org = body["org"]
    org_id = world.orgs[org] if isinstance(org, str) else org
    request = {"name": "bad", "role": body["role"], "organisation_id": org_id}
    r = world.call("admin", "POST", "/api/tokens", json=request)
    assert r.status_code == 422, why
    assert r.json()["code"] == "refused" and r.json()["message"]["es"], why


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "role": "root"},
        {"name": "", "role": "admin"},
        {"name": "x" * 201, "role": "admin"},
        {"name": "x", "role": "admin", "extra": 1},
        {"name": "nul\x00", "role": "admin"},
        {"name": "x", "role": "technician", "organisation_id": MAX_ID + 1},
        {"name": "x", "role": "technician", "organisation_id": 2**70},
    ],
)
def test_invalid_token_requests_are_422_with_both_languages(
    world: World, body: dict[str, Any]
) -> None:
    r = world.call("admin", "POST", "/api/tokens", json=body)
    assert r.status_code == 422, r.text
    doc = r.json()
    assert doc["code"] == "invalid_request" and isinstance(doc["detail"], list)
    assert doc["message"]["es"].startswith("Datos de la solicitud no válidos")
    assert doc["message"]["en"].startswith("Invalid request data")


def test_refusals_that_echo_odd_input_still_render(world: World) -> None:
    """Regression: a 422 repeating NaN or a lone surrogate back failed to render (500)."""
    raw = {"Content-Type": "application/json"}
    nan = (b'{"reference": "R", "commodity": "coffee", "hs_code": "0901", "net_mass_kg": NaN, '
           b'"plots": [1]}')  # fmt: skip
    r = world.call("exp_x", "POST", "/api/lots", content=nan, headers=raw)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "net_mass_kg"]
    surrogate = b'{"name": "Coop \\ud800", "kind": "cooperative"}'
    r = world.call("admin", "POST", "/api/organisations", content=surrogate, headers=raw)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]
    broken = b'{"name": "Coop \xff", "kind": "cooperative"}'  # not UTF-8
    assert world.call("admin", "POST", "/api/organisations", content=broken,
                      headers=raw).status_code in (400, 422)  # fmt: skip


# organisations ----------------------------------------------------------------------------------


def test_admin_manages_organisations(world: World) -> None:
    listed = {
        o["id"]: (o["name"], o["kind"]) for o in world.get("admin", "/api/organisations").json()
    }
    assert listed[world.orgs["A"]] == ("Org A", "cooperative")
    assert listed[world.orgs["X"]] == ("Org X", "exporter")
    name = "Cooperativa Señor de Huamantanga"
    made = world.call(
        "admin", "POST", "/api/organisations", json={"name": name, "kind": "cooperative"}
    )
    assert made.status_code == 201
    org = made.json()
    assert org["name"] == name and org["created_at"]
    assert org["id"] in {o["id"] for o in world.get("admin", "/api/organisations").json()}
    for bad in ({"name": "x", "kind": "importer"}, {"name": "", "kind": "exporter"},
                {"name": "a\x00b", "kind": "exporter"}, {"name": "x"},
                {"name": "x", "kind": "exporter", "id": 5}):  # fmt: skip
        assert world.call("admin", "POST", "/api/organisations", json=bad).status_code == 422


# lots and bundles --------------------------------------------------------------------------------


def _lot(w: World, plots: list[int], **changes: Any) -> Any:
    body = {"reference": f"LOT-{next(_serial)}", "commodity": "coffee", "hs_code": "0901",
            "net_mass_kg": 1000.0, "plots": plots, **changes}  # fmt: skip
    return w.call("exp_x", "POST", "/api/lots", json=body)


def test_a_lot_lists_its_plots_with_their_verdicts(world: World) -> None:
    lot = world.lot_x
    chosen = world.plots_a[:5]
    assert lot["reference"] == "LOT-X-1" and lot["plots"] == 5 and lot["hs_code"] == "090111"
    assert [i["plot_id"] for i in lot["items"]] == [p["plot_id"] for p in chosen]
    assert [i["version_id"] for i in lot["items"]] == [p["version_id"] for p in chosen]
    assert [i["verdict"] for i in lot["items"]] == [p["verdict"] for p in chosen]
    assert {i["organisation_name"] for i in lot["items"]} == {"Org A"}
    assert lot["verdicts"] == dict(Counter(p["verdict"] for p in chosen))
    assert world.get("exp_x", f"/api/lots/{lot['id']}").json() == lot
    listed = {x["id"]: x for x in world.get("exp_x", "/api/lots").json()}
    assert "items" not in listed[lot["id"]]
    assert listed[lot["id"]] == {k: v for k, v in lot.items() if k != "items"}


@pytest.mark.parametrize(
    ("commodity", "hs_code", "status"),
    [
        ("coffee", "0901", 201),
        ("coffee", "09012100", 201),
        ("coffee", "210111", 201),
        ("cocoa", "1806", 201),
        ("coffee", "1801", 422),
        ("cocoa", "0901", 422),
        ("coffee", "4401", 422),
    ],
)
def test_hs_code_must_fit_the_commodity(
    world: World, commodity: str, hs_code: str, status: int
) -> None:
    r = _lot(world, [world.plots_a[0]["id"]], commodity=commodity, hs_code=hs_code)
    assert r.status_code == status, r.text
    if status == 422:
        doc = r.json()
        assert doc["code"] == "hs_code" and hs_code in doc["message"]["es"]
        assert hs_code in doc["message"]["en"] and commodity in doc["message"]["en"]


@pytest.mark.parametrize("hs_code", ["09", "0901x", "090", "0901234", "090112345", "٠٩٠١"])
def test_malformed_hs_codes_are_refused(world: World, hs_code: str) -> None:
    r = _lot(world, [world.plots_a[0]["id"]], hs_code=hs_code)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"


def test_unknown_and_unshared_plots_are_refused_alike(world: World) -> None:
    theirs = world.plots_b[0]["id"]  # B never shared with X
    unshared = _lot(world, [world.plots_a[0]["id"], theirs])
    unknown = _lot(world, [world.plots_a[0]["id"], MAX_ID])
    assert unshared.status_code == unknown.status_code == 422
    assert unshared.json()["code"] == unknown.json()["code"] == "unknown_plots"
    # The same words: nothing says whether the plot exists elsewhere.
    a = unshared.json()["message"]["en"].replace(str(theirs), "N")
    b = unknown.json()["message"]["en"].replace(str(MAX_ID), "N")
    assert a == b == "Plots unknown or not shared with you: N."
    before = {x["id"] for x in world.get("exp_x", "/api/lots").json()}
    assert _lot(world, [0]).status_code == 422
    assert _lot(world, []).status_code == 422
    assert _lot(world, [MAX_ID + 1]).status_code == 422
    assert _lot(world, [world.plots_a[0]["id"]], net_mass_kg=0).status_code == 422
    assert {x["id"] for x in world.get("exp_x", "/api/lots").json()} == before


def test_a_duplicate_reference_is_409(world: World) -> None:
    plots = [world.plots_a[0]["id"]]
    first = _lot(world, plots, reference="DUP-1")
    assert first.status_code == 201
    again = _lot(world, plots, reference="DUP-1")
    assert again.status_code == 409 and again.json()["code"] == "duplicate_reference"
    assert "DUP-1" in again.json()["message"]["es"]
    # References are per exporter: Z may use the same one (with plots shared with Z).
    world.registry.share(world.orgs["A"], world.orgs["Z"])
    try:
        body = {"reference": "DUP-1", "commodity": "coffee", "hs_code": "0901",
                "net_mass_kg": 1, "plots": plots}  # fmt: skip
        assert world.call("exp_z", "POST", "/api/lots", json=body).status_code == 201
    finally:
        world.registry.unshare(world.orgs["A"], world.orgs["Z"])


def test_the_same_bundle_twice_is_the_same_bytes(world: World, tmp_path: Path) -> None:
    path = f"/api/lots/{world.lot_x['id']}/bundle"
    first = world.get("exp_x", path)
    second = world.get("exp_x", path)
    assert first.status_code == second.status_code == 200, first.text
    assert first.headers["content-type"] == "application/zip"
    assert first.content == second.content and len(first.content) > 1000
    disposition = first.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="lot-') and disposition.endswith('.zip"')
    saved = tmp_path / "bundle.zip"
    saved.write_bytes(first.content)
    check = verify_bundle(saved)
    assert check.ok, [p.message_en for p in check.problems]
    assert check.lot_id == world.lot_x["id"] and check.reference == "LOT-X-1"
    assert check.files_checked > 3
    english = world.get("exp_x", path, params={"lang": "en"})
    assert english.status_code == 200 and english.content != first.content
    assert world.get("exp_x", path, params={"lang": "fr"}).status_code == 422


def test_a_bundle_waits_for_plots_without_a_verdict(world: World, tmp_path: Path) -> None:
    """Plots registered without a check (as a flow or another service might): the bundle is
    refused with Retry-After and a check is queued; once it ran the bundle comes."""
    from eudr_check.intake import read_plots
    from eudr_check.rules import validate

    c, x = world.orgs["C"], world.orgs["X"]
    source = tmp_path / "sin_verificar.geojson"
    source.write_bytes(geojson_bytes(feature(poly(square(X0 + 0.2, Y0)), plot_id="C-NEW")))
    world.registry.register_upload(c, validate(read_plots(source), fix=True), source.name, "0" * 64)
    world.registry.share(c, x)
    try:
        page = world.get("exp_x", "/api/plots", params={"organisation_id": c, "q": "C-NEW"})
        [plot] = page.json()["items"]
        assert plot["verdict"] is None
        made = _lot(world, [plot["id"], world.plots_a[0]["id"]])
        assert made.status_code == 201
        assert made.json()["verdicts"]["unchecked"] == 1
        path = f"/api/lots/{made.json()['id']}/bundle"
        refused = world.get("exp_x", path)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "not_ready" and refused.headers["retry-after"] == "30"
        assert "C-NEW" in refused.json()["message"]["es"]
        world.wait()
        ready = world.get("exp_x", path)
        assert ready.status_code == 200, ready.text
        assert ready.content == world.get("exp_x", path).content
    finally:
        world.registry.unshare(c, x)


# health -----------------------------------------------------------------------------------------


def test_healthz(world: World) -> None:
    r = world.client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["version"]


def test_the_openapi_schema_lists_every_api_route(world: World) -> None:
    doc = world.client.get("/openapi.json").json()
    listed = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert api_routes(world.app) <= listed
    assert "Bearer" in doc["info"]["description"]


# cross-site requests and response headers ---------------------------------------------------------


def test_a_cookie_post_from_another_site_is_refused_and_a_bearer_one_is_not(
    world: World,
) -> None:
    cookie = {"Cookie": f"eudr_token={world.secrets['tech_a']}"}
    data = geojson_bytes(feature(poly(square()), plot_id="CSRF-1"))
    evil = {**cookie, "Origin": "http://evil.example"}
    r = world.client.post("/api/uploads", headers=evil, files={"file": ("a.geojson", data)})
    assert r.status_code == 403 and r.json()["code"] == "cross_site"
    assert r.json()["message"]["es"] and r.json()["message"]["en"]
    referer = {**cookie, "Referer": "https://evil.example/page"}
    assert world.client.put(f"/api/shares/{world.orgs['X']}", headers=referer).status_code == 403
    null = {**cookie, "Origin": "null"}  # a sandboxed frame or a file: page
    assert world.client.put(f"/api/shares/{world.orgs['X']}", headers=null).status_code == 403
    same = {**cookie, "Origin": "http://testserver"}
    assert world.client.put(f"/api/shares/{world.orgs['X']}", headers=same).status_code == 204
    # A bearer token is no ambient credential: another Origin does not matter.
    bearer = {**world.headers("tech_a"), "Origin": "http://evil.example"}
    assert world.client.put(f"/api/shares/{world.orgs['X']}", headers=bearer).status_code == 204
    # The pages refuse the same with their own 403 page.
    page = world.client.post("/signout", headers=evil)
    assert page.status_code == 403 and "text/html" in page.headers["content-type"]


def test_api_responses_are_not_stored_or_sniffed(world: World) -> None:
    for r in (world.get("tech_a", "/api/me"), world.get("tech_a", "/api/plots"),
              world.get(None, "/api/me")):  # fmt: skip
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-content-type-options"] == "nosniff"
