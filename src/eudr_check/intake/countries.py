"""Country boundaries (Natural Earth 1:50m, shipped) and ISO 3166 alpha-2 codes."""

from __future__ import annotations

import gettext
import gzip
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pycountry
import shapely
from shapely.geometry.base import BaseGeometry

from eudr_check.intake.fields import canonical


@dataclass(frozen=True, slots=True)
class Countries:
    codes: tuple[str, ...]  # ISO-2 of each boundary, aligned with geoms
    geoms: np.ndarray  # shapely geometries, EPSG:4326
    tree: shapely.STRtree
    by_code: dict[str, BaseGeometry]

    def geometry(self, iso2: str) -> BaseGeometry | None:
        return self.by_code.get(iso2)


@cache
def countries() -> Countries:
    ref = resources.files("eudr_check") / "data" / "ne_50m_admin_0_countries.geojson.gz"
    data = json.loads(gzip.decompress(ref.read_bytes()))
    codes: list[str] = []
    geoms: list[BaseGeometry] = []
    for feat in data["features"]:
        code = feat["properties"]["iso_a2"]
        if len(code) == 2 and code.isalpha():
            codes.append(code)
            geoms.append(shapely.geometry.shape(feat["geometry"]))
    arr = np.array(geoms, dtype=object)
    shapely.prepare(arr)
    return Countries(tuple(codes), arr, shapely.STRtree(arr), dict(zip(codes, geoms, strict=True)))


@cache
def _names() -> dict[str, str]:
    """Canonical country names (English, Spanish, French) and ISO-3 codes -> ISO-2."""
    names: dict[str, str] = {}
    translators = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for lang in ("es", "fr")
    ]
    for c in pycountry.countries:
        variants = {c.name, getattr(c, "common_name", c.name), getattr(c, "official_name", c.name)}
        variants |= {t.gettext(c.name) for t in translators}
        for v in variants:
            names.setdefault(canonical(v), c.alpha_2)
        names.setdefault(c.alpha_3.lower(), c.alpha_2)
    return names


@cache
def iso2_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def normalise_country(value: str) -> str | None:
    """ISO-2 for a code, ISO-3 or country name in es/en/fr; None when not recognised."""
    text = value.strip()
    if text.upper() in iso2_codes():
        return text.upper()
    return _names().get(canonical(text))
