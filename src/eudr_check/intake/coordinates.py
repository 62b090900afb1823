"""Coordinates typed by hand in spreadsheets: decimal degrees, or degrees-minutes-seconds with
a hemisphere letter, as phone GPS apps and field forms write them.

    -5.141222   5.141222 S   S 5.141222   5°08'28.4"S   5º 8' 28.4'' S   5°08.473'S   78 26 40 W

Hemisphere letters: N, S, E, W, and O (oeste) as Spanish forms write west. A letter that does
not belong to the axis (N or S in a longitude column) or minutes or seconds of 60 or more are
refused by name, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Axis = Literal["lat", "lon"]

_SIGN = {"N": 1, "S": -1, "E": 1, "W": -1, "O": -1}
_AXIS_LETTERS = {"lat": "NS", "lon": "EWO"}
_LIMIT = {"lat": 90.0, "lon": 180.0}

# Degree, minute and second marks as typed: ° º ˚ d, ' ′ ’ ´ m, " ″ ” '' s.
_DEG = r"(?:°|º|˚|d|\s)"
_MIN = r"(?:'|′|’|´|m|\s)"
_SEC = r"(?:\"|″|”|''|’’|s)?"
_NUMBER = r"\d+(?:[.,]\d+)?"
_DMS = re.compile(
    rf"^(?P<deg>{_NUMBER})\s*{_DEG}?\s*"
    rf"(?:(?P<min>{_NUMBER})\s*{_MIN}?\s*"
    rf"(?:(?P<sec>{_NUMBER})\s*{_SEC})?)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class CoordinateError:
    """Why a cell is not a coordinate, for the finding."""

    value: str
    reason: Literal["unreadable", "hemisphere", "range"]


def _float(text: str) -> float:
    return float(text.replace(",", "."))


def parse_sexagesimal(text: str, axis: Axis) -> float | CoordinateError:
    """Degrees-minutes-seconds (or decimal degrees) with an optional hemisphere letter."""
    raw = text.strip()
    body = raw.replace("\u2212", "-").strip()
    sign = 1.0
    letter = None
    head, tail = body[:1].upper(), body[-1:].upper()
    if tail in _SIGN and not body[-2:-1].isalpha():
        letter, body = tail, body[:-1].strip()
    elif head in _SIGN and not body[1:2].isalpha():
        letter, body = head, body[1:].strip()
    if body.startswith("-"):
        sign, body = -1.0, body[1:].strip()
    if letter is not None:
        if letter not in _AXIS_LETTERS[axis]:
            return CoordinateError(raw, "hemisphere")
        if sign < 0:  # "-5°08'S": a minus and a hemisphere letter together is ambiguous
            return CoordinateError(raw, "unreadable")
        sign = float(_SIGN[letter])
    match = _DMS.match(body)
    if match is None:
        return CoordinateError(raw, "unreadable")
    degrees = _float(match["deg"])
    minutes = _float(match["min"]) if match["min"] else 0.0
    seconds = _float(match["sec"]) if match["sec"] else 0.0
    if minutes >= 60 or seconds >= 60 or (match["sec"] and not float(minutes).is_integer()):
        return CoordinateError(raw, "range")
    value = sign * (degrees + minutes / 60.0 + seconds / 3600.0)
    if abs(value) > _LIMIT[axis]:
        return CoordinateError(raw, "range")
    return value


def looks_sexagesimal(text: str) -> bool:
    """Text that is not a plain number but could be a typed coordinate."""
    return bool(re.search(r"[°º˚'′’´\"″”NSEWOnsewo]|\d\s+\d", text))
