"""CSV and XLSX reader: one plot per row (point or WKT), or one polygon per group of vertex rows.

Spreadsheets from Peru arrive in UTF-8 or Windows-1252, with ',' ';' or tab separators and
decimal commas. Every feature's index is the row number the user sees in Excel (header = 1).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
import shapely.wkt
from shapely.geometry import mapping

from eudr_check.errors import PlotFileError
from eudr_check.gcpause import paused_gc
from eudr_check.intake.archive import check_declared_size, open_zip
from eudr_check.intake.coordinates import (
    Axis,
    CoordinateError,
    looks_sexagesimal,
    parse_sexagesimal,
)
from eudr_check.intake.fields import canonical, match_fields
from eudr_check.intake.raw import COORD_ERROR, RawFeature, RawLayer
from eudr_check.settings import Settings, get_settings

# Accepted headers, compared after canonical() and dropping punctuation; first match wins, so
# degree columns are preferred over metre columns when a sheet has both.
LATITUDE = (
    "latitud",
    "latitude",
    "lat",
    "y",
    "coord_y",
    "coordenada_y",
    "norte",
    "northing",
    "utm_norte",
    "utm_y",
)
LONGITUDE = (
    "longitud",
    "longitude",
    "lon",
    "long",
    "lng",
    "x",
    "coord_x",
    "coordenada_x",
    "este",
    "easting",
    "utm_este",
    "utm_x",
)
WKT = ("wkt", "geometry", "geometria", "geom", "the_geom", "shape", "poligono", "wkt_geom")
VERTEX = (
    "vertice",
    "vertex",
    "punto",
    "orden",
    "point_order",
    "n_punto",
    "nro_punto",
    "secuencia",
    "order",
)

# Large WKT polygons exceed the csv module's default 128 KB field limit.
_FIELD_LIMIT = 64 * 1024 * 1024
_DELIMITERS = ("\t", ";", ",")  # tie order: tab and ';' files often hold decimal commas
_SRID = re.compile(r"^\s*SRID=(\d+)\s*;", re.IGNORECASE)
# Title rows above the header are common in cooperative spreadsheets: look this far for it.
_HEADER_SEARCH = 10
_RAGGED = "more cells than columns (decimal commas in a comma-separated file?)"


@dataclass(frozen=True, slots=True)
class _Table:
    header: list[str]
    rows: list[tuple[int, Sequence[Any]]]  # (spreadsheet row number, cell values)
    # Rows with more filled cells than the header has columns, typically decimal commas in a
    # comma-separated file ("-5,7,-76,1"): their coordinates cannot be trusted.
    ragged: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class _Columns:
    lat: int | None
    lon: int | None
    wkt: int | None
    vertex: int | None
    plot_id: int | None


# --- values ----------------------------------------------------------------------------------


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "", canonical(name)).strip("_")


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_number(value: Any) -> float | None:
    """Float from a cell: decimal point or comma, optional thousands separator; else None."""
    if isinstance(value, str):
        text = value
        if "," in text:
            text = _decimal_point(text)
        try:
            number = float(text)
        except ValueError:
            try:  # rarer spellings: typographic minus, spaces between digit groups
                number = float(text.replace("\u2212", "-").replace(" ", "").replace("\xa0", ""))
            except ValueError:
                return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        return None
    return number if math.isfinite(number) else None


def _decimal_point(text: str) -> str:
    if "." in text:
        # The separator that comes last is the decimal one: "1.234,5" or "1,234.5".
        return (
            text.replace(".", "").replace(",", ".")
            if text.rfind(",") > text.rfind(".")
            else text.replace(",", "")
        )
    return text.replace(",", ".") if text.count(",") == 1 else text.replace(",", "")


def _plain_lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain_lists(v) for v in value]
    return value


# --- WKT -------------------------------------------------------------------------------------

_WKT_SHAPE = re.compile(r"^\s*([A-Za-z]+)\s*(?:ZM|Z|M)?\s*(\(.*\))\s*$", re.DOTALL)
_WKT_TOKEN = re.compile(r"[(),]|[^\s(),]+")
# GeoJSON type and nesting depth of its coordinates.
_WKT_TYPES = {
    "POINT": ("Point", 1), "LINESTRING": ("LineString", 2), "POLYGON": ("Polygon", 3),
    "MULTIPOINT": ("MultiPoint", 2), "MULTILINESTRING": ("MultiLineString", 3),
    "MULTIPOLYGON": ("MultiPolygon", 4),
}  # fmt: skip


def _depth(value: Any) -> int:
    return 1 + _depth(value[0]) if isinstance(value, list) and value else 0


def _nested(body: str) -> list[Any]:
    """'((0 0, 1 0))' -> [[[0.0, 0.0], [1.0, 0.0]]]; ValueError/IndexError when malformed."""
    stack: list[list[Any]] = [[]]
    position: list[float] = []
    for token in _WKT_TOKEN.findall(body):
        if token in ",)" and position:
            stack[-1].append(position)
            position = []
        if token == "(":
            stack[-1].append([])
            stack.append(stack[-1][-1])
        elif token == ")":
            stack.pop()
        elif token != ",":
            position.append(float(token))
    if len(stack) != 1 or position:
        raise ValueError("unbalanced")
    return stack[0]


def _raw_wkt(text: str) -> dict[str, Any] | None:
    """Positions exactly as written, for WKT that GEOS refuses (open or too-short rings), so
    the geometry builder can report the precise problem."""
    match = _WKT_SHAPE.match(text)
    kind = _WKT_TYPES.get(match[1].upper()) if match else None
    if match is None or kind is None:
        return None
    try:
        coords = _nested(match[2])[0]
    except (ValueError, IndexError):
        return None
    if kind[0] == "MultiPoint" and _depth(coords) == 3:  # MULTIPOINT ((1 2), (3 4))
        coords = [p[0] for p in coords]
    if kind[0] == "Point" and _depth(coords) == 2 and len(coords) == 1:
        coords = coords[0]
    return {"type": kind[0], "coordinates": coords} if _depth(coords) == kind[1] else None


def _wkt_geometry(text: str) -> tuple[dict[str, Any] | None, int | None]:
    """(GeoJSON-like geometry or None, EWKT SRID or None)."""
    srid_match = _SRID.match(text)
    srid = int(srid_match[1]) if srid_match else None
    body = text[srid_match.end() :] if srid_match else text
    try:
        geom = shapely.wkt.loads(body)
    except shapely.errors.ShapelyError:
        return _raw_wkt(body), srid
    if geom.is_empty:
        return None, srid
    return _plain_lists(mapping(geom)), srid


# --- rows -> features ------------------------------------------------------------------------


def _find(keys: list[str], aliases: Iterable[str]) -> int | None:
    for alias in aliases:
        if alias in keys:
            return keys.index(alias)
    return None


def _columns(path: Path, header: list[str]) -> _Columns:
    keys = [_key(h) for h in header]
    lat, lon, wkt = _find(keys, LATITUDE), _find(keys, LONGITUDE), _find(keys, WKT)
    if wkt is None and (lat is None or lon is None):
        found = ", ".join(h for h in header if h) or "-"
        raise PlotFileError(
            path,
            f"no hay columnas de coordenadas. Columnas del archivo: {found}. Se aceptan "
            "latitud y longitud (o lat/lon, y/x, norte/este, utm_norte/utm_este…) o una "
            "columna WKT (wkt, geometria, geometry, the_geom…).",
            f"no coordinate columns. Columns in the file: {found}. Accepted: latitude and "
            "longitude (or lat/lon, y/x, northing/easting, utm_norte/utm_este…) or a WKT "
            "column (wkt, geometry, geometria, the_geom…).",
        )
    plot_name = match_fields(header).get("plot_id")
    plot_id = header.index(plot_name) if plot_name is not None else None
    return _Columns(lat, lon, wkt, _find(keys, VERTEX), plot_id)


def _cell(values: Sequence[Any], column: int | None) -> Any:
    return None if column is None else values[column]


def _properties(header: list[str], values: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(header, values, strict=True))


def _coordinate(value: Any, axis: Axis) -> float | CoordinateError | None:
    """A number, or degrees-minutes-seconds text; None for an empty cell."""
    number = parse_number(value)
    if number is not None or _is_empty(value):
        return number
    text = str(value)
    if not looks_sexagesimal(text):
        return CoordinateError(text.strip(), "unreadable")
    return parse_sexagesimal(text, axis)


def _point(values: Sequence[Any], cols: _Columns) -> list[float] | CoordinateError | None:
    lat = _coordinate(_cell(values, cols.lat), "lat")
    lon = _coordinate(_cell(values, cols.lon), "lon")
    for value in (lat, lon):
        if isinstance(value, CoordinateError):
            return value
    if lat is None or lon is None:
        return None
    assert isinstance(lat, float) and isinstance(lon, float)
    return [lon, lat]


def _coordinate_error(props: dict[str, Any], error: CoordinateError) -> None:
    """Marks the feature for intake's finding (`coordinate_unreadable`)."""
    props[COORD_ERROR] = (error.value, error.reason)


def _row_features(table: _Table, cols: _Columns) -> tuple[list[RawFeature], set[int]]:
    """One feature per row: WKT when the row has it, else a point from lat/lon."""
    features = []
    srids: set[int] = set()
    for row, values in table.rows:
        props = _properties(table.header, values)
        geom: dict[str, Any] | None = None
        text = _cell(values, cols.wkt)
        if row in table.ragged:
            props["_row_error"] = _RAGGED
        elif not _is_empty(text):
            geom, srid = _wkt_geometry(str(text))
            if srid is not None:
                srids.add(srid)
            if geom is None:
                props["_wkt_error"] = str(text)
        elif cols.lat is not None and cols.lon is not None:
            point = _point(values, cols)
            if isinstance(point, CoordinateError):
                _coordinate_error(props, point)
            elif point is not None:
                geom = {"type": "Point", "coordinates": point}
        features.append(RawFeature(props, geom, row))
    return features, srids


def _vertex_groups(table: _Table, cols: _Columns) -> list[list[tuple[int, Sequence[Any]]]]:
    """Rows of one plot: those sharing its plot id, wherever they are in the sheet."""
    groups: dict[str, list[tuple[int, Sequence[Any]]]] = {}
    for row, values in table.rows:
        cell = _cell(values, cols.plot_id)
        key = "" if cell is None else str(cell).strip()
        groups.setdefault(key, []).append((row, values))
    return list(groups.values())


def _vertex_features(table: _Table, cols: _Columns) -> list[RawFeature]:
    features = []
    for group in _vertex_groups(table, cols):
        first_row, first_values = group[0]
        props = _properties(table.header, first_values)
        if any(row in table.ragged for row, _ in group):
            features.append(RawFeature({**props, "_row_error": _RAGGED}, None, first_row))
            continue
        ordered = sorted(group, key=lambda rv: parse_number(_cell(rv[1], cols.vertex)) or 0.0)
        points = [_point(values, cols) for _, values in ordered]
        bad = [row for (row, _), p in zip(ordered, points, strict=True) if not isinstance(p, list)]
        geom: dict[str, Any] | None
        unreadable = [p for p in points if isinstance(p, CoordinateError)]
        if unreadable:
            _coordinate_error(props, unreadable[0])
        if bad:
            props["_invalid_coordinate_rows"] = ", ".join(map(str, sorted(bad)))
            geom = None
        elif len(points) == 1:  # a plot given by one vertex is a point
            geom = {"type": "Point", "coordinates": points[0]}
        else:
            geom = {"type": "Polygon", "coordinates": [points]}  # kept open if open: reported
        features.append(RawFeature(props, geom, first_row))
    return features


def _is_vertex_table(table: _Table, cols: _Columns) -> bool:
    """Vertex rows need a plot id to group by, and a vertex column holding numbers: a 'Punto'
    or 'Orden' column alone may just number point plots."""
    if cols.vertex is None or cols.plot_id is None or cols.lat is None or cols.lon is None:
        return False
    values = [_cell(v, cols.vertex) for _, v in table.rows]
    return any(not _is_empty(v) for v in values) and all(
        _is_empty(v) or parse_number(v) is not None for v in values
    )


def _layer(path: Path, table: _Table, crs: str | None) -> list[RawLayer]:
    cols = _columns(path, table.header)
    srids: set[int] = set()
    if cols.wkt is None and _is_vertex_table(table, cols):
        features = _vertex_features(table, cols)
    else:
        features, srids = _row_features(table, cols)
    if crs is None and len(srids) == 1:
        crs = f"EPSG:{srids.pop()}"  # EWKT from PostGIS: SRID=32718;POLYGON(...)
    return [RawLayer(path, None, crs, features, typed_properties=False)]


def _table(raw_rows: Iterable[Sequence[Any]], text_only: bool) -> _Table | None:
    """Header = the first non-empty row naming coordinate columns (else the first non-empty
    row); then the non-empty rows below it with their 1-based numbers, fitted to its width."""
    # CSV cells are all text: one join is much faster than a check per cell.
    filled = [(number, values) for number, values in enumerate(raw_rows, start=1)
              if ("".join(values).strip() if text_only else any(map(_filled, values)))]  # fmt: skip
    if not filled:
        return None
    at = next((i for i, (_, v) in enumerate(filled[:_HEADER_SEARCH]) if _names_coordinates(v)), 0)
    header = _header(filled[at][1])
    width = len(header)
    rows: list[tuple[int, Sequence[Any]]] = []
    ragged = set()
    for number, values in filled[at + 1 :]:
        if len(values) == width:
            rows.append((number, values))
            continue
        # Only CSV: in a sheet, a note typed right of the table does not shift any cell.
        if text_only and any(map(_filled, values[width:])):
            ragged.add(number)
        rows.append((number, [*values[:width], *[None] * (width - len(values))]))
    return _Table(header, rows, frozenset(ragged))


def _names_coordinates(values: Sequence[Any]) -> bool:
    keys = {_key(v) for v in values if isinstance(v, str)}
    has_xy = not keys.isdisjoint(LATITUDE) and not keys.isdisjoint(LONGITUDE)
    return has_xy or not keys.isdisjoint(WKT)


def _filled(value: Any) -> bool:
    return not _is_empty(value)


def _header(values: Sequence[Any]) -> list[str]:
    """Column names; blank ones get a name, repeated ones a suffix, so no value is overwritten."""
    names: list[str] = []
    for i, value in enumerate(values, start=1):
        name = "" if value is None else str(value).strip()
        name = name or f"columna_{i}"
        while name in names:
            name = f"{name}_{i}"
        names.append(name)
    return names


def _empty_error(path: Path) -> PlotFileError:
    return PlotFileError(path, "la tabla no tiene filas.", "the table has no rows.")


# --- CSV -------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")  # Excel's "Unicode text" export
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Windows-1252 leaves 5 bytes undefined; Latin-1 never fails.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _delimiter(text: str) -> tuple[str, str]:
    """(delimiter, text without Excel's 'sep=;' hint line), sniffed from the header line."""
    first, _, rest = text.partition("\n")
    hint = re.fullmatch(r"\s*sep=(.)\s*", first)
    if hint:
        return hint[1], rest
    header = next((line for line in io.StringIO(text) if line.strip()), "")
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return (best if counts[best] else ","), text


def read_csv(path: Path, data: bytes, crs: str | None) -> list[RawLayer]:
    text = _decode(data)
    delimiter, text = _delimiter(text)
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    with paused_gc():
        try:
            table = _table(reader, text_only=True)
        except csv.Error as exc:
            raise PlotFileError(
                path,
                f"CSV mal formado (línea {reader.line_num}): {exc}.",
                f"malformed CSV (line {reader.line_num}): {exc}.",
            ) from None
        if table is None:
            raise _empty_error(path)
        return _layer(path, table, crs)


# --- XLSX ------------------------------------------------------------------------------------


def _sheet_rows(path: Path, data: bytes, sheet: str | None) -> list[Sequence[Any]]:
    import openpyxl
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types on damaged input (KeyError, XML errors…)
        raise PlotFileError(
            path, "el libro Excel está dañado o no es un .xlsx válido.",
            "the Excel workbook is damaged or not a valid .xlsx.",
        ) from None  # fmt: skip
    try:
        names = list(book.sheetnames)
        if sheet is not None and sheet not in names:
            match = [n for n in names if n.strip().lower() == sheet.strip().lower()]
            if not match:
                raise PlotFileError(
                    path,
                    f"no existe la hoja {sheet!r}. Hojas del libro: {', '.join(names)}.",
                    f"there is no sheet {sheet!r}. Sheets in the workbook: {', '.join(names)}.",
                )
            sheet = match[0]
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        if not isinstance(ws, ReadOnlyWorksheet):
            raise PlotFileError(
                path,
                f"la hoja {ws.title!r} no contiene celdas (es un gráfico).",
                f"sheet {ws.title!r} holds no cells (it is a chart).",
            )
        # Some generators write a wrong <dimension>; reset so every row is read.
        ws.reset_dimensions()
        return list(ws.iter_rows(values_only=True))
    except PlotFileError:
        raise
    except Exception:
        raise PlotFileError(
            path, "no se pudo leer la hoja del libro Excel (archivo dañado).",
            "could not read the Excel sheet (damaged file).",
        ) from None  # fmt: skip
    finally:
        book.close()


def read_xlsx(
    path: Path, data: bytes, sheet: str | None, crs: str | None,
    settings: Settings | None = None,
) -> list[RawLayer]:  # fmt: skip
    settings = settings or get_settings()
    # openpyxl decompresses whole members itself, so only declared sizes can be capped here.
    check_declared_size(path, open_zip(path, data), settings.unzipped_limit_mb)
    with warnings.catch_warnings():
        # Harmless notes about styles and Excel extensions openpyxl does not keep.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
        rows = _sheet_rows(path, data, sheet)
    with paused_gc():
        table = _table(rows, text_only=False)
        if table is None:
            raise _empty_error(path)
        return _layer(path, table, crs)
