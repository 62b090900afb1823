"""A populated web service for the API tests: real registry (SQLite file, or PostgreSQL with
EUDR_CHECK_TEST_PG_URL), the bundled sample rasters, the app under fastapi's TestClient.

    admin
    cooperative A  technician tech_a (and a revoked technician token), shares with exporter X;
                   uploads sample_plots/cooperativa.geojson (74 plots, one repeated ID)
    cooperative B  technician tech_b; uploads two plots of its own (one named JAE-001 like A's)
    cooperative C  technician tech_c: scratch cooperative for tests that change things
    exporters X, Y, Z  exp_x (sees A's plots, has a lot of 5), exp_y (nothing shared), exp_z
    reviewers          rev_a (cooperative A's own), rev_x (exporter X's: sees what A shares)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from eudr_check.api import create_app
from eudr_check.settings import Settings
from eudr_check.store import Registry
from tests.conftest import X0, Y0, feature, poly, square
from tests.pg import fresh_database, pg_url

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sample_data"
CATALOG = ROOT / "config" / "datasets.yaml"
SAMPLE = ROOT / "sample_plots" / "cooperativa.geojson"
BACKENDS = ("sqlite", "postgresql")
CHECK_TIMEOUT = 120.0
# The sample cooperative as registered: 75 rows, SIG-020 twice (the second row is skipped).
SAMPLE_COUNTS = {
    "deforestation_detected": 6,
    "deforestation_free": 36,
    "needs_review": 24,
    "undetermined": 8,
}


def settings(url: str, **changes: Any) -> Settings:
    """The service's settings for a test: explicit, so no EUDR_CHECK_* variable leaks in."""
    base: dict[str, Any] = {
        "registry_url": url,
        "datasets": DATA,
        "catalog": CATALOG,
        "check_deployment": None,
        "rate_limit_per_minute": 100_000,
        "failed_auth_per_minute": 100_000,
    }
    return Settings(**{**base, **changes})


def geojson_bytes(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def coop_b_file() -> bytes:
    """Two ~1 ha plots of cooperative B, away from A's; one shares A's ID JAE-001."""
    x = X0 + 0.05
    return geojson_bytes(
        feature(poly(square(x, Y0)), plot_id="JAE-001", ProducerName="Beatriz Quispe", Area=1.0),
        feature(poly(square(x + 0.004, Y0)), plot_id="B-002", ProducerName="Braulio Rojas"),
    )


@dataclass
class World:
    backend: str
    url: str
    app: FastAPI
    client: TestClient
    secrets: dict[str, str]  # who -> token secret
    token_ids: dict[str, int]
    orgs: dict[str, int]  # "A", "B", "C", "X", "Y", "Z" -> organisation id
    upload_a: dict[str, Any] = field(default_factory=dict)
    upload_b: dict[str, Any] = field(default_factory=dict)
    plots_a: list[dict[str, Any]] = field(default_factory=list)
    plots_b: list[dict[str, Any]] = field(default_factory=list)
    lot_x: dict[str, Any] = field(default_factory=dict)

    @property
    def registry(self) -> Registry:
        reg: Registry = self.app.state.registry
        return reg

    def headers(self, who: str | None) -> dict[str, str]:
        """Authorization for `who` (a key of secrets); None: no token at all."""
        return {} if who is None else {"Authorization": f"Bearer {self.secrets[who]}"}

    def call(self, who: str | None, method: str, path: str, **kw: Any) -> Any:
        headers = {**self.headers(who), **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)

    def get(self, who: str | None, path: str, **kw: Any) -> Any:
        return self.call(who, "GET", path, **kw)

    def wait(self) -> None:
        self.app.state.checks.wait(CHECK_TIMEOUT)


def _ok(response: Any, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    """A new, empty registry URL on the backend (PostgreSQL: skipped without a server)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'registry.db'}"
        return
    with fresh_database(pg_url(), postgis=False) as url:
        yield url


@contextmanager
def build_world(backend: str, tmp: Path) -> Iterator[World]:
    with ExitStack() as stack:
        url = stack.enter_context(database(backend, tmp))
        # The first admin token comes from the registry itself (as `eudr-check admin` does).
        with Registry.open(url) as reg:
            admin_info, admin_secret = reg.create_token("admin", "root")
        app = create_app(settings(url))
        client = stack.enter_context(TestClient(app))
        w = World(backend, url, app, client, {"admin": admin_secret},
                  {"admin": admin_info.id}, {})  # fmt: skip
        for key, kind in (("A", "cooperative"), ("B", "cooperative"), ("C", "cooperative"),
                          ("X", "exporter"), ("Y", "exporter"), ("Z", "exporter")):  # fmt: skip
            body = {"name": f"Org {key}", "kind": kind}
            w.orgs[key] = _ok(w.call("admin", "POST", "/api/organisations", json=body), 201)["id"]
        for who, role, org in (("tech_a", "technician", "A"), ("tech_b", "technician", "B"),
                               ("tech_c", "technician", "C"), ("exp_x", "exporter", "X"),
                               ("exp_y", "exporter", "Y"), ("exp_z", "exporter", "Z"),
                               ("rev_a", "reviewer", "A"), ("rev_x", "reviewer", "X"),
                               ("revoked", "technician", "A")):  # fmt: skip
            body = {"name": who, "role": role, "organisation_id": w.orgs[org]}
            made = _ok(w.call("admin", "POST", "/api/tokens", json=body), 201)
            w.secrets[who], w.token_ids[who] = made["token"], made["id"]
        _ok(w.call("admin", "DELETE", f"/api/tokens/{w.token_ids['revoked']}"), 204)
        _ok(w.call("tech_a", "PUT", f"/api/shares/{w.orgs['X']}"), 204)
        with SAMPLE.open("rb") as fh:
            files = {"file": (SAMPLE.name, fh, "application/geo+json")}
            w.upload_a = _ok(w.call("tech_a", "POST", "/api/uploads", files=files), 201)
        files_b = {"file": ("fincas_b.geojson", coop_b_file())}
        w.upload_b = _ok(w.call("tech_b", "POST", "/api/uploads", files=files_b), 201)
        w.wait()
        w.plots_a = _ok(w.get("tech_a", "/api/plots", params={"limit": 1000}), 200)["items"]
        w.plots_b = _ok(w.get("tech_b", "/api/plots", params={"limit": 1000}), 200)["items"]
        lot = {"reference": "LOT-X-1", "commodity": "coffee", "hs_code": "090111",
               "net_mass_kg": 6900.0, "plots": [p["id"] for p in w.plots_a[:5]]}  # fmt: skip
        w.lot_x = _ok(w.call("exp_x", "POST", "/api/lots", json=lot), 201)
        yield w


def world_fixture(request: pytest.FixtureRequest, tmp: Path) -> Iterator[World]:
    with build_world(str(request.param), tmp) as w:
        yield w
