"""What a plot's verdict depends on, as one hash: re-check a plot only when this changes.

The verdict of a plot version depends on the cut-off, the verdict policy, the datasets' ids,
versions and encodings, and the content of the tiles under the plot. A new Hansen version, a new
weekly alert tile over the plot, or a changed threshold gives a new fingerprint; a new alert tile
elsewhere does not. The same walk over the tiles under the plots lists the files a verdict was
computed from (`tile_files`, for a bundle built from stored results).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from eudr_check.datasets.sources import DataSources, TileLocation
from eudr_check.engine.plan import PlotTask
from eudr_check.engine.record import FileRecord
from eudr_check.fileio import sha256_file_cached
from eudr_check.spatial import Bounds

TileKey = tuple[str, str, str]  # dataset, layer, tile


def _tiles(task: PlotTask, sources: DataSources) -> Iterator[tuple[TileKey, TileLocation]]:
    if task.shape is None:
        return
    for d, where in sources.tiles_under(Bounds.of(task.shape.bounds)):
        yield (d.id, where.layer, where.tile), where


def _state(where: TileLocation) -> str:
    if where.remote:
        return f"remote:{where.path}"  # remote content is not hashed (that would be a download)
    p = where.local_file or Path(where.path)  # a file inside a zip: the archive's content
    return sha256_file_cached(p) if where.exists() and p.is_file() else "missing"


def _vector_state(path: Path) -> str:
    return sha256_file_cached(path) if path.is_file() else "missing"


def fingerprints(tasks: Sequence[PlotTask], sources: DataSources) -> list[str]:
    """One fingerprint per task, in order."""
    catalog = sources.catalog
    base = {
        "cutoff": catalog.cutoff_date.isoformat(),
        "policy": catalog.verdict.model_dump(),
        "indicators": catalog.indicators.model_dump(),
        "datasets": [
            {"id": d.id, "version": d.version, "encoding": d.encoding, "optional": d.optional}
            for d in catalog.enabled
        ],
    }
    if catalog.enabled_vectors:  # a new download of a layer re-checks every plot
        base["vector_layers"] = [
            {"id": v.id, "version": v.version, "fields": v.fields.model_dump(),
             "strict": list(v.strict_categories), "skip": list(v.skip_categories),
             "file": _vector_state(v.path(sources.data_dir))}
            for v in catalog.enabled_vectors
        ]  # fmt: skip
    states: dict[TileKey, str] = {}
    out = []
    for task in tasks:
        tiles: dict[str, str] = {}
        for key, where in _tiles(task, sources):
            if key not in states:
                states[key] = _state(where)
            tiles["/".join(key)] = states[key]
        doc = {**base, "tiles": dict(sorted(tiles.items())), "errors": list(task.geometry_errors)}
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        out.append(hashlib.sha256(text.encode()).hexdigest())
    return out


def tile_files(tasks: Sequence[PlotTask], sources: DataSources) -> tuple[FileRecord, ...]:
    """The raster files under the plots, with their SHA-256 (None when remote): the files the
    fingerprints cover, hence those the stored verdicts were computed from."""
    found: dict[TileKey, FileRecord] = {}
    for task in tasks:
        for key, where in _tiles(task, sources):
            if key not in found and where.exists():
                sha = None if where.remote else sha256_file_cached(where.path)
                found[key] = FileRecord(key[0], key[1], key[2], Path(where.path).name, sha)
    return tuple(found[k] for k in sorted(found))
