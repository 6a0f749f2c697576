"""Tests for placing the raw files (lsbanalysis.store.fetch); no internet access.

Downloads are tested against a local HTTP server on the loopback interface.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from filelock import FileLock

from lsbanalysis.errors import ChecksumError, LsbError
from lsbanalysis.sources import Source, SourceFile, load_manifest, sha256_of
from lsbanalysis.store.fetch import fetch_all, fetch_file, url_file_name

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


# --- the addresses in sources.toml ----------------------------------------------------------


def test_every_address_names_the_file_it_claims() -> None:
    """A URL ends in a file of the same type as the file it fetches, or is a declared archive."""
    for _, f in ALL_FILES:
        if f.archive_member is not None:
            assert f.url, f.path
            assert url_file_name(f.url).lower().endswith(".zip"), f.url
            assert f.archive_member == f.name, f.path
        elif f.url:
            assert Path(url_file_name(f.url)).suffix.lower() == Path(f.path).suffix.lower(), (
                f"{f.path} is fetched from {f.url}, another type of file")
    refnis = _file("statbel/TU_COM_REFNIS.txt")[1]
    assert url_file_name(refnis.url) == "TU_COM_REFNIS.zip"
    assert refnis.archive_member == "TU_COM_REFNIS.txt"


# --- downloads from a local server on the loopback interface --------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        server = self.server
        if self.path.startswith("/hang/"):  # accept the request, never answer
            server.release.wait(60)  # type: ignore[attr-defined]
            return
        body = server.files.get(self.path)  # type: ignore[attr-defined]
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.files = {}  # type: ignore[attr-defined]
    httpd.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.release.set()  # type: ignore[attr-defined]
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def _url(httpd: ThreadingHTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}{path}"


def _source(*files: SourceFile) -> Source:
    return replace(ALL_FILES[0][0], id="test", files=tuple(files))


# Synthetic bytes: these tests are about transport, not about any file's contents.
REFNIS_LIKE = b"LVL_REFNIS|CD_REFNIS|CD_SUP_REFNIS\r\n4|13012|13000\r\n"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _archived(httpd, member: str = "TU_COM_REFNIS.txt", data: bytes = REFNIS_LIKE
              ) -> SourceFile:
    httpd.files["/REFNIS%20code/TU_COM_REFNIS.zip"] = _zip({member: data})
    return SourceFile(path="statbel/TU_COM_REFNIS.txt", sha256=hashlib.sha256(REFNIS_LIKE)
                      .hexdigest(), bytes=len(REFNIS_LIKE),
                      url=_url(httpd, "/REFNIS%20code/TU_COM_REFNIS.zip"),
                      archive_member="TU_COM_REFNIS.txt")


def test_hanging_network_fails_fast_listing_every_file(server, tmp_path: Path) -> None:
    """Defect 12: a host that accepts connections and never answers (30 s per file before)."""
    files = [SourceFile(path=f"statbel/f{i}.xlsx", sha256="0" * 64, bytes=10,
                        url=_url(server, f"/hang/f{i}.xlsx")) for i in range(8)]
    raw = tmp_path / "raw"
    start = time.monotonic()
    with pytest.raises(LsbError) as info:
        fetch_all(raw, sources=[_source(*files)], timeout=3, jobs=4, progress=False)
    elapsed = time.monotonic() - start
    assert elapsed < 12, f"gave up after {elapsed:.1f} s"
    message = str(info.value)
    assert "8 van de 8 bestanden" in message
    for f in files:
        assert f.name in message
    assert _files_below(raw) == []


def test_total_budget_covers_every_file(server, tmp_path: Path) -> None:
    """One budget for the whole fetch, whatever the number of files and downloads at a time."""
    files = [SourceFile(path=f"statbel/g{i}.xlsx", sha256="0" * 64, bytes=10,
                        url=_url(server, f"/hang/g{i}.xlsx")) for i in range(3)]
    start = time.monotonic()
    with pytest.raises(LsbError, match="3 van de 3"):
        fetch_all(tmp_path / "raw", sources=[_source(*files)], timeout=2, jobs=1,
                  progress=False)
    assert time.monotonic() - start < 10


def test_archive_is_unpacked_and_its_member_checked(server, tmp_path: Path) -> None:
    file = _archived(server)
    raw = tmp_path / "raw"
    counts = fetch_all(raw, sources=[_source(file)], progress=False)
    assert counts == {"download": 1}
    assert (raw / file.path).read_bytes() == REFNIS_LIKE
    assert _files_below(raw) == [raw / file.path]  # no archive, no temporary file


@pytest.mark.parametrize(
    ("member", "data", "error", "fragment"),
    [
        ("OTHER.txt", REFNIS_LIKE, LsbError, "has no member 'TU_COM_REFNIS.txt'"),
        ("TU_COM_REFNIS.txt", REFNIS_LIKE.replace(b"13012", b"13013"), ChecksumError,
         "does not have the sha256"),
        ("TU_COM_REFNIS.txt", REFNIS_LIKE + b"4|13013|13000\r\n", ChecksumError,
         "bytes, the source manifest"),
    ],
    ids=["wrong-member", "changed-member", "longer-member"],
)
def test_archive_with_the_wrong_member(server, tmp_path: Path, member, data, error,
                                       fragment) -> None:
    file = _archived(server, member, data)
    raw = tmp_path / "raw"
    (raw / "statbel").mkdir(parents=True)
    (raw / file.path).write_bytes(b"the copy already in place")
    with pytest.raises(error) as info:
        fetch_file(_source(file), file, raw, None)
    assert fragment in str(info.value)
    assert "TU_COM_REFNIS" in str(info.value)
    assert (raw / file.path).read_bytes() == b"the copy already in place"
    assert _files_below(raw) == [raw / file.path]


def test_not_an_archive_and_not_found(server, tmp_path: Path) -> None:
    file = _archived(server)
    server.files["/REFNIS%20code/TU_COM_REFNIS.zip"] = b"<html>moved</html>"
    with pytest.raises(LsbError, match="did not send a zip archive"):
        fetch_file(_source(file), file, tmp_path / "raw", None)
    missing = replace(file, url=_url(server, "/gone.zip"))
    with pytest.raises(LsbError, match=r"answered 404 Not Found\. Download it from"):
        fetch_file(_source(missing), missing, tmp_path / "raw", None)
    assert _files_below(tmp_path / "raw") == []


def test_partial_files_of_a_stopped_fetch_are_removed(server, tmp_path: Path) -> None:
    file = _archived(server)
    raw = tmp_path / "raw"
    (raw / "statbel").mkdir(parents=True)
    stale = [raw / "statbel" / ".TU_COM_REFNIS.txt.k3j2.part",
             raw / "statbel" / ".TU_COM_REFNIS.txt.9x1.member"]
    for path in stale:
        path.write_bytes(b"half a download")
    assert fetch_all(raw, sources=[_source(file)], progress=False) == {"download": 1}
    assert _files_below(raw) == [raw / file.path]


def test_two_fetches_into_one_folder_do_not_collide(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    with FileLock(str(tmp_path / ".raw.fetch.lock")), pytest.raises(
            LsbError, match="another `lsb data fetch` is placing files"):
        fetch_all(raw, mirror=tmp_path, progress=False)
    assert _files_below(raw) == []
