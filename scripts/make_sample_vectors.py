"""Generate the synthetic vector layers in sample_data/ (deterministic): a protected area, a
buffer zone and a native community placed over three plots of the fictional sample cooperative,
in the shape of the real layers (GeoJSON as SERNANP's ArcGIS REST service returns it, with the
attribute names config/datasets.yaml maps). Every feature says it is synthetic.

Run with `.venv/bin/python scripts/make_sample_vectors.py`; the same input gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parents[1]
PLOTS = ROOT / "sample_plots" / "cooperativa.geojson"
OUT = ROOT / "sample_data"
NOTE = "SINTÉTICO / SYNTHETIC: not SERNANP data; invented for the sample cooperative"
# plot id -> (file, attributes): each polygon is the plot's box widened by 0.004° (~440 m).
LAYERS = {
    "sernanp/sernanp_anp_nacional_2025.geojson": [
        ("JAE-019", {"anp_nomb": "Parque Nacional de Muestra (sintético)",
                     "anp_cate": "Parque Nacional"}),
    ],
    "sernanp/sernanp_zonas_amortiguamiento_2025.geojson": [
        ("JAE-025", {"anp_nomb": "Zona de amortiguamiento de Muestra (sintético)",
                     "anp_cate": "Zona de Amortiguamiento"}),
    ],
    "comunidades/comunidades_nativas_2025.geojson": [
        ("LCV-013", {"nomb_cn": "Comunidad Nativa de Muestra (sintético)",
                     "tipo": "Comunidad Nativa titulada"}),
    ],
}  # fmt: skip


def main() -> None:
    plots = {
        f["properties"]["plot_id"]: shape(f["geometry"])
        for f in json.loads(PLOTS.read_text(encoding="utf-8"))["features"]
        if f["geometry"]
    }
    for name, items in LAYERS.items():
        features = []
        for i, (plot_id, attributes) in enumerate(items, start=1):
            w, s, e, n = plots[plot_id].bounds
            box = shapely.box(w - 0.004, s - 0.004, e + 0.004, n + 0.004)
            geom = mapping(shapely.set_precision(box, 1e-6))
            props = {"OBJECTID": i, **attributes, "nota": NOTE}
            features.append({"type": "Feature", "id": i, "properties": props, "geometry": geom})
        target = OUT / name
        target.parent.mkdir(parents=True, exist_ok=True)
        doc = {"type": "FeatureCollection", "features": features}
        target.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for folder in {Path(n).parent for n in LAYERS}:
        (OUT / folder / "README.md").write_text(README, encoding="utf-8")


README = """# Capas vectoriales de ejemplo / Sample vector layers

> **DATOS SINTÉTICOS: NO son datos de SERNANP, MINAM ni de comunidades reales.**
> Un área protegida, una zona de amortiguamiento y una comunidad nativa inventadas sobre tres
> parcelas de la cooperativa ficticia de `sample_plots/` (JAE-019, JAE-025, LCV-013).
>
> **SYNTHETIC DATA: NOT SERNANP, MINAM or real community data.** A protected area, a buffer
> zone and a native community invented over three plots of the fictional cooperative.

Written by `scripts/make_sample_vectors.py` as GeoJSON in the shape SERNANP's ArcGIS REST
service returns (`query?f=geojson`), with the attribute names `config/datasets.yaml` maps.
Replace them with the real layers: `eudr-check datasets download --dataset <id>` (for the
layers whose `source` is set) or the producers' own files under the same names.
"""


if __name__ == "__main__":
    main()
