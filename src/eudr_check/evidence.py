"""Evidence files for a plot's review: what they are, when and where a photo was taken, and
how far that is from the plot. Pure: bytes and shapely geometries in, values out.

Only JPEG and PNG photos and PDF documents are accepted, recognised by their content (the
name's extension must agree), never by what the client says. A photo's EXIF date and GPS
position are read when present; a photo taken far from its plot is flagged, not refused
(a technician may photograph a land title in the office).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import warnings
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import Any

import shapely
from pyproj import Geod
from shapely.ops import nearest_points

from eudr_check.errors import ReviewError
from eudr_check.i18n import Lang, Text

_GEOD = Geod(ellps="WGS84")
FAR_KM_DEFAULT = 1.0


class EvidenceKind(StrEnum):
    """What a file documents (chosen by the user; the content type is sniffed)."""

    PHOTO = "photo"
    LAND_TITLE = "land_title"
    FIELD_VISIT = "field_visit_form"
    PLANTING_RECORD = "planting_record"
    OTHER = "other"


KIND_TEXT: dict[EvidenceKind, Text] = {
    EvidenceKind.PHOTO: Text("foto de campo", "field photo"),
    EvidenceKind.LAND_TITLE: Text("título de propiedad", "land title"),
    EvidenceKind.FIELD_VISIT: Text("acta de visita de campo", "field visit form"),
    EvidenceKind.PLANTING_RECORD: Text("registro de siembra", "planting record"),
    EvidenceKind.OTHER: Text("otro documento", "other document"),
}

MEDIA = {"image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",), "application/pdf": (".pdf",)}
EXTENSION = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


@dataclass(frozen=True, slots=True)
class PhotoInfo:
    taken_at: str | None  # EXIF DateTimeOriginal as written (camera local time, no zone)
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class SniffedFile:
    sha256: str
    media_type: str
    size: int
    photo: PhotoInfo | None

    @property
    def extension(self) -> str:
        return EXTENSION[self.media_type]


def _refuse(code: str, name: str, es: str, en: str) -> ReviewError:
    return ReviewError(Text(f"{name}: {es}", f"{name}: {en}"), code)


def sniff(name: str, data: bytes, max_mb: float) -> SniffedFile:
    """Recognise one evidence file or refuse it with a bilingual message naming it."""
    if not data:
        raise _refuse("empty_file", name, "el archivo está vacío", "the file is empty")
    if len(data) > max_mb * 1024 * 1024:
        raise _refuse(
            "too_large",
            name,
            f"el archivo es demasiado grande: el máximo es {max_mb:g} MB",
            f"the file is too large: the limit is {max_mb:g} MB",
        )
    media = _media_type(data)
    if media is None:
        raise _refuse(
            "unsupported_evidence",
            name,
            "no es una foto JPEG/PNG ni un documento PDF",
            "is not a JPEG/PNG photo nor a PDF document",
        )
    suffix = PurePath(name).suffix.lower()
    if suffix and suffix not in MEDIA[media]:
        raise _refuse(
            "extension_mismatch",
            name,
            f"el nombre dice {suffix} pero el contenido es {EXTENSION[media]}",
            f"the name says {suffix} but the content is {EXTENSION[media]}",
        )
    photo = _photo(name, data) if media != "application/pdf" else None
    if media == "application/pdf" and b"%%EOF" not in data[-2048:]:
        raise _refuse(
            "truncated_file",
            name,
            "el PDF está incompleto (sin %%EOF)",
            "the PDF is incomplete (no %%EOF)",
        )
    return SniffedFile(hashlib.sha256(data).hexdigest(), media, len(data), photo)


def _media_type(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _photo(name: str, data: bytes) -> PhotoInfo:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                img.verify()  # the whole file decodes: not a header glued to junk
            with Image.open(io.BytesIO(data)) as img:
                exif = img.getexif()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        raise _refuse(
            "unreadable_image",
            name,
            f"la imagen no se puede leer ({exc})",
            f"the image cannot be read ({exc})",
        ) from None
    return photo_info(exif)


def photo_info(exif: Any) -> PhotoInfo:
    """Date and position from a Pillow `Image.Exif` (any missing or malformed tag: None)."""
    taken = None
    try:
        sub = exif.get_ifd(0x8769)  # Exif IFD
        raw = sub.get(36867) or sub.get(36868) or exif.get(306)  # Original, Digitized, DateTime
        taken = _exif_date(raw)
    except Exception:  # malformed EXIF is common and never fatal: the date is just unknown
        taken = None
    lat = lon = None
    try:
        gps = exif.get_ifd(0x8825)
        lat = _dms(gps.get(2), gps.get(1), "NS")
        lon = _dms(gps.get(4), gps.get(3), "EW")
    except Exception:
        lat = lon = None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    return PhotoInfo(taken, lat, lon)


def _exif_date(raw: Any) -> str | None:
    if raw is None:
        return None
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
    text = text.strip("\x00 ")
    try:
        return dt.datetime.strptime(text, "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def _dms(value: Any, ref: Any, refs: str) -> float | None:
    if value is None or ref is None:
        return None
    parts = [float(v) for v in value]
    if len(parts) != 3 or any(math.isnan(p) for p in parts):
        return None
    deg = parts[0] + parts[1] / 60 + parts[2] / 3600
    ref = ref.decode() if isinstance(ref, bytes) else str(ref)
    ref = ref.strip("\x00 ").upper()
    if ref not in refs:
        return None
    return -deg if ref == refs[1] else deg


def distance_m(geometry: shapely.Geometry | None, lat: float, lon: float) -> float | None:
    """Geodesic distance in metres from a position to the plot (0 inside it)."""
    if geometry is None or geometry.is_empty:
        return None
    point = shapely.Point(lon, lat)
    if geometry.covers(point):
        return 0.0
    # The nearest point in degrees is close enough to the true nearest point for a flag at
    # kilometre scale; the distance itself is measured on the ellipsoid.
    near = nearest_points(geometry, point)[0]
    _, _, metres = _GEOD.inv(lon, lat, near.x, near.y)
    return float(metres)


def far_flag(distance: float | None, far_km: float) -> bool:
    return distance is not None and distance > far_km * 1000


def describe_distance(distance: float | None, far_km: float, lang: Lang | str) -> str:
    if distance is None:
        return Text("sin posición GPS", "no GPS position")(lang)
    km = distance / 1000
    if far_flag(distance, far_km):
        return Text("¡tomada a {km:.1f} km de la parcela!", "taken {km:.1f} km from the plot!")(
            lang, km=km
        )
    if distance == 0:
        return Text("tomada dentro de la parcela", "taken inside the plot")(lang)
    return Text("tomada a {m:.0f} m de la parcela", "taken {m:.0f} m from the plot")(
        lang, m=distance
    )
