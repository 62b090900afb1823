"""The record of a check run: what ran, on what, when, and what came of it.

One builder for every path (`RunRecord.begin`, then `finish`), one run-id convention
(`new_run_id`: a uuid4 in hex, which the registry stores as the run's `uid` and every report
and manifest carries). A report rebuilt from stored results (a lot's bundle, an evidence map)
names the runs that produced them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eudr_check import __version__
from eudr_check.datasets.catalog import Catalog, Dataset, TileScheme
from eudr_check.datasets.sources import zip_archive
from eudr_check.datasets.tiles import TILE_PATTERNS
from eudr_check.fileio import sha256_file_cached
from eudr_check.models import PlotResult
from eudr_check.rules import RuleThresholds, ValidationReport

Files = set[tuple[str, str, str]]  # (dataset, layer, GDAL path) of the raster files read


def new_run_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A raster file a run read, with its checksum (tiles are identified by content)."""

    dataset_id: str
    layer: str
    tile: str
    name: str
    sha256: str | None  # None for remote files that were not downloaded whole


def file_records(files: Iterable[tuple[str, str, str]]) -> tuple[FileRecord, ...]:
    """The files a run read, sorted, each with its SHA-256 (hashed once per process). A file
    read inside a local zip is named archive/member and identified by the archive's hash."""
    records = []
    for dataset_id, layer, path in sorted(set(files)):
        local, name = path, Path(path).name
        archive = zip_archive(path)
        if archive is not None:  # archive.zip/member.tif, identified by the archive
            local, name = archive, f"{Path(archive).name}/{path.partition('.zip/')[2]}"
        remote = local.startswith("/vsi")
        sha = None if remote else sha256_file_cached(local)
        records.append(FileRecord(dataset_id, layer, _tile_in(name), name, sha))
    return tuple(records)


# A tile name as the products write it (Hansen 10S_080W, WorldCover S06W078, JRC S10_W80).
_SCHEMES = (TileScheme.HANSEN, TileScheme.WORLDCOVER, TileScheme.JRC)
_TILE = re.compile("|".join(f"(?:{TILE_PATTERNS[s]})" for s in _SCHEMES))


def _tile_in(name: str) -> str:
    """The tile a file name names (the last one, after any version), "" if none."""
    found = _TILE.findall(Path(name).name)
    return found[-1] if found else ""


@dataclass(frozen=True, slots=True)
class StatementRef:
    """A filed DDS as the lot's reports name it: the numbers customs and buyers ask for."""

    part: int
    parts: int
    uuid: str | None
    status: str
    reference_number: str | None
    verification_number: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "parts": self.parts, "uuid": self.uuid, "status": self.status,
                "reference_number": self.reference_number,
                "verification_number": self.verification_number}  # fmt: skip


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
    # The lot's due diligence statements in the EU system, as last recorded.
    statements: tuple[StatementRef, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        extra = {"due_diligence_statements": [s.to_dict() for s in self.statements]}
        return {
            "id": self.lot_id,
            "reference": self.reference,
            "commodity": self.commodity,
            "hs_code": self.hs_code,
            "net_mass_kg": self.net_mass_kg,
            "exporter": self.exporter,
            "cooperatives": list(self.cooperatives),
            "created_at": self.created_at.isoformat(timespec="seconds"),
            **(extra if self.statements else {}),
        }


def dataset_entry(d: Dataset) -> dict[str, Any]:
    """What every report says of a dataset it used (the manifest adds the files read)."""
    return {
        "id": d.id,
        "title": d.title,
        "version": d.version,
        # Found in the data folder instead of the catalog's version.
        **({"catalog_version": d.catalog_version} if d.catalog_version else {}),
        "licence": d.licence,
        "attribution": d.attribution,
    }


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A check run: set when it begins, completed (`finish`) when its last plot is through."""

    run_id: str
    kind: str  # check, nightly, bundle, evidence
    input_name: str
    catalog: Catalog
    data_dir: Path
    rules: RuleThresholds
    started: dt.datetime
    tool_version: str = __version__
    lot: LotRecord | None = None
    input_sha256: str = ""
    finished: dt.datetime | None = None
    files: tuple[FileRecord, ...] = ()
    plots: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    streamed: bool = False  # the input was read in slices (rules compared plots within slices)
    planned: int | None = None  # plots to analyse, when known as the run begins

    @classmethod
    def begin(
        cls, kind: str, input_name: str, catalog: Catalog, data_dir: Path, *,
        rules: RuleThresholds | None = None, run_id: str | None = None,
        started: dt.datetime | None = None, lot: LotRecord | None = None,
    ) -> RunRecord:  # fmt: skip
        return cls(
            run_id=run_id or new_run_id(),
            kind=kind,
            input_name=input_name,
            catalog=catalog,
            data_dir=data_dir,
            rules=rules or RuleThresholds(),
            started=started or dt.datetime.now(dt.UTC),
            lot=lot,
        )

    def finish(
        self, *, plots: int, verdicts: dict[str, int], files: Iterable[tuple[str, str, str]],
        input_sha256: str = "", finished: dt.datetime | None = None, streamed: bool = False,
    ) -> RunRecord:  # fmt: skip
        return dataclasses.replace(
            self,
            plots=plots,
            verdicts=dict(sorted(verdicts.items())),
            files=file_records(files),
            input_sha256=input_sha256,
            finished=finished or dt.datetime.now(dt.UTC),
            streamed=streamed,
        )

    def manifest(self) -> dict[str, Any]:
        """Everything needed to reproduce or audit the run (written as manifest.json)."""
        used = {f.dataset_id for f in self.files}
        lot = {} if self.lot is None else {"lot": self.lot.to_dict()}
        finished = self.finished or self.started
        return {
            **lot,
            "tool": "eudr-check",
            "tool_version": self.tool_version,
            "run_id": self.run_id,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "input": {
                "name": self.input_name,
                "sha256": self.input_sha256,
                # Read in slices: rules comparing plots (duplicates, overlaps) saw one slice.
                **({"read_in_slices": True} if self.streamed else {}),
            },
            "cutoff_date": self.catalog.cutoff_date.isoformat(),
            "thresholds": {
                "verdict": self.catalog.verdict.model_dump(),
                "indicators": self.catalog.indicators.model_dump(),
                "rules": self.rules.to_dict(),
                "datasets": {d.id: d.encoding for d in self.catalog.enabled},
            },
            "datasets": [
                {
                    **dataset_entry(d),
                    "read": d.id in used,
                    "files": [
                        {"layer": f.layer, "tile": f.tile, "name": f.name, "sha256": f.sha256}
                        for f in self.files
                        if f.dataset_id == d.id
                    ],
                }
                for d in self.catalog.enabled
            ],
            # In the catalog but not read in this run (disabled, or --datasets-only).
            "datasets_not_read": [d.id for d in self.catalog.datasets if not d.enabled],
            # Protected areas and territories: legality findings, never the verdict.
            **(
                {
                    "vector_layers": [
                        {
                            "id": v.id,
                            "title": v.title,
                            "version": v.version,
                            "kind": v.kind.value,
                            "licence": v.licence,
                            "attribution": v.attribution,
                            "read": v.id in used,
                            "files": [
                                {"name": f.name, "sha256": f.sha256}
                                for f in self.files
                                if f.dataset_id == v.id
                            ],
                        }
                        for v in self.catalog.enabled_vectors
                    ]
                }
                if self.catalog.enabled_vectors
                else {}
            ),
            "plots": self.plots,
            "verdicts": self.verdicts,
        }


@dataclass(frozen=True, slots=True)
class CheckRun:
    """A finished run held in memory: its record, its validated plots and one result per row
    (what `engine.CollectSink` gathers; the report writers take one the same way)."""

    record: RunRecord
    validation: ValidationReport
    results: list[PlotResult]

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def catalog(self) -> Catalog:
        return self.record.catalog

    @property
    def data_dir(self) -> Path:
        return self.record.data_dir

    @property
    def input_name(self) -> str:
        return self.record.input_name

    def manifest(self) -> dict[str, Any]:
        return self.record.manifest()
