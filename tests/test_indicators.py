"""Whisp-compatible indicators and risk (issue 14): hand-computable encodings and the decision
tree, and the verdict policy that lets a pre-2021 disturbance or a 2020 commodity explain
"forest in 2020, no loss since"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from eudr_check.analysis import analyse_group
from eudr_check.datasets.catalog import IndicatorPolicy, VerdictPolicy, load_catalog
from eudr_check.indicators import Risk, indicators
from eudr_check.models import DatasetStats
from eudr_check.reasons import Reason, Verdict, reason_message
from eudr_check.verdict import decide
from tests.rasters import HANSEN_PX, only_hansen, write_layer

POLICY = IndicatorPolicy()


def _s(dataset: str, area: float = 10.0, **kw: object) -> DatasetStats:
    return DatasetStats(dataset, "v", area, 0.0, **kw)  # type: ignore[arg-type]


def test_the_hansen_loss_before_the_cutoff_is_every_loss_year_up_to_2020(tmp_path: Path) -> None:
    """A 4x4-pixel plot: lossyear 5 (2005) on 4 pixels, 20 (2020) on 2, 21 (2021) on 2, the rest
    0; cover 50 % everywhere. Before the cut-off: 6 of 16 pixels, after: 2 of 16."""
    catalog = only_hansen(load_catalog())
    west, north = -78.8, -5.7
    cover = np.full((8, 8), 50, np.uint8)
    loss = np.zeros((8, 8), np.uint8)
    loss[0, 0:4] = 5
    loss[1, 0:2] = 20
    loss[1, 2:4] = 21
    write_layer(catalog, tmp_path, "hansen_gfc", "treecover2000", "00N_080W", cover, west, north)
    write_layer(catalog, tmp_path, "hansen_gfc", "lossyear", "00N_080W", loss, west, north)
    plot = shapely.box(west, north - 4 * HANSEN_PX, west + 4 * HANSEN_PX, north)
    (stats,) = analyse_group([plot], catalog, tmp_path).stats
    (s,) = stats
    assert s.loss_before_cutoff_ha == pytest.approx(s.plot_area_ha * 6 / 16, rel=1e-3)
    assert s.loss_after_cutoff_ha == pytest.approx(s.plot_area_ha * 2 / 16, rel=1e-3)
    found = indicators(stats, POLICY)
    assert [i.value for i in found.items] == ["yes", "no", "yes", "yes"]
    assert found.risk_pcrop is Risk.LOW  # disturbed before 2020: Whisp's low


@pytest.mark.parametrize(
    ("stats", "values", "risk"),
    [
        # no tree cover in 2020: low
        ([_s("jrc", forest_2020_ha=1.0, loss_after_cutoff_ha=0.0)], "no no no no", Risk.LOW),
        # exactly 10 % is not "over 10 %"
        ([_s("jrc", forest_2020_ha=1.0)], "no no no no", Risk.LOW),
        ([_s("jrc", forest_2020_ha=5.0, loss_after_cutoff_ha=0.0)], "yes no no no",
         Risk.MORE_INFO_NEEDED),
        ([_s("jrc", forest_2020_ha=5.0, loss_after_cutoff_ha=2.0)], "yes no no yes", Risk.HIGH),
        ([_s("jrc", forest_2020_ha=5.0), _s("hansen", forest_2020_ha=5.0, loss_before_cutoff_ha=2.0,
          loss_after_cutoff_ha=2.0)], "yes no yes yes", Risk.LOW),
        ([_s("jrc", forest_2020_ha=5.0), _s("tmf", commodity_2020_ha=3.0)], "yes yes no no",
         Risk.LOW),
        # alerts count as disturbance after 2020
        ([_s("jrc", forest_2020_ha=5.0), _s("gfw", alert_count=2, alert_area_ha=1.5)],
         "yes no no yes", Risk.HIGH),
        # a dataset that could not be read might have shown any of them: unknown (what another
        # dataset shows stays yes), and the risk is never "low" on missing data
        ([_s("jrc", forest_2020_ha=5.0), _s("hansen", error="tile unreadable")],
         "yes unknown unknown unknown", Risk.UNDETERMINED),
    ],
)  # fmt: skip
def test_indicators_and_the_risk_tree(stats: list[DatasetStats], values: str, risk: Risk) -> None:
    found = indicators(stats, POLICY)
    assert " ".join(i.value for i in found.items) == values
    assert found.risk_pcrop is risk


def test_an_optional_dataset_missing_is_no_gap() -> None:
    """As in the verdict policy: alert tiles not downloaded leave the indicators measured."""
    stats = [_s("jrc", forest_2020_ha=5.0, loss_after_cutoff_ha=0.0),
             _s("gfw", missing_tiles=("00N_080W",))]  # fmt: skip
    assert indicators(stats, POLICY).risk_pcrop is Risk.UNDETERMINED
    found = indicators(stats, POLICY, optional={"gfw"})
    assert [i.value for i in found.items] == ["yes", "no", "no", "no"]
    assert found.risk_pcrop is Risk.MORE_INFO_NEEDED


def test_for_a_point_any_value_counts() -> None:
    stats = [_s("jrc", area=4.0, forest_2020_ha=0.01, loss_after_cutoff_ha=0.001)]
    assert indicators(stats, POLICY).items[0].value == "no"
    point = indicators(stats, POLICY, buffered_point=True)
    assert [i.value for i in point.items] == ["yes", "no", "no", "yes"]


def test_a_disturbance_before_2021_explains_forest_in_2020_and_names_the_map() -> None:
    jrc = _s("jrc_gfc2020", forest_2020_ha=6.0, loss_after_cutoff_ha=0.0)
    hansen = _s("hansen_gfc", forest_2020_ha=0.0, loss_after_cutoff_ha=0.0,
                loss_before_cutoff_ha=3.0)  # fmt: skip
    verdict, reasons = decide([jrc, hansen], VerdictPolicy(), indicators=POLICY)
    assert verdict is Verdict.DEFORESTATION_FREE
    (r,) = reasons
    assert r.code is Reason.FOREST_2020_EXPLAINED and r.dataset_id == "jrc_gfc2020"
    text = reason_message(r, "en")
    assert "hansen_gfc shows loss before 2021 on 30.0 %" in text
    # Below the threshold, or with the policy off: still a review.
    small = _s("hansen_gfc", forest_2020_ha=0.0, loss_after_cutoff_ha=0.0,
               loss_before_cutoff_ha=0.5)  # fmt: skip
    assert decide([jrc, small], VerdictPolicy(), indicators=POLICY)[0] is Verdict.NEEDS_REVIEW
    off = IndicatorPolicy(explain_forest=False)
    assert decide([jrc, hansen], VerdictPolicy(), indicators=off)[0] is Verdict.NEEDS_REVIEW
    # A commodity map of 2020 does the same.
    tmf = _s("jrc_tmf", commodity_2020_ha=4.0)
    verdict, (r,) = decide([jrc, tmf], VerdictPolicy(), indicators=POLICY)
    assert verdict is Verdict.DEFORESTATION_FREE and "commodity or plantation" in reason_message(
        r, "en"
    )


def _tmf_catalog() -> object:
    catalog = load_catalog()
    datasets = [d.model_copy(update={"enabled": d.id in ("hansen_gfc", "jrc_tmf")})
                for d in catalog.datasets]  # fmt: skip
    return catalog.model_copy(update={"datasets": datasets, "vector_layers": []})


def test_tmf_encodings_by_hand(tmp_path: Path) -> None:
    """A 4x4-pixel plot on TMF's grid, in TMF's names (the region/ID part matched by `*`):
    deforestation in 2015 on 2 pixels and 2022 on 1, degradation in 2019 on 1; transition
    class 82 (plantation) on 4 pixels of which 1 deforested in 2022, 10 (undisturbed) elsewhere.
    Disturbed before 2021: 3/16; after: 1/16; plantation in 2020: 3/16."""
    catalog = _tmf_catalog()
    tmf = catalog.get("jrc_tmf")  # type: ignore[attr-defined]
    west, north = -78.8, -5.7
    dy = np.zeros((8, 8), np.int16)
    dy[0, 0:2] = 2015
    dy[0, 2] = 2022
    dg = np.zeros((8, 8), np.int16)
    dg[1, 0] = 2019
    tr = np.full((8, 8), 10, np.uint8)
    tr[0, 2:4] = 82
    tr[2, 0:2] = 82
    folder = tmp_path / "jrc_tmf"
    folder.mkdir()
    import rasterio
    from affine import Affine

    for layer, values in (("deforestation_year", dy), ("degradation_year", dg), ("transition", tr)):
        name = (
            tmf.layers[layer]
            .file.format(version=tmf.version, tile="N0_W80")
            .replace("*", "SAM_ID28")
        )
        grid = Affine(HANSEN_PX, 0, west, 0, -HANSEN_PX, north)
        profile = {"driver": "GTiff", "height": 8, "width": 8, "count": 1,
                   "dtype": values.dtype.name, "crs": "EPSG:4326", "transform": grid}  # fmt: skip
        with rasterio.open(folder / name, "w", **profile) as dst:
            dst.write(values, 1)
    only_tmf = catalog.model_copy(update={"datasets": [tmf]})  # type: ignore[attr-defined]
    plot = shapely.box(west, north - 4 * HANSEN_PX, west + 4 * HANSEN_PX, north)
    ((s,),) = analyse_group([plot], only_tmf, tmp_path).stats
    assert s.missing_tiles == () and s.error is None, s
    assert s.loss_before_cutoff_ha == pytest.approx(s.plot_area_ha * 3 / 16, rel=1e-3)
    assert s.loss_after_cutoff_ha == pytest.approx(s.plot_area_ha * 1 / 16, rel=1e-3)
    assert s.commodity_2020_ha == pytest.approx(s.plot_area_ha * 3 / 16, rel=1e-3)
    assert dict(s.loss_by_year) == pytest.approx({2022: s.plot_area_ha / 16}, rel=1e-3)
    assert s.forest_2020_ha is None  # TMF does not answer "forest in 2020" here


def test_the_sample_tmf_plantations_explain_forest_in_2020() -> None:
    """Enabling the (synthetic) sample TMF tiles: the plantation plots and the plots degraded
    in 2016 have their forest in 2020 explained and turn free, the map named."""
    from eudr_check.engine import DataSources, check_report
    from eudr_check.intake import read_plots
    from eudr_check.rules import validate

    root = Path(__file__).resolve().parents[1]
    report = validate(read_plots(root / "sample_plots" / "cooperativa.geojson"), fix=True)
    catalog = load_catalog()
    on = [d.model_copy(update={"enabled": True}) if d.id == "jrc_tmf" else d
          for d in catalog.datasets]  # fmt: skip
    catalog = catalog.model_copy(update={"datasets": on})
    run = check_report(report, DataSources(catalog, root / "sample_data"))
    by_id = {r.plot_id: r for r in run.results}
    for pid, why in (("JAE-006", "commodity_2020"), ("JAE-017", "commodity_2020"),
                     ("JAE-020", "commodity_2020"), ("SIG-006", "disturbed_before")):  # fmt: skip
        r = by_id[pid]
        assert r.verdict is Verdict.DEFORESTATION_FREE, (pid, r.reasons)
        explained = [x for x in r.reasons if x.code is Reason.FOREST_2020_EXPLAINED]
        assert explained and dict(explained[0].params)["map"] == "jrc_tmf"
        assert dict(explained[0].params)["why"] == why
