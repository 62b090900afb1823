"""Plot listings in SQL: keyset pages stay stable while plots are added, and filters, counts
and the pointers behind them (current version, newest result) hold on both databases."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from eudr_check.intake import read_plots
from eudr_check.rules import validate
from eudr_check.store import Registry
from tests.pg import fresh_database, pg_url

WEST, NORTH, STEP = -78.94, -5.32, 0.0011


def _file(path: Path, prefix: str, n: int, start: int = 0) -> Path:
    features = []
    for i in range(start, start + n):
        x, y = WEST + (i % 100) * STEP, NORTH - (i // 100) * STEP
        ring = [[x, y], [x + 0.0005, y], [x + 0.0005, y - 0.0005], [x, y - 0.0005], [x, y]]
        features.append({"type": "Feature", "properties": {"plot_id": f"{prefix}-{i:05d}",
                         "ProducerName": f"Socio {i}", "ProducerCountry": "PE"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _register(reg: Registry, org: int, path: Path) -> None:
    table = read_plots(path)
    reg.register_upload(org, validate(table, fix=True), path.name, table.sha256)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'r.db'}"
        return
    server = pg_url()
    with fresh_database(server, postgis=False) as db:
        yield db


def test_keyset_pages_are_stable_while_plots_are_added(url: str, tmp_path: Path) -> None:
    with Registry.open(url) as reg:
        org = reg.create_organisation("Coop", "cooperative")
        _register(reg, org, _file(tmp_path / "a.geojson", "A", 450))
        first = {r["plot_id"] for r in reg.plot_listing([org], limit=1000).items}
        seen: list[str] = []
        after = None
        added = threading.Thread(
            target=_register, args=(reg, org, _file(tmp_path / "b.geojson", "B", 300, 450))
        )
        while True:
            page = reg.plot_listing([org], after=after, limit=100)
            seen += [r["plot_id"] for r in page.items]
            if after is None:
                added.start()  # plots arrive while the pages are read
            if len(page.items) < 100:
                break
            after = page.items[-1]["plot_key"]
        added.join()
    assert len(seen) == len(set(seen))  # nothing twice
    assert first <= set(seen)  # nothing that was there skipped
    assert set(seen) - first <= {f"B-{i:05d}" for i in range(450, 750)}


def test_filters_counts_and_a_new_version_in_sql(url: str, tmp_path: Path) -> None:
    with Registry.open(url) as reg:
        org = reg.create_organisation("Coop", "cooperative")
        other = reg.create_organisation("Otra", "cooperative")
        _register(reg, org, _file(tmp_path / "a.geojson", "A", 30))
        _register(reg, other, _file(tmp_path / "o.geojson", "O", 5))
        listing = reg.plot_listing([org], limit=10)
        assert listing.total == 30 and listing.counts == {"unchecked": 30}
        assert [r["plot_id"] for r in listing.items] == [f"A-{i:05d}" for i in range(10)]
        assert reg.plot_listing([org], q="a-0001").total == 10  # A-00010..A-00019
        assert reg.plot_listing([org], q="socio 2_").total == 0  # "_" is no wildcard
        assert reg.plot_listing([org], q="%").total == 0
        assert reg.plot_listing([org, other]).total == 35
        assert reg.plot_listing([org], verdict="unchecked", offset=25).items[0]["plot_id"] == \
            "A-00025"  # fmt: skip
        # A changed plot lists its new version, once.
        doc = json.loads((tmp_path / "a.geojson").read_text())
        doc["features"] = doc["features"][:1]
        doc["features"][0]["properties"]["ProducerName"] = "Socia Nueva"
        (tmp_path / "a2.geojson").write_text(json.dumps(doc))
        _register(reg, org, tmp_path / "a2.geojson")
        again = reg.plot_listing([org], q="A-00000")
        assert again.total == 1 and again.items[0]["version"] == 2
        assert again.items[0]["producer_name"] == "Socia Nueva"
        assert reg.plot_row(again.items[0]["plot_key"])["version"] == 2  # type: ignore[index]


def test_the_listing_copies_follow_results_versions_and_the_migration(
    url: str, tmp_path: Path
) -> None:
    """Counts, filters and search run on the plots' copies of their current status, producer
    and verdict: they follow checks and new versions, and migration 0007 rebuilds them."""
    import sqlalchemy as sa
    from alembic import command

    from eudr_check.datasets.catalog import load_catalog
    from eudr_check.datasets.sources import DataSources
    from eudr_check.engine import RegisteredPlots, RegistrySink, Reuse, run_check
    from eudr_check.store.migrate import alembic_config

    sources = DataSources(load_catalog(), Path(__file__).resolve().parents[1] / "sample_data")
    with Registry.open(url) as reg:
        org = reg.create_organisation("Coop", "cooperative")
        _register(reg, org, _file(tmp_path / "a.geojson", "A", 40))
        run_check(RegisteredPlots(reg, reg.current_versions(org), reuse=Reuse.MATCHING),
                  sources, sinks=[RegistrySink(reg)])  # fmt: skip
        # The counts agree with the newest results read the long way.
        expected: dict[str, int] = {}
        for row in reg.latest_results(org):
            expected[str(row["verdict"])] = expected.get(str(row["verdict"]), 0) + 1
        listing = reg.plot_listing([org])
        assert listing.counts == expected and sum(expected.values()) == 40
        some = max(expected, key=lambda v: expected[v])
        page = reg.plot_listing([org], verdict=some, limit=1000)
        assert page.total == expected[some] and {r["verdict"] for r in page.items} == {some}
        statuses = [r["status"] for r in reg.plot_listing([org], limit=1000).items]
        for status in ("ok", "warning", "error"):
            assert reg.plot_listing([org], status=status).total == statuses.count(status)
        # A new version of one plot: unchecked until checked, found under its new producer.
        doc = json.loads((tmp_path / "a.geojson").read_text())
        doc["features"] = doc["features"][:1]
        doc["features"][0]["properties"]["ProducerName"] = "Socia Nueva"
        (tmp_path / "a2.geojson").write_text(json.dumps(doc))
        _register(reg, org, tmp_path / "a2.geojson")
        assert reg.plot_listing([org], verdict="unchecked").total == 1
        assert reg.plot_listing([org], q="socia nueva").total == 1
        assert reg.plot_listing([org], q="Socio 0").total == 0  # the old name is not current
        run_check(RegisteredPlots(reg, reg.current_versions(org), reuse=Reuse.MATCHING),
                  sources, sinks=[RegistrySink(reg)])  # fmt: skip
        after = reg.plot_listing([org])
        assert "unchecked" not in after.counts and after.total == 40
    # Migration 0007 fills the copies of a registry made before it.
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0006")
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    finally:
        engine.dispose()
    with Registry.open(url) as reg:
        again = reg.plot_listing([org])
        assert again.counts == after.counts
        assert [r["verdict"] for r in again.items] == [r["verdict"] for r in after.items]
        assert reg.plot_listing([org], q="socia nueva").total == 1
