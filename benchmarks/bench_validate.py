"""Benchmark: read and validate (with --fix) a large synthetic cooperative file.

    .venv/bin/python benchmarks/bench_validate.py [--plots 100000] [--seed 1] [--repeat 3]

The plots are generated once per (N, seed, broken share) and cached in benchmarks/_data/.
Each measurement runs in a fresh child process (this script with --measure), so the peak RSS
is that of read + validate alone and nothing is warm from generation. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from childproc import run_child

DATA_DIR = Path(__file__).resolve().parent / "_data"
# Bump when the generator changes, so stale cached files are not measured by mistake.
GEN_VERSION = 1
GOAL_PLOTS_PER_S = 20_000
T = TypeVar("T")

# Coffee and cocoa districts of the Andes' eastern slopes (lon, lat of the town, roughly).
HUBS = (
    ("San Ignacio", -78.99, -5.15),
    ("Jaén", -78.81, -5.71),
    ("Bagua Grande", -78.44, -5.76),
    ("Cutervo", -78.82, -6.37),
    ("Moyobamba", -76.97, -6.03),
    ("Rodríguez de Mendoza", -77.48, -6.40),
    ("Lamas", -76.52, -6.42),
    ("Juanjuí", -76.70, -7.18),
    ("Tocache", -76.51, -8.19),
    ("Tingo María", -75.99, -9.30),
    ("Oxapampa", -75.40, -10.58),
    ("Villa Rica", -75.27, -10.73),
    ("Pichanaqui", -74.87, -10.93),
    ("Satipo", -74.64, -11.25),
    ("Pangoa", -74.49, -11.43),
    ("Kimbiri", -73.79, -12.61),
    ("Quillabamba", -72.69, -12.86),
)
WINDOW = (-79.3, -13.0, -72.5, -4.9)
FIRST_NAMES = (
    "Juan", "José", "Luis", "Carlos", "Segundo", "Santos", "Wilmer", "Edwin", "Elmer", "Nilo",
    "Hermógenes", "Teodoro", "Félix", "Rosa", "María", "Carmen", "Luz", "Nelly", "Yolanda",
    "Marleni", "Flor", "Gladys", "Elena", "Eusebio",
)  # fmt: skip
SURNAMES = (
    "Huamán", "Quispe", "Flores", "Chávez", "Rojas", "Vásquez", "Guevara", "Díaz", "Torres",
    "Ramírez", "Cruz", "Mendoza", "Carrasco", "Fernández", "Tello", "Córdova", "Huaccha",
    "Cubas", "Sánchez", "Peña", "Delgado", "Núñez", "Campos", "Idrogo", "Bustamante", "Tapia",
)  # fmt: skip
SECTORS = (
    "La Palma", "El Diamante", "Nuevo Progreso", "San Antonio", "Santa Rosa", "La Unión",
    "Buenos Aires", "Naranjos", "Bellavista", "El Huaco", "Pueblo Libre", "Alto Perú",
    "Monte Verde", "San Francisco", "Las Flores", "Nueva Esperanza", "El Mirador", "Miraflores",
)  # fmt: skip

CELL_DEG = 0.006  # grid cell of one plot: ~660 m, wider than the largest plot (~0.4 km)
CASERIO_PLOTS = 150  # plots per village cluster
CASERIO_SPREAD_DEG = 0.03  # plots of a village lie within a few km of it
HUB_SPREAD_DEG = 0.2
POINT_SHARE = 0.2
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0  # at the equator; times cos(lat)
GPS_NOISE_M = 2.0

# Broken kinds, assigned round-robin to the broken plots. All but the last two need a polygon.
KINDS = (
    "bowtie", "hole", "open_ring", "rounding_dup", "spike", "overlap", "twin",
    "swapped", "area_string",
)  # fmt: skip
POLYGON_KINDS = frozenset(KINDS[:-2])


# --- generation ------------------------------------------------------------------------------


def _region() -> shapely.Geometry:
    """Peru inside the coffee/cocoa window, shrunk by ~1 km so whole plots stay inside."""
    from eudr_check.intake.countries import countries

    peru = countries().geometry("PE")
    if peru is None:
        raise SystemExit("no boundary for PE in eudr_check's country data")
    region = peru.intersection(shapely.box(*WINDOW)).buffer(-0.01)
    shapely.prepare(region)
    return region


def _inside(region: shapely.Geometry, xy: np.ndarray) -> np.ndarray:
    return np.asarray(shapely.contains_xy(region, xy[:, 0], xy[:, 1]), dtype=bool)


def _caserios(rng: np.random.Generator, n: int, region: shapely.Geometry) -> np.ndarray:
    """Village centres around the hubs, rejection-sampled inside the region."""
    hubs = np.array([(x, y) for _, x, y in HUBS])
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        hub = rng.integers(len(HUBS), size=4 * n)
        xy = hubs[hub] + rng.normal(0.0, HUB_SPREAD_DEG, (4 * n, 2))
        ok = _inside(region, xy)
        found.append(np.c_[xy[ok], hub[ok]])
        have += int(ok.sum())
    return np.concatenate(found)[:n]


def _centres(
    rng: np.random.Generator, villages: np.ndarray, n: int, region: shapely.Geometry
) -> np.ndarray:
    """(n, 3): lon, lat, village of each plot; at most one plot per grid cell: no overlaps."""
    batch = 2 * n
    while True:
        v = rng.integers(len(villages), size=batch)
        xy = villages[v, :2] + rng.normal(0.0, CASERIO_SPREAD_DEG, (batch, 2))
        cell = np.floor(xy / CELL_DEG).astype(np.int64)
        _, first = np.unique(cell[:, 0] * 1_000_000 + cell[:, 1], return_index=True)
        first.sort()  # keep the random draw order, not the grid order
        centre = (cell[first] + 0.5) * CELL_DEG
        ok = _inside(region, centre)
        if ok.sum() >= n:
            break
        batch *= 2
    centre, village = centre[ok][:n], v[first[ok][:n]]
    # Jitter inside the cell, leaving room for the largest plot (~220 m radius).
    centre += rng.uniform(-0.001, 0.001, centre.shape)
    return np.c_[centre, village]


def _shapes(
    rng: np.random.Generator, centres: np.ndarray, area_ha: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Irregular rings (open, rounded lon/lat), their real area (ha) and mean radius (m).

    Vertices go round the centre at jittered angles; the radius drifts like a GPS walk (a random
    walk tied back to its start so the outline closes smoothly), then 2 m of GPS noise.
    """
    p = len(centres)
    nv = rng.integers(6, 21, size=p)
    k = np.arange(20)
    valid = k[None, :] < nv[:, None]
    step = 2 * np.pi / nv[:, None]
    theta = rng.uniform(0, 2 * np.pi, (p, 1)) + (k + rng.uniform(-0.35, 0.35, (p, 20))) * step
    walk = np.cumsum(np.where(valid, rng.normal(0.0, 0.1, (p, 20)), 0.0), axis=1)
    walk -= (k[None, :] + 1) / nv[:, None] * walk[np.arange(p), nv - 1][:, None]
    radius = np.clip(np.exp(walk), 0.7, 1.35)
    x, y = radius * np.cos(theta), radius * np.sin(theta)
    nxt = np.where(k + 1 < nv[:, None], k + 1, 0)
    unit_area = 0.5 * np.where(
        valid, x * np.take_along_axis(y, nxt, 1) - np.take_along_axis(x, nxt, 1) * y, 0
    ).sum(1)
    r0 = np.sqrt(area_ha * 10_000 / unit_area)  # scale so the outline has the target area
    x = x * r0[:, None] + rng.normal(0.0, GPS_NOISE_M, (p, 20))
    y = y * r0[:, None] + rng.normal(0.0, GPS_NOISE_M, (p, 20))
    lat0 = centres[:, 1:2]
    mlon = M_PER_DEG_LON * np.cos(np.radians(lat0))
    lon = np.round(centres[:, 0:1] + x / mlon, 6)
    lat = np.round(lat0 + y / M_PER_DEG_LAT, 6)
    # Real area from the rounded positions (local equirectangular metres, < 0.1 % off).
    xm, ym = (lon - centres[:, 0:1]) * mlon, (lat - lat0) * M_PER_DEG_LAT
    real = 0.5 * np.where(
        valid, xm * np.take_along_axis(ym, nxt, 1) - np.take_along_axis(xm, nxt, 1) * ym, 0
    ).sum(1)
    rings = [np.c_[lon[i, : nv[i]], lat[i, : nv[i]]] for i in range(p)]
    return rings, real / 10_000, r0


def _ring_list(xy: np.ndarray, *, close: bool = True) -> list[list[float]]:
    out: list[list[float]] = xy.tolist()
    return [*out, out[0]] if close else out


def _offset(lon: float, lat: float, dx_m: float, dy_m: float) -> list[float]:
    mlon = M_PER_DEG_LON * math.cos(math.radians(lat))
    return [round(lon + dx_m / mlon, 6), round(lat + dy_m / M_PER_DEG_LAT, 6)]


def _break(
    kind: str, ring: np.ndarray, r0: float, rng: np.random.Generator
) -> tuple[list[Any], float]:
    """Polygon coordinates with one realistic defect, and the hectares it takes away."""
    n = len(ring)
    k = int(rng.integers(1, n - 2))
    if kind == "bowtie":  # two vertices walked in the wrong order
        # On a concave stretch the swap may not cross: take the first k where it does.
        for k in range(1, n - 1):
            swapped = ring.copy()
            swapped[[k, k + 1]] = swapped[[k + 1, k]]
            if not shapely.is_valid(shapely.Polygon(swapped)):
                break
        return [_ring_list(swapped)], 0.0
    if kind == "hole":  # a house or a patch of forest left out, drawn clockwise
        c = ring.mean(axis=0)
        ang = np.linspace(0, -2 * np.pi, 7)[:-1]
        hole = [_offset(c[0], c[1], 0.25 * r0 * math.cos(a), 0.25 * r0 * math.sin(a)) for a in ang]
        hexagon_m2 = 1.5 * math.sqrt(3) * (0.25 * r0) ** 2
        return [_ring_list(ring), [*hole, hole[0]]], hexagon_m2 / 10_000
    if kind == "open_ring":  # last position not repeated
        return [_ring_list(ring, close=False)], 0.0
    coords = _ring_list(ring)
    lon, lat = coords[k]
    if kind == "rounding_dup":  # the phone logged the same spot twice, with 7 decimals
        coords.insert(k + 1, [round(lon + 3e-7, 7), round(lat - 2e-7, 7)])
        return [coords], 0.0
    if kind == "spike":  # a 60 m excursion out and back (GPS jump), under 1°
        c = ring.mean(axis=0)
        mlon = M_PER_DEG_LON * math.cos(math.radians(lat))
        ux, uy = (lon - c[0]) * mlon, (lat - c[1]) * M_PER_DEG_LAT
        norm = math.hypot(ux, uy)
        ux, uy = ux / norm, uy / norm
        tip = _offset(lon, lat, 60 * ux, 60 * uy)
        back = _offset(lon, lat, -0.5 * uy, 0.5 * ux)
        coords[k + 1 : k + 1] = [tip, back]
        return [coords], 0.0
    raise ValueError(kind)


def _name(rng: np.random.Generator) -> str:
    first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
    a, b = rng.integers(len(SURNAMES), size=2)
    return f"{first} {SURNAMES[a]} {SURNAMES[b]}"


def generate(
    n: int, seed: int, broken_share: float
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """GeoJSON features, and the plot_ids of each broken kind (to check the findings against)."""
    rng = np.random.default_rng(seed)
    region = _region()
    villages = _caserios(rng, max(1, math.ceil(n / CASERIO_PLOTS)), region)
    sector = rng.integers(len(SECTORS), size=len(villages))
    centres = _centres(rng, villages, n, region)
    n_broken = round(broken_share * n)
    broken = rng.choice(n, size=n_broken, replace=False)
    kind_of = {int(b): KINDS[k % len(KINDS)] for k, b in enumerate(broken)}
    is_point = rng.random(n) < POINT_SHARE
    is_point[[i for i, kd in kind_of.items() if kd in POLYGON_KINDS]] = False
    # Smallholder plots: median ~1.5 ha, 0.3 to 6 ha; a point stands for at most 4 ha.
    target = np.clip(rng.lognormal(math.log(1.5), 0.6, n), 0.3, 6.0)
    target[is_point] = np.clip(target[is_point], 0.3, 4.0)
    poly = np.flatnonzero(~is_point)
    rings, real, r0 = _shapes(rng, centres[poly, :2], target[poly])
    slot = np.full(n, -1)
    slot[poly] = np.arange(len(poly))
    sound = [int(slot[i]) for i in poly.tolist() if i not in kind_of]

    features: list[dict[str, Any]] = []
    for i in range(n):
        lon, lat, village = centres[i]
        v = int(village)
        kind = kind_of.get(i)
        s = int(slot[i])
        geometry: dict[str, Any]
        if s < 0:
            geometry = {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}
            area = float(target[i])
        elif kind in ("twin", "overlap"):
            # Another member's plot registered again: identical, or shifted by 40 % of its size.
            j = sound[int(rng.integers(len(sound)))]
            other = rings[j]
            if kind == "overlap":
                a = rng.uniform(0, 2 * np.pi)
                d = 0.4 * r0[j]
                mlon = M_PER_DEG_LON * math.cos(math.radians(other[0, 1]))
                shift = np.array([d * math.cos(a) / mlon, d * math.sin(a) / M_PER_DEG_LAT])
                other = np.round(other + shift, 6)
            geometry = {"type": "Polygon", "coordinates": [_ring_list(other)]}
            area = float(real[j])
        elif kind in POLYGON_KINDS:
            coords, cut_ha = _break(kind, rings[s], float(r0[s]), rng)
            geometry = {"type": "Polygon", "coordinates": coords}
            area = float(real[s]) - cut_ha
        else:
            geometry = {"type": "Polygon", "coordinates": [_ring_list(rings[s])]}
            area = float(real[s])
        if kind == "swapped":
            geometry["coordinates"] = _swap(geometry["coordinates"])
        # Declared areas come from the cooperative's own survey: within ±10 % of the truth.
        declared: float | str = round(area * float(np.clip(rng.normal(1, 0.04), 0.9, 1.1)), 2)
        if s < 0:
            declared = min(declared, 4.0)  # points stay within the EU's 4 ha
        if kind == "area_string":
            text = f"{declared:.2f}"
            declared = text.replace(".", ",") if rng.random() < 0.5 else text
        place = f"{SECTORS[sector[v]]}, {HUBS[int(villages[v, 2])][0]}"
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "plot_id": f"PE-{seed}-{i + 1:07d}",
                    "ProducerName": _name(rng),
                    "ProducerCountry": "PE",
                    "ProductionPlace": place,
                    "Area": declared,
                },
                "geometry": geometry,
            }
        )
    broken_ids: dict[str, list[str]] = {k: [] for k in KINDS}
    for i, kind in sorted(kind_of.items()):
        broken_ids[kind].append(features[i]["properties"]["plot_id"])
    return features, broken_ids


def _swap(coords: Any) -> Any:
    if coords and isinstance(coords[0], list):
        return [_swap(c) for c in coords]
    return [coords[1], coords[0]]


def write_geojson(path: Path, features: list[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write('{"type": "FeatureCollection", "features": [\n')
        for i, feat in enumerate(features):
            sep = ",\n" if i + 1 < len(features) else "\n"
            f.write(json.dumps(feat, ensure_ascii=False, separators=(",", ":")) + sep)
        f.write("]}\n")
    tmp.replace(path)  # a half-written file must never look like a valid cache entry


def write_csv(path: Path, features: list[dict[str, Any]]) -> None:
    """One row per plot: the point, or the mean of a polygon's outline (swapped stays swapped)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["plot_id", "ProducerName", "ProducerCountry", "ProductionPlace", "Area",
                      "lat", "lon"])  # fmt: skip
        for feat in features:
            g = feat["geometry"]
            if g["type"] == "Point":
                x, y = g["coordinates"]
            else:
                ring = g["coordinates"][0]
                x = round(sum(p[0] for p in ring) / len(ring), 6)
                y = round(sum(p[1] for p in ring) / len(ring), 6)
            p = feat["properties"]
            out.writerow([p["plot_id"], p["ProducerName"], p["ProducerCountry"],
                          p["ProductionPlace"], p["Area"], y, x])  # fmt: skip
    tmp.replace(path)


def _paths(n: int, seed: int, share: float, fmt: str) -> tuple[Path, Path]:
    stem = f"plots_n{n}_seed{seed}_broken{share:g}_v{GEN_VERSION}"
    return DATA_DIR / f"{stem}.{fmt}", DATA_DIR / f"{stem}.manifest.json"


def write_dataset(n: int, seed: int, share: float, fmt: str) -> dict[str, Any]:
    path, manifest = _paths(n, seed, share, fmt)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    features, broken = generate(n, seed, share)
    (write_geojson if fmt == "geojson" else write_csv)(path, features)
    points = sum(f["geometry"]["type"] == "Point" for f in features)
    manifest.write_text(json.dumps({"plots": n, "points": points, "broken": broken}))
    return {"seconds": time.perf_counter() - t0, "points": points}


def dataset(n: int, seed: int, share: float, fmt: str) -> Path:
    """The cached file for these parameters, generated (untimed) when missing.

    Generation runs in its own process: on Linux a child inherits its parent's peak RSS across
    fork/exec, so a parent bloated by 100,000 feature dicts would inflate the measured peak.
    """
    path, manifest = _paths(n, seed, share, fmt)
    if path.is_file() and manifest.is_file():
        what = f"using cached {path.name}"
    else:
        done = _child(["--generate", str(n), str(seed), str(share), fmt])
        what = f"generated {path.name} in {done['seconds']:.1f} s"
    kinds = {k: len(v) for k, v in json.loads(manifest.read_text())["broken"].items()}
    print(f"{what} ({path.stat().st_size / 1e6:.1f} MB)\n  broken plots: {kinds}")
    return path


# --- measurement (child process) -------------------------------------------------------------


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else KiB


def _rss_mib() -> float:
    """Current RSS (Linux); elsewhere the peak so far, which is close enough after imports."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return _peak_rss_mib()
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(path: Path, *, trace: bool, profile: Path | None, no_gc: bool) -> dict[str, Any]:
    """Read + validate once; imports are done first so they are not timed."""
    import gc
    import tracemalloc

    from eudr_check.intake import read_plots
    from eudr_check.rules import validate
    from eudr_check.settings import Settings

    # Big N can exceed the service's upload cap; the cap is not what is measured here.
    settings = Settings(max_input_mb=max(200.0, 2 * path.stat().st_size / 1e6))
    gc.collect()
    if no_gc:
        gc.disable()  # what-if: the cyclic GC rescans the millions of parsed JSON containers
    rss_start = _rss_mib()
    if trace:
        tracemalloc.start()
    cpu0, t0 = time.process_time(), time.perf_counter()
    table = _run(lambda: read_plots(path, settings=settings), profile, "read")
    t1 = time.perf_counter()
    read_trace = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.reset_peak()
    report = _run(lambda: validate(table, fix=True), profile, "validate")
    t2, cpu2 = time.perf_counter(), time.process_time()
    validate_trace = tracemalloc.get_traced_memory()[1] if trace else 0
    return {
        "plots": len(table.plots),
        "read_s": t1 - t0,
        "validate_s": t2 - t1,
        "total_s": t2 - t0,
        "cpu_s": cpu2 - cpu0,
        "rss_start_mib": rss_start,
        "peak_rss_mib": _peak_rss_mib(),
        "trace_read_mib": read_trace / 2**20,
        "trace_validate_mib": validate_trace / 2**20,
        "severity": dict(Counter(f.severity.value for f in report.findings)),
        "codes": dict(Counter(f.code.value for f in report.findings).most_common()),
        "status": dict(Counter(report.plots["status"])),
        "machine": machine(),
    }


def _run(step: Callable[[], T], profile: Path | None, name: str) -> T:
    """step(), under cProfile when asked (stats written to <profile>.<name>.prof)."""
    if profile is None:
        return step()
    import cProfile

    with cProfile.Profile() as prof:
        result = step()
    prof.dump_stats(f"{profile}.{name}.prof")
    return result


# --- driver ----------------------------------------------------------------------------------


def _child(args: list[str]) -> dict[str, Any]:
    return run_child(__file__, args)


def machine() -> str:
    import geopandas  # imported here: the parent process stays small (see dataset())

    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
        f"numpy {np.__version__}, geopandas {geopandas.__version__}"
    )


def _report(fmt: str, runs: list[dict[str, Any]]) -> None:
    best = min(runs, key=lambda r: r["total_s"])
    rate = best["plots"] / best["total_s"]
    goal = "meets" if rate >= GOAL_PLOTS_PER_S else "BELOW"
    print(f"\n{fmt}: best of {len(runs)}   [{best['machine']}]")
    print(f"  {'plots':<22}{best['plots']:>12,}")
    for key, label in (("read_s", "read s"), ("validate_s", "validate s"),
                       ("total_s", "total s"), ("cpu_s", "cpu s (user+sys)")):  # fmt: skip
        all_runs = "  ".join(f"{r[key]:.2f}" for r in runs) if len(runs) > 1 else ""
        print(f"  {label:<22}{best[key]:>12.2f}   {all_runs}")
    print(f"  {'plots/s (read+val.)':<22}{rate:>12,.0f}   {goal} the goal of {GOAL_PLOTS_PER_S:,}")
    print(f"  {'peak RSS MiB':<22}{max(r['peak_rss_mib'] for r in runs):>12.0f}   "
          f"(after imports: {best['rss_start_mib']:.0f})")  # fmt: skip
    print(f"  {'findings by severity':<22}{json.dumps(best['severity'])}")
    print(f"  {'findings by code':<22}{json.dumps(best['codes'])}")
    print(f"  {'plots by status':<22}{json.dumps(best['status'])}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--broken-share", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=1, help="runs (fresh processes); best is kept")
    ap.add_argument("--format", choices=("geojson", "csv", "both"), default="geojson")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="extra, untimed run for the Python-level peak (tracemalloc)")  # fmt: skip
    ap.add_argument("--profile", action="store_true",
                    help="extra, untimed run with cProfile around read and validate")  # fmt: skip
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child modes
    ap.add_argument("--generate", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--no-gc", action="store_true",
                    help="what-if: cyclic garbage collector disabled while measuring")  # fmt: skip
    ap.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.measure is not None:
        result = measure(
            args.measure, trace=args.tracemalloc, profile=args.profile_out, no_gc=args.no_gc
        )
        print(json.dumps(result))
        return 0
    if args.generate is not None:
        n, seed, share, fmt = args.generate
        print(json.dumps(write_dataset(int(n), int(seed), float(share), fmt)))
        return 0

    formats = ["geojson", "csv"] if args.format == "both" else [args.format]
    if "csv" in formats:
        # The CSV reader is new: if it does not even import, skip it rather than fail.
        check = [sys.executable, "-c", "import eudr_check.intake.tabular"]
        proc = subprocess.run(check, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            print(f"csv: skipped, eudr_check.intake.tabular does not import: {last}")
            formats.remove("csv")
    flags = ["--no-gc"] if args.no_gc else []
    for fmt in formats:
        path = dataset(args.plots, args.seed, args.broken_share, fmt)
        runs = [_child(["--measure", str(path), *flags]) for _ in range(max(1, args.repeat))]
        _report(fmt + (" (gc disabled)" if args.no_gc else ""), runs)
        if args.tracemalloc:
            t = _child(["--measure", str(path), "--tracemalloc", *flags])
            peaks = f"read {t['trace_read_mib']:.0f}, validate {t['trace_validate_mib']:.0f}"
            print(f"  {'tracemalloc peak MiB':<22}{peaks}  (untimed run: {t['total_s']:.1f} s)")
        if args.profile:
            stem = path.with_name(path.name + (".nogc" if args.no_gc else ""))
            _child(["--measure", str(path), "--profile-out", str(stem), *flags])
            for step in ("read", "validate"):
                _print_profile(Path(f"{stem}.{step}.prof"), step)
    return 0


def _print_profile(path: Path, step: str, top: int = 20) -> None:
    """eudr_check functions by cumulative time (cProfile's overhead inflates Python-heavy code:
    use it to see where time goes, not for the totals)."""
    import pstats

    print(f"\n  cProfile of {step} -> {path.name} (top {top} by cumulative s, eudr_check only)")
    stats = pstats.Stats(str(path))
    rows = []
    for (file, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        if "eudr_check" in file:
            short = file.split("eudr_check/", 1)[1]
            rows.append((cumtime, tottime, ncalls, f"{short}:{line} {func}"))
    for cum, tot, ncalls, where in sorted(rows, reverse=True)[:top]:
        print(f"  {cum:8.2f} cum  {tot:7.2f} own  {ncalls:>8}  {where}")


if __name__ == "__main__":
    sys.exit(main())
