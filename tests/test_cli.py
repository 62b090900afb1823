"""The command line as a technician uses it: exit codes, messages, files written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import X0, Y0, D, feature, poly, square
from tests.test_intake_bad_input import _encrypt_flags

CLI = [sys.executable, "-m", "eudr_check.cli"]


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def _file(tmp_path: Path, *features: dict[str, object]) -> Path:
    path = tmp_path / "socios.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def test_clean_file_exits_0_and_writes_findings(tmp_path: Path) -> None:
    path = _file(tmp_path, feature(poly(square())))
    result = run("validate", path, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "socios.findings.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    doc = json.loads((tmp_path / "out" / "socios.findings.json").read_text())
    assert doc["summary"]["plots"] == 1 and doc["findings"] == []


def test_errors_exit_1_and_fix_repairs_them(tmp_path: Path) -> None:
    x, y, d = X0, Y0, D
    bow = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    path = _file(tmp_path, feature(poly([bow]), plot_id="JAE-001", Area="1"))
    result = run("validate", path, "--out", tmp_path / "out")
    assert result.returncode == 1
    assert "JAE-001" in result.stdout and "se cruza" in result.stdout
    assert "--fix" in result.stdout
    fixed = run("validate", path, "--fix", "--out", tmp_path / "out", "--lang", "en")
    assert fixed.returncode == 0, fixed.stdout
    assert "repaired" in fixed.stdout
    repaired = tmp_path / "out" / "socios.fixed.geojson"
    again = run("validate", repaired, "--out", tmp_path / "again")
    assert again.returncode == 0, again.stdout
    props = json.loads(repaired.read_text())["features"][0]["properties"]
    assert props["original_wkt"].startswith("POLYGON") and props["Area"] == 1.0


def test_unfixable_errors_still_exit_1_with_fix(tmp_path: Path) -> None:
    path = _file(tmp_path, feature({"type": "Point", "coordinates": [X0, Y0]}, Area=9))
    assert run("validate", path, "--fix", "--out", tmp_path).returncode == 1


def test_findings_csv_keeps_spanish_accents(tmp_path: Path) -> None:
    # At sea: no country can be inferred from the location.
    path = _file(tmp_path, feature(poly(square(-82.0, -8.0)), ProducerCountry=None))
    assert run("validate", path, "--out", tmp_path / "o").returncode == 1
    text = (tmp_path / "o" / "socios.findings.csv").read_text(encoding="utf-8-sig")
    assert "Falta el país del productor" in text and "Ana Peña" not in text
    inland = _file(tmp_path, feature(poly(square()), ProducerCountry=None))
    assert run("validate", inland, "--out", tmp_path / "o", "--country", "Perú").returncode == 0


def test_unknown_default_country_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, feature(poly(square())))
    result = run("validate", path, "--country", "XX")
    assert result.returncode == 2 and "XX" in result.stderr


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        files[name] = tmp_path / name
        files[name].write_bytes(data)

    put("vacio.geojson", b"")
    put("informe.docx", os.urandom(300))
    put("cortado.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Fea')
    put("renombrado.geojson", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    buf = tmp_path / "sin_shp.zip"
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("leeme.txt", "hola")
    files["sin_shp.zip"] = buf
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as z:
        z.writestr("../evil.txt", "owned")
        z.writestr("parcelas.shp", b"\0" * 100)
    files["slip.zip"] = slip
    put(
        "xxe.kml",
        b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY s SYSTEM "file:///etc/passwd">]>'
        b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&s;</name>'
        b"<Point><coordinates>-78.8,-5.7</coordinates></Point></Placemark></kml>",
    )
    locked = tmp_path / "locked_src.zip"
    with zipfile.ZipFile(locked, "w", zipfile.ZIP_STORED) as z:
        z.writestr("doc.kml", "<kml/>")
    put("clave.kmz", _encrypt_flags(locked.read_bytes()))
    return files


def test_bad_input_gets_exit_2_and_a_message_never_a_traceback(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for name, path in _bad_inputs(work).items():
        result = run("validate", path, "--out", work / "out")
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout, name
        assert name in result.stderr, (name, result.stderr)
        assert not (work / "out").exists(), name  # nothing half-written
    assert not (tmp_path / "evil.txt").exists()
    assert "root:" not in "".join(p.read_text(errors="ignore") for p in work.rglob("*.csv"))


def test_size_limit_from_the_environment(tmp_path: Path) -> None:
    path = _file(
        tmp_path, *[feature(poly(square(X0 + i * 0.01)), plot_id=str(i)) for i in range(50)]
    )
    result = run(
        "validate",
        path,
        env={"EUDR_CHECK_MAX_INPUT_MB": "0.001"},
    )
    assert result.returncode == 2
    assert "límite" in result.stderr
    english = run("validate", path, "--lang", "en", env={"EUDR_CHECK_MAX_INPUT_MB": "0.001"})
    assert "over the limit" in english.stderr


def test_unknown_thresholds_file_is_a_clear_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  nonsense: 3\n")
    path = _file(tmp_path, feature(poly(square())))
    result = run("validate", path, "--rules", rules)
    assert result.returncode == 2 and "nonsense" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("lang,word", [("es", "parcelas"), ("en", "plots")])
def test_export_traces_summary_language(tmp_path: Path, lang: str, word: str) -> None:
    path = _file(tmp_path, feature(poly(square())))
    result = run("export-traces", path, "--out", tmp_path / "eu", "--lang", lang)
    assert result.returncode == 0, result.stderr
    assert word in result.stdout
    assert (tmp_path / "eu" / "socios.traces_001.geojson").is_file()


def test_check_writes_every_report_for_the_sample(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    result = run(
        "check", root / "sample_plots" / "cooperativa.geojson", "--datasets",
        root / "sample_data", "--out", tmp_path, "--lang", "en",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Deforestation detected" in result.stdout
    for suffix in ("due_diligence.geojson", "results.csv", "summary.html", "manifest.json"):
        assert (tmp_path / f"cooperativa.{suffix}").stat().st_size > 0
    manifest = json.loads((tmp_path / "cooperativa.manifest.json").read_text())
    assert manifest["cutoff_date"] == "2020-12-31"
    assert {d["id"] for d in manifest["datasets"]} >= {"hansen_gfc", "jrc_gfc2020"}
    assert all(f["sha256"] for d in manifest["datasets"] for f in d["files"])
    maps = list((tmp_path / "maps" / "cooperativa").glob("*.png"))
    flagged = sum(v for k, v in manifest["verdicts"].items() if k != "deforestation_free")
    assert 0 < len(maps) <= flagged


def test_check_with_a_broken_catalog_is_a_clear_error(tmp_path: Path) -> None:
    catalog = tmp_path / "datasets.yaml"
    catalog.write_text("cutoff_date: 2020-12-31\ndatasets: [{id: X}]\n")
    path = _file(tmp_path, feature(poly(square())))
    result = run("check", path, "--out", tmp_path / "o", "--catalog", catalog)
    assert result.returncode == 2 and "catalog" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_on_two_dask_workers_gives_the_same_csv(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    common = [root / "sample_plots" / "cooperativa.geojson", "--datasets", root / "sample_data"]
    serial = run("check", *common, "--out", tmp_path / "serial")
    parallel = run("check", *common, "--out", tmp_path / "dask", "--workers", "2")
    assert serial.returncode == 0 and parallel.returncode == 0, parallel.stderr
    name = "cooperativa.results.csv"
    assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()


def test_findings_csv_speaks_the_readers_language(tmp_path: Path) -> None:
    path = _file(tmp_path, feature(poly(square(-82.0, -8.0)), ProducerCountry=None))
    run("validate", path, "--out", tmp_path / "es")
    run("validate", path, "--out", tmp_path / "en", "--lang", "en")
    es = (tmp_path / "es" / "socios.findings.csv").read_text(encoding="utf-8-sig")
    en = (tmp_path / "en" / "socios.findings.csv").read_text(encoding="utf-8-sig")
    import csv

    rows_es, rows_en = (list(csv.reader(text.splitlines())) for text in (es, en))
    assert rows_es[0][:5] == ["archivo", "fila_o_elemento", "parcela", "codigo", "gravedad"]
    assert rows_en[0][:5] == ["file", "row_or_feature", "plot_id", "code", "severity"]
    assert rows_es[1][4:6] == ["error", "no"] and rows_en[1][4:6] == ["error", "no"]
    assert "True" not in es + en


def test_check_says_how_far_it_is_and_how_long_each_step_took(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    done = run("check", root / "sample_plots" / "cooperativa.geojson", "--datasets",
               root / "sample_data", "--out", tmp_path / "out", "--lang", "en")  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    # Not a terminal here: plain lines instead of bars.
    assert "Analysing plots: 75 of 75 plots" in text
    assert "Writing reports and maps: 75 of 75 plots" in text
    assert "Times: reading and validation" in text and "maps" in text and "total" in text


def test_the_fix_hint_promises_only_what_fix_does(tmp_path: Path) -> None:
    x, y, d = X0, Y0, D
    bow = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    sea = [[p[0] - 4.0, p[1]] for p in bow]  # the same bow tie, at sea: no country either
    path = _file(tmp_path, feature(poly([bow]), plot_id="TIERRA", Area="1"),
                 feature(poly([sea]), plot_id="MAR", Area="1", ProducerCountry=None))  # fmt: skip
    hint = run("validate", path, "--out", tmp_path / "a", "--lang", "en")
    text = " ".join(hint.stdout.split())
    assert "--fix would repair 4 error(s); 1 plot(s) would then be free of errors and 1" in text
    fixed = run("validate", path, "--fix", "--out", tmp_path / "b", "--lang", "en")
    findings = json.loads((tmp_path / "b" / "socios.findings.json").read_text())["findings"]
    errors = {f["plot_id"] for f in findings if f["severity"] == "error"}
    assert errors == {"MAR"} and fixed.returncode == 1  # exactly what the hint said


def test_a_repaired_finding_says_what_was_done(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[1] / "sample_plots" / "cooperativa.geojson"
    run("validate", sample, "--fix", "--out", tmp_path, "--lang", "en")
    text = (tmp_path / "cooperativa.findings.csv").read_text(encoding="utf-8-sig")
    assert "it was split into polygons without holes" in text
    assert "It can be split" not in text


def test_console_counts_agree_with_the_rows_and_explain_the_rest(tmp_path: Path) -> None:
    # 45 rows at sea under only 3 distinct ids: every row has the same error.
    feats = [feature(poly(square(-82.0 + 0.01 * i, -8.0)), plot_id=f"ID-{i % 3}",
                     ProducerCountry=None) for i in range(45)]  # fmt: skip
    done = run("validate", _file(tmp_path, *feats), "--out", tmp_path / "o", "--lang", "en")
    text = " ".join(done.stdout.split())
    assert "│ country_missing │ error │ 45 │" in text  # rows, as the footer counts
    assert "0 without problems, 0 with warnings, 45 with errors." in text
    assert "… and" in text and "more errors (the first 40 are shown): all are in" in text
    assert "socios.findings.csv" in text


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    # `--help` and `version` must be quick: nothing of the data stack is imported up front.
    probe = ("import sys, eudr_check.cli; heavy = ('pandas', 'geopandas', 'numpy', 'matplotlib',"
             " 'rasterio', 'shapely', 'pydantic', 'sqlalchemy', 'dask', 'prefect');"
             " print([m for m in heavy if m in sys.modules])")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    assert run("--help").returncode == 0 and run("version").returncode == 0


def test_help_speaks_spanish_by_default_and_english_when_asked() -> None:
    es = " ".join(run("check", "--help").stdout.split())
    en = " ".join(run("check", "--lang", "en", "--help").stdout.split())
    assert "Verifica cada parcela" in es and "Carpeta para los informes" in es
    assert "Check every plot for deforestation" in en and "Folder for the reports" in en
    assert "Carpeta para los informes" not in en
    # The language set for the machine, unless --lang says otherwise.
    env = " ".join(run("check", "--help", env={"EUDR_CHECK_LANG": "en"}).stdout.split())
    assert "Folder for the reports" in env
    back = run("check", "--lang", "es", "--help", env={"EUDR_CHECK_LANG": "en"}).stdout
    assert "Carpeta para los informes" in " ".join(back.split())
