"""Check a compliance bundle years later: every file listed in its manifest, unchanged, and
nothing else in the zip.

Never raises for a bad input: whatever is wrong comes back as problems, each with a message in
Spanish and English. Nothing is extracted; members are hashed as they are read.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from eudr_check.fileio import hash_stream
from eudr_check.i18n import Lang, Text

MANIFEST_NAME = "manifest.json"
BUNDLE_FORMAT = "eudr-check-bundle/1"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DRIVE = re.compile(r"[A-Za-z]:")


class ProblemKind(StrEnum):
    UNREADABLE = "unreadable"  # the file cannot be opened at all
    NOT_A_ZIP = "not_a_zip"
    MANIFEST_MISSING = "manifest_missing"
    MANIFEST_INVALID = "manifest_invalid"
    MISSING_FILE = "missing_file"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    DAMAGED_FILE = "damaged_file"
    EXTRA_FILE = "extra_file"
    UNSAFE_NAME = "unsafe_name"
    DUPLICATE_NAME = "duplicate_name"


# Problems that mean the input is not a bundle one can look into (CLI exit code 2).
UNREADABLE_KINDS = frozenset({ProblemKind.UNREADABLE, ProblemKind.NOT_A_ZIP})

_TEXT: dict[ProblemKind, Text] = {
    ProblemKind.UNREADABLE: Text(
        "No se pudo leer {name}: {detail}",
        "Could not read {name}: {detail}",
    ),
    ProblemKind.NOT_A_ZIP: Text(
        "{name} no es un archivo zip (¿otro tipo de archivo renombrado, o incompleto?)",
        "{name} is not a zip file (another kind of file renamed, or cut short?)",
    ),
    ProblemKind.MANIFEST_MISSING: Text(
        "Falta manifest.json: no se puede comprobar ningún archivo.",
        "manifest.json is missing: no file can be checked.",
    ),
    ProblemKind.MANIFEST_INVALID: Text(
        "manifest.json no se puede leer: {detail}",
        "manifest.json cannot be read: {detail}",
    ),
    ProblemKind.MISSING_FILE: Text(
        "Falta {name}, que figura en el manifiesto.",
        "{name} is listed in the manifest but missing.",
    ),
    ProblemKind.CHECKSUM_MISMATCH: Text(
        "{name} fue modificado: su SHA-256 no coincide con el manifiesto.",
        "{name} was changed: its SHA-256 does not match the manifest.",
    ),
    ProblemKind.DAMAGED_FILE: Text(
        "{name} está dañado y no se puede leer ({detail}).",
        "{name} is damaged and cannot be read ({detail}).",
    ),
    ProblemKind.EXTRA_FILE: Text(
        "{name} no figura en el manifiesto (se añadió después).",
        "{name} is not in the manifest (added afterwards).",
    ),
    ProblemKind.UNSAFE_NAME: Text(
        "Nombre peligroso {name!r}: al descomprimir saldría de la carpeta.",
        "Unsafe name {name!r}: unzipping would write outside the folder.",
    ),
    ProblemKind.DUPLICATE_NAME: Text(
        "{name} aparece {detail} veces en el zip.",
        "{name} appears {detail} times in the zip.",
    ),
}


@dataclass(frozen=True, slots=True)
class BundleProblem:
    kind: ProblemKind
    name: str | None  # the zip member (or file) concerned
    text: Text

    def message(self, lang: Lang | str = Lang.ES) -> str:
        return self.text(lang)


@dataclass(frozen=True, slots=True)
class BundleCheck:
    path: Path
    problems: tuple[BundleProblem, ...]
    files_checked: int  # listed files found with the right checksum
    lot_id: int | None = None
    reference: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def unreadable(self) -> bool:
        """The input is not a zip one can look into (rather than a bundle with problems)."""
        return any(p.kind in UNREADABLE_KINDS for p in self.problems)


def _problem(kind: ProblemKind, name: str | None, detail: object = "") -> BundleProblem:
    return BundleProblem(kind, name, _TEXT[kind].format(name=name, detail=detail))


def unsafe_name(name: str) -> bool:
    """A member name that could escape the folder it is unzipped into (on any system)."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or _DRIVE.match(name):
        return True
    return ".." in name.split("/")


def _member_sha256(zf: zipfile.ZipFile, name: str) -> str:
    with zf.open(name) as fh:
        return hash_stream(fh)


# What reading a damaged or odd member can raise: bad CRC or header, bad deflate data, a cut
# short member, encryption (RuntimeError), an unknown compression method, a failing disk.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
                OSError)  # fmt: skip


def _manifest(zf: zipfile.ZipFile) -> tuple[dict[str, Any] | None, BundleProblem | None]:
    try:
        doc = json.loads(zf.read(MANIFEST_NAME).decode("utf-8"))
    except (*_READ_ERRORS, UnicodeDecodeError, ValueError) as exc:
        return None, _problem(ProblemKind.MANIFEST_INVALID, MANIFEST_NAME, exc)
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _SHA256.fullmatch(v) for k, v in files.items()
    ):
        detail = "no hay lista de archivos con SHA-256 / no list of files with SHA-256"
        return None, _problem(ProblemKind.MANIFEST_INVALID, MANIFEST_NAME, detail)
    return doc, None


def verify_bundle(path: Path) -> BundleCheck:
    """Every file the manifest lists is there with its SHA-256, and nothing else is."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return BundleCheck(path, (_problem(ProblemKind.NOT_A_ZIP, path.name),), 0)
    except (OSError, ValueError) as exc:  # missing, a folder, no permission
        detail = getattr(exc, "strerror", None) or exc
        return BundleCheck(path, (_problem(ProblemKind.UNREADABLE, path.name, detail),), 0)
    with zf:
        names = [info.filename for info in zf.infolist()]
        counts = Counter(names)
        problems = [_problem(ProblemKind.UNSAFE_NAME, n) for n in sorted(counts) if unsafe_name(n)]
        problems += [
            _problem(ProblemKind.DUPLICATE_NAME, n, c) for n, c in sorted(counts.items()) if c > 1
        ]
        if MANIFEST_NAME not in counts:
            return BundleCheck(path, (*problems, _problem(ProblemKind.MANIFEST_MISSING, None)), 0)
        doc, bad = _manifest(zf)
        if doc is None or bad is not None:
            return BundleCheck(path, (*problems, *([bad] if bad else [])), 0)
        listed: dict[str, str] = doc["files"]
        checked = 0
        for name, expected in sorted(listed.items()):
            if unsafe_name(name) and name not in counts:
                problems.append(_problem(ProblemKind.UNSAFE_NAME, name))
            if name not in counts:
                problems.append(_problem(ProblemKind.MISSING_FILE, name))
                continue
            try:
                actual = _member_sha256(zf, name)
            except _READ_ERRORS as exc:
                problems.append(_problem(ProblemKind.DAMAGED_FILE, name, exc))
                continue
            if actual != expected:
                problems.append(_problem(ProblemKind.CHECKSUM_MISMATCH, name))
            else:
                checked += 1
        for name in sorted(set(counts) - set(listed) - {MANIFEST_NAME}):
            problems.append(_problem(ProblemKind.EXTRA_FILE, name))
    raw = doc.get("lot")
    lot: dict[str, Any] = raw if isinstance(raw, dict) else {}
    lot_id = lot.get("id") if isinstance(lot.get("id"), int) else None
    reference = lot.get("reference") if isinstance(lot.get("reference"), str) else None
    return BundleCheck(path, tuple(problems), checked, lot_id, reference)
