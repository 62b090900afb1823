"""`eudr-check dds` as a user runs it, as whole processes: a check's report -> statements built
offline -> filed with the local stand-in of the EU system -> status with the numbers ->
withdrawn; bad input and refusals as clear messages and exit codes, never a traceback."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from eudr_check.dds import contract
from eudr_check.dds.double import TracesDouble
from tests.test_cli import CLI

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_plots" / "cooperativa.geojson"
# The sample cooperative grows coffee and cocoa: one HS heading each.
BUILD = ["--hs", "coffee=090111", "--hs", "cocoa=180100", "--net-mass-kg", "19200",
         "--country-of-activity", "DE", "--internal-ref", "COOP-2026-12"]  # fmt: skip


def run(
    *args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample cooperative checked against the bundled rasters, as a technician would."""
    out = tmp_path_factory.mktemp("check")
    done = run("check", SAMPLE, "--datasets", ROOT / "sample_data", "--out", out)
    assert done.returncode in (0, 1), done.stderr
    return out / "cooperativa.due_diligence.geojson"


@pytest.fixture
def double() -> Iterator[TracesDouble]:
    with TracesDouble(users={"eudr-user": "test-auth-key"}) as d:
        yield d


def eu_env(d: TracesDouble, tmp: Path, key: str = "test-auth-key") -> dict[str, str]:
    return {
        "EUDR_CHECK_TRACES_ENDPOINT": d.dds_url,
        "EUDR_CHECK_TRACES_USERNAME": "eudr-user",
        "EUDR_CHECK_TRACES_AUTH_KEY": key,
        "EUDR_CHECK_TRACES_CLIENT_ID": "eudr-test",
        "EUDR_CHECK_REGISTRY_URL": f"sqlite:///{tmp / 'registry.db'}",
    }


def test_build_writes_valid_requests_and_lists_every_refused_plot(
    report: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dds"
    done = run(
        "dds",
        "build",
        report,
        "--out",
        out,
        *BUILD,
        "--lang",
        "en",
        "--accept",
        "LCV-008=Field visit 2026-11-20: shade coffee, no clearing",
    )
    assert done.returncode == 1, done.stderr  # built, but plots were refused
    assert "Traceback" not in done.stderr
    (xml,) = sorted(out.glob("*.dds_*.xml"))
    root = etree.parse(str(xml)).getroot()
    assert contract.validate(root) == []
    with (out / "cooperativa.dds_plots.csv").open(encoding="utf-8-sig") as fh:
        rows = {r["plot_id"]: r for r in csv.DictReader(fh)}
    doc = json.loads(report.read_text(encoding="utf-8"))
    verdicts = {f["properties"]["plot_id"]: f["properties"]["verdict"] for f in doc["features"]}
    free = {p for p, v in verdicts.items() if v == "deforestation_free"}
    included = {p for p, r in rows.items() if r["status"] == "included"}
    assert included == free
    assert rows["LCV-008"]["status"] == "override" and verdicts["LCV-008"] == "undetermined"
    refused = {p for p, r in rows.items() if r["status"] == "refused"}
    assert refused == set(verdicts) - free - {"LCV-008"}
    assert "LCV-005" in done.stderr  # deforestation detected: named on the console too
    summary = (out / "cooperativa.dds_summary.txt").read_text(encoding="utf-8")
    assert "LCV-008" in summary and "Field visit" in summary
    assert json.loads((out / "dds_build.json").read_text())["statements"][0]["file"] == xml.name
    heads = [e.text for e in root.iter(f"{{{contract.DDS_NS}}}hsHeading")]
    assert heads == ["090111", "180100"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--hs", "090111"], "--net-mass-kg"),
        (["--hs", "8471", "--net-mass-kg", "10"], "8471"),
        (["--hs", "090111", "--net-mass-kg", "10", "--country-of-activity", "PE"], "PE"),
        (["--hs", "090111", "--net-mass-kg", "10", "--accept", "LCV-008"], "PLOT=REASON"),
    ],
)
def test_bad_options_exit_2_with_the_reason(
    report: Path, tmp_path: Path, args: list[str], words: str
) -> None:
    done = run("dds", "build", report, "--out", tmp_path / "o", *args, "--lang", "en")
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_a_file_that_is_not_a_report_is_refused_by_name(tmp_path: Path) -> None:
    done = run("dds", "build", SAMPLE, "--out", tmp_path / "o", *BUILD)
    assert done.returncode == 2
    assert "cooperativa.geojson" in done.stderr and "eudr-check check" in done.stderr


def test_submit_status_withdraw_verify_against_the_stand_in(
    report: Path, tmp_path: Path, double: TracesDouble
) -> None:
    out = tmp_path / "dds"
    assert run("dds", "build", report, "--out", out, *BUILD).returncode == 1
    env = eu_env(double, tmp_path)
    done = run("dds", "submit", out, "--lang", "en", env=env)
    assert done.returncode == 0, done.stderr
    (uuid,) = double.statements
    assert f"UUID {uuid}" in done.stdout and double.dds_url in done.stdout

    again = run("dds", "submit", out, "--lang", "en", env=env)
    assert again.returncode == 2 and "already filed" in again.stderr and uuid in again.stderr

    status = run("dds", "status", "--lang", "en", env=env)
    assert status.returncode == 0, status.stderr
    stored = double.statements[uuid]
    assert "AVAILABLE" in status.stdout
    assert stored.reference and stored.reference in status.stdout
    assert stored.verification and stored.verification in status.stdout
    by_file = run("dds", "status", out, "--offline", env=env)
    assert by_file.returncode == 0 and stored.reference in by_file.stdout

    ok = run("dds", "verify", stored.reference, stored.verification, env=env)
    assert ok.returncode == 0 and "EXISTING_USABLE" in ok.stdout
    gone = run("dds", "withdraw", uuid, "--lang", "en", env=env)
    assert gone.returncode == 0 and "WITHDRAWN" in gone.stdout
    after = run("dds", "verify", stored.reference, stored.verification, env=env)
    assert after.returncode == 1 and "EXISTING_NON_USABLE" in after.stdout


def test_a_wrong_key_exits_3_naming_the_setting_and_nothing_is_filed(
    report: Path, tmp_path: Path, double: TracesDouble
) -> None:
    out = tmp_path / "dds"
    run("dds", "build", report, "--out", out, *BUILD)
    done = run("dds", "submit", out, "--lang", "en", env=eu_env(double, tmp_path, key="wrong-key"))
    assert done.returncode == 3
    assert "EUDR_CHECK_TRACES_AUTH_KEY" in done.stderr and "wrong-key" not in done.stderr
    assert "Traceback" not in done.stderr and double.statements == {}


def test_missing_credentials_are_explained(report: Path, tmp_path: Path) -> None:
    out = tmp_path / "dds"
    run("dds", "build", report, "--out", out, *BUILD)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EUDR_CHECK_TRACES")}
    env["EUDR_CHECK_REGISTRY_URL"] = f"sqlite:///{tmp_path / 'r.db'}"
    done = subprocess.run(
        [*CLI, "dds", "submit", str(out)], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 2 and "EUDR_CHECK_TRACES_USERNAME" in done.stderr


def test_an_edited_request_that_breaks_the_schema_is_not_sent(
    report: Path, tmp_path: Path, double: TracesDouble
) -> None:
    out = tmp_path / "dds"
    run("dds", "build", report, "--out", out, *BUILD)
    (xml,) = out.glob("*.dds_*.xml")
    xml.write_text(xml.read_text(encoding="utf-8").replace(">PE<", ">PER<", 1), encoding="utf-8")
    done = run("dds", "submit", xml, "--lang", "en", env=eu_env(double, tmp_path))
    assert done.returncode == 2 and "PER" in done.stderr and "XSD" in done.stderr
    assert double.exchanges == []
