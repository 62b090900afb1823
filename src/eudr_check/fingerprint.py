"""What a plot's verdict depends on, as one hash: re-check a plot only when this changes.

The verdict of a plot version depends on the cut-off, the verdict policy, the datasets' ids,
versions and encodings, and the content of the tiles under the plot. A new Hansen version, a new
weekly alert tile over the plot, or a changed threshold gives a new fingerprint; a new alert tile
elsewhere does not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from eudr_check.datasets.catalog import Catalog
from eudr_check.datasets.sources import locate
from eudr_check.datasets.tiles import tiles_for_bounds
from eudr_check.pipeline import PlotTask, sha256_of


def _tile_state(path: str, remote: bool) -> str:
    if remote:
        return f"remote:{path}"  # content of remote files is not hashed (would mean a download)
    p = Path(path)
    return sha256_of(p) if p.is_file() else "missing"


def fingerprints(tasks: Sequence[PlotTask], catalog: Catalog, data_dir: Path) -> list[str]:
    """One fingerprint per task, in order."""
    base = {
        "cutoff": catalog.cutoff_date.isoformat(),
        "policy": catalog.verdict.model_dump(),
        "datasets": [
            {"id": d.id, "version": d.version, "encoding": d.encoding, "optional": d.optional}
            for d in catalog.enabled
        ],
    }
    states: dict[tuple[str, str, str], str] = {}
    out = []
    for task in tasks:
        tiles: dict[str, str] = {}
        if task.shape is not None:
            bounds = tuple(task.shape.bounds)
            for d in catalog.enabled:
                for tile in tiles_for_bounds(d.tiles, bounds):
                    for layer in d.layers:
                        key = (d.id, layer, tile)
                        if key not in states:
                            where = locate(d, layer, tile, data_dir)
                            states[key] = _tile_state(where.path, where.remote)
                        tiles["/".join(key)] = states[key]
        doc = {**base, "tiles": dict(sorted(tiles.items())), "errors": list(task.geometry_errors)}
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        out.append(hashlib.sha256(text.encode()).hexdigest())
    return out
