"""Tests for `lsb data info|build` (click's CliRunner)."""

from __future__ import annotations

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


# The CLI build from the official files is tested in test_store_build.py
# (test_rebuild_is_byte_identical), in a separate process.
