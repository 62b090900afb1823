"""The plot registry, on SQLite and PostgreSQL (plain and with PostGIS).

Every registry test runs once per backend; the PostgreSQL ones need EUDR_CHECK_TEST_PG_URL
(`export EUDR_CHECK_TEST_PG_URL=$(scripts/start_postgres.sh)`) and are skipped without it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from eudr_check.datasets.catalog import load_catalog
from eudr_check.engine import DataSources, check_report
from eudr_check.errors import StoreError
from eudr_check.intake import read_plots
from eudr_check.models import DatasetStats, PlotResult
from eudr_check.reasons import Reason, ReasonItem, Verdict, reason_message
from eudr_check.rules import ValidationReport, validate
from eudr_check.store import Registry, RunStatus, UploadSummary, default_url
from eudr_check.store.migrate import alembic_config, current_revision, schema_diff, upgrade
from eudr_check.store.schema import CheckRun, PlotResultRow, PlotVersion
from eudr_check.store.schema import Upload as UploadRow
from tests.conftest import X0, Y0, feature, poly, square
from tests.pg import fresh_database, pg_url
from tests.rasters import only_hansen, write_layer

BACKENDS = ("sqlite", "postgresql", "postgis")
TABLES = {"organisations", "shares", "uploads", "plots", "plot_versions", "check_runs",
          "plot_results", "lots", "lot_plots", "alembic_version"}  # fmt: skip
XS = [X0 + k * 0.004 for k in range(3)]


# fixtures -------------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    with fresh_database(pg_url(), postgis=backend == "postgis") as url:
        yield url


@pytest.fixture
def reg(db_url: str, backend: str) -> Iterator[Registry]:
    with Registry.open(db_url) as registry:
        if backend == "postgis" and not registry.has_postgis:
            pytest.skip("PostGIS is not installed on the test server: run start_postgres.sh")
        yield registry


Upload = Callable[..., tuple[UploadSummary, ValidationReport]]


@pytest.fixture
def upload(reg: Registry, write_geojson: Callable[..., Path]) -> Upload:
    """Write features to a file, validate it (fixed) and register it for an organisation."""

    def run(org: int, *features: dict[str, Any], name: str = "fincas.geojson") -> Any:
        path = write_geojson(*features, name=name)
        report = validate(read_plots(path), fix=True)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        return reg.register_upload(org, report, path.name, sha), report

    return run


def plots(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Three ~1 ha squares in Jaén (Peru); changes: plot_id -> properties or geometry."""
    out = []
    for k, x in enumerate(XS):
        pid = f"P{k + 1}"
        props: dict[str, Any] = {"plot_id": pid, "ProducerName": f"Productor {k + 1}",
                                 "Area": 1.0, "geometry": poly(square(x, Y0))}  # fmt: skip
        props.update(changes.get(pid, {}))
        geometry = props.pop("geometry")
        out.append(feature(geometry, **props))
    return out


def result(verdict: Verdict = Verdict.DEFORESTATION_FREE, pid: str = "P1") -> PlotResult:
    stats = DatasetStats("hansen_gfc", "v1.11", 1.02, 0.0, forest_2020_ha=0.0,
                         loss_after_cutoff_ha=0.0, loss_by_year=((2021, 0.0),))  # fmt: skip
    reasons = (ReasonItem(Reason.NO_FOREST_NO_LOSS, "hansen_gfc"),)
    return PlotResult(pid, verdict, reasons, (stats,), 1.02)


def count(reg: Registry, model: Any) -> int:
    with reg.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def _cells(values: Any) -> list[Any]:
    return [None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in values]


# migrations -----------------------------------------------------------------------------------


def test_open_migrates_an_empty_database_and_reopens(db_url: str, backend: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with Registry.open(db_url) as reg:
        assert set(sa.inspect(reg.engine).get_table_names()) >= TABLES
        with reg.engine.connect() as conn:
            assert current_revision(conn) == head
        assert reg.has_postgis is (backend == "postgis")
        org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    with Registry.open(db_url) as reg:  # already at head: nothing to do, data kept
        assert reg.create_organisation("Exportadora", "exporter") == org + 1
        with reg.engine.connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), "base")
        assert set(sa.inspect(reg.engine).get_table_names()) - {"spatial_ref_sys"} == {
            "alembic_version"
        }
        upgrade(reg.engine)
        assert set(sa.inspect(reg.engine).get_table_names()) >= TABLES


def test_migrated_schema_matches_the_orm(reg: Registry) -> None:
    with reg.engine.connect() as conn:
        assert schema_diff(conn) == []
    # ... and the comparison does see differences.
    with reg.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE lots ADD COLUMN stray INTEGER")
    with reg.engine.connect() as conn:
        diff = schema_diff(conn)
    assert [d[0] for d in diff] == ["remove_column"] and diff[0][3].name == "stray"


def test_postgis_keeps_a_geometry_column_in_step_with_the_wkb(
    write_geojson: Callable[..., Path],
) -> None:
    with fresh_database(pg_url(), postgis=True) as url, Registry.open(url) as reg:
        if not reg.has_postgis:
            pytest.skip("PostGIS is not installed on the test server: run start_postgres.sh")
        _postgis_checks(reg, write_geojson)


def _postgis_checks(reg: Registry, write_geojson: Callable[..., Path]) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    path = write_geojson(*plots())
    reg.register_upload(org, validate(read_plots(path), fix=True), path.name, "0" * 64)
    with reg.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, ST_SRID(geom), ST_AsBinary(geom), geometry_wkb FROM plot_versions")
        ).all()
        assert len(rows) == 3
        for _, srid, from_geom, wkb in rows:
            assert srid == 4326
            assert shapely.from_wkb(bytes(from_geom)).equals_exact(shapely.from_wkb(wkb), 0)
        hit = conn.execute(
            sa.text(
                "SELECT count(*) FROM plot_versions "
                "WHERE ST_Intersects(geom, ST_SetSRID(ST_Point(:x, :y), 4326))"
            ),
            {"x": XS[1] + 0.0004, "y": Y0 + 0.0004},
        ).scalar()
        assert hit == 1


# uploads and versions -------------------------------------------------------------------------


def test_register_upload_creates_plots_with_a_first_version(reg: Registry, upload: Upload) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    summary, report = upload(org, *plots())
    assert (summary.new_plots, summary.new_versions, summary.unchanged) == (3, 3, 0)
    assert summary.duplicates == 0 and summary.changed == 0
    assert len(reg.current_versions(org)) == 3
    (first,) = reg.history(org, "P1")
    assert first["version"] == 1 and first["file_name"] == "fincas.geojson"
    assert first["producer_name"] == "Productor 1" and first["declared_area_ha"] == 1.0
    assert first["results"] == [] and first["status"] == "ok"
    assert shapely.from_wkt(first["geometry_wkt"]).equals_exact(report.plots.geometry[0], 0)
    assert reg.history(org, "nope") == []


def test_the_same_file_again_changes_nothing(reg: Registry, upload: Upload) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    upload(org, *plots())
    before = reg.current_versions(org)
    summary, _ = upload(org, *plots())
    assert (summary.new_plots, summary.new_versions, summary.unchanged) == (0, 0, 3)
    assert reg.current_versions(org) == before
    assert count(reg, PlotVersion) == 3


def test_an_edited_geometry_makes_exactly_one_new_version(reg: Registry, upload: Upload) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    _, first = upload(org, *plots())
    old = reg.current_versions(org)
    moved = poly(square(XS[1] + 0.0001, Y0))
    summary, second = upload(org, *plots(P2={"geometry": moved}))
    assert (summary.new_plots, summary.new_versions, summary.unchanged) == (0, 1, 2)
    assert summary.changed == 1
    new = reg.current_versions(org)
    assert new[0] == old[0] and new[2] == old[2] and new[1] != old[1]
    v1, v2 = reg.history(org, "P2")
    assert (v1["version"], v2["version"]) == (1, 2) and v1["version_id"] == old[1]
    assert v2["upload_id"] == summary.upload_id
    # The old version is kept as it was.
    kept = reg.report_for([old[1]]).plots.geometry[0]
    assert kept.equals_exact(first.plots.geometry[1], 0)
    assert reg.report_for([new[1]]).plots.geometry[0].equals_exact(second.plots.geometry[1], 0)
    assert count(reg, PlotVersion) == 4


def test_an_edited_attribute_makes_a_new_version(reg: Registry, upload: Upload) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    upload(org, *plots())
    summary, _ = upload(org, *plots(P3={"ProducerName": "Otra Persona"}))
    assert (summary.new_versions, summary.unchanged) == (1, 2)
    assert [v["producer_name"] for v in reg.history(org, "P3")] == ["Productor 3", "Otra Persona"]


def test_a_repeated_plot_id_is_skipped_and_counted(reg: Registry, upload: Upload) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    features = [*plots(), feature(poly(square(XS[2] + 0.004, Y0)), plot_id="P1")]
    summary, report = upload(org, *features)
    assert (summary.new_plots, summary.new_versions, summary.duplicates) == (3, 3, 1)
    (p1,) = reg.history(org, "P1")
    assert shapely.from_wkt(p1["geometry_wkt"]).equals_exact(report.plots.geometry[0], 0)
    # The skipped row's duplicate_plot_id error is kept with the upload, not lost.
    with reg.engine.connect() as conn:
        kept = conn.scalar(sa.select(UploadRow.findings).where(UploadRow.id == summary.upload_id))
    assert [(f["code"], f["source_index"]) for f in kept] == [("duplicate_plot_id", 4)]
    # ... and does not come back with the registered plots.
    back = reg.report_for(reg.current_versions(org)).findings
    assert "duplicate_plot_id" not in {f.code.value for f in back}


def test_report_for_round_trips_plots_and_findings(reg: Registry, upload: Upload) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    features = [
        *plots(P2={"Area": 3.0}),  # area mismatch: a warning
        # 9 decimals: rounded to 6, the original kept in original_wkt
        feature({"type": "Point", "coordinates": [X0 + 0.02, Y0 - 0.001234567]}, plot_id="PT"),
        feature(None, plot_id="NONE"),  # geometry missing: an error
        feature(poly(square(XS[0], Y0)), plot_id="NOCTRY", ProducerCountry=None),
    ]
    _, report = upload(org, *features)
    assert report.findings, "the file should produce findings"
    back = reg.report_for(reg.current_versions(org))
    cols = ["plot_id", "producer_name", "producer_country", "production_place",
            "declared_area_ha", "commodity", "source_file", "source_layer", "source_index",
            "area_ha", "original_wkt", "status"]  # fmt: skip
    assert list(back.plots.columns) == [*cols[:9], "geometry", *cols[9:], "version_id"]
    for col in cols:
        assert _cells(back.plots[col]) == _cells(report.plots[col]), col
    assert back.plots.crs == report.plots.crs
    for a, b in zip(back.plots.geometry, report.plots.geometry, strict=True):
        assert (a is None and b is None) or a.equals_exact(b, 0)
    assert back.findings == report.findings
    assert back.fixed is True
    assert back.plots["version_id"].tolist() == reg.current_versions(org)


def test_registered_plots_run_through_check_plots(
    reg: Registry, upload: Upload, tmp_path: Path
) -> None:
    catalog = only_hansen(load_catalog())
    data_dir = tmp_path / "data"
    west, north = -78.8150, -5.7050  # a clip on the Hansen grid around the plots: no forest
    for layer in ("lossyear", "treecover2000"):
        values = np.zeros((40, 80), np.uint8)
        write_layer(catalog, data_dir, "hansen_gfc", layer, "00N_080W", values, west, north)
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    upload(org, *plots())
    report = reg.report_for(reg.current_versions(org))
    run = check_report(report, DataSources(catalog, data_dir))
    assert [r.verdict for r in run.results] == [Verdict.DEFORESTATION_FREE] * 3
    run_id = reg.start_run("check", run.record.tool_version, {"fingerprint": "fp-1"})
    items = [(int(v), "fp-1", r) for v, r in zip(report.plots["version_id"], run.results,
                                                  strict=True)]  # fmt: skip
    assert reg.record_results(run_id, items) == 3
    reg.finish_run(run_id, "done")
    versions = [v for v, _, _ in items]
    assert reg.results_for(versions) == dict(zip(versions, run.results, strict=True))
    latest = reg.latest_results(org)
    assert [x["verdict"] for x in latest] == ["deforestation_free"] * 3
    assert {x["reasons"][0]["code"] for x in latest} == {"no_forest_no_loss"}
    assert latest[0]["stats"][0]["dataset_id"] == "hansen_gfc"


# runs and results -----------------------------------------------------------------------------


def test_record_results_is_idempotent(reg: Registry, upload: Upload) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    upload(org, *plots())
    versions = reg.current_versions(org)
    items = [(v, "fp-1", result(pid=f"P{k + 1}")) for k, v in enumerate(versions)]
    killed = reg.start_run("nightly", "0.1.0", {"fp-1": 3})
    assert reg.record_results(killed, items[:2]) == 2  # ... and then the job died
    rerun = reg.start_run("nightly", "0.1.0", {"fp-1": 3})
    assert reg.record_results(rerun, items) == 1
    assert reg.record_results(rerun, items) == 0
    assert count(reg, PlotResultRow) == 3
    assert reg.record_results(rerun, [(versions[0], "fp-2", result())]) == 1
    assert count(reg, PlotResultRow) == 4
    assert reg.record_results(rerun, []) == 0
    reg.finish_run(killed, "failed")
    reg.finish_run(rerun, RunStatus.DONE)
    with reg.engine.connect() as conn:
        runs = conn.execute(sa.select(CheckRun.id, CheckRun.status, CheckRun.finished_at)).all()
    assert [(r[0], r[1]) for r in runs] == [(killed, "failed"), (rerun, "done")]
    assert all(r[2] is not None for r in runs)


def test_checked_tells_which_pairs_have_a_result(reg: Registry, upload: Upload) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    upload(org, *plots())
    v1, v2, v3 = reg.current_versions(org)
    run = reg.start_run("check", "0.1.0", {})
    reg.record_results(run, [(v1, "fp-1", result()), (v2, "fp-2", result())])
    asked = [(v1, "fp-1"), (v2, "fp-1"), (v3, "fp-1"), (v2, "fp-2")]
    assert reg.checked(asked) == {(v1, "fp-1"), (v2, "fp-2")}
    assert reg.checked([]) == set()
    many = [(v1, f"fp-{k}") for k in range(150)]  # more fingerprints than one IN (...) list
    assert reg.checked(many) == {(v1, "fp-1")}


def test_latest_results_shows_the_newest_result_per_current_version(
    reg: Registry, upload: Upload
) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    upload(org, *plots())
    v1, v2, _ = reg.current_versions(org)
    first = reg.start_run("check", "0.1.0", {}, uid="run-first")
    reg.record_results(first, [(v1, "fp-1", result()), (v2, "fp-1", result())])
    second = reg.start_run("nightly", "0.2.0", {}, uid="run-second")
    reg.record_results(second, [(v1, "fp-2", result(Verdict.NEEDS_REVIEW))])
    latest = {x["plot_id"]: x for x in reg.latest_results(org)}
    # The run id shown is the one the run's reports carry, not the registry's row number.
    assert (latest["P1"]["verdict"], latest["P1"]["run_id"]) == ("needs_review", "run-second")
    assert latest["P1"]["fingerprint"] == "fp-2" and latest["P1"]["checked_at"] is not None
    assert (latest["P2"]["verdict"], latest["P2"]["run_id"]) == ("deforestation_free", "run-first")
    assert latest["P3"]["verdict"] is None and latest["P3"]["run_id"] is None
    rebuilt = reg.results_for([v1, v2, 10_000])
    assert rebuilt == {v1: result(Verdict.NEEDS_REVIEW), v2: result(pid="P2")}
    assert reg.results_for([v1], fingerprint="fp-1") == {v1: result()}
    # A new version starts unchecked; its old version's results stay in the history.
    upload(org, *plots(P1={"geometry": poly(square(XS[0] + 0.0001, Y0))}))
    latest = {x["plot_id"]: x for x in reg.latest_results(org)}
    assert latest["P1"]["verdict"] is None and latest["P1"]["version"] == 2
    old, new = reg.history(org, "P1")
    assert [r["verdict"] for r in old["results"]] == ["deforestation_free", "needs_review"]
    assert new["results"] == []


def test_results_and_versions_are_scoped_by_organisation(reg: Registry, upload: Upload) -> None:
    coop_a = reg.create_organisation("Cooperativa A", "cooperative")
    coop_b = reg.create_organisation("Cooperativa B", "cooperative")
    upload(coop_a, *plots())
    summary, _ = upload(coop_b, *plots())  # the same plot ids, another organisation
    assert summary.new_plots == 3
    va, vb = reg.current_versions(coop_a), reg.current_versions(coop_b)
    assert not set(va) & set(vb)
    assert reg.current_versions() == va + vb
    run = reg.start_run("check", "0.1.0", {})
    reg.record_results(run, [(v, "fp-1", result()) for v in va])
    assert [x["version_id"] for x in reg.latest_results(coop_a)] == va
    assert {x["verdict"] for x in reg.latest_results(coop_a)} == {"deforestation_free"}
    assert [x["version_id"] for x in reg.latest_results(coop_b)] == vb
    assert {x["verdict"] for x in reg.latest_results(coop_b)} == {None}
    assert reg.latest_results(reg.create_organisation("Vacía", "cooperative")) == []
    assert reg.history(coop_b, "P1")[0]["version_id"] == vb[0]


def test_versions_in_bbox_use_the_bounding_boxes(reg: Registry, upload: Upload) -> None:
    coop = reg.create_organisation("Cooperativa Jaén", "cooperative")
    other = reg.create_organisation("Otra", "cooperative")
    upload(coop, *plots())
    upload(other, *plots())
    v1, v2, v3 = reg.current_versions(coop)
    x, y = XS[1] + 0.0004, Y0 + 0.0004
    assert reg.versions_in_bbox(x, y, x, y, coop) == [v2]
    assert reg.versions_in_bbox(XS[0], Y0, XS[2], Y0, coop) == [v1, v2, v3]
    assert len(reg.versions_in_bbox(XS[0], Y0, XS[2], Y0)) == 6
    assert reg.versions_in_bbox(0, 0, 1, 1) == []


# lots -----------------------------------------------------------------------------------------


def test_lots_take_only_plots_shared_with_the_exporter(reg: Registry, upload: Upload) -> None:
    coop_a = reg.create_organisation("Cooperativa A", "cooperative")
    coop_b = reg.create_organisation("Cooperativa B", "cooperative")
    exporter = reg.create_organisation("Exportadora", "exporter")
    upload(coop_a, *plots())
    upload(coop_b, *plots())
    va, vb = reg.current_versions(coop_a), reg.current_versions(coop_b)
    with pytest.raises(StoreError, match="not shared"):
        reg.create_lot(exporter, "LOT-1", "coffee", "0901", 12_000.0, va)
    reg.share(coop_a, exporter)
    reg.share(coop_a, exporter)  # idempotent
    lot = reg.create_lot(exporter, "LOT-1", "coffee", "0901", 12_000.0, [va[2], va[0], va[0]])
    assert reg.lot_versions(lot) == sorted([va[0], va[2]])
    with pytest.raises(StoreError, match="not shared"):
        reg.create_lot(exporter, "LOT-2", "coffee", "0901", None, [va[1], vb[0]])
    with pytest.raises(StoreError, match="already has a lot"):
        reg.create_lot(exporter, "LOT-1", "coffee", "0901", None, [va[1]])
    with pytest.raises(StoreError, match="not a exporter"):
        reg.create_lot(coop_b, "LOT-3", "coffee", "0901", None, [vb[0]])
    with pytest.raises(StoreError, match="unknown plot versions"):
        reg.create_lot(exporter, "LOT-4", "coffee", "0901", None, [10_000])
    with pytest.raises(StoreError, match="at least one"):
        reg.create_lot(exporter, "LOT-5", "coffee", "0901", None, [])
    with pytest.raises(StoreError, match="not a cooperative"):
        reg.share(exporter, coop_a)
    with pytest.raises(StoreError, match="unknown lot"):
        reg.lot_versions(lot + 1)


# errors ---------------------------------------------------------------------------------------


def test_bad_requests_raise_store_errors(reg: Registry, upload: Upload) -> None:
    with pytest.raises(StoreError, match="unknown organisation"):
        upload(999, *plots())
    with pytest.raises(StoreError, match="organisation kind"):
        reg.create_organisation("X", "trader")
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    upload(org, *plots())
    (v, *_) = reg.current_versions(org)
    with pytest.raises(StoreError, match="run kind"):
        reg.start_run("weekly", "0.1.0", {})
    run = reg.start_run("check", "0.1.0", {"nan": float("nan")})  # stored as null
    with pytest.raises(StoreError, match="unknown run"):
        reg.record_results(run + 1, [(v, "fp", result())])
    with pytest.raises(StoreError, match="unknown plot versions"):
        reg.record_results(run, [(v + 1000, "fp", result())])
    assert count(reg, PlotResultRow) == 0
    with pytest.raises(StoreError, match="'done' or 'failed'"):
        reg.finish_run(run, "running")
    with pytest.raises(StoreError, match="unknown run"):
        reg.finish_run(run + 1, "done")
    with pytest.raises(StoreError, match="unknown plot versions"):
        reg.report_for([v, v + 1000])
    assert isinstance(StoreError("x"), ValueError)


# scale ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_ten_thousand_plots_register_in_seconds(
    reg: Registry, write_geojson: Callable[..., Path]
) -> None:
    d = 0.000912
    features = [
        feature(poly(square(X0 + (k % 100) * 0.002, Y0 + (k // 100) * 0.002, d)), plot_id=f"F{k}")
        for k in range(10_000)
    ]
    report = validate(read_plots(write_geojson(*features, name="grande.geojson")), fix=True)
    org = reg.create_organisation("Cooperativa Grande", "cooperative")
    start = time.perf_counter()
    summary = reg.register_upload(org, report, "grande.geojson", "0" * 64)
    elapsed = time.perf_counter() - start
    assert summary.new_versions == 10_000
    assert elapsed < 15, f"registering 10,000 plots took {elapsed:.1f} s"
    start = time.perf_counter()
    again = reg.register_upload(org, report, "grande.geojson", "0" * 64)
    assert again.unchanged == 10_000 and time.perf_counter() - start < 5
    assert len(reg.report_for(reg.current_versions(org)).plots) == 10_000


# settings -------------------------------------------------------------------------------------


def test_default_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EUDR_CHECK_REGISTRY_URL", raising=False)
    assert default_url() == "sqlite:///eudr_check.db"
    monkeypatch.setenv("EUDR_CHECK_REGISTRY_URL", "postgresql+psycopg://u:p@127.0.0.1/x")
    assert default_url() == "postgresql+psycopg://u:p@127.0.0.1/x"


def test_json_documents_survive_a_round_trip(reg: Registry, upload: Upload) -> None:
    org = reg.create_organisation("Cooperativa Jaén", "cooperative")
    upload(org, *plots())
    (v, *_) = reg.current_versions(org)
    run = reg.start_run("check", "0.1.0", {})
    reg.record_results(run, [(v, "fp", result())])
    (stored,) = reg.history(org, "P1")[0]["results"]
    assert stored["stats"] == [json.loads(json.dumps(result().stats[0].to_dict()))]
    assert stored["reasons"][0]["message_es"] == reason_message(result().reasons[0], "es")
