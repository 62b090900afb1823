"""Zip containers (KMZ, zipped shapefiles, XLSX): what they hold and how to read them safely.

Archives come from outside, so they are checked before anything is read: no encrypted members,
no member that would land outside a folder (zip-slip), and a cap on the uncompressed bytes
(zip bombs). Members are read into memory; nothing is ever extracted to disk.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from eudr_check.errors import PlotFileError

_CHUNK = 1 << 20
# How many member names an error message lists before "…".
_SHOWN = 5


def open_zip(path: Path, data: bytes) -> zipfile.ZipFile:
    """Open an in-memory zip, refusing corrupt, encrypted and zip-slip archives."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError):
        raise PlotFileError(
            path, "el archivo zip está dañado o incompleto.",
            "the zip file is corrupt or truncated.",
        ) from None  # fmt: skip
    for info in archive.infolist():
        if info.flag_bits & 0x1:
            raise PlotFileError(
                path,
                "el archivo zip está protegido con contraseña; envíelo sin contraseña.",
                "the zip file is password-protected; send it without a password.",
            )
        if _escapes(info.filename):
            raise PlotFileError(
                path,
                f"el zip contiene una ruta no permitida ({info.filename!r}); no se abrió.",
                f"the zip contains a disallowed path ({info.filename!r}); it was not opened.",
            )
    return archive


def _escapes(name: str) -> bool:
    """True for absolute names, drive letters and '..' parts: they point outside the archive."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in parts


def members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's files, without folders and macOS resource forks (__MACOSX/, ._name)."""
    found = []
    for info in archive.infolist():
        pure = PurePosixPath(info.filename.replace("\\", "/"))
        if info.is_dir() or "__MACOSX" in pure.parts or pure.name.startswith("._"):
            continue
        found.append(info)
    return found


def with_suffix(archive: zipfile.ZipFile, suffix: str) -> list[zipfile.ZipInfo]:
    return [m for m in members(archive) if m.filename.lower().endswith(suffix)]


def zip_kind(path: Path, data: bytes) -> str:
    """'xlsx', 'kmz' or 'shapefile_zip', from the members (and the .kmz extension)."""
    archive = open_zip(path, data)
    names = [m.filename.replace("\\", "/") for m in members(archive)]
    lower = [n.lower() for n in names]
    if "[content_types].xml" in lower and any(n.startswith("xl/") for n in lower):
        return "xlsx"
    # A .zip holding a shapefile and a KML export of it is read once, as the shapefile.
    if path.suffix.lower() == ".kmz":
        return "kmz"
    if any(n.endswith(".shp") for n in lower):
        return "shapefile_zip"
    if any(n.endswith(".kml") for n in lower):
        return "kmz"
    shown = ", ".join(names[:_SHOWN]) + (", …" if len(names) > _SHOWN else "")
    raise PlotFileError(
        path,
        "el zip no contiene ningún .shp, .kml ni libro Excel "
        f"(contiene {len(names)} archivo(s): {shown or 'ninguno'}).",
        "the zip contains no .shp, .kml or Excel workbook "
        f"(it holds {len(names)} file(s): {shown or 'none'}).",
    )


class MemberReader:
    """Reads members into memory under one shared budget of uncompressed bytes."""

    def __init__(self, path: Path, archive: zipfile.ZipFile, max_unzipped_mb: float) -> None:
        self.path = path
        self.archive = archive
        self.limit_mb = max_unzipped_mb
        self.left = int(max_unzipped_mb * 1e6)

    def read(self, info: zipfile.ZipInfo) -> bytes:
        # The declared size is checked first (cheap), then real bytes are counted, because a
        # crafted header can understate what the compressed stream expands to.
        if info.file_size > self.left:
            self._too_big(info)
        out = bytearray()
        try:
            with self.archive.open(info) as stream:
                while chunk := stream.read(min(_CHUNK, self.left + 1)):
                    out += chunk
                    if len(out) > self.left:
                        self._too_big(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError):
            raise PlotFileError(
                self.path,
                f"no se pudo descomprimir {info.filename!r}: el zip está dañado o usa un "
                "método de compresión no admitido.",
                f"could not decompress {info.filename!r}: the zip is corrupt or uses an "
                "unsupported compression method.",
            ) from None
        self.left -= len(out)
        return bytes(out)

    def _too_big(self, info: zipfile.ZipInfo) -> None:
        raise PlotFileError(
            self.path,
            f"el contenido descomprimido ({info.filename!r}) supera el límite de "
            f"{self.limit_mb:g} MB (EUDR_CHECK_MAX_UNZIPPED_MB); divida el archivo.",
            f"the uncompressed content ({info.filename!r}) exceeds the limit of "
            f"{self.limit_mb:g} MB (EUDR_CHECK_MAX_UNZIPPED_MB); split the file.",
        )


def check_declared_size(path: Path, archive: zipfile.ZipFile, max_unzipped_mb: float) -> None:
    """For archives another library unpacks (openpyxl): cap the declared uncompressed total."""
    total = sum(m.file_size for m in archive.infolist())
    if total > max_unzipped_mb * 1e6:
        raise PlotFileError(
            path,
            f"el contenido descomprimido ({total / 1e6:.1f} MB) supera el límite de "
            f"{max_unzipped_mb:g} MB (EUDR_CHECK_MAX_UNZIPPED_MB); divida el archivo.",
            f"the uncompressed content ({total / 1e6:.1f} MB) exceeds the limit of "
            f"{max_unzipped_mb:g} MB (EUDR_CHECK_MAX_UNZIPPED_MB); split the file.",
        )
