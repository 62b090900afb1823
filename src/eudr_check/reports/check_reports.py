"""All reports of a check run in one folder, with a manifest of their checksums.

`ReportSink` writes them as the run goes: a map per flagged plot and the body of every report
into a staging folder, batch by batch, so memory does not grow with the input; when the run
ends each file is put together and moved into place, the manifest last. A folder with a
manifest is complete, and its checksums tie every file to the run. A failed run leaves the
folder as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from eudr_check.datasets.reader import open_files
from eudr_check.datasets.sources import DataSources
from eudr_check.engine.record import CheckRun, RunRecord
from eudr_check.engine.sinks import Delivered, Sink
from eudr_check.fileio import sha256_file, write_text
from eudr_check.i18n import Lang
from eudr_check.reports.due_diligence import DueDiligenceWriter
from eudr_check.reports.html import HtmlSummaryWriter
from eudr_check.reports.maps import map_file_name
from eudr_check.reports.options import CsvDialect, MapMode
from eudr_check.reports.plot_maps import UnitMaps, drawn_shape, report_map, wants_map
from eudr_check.reports.records import PlotRecord, plot_records
from eudr_check.reports.results_csv import ResultsCsvWriter
from eudr_check.reports.staging import Staging

log = logging.getLogger(__name__)

MAPS_DIR = "maps"


def _previous_maps(manifest: Path, out_dir: Path, stem: str) -> set[Path]:
    """Maps the last run of this input wrote (from its manifest), to remove stale ones."""
    try:
        outputs = json.loads(manifest.read_text(encoding="utf-8")).get("outputs", {})
    except (OSError, ValueError, AttributeError):
        return set()
    maps_dir = (out_dir / MAPS_DIR / stem).resolve()
    found = set()
    for rel in outputs if isinstance(outputs, dict) else ():
        path = (out_dir / str(rel)).resolve()
        # Only our own PNGs directly in maps/<stem>/: a tampered manifest must not delete more.
        if path.parent == maps_dir and path.suffix == ".png":
            found.add(path)
    return found


class ReportSink(Sink):
    """`<stem>.due_diligence.geojson`, `.results.csv`, `.summary.html`, `maps/<stem>/*.png`
    and `<stem>.manifest.json` in `out_dir`; `written` lists them once closed, the manifest
    last. `progress` is called with the number of plots of each batch written."""

    def __init__(
        self, out_dir: Path, *, lang: Lang | str = Lang.ES,
        progress: Callable[[int], None] | None = None, maps: MapMode = MapMode.FLAGGED,
        csv_dialect: CsvDialect = CsvDialect.EXCEL,
    ) -> None:  # fmt: skip
        self.csv_dialect = CsvDialect(csv_dialect)
        self.out_dir = Path(out_dir)
        self.lang = Lang.of(lang)
        self.progress = progress
        self.map_mode = MapMode(maps)
        self.unit_extra = UnitMaps(self.map_mode) if self.map_mode is not MapMode.NONE else None
        # Seconds spent drawing maps, adding rows to the reports, putting them together.
        self.seconds = {"maps": 0.0, "reports": 0.0, "assemble": 0.0}
        self._files = contextlib.ExitStack()
        self._reports: list[Path] = []  # once closed: the reports, then the manifest
        self._staging: Staging | None = None

    def open(self, record: RunRecord) -> None:
        self.stem = Path(record.input_name).stem or "plots"
        self.sources = DataSources(record.catalog, record.data_dir)
        self.point_ha = record.catalog.verdict.point_area_ha
        self.indicator_policy = record.catalog.indicators
        self.optional = frozenset(d.id for d in record.catalog.enabled if d.optional)
        self.maps_dir = self.out_dir / MAPS_DIR / Path(record.input_name).stem
        self.manifest_path = self.out_dir / f"{self.stem}.manifest.json"
        self.stale = _previous_maps(self.manifest_path, self.out_dir, Path(record.input_name).stem)
        self._staging = staging = Staging(self.out_dir, self.stem)
        out = self.out_dir
        self.geojson = DueDiligenceWriter(out / f"{self.stem}.due_diligence.geojson", staging)
        self.csv = ResultsCsvWriter(out / f"{self.stem}.results.csv", record.catalog, staging,
                                    self.csv_dialect)  # fmt: skip
        self.html = HtmlSummaryWriter(out / f"{self.stem}.summary.html", self.lang, staging)
        # The maps read the same tiles over and over: keep them open for the run.
        self._files.enter_context(open_files())
        # Per map file name, the SHA-256 of its bytes, taken as it is written: a national run
        # writes hundreds of thousands, neither kept as paths nor read again for the manifest.
        self._maps: dict[str, str] = {}
        self._names: set[str] = set()  # lower-cased, to keep names distinct on any disk

    def write(self, batch: Delivered) -> None:
        t0 = time.perf_counter()
        records = plot_records(batch.report, batch.results, batch.first_row,
                               self.indicator_policy, self.optional)  # fmt: skip
        drawn = batch.extras.get(UnitMaps.key, {}) if self.unit_extra is not None else {}
        maps = self._draw_maps(records, drawn, batch.first_row)
        t1 = time.perf_counter()
        self.geojson.add(records)
        self.csv.add(records)
        self.html.add(records, maps)
        self.seconds["maps"] += t1 - t0
        self.seconds["reports"] += time.perf_counter() - t1
        if self.progress is not None:
            self.progress(len(records))

    @property
    def map_count(self) -> int:
        return len(self._maps)

    @property
    def map_files(self) -> list[Path]:
        return [self.maps_dir / name for name in self._maps]

    @property
    def written(self) -> list[Path]:
        """Once closed: every file written, the manifest last."""
        if not self._reports:
            return []
        return [*self._reports[:-1], *self.map_files, self._reports[-1]]

    def _draw_maps(
        self, records: list[PlotRecord], drawn: Mapping[int, bytes | None], first_row: int
    ) -> dict[str, Path]:
        """Stage each record's map: drawn where its unit ran, or here (plots not analysed).
        Returns the batch's maps by plot id (the first plot's, for twins)."""
        assert self._staging is not None
        maps: dict[str, Path] = {}
        for rec in records:
            if not wants_map(rec.result.verdict, self.map_mode):
                continue
            row = rec.index - first_row
            if row in drawn:
                png = drawn[row]
            else:
                shape = drawn_shape(rec, self.point_ha)
                png = None if shape is None else report_map(self.sources, rec, shape,
                                                            self.map_mode)  # fmt: skip
            if png is None:
                continue
            name = map_file_name(rec.plot_id)
            # Duplicated ids, or ids differing only in case (one file on Windows and macOS).
            if name.lower() in self._names:
                name = f"{name[:-4]}-{rec.index}.png"
            final = self.maps_dir / name
            self._staging.stage(final).write_bytes(png)
            self._names.add(name.lower())
            self._maps[name] = hashlib.sha256(png).hexdigest()
            maps.setdefault(rec.plot_id, final)
        return maps

    def close(self, record: RunRecord) -> None:
        assert self._staging is not None
        started = time.perf_counter()
        reports = [self.geojson.finish(record), self.csv.finish(), *self.html.finish(record)]
        self._files.close()
        self._staging.commit()
        for old in self.stale:
            if old.name not in self._maps:
                old.unlink(missing_ok=True)
        manifest = record.manifest()
        manifest["report_lang"] = self.lang.value
        outputs = {p.relative_to(self.out_dir).as_posix(): sha256_file(p) for p in reports}
        maps = self.maps_dir.relative_to(self.out_dir).as_posix()
        outputs.update((f"{maps}/{name}", digest) for name, digest in self._maps.items())
        manifest["outputs"] = outputs
        text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
        write_text(self.manifest_path, text)
        self._reports = [*reports, self.manifest_path]
        self.seconds["assemble"] = time.perf_counter() - started
        log.info("reports for %s written to %s", record.input_name, self.out_dir)

    def abort(self, error: BaseException) -> None:
        self._files.close()
        if self._staging is not None:
            for writer in (self.geojson, self.csv, self.html):
                writer.discard()
            self._staging.discard()


def write_check_reports(
    run: CheckRun, out_dir: Path, *, lang: Lang | str = Lang.ES,
    progress: Callable[[int], None] | None = None, maps: MapMode = MapMode.FLAGGED,
    csv_dialect: CsvDialect = CsvDialect.EXCEL,
) -> list[Path]:  # fmt: skip
    """Every report of a finished in-memory run (see ReportSink); the paths, manifest last."""
    sink = ReportSink(out_dir, lang=lang, progress=progress, maps=maps, csv_dialect=csv_dialect)
    sink.open(run.record)
    try:
        sink.write(Delivered(0, 0, run.validation, run.results))
        sink.close(run.record)
    except BaseException as exc:
        sink.abort(exc)
        raise
    return sink.written
