"""Fetch dataset tiles into the local data folder, resumably, and keep a checksum record.

A tile is streamed into `<file>.part` and renamed into place only once complete, so a reader
never sees half a tile under its real name. An interrupted download resumes with an HTTP Range
request. Each finished file's SHA-256 goes into `<data_dir>/<dataset>/SHA256SUMS` (the coreutils
format, so `sha256sum -c` works there) and a line into `downloads.json` (where and when from).

Some producers vary a part of each tile's name (JRC TMF: `..._v1_SAM_ID28_N0_W80.tif`); the
catalog writes it `*`. Such a tile is named by the server (Content-Disposition, RFC 6266): the
name must fit the layer's template with the `*` standing for letters, digits and `_` only, or
the download is refused and nothing kept. Its part file carries that name (`<name>.part`), so a
resume knows the name even when the server says it only once.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import http.client
import json
import math
import os
import re
import string
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from eudr_check import __version__
from eudr_check.datasets.catalog import Catalog, Dataset, TileScheme
from eudr_check.datasets.sources import locate
from eudr_check.datasets.tiles import (
    SINGLE_TILE,
    TILE_PATTERNS,
    tile_corner,
    tile_name,
    tiles_for_bounds,
    valid_corner,
)
from eudr_check.errors import ConfigError, DownloadError
from eudr_check.fileio import feed, sha256_file, write_text
from eudr_check.i18n import Lang
from eudr_check.spatial import Bounds

# Called with (bytes in the part file so far, expected total or None when the server won't say).
ProgressFn = Callable[[int, int | None], None]

SUMS_NAME = "SHA256SUMS"
LOG_NAME = "downloads.json"
USER_AGENT = f"eudr-check/{__version__} (Python urllib; forest dataset tiles)"
CHUNK = 1 << 20
# Radius of a 4 ha circle is ~113 m: the EU's largest point plot, rounded up.
POINT_BUFFER_M = 120.0
# Shortest length of a degree of latitude (at the equator): errs towards a bigger box.
_M_PER_DEG = 110_574.0

_MARK = "\x00"  # stands for {tile} while turning templates into globs and regexes
_STAR = "*"  # in a layer's file name: the part of the name the producer varies per tile
_STAR_RE = "[A-Za-z0-9_]+"  # what a `*` may stand for: never a path separator, a dot or `..`
_SOURCE_FIELDS = ("file", "version", "tile", "lat", "lon", "product")
_CORNER = re.compile(r"(\d*[NS]\d*)_?(\d*[EW]\d*)")  # a tile name's two parts: N0 W80, 10S 080W
# RFC 6266 / RFC 9110: `type *( ";" name "=" ( token / quoted-string ) )`.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_DISPOSITION_TYPE = re.compile(rf"\s*{_TOKEN}\s*")
_DISPOSITION_PARAM = re.compile(rf';\s*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|{_TOKEN})\s*')
_EXT_VALUE = re.compile(r"([A-Za-z0-9!#$%&+^_`{}~-]+)'[A-Za-z0-9-]*'(.*)", re.DOTALL)  # RFC 8187
_SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)")


@dataclass(frozen=True, slots=True)
class DownloadResult:
    dataset_id: str
    layer: str
    tile: str
    path: Path
    bytes: int
    sha256: str
    resumed: bool  # part of the file came from an earlier, interrupted download
    skipped: bool  # already present with a matching recorded checksum: nothing fetched


@dataclass(frozen=True, slots=True)
class DownloadFailure:
    layer: str
    tile: str
    error: OSError

    def message(self, lang: Lang | str = Lang.ES) -> str:
        if isinstance(self.error, DownloadError):
            return self.error.message(lang)
        return f"{self.tile}: {self.error.strerror or self.error}"


@dataclass(slots=True)
class DownloadReport:
    results: list[DownloadResult] = field(default_factory=list)
    failures: list[DownloadFailure] = field(default_factory=list)


class Checksum(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"  # present but not in SHA256SUMS
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class TileStatus:
    dataset_id: str
    layer: str
    tile: str
    path: str
    present: bool
    bytes: int | None
    checksum: Checksum | None  # None when the file is absent
    needed: bool  # asked for in inventory(needed=...)
    optional: bool  # the dataset is optional: its absence does not block a verdict

    @property
    def missing(self) -> bool:
        return self.needed and not self.present


@dataclass(frozen=True, slots=True)
class ChecksumProblem:
    file: str
    path: str
    kind: Literal["missing", "mismatch"]
    expected: str
    actual: str | None


# --- which tiles -------------------------------------------------------------------------------


def parse_tile(scheme: TileScheme, name: str) -> str | None:
    """The canonical tile name (`10s_080w` -> `10S_080W`), or None if it names no tile of the
    scheme (10° Hansen/JRC, 3° WorldCover, "all" for a single file)."""
    name = name.strip().upper()
    if scheme is TileScheme.SINGLE:
        return SINGLE_TILE if name == SINGLE_TILE.upper() else None
    if not re.fullmatch(TILE_PATTERNS[scheme], name):
        return None
    top, left = tile_corner(scheme, name)
    if not valid_corner(scheme, top, left):
        return None
    # The round trip rejects spellings the producer never uses, like 00S or W080 for JRC.
    canonical = tile_name(scheme, top, left)
    return canonical if canonical == name else None


def plot_bounds(geometries: Iterable[Any], buffer_m: float = POINT_BUFFER_M) -> list[Bounds]:
    """Bounding boxes of shapely geometries; points (anything without area) grow by `buffer_m`.

    A point stands for a circle of up to 4 ha, so one near a tile edge needs both tiles.
    None and empty geometries are skipped.
    """
    boxes: list[Bounds] = []
    for geom in geometries:
        if geom is None or geom.is_empty:
            continue
        minx, miny, maxx, maxy = (float(v) for v in geom.bounds)
        if geom.area == 0:
            dy = buffer_m / _M_PER_DEG
            widest = max(abs(miny), abs(maxy)) + dy
            dx = dy / max(math.cos(math.radians(min(widest, 89.0))), 0.01)
            minx, miny, maxx, maxy = minx - dx, miny - dy, maxx + dx, maxy + dy
        boxes.append(Bounds(minx, miny, maxx, maxy))
    return boxes


def needed_tiles(dataset: Dataset, bounds_list: Iterable[Bounds]) -> list[str]:
    """Every tile of the dataset's scheme that any of the boxes overlaps, sorted."""
    return sorted({t for b in bounds_list for t in tiles_for_bounds(dataset.tiles, b)})


# --- checksum record ---------------------------------------------------------------------------


def sums_path(dataset: Dataset, data_dir: Path) -> Path:
    return data_dir / dataset.id / SUMS_NAME


def read_checksums(dataset: Dataset, data_dir: Path) -> dict[str, str]:
    """File name -> recorded SHA-256 (lower-case hex); empty when nothing is recorded."""
    try:
        text = sums_path(dataset, data_dir).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    sums: dict[str, str] = {}
    for line in text.splitlines():
        match = _SUM_LINE.match(line)
        if match:
            sums[match.group(2)] = match.group(1).lower()
    return sums


def _record_checksum(dataset: Dataset, data_dir: Path, name: str, sha256: str) -> None:
    sums = read_checksums(dataset, data_dir)
    sums[name] = sha256
    write_text(
        sums_path(dataset, data_dir), "".join(f"{h}  {n}\n" for n, h in sorted(sums.items()))
    )


def _log_download(data_dir: Path, dataset: Dataset, entry: dict[str, Any]) -> None:
    path = data_dir / dataset.id / LOG_NAME
    try:
        log = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log = []
    # A damaged or foreign log must not fail a good download: start a new list.
    log = log if isinstance(log, list) else []
    log.append(entry)
    write_text(path, json.dumps(log, indent=2, ensure_ascii=False) + "\n")


# --- one tile ----------------------------------------------------------------------------------


def source_url(dataset: Dataset, layer: str, tile: str) -> str:
    """The URL a tile is fetched from; ConfigError when the catalog gives none usable.

    The `source` template may use {file} (for a tile read inside a zip: the archive's name),
    {version}, {tile}, {lat} and {lon} (the tile name's
    two parts as the scheme spells them: N0 and W80 for JRC's N0_W80, 10S and 080W for
    Hansen's) and {product}: the layer's name at the producer, from `encoding.download_names`
    (JRC's tile service: `dataset=DeforestationYear`).
    """
    if dataset.source is None:
        raise ConfigError(f"{dataset.id}: the catalog gives no download source")
    file = dataset.file_name(layer, tile)
    if dataset.location.startswith("/vsizip/") and ".zip/" in file:
        file = file.partition(".zip/")[0] + ".zip"  # a tile read inside a zip: the archive
    fields = {"file": file, "version": dataset.version, "tile": tile}
    corner = _CORNER.fullmatch(tile)
    if corner:
        fields["lat"], fields["lon"] = corner.groups()
    product = _download_names(dataset).get(layer)
    if product is not None:
        fields["product"] = product
    try:
        used = {f for _, f, _, _ in string.Formatter().parse(dataset.source) if f is not None}
        url = dataset.source.format(**fields)
    except (KeyError, IndexError) as exc:
        name = exc.args[0]
        if name == "product":
            raise ConfigError(
                f"{dataset.id}: the download source uses {{product}}, but "
                f"encoding.download_names gives no name for layer {layer!r}"
            ) from None
        known = ", ".join(f"{{{f}}}" for f in _SOURCE_FIELDS)
        raise ConfigError(
            f"{dataset.id}: the download source uses {{{name}}}, which is not known; "
            f"only {known} are"
        ) from None
    except ValueError as exc:  # a lone brace
        raise ConfigError(
            f"{dataset.id}: the download source is no valid template ({exc})"
        ) from None
    if _STAR in file and "file" in used:
        raise ConfigError(
            f"{dataset.id}: layer {layer!r} is named by the server ({file}); its download "
            "source cannot use {file}"
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{dataset.id}: downloads need an http(s) source, not {url}")
    return url


def _download_names(dataset: Dataset) -> dict[str, str]:
    """Layer -> the producer's name for it (`encoding.download_names`), checked."""
    names = dataset.encoding.get("download_names", {})
    if not isinstance(names, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in names.items()
    ):
        raise ConfigError(f"{dataset.id}: encoding.download_names must map layers to names")
    unknown = sorted(set(names) - set(dataset.layers))
    if unknown:
        raise ConfigError(
            f"{dataset.id}: encoding.download_names names unknown layer(s) {', '.join(unknown)}"
        )
    return names


def local_target(dataset: Dataset, layer: str, tile: str, data_dir: Path) -> Path:
    where = locate(dataset, layer, tile, data_dir)
    if where.remote:
        raise ConfigError(
            f"{dataset.id}: its location is remote ({dataset.location}); downloads need a "
            "local location such as {data_dir}/" + dataset.id + "/{file}"
        )
    # A tile read inside a zip (/vsizip/) is downloaded as its archive.
    return where.local_file or Path(where.path)


def part_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


def named_by_server(dataset: Dataset, layer: str) -> bool:
    """Whether the layer's file name has a per-tile part (`*`) only the server can fill."""
    return _STAR in dataset.layers[layer].file


def _server_named_pattern(dataset: Dataset, layer: str, tile: str, data_dir: Path) -> Path:
    """The local path of a server-named tile with its `*` (the folder must have none)."""
    name = dataset.file_name(layer, tile)
    where = dataset.location.format(
        data_dir=str(data_dir), file=name, version=dataset.version, tile=tile
    )
    path = Path(where)
    if path.name != name or _STAR in str(path.parent):
        raise ConfigError(
            f"{dataset.id}: layer {layer!r} is named by the server, so its location must end "
            f"with {{file}} and have no `*` elsewhere ({dataset.location})"
        )
    return path


def _name_regex(pattern: str) -> re.Pattern[str]:
    """A file name template with `*` (and no {tile} left) as a regex."""
    return re.compile(_STAR_RE.join(re.escape(p) for p in pattern.split(_STAR)))


def _star_glob(pattern: str) -> str:
    """A glob for a template whose only wildcards are its `*`s."""
    return _STAR.join(glob.escape(p) for p in pattern.split(_STAR))


def _parts_of(pattern: Path) -> list[Path]:
    """Part files of earlier downloads of a server-named tile, oldest first."""
    regex = _name_regex(pattern.name + ".part")
    if not pattern.parent.is_dir():
        return []
    hits = [p for p in pattern.parent.glob(_star_glob(pattern.name) + ".part")
            if p.is_file() and regex.fullmatch(p.name)]  # fmt: skip
    return sorted(hits, key=lambda p: (p.stat().st_mtime_ns, p.name))


def disposition_filename(value: str | None) -> str | None:
    """The file name a Content-Disposition header gives (RFC 6266), unchecked.

    `filename*` (RFC 8187: `UTF-8''JRC_%C3%A9.tif`) wins over `filename`, as the RFC says;
    None when the header names no file. Parsing stops at the first malformed parameter.
    """
    if not value:
        return None
    match = _DISPOSITION_TYPE.match(value)
    if not match:
        return None
    params: dict[str, str] = {}
    pos = match.end()
    while param := _DISPOSITION_PARAM.match(value, pos):
        raw = param[2]
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1], flags=re.DOTALL)
        params.setdefault(param[1].lower(), raw)
        pos = param.end()
    extended = _EXT_VALUE.fullmatch(params.get("filename*", ""))
    if extended and extended[1].lower() in ("utf-8", "iso-8859-1"):
        try:
            return urllib.parse.unquote(extended[2], encoding=extended[1], errors="strict")
        except UnicodeDecodeError:
            pass  # then the plain filename, if any
    return params.get("filename")


def _served_name(headers: Any, pattern: Path, resuming: str | None = None) -> str:
    """The server's name for a server-named tile, checked; ValueError saying why not.

    `resuming`: the name of the part a 206 answer continues, for a server that names the
    file only in full answers.
    """
    name = disposition_filename(headers.get("Content-Disposition")) or resuming
    if not name:
        raise ValueError(
            "the server did not name the file (no filename in Content-Disposition), and the "
            f"layer's name {pattern.name} has a part only the server knows"
        )
    if "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise ValueError(f"the server names the file {name!r}: a path, not a file name; refused")
    if not _name_regex(pattern.name).fullmatch(name):
        raise ValueError(
            f"the server names the file {name!r}, which is not a name of this layer and tile "
            f"({pattern.name}); refused"
        )
    return name


def download_tile(
    dataset: Dataset, layer: str, tile: str, data_dir: Path, *,
    progress: ProgressFn | None = None, timeout: float = 60, force: bool = False,
) -> DownloadResult:  # fmt: skip
    """Fetch one tile into its local location (resuming a `.part`), verify and record it.

    Skips the transfer when the file is there and matches SHA256SUMS, unless `force`; `force`
    also discards a partial download. Raises DownloadError for network and HTTP failures (the
    part is kept for a later resume) and ConfigError when the catalog cannot be downloaded from.
    A layer named with `*` takes the file's name from the server and refuses (DownloadError,
    nothing kept) a name that does not fit; a file its `*` already matches counts as there.
    """
    if layer not in dataset.layers:
        raise ConfigError(f"{dataset.id}: unknown layer {layer!r}")
    url = source_url(dataset, layer, tile)
    # A server-named tile already here is the file its `*` matches (the newest name if several).
    target = local_target(dataset, layer, tile, data_dir)
    pattern = (
        _server_named_pattern(dataset, layer, tile, data_dir)
        if named_by_server(dataset, layer)
        else None
    )
    if force:
        for stale in [part_path(target)] if pattern is None else _parts_of(pattern):
            stale.unlink(missing_ok=True)
    elif target.is_file():
        recorded = read_checksums(dataset, data_dir).get(target.name)
        if recorded is not None and sha256_file(target) == recorded:
            return DownloadResult(
                dataset.id, layer, tile, target, target.stat().st_size, recorded, False, True
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    if pattern is None:
        sha256, resumed = _transfer(url, tile, part_path(target), timeout, progress)
    else:
        target, sha256, resumed = _transfer_named(url, tile, pattern, timeout, progress)
    name = target.name
    part = part_path(target)
    size = part.stat().st_size
    part.replace(target)  # atomic: the real name only ever holds a complete file
    _record_checksum(dataset, data_dir, name, sha256)
    _log_download(data_dir, dataset, {
        "file": name, "layer": layer, "tile": tile, "url": url, "bytes": size,
        "sha256": sha256, "resumed": resumed,
        "downloaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })  # fmt: skip
    return DownloadResult(dataset.id, layer, tile, target, size, sha256, resumed, False)


class Unsatisfiable(Exception):
    """HTTP 416 to a range request: the part may already hold the whole file."""

    def __init__(self, total: int | None) -> None:
        self.total = total


class NotModified(Exception):
    """HTTP 304 to a conditional request: the source has nothing newer."""

    def __init__(self, headers: Any) -> None:
        self.headers = headers


def _transfer(url: str, tile: str, part: Path, timeout: float,
              progress: ProgressFn | None) -> tuple[str, bool]:  # fmt: skip
    """Fill `part` with the whole resource; (sha256, resumed). The part survives failures."""
    offset = part.stat().st_size if part.is_file() else 0
    try:
        response = _open(url, tile, offset, timeout)
    except Unsatisfiable as exc:
        if exc.total == offset:
            return sha256_file(part), True
        # The part is longer than the file, or the server won't say: start over.
        part.unlink()
        offset = 0
        response = _open(url, tile, 0, timeout)
    with response:
        start, total = _span(response, offset, url, tile, part)
        return _stream(response, part, start, total, url, tile, progress), start > 0


def _transfer_named(url: str, tile: str, pattern: Path, timeout: float,
                    progress: ProgressFn | None) -> tuple[Path, str, bool]:  # fmt: skip
    """_transfer for a tile the server names: (its final path, sha256, resumed).

    The part is `<server's name>.part`, created once the name is checked; a bad name removes
    any part of the tile too. A resume whose server now gives another name starts over.
    """
    parts = _parts_of(pattern)
    for old in parts[:-1]:  # only the latest attempt is resumed
        old.unlink(missing_ok=True)
    part = parts[-1] if parts else None
    while True:  # at most twice: a second round starts from nothing
        offset = part.stat().st_size if part is not None else 0
        try:
            response = _open(url, tile, offset, timeout)
        except Unsatisfiable as exc:
            assert part is not None  # only a range request is unsatisfiable
            if exc.total == offset:
                return part.with_name(part.name.removesuffix(".part")), sha256_file(part), True
            part.unlink()  # longer than the file, or the server won't say: start over
            part = None
            continue
        with response:
            # A 206 continues the part, whose name the server gave when the transfer began.
            resuming = part.name[: -len(".part")] if part and response.status == 206 else None
            try:
                name = _served_name(response.headers, pattern, resuming)
            except ValueError as exc:
                if part is not None:
                    part.unlink(missing_ok=True)  # nothing of a refused download is kept
                raise DownloadError(url, tile, str(exc)) from None
            named = part_path(pattern.with_name(name))
            if part is not None and part != named:
                part.unlink(missing_ok=True)  # the server's file changed since the last try
                part = None
                if response.status == 206:  # the rest of another file: ask for all of it
                    continue
                offset = 0
            start, total = _span(response, offset, url, tile, named)
            sha256 = _stream(response, named, start, total, url, tile, progress)
            return pattern.with_name(name), sha256, start > 0


def _open(url: str, tile: str, offset: int, timeout: float) -> Any:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return open_url(url, tile, headers, timeout)


def open_url(url: str, tile: str, headers: dict[str, str], timeout: float) -> Any:
    """The response to a GET with these headers; DownloadError for network and HTTP
    failures, Unsatisfiable for a 416 to a range request, NotModified for a 304."""
    request = urllib.request.Request(url, headers=headers)
    # build_opener: redirects are followed and proxy settings from the environment honoured.
    opener = urllib.request.build_opener()
    try:
        return opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        with exc:  # its socket must be closed, or it leaks until garbage collection
            if exc.code == 304:
                raise NotModified(exc.headers) from None
            if exc.code == 416 and "Range" in headers:
                raise Unsatisfiable(_content_range(exc.headers.get("Content-Range"))[2]) from None
            raise DownloadError(url, tile, f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DownloadError(url, tile, _reason(exc.reason)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(url, tile, _reason(exc, timeout)) from None


def _reason(exc: object, timeout: float | None = None) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out{f' after {timeout:g} s' if timeout else ''}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _content_range(value: str | None) -> tuple[int | None, int | None, int | None]:
    """(first, last, total) of a Content-Range header; None for what it does not say."""
    match = _CONTENT_RANGE.fullmatch((value or "").strip())
    if not match:
        return None, None, None
    first, last, total = match.groups()
    return (
        int(first) if first else None,
        int(last) if last else None,
        int(total) if total and total != "*" else None,
    )


def _span(response: Any, offset: int, url: str, tile: str, part: Path) -> tuple[int, int | None]:
    """Where the body starts in the file and the file's full size (None when unknown)."""
    if response.status == 206:
        first, _, total = _content_range(response.headers.get("Content-Range"))
        if first != offset:
            part.unlink(missing_ok=True)  # the next attempt must not build on a wrong offset
            raise DownloadError(url, tile, f"server sent a range starting at {first}, not {offset}")
        return offset, total
    # 200: the whole file, also when a range was asked for and ignored.
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


def _stream(response: Any, part: Path, start: int, total: int | None, url: str, tile: str,
            progress: ProgressFn | None) -> str:  # fmt: skip
    hasher = hashlib.sha256()
    if start:
        with part.open("rb") as fh:
            feed(hasher, fh)  # the hash must cover the bytes fetched last time too
    done = start
    try:
        with part.open("ab" if start else "wb") as fh:
            if progress:
                progress(done, total)
            while chunk := response.read(CHUNK):
                fh.write(chunk)
                hasher.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            fh.flush()
            os.fsync(fh.fileno())
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(url, tile, _reason(exc)) from None
    if total is not None and done != total:
        raise DownloadError(url, tile, f"incomplete: {done} of {total} bytes; run again to resume")
    return hasher.hexdigest()


# --- many tiles --------------------------------------------------------------------------------


def download_many(
    dataset: Dataset, layers: Sequence[str], tiles: Sequence[str], data_dir: Path, *,
    progress_for: Callable[[str, str], ProgressFn] | None = None, timeout: float = 60,
    force: bool = False,
) -> DownloadReport:  # fmt: skip
    """Download every layer of every tile; a failing tile is recorded and the rest go on.

    Catalog problems (no source, a remote location, an unknown layer) raise ConfigError before
    anything is fetched, since they would fail every tile alike.
    """
    for layer in layers:
        if layer not in dataset.layers:
            raise ConfigError(f"{dataset.id}: unknown layer {layer!r}")
        for tile in tiles:
            source_url(dataset, layer, tile)
            local_target(dataset, layer, tile, data_dir)
            if named_by_server(dataset, layer):
                _server_named_pattern(dataset, layer, tile, data_dir)
    report = DownloadReport()
    for tile in tiles:
        for layer in layers:
            progress = progress_for(layer, tile) if progress_for else None
            try:
                result = download_tile(
                    dataset, layer, tile, data_dir, progress=progress, timeout=timeout,
                    force=force,
                )  # fmt: skip
            except OSError as exc:  # DownloadError, or the disk (full, read-only)
                report.failures.append(DownloadFailure(layer, tile, exc))
            else:
                report.results.append(result)
    return report


# --- what is here ------------------------------------------------------------------------------


def _template_regex(template: str, scheme: TileScheme) -> re.Pattern[str]:
    """A regex for a path or name with _MARK where the tile goes, capturing the tile; a `*`
    stands for the per-tile part of a server-named file (letters, digits, `_`)."""
    pieces = [_STAR_RE.join(re.escape(s) for s in p.split(_STAR)) for p in template.split(_MARK)]
    tile = f"(?P<tile>{TILE_PATTERNS[scheme]})"
    return re.compile(pieces[0] + tile + "(?P=tile)".join(pieces[1:]))


def _present_tiles(dataset: Dataset, layer: str, data_dir: Path) -> dict[str, Path]:
    """Tiles of a layer found in its local location: tile -> path (a zip read in place: the
    archive)."""
    if dataset.tiles is TileScheme.SINGLE:
        where = locate(dataset, layer, SINGLE_TILE, data_dir)
        if where.remote or not where.exists():
            return {}
        return {SINGLE_TILE: where.local_file or Path(where.path)}
    template = locate(dataset, layer, _MARK, data_dir).path
    if _MARK not in template:  # a location without {file} or {tile} names no tiles
        return {}
    pattern = "*".join(_star_glob(p) for p in template.split(_MARK))
    regex = _template_regex(template, dataset.tiles)
    found: dict[str, Path] = {}
    # glob.glob, not Path.glob: the wildcard may sit in a folder name ({tile} in a location).
    # Sorted, so that of several names of one tile the last wins, as when reading (sources).
    for hit in sorted(glob.glob(pattern)):  # noqa: PTH207
        match = regex.fullmatch(hit)
        if match and parse_tile(dataset.tiles, match["tile"]) and Path(hit).is_file():
            found[match["tile"]] = Path(hit)
    return found


def is_local(dataset: Dataset, data_dir: Path) -> bool:
    """Whether the catalog location of the dataset is a local folder (where downloads go)."""
    layer = next(iter(dataset.layers), None)
    return layer is not None and not locate(dataset, layer, _MARK, data_dir).remote


def inventory(
    catalog: Catalog, data_dir: Path, needed: dict[str, list[str]] | None = None
) -> list[TileStatus]:
    """Present and (when `needed` maps dataset id -> tiles) missing tiles of enabled datasets.

    Present files are re-hashed against SHA256SUMS. Datasets read from a remote location have
    no local files to list and are left out.
    """
    statuses: list[TileStatus] = []
    for dataset in catalog.enabled:
        if not is_local(dataset, data_dir):
            continue
        sums = read_checksums(dataset, data_dir)
        wanted = set((needed or {}).get(dataset.id, []))
        for layer in dataset.layers:
            present = _present_tiles(dataset, layer, data_dir)
            for tile in sorted(present.keys() | wanted):
                path = present.get(tile)
                statuses.append(_status(dataset, layer, tile, path, sums, tile in wanted, data_dir))
    return statuses


def _status(dataset: Dataset, layer: str, tile: str, path: Path | None, sums: dict[str, str],
            needed: bool, data_dir: Path) -> TileStatus:  # fmt: skip
    if path is None:
        where = locate(dataset, layer, tile, data_dir).path
        return TileStatus(dataset.id, layer, tile, where, False, None, None, needed,
                          dataset.optional)  # fmt: skip
    recorded = sums.get(path.name)
    if recorded is None:
        state = Checksum.UNKNOWN
    else:
        state = Checksum.OK if sha256_file(path) == recorded else Checksum.MISMATCH
    return TileStatus(dataset.id, layer, tile, str(path), True, path.stat().st_size, state,
                      needed, dataset.optional)  # fmt: skip


def verify(dataset: Dataset, data_dir: Path) -> list[ChecksumProblem]:
    """Re-hash every file SHA256SUMS lists; the ones missing or changed since download."""
    problems: list[ChecksumProblem] = []
    for name, expected in sorted(read_checksums(dataset, data_dir).items()):
        path = _path_of(dataset, name, data_dir)
        if not path.is_file():
            problems.append(ChecksumProblem(name, str(path), "missing", expected, None))
            continue
        actual = sha256_file(path)
        if actual != expected:
            problems.append(ChecksumProblem(name, str(path), "mismatch", expected, actual))
    return problems


def _path_of(dataset: Dataset, name: str, data_dir: Path) -> Path:
    """Where a recorded file name lives: its layer's location, else beside SHA256SUMS."""
    for layer in dataset.layers:
        match = _template_regex(dataset.file_name(layer, _MARK), dataset.tiles).fullmatch(name)
        if match:
            where = locate(dataset, layer, match["tile"], data_dir)
            if not where.remote:
                path = Path(where.path)
                # A server-named file: the recorded name, not whichever the `*` matches first.
                return path.with_name(name) if named_by_server(dataset, layer) else path
    return data_dir / dataset.id / name
