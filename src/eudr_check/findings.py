"""Geolocation findings: their codes, severities and texts, side by side.

A finding is one problem with one plot (or with the whole file). Its code is stable for the
five years reports and registries keep it; its text lives right here, beside the code, in
Spanish and English, and is rendered by `finding_message`, never by the finding itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from eudr_check.i18n import Lang, Param, Text, country_name


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    REPAIRED = "repaired"


class Code(StrEnum):
    """Stable finding codes. Never rename one: reports and registries keep them for 5 years."""

    # coordinate reference system and coordinates
    CRS_REPROJECTED = "crs_reprojected"
    CRS_PROJECTED_UNKNOWN = "crs_projected_unknown"
    CRS_UNSUPPORTED = "crs_unsupported"
    COORD_OUT_OF_RANGE = "coord_out_of_range"
    LATLON_SWAPPED = "latlon_swapped"
    LOW_PRECISION = "low_precision"
    ROUNDING_DUPLICATES = "rounding_duplicates"
    Z_OR_M_VALUES = "z_or_m_values"
    # geometry shape
    GEOMETRY_MISSING = "geometry_missing"
    GEOMETRY_UNSUPPORTED = "geometry_unsupported"
    POINT_NESTED_COORDINATES = "point_nested_coordinates"
    RING_NOT_CLOSED = "ring_not_closed"
    TOO_FEW_POSITIONS = "too_few_positions"
    SELF_INTERSECTION = "self_intersection"
    SPIKE = "spike"
    DEGENERATE_POLYGON = "degenerate_polygon"
    HOLE = "hole"
    LINESTRING = "linestring"
    MULTIPART = "multipart"
    # area
    POINT_OVER_4HA = "point_over_4ha"
    AREA_MISMATCH = "area_mismatch"
    AREA_TOO_SMALL = "area_too_small"
    AREA_TOO_LARGE = "area_too_large"
    AREA_IS_STRING = "area_is_string"
    AREA_INVALID = "area_invalid"
    # identity and neighbours
    PLOT_ID_MISSING = "plot_id_missing"
    DUPLICATE_PLOT_ID = "duplicate_plot_id"
    DUPLICATE_GEOMETRY = "duplicate_geometry"
    OVERLAP = "overlap"
    # country
    COUNTRY_MISSING = "country_missing"
    COUNTRY_INFERRED = "country_inferred"
    COUNTRY_AMBIGUOUS = "country_ambiguous"
    COORD_UNREADABLE = "coordinate_unreadable"
    COUNTRY_INVALID = "country_invalid"
    OUTSIDE_COUNTRY = "outside_country"
    NEAR_BORDER = "near_border"
    # legality: the plot on protected or titled land (vector layers, legality.py)
    IN_PROTECTED_AREA = "in_protected_area"
    ON_INDIGENOUS_LAND = "on_indigenous_land"
    IN_PRODUCTION_FOREST = "in_production_forest"
    LEGALITY_NOT_CHECKED = "legality_not_checked"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one plot (plot_id None: the whole file)."""

    code: Code
    severity: Severity
    plot_id: str | None
    source_file: str
    source_index: int | None = None
    params: tuple[tuple[str, Param], ...] = ()
    related_plot_id: str | None = None
    fixable: bool = False

    def param(self, name: str) -> Param | None:
        return dict(self.params).get(name)

    def with_severity(self, severity: Severity) -> Finding:
        return replace(self, severity=severity)

    def to_dict(self) -> dict[str, Any]:
        """The finding's data (what the registry stores); `finding_record` adds its texts."""
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "plot_id": self.plot_id,
            "source_file": self.source_file,
            "source_index": self.source_index,
            "related_plot_id": self.related_plot_id,
            "fixable": self.fixable,
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            code=Code(data["code"]),
            severity=Severity(data["severity"]),
            plot_id=data.get("plot_id"),
            source_file=data["source_file"],
            source_index=data.get("source_index"),
            params=tuple(sorted(data.get("params", {}).items())),
            related_plot_id=data.get("related_plot_id"),
            fixable=bool(data.get("fixable", False)),
        )


# code -> its text. Keep them short: they appear in tables and CSV cells.
MESSAGES: dict[Code, Text] = {
    Code.CRS_REPROJECTED: Text(
        "Coordenadas convertidas de {crs} a WGS84 (EPSG:4326).",
        "Coordinates reprojected from {crs} to WGS84 (EPSG:4326).",
    ),
    Code.CRS_PROJECTED_UNKNOWN: Text(
        "Las coordenadas ({x}, {y}) parecen metros, no grados, y el archivo no declara su sistema "
        "de referencia.{hint_es}",
        "The coordinates ({x}, {y}) look like metres, not degrees, and the file declares no "
        "coordinate reference system.{hint_en}",
    ),
    Code.CRS_UNSUPPORTED: Text(
        "Sistema de referencia desconocido: {crs}.",
        "Unknown coordinate reference system: {crs}.",
    ),
    Code.COORD_OUT_OF_RANGE: Text(
        "Coordenada fuera de rango ({x}, {y}): la longitud debe estar entre -180 y 180 y la "
        "latitud entre -90 y 90.",
        "Coordinate out of range ({x}, {y}): longitude must be within ±180 and latitude within "
        "±90.",
    ),
    Code.LATLON_SWAPPED: Text(
        "Latitud y longitud están invertidas: con el orden corregido [longitud, latitud] la "
        "parcela cae en {country}.",
        "Latitude and longitude are swapped: in the correct [longitude, latitude] order the plot "
        "lies in {country}.",
    ),
    Code.LOW_PRECISION: Text(
        "Coordenadas con solo {decimals} decimales (precisión de unos {metres} m); la UE pide 6.",
        "Coordinates have only {decimals} decimals (about {metres} m precision); the EU asks "
        "for 6.",
    ),
    Code.ROUNDING_DUPLICATES: Text(
        "{count} vértice(s) repetido(s) al redondear a 6 decimales.",
        "{count} vertex(es) become duplicates when rounded to 6 decimals.",
    ),
    Code.Z_OR_M_VALUES: Text(
        "Las posiciones tienen {dims} valores (altitud u otra medida); la UE espera solo "
        "[longitud, latitud].",
        "Positions have {dims} values (altitude or a measure); the EU expects only "
        "[longitude, latitude].",
    ),
    Code.GEOMETRY_MISSING: Text(
        "La parcela no tiene geometría.",
        "The plot has no geometry.",
    ),
    Code.GEOMETRY_UNSUPPORTED: Text(
        "Geometría no válida o no admitida ({detail}).",
        "Invalid or unsupported geometry ({detail}).",
    ),
    Code.POINT_NESTED_COORDINATES: Text(
        "Un Point con una lista de listas como coordenadas; la UE lo rechaza.",
        "A Point with an array of arrays as coordinates; the EU rejects it.",
    ),
    Code.RING_NOT_CLOSED: Text(
        "El polígono no está cerrado: la primera y la última posición difieren.",
        "The polygon is not closed: its first and last positions differ.",
    ),
    Code.TOO_FEW_POSITIONS: Text(
        "El polígono tiene {positions} posiciones; se necesitan al menos 4 (3 vértices y el "
        "cierre).",
        "The polygon has {positions} positions; at least 4 are needed (3 vertices and the "
        "closing one).",
    ),
    Code.SELF_INTERSECTION: Text(
        "El contorno se cruza o se superpone a sí mismo ({detail}).",
        "The outline crosses or overlaps itself ({detail}).",
    ),
    Code.SPIKE: Text(
        "{count} pico(s): el contorno sale y vuelve por el mismo camino (ángulo menor de "
        "{angle}°).",
        "{count} spike(s): the outline goes out and comes back along the same path (angle under "
        "{angle}°).",
    ),
    Code.DEGENERATE_POLYGON: Text(
        "El polígono no tiene superficie: todos sus vértices están en una línea.",
        "The polygon has no area: all its vertices lie on one line.",
    ),
    Code.HOLE: Text(
        "El polígono tiene {count} hueco(s); la UE no admite huecos. Se puede dividir en "
        "polígonos sin huecos.",
        "The polygon has {count} hole(s); the EU does not accept holes. It can be split into "
        "polygons without holes.",
    ),
    Code.LINESTRING: Text(
        "Es una línea, no un polígono{closed_es}; la UE rechaza las líneas.",
        "It is a line, not a polygon{closed_en}; the EU rejects lines.",
    ),
    Code.MULTIPART: Text(
        "La parcela tiene {count} partes separadas hasta {distance_m} m; ¿son varias parcelas?",
        "The plot has {count} separate parts up to {distance_m} m apart; are they several plots?",
    ),
    Code.POINT_OVER_4HA: Text(
        "Parcela de {area} ha dada como punto; las de más de 4 ha deben ser polígonos.",
        "A {area} ha plot given as a point; plots over 4 ha must be polygons.",
    ),
    Code.AREA_MISMATCH: Text(
        "Superficie declarada {declared} ha, pero el polígono mide {measured} ha ({percent} %).",
        "Declared area {declared} ha, but the polygon measures {measured} ha ({percent} %).",
    ),
    Code.AREA_TOO_SMALL: Text(
        "Superficie inverosímil: {area} ha (menos de {limit} ha).",
        "Implausible area: {area} ha (under {limit} ha).",
    ),
    Code.AREA_TOO_LARGE: Text(
        "Superficie inverosímil: {area} ha (más de {limit} ha).",
        "Implausible area: {area} ha (over {limit} ha).",
    ),
    Code.AREA_IS_STRING: Text(
        'Area es texto ("{value}"); la UE lo leería como 0. Debe ser un número.',
        'Area is a string ("{value}"); the EU would read it as 0. It must be a number.',
    ),
    Code.AREA_INVALID: Text(
        'Superficie no válida: "{value}" (se ignora).',
        'Invalid area: "{value}" (ignored).',
    ),
    Code.PLOT_ID_MISSING: Text(
        "Parcela sin código; se le asignó {generated}.",
        "Plot without an ID; it was given {generated}.",
    ),
    Code.DUPLICATE_PLOT_ID: Text(
        "Código de parcela repetido (también en {first}).",
        "Duplicate plot ID (also at {first}).",
    ),
    Code.DUPLICATE_GEOMETRY: Text(
        "Geometría idéntica a la de la parcela {related}: la misma tierra declarada dos veces.",
        "Geometry identical to plot {related}: the same land declared twice.",
    ),
    Code.OVERLAP: Text(
        "Se superpone con la parcela {related} en {overlap_ha} ha ({percent} % de la menor).",
        "Overlaps plot {related} by {overlap_ha} ha ({percent} % of the smaller one).",
    ),
    Code.COUNTRY_MISSING: Text(
        "Falta el país del productor y no se puede deducir de la ubicación (ningún país la "
        "contiene: ¿en el mar, o sin geometría?). Añádalo al archivo (código ISO de 2 letras) o "
        "indíquelo para todo el archivo con --country, p. ej. --country PE.",
        "The producer country is missing and cannot be inferred from the location (no country "
        "contains it: at sea, or no geometry?). Add it to the file (2-letter ISO code) or give "
        "one for the whole file with --country, e.g. --country PE.",
    ),
    Code.COUNTRY_INFERRED: Text(
        "País del productor deducido de la ubicación: {country} (el archivo no lo indicaba).",
        "Producer country inferred from the location: {country} (the file gave none).",
    ),
    Code.COUNTRY_AMBIGUOUS: Text(
        "Falta el país del productor y la parcela está a menos de {tolerance_km} km de la "
        "frontera entre {country} y {other}: indíquelo en el archivo o con --country.",
        "The producer country is missing and the plot is within {tolerance_km} km of the "
        "border between {country} and {other}: give it in the file or with --country.",
    ),
    Code.COORD_UNREADABLE: Text(
        'No se puede leer la coordenada "{value}"{why_es}. Use grados decimales (-5.141222) o '
        "grados, minutos y segundos con hemisferio (5°08'28.4\"S).",
        'Cannot read the coordinate "{value}"{why_en}. Use decimal degrees (-5.141222) or '
        "degrees, minutes and seconds with a hemisphere (5°08'28.4\"S).",
    ),
    Code.COUNTRY_INVALID: Text(
        'País no válido: "{value}"{suggest_es}.',
        'Invalid country: "{value}"{suggest_en}.',
    ),
    Code.OUTSIDE_COUNTRY: Text(
        "La parcela está fuera de {country}, a {distance_km} km de su frontera{actual_es}.",
        "The plot lies outside {country}, {distance_km} km from its border{actual_en}.",
    ),
    Code.NEAR_BORDER: Text(
        "La parcela cae {distance_km} km fuera de {country}, cerca de la frontera (los límites "
        "1:50m tienen ese margen de error).",
        "The plot lies {distance_km} km outside {country}, near the border (the 1:50m boundaries "
        "are that imprecise).",
    ),
    Code.IN_PROTECTED_AREA: Text(
        "{ha} ha ({percent} %) de la parcela están dentro de {name} ({category}{zoning_es}, "
        "{layer}).{strict_es}",
        "{ha} ha ({percent} %) of the plot lie inside {name} ({category}{zoning_en}, {layer})."
        "{strict_en}",
    ),
    Code.ON_INDIGENOUS_LAND: Text(
        "{ha} ha ({percent} %) de la parcela están en tierras de {name} ({category}, {layer}): "
        "hace falta el registro del consentimiento de la comunidad.",
        "{ha} ha ({percent} %) of the plot lie on the land of {name} ({category}, {layer}): the "
        "community's consent record is needed.",
    ),
    Code.IN_PRODUCTION_FOREST: Text(
        "{ha} ha ({percent} %) de la parcela están en el bosque de producción permanente {name} "
        "({layer}): no es suelo agrícola.",
        "{ha} ha ({percent} %) of the plot lie in the permanent production forest {name} "
        "({layer}): it is not farmland.",
    ),
    Code.LEGALITY_NOT_CHECKED: Text(
        "No se comprobó la capa {layer}: {error}",
        "The {layer} layer was not checked: {error}",
    ),
}


def _extras(code: Code, params: dict[str, Param]) -> dict[str, Param]:
    """Optional sentence parts that depend on which parameters a finding carries."""
    extra: dict[str, Param] = {}
    if code is Code.CRS_PROJECTED_UNKNOWN:
        if "epsg" in params:
            zone, epsg = params["zone"], params["epsg"]
            extra["hint_es"] = (
                f" Probablemente UTM zona {zone} (EPSG:{epsg}); exporte en WGS84 o indique "
                f"--crs EPSG:{epsg}."
            )
            extra["hint_en"] = (
                f" Likely UTM zone {zone} (EPSG:{epsg}); export in WGS84 or pass --crs EPSG:{epsg}."
            )
        else:
            extra["hint_es"] = " Exporte en WGS84 o indique el sistema con --crs."
            extra["hint_en"] = " Export in WGS84 or give the system with --crs."
    if code is Code.IN_PROTECTED_AREA:
        zoning = params.get("zoning")
        plain = f", {zoning}" if zoning else ""
        buffer = bool(params.get("buffer_zone"))
        extra["zoning_es"] = plain + (", zona de amortiguamiento" if buffer else "")
        extra["zoning_en"] = plain + (", buffer zone" if buffer else "")
        strict = bool(params.get("strict"))
        extra["strict_es"] = (
            " Protección estricta: ningún cultivo puede declararse allí."
            if strict
            else " Uso permitido solo según su plan de manejo."
        )
        extra["strict_en"] = (
            " Strict protection: no crop there can be declared."
            if strict
            else " Use allowed only as its management plan says."
        )
    if code is Code.COUNTRY_INVALID:
        iso2 = params.get("iso2")
        extra["suggest_es"] = f"; se usa {iso2}" if iso2 else "; use un código ISO de 2 letras"
        extra["suggest_en"] = f"; using {iso2}" if iso2 else "; use a 2-letter ISO code"
    if code is Code.COORD_UNREADABLE:
        why = params.get("reason")
        extra["why_es"] = {"hemisphere": " (letra de hemisferio de la otra coordenada)",
                           "range": " (minutos o segundos de 60 o más, o fuera de rango)"}.get(
                               str(why), "")  # fmt: skip
        extra["why_en"] = {"hemisphere": " (a hemisphere letter of the other axis)",
                           "range": " (minutes or seconds of 60 or more, or out of range)"}.get(
                               str(why), "")  # fmt: skip
    if code is Code.OUTSIDE_COUNTRY:
        actual = params.get("actual")
        where = str(actual) if actual else None
        extra["actual_es"] = f"; está en {country_name(where, Lang.ES)}" if where else ""
        extra["actual_en"] = f"; it lies in {country_name(where, Lang.EN)}" if where else ""
    if code is Code.LINESTRING:
        closed = params.get("closed") == 1
        extra["closed_es"] = " (cerrada: se puede convertir en polígono)" if closed else ""
        extra["closed_en"] = " (closed: it can be turned into a polygon)" if closed else ""
    return extra


# What a repaired finding says instead ("it can be split" once it was split).
REPAIRED_MESSAGES: dict[Code, Text] = {
    Code.HOLE: Text(
        "El polígono tenía {count} hueco(s), que la UE no admite: se dividió en polígonos sin "
        "huecos.",
        "The polygon had {count} hole(s), which the EU does not accept: it was split into "
        "polygons without holes.",
    ),
}


def finding_message(finding: Finding, lang: Lang | str) -> str:
    """The finding's text in one language, its parameters filled in."""
    params = dict(finding.params)
    values: dict[str, Param] = {**params, **_extras(finding.code, params)}
    for key in ("country", "other"):  # ISO codes read as names in the reader's language
        if isinstance(values.get(key), str):
            values[key] = country_name(str(values[key]), lang)
    if finding.related_plot_id is not None:
        values.setdefault("related", finding.related_plot_id)
    text = MESSAGES[finding.code]
    if finding.severity is Severity.REPAIRED:
        text = REPAIRED_MESSAGES.get(finding.code, text)
    # A finding read back from an older report may lack a parameter: then the bare text.
    return text.lenient(lang, **values)


def finding_record(finding: Finding) -> dict[str, Any]:
    """The finding's data with its texts in both languages, as reports write it."""
    return {
        **finding.to_dict(),
        "message_es": finding_message(finding, Lang.ES),
        "message_en": finding_message(finding, Lang.EN),
    }
