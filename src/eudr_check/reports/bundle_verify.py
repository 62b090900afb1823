"""Check a compliance bundle years later: every file listed in its manifest, unchanged, and
nothing else in the zip; each evidence file is the one its name's SHA-256 says, every review
cites evidence the manifest lists, and a "negligible" conclusion rests on the verdicts and
current accepting reviews the manifest itself records.

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
BUNDLE_FORMAT = "eudr-check-bundle/2"  # /2: risk mitigation (issue 13); /1 still verifies
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
    EVIDENCE_MISMATCH = "evidence_mismatch"
    REVIEW_EVIDENCE_UNLISTED = "review_evidence_unlisted"
    CONCLUSION_UNSUPPORTED = "conclusion_unsupported"


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
    ProblemKind.EVIDENCE_MISMATCH: Text(
        "{name}: el contenido no es el archivo de evidencia que su nombre (SHA-256) indica.",
        "{name}: the content is not the evidence file its name (SHA-256) says.",
    ),
    ProblemKind.REVIEW_EVIDENCE_UNLISTED: Text(
        "La revisión {detail} de la parcela {name} cita una evidencia que el manifiesto no lista.",
        "Review {detail} of plot {name} cites evidence the manifest does not list.",
    ),
    ProblemKind.CONCLUSION_UNSUPPORTED: Text(
        "El manifiesto declara riesgo insignificante, pero la parcela {name} no está libre de "
        "deforestación ni aceptada por una revisión vigente que el manifiesto registre.",
        "The manifest states negligible risk, but plot {name} is neither deforestation-free "
        "nor accepted by a current review the manifest records.",
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


_EVIDENCE_NAME = re.compile(r"evidence/([0-9a-f]{64})\.(jpg|png|pdf)")


def _evidence_problems(
    zf: zipfile.ZipFile, counts: Counter[str], doc: dict[str, Any]
) -> list[BundleProblem]:
    """Evidence members are named by their own SHA-256: a swapped file with an edited
    manifest still shows."""
    out = []
    for name in sorted(n for n in counts if n.startswith("evidence/")):
        named = _EVIDENCE_NAME.fullmatch(name)
        try:
            ok = named is not None and _member_sha256(zf, name) == named.group(1)
        except _READ_ERRORS:
            continue  # reported as damaged above when listed, as extra when not
        if not ok:
            out.append(_problem(ProblemKind.EVIDENCE_MISMATCH, name))
    return out


def _mitigation_problems(doc: dict[str, Any]) -> list[BundleProblem]:
    """The manifest's own risk-mitigation record holds together (bundles before format /2
    have none: nothing to check)."""
    reviews = doc.get("reviews")
    if not isinstance(reviews, list):
        return []
    out = []
    listed = {e.get("sha256") for e in doc.get("evidence") or [] if isinstance(e, dict)}
    for r in reviews:
        if isinstance(r, dict) and any(h not in listed for h in r.get("evidence") or []):
            out.append(_problem(ProblemKind.REVIEW_EVIDENCE_UNLISTED, str(r.get("plot_id")),
                                r.get("id")))  # fmt: skip
    conclusion = doc.get("conclusion")
    if not isinstance(conclusion, dict) or conclusion.get("conclusion") != "negligible":
        return out
    decided: dict[int, dict[str, Any]] = {}  # version id -> its newest decision in the manifest
    for r in reviews:
        if isinstance(r, dict) and r.get("action") in ("accepted", "excluded"):
            v = r.get("version_id")
            if isinstance(v, int) and (
                v not in decided or r.get("id", 0) > decided[v].get("id", 0)
            ):
                decided[v] = r
    for res in doc.get("results") or []:
        if not isinstance(res, dict) or res.get("verdict") == "deforestation_free":
            continue
        d = decided.get(res.get("version_id"))  # type: ignore[arg-type]
        # Judged on this result, or on one that said the same about the plot (its key).
        same = d is not None and (
            d.get("fingerprint") == res.get("fingerprint")
            or (res.get("result_key") is not None and d.get("result_key") == res.get("result_key"))
        )
        if d is None or d.get("action") != "accepted" or not same:
            out.append(_problem(ProblemKind.CONCLUSION_UNSUPPORTED, str(res.get("plot_id"))))
    return out


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
        problems += _evidence_problems(zf, counts, doc)
    problems += _mitigation_problems(doc)
    raw = doc.get("lot")
    lot: dict[str, Any] = raw if isinstance(raw, dict) else {}
    lot_id = lot.get("id") if isinstance(lot.get("id"), int) else None
    reference = lot.get("reference") if isinstance(lot.get("reference"), str) else None
    return BundleCheck(path, tuple(problems), checked, lot_id, reference)
