"""Texts of the findings in Spanish and English. Parameters are filled in with str.format."""

from __future__ import annotations

from eudr_check.models import Code, Param

# code -> (español, English). Keep them short: they appear in tables and CSV cells.
MESSAGES: dict[Code, tuple[str, str]] = {
    Code.CRS_REPROJECTED: (
        "Coordenadas convertidas de {crs} a WGS84 (EPSG:4326).",
        "Coordinates reprojected from {crs} to WGS84 (EPSG:4326).",
    ),
    Code.CRS_PROJECTED_UNKNOWN: (
        "Las coordenadas ({x}, {y}) parecen metros, no grados, y el archivo no declara su sistema "
        "de referencia.{hint_es}",
        "The coordinates ({x}, {y}) look like metres, not degrees, and the file declares no "
        "coordinate reference system.{hint_en}",
    ),
    Code.CRS_UNSUPPORTED: (
        "Sistema de referencia desconocido: {crs}.",
        "Unknown coordinate reference system: {crs}.",
    ),
    Code.COORD_OUT_OF_RANGE: (
        "Coordenada fuera de rango ({x}, {y}): la longitud debe estar entre -180 y 180 y la "
        "latitud entre -90 y 90.",
        "Coordinate out of range ({x}, {y}): longitude must be within ±180 and latitude within "
        "±90.",
    ),
    Code.LATLON_SWAPPED: (
        "Latitud y longitud están invertidas: con el orden corregido [longitud, latitud] la "
        "parcela cae en {country}.",
        "Latitude and longitude are swapped: in the correct [longitude, latitude] order the plot "
        "lies in {country}.",
    ),
    Code.LOW_PRECISION: (
        "Coordenadas con solo {decimals} decimales (precisión de unos {metres} m); la UE pide 6.",
        "Coordinates have only {decimals} decimals (about {metres} m precision); the EU asks "
        "for 6.",
    ),
    Code.ROUNDING_DUPLICATES: (
        "{count} vértice(s) repetido(s) al redondear a 6 decimales.",
        "{count} vertex(es) become duplicates when rounded to 6 decimals.",
    ),
    Code.Z_OR_M_VALUES: (
        "Las posiciones tienen {dims} valores (altitud u otra medida); la UE espera solo "
        "[longitud, latitud].",
        "Positions have {dims} values (altitude or a measure); the EU expects only "
        "[longitude, latitude].",
    ),
    Code.GEOMETRY_MISSING: (
        "La parcela no tiene geometría.",
        "The plot has no geometry.",
    ),
    Code.GEOMETRY_UNSUPPORTED: (
        "Geometría no válida o no admitida ({detail}).",
        "Invalid or unsupported geometry ({detail}).",
    ),
    Code.POINT_NESTED_COORDINATES: (
        "Un Point con una lista de listas como coordenadas; la UE lo rechaza.",
        "A Point with an array of arrays as coordinates; the EU rejects it.",
    ),
    Code.RING_NOT_CLOSED: (
        "El polígono no está cerrado: la primera y la última posición difieren.",
        "The polygon is not closed: its first and last positions differ.",
    ),
    Code.TOO_FEW_POSITIONS: (
        "El polígono tiene {positions} posiciones; se necesitan al menos 4 (3 vértices y el "
        "cierre).",
        "The polygon has {positions} positions; at least 4 are needed (3 vertices and the "
        "closing one).",
    ),
    Code.SELF_INTERSECTION: (
        "El contorno se cruza o se superpone a sí mismo ({detail}).",
        "The outline crosses or overlaps itself ({detail}).",
    ),
    Code.SPIKE: (
        "{count} pico(s): el contorno sale y vuelve por el mismo camino (ángulo menor de "
        "{angle}°).",
        "{count} spike(s): the outline goes out and comes back along the same path (angle under "
        "{angle}°).",
    ),
    Code.DEGENERATE_POLYGON: (
        "El polígono no tiene superficie: todos sus vértices están en una línea.",
        "The polygon has no area: all its vertices lie on one line.",
    ),
    Code.HOLE: (
        "El polígono tiene {count} hueco(s); la UE no admite huecos. Se puede dividir en "
        "polígonos sin huecos.",
        "The polygon has {count} hole(s); the EU does not accept holes. It can be split into "
        "polygons without holes.",
    ),
    Code.LINESTRING: (
        "Es una línea, no un polígono{closed_es}; la UE rechaza las líneas.",
        "It is a line, not a polygon{closed_en}; the EU rejects lines.",
    ),
    Code.MULTIPART: (
        "La parcela tiene {count} partes separadas hasta {distance_m} m; ¿son varias parcelas?",
        "The plot has {count} separate parts up to {distance_m} m apart; are they several plots?",
    ),
    Code.POINT_OVER_4HA: (
        "Parcela de {area} ha dada como punto; las de más de 4 ha deben ser polígonos.",
        "A {area} ha plot given as a point; plots over 4 ha must be polygons.",
    ),
    Code.AREA_MISMATCH: (
        "Superficie declarada {declared} ha, pero el polígono mide {measured} ha ({percent} %).",
        "Declared area {declared} ha, but the polygon measures {measured} ha ({percent} %).",
    ),
    Code.AREA_TOO_SMALL: (
        "Superficie inverosímil: {area} ha (menos de {limit} ha).",
        "Implausible area: {area} ha (under {limit} ha).",
    ),
    Code.AREA_TOO_LARGE: (
        "Superficie inverosímil: {area} ha (más de {limit} ha).",
        "Implausible area: {area} ha (over {limit} ha).",
    ),
    Code.AREA_IS_STRING: (
        'Area es texto ("{value}"); la UE lo leería como 0. Debe ser un número.',
        'Area is a string ("{value}"); the EU would read it as 0. It must be a number.',
    ),
    Code.AREA_INVALID: (
        'Superficie no válida: "{value}" (se ignora).',
        'Invalid area: "{value}" (ignored).',
    ),
    Code.PLOT_ID_MISSING: (
        "Parcela sin código; se le asignó {generated}.",
        "Plot without an ID; it was given {generated}.",
    ),
    Code.DUPLICATE_PLOT_ID: (
        "Código de parcela repetido (también en {first}).",
        "Duplicate plot ID (also at {first}).",
    ),
    Code.DUPLICATE_GEOMETRY: (
        "Geometría idéntica a la de la parcela {related}: la misma tierra declarada dos veces.",
        "Geometry identical to plot {related}: the same land declared twice.",
    ),
    Code.OVERLAP: (
        "Se superpone con la parcela {related} en {overlap_ha} ha ({percent} % de la menor).",
        "Overlaps plot {related} by {overlap_ha} ha ({percent} % of the smaller one).",
    ),
    Code.COUNTRY_MISSING: (
        "Falta el país del productor (código ISO de 2 letras, p. ej. PE).",
        "The producer country is missing (2-letter ISO code, e.g. PE).",
    ),
    Code.COUNTRY_INVALID: (
        'País no válido: "{value}"{suggest_es}.',
        'Invalid country: "{value}"{suggest_en}.',
    ),
    Code.OUTSIDE_COUNTRY: (
        "La parcela está fuera de {country}, a {distance_km} km de su frontera.",
        "The plot lies outside {country}, {distance_km} km from its border.",
    ),
    Code.NEAR_BORDER: (
        "La parcela cae {distance_km} km fuera de {country}, cerca de la frontera (los límites "
        "1:50m tienen ese margen de error).",
        "The plot lies {distance_km} km outside {country}, near the border (the 1:50m boundaries "
        "are that imprecise).",
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
    if code is Code.COUNTRY_INVALID:
        iso2 = params.get("iso2")
        extra["suggest_es"] = f"; se usa {iso2}" if iso2 else "; use un código ISO de 2 letras"
        extra["suggest_en"] = f"; using {iso2}" if iso2 else "; use a 2-letter ISO code"
    if code is Code.LINESTRING:
        closed = params.get("closed") == 1
        extra["closed_es"] = " (cerrada: se puede convertir en polígono)" if closed else ""
        extra["closed_en"] = " (closed: it can be turned into a polygon)" if closed else ""
    return extra


def country_name(iso2: str, lang: str) -> str:
    """Country name in the reader's language ("Perú" / "Peru"); the code if unknown."""
    import gettext

    import pycountry

    found = pycountry.countries.get(alpha_2=iso2)
    if found is None:
        return iso2
    if lang == "en":
        return str(found.name)
    es = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"], fallback=True)
    return es.gettext(found.name)


def render(code: Code, lang: str, params: dict[str, Param], related: str | None = None) -> str:
    es, en = MESSAGES[code]
    values: dict[str, Param] = {**params, **_extras(code, params)}
    if isinstance(values.get("country"), str):
        values["country"] = country_name(str(values["country"]), lang)
    if related is not None:
        values.setdefault("related", related)
    try:
        return (es if lang == "es" else en).format(**values)
    except (KeyError, IndexError):
        # A finding read back from an older report may lack a parameter: show the bare text.
        return (es if lang == "es" else en).split("{")[0].strip()
