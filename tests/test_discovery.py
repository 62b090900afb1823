"""Dataset versions found by the products' real file names; pinning and strictness; the
preflight table and its download command; wrong data folders refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eudr_check.datasets.catalog import load_catalog
from eudr_check.datasets.discovery import present_versions, resolve_versions, version_key
from eudr_check.datasets.preflight import preflight
from eudr_check.datasets.sources import DataSources
from eudr_check.errors import ConfigError
from tests.test_cli import run

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = ROOT / "sample_data"
PLOTS = ROOT / "sample_plots" / "cooperativa.geojson"


def _folder(tmp_path: Path, hansen: str = "GFC-2023-v1.11", drop_jrc: str | None = None) -> Path:
    """The sample rasters with Hansen renamed to another release, optionally without a JRC
    tile: the real products' names, synthetic content."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA, data)
    for f in (data / "hansen_gfc").glob("Hansen_GFC-2024-v1.12_*.tif"):
        f.rename(f.with_name(f.name.replace("GFC-2024-v1.12", hansen)))
    if drop_jrc:
        (data / "jrc_gfc2020" / f"JRC_GFC2020_V3_{drop_jrc}.tif").unlink()
    return data


def test_versions_are_ordered_as_the_producers_number_them() -> None:
    ordered = sorted(["GFC-2024-v1.12", "GFC-2023-v1.11", "GFC-2025-v1.13", "GFC-2019-v1.7"],
                     key=version_key)  # fmt: skip
    assert ordered == ["GFC-2019-v1.7", "GFC-2023-v1.11", "GFC-2024-v1.12", "GFC-2025-v1.13"]
    assert sorted(["v1_2024", "v1_2023"], key=version_key) == ["v1_2023", "v1_2024"]


def test_present_versions_reads_the_real_file_names(tmp_path: Path) -> None:
    data = _folder(tmp_path)
    # A second release with only one layer of one tile is not a usable version.
    one = data / "hansen_gfc" / "Hansen_GFC-2022-v1.10_lossyear_00N_080W.tif"
    shutil.copy(data / "hansen_gfc" / "Hansen_GFC-2023-v1.11_lossyear_00N_080W.tif", one)
    (data / "hansen_gfc" / "notes_GFC-2021-v1.9.txt").write_text("not a tile")
    catalog = load_catalog()
    assert present_versions(catalog.get("hansen_gfc"), data) == {
        "GFC-2023-v1.11": {"00N_080W", "10S_080W"}
    }
    assert present_versions(catalog.get("jrc_gfc2020"), data) == {"V3": {"N0_W80", "S10_W80"}}


def test_the_newest_present_version_is_used_unless_pinned_or_strict(tmp_path: Path) -> None:
    data = _folder(tmp_path)
    for tif in list((data / "hansen_gfc").glob("*.tif")):  # an older release beside it
        shutil.copy(tif, tif.with_name(tif.name.replace("GFC-2023-v1.11", "GFC-2021-v1.9")))
    catalog = load_catalog()
    used, choices = resolve_versions(catalog, data)
    hansen = used.get("hansen_gfc")
    assert (hansen.version, hansen.catalog_version) == ("GFC-2023-v1.11", "GFC-2024-v1.12")
    (choice,) = [c for c in choices if c.dataset_id == "hansen_gfc"]
    assert choice.changed and choice.present == ("GFC-2023-v1.11", "GFC-2021-v1.9")
    assert used.get("jrc_gfc2020").catalog_version is None  # V3 is there: unchanged
    pinned = catalog.with_versions({"hansen_gfc": "GFC-2021-v1.9"})
    kept, _ = resolve_versions(pinned, data, pinned=frozenset({"hansen_gfc"}))
    assert kept.get("hansen_gfc").version == "GFC-2021-v1.9"
    with pytest.raises(ConfigError) as caught:
        resolve_versions(catalog, data, strict=True)
    assert "--dataset-version hansen_gfc=GFC-2023-v1.11" in caught.value.message("en")


def test_preflight_names_the_missing_jrc_tile_and_the_plots_it_blocks(tmp_path: Path) -> None:
    data = _folder(tmp_path, hansen="GFC-2024-v1.12", drop_jrc="N0_W80")
    catalog = load_catalog()
    import shapely

    inside = shapely.box(-78.8, -5.71, -78.798, -5.708)  # tile N0_W80 (0° to -10°, -80° to -70°)
    south = shapely.box(-72.5, -12.9, -72.498, -12.898)  # S10_W80: present
    found = preflight(DataSources(catalog, data), [inside, inside, south])
    (missing,) = found.missing
    assert (missing.dataset_id, missing.tile, missing.plots) == ("jrc_gfc2020", "N0_W80", 2)
    assert not missing.optional and found.affected == {"jrc_gfc2020": 2}
    command = found.command(catalog.get("jrc_gfc2020"), data)
    assert (
        command
        == f"eudr-check datasets download --dataset jrc_gfc2020 --tiles N0_W80 --datasets {data}"
    )


def test_check_uses_the_version_found_and_prints_the_preflight(tmp_path: Path) -> None:
    data = _folder(tmp_path, drop_jrc="N0_W80")
    out = tmp_path / "out"
    done = run("check", PLOTS, "--datasets", data, "--out", out, "--lang", "en")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "using GFC-2023-v1.11" in text and "the catalog names GFC-2024-v1.12" in text
    assert "N0_W80" in text and "undetermined" in text
    assert "Why plots are undetermined:" in text and "without tiles: fetch them" in text
    assert (
        f"eudr-check datasets download --dataset jrc_gfc2020 --tiles N0_W80 --datasets {data}"
        in done.stdout
    )
    manifest = json.loads((out / "cooperativa.manifest.json").read_text(encoding="utf-8"))
    hansen = next(d for d in manifest["datasets"] if d["id"] == "hansen_gfc")
    assert (hansen["version"], hansen["catalog_version"]) == ("GFC-2023-v1.11", "GFC-2024-v1.12")
    assert {f["name"] for f in hansen["files"]} >= {"Hansen_GFC-2023-v1.11_lossyear_10S_080W.tif"}
    html = (out / "cooperativa.summary.html").read_text(encoding="utf-8")
    assert "the catalog names GFC-2024-v1.12" in html
    # Plots under the missing JRC tile: "no data", never 0.00 ha of forest.
    assert "jrc_gfc2020 V3</td><td>no data</td>" in html
    import csv

    with (out / "cooperativa.results.csv").open(encoding="utf-8-sig") as fh:
        rows = [r for r in csv.DictReader(fh) if r["jrc_gfc2020_nodata_pct"] == "100.0"]
    assert rows and all(r["jrc_gfc2020_forest_2020_ha"] == "" for r in rows)
    # Strict: refused, exit 2, with the pin to use.
    strict = run("check", PLOTS, "--datasets", data, "--out", tmp_path / "o2", "--strict-versions")
    assert strict.returncode == 2
    assert "--dataset-version hansen_gfc=GFC-2023-v1.11" in " ".join(strict.stderr.split())
    assert not (tmp_path / "o2").exists()


def test_a_streamed_file_gets_the_download_command_from_its_results(tmp_path: Path) -> None:
    data = _folder(tmp_path, hansen="GFC-2024-v1.12", drop_jrc="N0_W80")
    streamed = {"EUDR_CHECK_STREAM_ABOVE_MB": "0.001", "EUDR_CHECK_BATCH_PLOTS": "20"}
    done = run("check", PLOTS, "--datasets", data, "--out", tmp_path / "out", "--lang", "en",
               env=streamed)  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = (tmp_path / "out" / "cooperativa.manifest.json").read_text(encoding="utf-8")
    assert '"read_in_slices": true' in manifest
    assert "Missing tiles:" in done.stdout and "N0_W80" in done.stdout
    assert (
        f"eudr-check datasets download --dataset jrc_gfc2020 --tiles N0_W80 --datasets {data}"
        in done.stdout
    )


def test_a_streamed_geopackage_shows_progress_against_its_feature_count(tmp_path: Path) -> None:
    streamed = {"EUDR_CHECK_STREAM_ABOVE_MB": "0.001", "EUDR_CHECK_BATCH_PLOTS": "10"}
    gpkg = ROOT / "sample_plots" / "cooperativa.gpkg"
    done = run("check", gpkg, "--datasets", SAMPLE_DATA, "--out", tmp_path / "out", "--lang",
               "en", env=streamed)  # fmt: skip
    assert done.returncode == 0, done.stderr
    import re

    totals = {int(n) for n in re.findall(r"Analysing plots: \d+ of (\d+) plots", done.stdout)}
    assert len(totals) == 1 and totals.pop() > 50, done.stdout
    assert re.search(r"Writing reports and maps: \d+ of \d+ plots", done.stdout)


def test_datasets_only_reads_only_those_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run("check", PLOTS, "--datasets", SAMPLE_DATA, "--out", out, "--lang", "en",
               "--datasets-only", "hansen_gfc")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Not read (--datasets-only): jrc_gfc2020" in " ".join(done.stdout.split())
    manifest = json.loads((out / "cooperativa.manifest.json").read_text(encoding="utf-8"))
    assert [d["id"] for d in manifest["datasets"]] == ["hansen_gfc"]
    assert {"jrc_gfc2020", "gfw_integrated_alerts"} <= set(manifest["datasets_not_read"])
    html = (out / "cooperativa.summary.html").read_text(encoding="utf-8")
    assert "read (4 file(s))" in html
    assert "In the catalog but not used in this run: jrc_gfc2020, gfw_integrated_alerts" in html
    bad = run("check", PLOTS, "--datasets", SAMPLE_DATA, "--out", out, "--datasets-only", "x")
    assert bad.returncode == 2 and "--datasets-only x" in bad.stderr


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_a_wrong_data_folder_is_an_error_not_a_run_of_undetermined(
    tmp_path: Path, kind: str
) -> None:
    folder = tmp_path / "datos"
    if kind == "empty":
        folder.mkdir()
        (folder / "README.txt").write_text("nothing here")
    out = tmp_path / "out"
    done = run("check", PLOTS, "--datasets", folder, "--out", out, "--lang", "en")
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert (
        str(folder) in message and "eudr-check datasets list --plots cooperativa.geojson" in message
    )
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_datasets_list_shows_the_versions_present(tmp_path: Path) -> None:
    data = _folder(tmp_path)
    done = run("datasets", "list", "--datasets", data, "--lang", "en")
    text = " ".join(done.stdout.split())
    assert "hansen_gfc: versions in the folder: GFC-2023-v1.11 (2 tile(s))" in text
    assert "(the catalog names GFC-2024-v1.12)" in text


def _crop_to_corner(path: Path, pixels: int = 8) -> None:
    """Cut a tile file down to its top-left corner: a clip that stops short of the plots."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(path) as src:
        window = Window(0, 0, pixels, pixels)
        data = src.read(window=window)
        # The corner keeps the file's origin, hence its transform.
        profile = src.profile | {"width": pixels, "height": pixels}
        profile.pop("blockxsize", None), profile.pop("blockysize", None)
        profile["tiled"] = False
    path.unlink()
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)


def test_plots_outside_the_files_present_are_counted_named_and_shown_as_partly_read(
    tmp_path: Path,
) -> None:
    data = _folder(tmp_path, hansen="GFC-2024-v1.12")
    for f in (data / "hansen_gfc").glob("*_10S_080W.tif"):
        _crop_to_corner(f)
    catalog = load_catalog()
    import shapely

    cusco = shapely.box(-72.6, -12.8, -72.598, -12.798)  # under 10S_080W, now outside the clip
    jaen = shapely.box(-78.8, -5.6, -78.798, -5.598)  # under 00N_080W, whole
    found = preflight(DataSources(catalog, data), [jaen, cusco, cusco], ["J1", "C1", "C2"])
    assert not found.missing and found.outside["hansen_gfc"] == ("C1", "C2")
    assert found.outside.get("jrc_gfc2020") is None  # its files are whole
    out = tmp_path / "out"
    done = run("check", PLOTS, "--datasets", data, "--out", out, "--lang", "en")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "hansen_gfc: " in text and "lie (wholly or partly) outside the files present" in text
    html = (out / "cooperativa.summary.html").read_text(encoding="utf-8")
    assert "partly read (4 file(s)): no data for" in html
    import csv

    with (out / "cooperativa.results.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    empty = [r["plot_id"] for r in rows if r["hansen_gfc_nodata_pct"] == "100.0"]
    assert empty and all(pid in text for pid in empty[:10])  # the console names them


def test_tmf_names_with_a_per_tile_part_are_found_for_their_edition() -> None:
    """JRC TMF's names carry a per-tile region/ID (`*` in the catalog): the sample's 2024
    edition is found, for both tiles, when the catalog asks for 2023; the transition map's
    names carry no edition and do not narrow the choice."""
    root = Path(__file__).resolve().parents[1]
    catalog = load_catalog()
    datasets = [d.model_copy(update={"enabled": d.id == "jrc_tmf", "version": "2023"})
                if d.id == "jrc_tmf" else d.model_copy(update={"enabled": False})
                for d in catalog.datasets]  # fmt: skip
    catalog = catalog.model_copy(update={"datasets": datasets})
    tmf = catalog.get("jrc_tmf")
    assert present_versions(tmf, root / "sample_data") == {"2024": {"N0_W80", "S10_W80"}}
    resolved, (choice,) = resolve_versions(catalog, root / "sample_data")
    assert (choice.catalog_version, choice.used_version) == ("2023", "2024")
    assert resolved.get("jrc_tmf").version == "2024"
