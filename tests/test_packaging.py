"""The wheel carries the flows and the package data: `python -m flows.deploy` works from a
non-editable install, with no PYTHONPATH and outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Offline: the environment's own setuptools (a dev dependency) builds it.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=240,
    )  # fmt: skip
    (found,) = out.glob("eudr_check-*.whl")
    return found


def test_the_wheel_holds_the_flows_and_the_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in ("flows/__init__.py", "flows/check.py", "flows/deploy.py", "flows/tasks.py"):
        assert module in names
    assert "eudr_check/cli/__init__.py" in names
    assert "eudr_check/engine/run.py" in names
    assert any(n.startswith("eudr_check/store/migrations/versions/") for n in names)
    assert any(n.startswith("eudr_check/api/templates/") for n in names)
    # The EU's contract and the catalog that maps its schemaLocation URLs to these files.
    assert "eudr_check/data/eu_traces_api/catalog.xml" in names
    dds = "eudr_check/data/eu_traces_api/EUDRDueDiligenceStatementServiceV3/"
    assert f"{dds}EUDRDueDiligenceStatementServiceV3.wsdl" in names
    assert f"{dds}xsd4-due-diligence-statement-v3.xsd" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "scripts/")) for n in names)


def test_flows_import_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=240,
    )  # fmt: skip
    probe = (
        "import flows, flows.deploy, eudr_check;"
        "print(flows.__file__); print(eudr_check.__file__);"
        "print(sorted(d.name for d in flows.deploy.deployments()));"
        "from eudr_check.dds import contract;"
        "assert contract.ROOT.is_relative_to(__import__('pathlib').Path(eudr_check.__file__)"
        ".parent), contract.ROOT;"
        "print(sum(f.is_file() for f in contract.catalog().values()))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)  # the wheel's files ahead of the editable checkout
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    flows_file, package_file, deployments, mapped = done.stdout.splitlines()[-4:]
    assert Path(flows_file).is_relative_to(target)
    assert Path(package_file).is_relative_to(target)
    assert deployments == "['bundle', 'check', 'check-queue', 'dds-poll', 'ingest', 'nightly']"
    assert int(mapped) >= 10  # every schemaLocation of the contract found in the wheel
