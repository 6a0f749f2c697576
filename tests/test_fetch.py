"""Tests for placing the raw files (lsbanalysis.store.fetch); no network access."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsbanalysis.errors import ChecksumError, LsbError
from lsbanalysis.sources import Source, SourceFile, load_manifest, sha256_of
from lsbanalysis.store.fetch import fetch_all, fetch_file

ALL_FILES = [(s, f) for s in load_manifest() for f in s.files]


def _file(path: str) -> tuple[Source, SourceFile]:
    return next((s, f) for s, f in ALL_FILES if f.path == path)


def _files_below(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.realdata
def test_fetch_all_from_mirror(mirror: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    counts = fetch_all(raw, mirror=mirror, progress=False)
    assert counts == {"mirror": len(ALL_FILES)}
    for _, f in ALL_FILES:
        target = raw / f.path
        assert target.is_file(), f.path
        assert target.stat().st_size == f.bytes, f.path
        assert sha256_of(target) == f.sha256, f.path
    # Only the manifest's files, nothing else (no temporary files, no extra mirror files).
    assert _files_below(raw) == sorted(raw / f.path for _, f in ALL_FILES)

    mtimes = {p: p.stat().st_mtime_ns for p in _files_below(raw)}
    again = fetch_all(raw, mirror=mirror, progress=False)
    assert again == {"present": len(ALL_FILES)}
    assert {p: p.stat().st_mtime_ns for p in _files_below(raw)} == mtimes


@pytest.mark.realdata
def test_fetch_replaces_a_wrong_local_copy(mirror: Path, tmp_path: Path) -> None:
    source, file = _file("statbel/REFNIS_2025.csv")
    target = tmp_path / "raw" / file.path
    target.parent.mkdir(parents=True)
    target.write_text("an older edition\n", encoding="utf-8")
    path, origin = fetch_file(source, file, tmp_path / "raw", mirror)
    assert (path, origin) == (target, "mirror")
    assert sha256_of(target) == file.sha256


def test_checksum_mismatch(tmp_path: Path) -> None:
    source, file = _file("statbel/REFNIS_2025.csv")
    fake = tmp_path / "mirror" / file.path
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"Code NIS;Nom\n13012;Herenthout\n")  # not the published file
    raw = tmp_path / "raw"
    with pytest.raises(ChecksumError, match=r"REFNIS_2025\.csv") as info:
        fetch_file(source, file, raw, tmp_path / "mirror")
    assert file.sha256[:12] in str(info.value)
    assert not (raw / file.path).exists()
    assert _files_below(raw) == []  # no half-written or temporary file left behind


def test_checksum_mismatch_through_fetch_all(tmp_path: Path) -> None:
    """fetch_all tries every file and names the one with the wrong checksum first."""
    _, first = ALL_FILES[0]
    fake = tmp_path / "mirror" / first.path
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"PK\x03\x04 truncated")
    raw = tmp_path / "raw"
    with pytest.raises(ChecksumError, match=first.name):
        fetch_all(raw, mirror=tmp_path / "mirror", progress=False)
    assert _files_below(raw) == []


def test_file_absent_from_mirror(tmp_path: Path) -> None:
    source, file = _file("statbel/REFNIS_2025.csv")
    (tmp_path / "mirror").mkdir()
    with pytest.raises(LsbError, match=r"REFNIS_2025\.csv"):
        fetch_file(source, file, tmp_path / "raw", tmp_path / "mirror")
    assert _files_below(tmp_path / "raw") == []


def test_no_url_and_no_mirror(tmp_path: Path) -> None:
    no_url = [(s, f) for s, f in ALL_FILES if not f.url]
    assert no_url, "every manifest file has a URL; this test needs one without"
    for source, file in no_url:
        with pytest.raises(LsbError) as info:
            fetch_file(source, file, tmp_path / "raw", None)
        assert not isinstance(info.value, ChecksumError)
        message = str(info.value)
        assert file.name in message
        assert source.page in message
        assert "--mirror" in message
    assert _files_below(tmp_path / "raw") == []


def test_present_file_is_not_fetched_again(tmp_path: Path) -> None:
    """A file already in place with the right checksum needs neither mirror nor URL."""
    source, file = next((s, f) for s, f in ALL_FILES if not f.url)
    target = tmp_path / "raw" / file.path
    target.parent.mkdir(parents=True)
    # A stand-in with the manifest's checksum: patch the expected hash rather than the bytes.
    target.write_bytes(b"stand-in")
    stand_in = SourceFile(path=file.path, sha256=sha256_of(target), bytes=8, url=None)
    assert fetch_file(source, stand_in, tmp_path / "raw", None) == (target, "present")
