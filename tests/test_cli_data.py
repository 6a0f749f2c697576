"""Tests for `lsb data info|build` (click's CliRunner)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lsbanalysis.cli import main
from lsbanalysis.paths import PROCESSED_DIR
from lsbanalysis.store import io


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("LSB_PROCESSED_DIR", raising=False)
    return CliRunner()


def test_info_lists_the_sources(runner: CliRunner) -> None:
    result = runner.invoke(main, ["data", "info"])
    assert result.exit_code == 0, result.output
    assert str(PROCESSED_DIR) in result.output
    manifest = io.read_manifest(PROCESSED_DIR)
    for source in manifest["sources"]:
        assert source["id"] in result.output
    assert "rijen" in result.output


def test_info_without_store(runner: CliRunner, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSB_PROCESSED_DIR", str(tmp_path))
    result = runner.invoke(main, ["data", "info"])
    assert result.exit_code == 1
    assert "lsb data build" in result.output
    assert "Traceback" not in result.output


def test_build_with_missing_raw_folder(runner: CliRunner, tmp_path: Path) -> None:
    raw = tmp_path / "does-not-exist"
    result = runner.invoke(main, ["data", "build", "--raw", str(raw), "--out",
                                  str(tmp_path / "p")])
    assert result.exit_code == 1
    assert result.output.startswith("Fout: ")
    assert str(raw) in result.output
    assert "lsb data fetch" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "p").exists()


@pytest.mark.realdata
def test_build_from_mirror(runner: CliRunner, mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "p"
    result = runner.invoke(main, ["data", "build", "--raw", str(mirror), "--out", str(out),
                                  "--jobs", "2"])
    assert result.exit_code == 0, result.output
    manifest = io.read_manifest(out)
    rows = sum(s.get("rows", 0) for s in manifest["sources"])
    assert rows > 1_000_000
    assert f"{rows:,} observaties" in result.stdout
    assert re.search(rf"{len(manifest['sources'])} bronnen", result.stdout)
    assert sorted(p.name for p in out.iterdir()) == sorted(io.STORE_FILES)
