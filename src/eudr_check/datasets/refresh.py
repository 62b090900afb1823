"""The nightly refresh: ask each alert dataset's source whether its tiles changed, and take a
newer file only once it is proven good.

Only enabled datasets whose catalog entry says `refresh: daily` or `weekly`, and only the tiles
asked for (dataset id -> tile names; "all" for a dataset that is one file). A dataset is due
when its last check is at least 20 hours (daily) or 6.5 days (weekly) old; a file never checked,
missing, with a failed last attempt or with an unfinished download is due anyway.

Each due file is asked for with a conditional GET (If-None-Match with the ETag the server gave,
If-Modified-Since with its Last-Modified), but only while the local file is the one fetched
then (same SHA-256): a file changed or deleted by hand is fetched again unconditionally. 304:
nothing is written. 200: the body goes into `<file>.part` beside the tile, which stays in place
and readable the whole time; the part replaces it (os.replace, atomic) only when its length and
Content-MD5 (when the server gives them) agree and it opens as a one-band raster with a CRS
(the member inside, for a tile read from a zip archive: then the archive is the file fetched).
A part that fails those checks is removed: an HTML error page never replaces a good tile.

A transfer cut short (a killed run, a dropped connection) leaves its part, and the next due run
resumes it with `Range` and `If-Range` (the ETag, else the Last-Modified, the part was started
with, kept in `<part>.json`): a 206 continues it, a 200 means the file changed since, and the
part starts over. What was learnt is kept per dataset in `REFRESH.json` beside SHA256SUMS
(written atomically after every file); SHA256SUMS and `downloads.json` are kept as
`eudr-check datasets download` keeps them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import json
import logging
import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from eudr_check.datasets.catalog import Catalog, Dataset, TileScheme
from eudr_check.datasets.download import (
    CHUNK,
    USER_AGENT,
    NotModified,
    Unsatisfiable,
    _content_range,
    _log_download,
    _reason,
    _record_checksum,
    local_target,
    named_by_server,
    open_url,
    parse_tile,
    part_path,
    source_url,
    sums_path,
)
from eudr_check.datasets.sources import locate, zip_archive
from eudr_check.errors import ConfigError, DownloadError
from eudr_check.fileio import sha256_file, write_text

log = logging.getLogger(__name__)

STATE_NAME = "REFRESH.json"
# How old a dataset's last check must be before the nightly run asks again. Under a day, so a
# run that starts a little earlier than yesterday's still checks.
INTERVALS = {"daily": timedelta(hours=20), "weekly": timedelta(days=6.5)}


class RefreshStatus(StrEnum):
    FETCHED = "fetched"  # a newer file is in place
    UNCHANGED = "unchanged"  # the source has nothing newer (304, or the same bytes again)
    NOT_DUE = "not_due"  # checked recently enough: no request made
    FAILED = "failed"  # see `error`; the file in place (if any) is untouched
    NO_SOURCE = "no_source"  # the catalog gives no download source: nothing to ask


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    dataset_id: str
    layer: str
    tile: str
    status: RefreshStatus
    path: str | None  # the local file (the archive, for a tile read inside a zip)
    sha256: str | None  # of the file in place after the refresh, when known
    bytes: int | None
    etag: str | None
    last_modified: str | None
    resumed: bool  # the fetch continued a part left by an earlier, interrupted run
    error: str | None  # why it FAILED: names the dataset, tile and URL
    checked_at: str  # ISO 8601, UTC: when this refresh ran (its `now`)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RefreshOutcome:
        return cls(**{**data, "status": RefreshStatus(data["status"])})


@dataclass(frozen=True, slots=True)
class FileState:
    """What the last refresh learnt about one file of a dataset."""

    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None  # of the file as fetched (or found unchanged)
    checked_at: str | None = None  # last answer from the source (200 or 304)
    error: str | None = None  # the last attempt failed: the file is due next run
    failed_at: str | None = None


@dataclass(frozen=True, slots=True)
class RefreshState:
    """A dataset's REFRESH.json: its last check and, per file name, what was learnt."""

    checked_at: str | None = None
    files: Mapping[str, FileState] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at,
            "files": {name: asdict(s) for name, s in sorted(self.files.items())},
        }


def state_path(dataset: Dataset, data_dir: Path) -> Path:
    """`<data_dir>/<dataset id>/REFRESH.json`, beside the dataset's SHA256SUMS."""
    return sums_path(dataset, data_dir).with_name(STATE_NAME)


def read_state(dataset: Dataset, data_dir: Path) -> RefreshState:
    """The dataset's refresh record; empty when there is none or it is damaged (then every file
    is due and fetched unconditionally: the worst case is one needless download)."""
    try:
        doc = json.loads(state_path(dataset, data_dir).read_text(encoding="utf-8"))
        checked = doc.get("checked_at")
        files = {
            str(name): FileState(
                **{k: v for k, v in entry.items() if k in _FILE_FIELDS and isinstance(v, str)}
            )
            for name, entry in doc.get("files", {}).items()
        }
    except (OSError, ValueError, TypeError, AttributeError):
        return RefreshState()
    return RefreshState(checked if isinstance(checked, str) else None, files)


_FILE_FIELDS = frozenset(FileState.__dataclass_fields__)


def _write_state(dataset: Dataset, data_dir: Path, state: RefreshState) -> None:
    # write_text: a temporary file beside it, then os.replace.
    text = json.dumps(state.to_dict(), indent=2, ensure_ascii=False) + "\n"
    write_text(state_path(dataset, data_dir), text)


# --- the run -----------------------------------------------------------------------------------


def refresh(
    catalog: Catalog,
    data_dir: Path,
    tiles: dict[str, list[str]],
    *,
    now: datetime | None = None,
    timeout: float = 60,
    only: set[str] | None = None,
) -> list[RefreshOutcome]:
    """Refresh the given tiles (dataset id -> tile names) of every enabled dataset with a
    `refresh` schedule (of those in `only`, when given); one outcome per layer and tile.

    Network, HTTP and verification problems are FAILED outcomes and the other tiles go on;
    ConfigError only for `only` naming a dataset the catalog does not know.
    """
    when = _utc(now)
    if only is not None:
        unknown = sorted(only - {d.id for d in catalog.datasets})
        if unknown:
            raise ConfigError(f"unknown dataset(s) to refresh: {', '.join(unknown)}")
    outcomes: list[RefreshOutcome] = []
    for dataset in catalog.enabled:
        if dataset.refresh == "never" or (only is not None and dataset.id not in only):
            continue
        wanted = tiles.get(dataset.id)
        if wanted:
            outcomes.extend(_refresh_dataset(dataset, data_dir, wanted, when, timeout))
    return outcomes


def _utc(now: datetime | None) -> datetime:
    """`now` in UTC; a naive time is taken as UTC."""
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return _utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _refresh_dataset(dataset: Dataset, data_dir: Path, wanted: list[str], now: datetime,
                     timeout: float) -> list[RefreshOutcome]:  # fmt: skip
    stamp = now.isoformat(timespec="seconds")
    state = read_state(dataset, data_dir)
    files = dict(state.files)
    last = _parse_time(state.checked_at)
    due_all = last is None or now - last >= INTERVALS[dataset.refresh]
    asked = False
    outcomes: list[RefreshOutcome] = []

    def outcome(layer: str, tile: str, status: RefreshStatus, **values: Any) -> None:
        base: dict[str, Any] = dict.fromkeys(
            ("path", "sha256", "bytes", "etag", "last_modified", "error")
        )
        outcomes.append(RefreshOutcome(dataset.id, layer, tile, status,
                                       **{**base, "resumed": False, **values},
                                       checked_at=stamp))  # fmt: skip

    # Canonical names, once each (10s_080w and 10S_080W are one tile); None: no tile at all.
    names = {parse_tile(dataset.tiles, raw) or raw: parse_tile(dataset.tiles, raw)
             for raw in wanted}  # fmt: skip
    for layer in dataset.layers:
        for raw, tile in names.items():
            if tile is None:
                scheme = "a single file: its tile is 'all'"
                if dataset.tiles is not TileScheme.SINGLE:
                    scheme = f"the {dataset.tiles.value} scheme"
                outcome(layer, raw, RefreshStatus.FAILED,
                        error=f"{dataset.id}: {raw!r} is no tile of {scheme}")  # fmt: skip
                continue
            if dataset.source is None:
                outcome(layer, tile, RefreshStatus.NO_SOURCE)
                continue
            try:
                url = source_url(dataset, layer, tile)
                target = _local_file(dataset, layer, tile, data_dir)
            except ConfigError as exc:
                outcome(layer, tile, RefreshStatus.FAILED, error=str(exc))
                continue
            entry = files.get(target.name)
            due = (
                due_all
                or entry is None
                or entry.checked_at is None
                or entry.error is not None
                or not target.is_file()
                or part_path(target).exists()
            )
            if not due:
                assert entry is not None
                outcome(layer, tile, RefreshStatus.NOT_DUE, path=str(target),
                        sha256=entry.sha256, bytes=target.stat().st_size, etag=entry.etag,
                        last_modified=entry.last_modified)  # fmt: skip
                continue
            asked = True
            try:
                got = _fetch(dataset, layer, tile, url, target, entry, data_dir, timeout)
            except OSError as exc:  # DownloadError, or the disk (full, read-only)
                message = _failure(dataset, layer, tile, url, exc)
                log.warning("%s", message)
                files[target.name] = _failed(entry, message, stamp)
                _write_state(dataset, data_dir, RefreshState(state.checked_at, files))
                present = target.is_file()
                outcome(layer, tile, RefreshStatus.FAILED, error=message,
                        path=str(target) if present else None,
                        bytes=target.stat().st_size if present else None)  # fmt: skip
                continue
            files[target.name] = FileState(got.etag, got.last_modified, got.sha256, stamp)
            _write_state(dataset, data_dir, RefreshState(state.checked_at, files))
            outcome(layer, tile, got.status, path=str(target), sha256=got.sha256,
                    bytes=got.size, etag=got.etag, last_modified=got.last_modified,
                    resumed=got.resumed)  # fmt: skip
    if due_all and asked:
        _write_state(dataset, data_dir, RefreshState(stamp, files))
    return outcomes


def _failed(entry: FileState | None, message: str, stamp: str) -> FileState:
    """The file's record after a failed attempt: what was known stays (for the next
    conditional request), marked so that the next run tries again."""
    base = entry or FileState()
    return FileState(base.etag, base.last_modified, base.sha256, base.checked_at, message, stamp)


def _failure(dataset: Dataset, layer: str, tile: str, url: str, exc: OSError) -> str:
    if isinstance(exc, DownloadError):
        reason = exc.reason
    else:
        reason = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    return f"{dataset.id} layer {layer} tile {tile}: {reason} ({url})"


def _local_file(dataset: Dataset, layer: str, tile: str, data_dir: Path) -> Path:
    """The file a refresh writes: the tile, or the zip archive a /vsizip/ location reads."""
    if named_by_server(dataset, layer):
        raise ConfigError(
            f"{dataset.id}: layer {layer!r} is named by the server ({dataset.layers[layer].file})"
            "; the refresh cannot follow such names (use `eudr-check datasets download`)"
        )
    local_target(dataset, layer, tile, data_dir)  # ConfigError for a remote location
    # TileLocation.local_file, not local_target's Path: that would fold /vsizip//abs/path.
    file = locate(dataset, layer, tile, data_dir).local_file
    assert file is not None  # a local location
    return file


# --- one file ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Fetched:
    status: RefreshStatus
    sha256: str
    size: int
    etag: str | None
    last_modified: str | None
    resumed: bool


def sidecar_path(part: Path) -> Path:
    """`<file>.part.json`: the URL and validators a part was started with."""
    return part.with_name(part.name + ".json")


def _fetch(dataset: Dataset, layer: str, tile: str, url: str, target: Path,
           entry: FileState | None, data_dir: Path, timeout: float) -> _Fetched:  # fmt: skip
    part = part_path(target)
    sidecar = sidecar_path(part)
    current = sha256_file(target) if target.is_file() else None
    for _ in range(2):  # a second round only after an unusable 416: from nothing
        resume = _resume_point(part, sidecar, url)
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if resume is not None:
            headers["Range"] = f"bytes={resume.offset}-"
            headers["If-Range"] = resume.validator
        elif entry is not None and current is not None and current == entry.sha256:
            if entry.etag:
                headers["If-None-Match"] = entry.etag
            if entry.last_modified:
                headers["If-Modified-Since"] = entry.last_modified
        conditional = "If-None-Match" in headers or "If-Modified-Since" in headers
        try:
            response = open_url(url, tile, headers, timeout)
        except NotModified as exc:
            if not conditional or entry is None or current is None:
                raise DownloadError(
                    url, tile, "HTTP 304 to a request that was not conditional"
                ) from None
            return _Fetched(RefreshStatus.UNCHANGED, current, target.stat().st_size,
                            exc.headers.get("ETag") or entry.etag,
                            exc.headers.get("Last-Modified") or entry.last_modified,
                            False)  # fmt: skip
        except Unsatisfiable as exc:
            assert resume is not None  # only a range request is unsatisfiable
            if exc.total == resume.offset:  # the part already holds the whole file
                return _install(dataset, layer, tile, url, target, current, resume.side,
                                True, data_dir)  # fmt: skip
            _discard(part)  # longer than the file, or the server won't say: start over
            continue
        with response:
            side = _begin(response, part, resume, url, tile)
            offset = resume.offset if resume is not None and response.status == 206 else 0
            _stream(response, part, offset, side, url, tile)
        return _install(dataset, layer, tile, url, target, current, side, offset > 0, data_dir)
    raise DownloadError(url, tile, "the server refuses the range asked for twice")


@dataclass(frozen=True, slots=True)
class _Resume:
    offset: int
    validator: str  # the strong ETag, else the Last-Modified, the part was started with
    side: dict[str, Any]


def _resume_point(part: Path, sidecar: Path, url: str) -> _Resume | None:
    """Where a part left by an earlier run can go on, or None (an unusable part is removed:
    without a validator from its start nothing proves its bytes belong to today's file)."""
    size = part.stat().st_size if part.is_file() else 0
    try:
        side = json.loads(sidecar.read_text(encoding="utf-8")) if size else None
    except (OSError, ValueError):
        side = None
    if isinstance(side, dict) and side.get("url") == url:
        etag = side.get("etag")
        strong = etag if isinstance(etag, str) and not etag.startswith("W/") else None
        validator = strong or side.get("last_modified")
        if isinstance(validator, str) and validator:
            return _Resume(size, validator, side)
    _discard(part)
    return None


def _discard(part: Path) -> None:
    part.unlink(missing_ok=True)
    sidecar_path(part).unlink(missing_ok=True)


def _begin(response: Any, part: Path, resume: _Resume | None, url: str,
           tile: str) -> dict[str, Any]:  # fmt: skip
    """The part's sidecar for this response: the old one when a 206 continues the part, else a
    new one (written before the first byte, so a kill at any point leaves a resumable part)."""
    headers = response.headers
    if response.status == 206:
        if resume is None:
            raise DownloadError(url, tile, "HTTP 206 to a request for the whole file")
        first, _, total = _content_range(headers.get("Content-Range"))
        if first != resume.offset:
            _discard(part)  # the next attempt must not build on a wrong offset
            raise DownloadError(
                url, tile, f"server sent a range starting at {first}, not {resume.offset}"
            )
        return {**resume.side, "total": total if total is not None else resume.side.get("total")}
    if response.status != 200:
        raise DownloadError(url, tile, f"HTTP {response.status} {response.reason}")
    # 200: the whole file (a changed file, when a range was asked for with If-Range).
    length = headers.get("Content-Length")
    side = {
        "url": url,
        "etag": headers.get("ETag"),
        "last_modified": headers.get("Last-Modified"),
        "content_md5": headers.get("Content-MD5"),
        "total": int(length) if length and length.isdigit() else None,
        "content_type": headers.get("Content-Type"),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    part.unlink(missing_ok=True)
    write_text(sidecar_path(part), json.dumps(side, indent=2) + "\n")
    return side


def _stream(response: Any, part: Path, offset: int, side: dict[str, Any], url: str,
            tile: str) -> None:  # fmt: skip
    """Append the body to the part, each piece flushed as it comes (read1: whatever has
    arrived), so that a killed run leaves every byte it received for the next one."""
    done = offset
    try:
        with part.open("ab" if offset else "wb") as fh:
            while chunk := response.read1(CHUNK):
                fh.write(chunk)
                fh.flush()
                done += len(chunk)
            os.fsync(fh.fileno())
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(url, tile, f"{_reason(exc)}; the next run resumes") from None
    total = side.get("total")
    if isinstance(total, int) and done != total:
        raise DownloadError(url, tile, f"incomplete: {done} of {total} bytes; the next run resumes")


def _install(dataset: Dataset, layer: str, tile: str, url: str, target: Path,
             current: str | None, side: dict[str, Any], resumed: bool,
             data_dir: Path) -> _Fetched:  # fmt: skip
    """Verify the complete part and put it in the tile's place, or remove it saying why."""
    part = part_path(target)
    sha256, md5 = _digests(part)
    problem = _md5_problem(side.get("content_md5"), md5) or _raster_problem(
        part, dataset, layer, tile, data_dir
    )
    if problem and str(side.get("content_type") or "").startswith("text/html"):
        problem = f"the server sent an HTML page, not the file: {problem}"
    if problem:
        _discard(part)
        raise DownloadError(url, tile, f"{problem}; the file in place is kept")
    size = part.stat().st_size
    etag, modified = side.get("etag"), side.get("last_modified")
    if sha256 == current:  # the same bytes again (a server without validators)
        _discard(part)
        return _Fetched(RefreshStatus.UNCHANGED, sha256, size, etag, modified, resumed)
    part.replace(target)  # os.replace, atomic: readers see the old tile or the new one, never a mix
    sidecar_path(part).unlink(missing_ok=True)
    _record_checksum(dataset, data_dir, target.name, sha256)
    _log_download(data_dir, dataset, {
        "file": target.name, "layer": layer, "tile": tile, "url": url, "bytes": size,
        "sha256": sha256, "resumed": resumed, "etag": etag, "last_modified": modified,
        "downloaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "by": "refresh",
    })  # fmt: skip
    return _Fetched(RefreshStatus.FETCHED, sha256, size, etag, modified, resumed)


def _digests(path: Path) -> tuple[str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


def _md5_problem(header: object, md5: str) -> str | None:
    """Content-MD5 (RFC 1864: base64 of the digest) against the file's MD5, when given."""
    if not isinstance(header, str) or not header.strip():
        return None
    try:
        expected = base64.b64decode(header.strip(), validate=True).hex()
    except (binascii.Error, ValueError):
        return f"the server's Content-MD5 {header!r} is not base64"
    if expected != md5:
        return f"Content-MD5 mismatch (server {expected}, file {md5})"
    return None


def _raster_problem(part: Path, dataset: Dataset, layer: str, tile: str,
                    data_dir: Path) -> str | None:  # fmt: skip
    """Why the part is no usable tile (None if it is): it must open as a raster with one band
    and a CRS, and its first and last blocks must read (a cut file fails the last)."""
    path, what = str(part), "raster"
    where = locate(dataset, layer, tile, data_dir).path
    if zip_archive(where):
        member = where.partition(".zip/")[2]
        path = f"/vsizip/{{{part}}}/{member}"  # GDAL's braces: an archive of any name
        what = f"raster {member} in a zip archive"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                if ds.count != 1:
                    return f"the file has {ds.count} bands, not one"
                if ds.crs is None:
                    return "the file has no CRS"
                rows, cols = ds.block_shapes[0]
                last_row = math.ceil(ds.height / rows) - 1
                last_col = math.ceil(ds.width / cols) - 1
                ds.read(1, window=ds.block_window(1, 0, 0))
                ds.read(1, window=ds.block_window(1, last_row, last_col))
    except (RasterioError, OSError) as exc:
        return f"not a readable {what} ({exc})"
    return None
