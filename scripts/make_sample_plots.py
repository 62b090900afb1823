"""Generate the bundled sample cooperative in sample_plots/ (synthetic and deterministic).

Run with `.venv/bin/python scripts/make_sample_plots.py`. Every geometry is made up: plots are
drawn like a phone-GPS walk around a field and placed near real coffee and cocoa districts of
Peru (Jaén and San Ignacio in Cajamarca; La Convención in Cusco). Most plots are clean; each of
the others breaks exactly one EU Information System rule, so the tool's findings can be checked
plot by plot against the problem table that this script also writes into sample_plots/README.md.

The same seed always gives the same plots, and archives carry fixed dates, so a rerun leaves the
files byte for byte unchanged unless the script itself changed.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import math
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import openpyxl
import pyogrio
import pyproj
import shapely

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sample_plots"
BOUNDARIES = ROOT / "src" / "eudr_check" / "data" / "ne_50m_admin_0_countries.geojson.gz"
SEED = 20201231  # the EUDR cut-off date, as good a seed as any
GEOD = pyproj.Geod(ellps="WGS84")
FIXED_TIME = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)  # the date written into files and archives
COOP_NAME = "Cooperativa Agraria Sol Andino (ficticia)"
COOP_NOTE = (
    "Datos sintéticos de prueba: la cooperativa, sus socios y sus parcelas son ficticios, "
    "dibujados cerca de distritos reales. / Synthetic test data: the cooperative, its members "
    "and their plots are fictitious, drawn near real districts."
)
COMMODITY_ES = {"coffee": "café", "cocoa": "cacao"}

rng = np.random.default_rng(SEED)


# --------------------------------------------------------------------------------------------
# Places: each district is a cluster of plots laid out in metres around a centre
# --------------------------------------------------------------------------------------------
@dataclass
class Cluster:
    prefix: str  # plot code prefix: JAE (Jaén province), SIG (San Ignacio), LCV (La Convención)
    district: str
    lon: float
    lat: float
    caserios: str  # comma-separated hamlet names used for ProductionPlace
    radius_m: float = 2200.0
    taken: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, radius

    def __post_init__(self) -> None:
        aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={self.lat} +lon_0={self.lon} +ellps=WGS84")
        self._to_ll = pyproj.Transformer.from_crs(aeqd, 4326, always_xy=True)
        self._to_m = pyproj.Transformer.from_crs(4326, aeqd, always_xy=True)

    @property
    def commodity(self) -> str:
        return "cocoa" if self.prefix == "LCV" else "coffee"

    def place(self, radius: float, gap: float = 60.0) -> np.ndarray:
        """A free spot for a plot of this radius, so that no two plots touch by accident."""
        for _ in range(10_000):
            r = self.radius_m * math.sqrt(rng.uniform())
            a = rng.uniform(0, 2 * math.pi)
            x, y = r * math.cos(a), r * math.sin(a)
            if all(math.hypot(x - tx, y - ty) > radius + tr + gap for tx, ty, tr in self.taken):
                self.taken.append((x, y, radius))
                return np.array([x, y])
        raise RuntimeError(f"no room left in {self.district}")

    def lonlat(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack(self._to_ll.transform(xy[:, 0], xy[:, 1]))

    def metres(self, lonlat: np.ndarray) -> np.ndarray:
        return np.column_stack(self._to_m.transform(lonlat[:, 0], lonlat[:, 1]))

    def place_name(self) -> str:
        names = self.caserios.split(", ")
        return f"Caserío {names[int(rng.integers(len(names)))]}, {self.district}"


# Centres sit a few km off the district capitals, in farmland. Each region fits in ~0.4° x 0.4°
# so that small sample raster clips can cover all of it.
CLUSTERS = {
    c.district: c
    for c in (
        Cluster("JAE", "Huabal", -78.905, -5.605, "El Diamante, San Francisco, La Florida"),
        Cluster("JAE", "Las Pirias", -78.845, -5.640, "Santa Fe, Las Naranjas, Chaupe"),
        Cluster("JAE", "Jaén", -78.745, -5.665, "Alto Ihuamaca, Fila Alta, San Isidro"),
        Cluster("JAE", "Bellavista", -78.690, -5.630, "Nuevo Horizonte, El Cedro, Tamborapa"),
        Cluster("SIG", "Chirinos", -78.895, -5.340, "La Unión, Nuevo Progreso, Miraflores"),
        Cluster("SIG", "La Coipa", -78.915, -5.410, "San Antonio, Nueva Esperanza, El Porvenir"),
        Cluster("SIG", "Namballe", -79.085, -5.000, "Nueva Alianza, Alto Tambillo"),
        Cluster("LCV", "Santa Ana", -72.700, -12.850, "Sambaray, Macamango, Potrero"),
        Cluster("LCV", "Maranura", -72.665, -12.945, "Chaullay, Mandor, Aranjuyoc"),
        Cluster("LCV", "Echarati", -72.585, -12.770, "Chahuares, Palma Real, Pan de Azúcar"),
        Cluster("LCV", "Quellouno", -72.560, -12.645, "Alto Chirumbia, Santa Elena, Putucusi"),
    )
}

# Good plots per district: (polygons, points). Namballe only holds the border cases.
GOOD = {
    "Huabal": (4, 1), "Las Pirias": (3, 1), "Jaén": (4, 1), "Bellavista": (2, 1),
    "Chirinos": (4, 2), "La Coipa": (4, 2),
    "Santa Ana": (3, 1), "Maranura": (3, 1), "Echarati": (3, 1), "Quellouno": (3, 1),
}  # fmt: skip

FIRST_NAMES = {
    "coffee": "Segundo María José Rosa Wilmer Nelly Elmer Marleni Santos Flor Teodoro Anselmo "
    "Edilberto Yolanda Néstor Dionicia Ángel Irma Óscar Hermelinda Fermín Lucía Elías Zoila",
    "cocoa": "Hilario Justina Valentín Ruth Fortunato Nicolasa Efraín Gladys Rubén Celestina "
    "Julián Sonia Edwin Inés",
}
SURNAMES = {
    "coffee": "Peña Núñez Chinchay Guevara Delgado Tocto Córdova Vásquez Neyra Campos Cieza "
    "Rojas Alarcón Huamán Muñoz Díaz Fernández Ibáñez Sánchez Chávez Carrasco Julca",
    "cocoa": "Quispe Mamani Condori Ccahuana Yupanqui Huamán Cusi Álvarez Zúñiga Puma "
    "Ccorimanya Gutiérrez Villafuerte Baca",
}
_used_names: set[str] = set()


def producer_name(commodity: str, surnames: tuple[str, str] | None = None) -> str:
    """A fictional Spanish name, never used twice in the cooperative."""
    firsts, lasts = FIRST_NAMES[commodity].split(), SURNAMES[commodity].split()
    while True:
        first = firsts[int(rng.integers(len(firsts)))]
        last = surnames or [lasts[i] for i in rng.choice(len(lasts), size=2, replace=False)]
        name = f"{first} {last[0]} {last[1]}"
        if name not in _used_names:
            _used_names.add(name)
            return name


# --------------------------------------------------------------------------------------------
# Shapes: drawn in metres around (0, 0), written in degrees with exactly 6 decimals
# --------------------------------------------------------------------------------------------
def edge_angles(ring: np.ndarray) -> np.ndarray:
    """Angle (degrees) between the two sides meeting at each vertex of an open ring in metres."""
    prev, nxt = np.roll(ring, 1, axis=0) - ring, np.roll(ring, -1, axis=0) - ring
    cos = (prev * nxt).sum(1) / (np.linalg.norm(prev, axis=1) * np.linalg.norm(nxt, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def walk(area_ha: float, n: int | None = None) -> np.ndarray:
    """Open ring (counter-clockwise, metres) of an irregular field walked with a phone GPS."""
    n = n or int(rng.integers(6, 21))
    while True:
        step = 2 * math.pi / n
        phi = np.arange(n) * step + rng.uniform(-0.3, 0.3, n) * step
        r = np.clip(1 + 0.15 * rng.standard_normal(n), 0.7, 1.3)
        stretch, turn = math.sqrt(rng.uniform(1.0, 1.8)), rng.uniform(0, math.pi)
        x, y = r * np.cos(phi) * stretch, r * np.sin(phi) / stretch
        xy = np.column_stack(
            [x * math.cos(turn) - y * math.sin(turn), x * math.sin(turn) + y * math.cos(turn)]
        )
        xy *= math.sqrt(area_ha * 1e4 / shapely.Polygon(xy).area)
        xy += rng.normal(0, 1.0, xy.shape)  # GPS jitter of about a metre
        if shapely.Polygon(xy).is_valid and edge_angles(xy).min() > 25:
            return xy


def radius(xy: np.ndarray) -> float:
    return float(np.linalg.norm(xy, axis=1).max())


def decimals(v: float) -> int:
    return len(repr(float(v)).partition(".")[2])


def q6(v: float) -> float:
    """Round to 6 decimals. When the 6th decimal is 0, nudge by 1e-6 (0.1 m): JSON would print
    fewer decimals and a precision check would rightly complain about a good plot."""
    r = round(float(v), 6)
    return r if decimals(r) == 6 else round(r + 1e-6, 6)


def deg6(lonlat: np.ndarray) -> list[list[float]]:
    return [[q6(x), q6(y)] for x, y in lonlat]


def closed(ring: list[list[float]]) -> list[list[float]]:
    return [*ring, list(ring[0])]


def polygon_at(cluster: Cluster, xy: np.ndarray, centre: np.ndarray | None = None) -> dict:
    """GeoJSON Polygon of a ring in metres, at `centre` or at a free spot of the cluster."""
    centre = cluster.place(radius(xy)) if centre is None else centre
    return {"type": "Polygon", "coordinates": [closed(deg6(cluster.lonlat(xy + centre)))]}


def point_at(cluster: Cluster) -> dict:
    lon, lat = cluster.lonlat(cluster.place(120.0)[None, :])[0]
    return {"type": "Point", "coordinates": [q6(lon), q6(lat)]}


def geodesic_ha(geom: dict | shapely.Geometry) -> float:
    """Area on the WGS84 ellipsoid. An invalid outline is measured as make_valid reads it (both
    lobes of a figure eight count), which is what a user who walked it would expect."""
    shape = shapely.geometry.shape(geom) if isinstance(geom, dict) else geom
    return abs(GEOD.geometry_area_perimeter(shapely.make_valid(shape))[0]) / 1e4


def declared(area_ha: float) -> float:
    """What a technician writes down: the measured area, give or take a few per cent."""
    return round(area_ha * rng.uniform(0.95, 1.05), 2)


# --------------------------------------------------------------------------------------------
# Plots and their problems
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    code: str
    severity: str
    es: str
    en: str


E, W, R = "error", "warning", "repaired"
# Key -> expected finding. Two keys share the code self_intersection (crossing and folded sides).
PROBLEMS = {
    "self_intersection": Problem("self_intersection", E,
        "polígono en forma de ocho (lados que se cruzan)",
        "figure-eight polygon (crossing sides)"),
    "folded_side": Problem("self_intersection", E,
        "lado doblado: el recorrido vuelve sobre un lado ya caminado (lados superpuestos)",
        "folded side: the walk goes back over a side already walked (overlapping sides)"),
    "spike": Problem("spike", E,
        "pico: un vértice sale 320 m en aguja y regresa (ángulo < 1°)",
        "spike: one vertex shoots out 320 m and comes straight back (angle < 1°)"),
    "hole": Problem("hole", E,
        "polígono con hueco (casa y tendal excluidos)",
        "polygon with a hole (house and drying yard left out)"),
    "ring_not_closed": Problem("ring_not_closed", E,
        "anillo abierto (el primer punto no se repite al final)",
        "open ring (the first position is not repeated at the end)"),
    "too_few_positions": Problem("too_few_positions", E,
        "menos de 4 posiciones ([a, b, a])",
        "fewer than 4 positions ([a, b, a])"),
    "linestring": Problem("linestring", E,
        "línea (recorrido GPS abierto) en vez de polígono",
        "LineString (open GPS track) instead of a polygon"),
    "latlon_swapped": Problem("latlon_swapped", E,
        "latitud y longitud invertidas (cae en la Antártida)",
        "latitude and longitude swapped (lands in Antarctica)"),
    "low_precision": Problem("low_precision", W,
        "todas las coordenadas con solo 4 decimales (~11 m)",
        "every coordinate with only 4 decimals (~11 m)"),
    "rounding_duplicates": Problem("rounding_duplicates", E,
        "dos vértices a 2 cm (8 decimales) que se duplican al redondear a 6 decimales",
        "two vertices 2 cm apart (8 decimals) that become duplicates when rounded to 6 decimals"),
    "z_or_m_values": Problem("z_or_m_values", E,
        "coordenadas con altitud (valor Z, 1450 m)",
        "coordinates with altitude (Z value, 1450 m)"),
    "point_over_4ha": Problem("point_over_4ha", E,
        "parcela de 7,5 ha dada como punto",
        "7.5 ha plot given as a point"),
    "area_mismatch": Problem("area_mismatch", W,
        "área declarada (5,0 ha) muy distinta de la medida (2,1 ha)",
        "declared area (5.0 ha) far from the measured one (2.1 ha)"),
    "area_too_small": Problem("area_too_small", W,
        "parcela inverosímilmente pequeña (8 m × 8 m)",
        "implausibly small plot (8 m × 8 m)"),
    "area_too_large": Problem("area_too_large", W,
        "parcela inverosímilmente grande (unas 620 ha)",
        "implausibly large plot (about 620 ha)"),
    "duplicate_plot_id": Problem("duplicate_plot_id", E,
        "el mismo código para dos parcelas distintas (dos features)",
        "the same code for two different plots (two features)"),
    "duplicate_geometry": Problem("duplicate_geometry", E,
        "geometría idéntica declarada con dos códigos",
        "identical geometry declared under two codes"),
    "overlap": Problem("overlap", W,
        "dos parcelas vecinas se superponen (~30 % de la menor)",
        "two neighbouring plots overlap (~30 % of the smaller one)"),
    "outside_country": Problem("outside_country", E,
        "parcela en Ecuador, ~20 km más allá de la frontera, declarada PE",
        "plot in Ecuador, ~20 km beyond the border, declared PE"),
    "near_border": Problem("near_border", W,
        "parcela ~2 km fuera de la frontera (límite 1:50m) declarada PE",
        "plot ~2 km outside the border (1:50m boundary) declared PE"),
    "country_inferred": Problem("country_inferred", R,
        "falta ProducerCountry: se deduce de la ubicación (Perú)",
        "ProducerCountry missing: inferred from the location (Peru)"),
    "country_invalid": Problem("country_invalid", E,
        "código de país inválido «PU»",
        "invalid country code \"PU\""),
    "area_is_string": Problem("area_is_string", E,
        'Area escrita como texto ("2.5")',
        "Area written as a string (\"2.5\")"),
    "point_nested_coordinates": Problem("point_nested_coordinates", E,
        "punto con coordenadas anidadas [[lon, lat]]",
        "Point with nested coordinates [[lon, lat]]"),
    "coord_out_of_range": Problem("coord_out_of_range", E,
        "latitud mal tecleada, fuera de ±90 (-95,…)",
        "mistyped latitude beyond ±90 (-95.…)"),
    "multipart": Problem("multipart", W,
        "multipolígono de dos chacras a 8 km como una sola parcela",
        "MultiPolygon of two fields 8 km apart as one plot"),
    "degenerate_polygon": Problem("degenerate_polygon", E,
        "«polígono» en línea recta (vértices alineados, área 0)",
        "straight-line \"polygon\" (all vertices on one line, zero area)"),
}  # fmt: skip

# Formats besides the main GeoJSON; a broken plot lists those that carry it.
KML, SHP, GPKG, PTS, WKT, XLSX, GPX = "kml", "shp", "gpkg", "csv_points", "csv_wkt", "xlsx", "gpx"
FILE_NAMES = {
    KML: "cooperativa.kml, cooperativa.kmz", SHP: "cooperativa_shp.zip", GPKG: "cooperativa.gpkg",
    PTS: "cooperativa_puntos.csv", WKT: "cooperativa_wkt.csv", XLSX: "cooperativa.xlsx",
    GPX: "cooperativa.gpx",
}  # fmt: skip


@dataclass
class Plot:
    cluster: Cluster
    geometry: dict[str, Any]  # exactly as written to the GeoJSON file
    area: float | str  # declared Area
    problem: str | None = None  # key of PROBLEMS
    formats: tuple[str, ...] = ()  # other formats that carry this broken plot
    producer: str = ""
    place: str = ""
    country: str | None = "PE"  # None: the property is left out
    same_id_as: Plot | None = None  # the second plot of the duplicate-ID pair
    plot_id: str = ""

    def __post_init__(self) -> None:
        self.producer = self.producer or producer_name(self.commodity)
        self.place = self.place or self.cluster.place_name()

    @property
    def good(self) -> bool:
        return self.problem is None

    @property
    def commodity(self) -> str:
        return self.cluster.commodity

    @property
    def shape(self) -> shapely.Geometry:
        return shapely.geometry.shape(self.geometry)

    def carried_by(self, fmt: str) -> bool:
        return self.good or fmt in self.formats


def good_polygon(cluster: Cluster) -> Plot:
    # Smallholder sizes: most between 0.5 and 3 ha, a few up to 6 ha.
    area = float(np.clip(rng.lognormal(math.log(1.6), 0.6), 0.3, 6.0))
    geom = polygon_at(cluster, walk(area))
    return Plot(cluster, geom, declared(geodesic_ha(geom)))


def good_point(cluster: Cluster) -> Plot:
    return Plot(cluster, point_at(cluster), round(float(rng.uniform(0.5, 4.0)), 2))


def measured(cluster: Cluster, geom: dict, problem: str, *formats: str, **kw: Any) -> Plot:
    """A broken plot whose declared Area is the honest one, so area is not a second problem."""
    return Plot(cluster, geom, declared(geodesic_ha(geom)), problem, formats, **kw)


def broken_plots() -> Iterator[Plot]:
    """One plot per rule, each with that single problem (incidental warnings aside)."""
    C = CLUSTERS

    # Figure eight: the walker took two corners in the wrong order, so two sides cross.
    while True:
        xy = walk(1.8, 8)
        bow = xy[[0, 1, 2, 4, 3, 5, 6, 7]]
        if not shapely.Polygon(bow).is_valid and edge_angles(bow).min() > 5:
            break
    geom = polygon_at(C["Huabal"], bow)
    area = round(geodesic_ha(geom), 2)
    yield Plot(C["Huabal"], geom, area, "self_intersection", (KML, SHP, GPKG, WKT, GPX))

    # Folded side: after the east part the walker came back along the south side already
    # walked (E->F lies on A->B), then walked the west part. No sharp turn anywhere, so this is
    # an overlap of sides, not a spike.
    c = C["Las Pirias"]
    #              A       B         C          D        E        F         G           H
    xy = np.array([[0, 0], [120, 0], [125, 70], [60, 75], [60, 0], [30, 0], [25, -60], [-10, -55]])
    xy = xy - [55.0, 5.0]
    ring = deg6(c.lonlat(xy + c.place(radius(xy))))
    for i in (1, 4, 5):  # the shared side exactly on one parallel, whatever the rounding
        ring[i][1] = ring[0][1]
    yield measured(c, {"type": "Polygon", "coordinates": [closed(ring)]}, "folded_side")

    # Spike: one fix jumped 320 m out and came back 3 m further on: a needle of < 1°.
    xy = walk(1.5, 10)
    k = 4
    out = xy[k] / np.linalg.norm(xy[k])
    along = (xy[k + 1] - xy[k]) / np.linalg.norm(xy[k + 1] - xy[k])
    xy = np.vstack([xy[: k + 1], xy[k] + 320 * out, xy[k] + 3 * along, xy[k + 1 :]])
    yield measured(C["Jaén"], polygon_at(C["Jaén"], xy), "spike", KML, SHP, GPKG, WKT, XLSX)

    # Hole: the house and drying yard were walked around and left out as an inner ring.
    c = C["Huabal"]
    xy = walk(3.2, 12)
    centre = c.place(radius(xy))
    house = np.array([[-9.0, -6.0], [-9.0, 6.0], [9.0, 6.0], [9.0, -6.0]])  # clockwise
    geom = polygon_at(c, xy, centre)
    geom["coordinates"].append(closed(deg6(c.lonlat(house + centre))))
    yield measured(c, geom, "hole", KML, SHP, GPKG, WKT)

    # Open ring: the last position does not repeat the first.
    c = C["Bellavista"]
    plot = measured(c, polygon_at(c, walk(2.2)), "ring_not_closed", XLSX)
    plot.geometry["coordinates"][0].pop()
    yield plot

    # A "ring" of three positions [a, b, a]: the walk was stopped after one fix.
    c = C["Las Pirias"]
    a, b = deg6(c.lonlat(np.array([[0.0, 0.0], [35.0, 12.0]]) + c.place(40)))
    yield Plot(c, {"type": "Polygon", "coordinates": [[a, b, list(a)]]}, 0.8, "too_few_positions")

    # An open GPS track sent as a LineString.
    ring = polygon_at(C["Jaén"], walk(1.6, 14))["coordinates"][0]
    track = {"type": "LineString", "coordinates": ring[:-2]}
    yield Plot(C["Jaén"], track, 1.6, "linestring", (KML, WKT, GPX))

    # Latitude and longitude swapped: [-5.6, -78.9] puts the plot in Antarctica.
    c = C["Huabal"]
    plot = measured(c, polygon_at(c, walk(1.2)), "latlon_swapped")
    plot.geometry["coordinates"] = [[[y, x] for x, y in plot.geometry["coordinates"][0]]]
    yield plot

    # Every coordinate with 4 decimals (~11 m), as left by a spreadsheet.
    c = C["Jaén"]
    while True:
        xy = walk(2.5, 9)
        ll = np.round(c.lonlat(xy + c.place(radius(xy))), 4)
        ring = [[float(x), float(y)] for x, y in ll]
        ok = shapely.Polygon(c.metres(ll)).is_valid and edge_angles(c.metres(ll)).min() > 20
        if ok and all(decimals(v) == 4 for p in ring for v in p):
            break
        c.taken.pop()
    yield measured(c, {"type": "Polygon", "coordinates": [closed(ring)]}, "low_precision", XLSX)

    # Two consecutive fixes 2e-7° (2 cm) apart, written with 8 decimals: identical once rounded
    # to 6. The extra fix lies on the next side, so it makes no odd angle.
    c = C["Las Pirias"]
    plot = measured(c, polygon_at(c, walk(1.9, 10)), "rounding_duplicates")
    ring = plot.geometry["coordinates"][0]
    v, nxt = np.array(ring[3]), np.array(ring[4])
    extra = v + 2e-7 * (nxt - v) / np.linalg.norm(nxt - v)
    ring.insert(4, [round(float(extra[0]), 8), round(float(extra[1]), 8)])
    yield plot

    # The phone's altitude kept as a third coordinate.
    c = C["Jaén"]
    plot = measured(c, polygon_at(c, walk(2.0)), "z_or_m_values")
    ring = plot.geometry["coordinates"][0][:-1]
    alts = [1450.0] + [round(1450 + float(rng.uniform(-6, 9)), 1) for _ in ring[1:]]
    with_z = [[x, y, z] for (x, y), z in zip(ring, alts, strict=True)]
    plot.geometry["coordinates"] = [closed(with_z)]
    yield plot

    # A 7.5 ha plot given as a point: over 4 ha the EU requires a polygon.
    yield Plot(C["Bellavista"], point_at(C["Bellavista"]), 7.5, "point_over_4ha", (KML, PTS))

    # Declared 5.0 ha, walked 2.1 ha.
    yield Plot(C["Huabal"], polygon_at(C["Huabal"], walk(2.1)), 5.0, "area_mismatch", (SHP,))

    # An 8 m x 8 m square: a shed or a sampling point, not a coffee plot.
    c = C["Chirinos"]
    geom = polygon_at(c, np.array([[-4.0, -4.0], [4.0, -4.0], [4.0, 4.0], [-4.0, 4.0]]))
    yield Plot(c, geom, round(geodesic_ha(geom), 4), "area_too_small")

    # About 620 ha, a whole hillside: placed just outside the cluster so it touches no plot.
    c = C["Chirinos"]
    xy = walk(620, 18)
    centre = np.array([c.radius_m + radius(xy) + 400, 0.0])
    c.taken.append((*centre, radius(xy)))
    yield measured(c, polygon_at(c, xy, centre), "area_too_large", SHP)

    # Two different plots under the same code (a typo in the register).
    c = C["La Coipa"]
    first = measured(c, polygon_at(c, walk(1.4)), "duplicate_plot_id", SHP)
    yield first
    yield measured(c, polygon_at(c, walk(2.3)), "duplicate_plot_id", SHP, same_id_as=first)

    # The same land declared twice, by two siblings, under two codes.
    c = C["La Coipa"]
    geom = polygon_at(c, walk(1.7))
    area = declared(geodesic_ha(geom))
    for _ in range(2):
        sibling = producer_name("coffee", ("Cieza", "Julca"))
        copy = json.loads(json.dumps(geom))
        yield Plot(c, copy, area, "duplicate_geometry", (WKT,), producer=sibling)

    # Two neighbours whose walks overlap by 30 % of the smaller plot.
    c = C["Echarati"]
    a, b = walk(2.0, 12), walk(1.5, 10)
    direction = np.array([0.8, 0.6])

    def shared(d: float) -> float:
        return shapely.Polygon(a).intersection(shapely.Polygon(b + d * direction)).area / (
            shapely.Polygon(b).area
        )

    lo, hi = 0.0, radius(a) + radius(b)
    for _ in range(50):  # bisection: the shared fraction falls as b moves away
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if shared(mid) > 0.30 else (lo, mid)
    centre = c.place(radius(a) + radius(b))
    yield measured(c, polygon_at(c, a, centre), "overlap", GPKG)
    yield measured(c, polygon_at(c, b, centre + lo * direction), "overlap", GPKG)

    # Declared PE but drawn in Ecuador, due north of Namballe: 20 km beyond the border, and
    # only 2 km beyond (the 1:50m line is off by up to a few km, so that is only a warning).
    c = C["Namballe"]
    for km, problem in ((20.0, "outside_country"), (2.0, "near_border")):
        centre = c.metres(np.array([beyond_border(km)]))[0]
        yield measured(c, polygon_at(c, walk(1.3, 9), centre), problem, KML)

    # ProducerCountry left out: inferred from the location.
    c = C["Chirinos"]
    yield measured(c, polygon_at(c, walk(1.1)), "country_inferred", PTS, country=None)

    # "PU": not an ISO 3166 code (a typo for PE).
    c = C["Santa Ana"]
    yield measured(c, polygon_at(c, walk(2.4)), "country_invalid", GPKG, PTS, country="PU")

    # Area as the string "2.5": the EU system reads it as 0.
    c = C["Maranura"]
    yield Plot(c, polygon_at(c, walk(2.45)), "2.5", "area_is_string")

    # A Point whose coordinates are an array of arrays.
    c = C["Quellouno"]
    geom = point_at(c)
    geom["coordinates"] = [geom["coordinates"]]
    yield Plot(c, geom, 1.2, "point_nested_coordinates")

    # A mistyped latitude: -95.8… instead of -12.8…
    c = C["Santa Ana"]
    geom = point_at(c)
    geom["coordinates"][1] = q6(-95 - abs(geom["coordinates"][1]) % 1)
    yield Plot(c, geom, 1.5, "coord_out_of_range")

    # Two fields 8 km apart, in two districts, sent as one MultiPolygon plot.
    parts = [polygon_at(C["La Coipa"], walk(1.0)), polygon_at(C["Chirinos"], walk(0.9))]
    geom = {"type": "MultiPolygon", "coordinates": [p["coordinates"] for p in parts]}
    yield measured(C["La Coipa"], geom, "multipart", SHP, WKT)

    # A "polygon" whose vertices all lie on one straight line (zero area): the walker went along
    # a boundary and back. Steps of whole micro-degrees keep it exactly straight; starting on a
    # last digit of 1 keeps every 6th decimal non-zero.
    c = C["Chirinos"]
    lon0, lat0 = deg6(c.lonlat(c.place(180)[None, :]))[0]
    while abs(round(lon0 * 1e6)) % 10 != 1:
        lon0 = round(lon0 + 1e-6, 6)
    while abs(round(lat0 * 1e6)) % 10 != 1:
        lat0 = round(lat0 + 1e-6, 6)
    line = [[round(lon0 + k * 0.000412, 6), round(lat0 - k * 0.000272, 6)] for k in range(4)]
    yield Plot(c, {"type": "Polygon", "coordinates": [closed(line)]}, 0.9, "degenerate_polygon")


_countries: dict[str, shapely.Geometry] = {}


def country(iso2: str, utm17: bool = False) -> shapely.Geometry:
    """Natural Earth 1:50m boundary (the file the package ships), in degrees or UTM 17S."""
    if not _countries:
        doc = json.loads(gzip.decompress(BOUNDARIES.read_bytes()))
        for f in doc["features"]:
            _countries[f["properties"]["iso_a2"]] = shapely.geometry.shape(f["geometry"])
    key = f"{iso2}:utm17"
    if utm17 and key not in _countries:
        _countries[key] = to_utm17(_countries[iso2])
    return _countries[key if utm17 else iso2]


def to_utm17(geom: shapely.Geometry) -> shapely.Geometry:
    t = pyproj.Transformer.from_crs(4326, 32717, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def km_outside_peru(lon: float, lat: float) -> float:
    if country("PE").contains(shapely.Point(lon, lat)):
        return 0.0
    return country("PE", utm17=True).distance(to_utm17(shapely.Point(lon, lat))) / 1e3


def beyond_border(km: float) -> tuple[float, float]:
    """The point on the meridian 79.1° W, north of Namballe, `km` outside Peru."""
    lon, lo, hi = -79.10, -4.99, -4.60
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if km_outside_peru(lon, mid) < km else (lo, mid)
    return lon, lo


def make_plots() -> list[Plot]:
    plots: list[Plot] = []
    for district, (n_polygons, n_points) in GOOD.items():
        c = CLUSTERS[district]
        plots += [good_polygon(c) for _ in range(n_polygons)]
        plots += [good_point(c) for _ in range(n_points)]
    plots += broken_plots()
    # Codes are handed out in shuffled order, as a register grows, so broken plots sit among
    # the good ones instead of at the end.
    for prefix in ("JAE", "SIG", "LCV"):
        group = [p for p in plots if p.cluster.prefix == prefix and p.same_id_as is None]
        for n, i in enumerate(rng.permutation(len(group)), start=1):
            group[i].plot_id = f"{prefix}-{n:03d}"
    for p in plots:
        if p.same_id_as is not None:
            p.plot_id = p.same_id_as.plot_id
    return sorted(plots, key=lambda p: (p.plot_id, p.same_id_as is not None))


# --------------------------------------------------------------------------------------------
# Checks that the data is what the README says (the tool's own rules are tested elsewhere)
# --------------------------------------------------------------------------------------------
def verify(plots: list[Plot]) -> None:
    good = [p for p in plots if p.good]
    for p in good:
        g = p.shape
        assert g.is_valid, p.plot_id
        assert country("PE").contains(g.buffer(0.1)), f"{p.plot_id} is within ~10 km of a border"
        if g.geom_type == "Polygon":
            xy = shapely.get_coordinates(g)[:-1]
            assert 6 <= len(xy) <= 20 and edge_angles(p.cluster.metres(xy)).min() > 20, p.plot_id
            assert 0.3 <= geodesic_ha(g) <= 6.05, p.plot_id
            assert abs(p.area / geodesic_ha(g) - 1) <= 0.10, p.plot_id
        else:
            assert p.area <= 4, p.plot_id
    for p in plots:  # 6 decimals everywhere, except where too few or too many is the point
        if p.problem not in ("low_precision", "rounding_duplicates"):
            xy = shapely.get_coordinates(p.shape)
            assert all(decimals(v) == 6 for v in xy.ravel()), p.plot_id
    # No plot touches another, except where that is the point.
    shapes = [p.shape for p in plots if p.problem not in ("overlap", "duplicate_geometry")]
    i, j = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    assert (i == j).all(), "two plots touch by accident"
    for region in (("JAE", "SIG"), ("LCV",)):
        xy = shapely.get_coordinates([p.shape for p in good if p.cluster.prefix in region])
        assert (xy.max(0) - xy.min(0) < 0.4).all(), region

    by = {key: [p for p in plots if p.problem == key] for key in PROBLEMS}
    for key in ("self_intersection", "folded_side"):
        [p] = by[key]
        assert "Self-intersection" in shapely.is_valid_reason(p.shape), key
        assert edge_angles(p.cluster.metres(shapely.get_coordinates(p.shape)[:-1])).min() > 5
    [p] = by["spike"]
    assert p.shape.is_valid
    assert edge_angles(p.cluster.metres(shapely.get_coordinates(p.shape)[:-1])).min() < 1
    a, b = (p.shape for p in by["overlap"])
    assert abs(a.intersection(b).area / min(a.area, b.area) - 0.30) < 0.02
    for key, lo, hi in (("near_border", 1.7, 2.3), ("outside_country", 19, 21)):
        [p] = by[key]
        km = [km_outside_peru(x, y) for x, y in shapely.get_coordinates(p.shape)]
        assert country("EC").contains(p.shape) and lo < min(km) and max(km) < hi, (key, km)
    assert geodesic_ha(by["area_too_small"][0].shape) < 0.01
    assert geodesic_ha(by["area_too_large"][0].shape) > 500
    [p] = by["area_mismatch"]
    assert abs(p.area / geodesic_ha(p.shape) - 1) > 0.2
    assert by["degenerate_polygon"][0].shape.area < 1e-15  # zero, up to float error
    ring = by["rounding_duplicates"][0].geometry["coordinates"][0]
    rounded = [tuple(np.round(v, 6)) for v in ring]
    assert sum(u == v for u, v in itertools.pairwise(rounded)) == 1
    assert len({p.plot_id for p in plots}) == len(plots) - 1  # only the duplicate-ID pair


# --------------------------------------------------------------------------------------------
# Writers, one per format
# --------------------------------------------------------------------------------------------
def num(v: float) -> str:
    return repr(float(v))  # shortest exact form, as json.dumps writes it


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_zip(path: Path, members: dict[str, bytes]) -> None:
    """Zip with fixed member dates, so that reruns give identical bytes."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def write_geojson(plots: list[Plot]) -> None:
    # Plain json, not GDAL, so the deliberate raw problems (open ring, nested point, string
    # Area, Z) survive exactly. One feature per line keeps diffs readable.
    lines = []
    for p in plots:
        props: dict[str, Any] = {"plot_id": p.plot_id, "ProducerName": p.producer}
        if p.country is not None:
            props["ProducerCountry"] = p.country
        props |= {"ProductionPlace": p.place, "Area": p.area, "commodity": p.commodity}
        feature = {"type": "Feature", "properties": props, "geometry": p.geometry}
        lines.append(json.dumps(feature, ensure_ascii=False))
    head = {"type": "FeatureCollection", "name": COOP_NAME, "description": COOP_NOTE}
    head_text = json.dumps(head, ensure_ascii=False)
    text = head_text[:-1] + ', "features": [\n' + ",\n".join(lines) + "\n]}\n"
    (OUT / "cooperativa.geojson").write_text(text, encoding="utf-8")


def kml_coords(ring: list[list[float]]) -> str:
    return " ".join(f"{num(x)},{num(y)},0" for x, y, *_ in ring)


def kml_geometry(g: dict) -> str:
    if g["type"] == "Point":
        return f"<Point><coordinates>{kml_coords([g['coordinates']])}</coordinates></Point>"
    if g["type"] == "LineString":
        coords = f"<coordinates>{kml_coords(g['coordinates'])}</coordinates>"
        return f"<LineString><tessellate>1</tessellate>{coords}</LineString>"
    outer, *holes = (
        f"<LinearRing><coordinates>{kml_coords(r)}</coordinates></LinearRing>"
        for r in g["coordinates"]
    )
    inner = "".join(f"<innerBoundaryIs>{h}</innerBoundaryIs>" for h in holes)
    outer = f"<outerBoundaryIs>{outer}</outerBoundaryIs>"
    return f"<Polygon><tessellate>1</tessellate>{outer}{inner}</Polygon>"


def kml_placemark(p: Plot) -> str:
    data = {
        "codigo": p.plot_id, "productor": p.producer, "pais": p.country or "", "lugar": p.place,
        "superficie_ha": str(p.area), "cultivo": COMMODITY_ES[p.commodity],
    }  # fmt: skip
    ext = "".join(f'<Data name="{k}"><value>{escape(v)}</value></Data>' for k, v in data.items())
    return (
        f"    <Placemark>\n      <name>{p.plot_id}</name>\n      <styleUrl>#parcela</styleUrl>\n"
        f"      <ExtendedData>{ext}</ExtendedData>\n"
        f"      {kml_geometry(p.geometry)}\n    </Placemark>\n"
    )


def write_kml(plots: list[Plot]) -> None:
    # Google Earth style: a folder per district, the plot code as the placemark name.
    chosen = [p for p in plots if p.carried_by(KML)]
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n',
        f"<Document>\n  <name>{escape(COOP_NAME)}</name>\n",
        f"  <description>{escape(COOP_NOTE)}</description>\n",
        '  <Style id="parcela"><LineStyle><color>ff00ffff</color><width>2</width></LineStyle>'
        "<PolyStyle><color>4000ff00</color></PolyStyle></Style>\n",
    ]
    for district in (d for d in CLUSTERS if any(p.cluster.district == d for p in chosen)):
        parts.append(f"  <Folder>\n    <name>{escape(district)}</name>\n")
        parts += [kml_placemark(p) for p in chosen if p.cluster.district == district]
        parts.append("  </Folder>\n")
    parts.append("</Document>\n</kml>\n")
    kml = "".join(parts).encode("utf-8")
    (OUT / "cooperativa.kml").write_bytes(kml)
    write_zip(OUT / "cooperativa.kmz", {"doc.kml": kml})


def frame(plots: list[Plot], columns: dict[str, Callable[[Plot], Any]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {name: [get(p) for p in plots] for name, get in columns.items()},
        geometry=[p.shape for p in plots],
        crs="EPSG:4326",
    )


def spanish_columns(area_name: str) -> dict[str, Callable[[Plot], Any]]:
    return {
        "codigo": lambda p: p.plot_id,
        "productor": lambda p: p.producer,
        "pais": lambda p: p.country,
        "lugar": lambda p: p.place,
        area_name: lambda p: p.area,
        "cultivo": lambda p: COMMODITY_ES[p.commodity],
    }


def write_shapefile(plots: list[Plot]) -> None:
    # A technician's coffee file in UTM 17S, metres to the cm: Cajamarca polygons only (a
    # shapefile holds one geometry type, and Cusco lies in zone 18S).
    chosen = [
        p for p in plots
        if p.carried_by(SHP) and p.cluster.prefix != "LCV" and p.shape.geom_type.endswith("Polygon")
    ]  # fmt: skip
    gdf = frame(chosen, spanish_columns("area_ha")).to_crs(32717)
    rounded = shapely.transform(np.asarray(gdf.geometry.values), lambda xy: np.round(xy, 2))
    gdf = gdf.set_geometry(gpd.GeoSeries(rounded, index=gdf.index, crs=gdf.crs))
    with tempfile.TemporaryDirectory() as tmp:
        gdf.to_file(Path(tmp) / "cooperativa.shp", driver="ESRI Shapefile", encoding="UTF-8")
        dbf = Path(tmp) / "cooperativa.dbf"
        raw = bytearray(dbf.read_bytes())
        raw[1:4] = bytes([FIXED_TIME.year - 1900, FIXED_TIME.month, FIXED_TIME.day])  # dBase date
        dbf.write_bytes(raw)
        members = {f.name: f.read_bytes() for f in sorted(Path(tmp).iterdir())}
    assert set(members) == {f"cooperativa.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")}
    write_zip(OUT / "cooperativa_shp.zip", members)


def write_gpkg(plots: list[Plot]) -> None:
    path = OUT / "cooperativa.gpkg"
    path.unlink(missing_ok=True)
    # GDAL stamps the current time into a GeoPackage unless told which time to use.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp(FIXED_TIME)})
    for layer, commodity in (("cafe", "coffee"), ("cacao", "cocoa")):
        chosen = [p for p in plots if p.carried_by(GPKG) and p.commodity == commodity]
        frame(chosen, spanish_columns("superficie_ha")).to_file(path, layer=layer, driver="GPKG")


def comma(v: float, digits: int) -> str:
    return f"{v:.{digits}f}".replace(".", ",")


def write_points_csv(plots: list[Plot]) -> None:
    # Excel on a Spanish-locale Windows PC: Windows-1252, ';', decimal commas, CRLF. Polygon
    # plots of 4 ha or less appear as a point inside them, as many registers keep them.
    rows = [["Código", "Productor", "País", "Lugar", "Latitud", "Longitud", "Superficie (ha)",
             "Cultivo"]]  # fmt: skip
    for p in plots:
        if not p.carried_by(PTS) or isinstance(p.area, str) or (p.good and p.area > 4):
            continue
        pt = p.shape if p.geometry["type"] == "Point" else p.shape.point_on_surface()
        rows.append([
            p.plot_id, p.producer, p.country or "", p.place, comma(q6(pt.y), 6),
            comma(q6(pt.x), 6), comma(p.area, 2), COMMODITY_ES[p.commodity],
        ])  # fmt: skip
    buf = io.StringIO()
    csv.writer(buf, delimiter=";").writerows(rows)
    (OUT / "cooperativa_puntos.csv").write_bytes(buf.getvalue().encode("cp1252"))


def write_wkt_csv(plots: list[Plot]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["plot_id", "producer", "country", "place", "area_ha", "crop", "wkt"])
    for p in plots:
        if p.carried_by(WKT) and p.geometry["type"] != "Point":
            wkt = shapely.to_wkt(p.shape, rounding_precision=6, trim=True)
            writer.writerow([p.plot_id, p.producer, p.country, p.place, p.area, p.commodity, wkt])
    (OUT / "cooperativa_wkt.csv").write_text(buf.getvalue(), encoding="utf-8")


def write_xlsx(plots: list[Plot]) -> None:
    # One row per vertex, as a technician types them from the GPS, closing each ring by
    # repeating vertex 1 as the last vertex (the open-ring plot stays open).
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Parcelas"
    ws.append(["Código", "Productor", "País", "Lugar", "Vértice", "Latitud", "Longitud",
               "Superficie"])  # fmt: skip
    for p in plots:
        if p.carried_by(XLSX) and p.geometry["type"] == "Polygon":
            for i, (lon, lat) in enumerate(p.geometry["coordinates"][0], start=1):
                ws.append([p.plot_id, p.producer, p.country, p.place, i, lat, lon, p.area])
    for col, width in zip("ABCDEFGH", (10, 30, 6, 34, 8, 12, 12, 11), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    wb.properties.creator = "Técnico de campo"
    wb.properties.created = FIXED_TIME.replace(tzinfo=None)
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps the save time into docProps/core.xml and onto every zip member: pin both.
    with zipfile.ZipFile(buf) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    core = members["docProps/core.xml"].decode("utf-8")
    core = re.sub(r"(<dcterms:modified[^>]*>)[^<]*", rf"\g<1>{stamp(FIXED_TIME)}", core)
    members["docProps/core.xml"] = core.encode("utf-8")
    write_zip(OUT / "cooperativa.xlsx", members)


def write_gpx(plots: list[Plot]) -> None:
    # A phone app's export: a waypoint per point plot and a closed track per walked polygon,
    # with the elevation and time the phone records (not part of the plot geometry).
    t = FIXED_TIME
    waypoints, tracks = [], []
    for p in plots:
        if not p.carried_by(GPX):
            continue
        desc = escape(f"{p.producer}; {p.place}; {p.area} ha; {COMMODITY_ES[p.commodity]}")
        ele = 1200.0 + float(rng.integers(600))
        if p.geometry["type"] == "Point":
            x, y = p.geometry["coordinates"]
            waypoints.append(
                f'  <wpt lat="{num(y)}" lon="{num(x)}"><ele>{ele:.1f}</ele><time>{stamp(t)}'
                f"</time><name>{p.plot_id}</name><desc>{desc}</desc></wpt>\n"
            )
            t += timedelta(minutes=30)
            continue
        is_track = p.geometry["type"] == "LineString"
        seg = []
        for x, y in p.geometry["coordinates"] if is_track else p.geometry["coordinates"][0]:
            seg.append(
                f'<trkpt lat="{num(y)}" lon="{num(x)}"><ele>{ele:.1f}</ele>'
                f"<time>{stamp(t)}</time></trkpt>"
            )
            t += timedelta(seconds=int(rng.integers(15, 60)))
            ele += round(float(rng.normal(0, 1.5)), 1)
        tracks.append(
            f"  <trk><name>{p.plot_id}</name><desc>{desc}</desc><trkseg>\n    "
            + "\n    ".join(seg)
            + "\n  </trkseg></trk>\n"
        )
        t += timedelta(minutes=20)
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Medidor de '
        'parcelas (app de celular)" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"  <metadata><name>{escape(COOP_NAME)}</name><desc>{escape(COOP_NOTE)}</desc>"
        f"<time>{stamp(FIXED_TIME)}</time></metadata>\n"
    )
    text = head + "".join(waypoints) + "".join(tracks) + "</gpx>\n"
    (OUT / "cooperativa.gpx").write_text(text, encoding="utf-8")


def write_utm_csv(plots: list[Plot]) -> list[str]:
    # GPS readings in UTM 17S metres copied into a sheet, with nothing saying which CRS.
    chosen = [p for p in plots if p.good and p.cluster.prefix != "LCV"]
    chosen = [p for p in chosen if p.geometry["type"] == "Point"]
    to_utm = pyproj.Transformer.from_crs(4326, 32717, always_xy=True)
    lines = ["codigo;este;norte;pais"]
    for p in chosen[:5]:
        east, north = to_utm.transform(*p.geometry["coordinates"])
        lines.append(f"{p.plot_id};{round(east)};{round(north)};{p.country}")
    (OUT / "cooperativa_utm_sin_crs.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return [p.plot_id for p in chosen[:5]]


# The README's file table: (file, format, notes).
FILES = [
    ("cooperativa.geojson", "GeoJSON (RFC 7946), UTF-8",
     "The main file: every plot, good and broken, with the EU's property names `ProducerName`, "
     "`ProducerCountry`, `ProductionPlace`, `Area` plus `plot_id` and `commodity`. Written as "
     "plain JSON (not through GDAL), one feature per line, so the raw problems (open ring, "
     "nested point coordinates, `Area` as a string, Z values) are kept exactly. The top-level "
     "`name` and `description` say the data is fictional."),
    ("cooperativa.kml", "KML 2.2, Google Earth style",
     "`Document` > a `Folder` per district > `Placemark`s named by plot code, `ExtendedData` "
     "with `codigo`, `productor`, `pais`, `lugar`, `superficie_ha`, `cultivo`; coordinates "
     "`lon,lat,0`."),
    ("cooperativa.kmz", "KMZ", "A zip holding the same KML as `doc.kml`."),
    ("cooperativa_shp.zip", "zipped ESRI Shapefile",
     "`.shp`, `.shx`, `.dbf`, `.prj`, `.cpg` in **EPSG:32717 (WGS 84 / UTM 17S)**, metres to "
     "the cm: the tool must reproject. Cajamarca polygons only (a shapefile holds one geometry "
     "type; Cusco lies in zone 18S). Fields `codigo`, `productor`, `pais`, `lugar`, `area_ha`, "
     "`cultivo`; UTF-8 per the `.cpg`."),
    ("cooperativa.gpkg", "GeoPackage, EPSG:4326",
     "Two layers, `cafe` and `cacao`, each mixing polygons and points; fields `codigo`, "
     "`productor`, `pais`, `lugar`, `superficie_ha`, `cultivo`."),
    ("cooperativa_puntos.csv", "CSV, **Windows-1252**, `;`, decimal commas, CRLF",
     "Plots of 4 ha or less as points (a polygon plot as a point inside it). Headers "
     "`Código;Productor;País;Lugar;Latitud;Longitud;Superficie (ha);Cultivo`; names with ñ "
     "and accents."),
    ("cooperativa_wkt.csv", "CSV, UTF-8, `,`",
     "Polygon plots as WKT in a `wkt` column; headers "
     "`plot_id,producer,country,place,area_ha,crop,wkt`."),
    ("cooperativa.xlsx", "Excel workbook",
     "Sheet `Parcelas`, one row per vertex of each polygon plot: `Código`, `Productor`, "
     "`País`, `Lugar`, `Vértice`, `Latitud`, `Longitud`, `Superficie`. The last vertex of each "
     "ring repeats the first, as the EU requires (except in the open-ring plot)."),
    ("cooperativa.gpx", "GPX 1.1, phone app export",
     "A waypoint per point plot and a closed track (last point = first) per polygon plot, "
     "named by plot code; `desc` holds producer, place, area and crop. `ele` and `time` are "
     "what the phone recorded, not part of the plot geometry. GPX has no country field: read "
     "it with a default country (PE)."),
    ("cooperativa_utm_sin_crs.csv", "CSV, `;`",
     "A few point plots ({utm}) as `codigo;este;norte;pais` in UTM 17S metres with **no CRS "
     "stated anywhere**: the tool must report `crs_projected_unknown` and suggest zone 17S "
     "(EPSG:32717)."),
]  # fmt: skip


def write_readme(plots: list[Plot], utm_ids: list[str]) -> None:
    rows = []
    for p in plots:
        if p.good or p.same_id_as is not None:  # one row for the duplicate-ID pair
            continue
        pr = PROBLEMS[p.problem]
        extra = [name for fmt, name in FILE_NAMES.items() if fmt in p.formats]
        files = ", ".join(["cooperativa.geojson", *extra])
        rows.append(f"| {p.plot_id} | {files} | {pr.es} | {pr.en} | `{pr.code}` | {pr.severity} |")
    files = [f"| `{name}` | {kind} | {notes.format(utm=', '.join(utm_ids))} |"
             for name, kind, notes in FILES]  # fmt: skip
    good = [p for p in plots if p.good]
    boxes = {}
    for label, prefixes in (("cajamarca", ("JAE", "SIG")), ("cusco", ("LCV",))):
        xy = shapely.get_coordinates([p.shape for p in good if p.cluster.prefix in prefixes])
        (w, s), (e, n) = xy.min(0), xy.max(0)
        boxes[label] = f"{-n:.2f}–{-s:.2f}° S, {-e:.2f}–{-w:.2f}° W"
    coffee = sum(p.commodity == "coffee" for p in plots)
    text = README.format(
        coop=COOP_NAME,
        files="\n".join(files),
        **boxes,
        total=len(plots),
        good=len(good),
        broken=len(plots) - len(good),
        coffee=coffee,
        cocoa=len(plots) - coffee,
        points=sum(p.shape.geom_type == "Point" for p in good),
        problems="\n".join(rows),
    )
    # The indicators and legality table is written by scripts/sample_indicator_table.py from
    # a check of these plots: kept as it is when the rest of the README is written again.
    old = (OUT / "README.md").read_text(encoding="utf-8") if (OUT / "README.md").exists() else ""
    begin, end = "<!-- indicators:begin -->", "<!-- indicators:end -->"
    if begin in old and end in old:
        block = old[old.index(begin) : old.index(end) + len(end)]
        text = text.replace("## Credits", block + "\n\n## Credits", 1)
    (OUT / "README.md").write_text(text, encoding="utf-8")


README = """\
# Parcelas de ejemplo / Sample plots

**{coop}: datos ficticios y sintéticos.**
La cooperativa, sus socios y sus parcelas no existen. Las geometrías son inventadas
(dibujadas como un recorrido con el GPS del celular alrededor de una chacra) y están colocadas
cerca de distritos reales productores de café (Jaén y San Ignacio, Cajamarca) y de cacao
(La Convención, Cusco). No describen las tierras de nadie.

**{coop}: fictional, synthetic data.**
The cooperative, its members and their plots do not exist. The geometries are made up (drawn
like a phone-GPS walk around a field) and placed near real coffee districts (Jaén and San
Ignacio, Cajamarca) and cocoa districts (La Convención, Cusco). They describe nobody's land.

Every file here, this README included, is written by `scripts/make_sample_plots.py` (fixed seed:
a rerun gives the same bytes). Do not edit them by hand: change the script and run
`.venv/bin/python scripts/make_sample_plots.py`.

## The cooperative

- {total} plots: {coffee} coffee plots in Cajamarca (Huabal, Las Pirias, Jaén and Bellavista in
  Jaén province, codes `JAE-…`; Chirinos, La Coipa and Namballe in San Ignacio province, codes
  `SIG-…`) and {cocoa} cocoa plots in La Convención, Cusco (Santa Ana, Maranura, Echarati and
  Quellouno, codes `LCV-…`).
- {good} plots are good: closed polygons of 6 to 20 vertices with 6 decimals and 0.3 to 6 ha,
  or points ({points} of them) for plots of 4 ha or less. Their declared `Area` is within
  ±10 % of the geodesic area on the WGS84 ellipsoid. They lie more than 10 km inside Peru and
  touch no other plot. Each region fits in 0.4° × 0.4° so that small raster clips can cover
  it: Cajamarca {cajamarca}; Cusco {cusco}.
  Only a few broken plots (the 620 ha one, the border cases, the swapped and out-of-range
  coordinates) lie outside those boxes.
- {broken} plots break exactly one rule each, on purpose (table below). A broken plot may also
  draw an incidental warning, but by design no second error.

## Files

| file | format | notes |
| --- | --- | --- |
{files}

Good plots are in every file whose format and scope (see the notes) can hold them. The broken
plots are all in `cooperativa.geojson`; some are also in the files listed for them below.

## Deliberately broken plots

The expected code is what `eudr-check validate` must report for that plot in
`cooperativa.geojson` (`tests/test_sample_plots.py` checks it). Every plot not listed here must
get no error at all.

| plot_id | file(s) | problem (español) | problem (English) | expected code | severity |
| --- | --- | --- | --- | --- | --- |
{problems}

Choices worth knowing:
- Both border cases lie due north of Namballe, measured against Natural Earth's 1:50m boundary.
  Twenty kilometres into Ecuador is an error; two kilometres is only a warning, because a
  1:50m line can be off by a few kilometres.
- The two pairs (identical geometry, overlap) are listed under both codes; the finding may name
  either plot, with the other as the related plot.
- The folded side has no sharp turn: the walk comes back along part of a side it already walked,
  so GEOS reports a self-intersection and no vertex angle is below 1°. The spike, in turn, is a
  valid polygon whose needle is 3 m wide at its base and 320 m long.

## Credits

Country boundaries: Made with Natural Earth. The script uses the Natural Earth 1:50m countries
shipped in `src/eudr_check/data/` to check that every good plot lies well inside Peru and to
place the border cases.
"""


def main() -> None:
    OUT.mkdir(exist_ok=True)
    plots = make_plots()
    verify(plots)
    write_geojson(plots)
    write_kml(plots)
    write_shapefile(plots)
    write_gpkg(plots)
    write_points_csv(plots)
    write_wkt_csv(plots)
    write_xlsx(plots)
    write_gpx(plots)
    write_readme(plots, write_utm_csv(plots))
    good = sum(p.good for p in plots)
    print(f"{len(plots)} plots ({good} good, {len(plots) - good} broken) written to {OUT}")
    for f in sorted(OUT.iterdir()):
        print(f"  {f.name:30} {f.stat().st_size:>8} bytes")


if __name__ == "__main__":
    main()
