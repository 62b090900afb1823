"""The web service's check queue runs the preflight: what the plots need that the data folder
lacks, known while the analysis runs, with the download command, in Spanish and English."""

from __future__ import annotations

import shutil
from pathlib import Path

from eudr_check.api.checks import CheckQueue
from eudr_check.datasets.catalog import load_catalog
from eudr_check.datasets.sources import DataSources
from eudr_check.i18n import Lang
from eudr_check.intake import read_plots
from eudr_check.rules import validate
from eudr_check.store import Registry

ROOT = Path(__file__).resolve().parents[1]


def test_the_queue_keeps_the_preflight_of_each_job(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "sample_data", data)
    (data / "jrc_gfc2020" / "JRC_GFC2020_V3_N0_W80.tif").unlink()
    sources = DataSources(load_catalog(), data)
    plots = ROOT / "sample_plots" / "cooperativa.geojson"
    with Registry.open(f"sqlite:///{tmp_path / 'r.db'}") as reg:
        org = reg.create_organisation("Cooperativa Prueba", "cooperative")
        table = read_plots(plots)
        reg.register_upload(org, validate(table, fix=True), plots.name, table.sha256)
        queue = CheckQueue(reg, sources)
        try:
            assert queue.preflight("upload-1") is None  # not known before the job runs
            queue.submit("upload-1", reg.current_versions())
            queue.wait(timeout=300)
            found = queue.preflight("upload-1")
        finally:
            queue.close()
        assert queue.error("upload-1") is None
    assert found is not None
    (missing,) = found.missing
    assert (missing.dataset_id, missing.tile, missing.optional) == ("jrc_gfc2020", "N0_W80", False)
    lines = found.lines(sources, Lang.EN)
    assert any("tile N0_W80 (forest) is missing" in line for line in lines)
    command = f"eudr-check datasets download --dataset jrc_gfc2020 --tiles N0_W80 --datasets {data}"
    assert f"To fetch them: {command}" in lines
    assert any("falta la tesela N0_W80" in line for line in found.lines(sources, Lang.ES))


def test_with_a_dask_address_the_analysis_runs_on_the_cluster(tmp_path: Path) -> None:
    from eudr_check.engine import DaskExecutor

    sources = DataSources(load_catalog(), ROOT / "sample_data")
    plots = ROOT / "sample_plots" / "cooperativa.geojson"
    with DaskExecutor.local(1) as cluster:
        address = cluster.client.scheduler.address
        before = cluster.client.run_on_scheduler(
            lambda dask_scheduler: dask_scheduler.transition_counter
        )
        with Registry.open(f"sqlite:///{tmp_path / 'r.db'}") as reg:
            org = reg.create_organisation("Cooperativa Prueba", "cooperative")
            table = read_plots(plots)
            reg.register_upload(org, validate(table, fix=True), plots.name, table.sha256)
            queue = CheckQueue(reg, sources, dask_address=address)
            try:
                queue.submit("upload-1", reg.current_versions(), org)
                queue.wait(timeout=300)
            finally:
                queue.close()
            assert queue.error("upload-1") is None
            results = reg.results_for(reg.current_versions())
        after = cluster.client.run_on_scheduler(
            lambda dask_scheduler: dask_scheduler.transition_counter
        )
    assert len(results) == 74 and after > before  # checked, by the cluster's workers
