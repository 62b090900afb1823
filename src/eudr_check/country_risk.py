"""The EU's country benchmarking (Implementing Regulation (EU) 2025/1093): low, standard or
high risk per producer country, shipped as data with its source (data/country_risk.yaml).

A country the shipped lists do not name is standard risk, the stricter of the two regimes a
missing entry could hide, and says so (`listed` is False): nothing is called low risk unless
the file lists it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml

from eudr_check.i18n import Lang, Text


class RiskLevel(StrEnum):
    LOW = "low"
    STANDARD = "standard"
    HIGH = "high"


REGIME_TEXT: dict[RiskLevel, Text] = {
    RiskLevel.LOW: Text(
        "riesgo bajo: diligencia simplificada (Art. 13): información, sin evaluación ni "
        "mitigación salvo indicios de riesgo",
        "low risk: simplified due diligence (Art. 13): information, no assessment or "
        "mitigation unless there are signs of risk",
    ),
    RiskLevel.STANDARD: Text(
        "riesgo estándar: diligencia completa (Art. 9-11): información, evaluación y mitigación",
        "standard risk: full due diligence (Art. 9-11): information, assessment and mitigation",
    ),
    RiskLevel.HIGH: Text(
        "riesgo alto: diligencia completa y controles reforzados (9 % de los operadores)",
        "high risk: full due diligence and enhanced checks (9 % of operators)",
    ),
}


@dataclass(frozen=True, slots=True)
class CountryRisk:
    country: str
    level: RiskLevel
    listed: bool  # False: not in the shipped lists, standard by default

    def to_dict(self, lang: Lang | str = Lang.ES) -> dict[str, Any]:
        return {
            "country": self.country,
            "risk": self.level.value,
            "listed": self.listed,
            "regime": REGIME_TEXT[self.level](lang),
        }


@dataclass(frozen=True, slots=True)
class Benchmark:
    source: str
    source_url: str
    in_force: str
    levels: dict[str, RiskLevel]

    def of(self, country: str | None) -> CountryRisk | None:
        if not country:
            return None
        code = country.strip().upper()
        level = self.levels.get(code)
        return CountryRisk(code, level or RiskLevel.STANDARD, level is not None)

    def source_dict(self) -> dict[str, str]:
        return {"source": self.source, "source_url": self.source_url, "in_force": self.in_force}


@cache
def benchmark() -> Benchmark:
    text = resources.files("eudr_check").joinpath("data/country_risk.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    levels: dict[str, RiskLevel] = {}
    for level in RiskLevel:
        for code in raw.get(level.value) or []:
            if code in levels:
                raise ValueError(f"country_risk.yaml: {code} listed twice")
            levels[str(code)] = level
    return Benchmark(str(raw["source"]), str(raw["source_url"]), str(raw["in_force"]), levels)


def country_risk(country: str | None) -> CountryRisk | None:
    """The benchmark of one ISO 3166 alpha-2 country (None for none given)."""
    return benchmark().of(country)


_ORDER = (RiskLevel.LOW, RiskLevel.STANDARD, RiskLevel.HIGH)


def lot_regime(levels: dict[str, str]) -> RiskLevel:
    """The regime a lot's due diligence follows: its strictest producer country's (standard
    when no country is known: nothing is simplified on a guess)."""
    found = [RiskLevel(v) for v in levels.values()]
    if not found:
        return RiskLevel.STANDARD
    return max(found, key=_ORDER.index)
