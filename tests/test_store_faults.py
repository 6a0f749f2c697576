"""Faults around the processed store: damaged files, interrupted builds, the environment.

Regression tests for issue 9 (defects 6 and 9, store side): a corrupt or incomplete
manifest.json, a truncated or bit-flipped Parquet file, a store folder left missing by a build
killed between its two renames, leftovers of killed builds, two builds at once, a full disk, a
read-only file system and impossible paths. Each must give one sentence naming the path and
what to do (exit 1 from the CLI, never a traceback) and keep what was there.

The disk-full and read-only cases use small tmpfs mounts (root in this sandbox and in CI);
they are skipped, saying why, where mounting is not permitted.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import geopandas
import pytest
from click.testing import CliRunner
from filelock import FileLock

import lsbanalysis
from lsbanalysis.cli import main
from lsbanalysis.errors import LsbError, StoreError
from lsbanalysis.paths import PROCESSED_DIR
from lsbanalysis.sources import load_manifest, sha256_of
from lsbanalysis.store import build, io
from lsbanalysis.store.build import build_store


def _snapshot(store: Path) -> dict[str, str]:
    return {p.name: sha256_of(p) for p in sorted(store.iterdir()) if p.is_file()}


def _leftovers(parent: Path, name: str = "p") -> list[str]:
    return sorted(p.name for p in parent.iterdir()
                  if p.name.startswith((f".{name}-building-", f".{name}-previous-")))


def _placeholder_raw(raw: Path, skip: frozenset[str] = frozenset({"statbel/REFNIS_2025.csv"})
                     ) -> Path:
    """A raw folder with an empty file at every manifest path but one: builds fail early."""
    for src in load_manifest():
        for f in src.files:
            if f.path not in skip:
                (raw / f.path).parent.mkdir(parents=True, exist_ok=True)
                (raw / f.path).touch()
    return raw


def _cli(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(main, list(args), env=env)
    assert "Traceback" not in result.output
    return result


def _frames(store: Path) -> tuple:
    """The frames of a store, to write it again with the build's own writer."""
    geo = {"geography": io.read_table(store / io.GEOGRAPHY_FILE),
           "crosswalk": io.read_table(store / io.CROSSWALK_FILE)}
    bounds = {"boundaries": geopandas.read_parquet(store / io.BOUNDARIES_FILE),
              "neighbours": io.read_table(store / io.NEIGHBOURS_FILE)}
    manifest = json.loads((store / io.MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest.pop("store_files", None)
    return io.read_table(store / io.OBSERVATIONS_FILE), geo, bounds, manifest


@pytest.fixture(scope="module")
def frames() -> tuple:
    return _frames(PROCESSED_DIR)


@pytest.fixture
def store(tmp_path: Path, frames: tuple) -> Path:
    """A store written by the build's writer (with the sha256 of each file in its manifest)."""
    out = tmp_path / "p"
    obs, geo, bounds, manifest = frames
    build._write_atomically(out, obs, geo, bounds, dict(manifest))
    return out


@contextlib.contextmanager
def _tmpfs(path: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs to test a full or read-only disk: {exc}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to test a full or read-only disk (needs root): "
                    f"{done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


# --- a damaged store ----------------------------------------------------------------------


def test_store_lists_the_sha256_of_its_files(store: Path) -> None:
    manifest = io.read_manifest(store)
    assert set(manifest["store_files"]) == set(io.STORE_FILES) - {io.MANIFEST_FILE}
    for name, entry in manifest["store_files"].items():
        assert entry == {"sha256": sha256_of(store / name), "bytes": (store / name).stat().st_size}
    ds = lsbanalysis.load(store)
    assert len(ds.observations) and len(ds.boundaries)


CORRUPT_MANIFESTS = {
    "not-json": ("{x", "not valid JSON"),
    "not-an-object": ("[]", "expected a JSON object"),
    "no-sources": (lambda m: {k: v for k, v in m.items() if k != "sources"}, "no sources"),
    "empty-sources": (lambda m: {**m, "sources": []}, "empty or not a list"),
    "source-without-files": (
        lambda m: {**m, "sources": [{k: v for k, v in m["sources"][0].items() if k != "files"}]},
        "lacks files"),
    "file-without-sha256": (
        lambda m: {**m, "sources": [{**m["sources"][0], "files": [{"name": "x.xls"}]}]},
        "lacks its name or sha256"),
    "no-built-at": (lambda m: {k: v for k, v in m.items() if k != "built_at"}, "no built_at"),
    "other-format": (lambda m: {**m, "store_format": 99}, "store format 99"),
    "not-utf8": (b"\xff\xfe\x00garbage", "cannot be read"),
}


@pytest.mark.parametrize("case", CORRUPT_MANIFESTS)
def test_corrupt_manifest(store: Path, case: str) -> None:
    content, fragment = CORRUPT_MANIFESTS[case]
    path = store / io.MANIFEST_FILE
    if callable(content):
        path.write_text(json.dumps(content(json.loads(path.read_text(encoding="utf-8")))),
                        encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(StoreError) as info:
        lsbanalysis.load(store)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)
    assert "lsb data build" in str(info.value)

    result = _cli("data", "info", env={"LSB_PROCESSED_DIR": str(store)})
    assert result.exit_code == 1
    assert result.output.startswith("Fout: ")
    assert str(path) in result.output and fragment in result.output


def test_repair_hint_for_the_embedded_store(tmp_path: Path) -> None:
    assert "git checkout -- data/processed" in io.repair_hint(PROCESSED_DIR)
    assert io.repair_hint(tmp_path) == f"rebuild it with `lsb data build --out {tmp_path}`"


def _flip_byte(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x01
    path.write_bytes(bytes(data))


def test_bit_flipped_parquet(store: Path) -> None:
    _flip_byte(store / io.OBSERVATIONS_FILE)
    with pytest.raises(StoreError) as info:
        lsbanalysis.load(store)
    message = str(info.value)
    assert str(store / io.OBSERVATIONS_FILE) in message
    assert "damaged" in message and "sha256" in message
    assert f"lsb data build --out {store}" in message

    result = _cli("compare", "--gemeente", "Herenthout", "--referentie", "ISOM",
                  env={"LSB_PROCESSED_DIR": str(store)})
    assert result.exit_code == 1
    assert result.output.startswith("Fout: ") and io.OBSERVATIONS_FILE in result.output


def test_bit_flipped_boundaries_fail_when_used(store: Path) -> None:
    _flip_byte(store / io.BOUNDARIES_FILE)
    ds = lsbanalysis.load(store)  # boundaries are read on first use
    with pytest.raises(StoreError, match=r"boundaries\.parquet is damaged"):
        ds.boundaries  # noqa: B018


@pytest.mark.parametrize("with_checksums", [True, False], ids=["checksummed", "older-store"])
def test_truncated_parquet(store: Path, with_checksums: bool) -> None:
    if not with_checksums:  # a store built before manifests listed their files' sha256
        manifest = io.read_manifest(store)
        del manifest["store_files"]
        io.write_manifest(store, manifest)
    path = store / io.GEOGRAPHY_FILE
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(StoreError) as info:
        lsbanalysis.load(store)
    assert str(path) in str(info.value)
    assert ("sha256" if with_checksums else "cannot be read as Parquet") in str(info.value)


def test_missing_table(store: Path) -> None:
    (store / io.CROSSWALK_FILE).unlink()
    with pytest.raises(StoreError, match=r"crosswalk\.parquet is missing"):
        lsbanalysis.load(store)


# --- interrupted builds: backups, leftovers, the lock ---------------------------------------


def _killed_between_renames(store: Path) -> Path:
    """The state a build killed between the two renames of atomic.replace_dir leaves."""
    (store / "README.md").write_text("the store's own README\n", encoding="utf-8")
    backup = store.with_name(f".{store.name}-previous-4242")
    store.rename(backup)
    (store.parent / f".{store.name}-building-abc123").mkdir()
    (store.parent / f".{store.name}-building-abc123" / "observations.parquet").write_bytes(b"x")
    return backup


def test_load_says_what_happened_when_a_build_was_killed(store: Path) -> None:
    backup = _killed_between_renames(store)
    with pytest.raises(StoreError) as info:
        lsbanalysis.load(store)
    message = str(info.value)
    assert f"{store} is missing" in message
    assert str(backup) in message
    assert "lsb data build" in message


def test_next_build_restores_the_store_and_removes_leftovers(store: Path, tmp_path: Path) -> None:
    before = _snapshot(store) | {"README.md": None}
    _killed_between_renames(store)
    raw = _placeholder_raw(tmp_path / "raw")
    # The build fails (a raw file is missing), but cleans up first.
    result = _cli("data", "build", "--raw", str(raw), "--out", str(store))
    assert result.exit_code == 1
    assert "REFNIS_2025.csv" in result.output
    assert "restored from .p-previous-4242" in result.output
    assert "removed .p-building-abc123" in result.output
    assert (store / "README.md").read_text(encoding="utf-8") == "the store's own README\n"
    after = _snapshot(store)
    assert after == {**before, "README.md": after["README.md"]}
    assert _leftovers(tmp_path) == []
    assert len(lsbanalysis.load(store).observations) > 0


def test_stale_backups_are_removed_when_the_store_exists(store: Path, tmp_path: Path) -> None:
    before = _snapshot(store)
    shutil.copytree(store, tmp_path / ".p-previous-77")
    (tmp_path / ".p-building-x").mkdir()
    notes: list[str] = []
    with pytest.raises(StoreError, match="missing raw file"):
        build_store(_placeholder_raw(tmp_path / "raw"), store, progress=False, say=notes.append)
    assert _snapshot(store) == before
    assert _leftovers(tmp_path) == []
    assert sorted(notes) == ["removed .p-building-x, left by a run that was stopped",
                             "removed .p-previous-77, left by a run that was stopped"]


def test_two_builds_of_one_store_do_not_collide(store: Path, tmp_path: Path) -> None:
    before = _snapshot(store)
    with FileLock(str(tmp_path / ".p.lock")):  # another build is running
        result = _cli("data", "build", "--raw", str(_placeholder_raw(tmp_path / "raw")),
                      "--out", str(store))
    assert result.exit_code == 1
    assert "another `lsb data build` is writing" in result.output
    assert str(store) in result.output
    assert _snapshot(store) == before


@pytest.mark.parametrize("content", ["folder", "files"])
def test_out_that_is_not_a_store_is_refused(tmp_path: Path, content: str) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    if content == "folder":
        (out / "letters").mkdir()
        (out / "letters" / "a.txt").write_text("keep me", encoding="utf-8")
    else:
        (out / "notes.txt").write_text("keep me", encoding="utf-8")
    result = _cli("data", "build", "--raw", str(_placeholder_raw(tmp_path / "raw")),
                  "--out", str(out))
    assert result.exit_code == 1
    assert f"{out} is not a processed store" in result.output
    assert "--out" in result.output
    kept = out / ("letters/a.txt" if content == "folder" else "notes.txt")
    assert kept.read_text(encoding="utf-8") == "keep me"


def test_out_with_only_a_readme_is_a_store_folder(tmp_path: Path) -> None:
    out = tmp_path / "p"
    out.mkdir()
    (out / "README.md").write_text("store readme\n", encoding="utf-8")
    with pytest.raises(StoreError, match="missing raw file"):  # got past the --out check
        build_store(_placeholder_raw(tmp_path / "raw"), out, progress=False)


# --- the environment: impossible paths, a read-only or full disk ----------------------------


def test_impossible_paths(tmp_path: Path) -> None:
    raw = _placeholder_raw(tmp_path / "raw")
    long_name = "x" * 300
    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    cases = [
        (["--raw", str(raw), "--out", str(tmp_path / long_name / "p")], "too long", "--out"),
        (["--raw", str(tmp_path / long_name), "--out", str(tmp_path / "p")], "too long", "--raw"),
        (["--raw", str(raw), "--out", str(a_file / "p")], "is a file, not a folder", "--out"),
        (["--raw", str(raw), "--out", str(a_file)], "is a file", "--out"),
        (["--raw", str(tmp_path / "no" / "such" / "raw"), "--out", str(tmp_path / "p")],
         "does not exist", "lsb data fetch"),
    ]
    for args, fragment, hint in cases:
        result = _cli("data", "build", *args)
        assert result.exit_code == 1, args
        assert result.output.startswith("Fout: "), args
        assert fragment in result.output and hint in result.output, (args, result.output)
    assert not (tmp_path / "p").exists()


def test_read_only_file_system(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "ro", "1m", read_only=True) as ro:
        result = _cli("data", "build", "--raw", str(_placeholder_raw(tmp_path / "raw")),
                      "--out", str(ro / "p"))
        assert result.exit_code == 1
        assert f"{ro} is on a read-only file system" in result.output
        assert "Choose another --out" in result.output

        result = _cli("data", "fetch", "--raw", str(ro / "raw"), "--mirror", str(tmp_path))
        assert result.exit_code == 1
        assert "read-only file system" in result.output and "--raw" in result.output


def test_disk_full_while_writing_keeps_the_previous_store(tmp_path: Path, frames: tuple) -> None:
    size = sum(p.stat().st_size for p in PROCESSED_DIR.iterdir())
    with _tmpfs(tmp_path / "disk", f"{int(size * 1.4) // 1024}k") as disk:
        out = disk / "p"
        shutil.copytree(PROCESSED_DIR, out)  # the previous store, with its README
        before = _snapshot(out)
        obs, geo, bounds, manifest = frames
        with pytest.raises(StoreError) as info:
            build._write_atomically(out, obs, geo, bounds, dict(manifest))
        message = str(info.value)
        assert message.startswith("the disk is full")
        assert f"The previous store in {out} is intact" in message
        assert _snapshot(out) == before
        assert _leftovers(disk) == []
        assert len(lsbanalysis.load(out).observations) == len(obs)


@pytest.mark.realdata
def test_cli_build_on_a_full_disk(mirror: Path, tmp_path: Path) -> None:
    size = sum(p.stat().st_size for p in PROCESSED_DIR.iterdir())
    with _tmpfs(tmp_path / "disk", f"{int(size * 1.4) // 1024}k") as disk:
        out = disk / "p"
        shutil.copytree(PROCESSED_DIR, out)
        before = _snapshot(out)
        result = _cli("data", "build", "--raw", str(mirror), "--out", str(out), "--jobs", "2")
        assert result.exit_code == 1
        assert "Fout: the disk is full" in result.output
        assert f"The previous store in {out} is intact" in result.output
        assert _snapshot(out) == before
        assert _leftovers(disk) == []


@pytest.mark.realdata
def test_fetch_on_a_full_disk(mirror: Path, tmp_path: Path) -> None:
    from lsbanalysis.store.fetch import fetch_all

    source = next(s for s in load_manifest() if s.id == "statbel_real_estate_quarter")
    with _tmpfs(tmp_path / "disk", "1m") as disk:  # the workbook has 4 MB
        with pytest.raises(LsbError) as info:
            fetch_all(disk / "raw", mirror=mirror, sources=[source], progress=False)
        message = str(info.value)
        assert message.startswith("the disk is full: could not write "
                                  "NL_immo_statbel_kwartaal_per_gemeente.xlsx")
        assert "Files already in place are unchanged" in message
        assert [p for p in (disk / "raw").rglob("*") if p.is_file()] == []
