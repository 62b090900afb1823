"""Value types of a due diligence statement (DDS) as eudr_check builds it for the EU system."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from shapely.geometry.base import BaseGeometry

from eudr_check.reasons import Verdict

# The EU system's limits (API Reference, section 10.3: "presently set to").
MAX_PRODUCERS_PER_COMMODITY = 1_000
MAX_PRODUCERS_PER_DDS = 10_000
MAX_COMMODITIES_PER_DDS = 100
MAX_GEO_BYTES = 25_000_000  # counted on the base64 text sent: the safe side of "25 MB"
MAX_DESCRIPTION = 150
MAX_INTERNAL_REF = 35
MAX_COMMENT = 2_000
MAX_PRODUCER_NAME = 500
ACCEPTED = frozenset({Verdict.DEFORESTATION_FREE})
# EUDR Annex I: the HS headings of relevant products, by commodity (prefixes of 2-6 digits).
ANNEX_I = {
    "cattle": ("0102", "0201", "0202", "0206", "4101", "4104", "4107"),
    "cocoa": ("1801", "1802", "1803", "1804", "1805", "1806"),
    "coffee": ("0901", "210111", "210112"),
    "oil_palm": ("1207", "1511", "1513", "2306", "2905", "2915", "3823", "3401"),
    "rubber": ("4001", *(f"40{n:02d}" for n in range(5, 18))),
    "soya": ("1201", "1208", "1507", "2304"),
    "wood": ("44", "47", "48", "49", "9401", "9403", "9406"),
}
# The EU system's EuropeanCountryType: where the activity takes place, where goods cross.
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
})  # fmt: skip


def annex_commodity(hs: str) -> str | None:
    """The Annex I commodity an HS heading belongs to, or None."""
    return next((c for c, heads in ANNEX_I.items() if hs.startswith(heads)), None)


class Activity(StrEnum):
    IMPORT = "IMPORT"
    EXPORT = "EXPORT"
    DOMESTIC = "DOMESTIC"


class OperatorRole(StrEnum):
    OPERATOR = "OPERATOR"
    REPRESENTATIVE_OPERATOR = "REPRESENTATIVE_OPERATOR"


@dataclass(frozen=True, slots=True)
class StatementOptions:
    """What the exporter says about the shipment; the plots say the rest.

    `hs_codes` maps a plot's commodity ("coffee") to its HS heading; the key "*" applies to
    every plot whose commodity is not listed. Naming a represented operator (`operator_name`,
    `eori`) makes the filer an authorised representative (REPRESENTATIVE_OPERATOR)."""

    hs_codes: dict[str, str]
    net_mass_kg: float
    activity: Activity = Activity.IMPORT
    description: str | None = None
    operator_name: str | None = None
    eori: str | None = None
    country_of_activity: str | None = None
    border_cross_country: str | None = None
    comment: str | None = None
    internal_ref: str | None = None
    confidential: bool = False

    @property
    def role(self) -> OperatorRole:
        if self.operator_name or self.eori:
            return OperatorRole.REPRESENTATIVE_OPERATOR
        return OperatorRole.OPERATOR

    def hs_for(self, commodity: str | None) -> str | None:
        """The plot's HS heading: the one given for its commodity, else the general one when
        the plot names no commodity or the same one (a coffee code never goes on cocoa)."""
        key = (commodity or "").strip().lower()
        if key in self.hs_codes:
            return self.hs_codes[key]
        general = self.hs_codes.get("*")
        if general is None or (key and annex_commodity(general) != key):
            return None
        return general


@dataclass(frozen=True, slots=True)
class DeclaredPlot:
    """A plot as the statement needs it: who produced it where, its shape and its verdict.
    Attribute names follow the plot table's, so the EU GeoJSON writer reads it as a row."""

    plot_id: str
    geometry: BaseGeometry | None
    verdict: Verdict | None  # None: never checked
    producer_name: str | None = None
    producer_country: str | None = None
    production_place: str | None = None
    declared_area_ha: float | None = None
    area_ha: float | None = None
    commodity: str | None = None
    version_id: int | None = None  # registry plots

    @property
    def weight_ha(self) -> float:
        """The area that apportions a split lot's net mass (a point without one counts 4 ha,
        as the EU system assumes)."""
        for value in (self.declared_area_ha, self.area_ha):
            if value is not None and math.isfinite(value) and value > 0:
                return float(value)
        return 4.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """A plot left out of every statement, and why (Spanish and English)."""

    plot_id: str
    code: str  # verdict_not_accepted | no_geometry | no_country | no_hs_code | commodity_mismatch
    #  | too_large
    verdict: Verdict | None
    es: str
    en: str


@dataclass(frozen=True, slots=True)
class Override:
    """A plot declared although its verdict is not accepted, on the user's recorded reason."""

    plot_id: str
    reason: str
    verdict: Verdict | None = None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class ProducerEntry:
    """One `producers` element: a producer's plots as one EU GeoJSON FeatureCollection."""

    name: str | None
    country: str
    plot_ids: tuple[str, ...]
    geojson: bytes  # UTF-8 text; sent base64-encoded
    weight_ha: float

    @property
    def encoded_size(self) -> int:
        return 4 * math.ceil(len(self.geojson) / 3)


@dataclass(frozen=True, slots=True)
class CommodityEntry:
    hs_heading: str
    description: str
    net_mass_kg: Decimal
    producers: tuple[ProducerEntry, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """One DDS; a lot too large for one is split into `of` statements."""

    part: int
    of: int
    options: StatementOptions
    internal_ref: str | None
    comment: str | None
    commodities: tuple[CommodityEntry, ...]

    @property
    def plot_ids(self) -> list[str]:
        return [pid for c in self.commodities for p in c.producers for pid in p.plot_ids]

    @property
    def producer_count(self) -> int:
        return sum(len(c.producers) for c in self.commodities)

    @property
    def geo_bytes(self) -> int:
        return sum(p.encoded_size for c in self.commodities for p in c.producers)

    def producer_at(self, commodity: int, producer: int) -> ProducerEntry | None:
        """By the 1-based positions an XSD error path names."""
        try:
            return self.commodities[commodity - 1].producers[producer - 1]
        except IndexError:
            return None


@dataclass(frozen=True, slots=True)
class DdsBuild:
    statements: tuple[Statement, ...]
    refused: tuple[Refusal, ...] = ()
    overridden: tuple[Override, ...] = ()
    plots_in: int = 0
    notes: tuple[tuple[str, str], ...] = field(default=())  # (es, en) remarks for the summary

    @property
    def included(self) -> int:
        return sum(len(s.plot_ids) for s in self.statements)
