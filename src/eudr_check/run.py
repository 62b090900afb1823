"""The record of one check run: results per plot plus what is needed to trace them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eudr_check.datasets.catalog import Catalog
from eudr_check.models import PlotResult
from eudr_check.rules import ValidationReport


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A raster file a run read, with its checksum (tiles are identified by content)."""

    dataset_id: str
    layer: str
    tile: str
    name: str
    sha256: str | None  # None for remote files that were not downloaded whole


@dataclass(frozen=True, slots=True)
class LotRecord:
    """The lot a run's plots make up, for reports that go with a due diligence statement."""

    lot_id: int
    reference: str
    commodity: str
    hs_code: str | None
    net_mass_kg: float | None
    exporter: str
    cooperatives: tuple[str, ...]  # the organisations whose plots are in the lot
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.lot_id,
            "reference": self.reference,
            "commodity": self.commodity,
            "hs_code": self.hs_code,
            "net_mass_kg": self.net_mass_kg,
            "exporter": self.exporter,
            "cooperatives": list(self.cooperatives),
            "created_at": self.created_at.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True, slots=True)
class CheckRun:
    run_id: str
    input_name: str
    input_sha256: str
    validation: ValidationReport
    results: list[PlotResult]  # one per row of validation.plots, same order
    catalog: Catalog
    data_dir: Path
    files: list[FileRecord] = field(default_factory=list)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    tool_version: str = "0"
    lot: LotRecord | None = None  # set when the run's plots are a lot (compliance bundle)

    def manifest(self) -> dict[str, Any]:
        """Everything needed to reproduce or audit the run (written as manifest.json)."""
        used = {f.dataset_id for f in self.files}
        lot = {} if self.lot is None else {"lot": self.lot.to_dict()}
        return {
            **lot,
            "tool": "eudr-check",
            "tool_version": self.tool_version,
            "run_id": self.run_id,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": self.finished.isoformat(timespec="seconds"),
            "input": {"name": self.input_name, "sha256": self.input_sha256},
            "cutoff_date": self.catalog.cutoff_date.isoformat(),
            "thresholds": {
                "verdict": self.catalog.verdict.model_dump(),
                "rules": self.validation.thresholds.to_dict(),
                "datasets": {d.id: d.encoding for d in self.catalog.enabled},
            },
            "datasets": [
                {
                    "id": d.id,
                    "title": d.title,
                    "version": d.version,
                    "licence": d.licence,
                    "attribution": d.attribution,
                    "read": d.id in used,
                    "files": [
                        {"layer": f.layer, "tile": f.tile, "name": f.name, "sha256": f.sha256}
                        for f in self.files
                        if f.dataset_id == d.id
                    ],
                }
                for d in self.catalog.enabled
            ],
            "plots": len(self.results),
            "verdicts": _count(r.verdict.value for r in self.results),
        }


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
