"""The intake gate for files of any size: the same readers, in slices when a file is large.

`open_plots` decides. A file under the thresholds of the settings (`stream_above_mb`,
`stream_above_plots`) is read at once, exactly as `read_plots` reads it, and comes back as one
slice: rules that compare plots with each other (duplicate ids, duplicate land, overlaps) see
the whole file. A larger GeoJSON FeatureCollection, GeoPackage layer or FlatGeobuf is cut into
slices of `batch_plots` features that are normalised where they are checked (a Dask worker),
so memory stays bounded by the slice size, not by the file; those rules then compare plots
within a slice. Other formats are read at once whatever their size (within `max_input_mb`).

Every slice is picklable and pure: `read()` gives the same table wherever it runs. Feature
numbers always count from the start of the file.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn, Protocol

from eudr_check.errors import PlotFileError
from eudr_check.fileio import BLOCK, sha256_file
from eudr_check.gcpause import paused_gc
from eudr_check.intake import PlotTable, ReadOptions, load_bytes, read_plots
from eudr_check.intake.geojson import declared_crs, raw_feature
from eudr_check.intake.normalise import normalise
from eudr_check.intake.raw import WGS84, RawFeature, RawLayer
from eudr_check.settings import Settings, get_settings

__all__ = ["PlotSlice", "PlotStream", "open_plots"]

_WHITESPACE = " \t\r\n"
_HEAD_BYTES = 1 << 16
# Longest single JSON value (one feature) the streamed reader accepts, in characters.
_MAX_VALUE = 64 << 20


class PlotSlice(Protocol):
    """Part of a plot file that can be read on its own, wherever it is checked."""

    def read(self) -> PlotTable: ...


@dataclass(frozen=True, slots=True)
class TableSlice:
    """A whole file, already read (small files: read once where the run starts)."""

    table: PlotTable

    def read(self) -> PlotTable:
        return self.table


@dataclass(frozen=True, slots=True)
class FeatureSlice:
    """Raw features of a GeoJSON file, parsed where the run starts, normalised where checked."""

    name: str
    crs: str
    features: list[RawFeature]
    options: ReadOptions

    def read(self) -> PlotTable:
        layer = RawLayer(Path(self.name), None, self.options.crs or self.crs, self.features, True)
        with paused_gc():
            plots, findings = normalise([layer], default_country=self.options.country)
        return PlotTable(plots, findings, self.name)


@dataclass(frozen=True, slots=True)
class OgrSlice:
    """Features skip+1 .. skip+count of a GeoPackage layer or FlatGeobuf, read by GDAL where it
    is checked (the file must be readable under the same path there)."""

    path: Path
    layer: str | None
    skip: int
    count: int
    options: ReadOptions

    def read(self) -> PlotTable:
        from eudr_check.intake.ogr import read_slice

        raw = read_slice(self.path, self.layer, self.skip, self.count)
        if self.options.crs is not None:
            raw = RawLayer(raw.path, raw.layer, self.options.crs, raw.features, True)
        with paused_gc():
            plots, findings = normalise([raw], default_country=self.options.country)
        return PlotTable(plots, findings, self.path.name)


@dataclass(slots=True)
class PlotStream:
    """A plot file as slices, in file order; `sha256` is known once the slices are exhausted."""

    name: str
    streamed: bool  # False: one slice, the whole file read at once
    slices: Iterator[PlotSlice]
    plots_hint: int | None = None  # the number of plots, when known without reading them all
    _digest: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        if not self._digest:
            raise RuntimeError("the file's checksum is known only once it has been read")
        return self._digest[0]


def open_plots(
    path: Path, *, options: ReadOptions | None = None, settings: Settings | None = None,
    batch_plots: int | None = None,
) -> PlotStream:  # fmt: skip
    """The plot file at `path`, at once or in slices (see the module docstring)."""
    settings = settings or get_settings()
    options = options or ReadOptions()
    batch = batch_plots or settings.batch_plots
    path = Path(path)
    if not path.is_file():
        raise PlotFileError(path, "el archivo no existe.", "the file does not exist.")
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    big = size / 1e6 > settings.stream_above_mb
    if head[:16] == b"SQLite format 3\x00" or head[:4] == b"fgb\x03":
        from eudr_check.intake.ogr import sliceable_layer

        layer, count = sliceable_layer(path, options.layer)
        if count >= 0 and (big or count > settings.stream_above_plots):
            return _ogr_stream(path, layer, count, options, batch)
    elif big and _is_feature_collection(head):
        return _geojson_stream(path, options, batch)
    return _whole(path, options, settings)


def _whole(path: Path, options: ReadOptions, settings: Settings) -> PlotStream:
    table = read_plots(load_bytes(path, settings), name=path.name, options=options,
                       settings=settings)  # fmt: skip
    stream = PlotStream(path.name, False, iter([TableSlice(table)]), len(table.plots))
    stream._digest.append(table.sha256)
    return stream


def _ogr_stream(
    path: Path, layer: str | None, count: int, options: ReadOptions, batch: int
) -> PlotStream:
    stream = PlotStream(path.name, True, iter(()), count)

    def slices() -> Iterator[PlotSlice]:
        for skip in range(0, count, batch):
            yield OgrSlice(path.resolve(), layer, skip, min(batch, count - skip), options)
        # The workers read the slices; the file is hashed here once, in blocks.
        stream._digest.append(sha256_file(path))

    stream.slices = slices()
    return stream


def _is_feature_collection(head: bytes) -> bool:
    text = head.decode("utf-8", "replace").lstrip("\ufeff" + _WHITESPACE)
    return text.startswith("{") and '"FeatureCollection"' in text


def _geojson_stream(path: Path, options: ReadOptions, batch: int) -> PlotStream:
    stream = PlotStream(path.name, True, iter(()))

    def slices() -> Iterator[PlotSlice]:
        with path.open("rb") as fh:
            reader = _FeatureReader(path, fh)
            pending: list[RawFeature] = []
            for feature in reader.features():
                pending.append(feature)
                if len(pending) >= batch:
                    yield FeatureSlice(path.name, reader.crs, pending, options)
                    pending = []
            if pending or reader.count == 0:
                if reader.count == 0:
                    raise PlotFileError(
                        path, "el archivo no contiene parcelas.", "the file contains no plots."
                    )
                yield FeatureSlice(path.name, reader.crs, pending, options)
            stream._digest.append(reader.sha256())

    stream.slices = slices()
    return stream


class _FeatureReader:
    """The features of a GeoJSON FeatureCollection, one at a time, from a binary file.

    Reads blocks, decodes them incrementally (UTF-8, with or without a BOM) and parses one
    member or feature at a time with the standard JSON decoder, so memory holds one block and
    the features not yet handed on, never the file. The bytes are hashed as they are read.
    """

    def __init__(self, path: Path, fh: IO[bytes]) -> None:
        import hashlib

        self.path = path
        self._fh = fh
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._json = json.JSONDecoder()
        self._hash = hashlib.sha256()
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # line of self._buf[0], for error messages
        self.crs = WGS84
        self.count = 0

    def sha256(self) -> str:
        return self._hash.hexdigest()

    # --- buffer -------------------------------------------------------------------------

    def _more(self) -> bool:
        """Append the next block to the buffer (dropping what was consumed); False at EOF."""
        if self._eof:
            return False
        block = self._fh.read(BLOCK * 8)
        self._hash.update(block)
        try:
            text = self._decoder.decode(block, final=not block)
        except UnicodeDecodeError:
            raise PlotFileError(
                self.path, "el archivo no está en UTF-8, como exige GeoJSON.",
                "the file is not UTF-8, as GeoJSON requires.",
            ) from None  # fmt: skip
        done = self._buf[: self._pos]
        self._line += done.count("\n")
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        if not block:
            self._eof = True
        return True

    def _skip_space(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            buf, pos = self._buf, self._pos
            while pos < len(buf) and buf[pos] in _WHITESPACE:
                pos += 1
            self._pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self._more():
                return ""

    def _expect(self, chars: str) -> str:
        ch = self._skip_space()
        if ch == "" or ch not in chars:
            self._fail(f"expected {' or '.join(repr(c) for c in chars)}")
        self._pos += 1
        return ch

    def _value(self) -> Any:
        """The next JSON value, reading more of the file while it is cut by the block edge.

        A value that still does not parse once the buffer holds `_MAX_VALUE` characters past
        its start (or the file has ended) is malformed: a damaged file costs at most that much
        memory before it is refused.
        """
        self._skip_space()
        while True:
            try:
                value, end = self._json.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if len(self._buf) - self._pos < _MAX_VALUE and self._more():
                    continue
                self._fail(exc.msg, exc.pos)
            except RecursionError:
                self._fail_nested()
            self._pos = end
            return value

    def _fail_nested(self) -> NoReturn:
        line = self._line + self._buf.count("\n", 0, self._pos)
        raise PlotFileError(
            self.path,
            f"el elemento de la línea {line} anida geometrías u objetos a demasiada profundidad "
            "para leerlo.",
            f"the feature on line {line} nests geometries or objects too deeply to be read.",
        )

    def _fail(self, msg: str, pos: int | None = None) -> NoReturn:
        where = self._pos if pos is None else pos
        line = self._line + self._buf.count("\n", 0, where)
        column = where - (self._buf.rfind("\n", 0, where) + 1) + 1
        raise PlotFileError(
            self.path,
            f"JSON mal formado (línea {line}, columna {column}): {msg}.",
            f"malformed JSON (line {line}, column {column}): {msg}.",
        )

    # --- structure ----------------------------------------------------------------------

    def features(self) -> Iterator[RawFeature]:
        self._more()
        self._expect("{")
        seen_features = False
        if self._skip_space() == "}":
            self._pos += 1
            return
        while True:
            key = self._value()
            if not isinstance(key, str):
                self._fail("expected a member name")
            self._expect(":")
            if key == "features" and self._skip_space() == "[":
                seen_features = True
                self._pos += 1
                yield from self._array()
            else:
                value = self._value()
                if key == "crs":
                    if seen_features and declared_crs({"crs": value}) != WGS84:
                        raise PlotFileError(
                            self.path,
                            'el miembro "crs" viene después de las parcelas; póngalo antes '
                            'de "features" o exporte en WGS84.',
                            'the "crs" member comes after the features; put it before '
                            '"features" or export in WGS84.',
                        )
                    self.crs = declared_crs({"crs": value})
            if self._expect(",}") == "}":
                break
        if not seen_features:
            raise PlotFileError(
                self.path,
                'FeatureCollection sin lista "features".',
                'FeatureCollection without a "features" list.',
            )

    def _array(self) -> Iterator[RawFeature]:
        if self._skip_space() == "]":
            self._pos += 1
            return
        while True:
            item = self._value()
            self.count += 1
            yield raw_feature(item, self.count)
            if self._expect(",]") == "]":
                return
