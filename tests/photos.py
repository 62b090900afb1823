"""Real JPEG photos for the evidence tests, made with Pillow: EXIF date and GPS position
written as a phone camera writes them (degrees, minutes, seconds as rationals)."""

from __future__ import annotations

import io

from PIL import Image, TiffImagePlugin


def _rational(value: float) -> TiffImagePlugin.IFDRational:
    return TiffImagePlugin.IFDRational(round(value * 10000), 10000)


def jpeg(lat: float | None = None, lon: float | None = None,
         taken: str | None = "2026:11:20 09:15:00") -> bytes:  # fmt: skip
    """A real JPEG made with Pillow, with EXIF date and GPS position in degrees/min/sec."""
    img = Image.new("RGB", (32, 24), (40, 120, 40))
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[36867] = taken
    if lat is not None and lon is not None:
        gps = exif.get_ifd(0x8825)
        for ref_tag, tag, value, refs in ((1, 2, lat, "NS"), (3, 4, lon, "EW")):
            a = abs(value)
            d = int(a)
            m = int((a - d) * 60)
            s = (a - d - m / 60) * 3600
            gps[ref_tag] = refs[0] if value >= 0 else refs[1]
            gps[tag] = (_rational(d), _rational(m), _rational(s))
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()
