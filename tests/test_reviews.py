"""Risk mitigation: reviews bound to a plot version and result, evidence with EXIF, plots taken
out of lots, the lot's conclusion and the country benchmark.

The registry holds the bundled sample cooperative checked once against the bundled sample
rasters (as in test_bundle); each test that changes it works on a copy.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eudr_check.country_risk import RiskLevel, benchmark, country_risk
from eudr_check.datasets.catalog import load_catalog
from eudr_check.engine import DataSources, RegisteredPlots, RegistrySink, run_check
from eudr_check.errors import ReviewError, StoreError
from eudr_check.evidence import EvidenceKind, distance_m, sniff
from eudr_check.intake import read_plots
from eudr_check.reasons import Verdict
from eudr_check.reviews import (
    Action,
    Blocker,
    Conclusion,
    Imagery,
    ReasonCode,
    ReviewState,
    parse_reasons,
)
from eudr_check.rules import validate
from eudr_check.store.registry import Registry
from eudr_check.store.reviews import EvidenceInfo
from tests.photos import jpeg

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_plots" / "cooperativa.geojson"
DATA = ROOT / "sample_data"
AGRO = [ReasonCode.AGROFORESTRY_BEFORE_2021]


@dataclass(frozen=True)
class World:
    url: str
    coop: int
    exporter: int
    other_exporter: int
    lot: int
    keys: dict[str, int]  # plot id -> plot key
    verdicts: dict[str, str]  # plot id -> verdict
    lot_plots: tuple[str, ...]


def _register(reg: Registry, org: int, path: Path) -> None:
    report = validate(read_plots(path), fix=True)
    reg.register_upload(org, report, path.name, hashlib.sha256(path.read_bytes()).hexdigest())


def _check(reg: Registry, versions: list[int]) -> None:
    run_check(RegisteredPlots(reg, versions), DataSources(load_catalog(), DATA),
              sinks=[RegistrySink(reg)])  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("reviews")
    url = f"sqlite:///{folder / 'registry.db'}"
    with Registry.open(url) as reg:
        coop = reg.create_organisation("Cooperativa Sol Andino", "cooperative")
        exporter = reg.create_organisation("Exportadora del Norte", "exporter")
        other = reg.create_organisation("Otra Exportadora", "exporter")
        reg.share(coop, exporter)
        reg.share(coop, other)
        _register(reg, coop, SAMPLE)
        _check(reg, reg.current_versions(coop))
        rows = reg.latest_results(coop)
        verdicts = {r["plot_id"]: r["verdict"] for r in rows}
        refs = {r["plot_id"]: r for r in rows}
        keys = {r["plot_id"]: r["plot_key"] for r in rows}
        free = sorted(p for p, v in verdicts.items() if v == "deforestation_free")[:3]
        doubtful = sorted(p for p, v in verdicts.items() if v == "needs_review")[:2]
        lot_plots = (*free, *doubtful)
        versions = [refs[p]["version_id"] for p in lot_plots]
        lot = reg.create_lot(exporter, "LOTE-R-001", "coffee", "0901", 1000.0, versions)
    return World(url, coop, exporter, other, lot, keys, verdicts, lot_plots)


@pytest.fixture
def reg(world: World, tmp_path: Path) -> Iterator[Registry]:
    src = Path(world.url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal"):
        if Path(f"{src}{suffix}").exists():
            shutil.copy(f"{src}{suffix}", tmp_path / f"registry.db{suffix}")
    with Registry.open(f"sqlite:///{tmp_path / 'registry.db'}") as r:
        yield r


def _doubtful(world: World) -> list[str]:
    return [p for p in world.lot_plots if world.verdicts[p] != "deforestation_free"]


def _decide(reg: Registry, world: World, plot_id: str, action: Action = Action.ACCEPTED,
            org: int | None = None, **kw: object) -> None:  # fmt: skip
    reg.record_review(world.keys[plot_id], action, AGRO, reviewer="ana", role="exporter",
                      organisation_id=org or world.exporter, **kw)  # type: ignore[arg-type]  # fmt: skip


def test_the_lot_is_not_negligible_until_its_last_doubtful_plot_is_accepted(
    reg: Registry, world: World
) -> None:
    first, second = _doubtful(world)
    c = reg.lot_conclusion(world.lot)
    assert c.conclusion is Conclusion.NOT_NEGLIGIBLE
    assert {b.plot_id for b in c.blocking} == {first, second}
    assert {b.blocker for b in c.blocking} == {Blocker.NEEDS_DECISION}
    assert c.free == 3 and c.plots == 5
    _decide(reg, world, first)
    c = reg.lot_conclusion(world.lot)
    assert c.conclusion is Conclusion.NOT_NEGLIGIBLE
    assert [b.plot_id for b in c.blocking] == [second]
    assert "needs_review" in c.blocking[0].text("en")
    _decide(reg, world, second)
    c = reg.lot_conclusion(world.lot)
    assert c.conclusion is Conclusion.NEGLIGIBLE
    assert (c.free, c.accepted, c.blocking) == (3, 2, ())
    assert c.regimes == {"PE": "standard"}
    assert c.to_dict("en")["summary"].startswith("Negligible risk")


def test_a_proposal_changes_nothing_and_an_other_exporters_decision_does_not_count(
    reg: Registry, world: World
) -> None:
    first, second = _doubtful(world)
    reg.record_review(world.keys[first], Action.PROPOSED, AGRO, reviewer="tec", role="technician",
                      organisation_id=world.coop, note="sombra de guaba")  # fmt: skip
    _decide(reg, world, first, org=world.other_exporter)
    _decide(reg, world, second, org=world.other_exporter)
    c = reg.lot_conclusion(world.lot)
    assert {b.plot_id for b in c.blocking} == {first, second}
    state, _ = reg.review_state_of(world.keys[first], [world.exporter])
    assert state is ReviewState.OPEN
    state, decision = reg.review_state_of(world.keys[first], [world.other_exporter])
    assert state is ReviewState.ACCEPTED and decision is not None
    # The owning cooperative's own reviewer counts for every exporter's lot.
    reg.record_review(world.keys[first], Action.ACCEPTED, AGRO, reviewer="qa", role="reviewer",
                      organisation_id=world.coop)  # fmt: skip
    assert [b.plot_id for b in reg.lot_conclusion(world.lot).blocking] == [second]


def test_taking_a_plot_out_of_the_lot_is_recorded_and_ends_its_block(
    reg: Registry, world: World
) -> None:
    first, second = _doubtful(world)
    _decide(reg, world, first)
    _decide(reg, world, second, Action.EXCLUDED)
    c = reg.lot_conclusion(world.lot)
    assert [(b.plot_id, b.blocker) for b in c.blocking] == [(second, Blocker.EXCLUDED_BY_REVIEW)]
    version = next(s.version_id for s in reg.lot_statuses(world.lot) if s.plot_id == second)
    with pytest.raises(ReviewError):
        reg.take_out_of_lot(world.lot, [version], "  ", by="ana")
    assert reg.take_out_of_lot(world.lot, [version], "excluida por revisión", by="ana") == 1
    assert reg.take_out_of_lot(world.lot, [version], "otra vez", by="ana") == 0
    c = reg.lot_conclusion(world.lot)
    assert c.conclusion is Conclusion.NEGLIGIBLE and c.taken_out == (version,)
    info = reg.lot(world.lot)
    assert info is not None and version not in info.version_ids and info.taken_out == (version,)
    [x] = reg.lot_exclusions(world.lot)
    assert (x.plot_id, x.reason, x.excluded_by) == (second, "excluida por revisión", "ana")
    with pytest.raises(ReviewError):  # never an empty lot
        reg.take_out_of_lot(world.lot, list(info.version_ids), "todo", by="ana")
    with pytest.raises(StoreError):
        reg.take_out_of_lot(world.lot, [10**6], "no es del lote", by="ana")


def test_an_accepted_review_is_outdated_by_a_new_geometry(
    reg: Registry, world: World, tmp_path: Path
) -> None:
    first, _ = _doubtful(world)
    key = world.keys[first]
    _decide(reg, world, first, imagery=Imagery("Esri World Imagery", "2020-08-14"))
    assert reg.review_state_of(key, [world.exporter])[0] is ReviewState.ACCEPTED
    [event] = [e for e in reg.review_events([key]) if e.action is Action.ACCEPTED]
    assert event.imagery == Imagery("Esri World Imagery", "2020-08-14")
    assert event.verdict is Verdict.NEEDS_REVIEW
    # The cooperative re-surveys the plot: a new version of its geometry.
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    [feat] = [f for f in doc["features"] if f["properties"]["plot_id"] == first]
    ring = feat["geometry"]["coordinates"][0]
    feat["geometry"]["coordinates"][0] = [[x + 0.0001, y] for x, y in ring]
    doc["features"] = [feat]
    moved = tmp_path / "resurvey.geojson"
    moved.write_text(json.dumps(doc), encoding="utf-8")
    _register(reg, world.coop, moved)
    assert reg.review_state_of(key, [world.exporter])[0] is ReviewState.OUTDATED
    # The lot still holds the old version: blocked until rebuilt or that version taken out.
    c = reg.lot_conclusion(world.lot)
    assert (first, Blocker.NEWER_VERSION) in {(b.plot_id, b.blocker) for b in c.blocking}
    _check(reg, reg.current_versions(world.coop))
    state, _ = reg.review_state_of(key, [world.exporter])
    assert state is ReviewState.OUTDATED  # a decision on the old version judges nothing new


def test_decisions_that_make_no_sense_are_refused(reg: Registry, world: World) -> None:
    free = next(p for p in world.lot_plots if world.verdicts[p] == "deforestation_free")
    first, _ = _doubtful(world)
    with pytest.raises(ReviewError, match="nothing to review"):
        _decide(reg, world, free)
    with pytest.raises(ReviewError, match="at least one reason"):
        reg.record_review(world.keys[first], Action.ACCEPTED, [], reviewer="a", role="exporter",
                          organisation_id=world.exporter)  # fmt: skip
    with pytest.raises(ReviewError, match="needs a note"):
        reg.record_review(world.keys[first], Action.ACCEPTED, [ReasonCode.OTHER], reviewer="a",
                          role="exporter", organisation_id=world.exporter)  # fmt: skip
    with pytest.raises(ReviewError, match="cannot be accepted"):
        cleared = [ReasonCode.CLEARED_AFTER_CUTOFF]
        reg.record_review(world.keys[first], Action.ACCEPTED, cleared, reviewer="a",
                          role="exporter", organisation_id=world.exporter)  # fmt: skip
    with pytest.raises(ReviewError, match="not attached"):
        _decide(reg, world, first, evidence=["0" * 64])
    with pytest.raises(ReviewError, match="unknown reason"):
        parse_reasons(["agroforestry_before_2021", "because"])
    assert parse_reasons(["plot_resurveyed", "", "plot_resurveyed"]) == (
        ReasonCode.PLOT_RESURVEYED,
    )
    assert reg.review_events([world.keys[first]]) == []


# evidence -----------------------------------------------------------------------------------


def test_exif_date_and_position_are_read_from_a_real_jpeg() -> None:
    data = jpeg(-5.70833, -78.80611)
    got = sniff("finca.jpg", data, max_mb=10)
    assert got.media_type == "image/jpeg" and got.size == len(data)
    assert got.sha256 == hashlib.sha256(data).hexdigest()
    assert got.photo is not None
    assert got.photo.taken_at == "2026-11-20T09:15:00"
    assert got.photo.lat == pytest.approx(-5.70833, abs=1e-5)
    assert got.photo.lon == pytest.approx(-78.80611, abs=1e-5)
    bare = sniff("sin_gps.JPEG", jpeg(taken=None), max_mb=10).photo
    assert bare is not None and (bare.taken_at, bare.lat, bare.lon) == (None, None, None)


def test_distance_from_the_plot_on_the_ellipsoid() -> None:
    import shapely

    plot = shapely.box(-78.81, -5.71, -78.80, -5.70)
    assert distance_m(plot, -5.705, -78.805) == 0.0
    # 30 km north of the plot's north edge: 0.2713 degrees of latitude near 5 degrees S.
    far = distance_m(plot, -5.70 + 0.27133, -78.805)
    assert far == pytest.approx(30_000, rel=0.002)
    # 1 degree of longitude at 5.7 S is 110.8 km on WGS84.
    assert distance_m(plot, -5.705, -77.80) == pytest.approx(110_800, rel=0.003)


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("vacío.jpg", b"", "empty_file"),
        ("finca.jpg", b"PK\x03\x04not a photo", "unsupported_evidence"),
        ("finca.jpg", b"%PDF-1.4\n%%EOF\n", "extension_mismatch"),
        ("titulo.pdf", b"%PDF-1.4\n1 0 obj\n", "truncated_file"),
        ("roto.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "unreadable_image"),
        ("grande.pdf", b"%PDF-1.4\n" + b" " * (1024 * 1024) + b"%%EOF\n", "too_large"),
    ],
)
def test_evidence_is_sniffed_and_limited_like_uploads(name: str, data: bytes, code: str) -> None:
    with pytest.raises(ReviewError) as err:
        sniff(name, data, max_mb=1)
    assert err.value.code == code
    assert err.value.message("es").startswith(name) and err.value.message("en").startswith(name)


def test_a_photo_far_from_its_plot_is_stored_with_its_distance(reg: Registry, world: World) -> None:
    first, _ = _doubtful(world)
    key = world.keys[first]
    hist = reg.history(world.coop, first)[-1]
    import shapely

    centre = shapely.from_wkt(hist["geometry_wkt"]).centroid
    near = jpeg(centre.y, centre.x)
    far = jpeg(centre.y + 0.27, centre.x)  # ~30 km north

    def attach(name: str, data: bytes) -> EvidenceInfo:
        return reg.add_evidence(key, world.coop, name, EvidenceKind.PHOTO, sniff(name, data, 10),
                                data, by="tec", role="technician")  # fmt: skip

    a = attach("finca.jpg", near)
    b = attach("lejos.jpg", far)
    again = attach("copia.jpg", near)
    assert a.distance_m is not None and a.distance_m < 5  # inside, or a GPS point plot
    assert b.distance_m is not None and 29_000 < b.distance_m < 31_000
    assert again.sha256 == a.sha256  # stored once, attached twice
    assert reg.evidence_bytes(a.sha256) == near
    assert [e.file_name for e in reg.evidence_list([key])] == [
        "finca.jpg",
        "lejos.jpg",
        "copia.jpg",
    ]
    _decide(reg, world, first, evidence=[a.sha256])
    [event] = reg.review_events([key])
    assert event.evidence == (a.sha256,)


def test_the_country_benchmark_is_shipped_with_its_source() -> None:
    peru = country_risk("pe")
    assert peru is not None and peru.level is RiskLevel.STANDARD and peru.listed
    assert country_risk("RU").level is RiskLevel.HIGH  # type: ignore[union-attr]
    assert country_risk("DE").level is RiskLevel.LOW  # type: ignore[union-attr]
    unknown = country_risk("XK")
    # Not in the shipped lists: standard, the stricter regime, and said so.
    assert unknown is not None and unknown.level is RiskLevel.STANDARD and not unknown.listed
    assert country_risk(None) is None
    assert "2025/1093" in benchmark().source
    assert peru.to_dict("en")["regime"].startswith("standard risk: full due diligence")


# the bundle ---------------------------------------------------------------------------------


def _rezip(src: Path, dst: Path, change: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, change.get(info.filename, zin.read(info.filename)))
    return dst


def test_the_bundle_states_the_conclusion_reviews_and_evidence_and_verifies(
    reg: Registry, world: World, tmp_path: Path
) -> None:
    import zipfile

    from eudr_check.reports.bundle import write_bundle
    from eudr_check.reports.bundle_verify import ProblemKind, verify_bundle

    first, second = _doubtful(world)
    photo = jpeg(-5.7, -78.8)
    sniffed = sniff("finca.jpg", photo, 20)
    reg.add_evidence(world.keys[first], world.coop, "finca.jpg", EvidenceKind.PHOTO, sniffed,
                     photo, by="tecnico", role="technician")  # fmt: skip
    _decide(reg, world, first, evidence=[sniffed.sha256], note="sombra desde 2015")
    sources = DataSources(load_catalog(), DATA)
    # One doubtful plot still open: the bundle says so (it is evidence, not a filing).
    path = write_bundle(reg, world.lot, sources, tmp_path / "open", lang="en")
    doc = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    assert doc["format"] == "eudr-check-bundle/2"
    assert doc["conclusion"]["conclusion"] == "not_negligible"
    assert [b["plot_id"] for b in doc["conclusion"]["blocking"]] == [second]
    assert verify_bundle(path).ok

    _decide(reg, world, second)
    paths = [write_bundle(reg, world.lot, sources, tmp_path / d, lang="en", with_evidence=True)
             for d in ("a", "b")]  # fmt: skip
    assert paths[0].read_bytes() == paths[1].read_bytes()  # same bytes twice
    zf = zipfile.ZipFile(paths[0])
    doc = json.loads(zf.read("manifest.json"))
    c = doc["conclusion"]
    assert c["conclusion"] == "negligible" and c["accepted_by_review"] == 2
    assert c["regime"]["level"] == "standard" and doc["country_risk"]["countries"] == {
        "PE": "standard"
    }
    assert "2025/1093" in doc["country_risk"]["source"]
    mine = [r for r in doc["reviews"] if r["plot_id"] == first]
    got = [(r["action"], r["reasons"], r["reviewer"], r["evidence"], r["note"]) for r in mine]
    want = ("accepted", ["agroforestry_before_2021"], "ana", [sniffed.sha256], "sombra desde 2015")
    assert got == [want]
    (ev,) = doc["evidence"]
    member = f"evidence/{sniffed.sha256}.jpg"
    assert ev["sha256"] == sniffed.sha256 and ev["member"] == member
    assert zf.read(member) == photo and doc["files"][member] == sniffed.sha256
    page = next(n for n in zf.namelist() if n.endswith(".conclusion.html"))
    html = zf.read(page).decode()
    assert "Negligible risk" in html and sniffed.sha256 in html and "sombra desde 2015" in html
    assert verify_bundle(paths[0]).ok
    without = write_bundle(reg, world.lot, sources, tmp_path / "hashes", lang="en")
    assert not any(n.startswith("evidence/") for n in zipfile.ZipFile(without).namelist())

    # Tampering shows, even when the manifest's checksums are edited to match.
    other = jpeg(-5.0, -78.0)
    files = {**doc["files"], member: hashlib.sha256(other).hexdigest()}
    swapped = json.dumps({**doc, "files": files}).encode()
    bad = verify_bundle(_rezip(paths[0], tmp_path / "swap.zip",
                               {member: other, "manifest.json": swapped}))  # fmt: skip
    assert [p.kind for p in bad.problems] == [ProblemKind.EVIDENCE_MISMATCH]
    no_review = json.dumps(
        {**doc, "reviews": [r for r in doc["reviews"] if r["plot_id"] != second]}
    )
    bad = verify_bundle(
        _rezip(paths[0], tmp_path / "claim.zip", {"manifest.json": no_review.encode()})
    )
    assert [(p.kind, p.name) for p in bad.problems] == [
        (ProblemKind.CONCLUSION_UNSUPPORTED, second)
    ]
    no_evidence = json.dumps({**doc, "evidence": []}).encode()
    bad = verify_bundle(_rezip(paths[0], tmp_path / "cites.zip", {"manifest.json": no_evidence}))
    assert [p.kind for p in bad.problems] == [ProblemKind.REVIEW_EVIDENCE_UNLISTED]


# the command line ---------------------------------------------------------------------------


def test_the_cli_lists_decides_and_exports_offline(
    reg: Registry, world: World, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from eudr_check.cli.review import review_app

    env = {"EUDR_CHECK_REGISTRY_URL": reg.engine.url.render_as_string(hide_password=False)}

    def run(*args: object) -> Any:
        done = CliRunner(env=env).invoke(review_app, [str(a) for a in args])
        assert done.exception is None or isinstance(done.exception, SystemExit), done.output
        assert "Traceback" not in done.output
        return done

    first, second = _doubtful(world)
    listed = run("list", "--org", world.coop, "--as", world.exporter, "--lang", "en")
    assert listed.exit_code == 0 and first in listed.output and "to review" in listed.output
    lot = run("list", "--lot", world.lot, "--lang", "en")
    assert lot.exit_code == 1 and "Risk not negligible" in lot.output and second in lot.output

    photo = tmp_path / "finca.jpg"
    photo.write_bytes(jpeg(-5.7, -78.8))
    done = run("decide", first, "--org", world.coop, "--as", world.exporter, "--action",
               "accepted", "--reason", "agroforestry_before_2021", "--reviewer", "ana",
               "--evidence", photo, "--lang", "en")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "accepted (state: accepted)" in " ".join(done.output.split())
    # Refused before anything is stored: the evidence of a bad decision is not attached.
    fake = tmp_path / "acta.pdf"
    fake.write_bytes(b"%PDF-1.4 truncated")
    bad = run("decide", second, "--org", world.coop, "--as", world.exporter, "--action",
              "accepted", "--reason", "cleared_after_cutoff", "--reviewer", "ana",
              "--evidence", fake, "--lang", "en")  # fmt: skip
    assert bad.exit_code == 2 and "cleared after the cut-off" in " ".join(bad.output.split())
    assert reg.evidence_list([world.keys[second]]) == []
    bad = run("decide", "NOPE", "--org", world.coop, "--action", "accepted", "--reason",
              "other", "--reviewer", "ana", "--lang", "en")  # fmt: skip
    assert bad.exit_code == 2 and "does not exist" in bad.output
    run("decide", second, "--org", world.coop, "--as", world.exporter, "--action", "accepted",
        "--reason", "imagery_confirms_no_clearing", "--reviewer", "ana")  # fmt: skip
    assert run("list", "--lot", world.lot).exit_code == 0

    out = tmp_path / "lot.json"
    assert run("export", "--lot", world.lot, "--out", out).exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["conclusion"]["conclusion"] == "negligible"
    assert {r["plot_id"] for r in doc["reviews"]} == {first, second}
    assert [e["sha256"] for e in doc["evidence"]] == [
        hashlib.sha256(photo.read_bytes()).hexdigest()
    ]
    table = tmp_path / "reviews.csv"
    assert run("export", "--org", world.coop, "--out", table, "--format", "csv").exit_code == 0
    rows = table.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("id,plot_id,version_id") and len(rows) == 3
