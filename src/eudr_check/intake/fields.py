"""Mapping of the property names cooperatives use onto the normalised plot columns."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Normalised column -> accepted names (compared after lower-casing, removing accents and
# turning spaces, dashes and dots into underscores). Order matters: the first match wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "plot_id": (
        "plot_id",
        "plotid",
        "id_parcela",
        "codigo_parcela",
        "cod_parcela",
        "parcela_id",
        "codigo",
        "cod",
        "code",
        "parcela",
        "plot",
        "id_plot",
        "plot_code",
        "id",
        "fid_parcela",
        "id_lote",
        "lote",
        "parcelle",
        "code_parcelle",
        "name",
    ),
    "producer_name": (
        "producername",
        "producer_name",
        "producer",
        "nombre_productor",
        "productor",
        "nombre_del_productor",
        "productor_nombre",
        "agricultor",
        "socio",
        "nombre_socio",
        "farmer",
        "farmer_name",
        "grower",
        "nom_producteur",
        "producteur",
        "nombre",
    ),
    "producer_country": (
        "producercountry",
        "producer_country",
        "country",
        "pais",
        "codigo_pais",
        "pais_iso",
        "iso2",
        "iso_a2",
        "country_code",
        "pays",
        "code_pays",
    ),
    "production_place": (
        "productionplace",
        "production_place",
        "lugar_produccion",
        "lugar_de_produccion",
        "lugar",
        "finca",
        "fundo",
        "predio",
        "sector",
        "caserio",
        "localidad",
        "comunidad",
        "distrito",
        "place",
        "farm",
        "farm_name",
        "localite",
        "village",
    ),
    "declared_area_ha": (
        "area",
        "area_ha",
        "areaha",
        "superficie",
        "superficie_ha",
        "hectareas",
        "hectares",
        "has",
        "ha",
        "area_declarada",
        "area_hectareas",
        "surface",
        "surface_ha",
        "size_ha",
    ),
    "commodity": (
        "commodity",
        "cultivo",
        "producto",
        "crop",
        "materia_prima",
        "culture",
        "produit",
    ),
}


def canonical(name: str) -> str:
    """Lower-case, accent-free, underscore-separated form of a property name."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "_", text.strip().lower())
    return re.sub(r"_+", "_", text).strip("_")


def match_fields(names: Iterable[str]) -> dict[str, str]:
    """Map normalised columns to the file's own property names (first alias that matches)."""
    by_canonical: dict[str, str] = {}
    for name in names:
        by_canonical.setdefault(canonical(name), name)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for column, aliases in ALIASES.items():
        for alias in aliases:
            original = by_canonical.get(alias)
            if original is not None and original not in used:
                mapping[column] = original
                used.add(original)
                break
    return mapping
