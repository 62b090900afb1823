"""From checked plots to due diligence statements within the EU system's limits (pure).

Plots whose verdict does not allow a declaration are refused, one by one with the reason,
unless the user overrides that plot with a recorded reason. The rest are grouped into
producers (name + country: one EU GeoJSON FeatureCollection each, 6 decimals, RFC 7946
winding), one commodity per HS heading, and packed first-fit into as few statements as keep
every limit: 1,000 producers per commodity, 10,000 per statement, 100 commodities, 25 MB of
geolocation. A producer whose plots alone pass 25 MB is split into several producer entries.
When a lot takes several statements its net mass is shared out by plot area (to the gram,
the shares adding up exactly) and each statement says which part of the shipment it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import shapely

from eudr_check.dds.model import (
    ACCEPTED,
    EU_COUNTRIES,
    MAX_COMMENT,
    MAX_COMMODITIES_PER_DDS,
    MAX_DESCRIPTION,
    MAX_GEO_BYTES,
    MAX_INTERNAL_REF,
    MAX_PRODUCER_NAME,
    MAX_PRODUCERS_PER_COMMODITY,
    MAX_PRODUCERS_PER_DDS,
    CommodityEntry,
    DdsBuild,
    DeclaredPlot,
    Override,
    ProducerEntry,
    Refusal,
    Statement,
    StatementOptions,
    annex_commodity,
)
from eudr_check.errors import OptionError
from eudr_check.i18n import Lang
from eudr_check.reasons import verdict_name
from eudr_check.reports.geojson import collection_text, feature_text
from eudr_check.reports.traces import eu_properties

_HS = re.compile(r"[0-9]{2,6}")
_EORI = re.compile(r"[A-Z]{2}[0-9A-Z]{1,15}")
_GRAM = Decimal("0.000001")  # the XSD's six fraction digits (kg)
DESCRIPTIONS = {"coffee": "Coffee", "cocoa": "Cocoa"}
_ES_COMMODITY = {
    "coffee": "café", "cocoa": "cacao", "cattle": "ganado bovino", "oil_palm": "palma aceitera",
    "rubber": "caucho", "soya": "soja", "wood": "madera",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Limits:
    """The EU system's limits; tests and a future change of the EU's figures pass others."""

    producers_per_commodity: int = MAX_PRODUCERS_PER_COMMODITY
    producers_per_dds: int = MAX_PRODUCERS_PER_DDS
    commodities_per_dds: int = MAX_COMMODITIES_PER_DDS
    geo_bytes: int = MAX_GEO_BYTES


def check_options(options: StatementOptions) -> None:
    """Refuse options the EU system would refuse, before any plot is looked at."""
    if not options.hs_codes:
        raise OptionError("hs", "Indique el código SH (--hs).", "Give the HS code (--hs).")
    for commodity, hs in options.hs_codes.items():
        if not _HS.fullmatch(hs) or annex_commodity(hs) is None:
            raise OptionError("hs", f"El código SH {hs!r} no es un código del anexo I del EUDR "
                              "(2 a 6 cifras, p. ej. 090111 café, 1801 cacao).",
                              f"HS code {hs!r} is not an EUDR Annex I code (2 to 6 digits, e.g. "
                              "090111 coffee, 1801 cocoa).")  # fmt: skip
        if commodity in DESCRIPTIONS and annex_commodity(hs) != commodity:
            raise OptionError("hs", f"El código SH {hs} no corresponde a {commodity}.",
                              f"HS code {hs} is not a {commodity} code.")  # fmt: skip
    if not options.net_mass_kg > 0:
        raise OptionError("net_mass_kg", "La masa neta (kg) debe ser mayor que cero.",
                          "The net mass (kg) must be greater than zero.")  # fmt: skip
    if options.description is not None and not 0 < len(options.description) <= MAX_DESCRIPTION:
        raise OptionError("description", f"La descripción debe tener de 1 a {MAX_DESCRIPTION} "
                          "caracteres.", f"The description must have 1 to {MAX_DESCRIPTION} "
                          "characters.")  # fmt: skip
    for name, code in (("country_of_activity", options.country_of_activity),
                       ("border_cross_country", options.border_cross_country)):  # fmt: skip
        if code is not None and code.upper() not in EU_COUNTRIES:
            raise OptionError(name, f"{code!r} no es un Estado miembro de la UE (código ISO de "
                              "2 letras, p. ej. DE, ES, NL).", f"{code!r} is not an EU member "
                              "state (2-letter ISO code, e.g. DE, ES, NL).")  # fmt: skip
    if options.eori is not None and not _EORI.fullmatch(options.eori):
        raise OptionError("eori", f"El EORI {options.eori!r} no es válido (2 letras de país y "
                          "hasta 15 cifras o letras).", f"EORI {options.eori!r} is not valid "
                          "(2 country letters and up to 15 digits or letters).")  # fmt: skip
    if options.eori and not options.operator_name:
        raise OptionError("operator_name", "Con --eori indique también el nombre del operador "
                          "representado (--operator-name).", "With --eori also give the "
                          "represented operator's name (--operator-name).")  # fmt: skip
    if options.internal_ref is not None and len(options.internal_ref) > MAX_INTERNAL_REF:
        raise OptionError("internal_ref", f"La referencia interna tiene como máximo "
                          f"{MAX_INTERNAL_REF} caracteres.", f"The internal reference has at "
                          f"most {MAX_INTERNAL_REF} characters.")  # fmt: skip


def build_statements(
    plots: Iterable[DeclaredPlot],
    options: StatementOptions,
    overrides: Mapping[str | int, str] | None = None,
    limits: Limits | None = None,
) -> DdsBuild:
    """The statements for these plots (see the module docstring). `overrides` maps a plot id
    (a version id for registry plots) to the user's reason for declaring it despite its
    verdict."""
    check_options(options)
    limits = limits or Limits()
    overrides = {k: v.strip() for k, v in (overrides or {}).items() if v and v.strip()}
    refused: list[Refusal] = []
    used: list[Override] = []
    groups: dict[tuple[str, str | None, str], list[DeclaredPlot]] = {}
    count = 0
    for plot in plots:
        count += 1
        refusal = _refusal(plot, options)
        if refusal is None and plot.verdict not in ACCEPTED:
            # Registry plots are keyed by version (plot ids may repeat across cooperatives).
            reason = overrides.get(plot.plot_id if plot.version_id is None else plot.version_id)
            if reason is None:
                refusal = _not_accepted(plot)
            else:
                used.append(Override(plot.plot_id, reason, plot.verdict))
        if refusal is not None:
            refused.append(refusal)
            continue
        hs = options.hs_for(plot.commodity)
        assert hs is not None and plot.producer_country is not None
        name = (plot.producer_name or "").strip()[:MAX_PRODUCER_NAME] or None
        groups.setdefault((hs, name, plot.producer_country.upper()), []).append(plot)
    entries: list[tuple[str, ProducerEntry]] = []
    for (hs, name, country), members in groups.items():
        for entry in _producer_entries(name, country, members, limits, refused):
            entries.append((hs, entry))
    packed = _pack(entries, limits)
    statements = _statements(packed, options)
    notes: list[tuple[str, str]] = []
    if len(statements) > 1:
        notes.append((
            f"El envío pasa los límites del sistema de la UE: se divide en {len(statements)} "
            "declaraciones; la masa neta se reparte según la superficie de las parcelas.",
            f"The shipment exceeds the EU system's limits: it is split into {len(statements)} "
            "statements; the net mass is shared out by plot area.",
        ))  # fmt: skip
    return DdsBuild(tuple(statements), tuple(refused), tuple(used), count, tuple(notes))


def _refusal(plot: DeclaredPlot, options: StatementOptions) -> Refusal | None:
    pid = plot.plot_id
    if plot.geometry is None or plot.geometry.is_empty:
        return Refusal(pid, "no_geometry", plot.verdict, "la parcela no tiene geometría válida",
                       "the plot has no valid geometry")  # fmt: skip
    country = (plot.producer_country or "").strip()
    if not re.fullmatch(r"[A-Za-z]{2}", country):
        return Refusal(pid, "no_country", plot.verdict,
                       "falta el país de producción (ProducerCountry, código ISO de 2 letras)",
                       "the country of production is missing (ProducerCountry, 2-letter ISO "
                       "code)")  # fmt: skip
    general = options.hs_codes.get("*")
    if options.hs_for(plot.commodity) is None and general is not None:
        named = annex_commodity(general) or general
        return Refusal(pid, "commodity_mismatch", plot.verdict,
                       f"la parcela es de {_es_name(plot.commodity)} y la declaración es de "
                       f"{_es_name(named)} (SH {general}): declárela en otro lote",
                       f"the plot grows {plot.commodity} and the statement is for {named} "
                       f"(HS {general}): declare it in another lot")  # fmt: skip
    if options.hs_for(plot.commodity) is None:
        return Refusal(pid, "no_hs_code", plot.verdict,
                       f"no se indicó código SH para el producto {plot.commodity!r}",
                       f"no HS code was given for commodity {plot.commodity!r}")  # fmt: skip
    return None


def _es_name(commodity: str | None) -> str:
    return _ES_COMMODITY.get(commodity or "", commodity or "?")


def _not_accepted(plot: DeclaredPlot) -> Refusal:
    if plot.verdict is None:
        es, en = "sin verificar", "not checked"
    else:
        es, en = verdict_name(plot.verdict, Lang.ES), verdict_name(plot.verdict, Lang.EN)
    return Refusal(
        plot.plot_id, "verdict_not_accepted", plot.verdict,
        f"resultado «{es}»: solo se declaran parcelas libres de deforestación (o con una "
        "excepción registrada con su motivo)",
        f"verdict '{en}': only deforestation-free plots are declared (or ones with a recorded "
        "override and its reason)",
    )  # fmt: skip


def _producer_entries(
    name: str | None, country: str, plots: Sequence[DeclaredPlot], limits: Limits,
    refused: list[Refusal],
) -> list[ProducerEntry]:  # fmt: skip
    """One entry per producer, or several when its plots together pass the size limit."""
    out: list[ProducerEntry] = []
    batch: list[tuple[str, str, float]] = []
    empty = len(collection_text([]).encode())
    size = empty

    def flush() -> None:
        nonlocal batch, size
        if batch:
            text = collection_text([f for _, f, _ in batch]).encode()
            ids = tuple(p for p, _, _ in batch)
            out.append(ProducerEntry(name, country, ids, text, sum(w for *_, w in batch)))
        batch, size = [], empty

    for plot in plots:
        assert plot.geometry is not None
        shape = shapely.orient_polygons(plot.geometry)
        text = feature_text(shape, eu_properties(plot), plot.plot_id)
        extra = len(text.encode()) + 2
        if 4 * -(-(empty + extra) // 3) > limits.geo_bytes:
            refused.append(Refusal(plot.plot_id, "too_large", plot.verdict,
                                   "la geometría sola pasa el límite de 25 MB de la UE",
                                   "its geometry alone exceeds the EU's 25 MB limit"))  # fmt: skip
            continue
        if batch and 4 * -(-(size + extra) // 3) > limits.geo_bytes:
            flush()
        batch.append((plot.plot_id, text, plot.weight_ha))
        size += extra
    flush()
    return out


@dataclass
class _Open:
    producers: dict[str, list[ProducerEntry]] = field(default_factory=dict)
    count: int = 0
    geo: int = 0

    def fits(self, hs: str, entry: ProducerEntry, limits: Limits) -> bool:
        heading = self.producers.get(hs)
        if heading is None and len(self.producers) >= limits.commodities_per_dds:
            return False
        if heading is not None and len(heading) >= limits.producers_per_commodity:
            return False
        if self.count >= limits.producers_per_dds:
            return False
        return self.geo + entry.encoded_size <= limits.geo_bytes

    def add(self, hs: str, entry: ProducerEntry) -> None:
        self.producers.setdefault(hs, []).append(entry)
        self.count += 1
        self.geo += entry.encoded_size


def _pack(entries: Sequence[tuple[str, ProducerEntry]], limits: Limits) -> list[_Open]:
    """First fit: each producer goes into the first statement with room for it."""
    bins: list[_Open] = []
    for hs, entry in entries:
        target = next((b for b in bins if b.fits(hs, entry, limits)), None)
        if target is None:
            target = _Open()
            bins.append(target)
        target.add(hs, entry)
    return bins


def _statements(bins: Sequence[_Open], options: StatementOptions) -> list[Statement]:
    total = Decimal(str(options.net_mass_kg)).quantize(_GRAM, ROUND_HALF_EVEN)
    weights = [
        (i, hs, sum(p.weight_ha for p in prods))
        for i, b in enumerate(bins)
        for hs, prods in b.producers.items()
    ]
    shares = _shares(total, [w for *_, w in weights])
    mass = {(i, hs): share for (i, hs, _), share in zip(weights, shares, strict=True)}
    of = len(bins)
    out: list[Statement] = []
    for i, b in enumerate(bins):
        commodities = tuple(
            CommodityEntry(hs, _description(options, hs), mass[(i, hs)], tuple(prods))
            for hs, prods in b.producers.items()
        )
        out.append(Statement(i + 1, of, options, _internal_ref(options.internal_ref, i + 1, of),
                             _comment(options, i + 1, of), commodities))  # fmt: skip
    return out


def _shares(total: Decimal, weights: Sequence[float]) -> list[Decimal]:
    """`total` split in proportion to `weights`, to the gram, adding up exactly."""
    if not weights:
        return []
    whole = sum(weights)
    out = [(total * Decimal(w / whole)).quantize(_GRAM, ROUND_HALF_EVEN) for w in weights[:-1]]
    out.append(total - sum(out, Decimal(0)))
    return out


def _description(options: StatementOptions, hs: str) -> str:
    if options.description:
        return options.description
    commodity = annex_commodity(hs) or ""
    return f"{DESCRIPTIONS.get(commodity, commodity.replace('_', ' ').capitalize())} (HS {hs})"


def _internal_ref(base: str | None, part: int, of: int) -> str | None:
    if base is None or of == 1:
        return base
    suffix = f"-{part}of{of}"
    return base[: MAX_INTERNAL_REF - len(suffix)] + suffix


def _comment(options: StatementOptions, part: int, of: int) -> str | None:
    parts = [options.comment] if options.comment else []
    if of > 1:
        ref = f" {options.internal_ref}" if options.internal_ref else ""
        parts.append(f"Part {part} of {of} of shipment{ref}; net mass shared out by plot area.")
    text = " ".join(parts)
    return text[:MAX_COMMENT] or None
