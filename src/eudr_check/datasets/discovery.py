"""Which versions of each dataset are in the data folder, by the product's own file names.

A folder holding `Hansen_GFC-2023-v1.11_lossyear_20N_080W.tif` has Hansen GFC-2023-v1.11 for
tile 20N_080W, whatever version the catalog names. When the catalog's version is absent and
another is present, the newest present one is used (unless pinned or strict), and the change is
recorded on the dataset (`catalog_version`) so every report and manifest says so.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

from eudr_check.datasets.catalog import Catalog, Dataset
from eudr_check.datasets.sources import locate
from eudr_check.datasets.tiles import TILE_PATTERNS
from eudr_check.errors import ConfigError
from eudr_check.i18n import Text

_TILE, _VERSION = "\x00", "\x01"  # stand for {tile} and {version} in templates


@dataclass(frozen=True, slots=True)
class VersionChoice:
    """What the catalog asked for, what the folder has, and what the run uses."""

    dataset_id: str
    catalog_version: str
    used_version: str
    present: tuple[str, ...]  # versions found, newest first

    @property
    def changed(self) -> bool:
        return self.used_version != self.catalog_version


def version_key(version: str) -> tuple[tuple[int, object], ...]:
    """Natural order: GFC-2023-v1.11 < GFC-2024-v1.12 < GFC-2025-v1.13; v1_2023 < v1_2024."""
    parts = re.split(r"(\d+)", version)
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in parts if p)


def _layer_versions(dataset: Dataset, layer: str, data_dir: Path) -> dict[str, set[str]] | None:
    """version -> tiles of one layer in the folder; None for a layer whose names carry no
    version (it then says nothing about which version is there)."""
    probe = dataset.model_copy(update={"version": _VERSION})
    where = locate(probe, layer, _TILE, data_dir)
    if where.remote or _TILE not in where.path:
        return {}
    template = where.path
    if _VERSION not in template:
        return None
    # `*` in a file name is a part the producer varies per tile (TMF: SAM_ID28).
    pattern = glob.escape(template).replace("[*]", "*").replace(_TILE, "*").replace(_VERSION, "*")
    regex = re.escape(template).replace(re.escape("*"), "[A-Za-z0-9_]+")
    regex = regex.replace(re.escape(_VERSION), "(?P<version>[^/]+?)", 1)
    regex = regex.replace(re.escape(_VERSION), "(?P=version)")
    regex = regex.replace(re.escape(_TILE), f"(?P<tile>{TILE_PATTERNS[dataset.tiles]})", 1)
    regex = regex.replace(re.escape(_TILE), "(?P=tile)")
    found: dict[str, set[str]] = {}
    compiled = re.compile(regex)
    for hit in glob.glob(pattern):  # noqa: PTH207 (the wildcards may be in folder names)
        match = compiled.fullmatch(hit)
        if match and Path(hit).is_file():
            found.setdefault(match["version"], set()).add(match["tile"])
    return found


def present_versions(dataset: Dataset, data_dir: Path) -> dict[str, set[str]]:
    """version -> tiles for which every layer of the dataset is present in the folder."""
    result: dict[str, set[str]] | None = None
    for layer in dataset.layers:
        found = _layer_versions(dataset, layer, data_dir)
        if found is None:
            continue
        if result is None:
            result = found
        else:
            result = {v: result[v] & t for v, t in found.items() if v in result}
    return {v: t for v, t in (result or {}).items() if t}


_STRICT = Text(
    "{dataset}: la versión {version} del catálogo no está en {folder}; hay {found}. Use "
    "--dataset-version {dataset}={newest}, o descargue {version}.",
    "{dataset}: the catalog's version {version} is not in {folder}; found {found}. Use "
    "--dataset-version {dataset}={newest}, or download {version}.",
)


def resolve_versions(
    catalog: Catalog, data_dir: Path, *, pinned: frozenset[str] = frozenset(),
    strict: bool = False,
) -> tuple[Catalog, list[VersionChoice]]:  # fmt: skip
    """The catalog with each enabled local dataset's version set to what the folder holds.

    Pinned datasets (--dataset-version) and those whose catalog version is present keep it; a
    dataset with no version present keeps it too (the preflight says what to download).
    `strict` refuses a substitution with a ConfigError instead.
    """
    choices: list[VersionChoice] = []
    versions: dict[str, str] = {}
    for d in catalog.enabled:
        present = present_versions(d, data_dir)
        ordered = tuple(sorted(present, key=version_key, reverse=True))
        used = d.version
        if d.id not in pinned and ordered and d.version not in present:
            if strict:
                raise ConfigError(_STRICT.format(dataset=d.id, version=d.version,
                                                 folder=str(data_dir), found=", ".join(ordered),
                                                 newest=ordered[0]))  # fmt: skip
            used = ordered[0]
            versions[d.id] = used
        choices.append(VersionChoice(d.id, d.version, used, ordered))
    if not versions:
        return catalog, choices
    datasets = [
        d.model_copy(update={"version": versions[d.id], "catalog_version": d.version})
        if d.id in versions else d
        for d in catalog.datasets
    ]  # fmt: skip
    return catalog.model_copy(update={"datasets": datasets}), choices
