"""The figures behind the rules. EU-fixed ones are constants; policy choices can be overridden
from config/rules.yaml (each is recorded with the findings)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from eudr_check.errors import ConfigError

EU_DECIMALS = 6  # the EU Information System's coordinate precision
EU_POINT_MAX_HA = 4.0  # plots over 4 ha must be polygons; a bare point stands for 4 ha


@dataclass(frozen=True, slots=True)
class RuleThresholds:
    area_mismatch_fraction: float = 0.20
    min_area_ha: float = 0.01
    max_area_ha: float = 500.0
    overlap_fraction: float = 0.05
    border_tolerance_km: float = 5.0
    spike_angle_deg: float = 1.0
    # Parts of one plot further apart than this make a "multipart" warning.
    multipart_gap_m: float = 100.0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> RuleThresholds:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown rule thresholds: {', '.join(sorted(unknown))}")
        try:
            values = {k: float(v) for k, v in data.items()}
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"rule thresholds must be numbers: {exc}") from None
        if any(v < 0 for v in values.values()):
            raise ConfigError("rule thresholds must not be negative")
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: Path) -> RuleThresholds:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        section = data.get("rules", data) if isinstance(data, dict) else None
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: expected a mapping of rule thresholds")
        return cls.from_mapping(section)
