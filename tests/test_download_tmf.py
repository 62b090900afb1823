"""JRC TMF downloads against a real HTTP server on 127.0.0.1 that works like JRC's tile service:
`download.py?type=tile&dataset=DeforestationYear&lat=N0&lon=W80`, the file named by the server
in Content-Disposition (`..._v1_SAM_ID28_N0_W80.tif`), which the catalog writes with a `*`."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import shapely
import yaml
from affine import Affine
from numpy.typing import NDArray
from rasterio.io import MemoryFile
from typer.testing import CliRunner, Result

from eudr_check.analysis import analyse_group
from eudr_check.cli.datasets import datasets_app
from eudr_check.datasets.catalog import Catalog, Dataset, load_catalog
from eudr_check.datasets.download import (
    Checksum,
    DownloadError,
    disposition_filename,
    download_tile,
    inventory,
    read_checksums,
    source_url,
    verify,
)
from eudr_check.errors import ConfigError
from tests.local_http import no_proxy, serving

CATALOG = Path(__file__).resolve().parents[1] / "config" / "datasets.yaml"
JRC = "https://ies-ows.jrc.ec.europa.eu"
SERVICE = "/iforce/tmf_v1/download.py"
TIMEOUT = 5.0
PX = 0.00025  # TMF's pixel
WEST, NORTH = -78.8, -5.7  # the clips' corner, in tile N0_W80 (near Jaén, Peru)
TILE = "N0_W80"
PRODUCTS = {
    "deforestation_year": "DeforestationYear",
    "degradation_year": "DegradationYear",
    "transition": "TransitionMap_Subtypes",
}


def jrc_name(product: str, tile: str = TILE, region: str = "SAM_ID28") -> str:
    """The file names JRC's service gives (as in sample_data/jrc_tmf/)."""
    if product == "TransitionMap_Subtypes":
        return f"JRC_TMF_TransitionMap_Subtypes_v1_2024_{region}_{tile}.tif"
    return f"JRC_TMF_{product}_INT_1982_2024_v1_{region}_{tile}.tif"


def tif_bytes(values: NDArray[np.generic]) -> bytes:
    """A small real GeoTIFF on TMF's grid with its corner at (WEST, NORTH)."""
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": values.shape[1], "height": values.shape[0], "count": 1,
        "dtype": values.dtype.name, "crs": "EPSG:4326",
        "transform": Affine(PX, 0, WEST, 0, -PX, NORTH),
    }  # fmt: skip
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(values, 1)
        return bytes(mem.read())


def layer_values() -> dict[str, NDArray[np.generic]]:
    """Deforestation in 2015 on 2 pixels and in 2022 on 1 of the plot's 16; no degradation;
    transition class 10 (undisturbed) everywhere."""
    deforestation = np.zeros((8, 8), np.int16)
    deforestation[0, 0:2] = 2015
    deforestation[0, 2] = 2022
    return {
        "DeforestationYear": deforestation,
        "DegradationYear": np.zeros((8, 8), np.int16),
        "TransitionMap_Subtypes": np.full((8, 8), 10, np.uint8),
    }


@dataclass
class Service:
    """What the test service serves and how it misbehaves; it logs (query, Range) per request."""

    base: str = ""
    files: dict[tuple[str, str, str], tuple[str, bytes]] = field(default_factory=dict)
    requests: list[tuple[dict[str, str], str | None]] = field(default_factory=list)
    disposition: str | None = 'attachment; filename="{name}"'  # None: no such header
    disposition_on_range: bool = True  # also on 206 answers
    truncate: bool = False

    def serve(self, product: str, data: bytes, tile: str = TILE, name: str | None = None) -> bytes:
        lat, lon = tile.split("_")
        self.files[product, lat, lon] = (name or jrc_name(product, tile), data)
        return data

    def serve_all(self) -> dict[str, bytes]:
        """Every layer of tile N0_W80: product -> bytes."""
        return {p: self.serve(p, tif_bytes(v)) for p, v in layer_values().items()}

    def ranges(self) -> list[str | None]:
        return [r for _, r in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests are recorded in `state` for the assertions instead."""

    def do_GET(self) -> None:
        state: Service = self.server.state
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        rng = self.headers.get("Range")
        state.requests.append((query, rng))
        found = state.files.get((query.get("dataset", ""), query.get("lat", ""),
                                 query.get("lon", "")))  # fmt: skip
        if url.path != SERVICE or query.get("type") != "tile" or found is None:
            self.send_error(404)
            return
        name, data = found
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if match:
            start = int(match[1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "image/tiff")
        if state.disposition is not None and (start == 0 or state.disposition_on_range):
            self.send_header("Content-Disposition", state.disposition.format(name=name))
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if state.truncate:
            body = body[: len(body) // 2]  # then the connection closes: a cut transfer
        self.wfile.write(body)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    no_proxy(monkeypatch)


@pytest.fixture
def service() -> Iterator[Service]:
    with serving(_Handler, Service()) as state:
        yield state


def _catalog(base: str) -> Catalog:
    """The real catalog with only jrc_tmf enabled and its source moved to the test server."""
    catalog = load_catalog(CATALOG)
    tmf = catalog.get("jrc_tmf")
    assert tmf.source is not None and tmf.source.startswith(JRC + SERVICE)
    tmf = tmf.model_copy(update={"source": tmf.source.replace(JRC, base), "enabled": True})
    return catalog.model_copy(update={"datasets": [tmf], "vector_layers": []})


@pytest.fixture
def tmf(service: Service) -> Dataset:
    return _catalog(service.base).get("jrc_tmf")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def catalog_file(service: Service, tmp_path: Path) -> Path:
    path = tmp_path / "datasets.yaml"
    doc = _catalog(service.base).model_dump(mode="json")
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(datasets_app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def _download(data_dir: Path, catalog_file: Path, *more: str) -> Result:
    return invoke("download", "--dataset", "jrc_tmf", "--tiles", TILE, "--datasets", data_dir,
                  "--catalog", catalog_file, "--lang", "en", *more)  # fmt: skip


def _files(folder: Path) -> list[str]:
    """Every file under a folder, relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --- the download command, then the check ------------------------------------------------------


def test_cli_download_keeps_jrc_names_and_the_check_reads_them(
    service: Service, catalog_file: Path, data_dir: Path
) -> None:
    served = service.serve_all()
    result = _download(data_dir, catalog_file)
    assert result.exit_code == 0, result.output
    assert "All downloaded and verified" in result.stdout
    folder = data_dir / "jrc_tmf"
    names = {p: jrc_name(p) for p in PRODUCTS.values()}
    assert _files(folder) == sorted([*names.values(), "SHA256SUMS", "downloads.json"])
    for product, data in served.items():
        assert (folder / names[product]).read_bytes() == data
    queries = sorted((q["dataset"], q["lat"], q["lon"], q["type"]) for q, _ in service.requests)
    assert queries == sorted((p, "N0", "W80", "tile") for p in PRODUCTS.values())
    catalog = _catalog(service.base)
    tmf = catalog.get("jrc_tmf")
    assert read_checksums(tmf, data_dir) == {
        names[p]: hashlib.sha256(d).hexdigest() for p, d in served.items()
    }
    log = json.loads((folder / "downloads.json").read_text(encoding="utf-8"))
    assert {e["file"] for e in log} == set(names.values())
    assert all(e["url"].startswith(service.base + SERVICE + "?type=tile&dataset=") for e in log)

    # The check finds the files by their `*` names and reads them.
    plot = shapely.box(WEST, NORTH - 4 * PX, WEST + 4 * PX, NORTH)
    ((stats,),) = analyse_group([plot], catalog, data_dir).stats
    assert stats.missing_tiles == () and stats.error is None, stats
    assert stats.loss_after_cutoff_ha == pytest.approx(stats.plot_area_ha / 16, rel=1e-3)
    assert stats.loss_before_cutoff_ha == pytest.approx(stats.plot_area_ha * 2 / 16, rel=1e-3)

    rows = inventory(catalog, data_dir, {"jrc_tmf": [TILE]})
    assert {(s.layer, s.tile, s.checksum) for s in rows} == {
        (layer, TILE, Checksum.OK) for layer in PRODUCTS
    }
    assert {Path(s.path).name for s in rows} == set(names.values())
    assert verify(tmf, data_dir) == []
    listed = invoke("list", "--datasets", data_dir, "--catalog", catalog_file, "--lang", "en")
    assert listed.exit_code == 0 and listed.stdout.count(TILE) == 3, listed.output


def test_second_run_downloads_nothing_and_force_fetches_again(
    service: Service, catalog_file: Path, data_dir: Path
) -> None:
    service.serve_all()
    assert _download(data_dir, catalog_file).exit_code == 0
    service.requests.clear()
    again = _download(data_dir, catalog_file)
    assert again.exit_code == 0, again.output
    assert service.requests == [] and again.stdout.count("already present") == 3
    forced = _download(data_dir, catalog_file, "--force")
    assert forced.exit_code == 0 and len(service.requests) == 3
    assert len(_files(data_dir / "jrc_tmf")) == 5  # the same 3 names, the sums and the log


# --- names the server gives ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "disposition",
    [
        'attachment; filename="../evil.tif"',
        f'attachment; filename="../{jrc_name("DeforestationYear")}"',
        "attachment; filename*=UTF-8''..%2F..%2Fevil_N0_W80.tif",
        f'attachment; filename="/tmp/{jrc_name("DeforestationYear")}"',
        f'attachment; filename="{jrc_name("DeforestationYear")}/x.tif"',
        'attachment; filename="evil.tif"',
        'attachment; filename="JRC_TMF_DeforestationYear_INT_1982_2024_v1_SAM_ID28_S10_W80.tif"',
        'attachment; filename="JRC_TMF_DegradationYear_INT_1982_2024_v1_SAM_ID28_N0_W80.tif"',
        'attachment; filename="JRC_TMF_DeforestationYear_INT_1982_2024_v1_SAM.ID28_N0_W80.tif"',
        'attachment; filename="JRC_TMF_DeforestationYear_INT_1982_2024_v1__N0_W80.tif"',
    ],
)
def test_a_name_not_fitting_the_layer_is_refused_and_nothing_kept(
    service: Service, tmf: Dataset, data_dir: Path, tmp_path: Path, disposition: str
) -> None:
    service.serve("DeforestationYear", tif_bytes(layer_values()["DeforestationYear"]))
    service.disposition = disposition
    before = _files(tmp_path)
    with pytest.raises(DownloadError, match="refused") as info:
        download_tile(tmf, "deforestation_year", TILE, data_dir, timeout=TIMEOUT)
    message = str(info.value)
    assert TILE in message and "dataset=DeforestationYear&lat=N0&lon=W80" in message
    assert info.value.url == source_url(tmf, "deforestation_year", TILE)
    assert _files(tmp_path) == before  # nothing written anywhere, not even a part
    assert not (tmp_path / "evil.tif").exists() and not (tmp_path / "evil_N0_W80.tif").exists()


def test_a_refused_resume_removes_the_part(service: Service, tmf: Dataset, data_dir: Path) -> None:
    data = service.serve("DeforestationYear", tif_bytes(layer_values()["DeforestationYear"]))
    part = data_dir / "jrc_tmf" / (jrc_name("DeforestationYear") + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:100])
    service.disposition = 'attachment; filename="../evil.tif"'
    with pytest.raises(DownloadError, match="a path, not a file name"):
        download_tile(tmf, "deforestation_year", TILE, data_dir, timeout=TIMEOUT)
    assert service.ranges() == ["bytes=100-"] and _files(data_dir) == []


def test_cli_refusal_exits_1_naming_tile_and_url(
    service: Service, catalog_file: Path, data_dir: Path
) -> None:
    service.serve_all()
    service.disposition = 'attachment; filename="../evil.tif"'
    result = _download(data_dir, catalog_file, "--layer", "transition")
    assert result.exit_code == 1
    assert f"could not download tile {TILE}" in result.stderr and "'../evil.tif'" in result.stderr
    assert "dataset=TransitionMap_Subtypes&lat=N0&lon=W80" in result.stderr
    assert _files(data_dir) == []


def test_a_server_not_naming_the_file_fails_clearly(
    service: Service, tmf: Dataset, data_dir: Path
) -> None:
    service.serve_all()
    service.disposition = None
    with pytest.raises(DownloadError, match="did not name the file") as info:
        download_tile(tmf, "transition", TILE, data_dir, timeout=TIMEOUT)
    assert TILE in str(info.value) and "JRC_TMF_TransitionMap_Subtypes_*_N0_W80.tif" in str(
        info.value
    )
    assert not data_dir.exists() or _files(data_dir) == []
    service.disposition = "inline"  # a header without a file name is the same
    with pytest.raises(DownloadError, match="did not name the file"):
        download_tile(tmf, "transition", TILE, data_dir, timeout=TIMEOUT)


# --- resuming ------------------------------------------------------------------------------------


@pytest.mark.parametrize("disposition_on_range", [True, False])
def test_an_interrupted_transfer_resumes_under_the_servers_name(
    service: Service, tmf: Dataset, data_dir: Path, disposition_on_range: bool
) -> None:
    data = service.serve("DegradationYear", tif_bytes(layer_values()["DegradationYear"]))
    service.disposition_on_range = disposition_on_range  # the part's name remembers it
    service.truncate = True
    with pytest.raises(DownloadError, match="incomplete"):
        download_tile(tmf, "degradation_year", TILE, data_dir, timeout=TIMEOUT)
    name = jrc_name("DegradationYear")
    part = data_dir / "jrc_tmf" / (name + ".part")
    kept = part.read_bytes()
    assert 0 < len(kept) < len(data) and kept == data[: len(kept)]
    assert _files(data_dir) == [f"jrc_tmf/{name}.part"]
    service.truncate = False
    result = download_tile(tmf, "degradation_year", TILE, data_dir, timeout=TIMEOUT)
    assert service.ranges() == [None, f"bytes={len(kept)}-"]
    assert result.resumed and not result.skipped and result.path.name == name
    assert result.path.read_bytes() == data and not part.exists()
    assert read_checksums(tmf, data_dir) == {name: hashlib.sha256(data).hexdigest()}


def test_a_complete_part_and_416_means_done(service: Service, tmf: Dataset, data_dir: Path) -> None:
    data = service.serve("DegradationYear", tif_bytes(layer_values()["DegradationYear"]))
    name = jrc_name("DegradationYear")
    part = data_dir / "jrc_tmf" / (name + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(data)
    result = download_tile(tmf, "degradation_year", TILE, data_dir, timeout=TIMEOUT)
    assert service.ranges() == [f"bytes={len(data)}-"]
    assert result.path == data_dir / "jrc_tmf" / name and result.path.read_bytes() == data


def test_a_part_of_a_name_the_server_no_longer_gives_starts_over(
    service: Service, tmf: Dataset, data_dir: Path
) -> None:
    data = service.serve("DegradationYear", tif_bytes(layer_values()["DegradationYear"]))
    old = data_dir / "jrc_tmf" / (jrc_name("DegradationYear", region="SAM_ID27") + ".part")
    old.parent.mkdir(parents=True)
    old.write_bytes(b"x" * 50)  # another file's first bytes: must not be built on
    result = download_tile(tmf, "degradation_year", TILE, data_dir, timeout=TIMEOUT)
    assert service.ranges() == ["bytes=50-", None]
    assert not result.resumed and result.path.read_bytes() == data
    assert _files(data_dir / "jrc_tmf") == sorted(
        [jrc_name("DegradationYear"), "SHA256SUMS", "downloads.json"]
    )


# --- checksums of `*` names ----------------------------------------------------------------------


def test_verify_and_inventory_know_star_names(
    service: Service, tmf: Dataset, data_dir: Path
) -> None:
    service.serve("DeforestationYear", tif_bytes(layer_values()["DeforestationYear"]))
    result = download_tile(tmf, "deforestation_year", TILE, data_dir, timeout=TIMEOUT)
    folder = data_dir / "jrc_tmf"
    by_hand = folder / jrc_name("DeforestationYear", "S10_W80", "SAM_ID00")
    by_hand.write_bytes(b"placed by hand")
    (folder / jrc_name("DeforestationYear", "S20_W80", "SAM.ID00")).write_bytes(b"not a name")
    catalog = _catalog(service.base)
    rows = {(s.layer, s.tile): s for s in inventory(catalog, data_dir)}
    assert set(rows) == {("deforestation_year", TILE), ("deforestation_year", "S10_W80")}
    assert rows["deforestation_year", TILE].checksum is Checksum.OK
    assert rows["deforestation_year", "S10_W80"].checksum is Checksum.UNKNOWN
    result.path.write_bytes(b"damaged")
    (problem,) = verify(tmf, data_dir)
    assert (problem.kind, problem.path) == ("mismatch", str(result.path))
    # A newer name of the same tile beside it does not hide the recorded file from verify.
    (folder / jrc_name("DeforestationYear", region="SAM_ID29")).write_bytes(b"newer")
    result.path.unlink()
    (problem,) = verify(tmf, data_dir)
    assert (problem.kind, problem.path) == ("missing", str(result.path))


# --- catalog and header parsing ------------------------------------------------------------------


def test_the_catalog_gives_jrc_urls_per_layer() -> None:
    tmf = load_catalog(CATALOG).get("jrc_tmf")
    for layer, product in PRODUCTS.items():
        assert source_url(tmf, layer, "S10_W80") == (
            f"{JRC}{SERVICE}?type=tile&dataset={product}&lat=S10&lon=W80"
        )
    hansen = load_catalog(CATALOG).get("hansen_gfc")
    lat_lon = hansen.model_copy(update={"source": "https://example.org/{lat}/{lon}/{file}"})
    assert source_url(lat_lon, "lossyear", "10S_080W").startswith("https://example.org/10S/080W/")


def test_catalog_problems_with_server_names_are_config_errors(data_dir: Path) -> None:
    tmf = load_catalog(CATALOG).get("jrc_tmf")
    names = dict(tmf.encoding["download_names"])
    del names["transition"]
    short = tmf.model_copy(update={"encoding": {**tmf.encoding, "download_names": names}})
    with pytest.raises(ConfigError, match=r"download_names gives no name for layer 'transition'"):
        source_url(short, "transition", TILE)
    typo = tmf.model_copy(update={"encoding": {"download_names": {"deforestation": "X"}}})
    with pytest.raises(ConfigError, match="unknown layer"):
        source_url(typo, "deforestation_year", TILE)
    by_file = tmf.model_copy(update={"source": "https://example.org/{file}"})
    with pytest.raises(ConfigError, match=r"cannot use \{file\}"):
        source_url(by_file, "transition", TILE)
    nested = tmf.model_copy(update={"location": "{data_dir}/jrc_tmf/{file}/x.tif"})
    with pytest.raises(ConfigError, match="must end"):
        download_tile(nested, "transition", TILE, data_dir)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('attachment; filename="JRC_a_N0_W80.tif"', "JRC_a_N0_W80.tif"),
        ("attachment; filename=JRC_a_N0_W80.tif", "JRC_a_N0_W80.tif"),
        ('Attachment; FileName="a.tif"', "a.tif"),
        ("attachment; filename*=UTF-8''JRC_%C3%A9.tif", "JRC_é.tif"),
        ("attachment; filename=\"old.tif\"; filename*=UTF-8''new.tif", "new.tif"),
        ("attachment; filename*=utf-8''new.tif; filename=\"old.tif\"", "new.tif"),
        ("attachment; filename*=UTF-8''%FF.tif; filename=\"plain.tif\"", "plain.tif"),
        ('attachment; filename="a \\"b\\".tif"', 'a "b".tif'),
        ('attachment; filename="a;b.tif"', "a;b.tif"),
        ('attachment; size=10; filename="a.tif"', "a.tif"),
        ('attachment; broken; filename="a.tif"', None),
        ("attachment", None),
        ("inline", None),
        ("", None),
        (None, None),
    ],
)
def test_disposition_filename(header: str | None, expected: str | None) -> None:
    assert disposition_filename(header) == expected
