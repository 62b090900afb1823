"""Tile downloads against a real HTTP server on 127.0.0.1 laid out like Hansen's bucket."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import typer
import yaml
from affine import Affine
from rasterio.io import MemoryFile
from typer.testing import CliRunner, Result

from eudr_check.cli.datasets import datasets_app
from eudr_check.datasets.catalog import Catalog, Dataset, TileScheme, load_catalog
from eudr_check.datasets.download import (
    Checksum,
    DownloadError,
    download_many,
    download_tile,
    inventory,
    needed_tiles,
    parse_tile,
    part_path,
    plot_bounds,
    read_checksums,
    verify,
)
from eudr_check.errors import ConfigError
from tests.local_http import no_proxy, serving

CATALOG = Path(__file__).resolve().parents[1] / "config" / "datasets.yaml"
VERSION = "GFC-2024-v1.12"
BUCKET = f"/earthenginepartners-hansen/{VERSION}"
TIMEOUT = 5.0


def tif_bytes(tile_top: int, tile_left: int, seed: int) -> bytes:
    """A small real GeoTIFF (uint8, EPSG:4326, the product's pixel) at a tile's corner."""
    values = np.random.default_rng(seed).integers(0, 25, size=(60, 60), dtype=np.uint8)
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": 60, "height": 60, "count": 1, "dtype": "uint8",
        "crs": "EPSG:4326", "transform": Affine(0.00025, 0, tile_left, 0, -0.00025, tile_top),
        "nodata": 255,
    }  # fmt: skip
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(values, 1)
        return bytes(mem.read())


def hansen_name(layer: str, tile: str) -> str:
    return f"Hansen_{VERSION}_{layer}_{tile}.tif"


@dataclass
class Served:
    """What the test server serves and how it misbehaves; it logs (path, Range) per request."""

    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    agents: set[str] = field(default_factory=set)
    redirects: dict[str, str] = field(default_factory=dict)  # path prefix -> new prefix
    ignore_range: bool = False
    truncate: bool = False
    stall: bool = False
    release: threading.Event = field(default_factory=threading.Event)

    def serve(self, layer: str, tile: str, data: bytes) -> bytes:
        self.files[f"{BUCKET}/{hansen_name(layer, tile)}"] = data
        return data

    def ranges(self) -> list[str | None]:
        return [r for _, r in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the requests are recorded in `state` for the assertions instead."""

    def do_GET(self) -> None:
        state: Served = self.server.state
        rng = self.headers.get("Range")
        state.requests.append((self.path, rng))
        state.agents.add(self.headers.get("User-Agent", ""))
        for old, new in state.redirects.items():
            if self.path.startswith(old):
                self.send_response(302)
                self.send_header("Location", state.base + new + self.path[len(old) :])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        data = state.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if match and not state.ignore_range:
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
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if state.stall:
            state.release.wait(TIMEOUT)
        if state.truncate:
            body = body[: len(body) // 2]  # then the connection closes: a cut transfer
        self.wfile.write(body)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    no_proxy(monkeypatch)


@pytest.fixture
def server() -> Iterator[Served]:
    with serving(_Handler, Served()) as state:
        yield state


def _catalog(base: str) -> Catalog:
    catalog = load_catalog(CATALOG)
    hansen = catalog.get("hansen_gfc")
    source = base + "/earthenginepartners-hansen/{version}/{file}"
    datasets = [
        d.model_copy(update={"source": source}) if d.id == "hansen_gfc" else d
        for d in catalog.datasets
    ]
    assert hansen.version == VERSION
    return catalog.model_copy(update={"datasets": datasets})


@pytest.fixture
def hansen(server: Served) -> Dataset:
    return _catalog(server.base).get("hansen_gfc")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _target(data_dir: Path, layer: str = "lossyear", tile: str = "10S_080W") -> Path:
    return data_dir / "hansen_gfc" / hansen_name(layer, tile)


# --- library -----------------------------------------------------------------------------------


def test_fresh_download_records_checksum(server: Served, hansen: Dataset, data_dir: Path) -> None:
    data = server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 1))
    result = download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    target = _target(data_dir)
    digest = hashlib.sha256(data).hexdigest()
    assert result.path == target and target.read_bytes() == data
    assert (result.bytes, result.sha256, result.resumed, result.skipped) == (
        len(data), digest, False, False,
    )  # fmt: skip
    assert not part_path(target).exists()
    sums = (data_dir / "hansen_gfc" / "SHA256SUMS").read_text(encoding="utf-8")
    assert sums == f"{digest}  {target.name}\n"
    log = json.loads((data_dir / "hansen_gfc" / "downloads.json").read_text(encoding="utf-8"))
    assert log[0]["url"] == f"{server.base}{BUCKET}/{target.name}" and log[0]["sha256"] == digest
    assert server.ranges() == [None]
    with rasterio.open(target) as src:  # a real, readable GeoTIFF arrived
        assert src.crs.to_epsg() == 4326
    assert verify(hansen, data_dir) == []


def test_resume_asks_for_the_rest(server: Served, hansen: Dataset, data_dir: Path) -> None:
    data = server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 2))
    half = len(data) // 2
    part = part_path(_target(data_dir))
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:half])
    seen: list[tuple[int, int | None]] = []
    result = download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT,
                           progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert server.ranges() == [f"bytes={half}-"]
    assert result.resumed and _target(data_dir).read_bytes() == data
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert seen[0] == (half, len(data)) and seen[-1] == (len(data), len(data))
    assert not part.exists()


def test_redirects_are_followed_with_the_range(
    server: Served, hansen: Dataset, data_dir: Path
) -> None:
    data = server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 21))
    server.redirects["/moved"] = "/earthenginepartners-hansen"
    moved = hansen.model_copy(update={"source": server.base + "/moved/{version}/{file}"})
    part = part_path(_target(data_dir))
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:100])
    result = download_tile(moved, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    assert [p.split("/")[1] for p, _ in server.requests] == ["moved", "earthenginepartners-hansen"]
    assert server.ranges() == ["bytes=100-", "bytes=100-"]
    assert result.resumed and _target(data_dir).read_bytes() == data
    assert all(agent.startswith("eudr-check/") for agent in server.agents)


def test_server_ignoring_range_restarts(server: Served, hansen: Dataset, data_dir: Path) -> None:
    data = server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 3))
    server.ignore_range = True
    part = part_path(_target(data_dir))
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * (len(data) // 2))  # would corrupt the file if appended to
    result = download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    assert server.ranges() == [f"bytes={len(data) // 2}-"]
    assert not result.resumed and _target(data_dir).read_bytes() == data
    assert read_checksums(hansen, data_dir) == {
        _target(data_dir).name: hashlib.sha256(data).hexdigest()
    }


def test_complete_part_and_416_means_done(server: Served, hansen: Dataset, data_dir: Path) -> None:
    data = server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 4))
    part = part_path(_target(data_dir))
    part.parent.mkdir(parents=True)
    part.write_bytes(data)
    result = download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    assert server.ranges() == [f"bytes={len(data)}-"]
    assert (
        _target(data_dir).read_bytes() == data and result.sha256 == hashlib.sha256(data).hexdigest()
    )


def test_404_names_the_url_and_other_tiles_go_on(
    server: Served, hansen: Dataset, data_dir: Path
) -> None:
    data = server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 5))
    report = download_many(hansen, ["lossyear"], ["00N_080W", "10S_080W"], data_dir,
                           timeout=TIMEOUT)  # fmt: skip
    assert [r.tile for r in report.results] == ["10S_080W"]
    assert _target(data_dir).read_bytes() == data
    (failure,) = report.failures
    assert isinstance(failure.error, DownloadError)
    url = f"{server.base}{BUCKET}/{hansen_name('lossyear', '00N_080W')}"
    assert failure.error.url == url and url in str(failure.error) and "404" in str(failure.error)
    assert "00N_080W" in failure.message("es") and "no se pudo descargar" in failure.message("es")
    assert not _target(data_dir, tile="00N_080W").exists()
    assert not part_path(_target(data_dir, tile="00N_080W")).exists()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused_is_a_download_error(data_dir: Path) -> None:
    dead = _catalog(f"http://127.0.0.1:{_closed_port()}").get("hansen_gfc")
    with pytest.raises(DownloadError, match="10S_080W") as info:
        download_tile(dead, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    assert "127.0.0.1" in str(info.value)
    report = download_many(dead, ["lossyear", "treecover2000"], ["10S_080W"], data_dir,
                           timeout=TIMEOUT)  # fmt: skip
    assert report.results == [] and len(report.failures) == 2


def test_truncated_transfer_keeps_the_part_for_a_resume(
    server: Served, hansen: Dataset, data_dir: Path
) -> None:
    data = server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 6))
    server.truncate = True
    with pytest.raises(DownloadError, match="incomplete"):
        download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    target = _target(data_dir)
    assert not target.exists() and read_checksums(hansen, data_dir) == {}
    kept = part_path(target).read_bytes()
    assert kept == data[: len(kept)] and 0 < len(kept) < len(data)
    server.truncate = False
    result = download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    assert server.ranges()[-1] == f"bytes={len(kept)}-"
    assert result.resumed and target.read_bytes() == data


def test_stalled_server_times_out(server: Served, hansen: Dataset, data_dir: Path) -> None:
    server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 7))
    server.stall = True
    with pytest.raises(DownloadError, match="timed out"):
        download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=0.3)
    assert not _target(data_dir).exists()


def test_verified_file_is_skipped_and_a_changed_one_fetched_again(
    server: Served, hansen: Dataset, data_dir: Path
) -> None:
    data = server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 8))
    download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    server.requests.clear()
    again = download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    assert again.skipped and server.requests == []
    _target(data_dir).write_bytes(b"damaged")
    (problem,) = verify(hansen, data_dir)
    assert problem.kind == "mismatch" and problem.expected == hashlib.sha256(data).hexdigest()
    fixed = download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    assert not fixed.skipped and _target(data_dir).read_bytes() == data
    forced = download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT, force=True)
    assert not forced.skipped and len(server.requests) == 2
    _target(data_dir).unlink()
    assert [p.kind for p in verify(hansen, data_dir)] == ["missing"]


def test_catalog_problems_are_config_errors(hansen: Dataset, data_dir: Path) -> None:
    remote = hansen.model_copy(update={"location": "https://example.org/{file}"})
    with pytest.raises(ConfigError, match="local location"):
        download_tile(remote, "lossyear", "10S_080W", data_dir)
    with pytest.raises(ConfigError, match="no download source"):
        download_many(hansen.model_copy(update={"source": None}), ["lossyear"], ["10S_080W"],
                      data_dir)  # fmt: skip
    odd = hansen.model_copy(update={"source": "http://127.0.0.1:9/{region}/{file}"})
    with pytest.raises(ConfigError, match="region"):
        download_tile(odd, "lossyear", "10S_080W", data_dir)


@pytest.mark.parametrize(
    ("scheme", "name", "expected"),
    [
        (TileScheme.HANSEN, "10S_080W", "10S_080W"),
        (TileScheme.HANSEN, "10s_080w", "10S_080W"),
        (TileScheme.HANSEN, "00N_080W", "00N_080W"),
        (TileScheme.HANSEN, "00S_080W", None),
        (TileScheme.HANSEN, "15S_080W", None),
        (TileScheme.HANSEN, "10S_190W", None),
        (TileScheme.HANSEN, "S10_W80", None),
        (TileScheme.HANSEN, "../etc", None),
        (TileScheme.JRC, "S10_W80", "S10_W80"),
        (TileScheme.JRC, "N0_W80", "N0_W80"),
        (TileScheme.JRC, "S10_W080", None),
        (TileScheme.WORLDCOVER, "s06w081", "S06W081"),
        (TileScheme.WORLDCOVER, "N39E012", "N39E012"),
        (TileScheme.WORLDCOVER, "S05W081", None),  # not on the 3° grid
        (TileScheme.WORLDCOVER, "S6W81", None),
        (TileScheme.SINGLE, "all", "all"),
        (TileScheme.SINGLE, "00N_080W", None),
    ],
)
def test_parse_tile(scheme: TileScheme, name: str, expected: str | None) -> None:
    assert parse_tile(scheme, name) == expected


def test_points_near_an_edge_need_both_tiles(hansen: Dataset) -> None:
    from shapely.geometry import Point, box

    jaen = box(-78.81, -5.71, -78.80, -5.70)
    assert needed_tiles(hansen, plot_bounds([jaen, None])) == ["00N_080W"]
    edge = Point(-78.5, -9.9995)
    assert needed_tiles(hansen, plot_bounds([edge])) == ["00N_080W", "10S_080W"]
    assert needed_tiles(hansen, plot_bounds([Point(-78.5, -9.99)])) == ["00N_080W"]


def test_inventory_lists_present_and_missing(
    server: Served, hansen: Dataset, data_dir: Path
) -> None:
    server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 9))
    download_tile(hansen, "lossyear", "10S_080W", data_dir, timeout=TIMEOUT)
    stray = _target(data_dir, "treecover2000", "10S_080W")
    stray.write_bytes(b"placed by hand")
    part_path(_target(data_dir, tile="00N_080W")).write_bytes(b"half")  # not a tile yet
    catalog = _catalog(server.base)
    rows = inventory(catalog, data_dir, {"hansen_gfc": ["00N_080W", "10S_080W"]})
    hansen_rows = {(s.layer, s.tile): s for s in rows if s.dataset_id == "hansen_gfc"}
    assert hansen_rows["lossyear", "10S_080W"].checksum is Checksum.OK
    assert hansen_rows["treecover2000", "10S_080W"].checksum is Checksum.UNKNOWN
    assert hansen_rows["lossyear", "00N_080W"].missing
    assert hansen_rows["treecover2000", "00N_080W"].missing
    assert len(hansen_rows) == 4
    assert all(not s.present for s in rows if s.dataset_id != "hansen_gfc")
    stray_sums = (data_dir / "hansen_gfc" / "SHA256SUMS").read_text(encoding="utf-8")
    (data_dir / "hansen_gfc" / "SHA256SUMS").write_text(
        stray_sums.replace(stray_sums[:64], "0" * 64), encoding="utf-8"
    )
    rows = inventory(catalog, data_dir)
    assert [s.checksum for s in rows if s.layer == "lossyear"] == [Checksum.MISMATCH]


# --- command line ------------------------------------------------------------------------------


@pytest.fixture
def catalog_file(server: Served, tmp_path: Path) -> Path:
    """The real catalog with Hansen pointed at the test server and only Hansen enabled."""
    doc = _catalog(server.base).model_dump(mode="json")
    doc["datasets"] = [d for d in doc["datasets"] if d["id"] == "hansen_gfc"]
    path = tmp_path / "datasets.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(datasets_app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def _plots_file(tmp_path: Path) -> Path:
    d = 0.001
    x, y = -78.8, -5.7
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    features = [
        {"type": "Feature", "properties": {"plot_id": "JAE-1", "ProducerCountry": "PE"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}},
        {"type": "Feature", "properties": {"plot_id": "EDGE-1", "ProducerCountry": "PE"},
         "geometry": {"type": "Point", "coordinates": [-78.5, -9.9995]}},
        {"type": "Feature", "properties": {"plot_id": "NOGEOM"}, "geometry": None},
    ]  # fmt: skip
    path = tmp_path / "socios.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _serve_all(server: Served) -> None:
    for seed, (top, tile) in enumerate([(0, "00N_080W"), (-10, "10S_080W")]):
        for layer in ("lossyear", "treecover2000"):
            server.serve(layer, tile, tif_bytes(top, -80, 10 + seed))


def test_cli_download_with_plots_fetches_both_tiles(
    server: Served, catalog_file: Path, data_dir: Path, tmp_path: Path
) -> None:
    _serve_all(server)
    result = invoke("download", "--dataset", "hansen_gfc", "--plots", _plots_file(tmp_path),
                    "--datasets", data_dir, "--catalog", catalog_file, "--lang", "en")  # fmt: skip
    assert result.exit_code == 0, result.output
    fetched = sorted(path.rsplit("/", 1)[1] for path, _ in server.requests)
    assert fetched == sorted(
        hansen_name(layer, tile)
        for layer in ("lossyear", "treecover2000")
        for tile in ("00N_080W", "10S_080W")
    )
    assert "All downloaded and verified" in result.stdout
    assert len(read_checksums(_catalog(server.base).get("hansen_gfc"), data_dir)) == 4


def test_cli_download_failure_exits_1_and_says_why(
    server: Served, catalog_file: Path, data_dir: Path
) -> None:
    server.serve("lossyear", "10S_080W", tif_bytes(-10, -80, 20))
    result = invoke("download", "--dataset", "hansen_gfc", "--layer", "lossyear",
                    "--tiles", "10S_080W", "--tiles", "00n_080w", "--datasets", data_dir,
                    "--catalog", catalog_file)  # fmt: skip
    assert result.exit_code == 1
    assert _target(data_dir).is_file()
    assert "HTTP 404" in result.stderr and hansen_name("lossyear", "00N_080W") in result.stderr
    assert "no se pudo descargar" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "nope", "--tiles", "10S_080W"], "dataset desconocido"),
        (["--dataset", "hansen_gfc", "--tiles", "10S_85W"], "no es un nombre de tesela"),
        (["--dataset", "hansen_gfc", "--layer", "gain", "--tiles", "10S_080W"], "capa"),
        (["--dataset", "hansen_gfc"], "--tiles o --plots"),
        (["--dataset", "hansen_gfc", "--tiles", "10S_080W", "--lang", "fr"], "--lang"),
    ],
)
def test_cli_download_bad_options_exit_2(
    catalog_file: Path, data_dir: Path, args: list[str], message: str
) -> None:
    result = invoke("download", *args, "--datasets", data_dir, "--catalog", catalog_file)
    assert result.exit_code == 2
    assert message in result.stderr


def test_cli_unreadable_plot_file_exits_2(
    catalog_file: Path, data_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "socios.pdf"
    bad.write_bytes(b"%PDF-1.7 not plots")
    result = invoke("download", "--dataset", "hansen_gfc", "--plots", bad, "--datasets",
                    data_dir, "--catalog", catalog_file, "--lang", "en")  # fmt: skip
    assert result.exit_code == 2 and "socios.pdf: this is a PDF" in result.stderr
    missing = invoke("list", "--plots", tmp_path / "nothere.geojson", "--catalog", catalog_file)
    assert missing.exit_code == 2 and "no existe" in missing.stderr


def test_cli_list_shows_missing_tiles_and_the_command(
    server: Served, catalog_file: Path, data_dir: Path, tmp_path: Path
) -> None:
    _serve_all(server)
    plots = _plots_file(tmp_path)
    invoke("download", "--dataset", "hansen_gfc", "--tiles", "10S_080W", "--datasets", data_dir,
           "--catalog", catalog_file)  # fmt: skip
    result = invoke("list", "--plots", plots, "--datasets", data_dir, "--catalog", catalog_file,
                    "--lang", "en")  # fmt: skip
    assert result.exit_code == 1
    assert "10S_080W" in result.stdout and "ok" in result.stdout
    assert "MISSING" in result.stdout and "00N_080W" in result.stdout
    command = (
        f"eudr-check datasets download --dataset hansen_gfc --tiles 00N_080W "
        f"--datasets {data_dir} --catalog {catalog_file}"
    )
    assert command in result.stdout
    fetched = invoke(*command.split()[2:])
    assert fetched.exit_code == 0, fetched.output
    done = invoke("list", "--plots", plots, "--datasets", data_dir, "--catalog", catalog_file)
    assert done.exit_code == 0 and "FALTA" not in done.stdout


def test_cli_list_without_plots_and_settings_data_dir(
    server: Served, catalog_file: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir.joinpath("hansen_gfc").mkdir(parents=True)
    _target(data_dir).write_bytes(b"by hand")
    monkeypatch.setenv("EUDR_CHECK_DATASETS", str(data_dir))
    app = typer.Typer()
    app.add_typer(datasets_app, name="datasets")  # as cli.py registers it
    result = CliRunner().invoke(app, ["datasets", "list", "--catalog", str(catalog_file)])
    assert result.exit_code == 0, result.output
    assert "10S_080W" in result.stdout and "desconocida" in result.stdout
