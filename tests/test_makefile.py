"""`make report` passes GEMEENTE, REFERENTIE and JAAR as one argument each, and runs none of them.

Make runs for real, with a stand-in ``lsb`` that records its arguments (VENV and BIN point to a
temporary folder, so nothing is installed and no report is made).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def fake_venv(tmp_path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    lsb = venv / "bin" / "lsb"
    lsb.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "with open(os.environ['LSB_ARGV_FILE'], 'w') as f:\n"
        "    json.dump(sys.argv[1:], f)\n"
    )
    lsb.chmod(0o755)
    (venv / ".installed-stamp").touch()  # newer than pyproject.toml: `env` is up to date
    return venv


def make_report(fake_venv: Path, tmp_path: Path, **variables: str) -> list[str]:
    argv_file = tmp_path / "argv.json"
    args = [f"{k}={v}" for k, v in variables.items()]
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), "report", f"VENV={fake_venv}",
         f"BIN={fake_venv / 'bin'}", *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "LSB_ARGV_FILE": str(argv_file), "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(argv_file.read_text())


def test_defaults(fake_venv, tmp_path):
    assert make_report(fake_venv, tmp_path) == [
        "report", "--gemeente", "Herenthout", "--referentie", "ISOM", "--pdf"]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"REFERENTIE": "Geel, Mol, Balen"}, ["--referentie", "Geel, Mol, Balen"]),
        ({"GEMEENTE": "Braine-l'Alleud"}, ["--gemeente", "Braine-l'Alleud"]),
        ({"GEMEENTE": 'Sint-"Genesius"-Rode'}, ["--gemeente", 'Sint-"Genesius"-Rode']),
        ({"JAAR": "2022"}, ["--jaar", "2022"]),
    ],
)
def test_values_arrive_as_one_argument(fake_venv, tmp_path, variables, expected):
    argv = make_report(fake_venv, tmp_path, **variables)
    joined = json.dumps(argv)
    assert json.dumps(expected)[1:-1] in joined


def test_no_shell_injection(fake_venv, tmp_path):
    marker = tmp_path / "INJECTED"
    for value in (f"Olen; touch {marker}; true", f"Olen$(touch {marker})",
                  f"Olen`touch {marker}`", f"Olen' && touch {marker} && echo '",
                  f"Olen$(shell touch {marker})"):
        argv = make_report(fake_venv, tmp_path, GEMEENTE=value)
        assert argv[1:3] == ["--gemeente", value]
        assert not marker.exists(), value
