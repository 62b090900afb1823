"""The synthetic sample rasters in sample_data/: real names, types, grids and encodings, marked
synthetic, small, and painted as the design table of sample_data/README.md says.

Both the files and the README are written by scripts/make_sample_rasters.py.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine
from numpy.typing import NDArray
from rasterio.enums import Compression
from rasterio.features import geometry_mask
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from eudr_check.datasets.catalog import Dataset, Role, TileScheme, load_catalog
from eudr_check.datasets.sources import locate
from eudr_check.datasets.tiles import tile_corner, tiles_for_bounds
from eudr_check.intake import read_plots
from eudr_check.rules import validate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sample_data"
README = DATA / "README.md"
PLOTS = ROOT / "sample_plots" / "cooperativa.geojson"
CATALOG = load_catalog(ROOT / "config" / "datasets.yaml")
TILES = {TileScheme.HANSEN: ("00N_080W", "10S_080W"), TileScheme.JRC: ("N0_W80", "S10_W80")}
SAMPLED = ("hansen_gfc", "jrc_gfc2020", "gfw_integrated_alerts")
MAX_TOTAL_MB = 5.0
NEWEST_ALERT_DAYS = 4018  # 2025-12-31, days since 2014-12-31


def sample_files() -> list[tuple[Dataset, str, str]]:
    return [
        (ds, layer, tile)
        for ds in map(CATALOG.get, SAMPLED)
        for layer in ds.layers
        for tile in TILES[ds.tiles]
    ]


def _id(case: tuple[Dataset, str, str]) -> str:
    return f"{case[0].id}-{case[1]}-{case[2]}"


FILES = sample_files()


def path_of(ds: Dataset, layer: str, tile: str) -> Path:
    return Path(locate(ds, layer, tile, DATA).path)


# --------------------------------------------------------------------------------------------
# The files themselves
# --------------------------------------------------------------------------------------------
def test_exactly_the_catalog_files_are_there() -> None:
    expected = {path_of(*case) for case in FILES}
    for ds, layer, tile in FILES:
        assert path_of(ds, layer, tile).name == ds.file_name(layer, tile)
    # sample_data/jrc_tmf/ is scripts/make_sample_tmf.py's and esa_worldcover/ is
    # make_sample_national.py's (both off in the catalog; tested in test_indicators.py and
    # test_national_layers.py).
    others = {"jrc_tmf", "esa_worldcover"}
    assert {p for p in DATA.rglob("*.tif") if not others & set(p.parts)} == expected


def test_sample_data_stays_small() -> None:
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < MAX_TOTAL_MB * 1024**2, f"sample_data/ is {total / 1024**2:.1f} MB"


def test_readme_says_synthetic_in_both_languages() -> None:
    head = README.read_text(encoding="utf-8")[:1500]
    assert "DATOS SINTÉTICOS" in head
    assert "SYNTHETIC DATA" in head


@pytest.mark.parametrize("case", FILES, ids=_id)
def test_file_format_follows_the_real_product(case: tuple[Dataset, str, str]) -> None:
    ds, layer, tile = case
    with rasterio.open(path_of(ds, layer, tile)) as src:
        assert src.count == 1
        assert src.dtypes[0] == ("uint16" if ds.role is Role.ALERTS else "uint8")
        assert src.nodata == ds.layers[layer].nodata
        assert src.crs is not None and src.crs.to_epsg() == 4326
        t = src.transform
        assert t.b == 0 and t.d == 0
        assert t.a == pytest.approx(ds.pixel_deg, abs=1e-15)
        assert t.e == pytest.approx(-ds.pixel_deg, abs=1e-15)
        # On the real tile's grid: the corner a whole number of pixels from the tile corner.
        top, left = tile_corner(ds.tiles, tile)
        cols, rows = (t.c - left) / ds.pixel_deg, (top - t.f) / ds.pixel_deg
        assert abs(cols - round(cols)) < 1e-6 and abs(rows - round(rows)) < 1e-6
        b = src.bounds
        assert left <= b.left < b.right <= left + 10 and top - 10 <= b.bottom < b.top <= top
        assert src.compression is Compression.lzw
        block_rows, block_cols = src.block_shapes[0]
        if ds.id == "gfw_integrated_alerts":
            assert src.profile["tiled"] and (block_rows, block_cols) == (256, 256)
        else:  # striped, a few rows per strip (Hansen: one, as the real tiles)
            assert not src.profile["tiled"] and block_cols == src.width
            assert block_rows == 1 if ds.id == "hansen_gfc" else block_rows <= 16
        tags = src.tags()
        assert tags["SYNTHETIC"] == "yes"
        assert "NOT real" in tags["DESCRIPTION"]
        assert "SOURCE_NAMING" in tags


@pytest.mark.parametrize("case", FILES, ids=_id)
def test_values_use_the_product_encoding(case: tuple[Dataset, str, str]) -> None:
    ds, layer, tile = case
    with rasterio.open(path_of(ds, layer, tile)) as src:
        values = np.unique(src.read(1))
    if ds.id == "gfw_integrated_alerts":
        alerts = values[values > 0].astype(np.int64)
        assert set(np.unique(alerts // 10000).tolist()) <= {2, 3, 4}
        days = alerts % 10000
        assert days.min() >= 1 and days.max() <= NEWEST_ALERT_DAYS
        assert (days > 2192).any() and (days <= 2192).any()  # both sides of the cut-off
    elif ds.id == "jrc_gfc2020":
        assert set(values.tolist()) <= {0, 1, 255}
    elif layer == "treecover2000":
        assert set(values.tolist()) - {255} <= set(range(101))
    else:  # lossyear 1-24 = 2001-2024 for GFC-2024-v1.12
        assert set(values.tolist()) - {255} <= set(range(25))
        assert {15, 20, 21, 22, 23} <= set(values.tolist())


# --------------------------------------------------------------------------------------------
# The designed plots
# --------------------------------------------------------------------------------------------
def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def readme_table(first_header_cells: str) -> list[dict[str, str]]:
    """Rows of the README table whose header starts with the given cells."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first_header_cells))
    header = _cells(lines[start])
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, _cells(line), strict=True)))
    return rows


@dataclass(frozen=True)
class Item:
    lo: int
    hi: int

    def __contains__(self, v: int) -> bool:
        return self.lo <= v <= self.hi


def items(cell: str) -> list[Item]:
    """`0, 35–70, 42626 (2022-03-10, highest)` -> [0..0, 35..70, 42626..42626]."""
    out = []
    for part in re.sub(r"\([^)]*\)", "", cell).split(","):
        lo, _, hi = part.strip().replace("–", "-").partition("-")
        out.append(Item(int(lo), int(hi or lo)))
    return out


def keyed(ids: list[str]) -> list[str]:
    """Plot IDs with a repeated one numbered in file order: SIG-020 (#1), SIG-020 (#2)."""
    counts, seen = Counter(ids), Counter[str]()
    out = []
    for pid in ids:
        seen[pid] += 1
        out.append(f"{pid} (#{seen[pid]})" if counts[pid] > 1 else pid)
    return out


def circle(lon: float, lat: float, area_ha: float) -> BaseGeometry:
    aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84")
    back = pyproj.Transformer.from_crs(aeqd, 4326, always_xy=True)
    disc = shapely.Point(0, 0).buffer(math.sqrt(area_ha * 1e4 / math.pi), quad_segs=32)
    return shapely.transform(disc, back.transform, interleaved=False)


@pytest.fixture(scope="module")
def shapes() -> dict[str, BaseGeometry]:
    """The analysed shape of every plot after --fix; a point is the circle of its Area."""
    plots = validate(read_plots(PLOTS), fix=True).plots
    default = CATALOG.verdict.point_area_ha
    out = {}
    for key, geom, area in zip(
        keyed(plots["plot_id"].tolist()), plots.geometry, plots["declared_area_ha"], strict=True
    ):
        if geom is not None and geom.geom_type == "Point" and abs(geom.y) <= 90:
            geom = circle(geom.x, geom.y, area if area == area and area > 0 else default)
        out[key] = geom
    return out


DESIGN = readme_table("| plot_id | design |")
COLUMNS = {
    "treecover2000": ("hansen_gfc", "treecover2000"),
    "lossyear": ("hansen_gfc", "lossyear"),
    "JRC GFC2020": ("jrc_gfc2020", "forest"),
    "GFW alerts": ("gfw_integrated_alerts", "alerts"),
}


def values_in(path: Path, shape: BaseGeometry) -> NDArray[np.int64]:
    """Values of the cells whose centre lies in the shape (or, for a shape smaller than a
    cell, the cell under its representative point)."""
    with rasterio.open(path) as src:
        t = src.transform
        minx, miny, maxx, maxy = shape.bounds
        col0, row0 = math.floor((minx - t.c) / t.a) - 1, math.floor((maxy - t.f) / t.e) - 1
        col1, row1 = math.ceil((maxx - t.c) / t.a) + 1, math.ceil((miny - t.f) / t.e) + 1
        data = src.read(1, window=Window(col0, row0, col1 - col0, row1 - row0))
        here = Affine(t.a, 0, t.c + col0 * t.a, 0, t.e, t.f + row0 * t.e)
    inside = geometry_mask([shape], data.shape, here, invert=True, all_touched=False)
    if not inside.any():
        point = shape.representative_point()
        inside[math.floor((point.y - here.f) / here.e), math.floor((point.x - here.c) / here.a)] = (
            True
        )
    return data[inside].astype(np.int64)


def test_design_table_lists_each_painted_plot(shapes: dict[str, BaseGeometry]) -> None:
    keys = [row["plot_id"] for row in DESIGN]
    assert len(keys) == len(set(keys)) >= 60
    assert set(keys) <= set(shapes)


@pytest.mark.parametrize("row", DESIGN, ids=lambda r: r["plot_id"])
def test_plot_is_covered_and_painted_as_designed(
    row: dict[str, str], shapes: dict[str, BaseGeometry]
) -> None:
    shape = shapes[row["plot_id"]]
    for column, (dataset_id, layer) in COLUMNS.items():
        ds = CATALOG.get(dataset_id)
        (tile,) = tiles_for_bounds(ds.tiles, shape.bounds)
        path = path_of(ds, layer, tile)
        with rasterio.open(path) as src:
            assert shapely.box(*src.bounds).contains(shape), f"{path.name} does not cover it"
        found = set(values_in(path, shape).tolist())
        wanted = items(row[column])
        stray = {v for v in found if not any(v in item for item in wanted)}
        missing = [item for item in wanted if not any(v in item for v in found)]
        assert not stray, f"{column}: values {sorted(stray)} not in {row[column]!r}"
        assert not missing, f"{column}: {missing} of {row[column]!r} not found"
