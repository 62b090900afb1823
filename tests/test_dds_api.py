"""Filing a lot's statement through the web API (SQLite and PostgreSQL registries), against the
local stand-in of the EU system: refused plots named, overrides recorded, filed once, numbers
polled, withdrawn; the lot from the CLI too, and the Prefect flow that polls pending ones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eudr_check.dds.client import TracesClient
from eudr_check.dds.double import TracesDouble
from tests.api_world import BACKENDS, World, world_fixture
from tests.test_dds_cli import run

USER, KEY = "eudr-user", "test-auth-key"
FILING = {
    "activity": "IMPORT",
    "country_of_activity": "DE",
    "border_cross_country": "NL",
    "description": "Café verde arábica, Jaén",
}


@pytest.fixture(scope="module")
def double() -> Iterator[TracesDouble]:
    with TracesDouble(users={USER: KEY}) as d:
        yield d


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, double: TracesDouble
) -> Iterator[World]:
    for w in world_fixture(request, tmp_path_factory.mktemp("dds-api")):
        w.app.state.traces = TracesClient(double.dds_url, double.verify_url, USER, KEY)
        yield w


def lot_path(w: World) -> str:
    return f"/api/lots/{w.lot_x['id']}"


def test_a_lot_is_filed_once_every_plot_accepted_and_its_numbers_polled(
    world: World, double: TracesDouble
) -> None:
    w = world
    items = w.get("exp_x", lot_path(w)).json()["items"]
    doubtful = [i["plot_id"] for i in items if i["verdict"] != "deforestation_free"]
    assert doubtful, "the world's lot is meant to hold plots that need a reason"
    refused = w.call("exp_x", "POST", f"{lot_path(w)}/dds", json=FILING)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "dds_refused" and all(p in body["detail"] for p in doubtful)

    for pid in doubtful:
        reason = {"plot_id": pid, "reason": "Field visit 2026-11-20: shade coffee since 2015"}
        ok = w.call("exp_x", "POST", f"{lot_path(w)}/overrides", json=reason)
        assert ok.status_code == 204, ok.text
    filed = w.call("exp_x", "POST", f"{lot_path(w)}/dds", json=FILING)
    assert filed.status_code == 201, filed.text
    (st,) = filed.json()
    assert st["status"] == "SUBMITTED" and st["uuid"] in double.statements
    assert st["plots"] == len(items)
    record = w.registry.dds_get(st["id"])
    assert record is not None and {o["plot_id"] for o in record.overrides} == set(doubtful)

    twice = w.call("exp_x", "POST", f"{lot_path(w)}/dds", json=FILING)
    assert twice.status_code == 422 and "already has filed statements" in twice.json()["detail"]

    polled = w.call("exp_x", "POST", f"{lot_path(w)}/dds/refresh")
    (st,) = polled.json()
    stored = double.statements[st["uuid"]]
    assert st["status"] == "AVAILABLE"
    assert (st["reference_number"], st["verification_number"]) == (
        stored.reference,
        stored.verification,
    )
    assert w.get("exp_x", f"{lot_path(w)}/dds").json() == [st]

    # Others cannot see or touch it.
    assert w.get("exp_y", f"{lot_path(w)}/dds").status_code == 404
    assert w.call("tech_a", "POST", f"{lot_path(w)}/dds", json=FILING).status_code == 403

    gone = w.call("exp_x", "POST", f"{lot_path(w)}/dds/{st['id']}/withdraw")
    assert gone.status_code == 200 and gone.json()["status"] == "WITHDRAWN"
    again = w.call("exp_x", "POST", f"{lot_path(w)}/dds", json=FILING)
    assert again.status_code == 201, again.text  # withdrawn: the lot may be filed anew


def test_filing_options_are_checked_and_verify_answers(world: World, double: TracesDouble) -> None:
    w = world
    bad = w.call(
        "exp_x", "POST", f"{lot_path(w)}/dds", json={**FILING, "country_of_activity": "PE"}
    )
    assert bad.status_code == 422
    unknown = w.call(
        "exp_x",
        "POST",
        "/api/dds/verify",
        json={"reference_number": "26DEAAAAAAAAAA", "verification_number": "ABCDEFGH"},
    )
    assert unknown.status_code == 200 and unknown.json()["result"] == "NON_EXISTENT"


def test_without_credentials_filing_is_explained(world: World) -> None:
    w = world
    saved = w.app.state.traces
    w.app.state.traces = None
    try:
        r = w.call("exp_x", "POST", f"{lot_path(w)}/dds/refresh")
    finally:
        w.app.state.traces = saved
    assert r.status_code == 409 and r.json()["code"] == "eu_not_configured"
    assert "EUDR_CHECK_TRACES_AUTH_KEY" in r.json()["detail"]


def _env(w: World, d: TracesDouble) -> dict[str, str]:
    return {
        "EUDR_CHECK_REGISTRY_URL": w.url,
        "EUDR_CHECK_TRACES_ENDPOINT": d.dds_url,
        "EUDR_CHECK_TRACES_USERNAME": USER,
        "EUDR_CHECK_TRACES_AUTH_KEY": KEY,
        "EUDR_CHECK_DATASETS": str(Path(__file__).resolve().parents[1] / "sample_data"),
    }


def test_the_cli_builds_a_registry_lot_with_its_recorded_overrides(
    world: World, double: TracesDouble, tmp_path: Path
) -> None:
    w = world
    out = tmp_path / "dds"
    done = run(
        "dds",
        "build",
        "--lot",
        str(w.lot_x["id"]),
        "--out",
        out,
        "--lang",
        "en",
        env=_env(w, double),
    )
    assert done.returncode == 0, done.stderr  # every plot accepted or overridden
    (xml,) = out.glob("lot-*.dds_001.xml")
    assert b"<dds:hsHeading>090111</dds:hsHeading>" in xml.read_bytes()
    assert f"{w.lot_x['id']}" in (out / "dds_build.json").read_text()


def test_the_flow_polls_pending_statements(
    world: World, double: TracesDouble, prefect_server: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.dds import poll_statements

    w = world
    pending = [r for r in w.registry.dds_find(lot_id=w.lot_x["id"]) if r.status == "SUBMITTED"]
    assert pending, "the filing test leaves a submitted statement"
    for key, value in _env(w, double).items():
        monkeypatch.setenv(key, value)
    summary: dict[str, Any] = poll_statements(registry_url=w.url)
    assert summary["pending"] >= 1 and summary["numbered"] >= 1
    for r in pending:
        after = w.registry.dds_get(r.id)
        assert after is not None and after.status == "AVAILABLE" and after.reference_number
    assert os.environ["EUDR_CHECK_TRACES_USERNAME"] == USER
