"""Compliance bundles: what goes in, same lot same bytes, refusing unready lots, verification.

The registry holds the bundled sample cooperative (and three plots of a second cooperative),
checked once against the bundled sample rasters.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from eudr_check import __version__
from eudr_check.cli.bundle import bundle_app
from eudr_check.datasets.catalog import Catalog, load_catalog
from eudr_check.engine import DataSources, RegisteredPlots, RegistrySink, check_report, run_check
from eudr_check.engine.fingerprint import fingerprints
from eudr_check.engine.plan import plan
from eudr_check.errors import BundleError
from eudr_check.intake import read_plots
from eudr_check.reports.bundle import bundle_stem, write_bundle
from eudr_check.reports.bundle_verify import ProblemKind, unsafe_name, verify_bundle
from eudr_check.reports.check_reports import write_check_reports
from eudr_check.rules import validate
from eudr_check.store.registry import Registry

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_plots" / "cooperativa.geojson"
DATA = ROOT / "sample_data"
REFERENCE = "LOTE 2026/001 Café"
IN_LOT = ("JAE-001", "JAE-002", "JAE-003", "JAE-004", "JAE-005", "JAE-006",
          "LCV-001", "LCV-002", "LCV-003", "LCV-004")  # fmt: skip
SECOND = {"JAE-010": "VV-001", "JAE-011": "VV-002", "JAE-012": "VV-003"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _sources() -> DataSources:
    return DataSources(load_catalog(), DATA)


@dataclass(frozen=True)
class Checked:
    url: str
    lot: int  # 13 plots of two cooperatives
    whole: int  # every plot of the sample cooperative
    run_id: str  # the run id the registry stores and reports carry
    versions: dict[str, int]  # plot id -> version id
    prints: dict[int, str]  # version id -> fingerprint


def _register(reg: Registry, org: int, path: Path) -> None:
    report = validate(read_plots(path), fix=True)
    reg.register_upload(org, report, path.name, hashlib.sha256(path.read_bytes()).hexdigest())


def _record_check(reg: Registry, versions: list[int], catalog: Catalog, data: Path) -> str:
    """Check the versions as the check flow does and store the results; returns the run id."""
    record = run_check(RegisteredPlots(reg, versions), DataSources(catalog, data),
                       sinks=[RegistrySink(reg)])  # fmt: skip
    return record.run_id


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    folder = tmp_path_factory.mktemp("registry")
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    doc["features"] = [f for f in doc["features"] if f["properties"]["plot_id"] in SECOND]
    for f in doc["features"]:
        f["properties"]["plot_id"] = SECOND[f["properties"]["plot_id"]]
    second = folder / "valle_verde.geojson"
    second.write_text(json.dumps(doc), encoding="utf-8")
    url = f"sqlite:///{folder / 'registry.db'}"
    with Registry.open(url) as reg:
        coop = reg.create_organisation("Cooperativa Sol Andino", "cooperative")
        other = reg.create_organisation("Cooperativa Valle Verde", "cooperative")
        exporter = reg.create_organisation("Exportadora del Norte", "exporter")
        reg.share(coop, exporter)
        reg.share(other, exporter)
        _register(reg, coop, SAMPLE)
        _register(reg, other, second)
        current = reg.current_versions()
        run_id = _record_check(reg, current, load_catalog(), DATA)
        report = reg.report_for(current)
        versions = dict(zip(report.plots["plot_id"], map(int, report.plots["version_id"]),
                            strict=True))  # fmt: skip
        mine = reg.current_versions(coop)
        lot_ids = [versions[p] for p in (*IN_LOT, *SECOND.values())]
        lot = reg.create_lot(exporter, REFERENCE, "coffee", "0901", 19200.0, lot_ids)
        whole = reg.create_lot(exporter, "LOTE-2026-002", "coffee", "0901", 120000.0, mine)
        prints = dict(
            zip(current, fingerprints(plan(report, load_catalog()), _sources()), strict=True)
        )
    return Checked(url, lot, whole, run_id, versions, prints)


@pytest.fixture(scope="module")
def bundle(checked: Checked, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with Registry.open(checked.url) as reg:
        return write_bundle(reg, checked.lot, _sources(),
                            tmp_path_factory.mktemp("bundle"))  # fmt: skip


@pytest.fixture
def own_registry(checked: Checked, tmp_path: Path) -> str:
    """A copy of the checked registry that a test may change."""
    src = Path(checked.url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal"):
        if Path(f"{src}{suffix}").exists():
            shutil.copy(f"{src}{suffix}", tmp_path / f"registry.db{suffix}")
    return f"sqlite:///{tmp_path / 'registry.db'}"


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _manifest(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_members(path)["manifest.json"])
    return doc


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    result = CliRunner(env=env).invoke(bundle_app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def _flat(text: str) -> str:
    """Console output without the line wrapping of an 80-column terminal."""
    return " ".join(text.split())


# contents ---------------------------------------------------------------------------------------


def test_bundle_holds_eu_files_reports_maps_and_a_manifest(checked: Checked, bundle: Path) -> None:
    stem = "lot-1-lote-2026-001-cafe"
    assert bundle.name == f"{stem}.zip"
    members = _members(bundle)
    manifest = json.loads(members["manifest.json"])
    assert set(manifest["files"]) == set(members) - {"manifest.json"}
    assert all(_sha(members[n]) == sha for n, sha in manifest["files"].items())
    for name in (f"eu_information_system/{stem}.traces_001.geojson",
                 f"eu_information_system/{stem}.traces_index.csv",
                 f"eu_information_system/{stem}.traces_excluded.csv",
                 f"reports/{stem}.due_diligence.geojson", f"reports/{stem}.results.csv",
                 f"reports/{stem}.summary.html", f"reports/{stem}.manifest.json"):  # fmt: skip
        assert name in members, name
    # One evidence map per plot that is not deforestation-free and has a shape to draw.
    dd = json.loads(members[f"reports/{stem}.due_diligence.geojson"])["features"]
    flagged = {f["id"] for f in dd if f["properties"]["verdict"] != "deforestation_free"}
    drawable = {f["id"] for f in dd if f["geometry"] is not None} & flagged
    maps = {n.rsplit("/", 1)[1] for n in members if n.startswith(f"reports/maps/{stem}/")}
    assert drawable and maps == {f"{p}.png" for p in drawable}
    assert flagged - drawable == {"VV-002"}  # a LineString: no shape, undetermined
    eu = json.loads(members[f"eu_information_system/{stem}.traces_001.geojson"])
    excluded = members[f"eu_information_system/{stem}.traces_excluded.csv"].decode("utf-8-sig")
    left_out = {row[0] for row in list(csv.reader(excluded.splitlines()))[1:]}
    exported = {f["id"] for f in eu["features"]}
    assert exported | left_out == {*IN_LOT, *SECOND.values()} and not exported & left_out
    assert manifest["eu_information_system"]["exported"] == len(exported)


def test_manifest_names_the_lot_data_thresholds_and_results(checked: Checked, bundle: Path) -> None:
    manifest = _manifest(bundle)
    lot = manifest["lot"]
    assert (lot["id"], lot["reference"], lot["commodity"], lot["hs_code"], lot["net_mass_kg"]) == (
        checked.lot, REFERENCE, "coffee", "0901", 19200.0)  # fmt: skip
    assert lot["exporter"] == "Exportadora del Norte" and lot["plots"] == 13
    assert lot["cooperatives"] == ["Cooperativa Sol Andino", "Cooperativa Valle Verde"]
    assert [(c["name"], c["plots"]) for c in manifest["cooperatives"]] == [
        ("Cooperativa Sol Andino", 10), ("Cooperativa Valle Verde", 3)]  # fmt: skip
    catalog = load_catalog()
    assert manifest["cutoff_date"] == "2020-12-31"
    assert manifest["thresholds"]["verdict"] == catalog.verdict.model_dump()
    assert manifest["tool_version"] == __version__ and manifest["report_lang"] == "es"
    # The tiles under the plots, with the SHA-256 of the files the verdicts came from.
    hansen = next(d for d in manifest["datasets"] if d["id"] == "hansen_gfc")
    assert hansen["version"] == catalog.get("hansen_gfc").version
    files = {f["name"]: f["sha256"] for f in hansen["files"]}
    assert set(files) == {
        f"Hansen_GFC-2024-v1.12_{layer}_{tile}.tif"
        for layer in ("lossyear", "treecover2000") for tile in ("00N_080W", "10S_080W")
    }  # fmt: skip
    for name, sha in files.items():
        assert sha == _sha((DATA / "hansen_gfc" / name).read_bytes())
    # Per plot: the registry run, fingerprint and time of the result used.
    with Registry.open(checked.url) as reg:
        stored = reg.stored_results(list(checked.prints))
    assert manifest["runs"] == [checked.run_id]
    assert len(manifest["results"]) == 13
    for item in manifest["results"]:
        assert item["version_id"] == checked.versions[item["plot_id"]]
        assert item["run_id"] == checked.run_id
        assert item["fingerprint"] == checked.prints[item["version_id"]]
        checked_at = dt.datetime.fromisoformat(item["checked_at"])
        assert checked_at == stored[item["version_id"]].checked_at
        assert item["verdict"] == stored[item["version_id"]].result.verdict.value
    # Nothing about the machine that wrote it: no absolute paths.
    assert str(ROOT) not in json.dumps(manifest)


def test_reports_carry_the_lot_and_the_times_of_the_checks(checked: Checked, bundle: Path) -> None:
    members = _members(bundle)
    stem = bundle.stem
    html = members[f"reports/{stem}.summary.html"].decode()
    for text in (REFERENCE, "Exportadora del Norte", "Cooperativa Sol Andino",
                 "Cooperativa Valle Verde", "0901", "19200", "Masa neta (kg)"):  # fmt: skip
        assert text in html, text
    dd = json.loads(members[f"reports/{stem}.due_diligence.geojson"])
    assert dd["run"]["lot"]["reference"] == REFERENCE
    assert dd["run"]["run_id"] == checked.run_id
    first = min(dt.datetime.fromisoformat(r["checked_at"]) for r in _manifest(bundle)["results"])
    assert dd["run"]["started"] == first.isoformat(timespec="seconds")
    assert len(dd["features"]) == 13
    with Registry.open(checked.url) as reg:
        info = reg.lot(checked.lot)
    assert info is not None
    created = info.created_at
    with zipfile.ZipFile(bundle) as z:
        infos = z.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {
        (created.year, created.month, created.day, created.hour, created.minute,
         created.second // 2 * 2)
    }  # fmt: skip


def test_the_check_cli_reports_have_no_lot(tmp_path: Path) -> None:
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    doc["features"] = doc["features"][:2]
    path = tmp_path / "socios.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    run = check_report(validate(read_plots(path), fix=True), _sources())
    assert "lot" not in run.manifest()
    written = write_check_reports(run, tmp_path)
    html = next(p for p in written if p.suffix == ".html").read_text(encoding="utf-8")
    assert "Informe de debida diligencia EUDR: socios.geojson" in html
    assert "Masa neta" not in html and "Lote" not in html
    dd = json.loads(
        next(p for p in written if p.name.endswith("due_diligence.geojson")).read_text()
    )
    assert "lot" not in dd["run"]


@pytest.mark.parametrize(
    ("reference", "stem"),
    [(REFERENCE, "lot-7-lote-2026-001-cafe"), ("../../etc/passwd", "lot-7-etc-passwd"),
     ("", "lot-7"), ("Ñuñoa · 2026", "lot-7-nunoa-2026"), ("***", "lot-7")],
)  # fmt: skip
def test_bundle_names_are_safe_slugs(reference: str, stem: str) -> None:
    assert bundle_stem(7, reference) == stem


# determinism ------------------------------------------------------------------------------------


def test_same_lot_same_results_same_bytes(checked: Checked, bundle: Path, tmp_path: Path) -> None:
    with Registry.open(checked.url) as reg:  # another session, after the registry was reopened
        again = write_bundle(reg, checked.lot, _sources(), tmp_path / "again")
        # The data folder's location is no part of the evidence.
        moved = tmp_path / "elsewhere" / "sample_data"
        shutil.copytree(DATA, moved)
        elsewhere = write_bundle(
            reg, checked.lot, DataSources(load_catalog(), moved), tmp_path / "moved"
        )
        english = write_bundle(reg, checked.lot, _sources(), tmp_path / "en", lang="en")
    assert again.read_bytes() == bundle.read_bytes()
    assert elsewhere.read_bytes() == bundle.read_bytes()
    assert english.read_bytes() != bundle.read_bytes()
    html = _members(english)[f"reports/{english.stem}.summary.html"].decode()
    assert '<html lang="en">' in html and "Net mass (kg)" in html
    assert _manifest(english)["report_lang"] == "en"


# refusing lots that are not ready -----------------------------------------------------------------


def test_a_lot_with_unchecked_plots_is_refused(
    checked: Checked, own_registry: str, tmp_path: Path
) -> None:
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for feat in doc["features"]:
        if feat["properties"]["plot_id"] == "JAE-004":
            ring = feat["geometry"]["coordinates"][0]
            ring[1] = [round(ring[1][0] + 0.00005, 6), ring[1][1]]  # one corner moved ~5 m
    edited = tmp_path / "cooperativa_editada.geojson"
    edited.write_text(json.dumps(doc), encoding="utf-8")
    with Registry.open(own_registry) as reg:
        orgs = {o.name: o.id for o in reg.organisations()}
        coop, exporter = orgs["Cooperativa Sol Andino"], orgs["Exportadora del Norte"]
        _register(reg, coop, edited)
        new = reg.current_versions(coop)
        fresh = sorted(set(new) - set(checked.versions.values()))
        assert len(fresh) == 1
        ids = [checked.versions["JAE-001"], checked.versions["JAE-002"], *fresh]
        lot = reg.create_lot(exporter, "LOTE-SIN-VERIFICAR", "coffee", "0901", 100.0, ids)
        with pytest.raises(BundleError) as caught:
            write_bundle(reg, lot, _sources(), tmp_path / "out")
    err = caught.value
    assert err.unchecked == tuple(fresh) and err.stale == () and not err.unknown_lot
    assert "1 of 3 plots have no result yet (JAE-004)" in err.message("en")
    assert "1 de 3 parcelas aún no tienen resultado (JAE-004)" in err.message("es")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    result = invoke("build", str(lot), "--out", tmp_path / "out", "--datasets", DATA,
                    "--lang", "en", env={"EUDR_CHECK_REGISTRY_URL": own_registry})  # fmt: skip
    assert result.exit_code == 1
    assert "1 of 3 plots have no result yet (JAE-004)" in _flat(result.output)


def _touch_tile(data: Path, tile: str) -> None:
    """New content for one Hansen loss tile: what a new data release looks like to the check."""
    path = data / "hansen_gfc" / f"Hansen_GFC-2024-v1.12_lossyear_{tile}.tif"
    path.write_bytes(path.read_bytes() + b"\0")  # GDAL reads by offsets: trailing bytes are inert


def test_results_from_other_data_are_refused_until_checked_again(
    checked: Checked, own_registry: str, tmp_path: Path
) -> None:
    data = tmp_path / "sample_data"
    shutil.copytree(DATA, data)
    _touch_tile(data, "10S_080W")  # La Convención (Cusco); Jaén is in 00N_080W
    catalog = load_catalog()
    with Registry.open(own_registry) as reg:
        with pytest.raises(BundleError) as caught:
            write_bundle(reg, checked.lot, DataSources(catalog, data), tmp_path / "out")
        lcv = [checked.versions[p] for p in IN_LOT if p.startswith("LCV")]
        assert caught.value.stale == tuple(lcv) and caught.value.unchecked == ()
        assert "4 of 13 plots were checked against other data or thresholds than today's " \
               "(LCV-001, LCV-002, LCV-003, LCV-004)" in caught.value.message("en")  # fmt: skip
        # What the service does next: check those plots again; then the lot bundles.
        rerun = _record_check(reg, lcv, catalog, data)
        path = write_bundle(reg, checked.lot, DataSources(catalog, data), tmp_path / "out")
        manifest = _manifest(path)
        runs = {r["plot_id"]: r["run_id"] for r in manifest["results"]}
        assert set(manifest["runs"]) == {checked.run_id, rerun}
        assert {p for p, r in runs.items() if r == rerun} == {"LCV-001", "LCV-002", "LCV-003",
                                                               "LCV-004"}  # fmt: skip
        # On the original data the older results still hold and are the ones used, although
        # newer results (for the changed data) exist.
        original = write_bundle(reg, checked.lot, DataSources(catalog, DATA), tmp_path / "original")
        assert _manifest(original)["runs"] == [checked.run_id]
    assert verify_bundle(path).ok and verify_bundle(original).ok


def test_results_under_other_thresholds_are_refused(checked: Checked, tmp_path: Path) -> None:
    catalog = load_catalog()
    stricter = catalog.model_copy(
        update={"verdict": catalog.verdict.model_copy(update={"detected_loss_ha": 0.25})}
    )
    with Registry.open(checked.url) as reg, pytest.raises(BundleError) as caught:
        write_bundle(reg, checked.lot, DataSources(stricter, DATA), tmp_path)
    assert len(caught.value.stale) == 13
    assert "13 de 13 parcelas se verificaron con otros datos o umbrales" in caught.value.message()


def test_an_unknown_lot_is_an_error_and_exit_2(checked: Checked, tmp_path: Path) -> None:
    with Registry.open(checked.url) as reg, pytest.raises(BundleError) as caught:
        write_bundle(reg, 999, _sources(), tmp_path)
    assert caught.value.unknown_lot and caught.value.message("es") == "el lote 999 no existe"
    result = invoke("build", "999", "--out", tmp_path, "--datasets", DATA,
                    env={"EUDR_CHECK_REGISTRY_URL": checked.url})  # fmt: skip
    assert result.exit_code == 2 and "el lote 999 no existe" in result.output


def test_cli_build_writes_the_same_bundle(checked: Checked, bundle: Path, tmp_path: Path) -> None:
    result = invoke("build", str(checked.lot), "--out", tmp_path, "--datasets", DATA,
                    "--lang", "en", env={"EUDR_CHECK_REGISTRY_URL": checked.url})  # fmt: skip
    assert result.exit_code == 0, result.output
    files = len(_manifest(bundle)["files"])
    assert f"Bundle verified: {files} files match manifest.json" in _flat(result.output)
    assert (tmp_path / bundle.name).read_bytes() != bundle.read_bytes()  # English reports
    result = invoke("build", str(checked.lot), "--out", tmp_path, "--datasets", DATA,
                    env={"EUDR_CHECK_REGISTRY_URL": checked.url})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / bundle.name).read_bytes() == bundle.read_bytes()


# the EU size limit ------------------------------------------------------------------------------


def test_a_large_lot_is_split_into_several_eu_files(
    checked: Checked, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EUDR_CHECK_TRACES_MAX_MB", "0.005")  # 5 kB instead of 25 MB
    with Registry.open(checked.url) as reg:
        path = write_bundle(reg, checked.whole, _sources(), tmp_path)
    manifest = _manifest(path)
    eu = manifest["eu_information_system"]
    assert eu["max_mb"] == 0.005 and len(eu["files"]) > 3
    members = _members(path)
    ids: list[str] = []
    for name in eu["files"]:
        assert name in manifest["files"] and len(members[name]) <= 5000
        ids += [f["id"] for f in json.loads(members[name])["features"]]
    index = list(csv.reader(members[eu["index"]].decode("utf-8-sig").splitlines()))[1:]
    assert ids == [row[0] for row in index]
    assert (
        len(ids) == eu["exported"] and eu["exported"] + eu["left_out"] == manifest["lot"]["plots"]
    )
    check = verify_bundle(path)
    assert check.ok and check.files_checked == len(manifest["files"])


# verification -----------------------------------------------------------------------------------


def test_a_fresh_bundle_verifies(bundle: Path) -> None:
    check = verify_bundle(bundle)
    assert check.ok and check.problems == ()
    assert check.files_checked == len(_manifest(bundle)["files"])
    assert (check.lot_id, check.reference) == (1, REFERENCE)
    result = invoke("verify", bundle, "--lang", "en")
    assert result.exit_code == 0
    assert f"Bundle verified: {check.files_checked} files match manifest.json (lot {REFERENCE})" \
        in _flat(result.output)  # fmt: skip


def test_the_main_command_has_the_bundle_commands(bundle: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "eudr_check.cli", "bundle", "verify", str(bundle)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Paquete verificado" in result.stdout


Change = Callable[[list[tuple[zipfile.ZipInfo, bytes]]], list[tuple[zipfile.ZipInfo, bytes]]]


def _rewrite(src: Path, dst: Path, change: Change) -> Path:
    """A valid zip with the members of src, changed."""
    with zipfile.ZipFile(src) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(dst, "w") as z:
        for info, data in change(members):
            z.writestr(info, data)
    return dst


def _html(members: list[tuple[zipfile.ZipInfo, bytes]]) -> str:
    return next(i.filename for i, _ in members if i.filename.endswith(".summary.html"))


def _edit_html(members: list[tuple[zipfile.ZipInfo, bytes]]) -> list[tuple[zipfile.ZipInfo, bytes]]:
    name = _html(members)
    return [(i, d.replace(b"needs_review", b"deforestation_free", 1) if i.filename == name else d)
            for i, d in members]  # fmt: skip


def _drop(name: str) -> Change:
    return lambda members: [(i, d) for i, d in members if i.filename != name]


def _add(name: str, data: bytes) -> Change:
    return lambda members: [*members, (zipfile.ZipInfo(name), data)]


def _tamper(
    case: str, bundle: Path, tmp_path: Path
) -> tuple[Path, set[tuple[ProblemKind, str | None]]]:
    """A tampered copy of the bundle and the problems verify must report."""
    stem = bundle.stem
    html = f"reports/{stem}.summary.html"
    dd = f"reports/{stem}.due_diligence.geojson"
    dst = tmp_path / f"{case}.zip"
    kind = ProblemKind
    if case == "changed":
        return _rewrite(bundle, dst, _edit_html), {(kind.CHECKSUM_MISMATCH, html)}
    if case == "flipped":  # one byte of the raw file, inside a member's compressed data
        raw = bytearray(bundle.read_bytes())
        with zipfile.ZipFile(bundle) as z:
            info = z.getinfo(dd)
        name_len, extra_len = struct.unpack(
            "<HH", raw[info.header_offset + 26 : info.header_offset + 30]
        )
        at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
        raw[at] ^= 0xFF
        dst.write_bytes(bytes(raw))
        return dst, {(kind.DAMAGED_FILE, dd)}
    if case == "removed":
        return _rewrite(bundle, dst, _drop(html)), {(kind.MISSING_FILE, html)}
    if case == "added":
        return _rewrite(bundle, dst, _add("reports/extra.pdf", PDF)), {
            (kind.EXTRA_FILE, "reports/extra.pdf")}  # fmt: skip
    if case == "traversal":
        evil = "../../.bashrc"
        return _rewrite(bundle, dst, _add(evil, b"rm -rf ~\n")), {
            (kind.UNSAFE_NAME, evil), (kind.EXTRA_FILE, evil)}  # fmt: skip
    if case == "duplicate":
        with pytest.warns(UserWarning, match="Duplicate name"):
            _rewrite(bundle, dst, _add(html, b"<p>other</p>"))
        # zipfile reads the last of two entries of one name: the added one.
        return dst, {(kind.DUPLICATE_NAME, html), (kind.CHECKSUM_MISMATCH, html)}
    if case == "no_manifest":
        return _rewrite(bundle, dst, _drop("manifest.json")), {(kind.MANIFEST_MISSING, None)}
    if case == "bad_manifest":

        def swap(
            members: list[tuple[zipfile.ZipInfo, bytes]],
        ) -> list[tuple[zipfile.ZipInfo, bytes]]:
            return [(i, b'{"files": ' if i.filename == "manifest.json" else d) for i, d in members]

        return _rewrite(bundle, dst, swap), {(kind.MANIFEST_INVALID, "manifest.json")}
    if case == "truncated":
        dst.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
        return dst, {(kind.NOT_A_ZIP, dst.name)}
    if case == "renamed_pdf":
        dst.write_bytes(PDF)
        return dst, {(kind.NOT_A_ZIP, dst.name)}
    assert case == "missing"
    return dst, {(kind.UNREADABLE, dst.name)}


TAMPERING = {
    "changed": 1, "flipped": 1, "removed": 1, "added": 1, "traversal": 1, "duplicate": 1,
    "no_manifest": 1, "bad_manifest": 1, "truncated": 2, "renamed_pdf": 2, "missing": 2,
}  # fmt: skip


@pytest.mark.parametrize(("case", "exit_code"), TAMPERING.items())
def test_tampering_is_found_and_named(
    case: str, exit_code: int, bundle: Path, tmp_path: Path
) -> None:
    path, expected = _tamper(case, bundle, tmp_path)
    check = verify_bundle(path)
    assert not check.ok
    assert {(p.kind, p.name) for p in check.problems} == expected
    assert check.unreadable is (exit_code == 2)
    for lang in ("es", "en"):
        result = invoke("verify", path, "--lang", lang)
        assert result.exit_code == exit_code, result.output
        output = _flat(result.output)
        assert all(_flat(p.message(lang)) in output for p in check.problems), output
    # The Spanish and English texts differ (both are written, not one copied).
    assert all(p.message("es") != p.message("en") for p in check.problems)


def test_unsafe_names_are_recognised() -> None:
    for bad in ("../x", "a/../../x", "/etc/passwd", "C:/x", "c:x", "a\\..\\x", "", "a\x00b"):
        assert unsafe_name(bad), bad
    for good in ("manifest.json", "reports/maps/lot-1/JAE-001.png", "a..b/c", "..x"):
        assert not unsafe_name(good), good


@pytest.fixture(autouse=True)
def _no_stray_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A CLI call without EUDR_CHECK_REGISTRY_URL must not create eudr_check.db in the repo."""
    monkeypatch.chdir(tmp_path)
    yield
