"""Vector layers from an ArcGIS REST feature layer (SERNANP, MINAM's geoservidor publish Peru's
protected areas, buffer zones and production forests this way): paged `query?f=geojson` into
one GeoJSON file in the data folder.

The layer's own description (`?f=json`) gives its page size (maxRecordCount), its object-id
field and whether it pages with resultOffset; servers that do not are read by object ids in
batches instead. Pages are ordered by object id, so no feature is skipped or repeated between
pages. ArcGIS reports errors with HTTP 200 and an `error` object: those are failures too. The
file is written only once every page is in (never a half layer under the real name), with a
`<file>.source.json` saying where from, when, how many features and its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eudr_check import __version__
from eudr_check.datasets.catalog import VectorDataset
from eudr_check.errors import DownloadError
from eudr_check.fileio import write_text

USER_AGENT = f"eudr-check/{__version__} (Python urllib; protected-area layers)"
_DEFAULT_PAGE = 1000
_MAX_PAGES = 10_000  # a server that never stops paging is a server bug, not a big layer


@dataclass(frozen=True, slots=True)
class VectorDownload:
    dataset_id: str
    path: Path
    features: int
    pages: int
    sha256: str


def _get(url: str, timeout: float, what: str) -> dict[str, Any]:
    req = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
    except urllib.error.HTTPError as exc:
        raise DownloadError(url, what, f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(url, what, str(getattr(exc, "reason", exc))) from None
    try:
        doc = json.loads(body)
    except ValueError:
        raise DownloadError(url, what, "the answer is not JSON") from None
    if not isinstance(doc, dict):
        raise DownloadError(url, what, "the answer is not a JSON object")
    if "error" in doc:  # ArcGIS: HTTP 200 with {"error": {"code", "message", "details"}}
        err = doc["error"] if isinstance(doc["error"], dict) else {}
        detail = "; ".join(str(d) for d in err.get("details") or [])
        raise DownloadError(url, what, f"ArcGIS error {err.get('code')}: {err.get('message')}"
                                       + (f" ({detail})" if detail else ""))  # fmt: skip
    return doc


def _query(base: str, **params: object) -> str:
    fixed = {"where": "1=1", "outFields": "*", "outSR": "4326", "f": "geojson"}
    return f"{base}/query?" + urllib.parse.urlencode({**fixed, **params})


def download_layer(
    vd: VectorDataset, data_dir: Path, *, timeout: float = 60.0, page_size: int | None = None
) -> VectorDownload:
    """Every feature of the catalog's ArcGIS layer (`source`) into `file`, as GeoJSON."""
    if not vd.source:
        raise DownloadError("", vd.id, "the catalog gives no source URL for this layer")
    base = vd.source.rstrip("/")
    info = _get(f"{base}?f=json", timeout, vd.id)
    size = page_size or int(info.get("maxRecordCount") or _DEFAULT_PAGE)
    oid = str(info.get("objectIdField") or next(
        (f["name"] for f in info.get("fields") or [] if f.get("type") == "esriFieldTypeOID"),
        "OBJECTID"))  # fmt: skip
    paging = bool((info.get("advancedQueryCapabilities") or {}).get("supportsPagination"))
    features: list[dict[str, Any]] = []
    pages = 0
    if paging:
        while True:
            page = _get(_query(base, orderByFields=oid, resultOffset=len(features),
                               resultRecordCount=size), timeout, vd.id)  # fmt: skip
            got = page.get("features") or []
            features.extend(got)
            pages += 1
            more = page.get("exceededTransferLimit") or (page.get("properties") or {}).get(
                "exceededTransferLimit"
            )
            if not got or (not more and len(got) < size) or pages >= _MAX_PAGES:
                break
    else:  # no resultOffset: the ids first, then the features in batches of ids
        ids_doc = _get(_query(base, returnIdsOnly="true", f="json"), timeout, vd.id)
        ids = sorted(int(i) for i in ids_doc.get("objectIds") or [])
        for start in range(0, len(ids), size):
            chunk = ",".join(str(i) for i in ids[start : start + size])
            page = _get(_query(base, objectIds=chunk), timeout, vd.id)
            features.extend(page.get("features") or [])
            pages += 1
    target = vd.path(data_dir)
    text = json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, separators=(",", ":"))  # fmt: skip
    write_text(target, text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    note = {"dataset": vd.id, "version": vd.version, "source": vd.source, "features": len(features),
            "pages": pages, "sha256": digest,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}  # fmt: skip
    write_text(target.with_name(target.name + ".source.json"), json.dumps(note, indent=2) + "\n")
    return VectorDownload(vd.id, target, len(features), pages, digest)
