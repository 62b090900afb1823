"""The Prefect flows end to end on a temporary Prefect server (started once per session)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from eudr_check.store.registry import Registry
from flows.check import bundle, check, check_queue, ingest
from flows.deploy import NIGHTLY_CRON, NIGHTLY_TIMEZONE, deployments
from flows.nightly import nightly

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_plots" / "cooperativa.geojson"
DATA = str(ROOT / "sample_data")


def _edited_copy(tmp_path: Path, plot_id: str) -> Path:
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for feat in doc["features"]:
        if feat["properties"].get("plot_id") == plot_id:
            ring = feat["geometry"]["coordinates"][0]
            ring[1] = [round(ring[1][0] + 0.00005, 6), ring[1][1]]  # one corner moved ~5 m
    path = tmp_path / "cooperativa_editada.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_ingest_check_nightly_and_bundle(prefect_server: None, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with Registry.open(url) as registry:
        coop = registry.create_organisation("Cooperativa Sol Andino", "cooperative")
        exporter = registry.create_organisation("Exportadora del Norte", "exporter")
        registry.share(coop, exporter)

    first = ingest(path=str(SAMPLE), organisation_id=coop, registry_url=url)
    assert first["new_plots"] > 70 and first["new_versions"] == first["new_plots"]

    done = check(organisation_id=coop, registry_url=url, data_dir=DATA,
                 out_dir=str(tmp_path / "reports"))  # fmt: skip
    assert done["analysed"] == first["new_versions"]
    assert (tmp_path / "reports").is_dir()

    # Nothing changed: the nightly run does no analysis at all.
    quiet = nightly(registry_url=url, data_dir=DATA, refresh_data=False)
    assert quiet["analysed"] == 0 and quiet["run_id"] is None

    # One plot edited: only that plot is analysed again.
    again = ingest(path=str(_edited_copy(tmp_path, "JAE-001")), organisation_id=coop,
                   registry_url=url)  # fmt: skip
    assert again["new_versions"] == 1
    edited = nightly(registry_url=url, data_dir=DATA, refresh_data=False)
    assert edited["analysed"] == 1

    with Registry.open(url) as registry:
        versions = registry.current_versions(coop)[:10]
        lot = registry.create_lot(exporter, "LOTE-2026-001", "coffee", "0901", 19200.0, versions)
    a = Path(bundle(lot_id=lot, out_dir=str(tmp_path / "b1"), registry_url=url, data_dir=DATA))
    b = Path(bundle(lot_id=lot, out_dir=str(tmp_path / "b2"), registry_url=url, data_dir=DATA))
    assert a.read_bytes() == b.read_bytes()  # same lot, same results: same bytes
    with zipfile.ZipFile(a) as z:
        names = z.namelist()
        manifest = json.loads(z.read("manifest.json"))
    assert any(n.startswith("eu_information_system/") for n in names)
    assert any(n.endswith("summary.html") for n in names)
    assert set(manifest["files"]) == set(names) - {"manifest.json"}


def test_the_check_flow_reports_the_tiles_the_data_folder_lacks(
    prefect_server: None, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    (data / "jrc_gfc2020" / "JRC_GFC2020_V3_N0_W80.tif").unlink()
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with Registry.open(url) as registry:
        coop = registry.create_organisation("Cooperativa Sol Andino", "cooperative")
    ingest(path=str(SAMPLE), organisation_id=coop, registry_url=url)
    done = check(organisation_id=coop, registry_url=url, data_dir=str(data))
    (missing,) = done["missing_tiles"]
    assert (missing["dataset_id"], missing["tile"], missing["optional"]) == (
        "jrc_gfc2020", "N0_W80", False)  # fmt: skip
    assert missing["plots"] > 0


def test_nightly_deployment_runs_at_two_in_lima() -> None:
    nightly_dep = next(d for d in deployments() if d.name == "nightly")
    (schedule,) = nightly_dep.schedules
    assert schedule.schedule.cron == NIGHTLY_CRON == "0 2 * * *"
    assert schedule.schedule.timezone == NIGHTLY_TIMEZONE == "America/Lima"


def test_the_check_queue_flow_drains_the_registry_jobs_in_turn(
    prefect_server: None, tmp_path: Path
) -> None:
    """What the web service hands to Prefect: jobs queued in the registry by two cooperatives,
    a stale one left by a dead worker; the flow runs them all, each plot checked once."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with Registry.open(url) as registry:
        one = registry.create_organisation("Cooperativa Uno", "cooperative")
        two = registry.create_organisation("Cooperativa Dos", "cooperative")
    ingest(path=str(SAMPLE), organisation_id=one, registry_url=url)
    ingest(path=str(SAMPLE), organisation_id=two, registry_url=url)
    with Registry.open(url) as registry:
        registry.enqueue("upload-1", one, registry.current_versions(one), job_plots=30)
        registry.enqueue("upload-2", two, registry.current_versions(two), job_plots=30)
        dead = registry.claim("a-dead-worker", lease_s=0.0)  # its lease is already out
        assert dead is not None
        versions = len(registry.current_versions(one)) + len(registry.current_versions(two))
    done = check_queue(registry_url=url, data_dir=DATA)
    assert done["jobs"] >= 6  # 3 jobs per cooperative, the dead worker's one again included
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            states = [str(v) for v in c.execute(sa.text("SELECT state FROM check_jobs")).scalars()]
            results = c.execute(sa.text("SELECT count(*), count(DISTINCT plot_version_id) "
                                        "FROM plot_results")).one()  # fmt: skip
            order = [
                int(v)
                for v in c.execute(
                    sa.text("SELECT organisation_id FROM check_jobs ORDER BY claimed_at, id")
                ).scalars()
            ]
    finally:
        engine.dispose()
    assert states == ["done"] * len(states)
    assert tuple(results) == (versions, versions)  # every plot once, none twice
    assert order[1:4] in ([one, two, one], [two, one, two])  # served in turn
