"""Tests for building the processed store (lsbanalysis.store.build).

The real-data tests build the store once per module from the official files (mirror fixture)
and check it end to end; the failure tests work on copies in tmp_path, never on the mirror.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pytest

import lsbanalysis
from lsbanalysis.errors import (
    ChecksumError,
    LsbError,
    SourceFormatError,
    StoreError,
    UnknownMunicipalityError,
)
from lsbanalysis.paths import REPO_DIR
from lsbanalysis.sources import load_manifest, sha256_of
from lsbanalysis.store import build, io
from lsbanalysis.store.build import build_store, check_codes
from tests.built_store import BuiltStore

HERENTHOUT = "13012"


Built = BuiltStore


@pytest.fixture(scope="module")
def built(built_store: BuiltStore) -> BuiltStore:
    """The store built once per session from the official files (conftest.built_store)."""
    return built_store


def _snapshot(store: Path) -> dict[str, str]:
    """sha256 of every file of a store folder."""
    return {p.name: sha256_of(p) for p in sorted(store.iterdir()) if p.is_file()}


def _leftovers(parent: Path, name: str = "p") -> list[Path]:
    return sorted(parent.glob(f".{name}-building-*")) + sorted(parent.glob(f".{name}-previous-*"))


def _writable_copy(mirror: Path, dest: Path) -> Path:
    """Copy the mirror to ``dest`` (files and folders writable, whatever the mirror's modes)."""
    shutil.copytree(mirror, dest, copy_function=shutil.copyfile)
    for folder, _, _ in os.walk(dest):
        os.chmod(folder, 0o755)
    return dest


def _value(obs: pd.DataFrame, source: str, measure: str, nis: str, period: str) -> pd.Series:
    rows = obs[
        (obs["source"] == source)
        & (obs["measure"] == measure)
        & (obs["nis"] == nis)
        & (obs["period"] == period)
    ]
    assert len(rows) == 1, f"{source}/{measure}/{nis}/{period}: {len(rows)} rows"
    return rows.iloc[0]


# --- the store built from the official files ------------------------------------------------


@pytest.mark.realdata
def test_build_writes_every_store_file(built: Built) -> None:
    assert sorted(p.name for p in built.out.iterdir()) == sorted(io.STORE_FILES)
    assert io.read_manifest(built.out) == built.manifest
    assert built.manifest["store_format"] == io.STORE_FORMAT
    assert built.manifest["lsbanalysis_version"] == lsbanalysis.__version__


@pytest.mark.realdata
def test_manifest_lists_every_source_with_its_checksums(built: Built) -> None:
    sources = load_manifest()
    entries = built.manifest["sources"]
    assert [e["id"] for e in entries] == [s.id for s in sources]
    for src, entry in zip(sources, entries, strict=True):
        assert entry["role"] == src.role
        assert entry["geo_version"] == src.geo_version
        assert [f["path"] for f in entry["files"]] == [f.path for f in src.files]
        for expected, actual in zip(src.files, entry["files"], strict=True):
            assert actual["sha256"] == expected.sha256, expected.path
            assert actual["bytes"] == expected.bytes, expected.path
            assert actual["matches_manifest"] is True, expected.path


@pytest.mark.realdata
def test_row_counts_per_source(built: Built) -> None:
    counts = built.observations.groupby("source", observed=True).size()
    for entry in built.manifest["sources"]:
        if entry["role"] != "observations":
            assert "rows" not in entry, entry["id"]
            continue
        assert entry["rows"] > 0, entry["id"]
        assert entry["rows"] == counts[entry["id"]], entry["id"]
    assert sum(e.get("rows", 0) for e in built.manifest["sources"]) == len(built.observations)


@pytest.mark.realdata
def test_observation_invariants(built: Built) -> None:
    obs = built.observations
    assert obs["nis"].astype(str).str.fullmatch(r"\d{5}").all()
    assert set(obs["status"].astype(str).unique()) <= {"ok", "suppressed", "missing"}
    assert (obs["value"].isna() == (obs["status"] != "ok")).all()
    assert not obs.duplicated(["source", "measure", "nis", "period"]).any()
    # Suppressed cells are NaN, never 0 (spot check on a cell Statbel suppresses).
    cell = _value(obs, "statbel_income_bands_2022", "indiv_declarations_zero_income",
                  HERENTHOUT, "2022")
    assert cell["status"] == "suppressed"
    assert np.isnan(cell["value"])


@pytest.mark.realdata
def test_key_figures_income_2022(built: Built) -> None:
    obs = built.observations
    src = "statbel_income_bands_2022"
    expected = {
        "declarations_nonzero": 5_710,
        "declarations_band_lt10k": 623,
        "declarations_band_10k_20k": 800,
        "declarations_band_20k_30k": 1_425,
        "declarations_band_30k_40k": 910,
        "declarations_band_40k_50k": 646,
        "declarations_band_gt50k": 1_306,
        "income_median_per_declaration": 30_024,
    }
    for measure, value in expected.items():
        cell = _value(obs, src, measure, HERENTHOUT, "2022")
        assert cell["status"] == "ok", measure
        assert cell["value"] == value, measure
        assert cell["geo_version"] == "2019"
    bands = sum(expected[m] for m in expected if "_band_" in m)
    assert bands == expected["declarations_nonzero"]
    arr = _value(obs, src, "income_median_per_declaration", "13000", "2022")
    assert arr["level"] == "arrondissement"
    assert arr["value"] == 30_743


@pytest.mark.realdata
def test_key_figures_real_estate_and_jobseekers_2024(built: Built) -> None:
    obs = built.observations
    price = _value(obs, "statbel_real_estate_year", "price_median_houses", HERENTHOUT, "2024")
    sales = _value(obs, "statbel_real_estate_year", "sales_houses", HERENTHOUT, "2024")
    assert (price["value"], price["unit"]) == (349_000, "eur")
    assert (sales["value"], sales["unit"]) == (71, "count")
    rate = _value(obs, "vdab_jobseekers", "jobseeker_rate", HERENTHOUT, "2024")
    nwwz = _value(obs, "vdab_jobseekers", "nwwz", HERENTHOUT, "2024")
    assert (rate["value"], rate["unit"]) == (4.9, "percent")
    assert nwwz["value"] == 227


@pytest.mark.realdata
def test_population_structure_reaches_the_store(built: Built) -> None:
    """Every TF_SOC_POP_STRUCT year is its own source, with all measures, on its own map."""
    from lsbanalysis.readers.population_structure import MEASURES

    obs = built.observations
    entries = {e["id"]: e for e in built.manifest["sources"]}
    for year in range(2015, 2023):
        source = f"statbel_population_structure_{year}"
        rows = obs[obs["source"] == source]
        assert set(rows["measure"].astype(str)) == set(MEASURES), source
        assert set(rows["period"].astype(str)) == {str(year)}, source
        assert set(rows["geo_version"].astype(str)) == {"1977" if year < 2019 else "2019"}
        assert rows["nis"].nunique() == (589 if year < 2019 else 581), source
        assert entries[source]["rows"] == len(rows) == len(MEASURES) * rows["nis"].nunique()
        assert (entries[source]["first_period"], entries[source]["last_period"]) == (
            str(year), str(year))
    # Herenthout on 1 January 2022 (population/SOURCES.md) and its pyramid.
    for measure, value in {"population_total": 9_287, "population_age_65_plus": 2_086,
                           "population_age_80_plus": 593, "population_age_0_17": 1_586,
                           "population_non_belgian": 627}.items():
        assert _value(obs, "statbel_population_structure_2022", measure, HERENTHOUT,
                      "2022")["value"] == value, measure
    for word, total in (("men", 4_601), ("women", 4_686)):
        bands = [m for m in MEASURES if m.startswith(f"population_{word}_band_")]
        her = obs[(obs["source"] == "statbel_population_structure_2022")
                  & (obs["nis"] == HERENTHOUT) & obs["measure"].isin(bands)]
        assert len(her) == 20 and her["value"].sum() == total, word
    # 2015 comes from the zip now, with the figure the .RData gave.
    assert _value(obs, "statbel_population_structure_2015", "population_total", HERENTHOUT,
                  "2015")["value"] == 8_804


@pytest.mark.realdata
def test_geography(built: Built) -> None:
    geo = built.geography
    munis = geo[geo["level"] == "municipality"]
    assert munis.groupby("geo_version").size().to_dict() == {"1977": 589, "2019": 581, "2025": 565}
    vorselaar = munis[munis["name_nl"] == "Vorselaar"]
    assert set(vorselaar["nis"]) == {"13044"}
    assert set(vorselaar["geo_version"]) == {"1977", "2019", "2025"}


@pytest.mark.realdata
def test_built_store_loads(built: Built) -> None:
    ds = lsbanalysis.load(built.out)
    assert ds.municipality("Herenthout").nis == HERENTHOUT
    assert ds.municipality("Vorselaar").nis == "13044"
    assert len(ds.crosswalk) and len(ds.neighbours)


@pytest.mark.realdata
def test_rebuild_is_byte_identical(built: Built, mirror: Path, tmp_path: Path) -> None:
    """`lsb data build` in another process (other hash seed, one worker) writes the same bytes.

    Only ``built_at`` in manifest.json differs, so a rebuild from unchanged raw files changes
    nothing in git and nothing in a report's fingerprint.
    """
    out = tmp_path / "again"
    done = subprocess.run(
        [sys.executable, "-m", "lsbanalysis.cli", "data", "build", "--raw", str(mirror),
         "--out", str(out), "--jobs", "1"],
        cwd=REPO_DIR, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert done.returncode == 0, done.stderr
    manifest = io.read_manifest(out)
    rows = sum(s.get("rows", 0) for s in manifest["sources"])
    assert f"{rows:,} observaties, {len(manifest['sources'])} bronnen" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(io.STORE_FILES)
    for name in io.STORE_FILES:
        if name != io.MANIFEST_FILE:
            assert sha256_of(out / name) == sha256_of(built.out / name), name
    assert {**manifest, "built_at": None} == {**built.manifest, "built_at": None}


# --- a failed build keeps the previous store ------------------------------------------------


@pytest.mark.realdata
def test_broken_raw_file_keeps_previous_store(built: Built, mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "p"
    shutil.copytree(built.out, out)  # a good previous store
    (out / "README.md").write_text("not part of the store\n", encoding="utf-8")
    before = _snapshot(out)
    raw = _writable_copy(mirror, tmp_path / "raw")
    broken = raw / "statbel" / "fisc2022_C_NL.xls"
    broken.write_bytes(broken.read_bytes()[:10_000])  # truncated download

    # By default a changed file stops the build before anything is read.
    with pytest.raises(ChecksumError, match=r"fisc2022_C_NL\.xls") as refused:
        build_store(raw, out, progress=False, jobs=2)
    assert sha256_of(broken) in str(refused.value)
    assert "--accept-new-edition" in str(refused.value)
    assert _snapshot(out) == before

    # Accepted as a new edition it is read, and fails there; jobs=2: the reader's error must
    # cross the worker process intact.
    with pytest.raises(SourceFormatError, match=r"fisc2022_C_NL\.xls") as info:
        build_store(raw, out, progress=False, jobs=2, accept_new_editions=True)
    assert info.value.path == broken

    assert _snapshot(out) == before
    assert _leftovers(tmp_path) == []


@pytest.mark.realdata
def test_failure_while_writing_keeps_previous_store(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "p"
    shutil.copytree(built.out, out)
    before = _snapshot(out)
    geo = {
        "geography": built.geography,
        "crosswalk": io.read_table(out / io.CROSSWALK_FILE),
    }
    bounds = {
        "boundaries": geopandas.read_parquet(out / io.BOUNDARIES_FILE),
        "neighbours": io.read_table(out / io.NEIGHBOURS_FILE),
    }
    small = built.observations.head(100)
    manifest = dict(built.manifest, built_at="2000-01-01T00:00:00+00:00")

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    with monkeypatch.context() as m:
        m.setattr(io, "write_manifest", disk_full)
        with pytest.raises(StoreError, match="disk is full") as info:
            build._write_atomically(out, small, geo, bounds, manifest)
    assert f"previous store in {out} is intact" in str(info.value)
    assert _snapshot(out) == before
    assert _leftovers(tmp_path) == []

    # The same write without the failure replaces the store and keeps extra files.
    (out / "README.md").write_text("kept\n", encoding="utf-8")
    build._write_atomically(out, small, geo, bounds, manifest)
    assert io.read_manifest(out)["built_at"] == "2000-01-01T00:00:00+00:00"
    assert len(io.read_table(out / io.OBSERVATIONS_FILE)) == 100
    assert (out / "README.md").read_text(encoding="utf-8") == "kept\n"
    assert _leftovers(tmp_path) == []


# --- errors found before any work (no official files needed) --------------------------------


def _placeholder_raw(raw: Path, skip: set[str]) -> Path:
    """A raw folder with an (empty) file at every manifest path except those in ``skip``."""
    for src in load_manifest():
        for f in src.files:
            if f.path not in skip:
                (raw / f.path).parent.mkdir(parents=True, exist_ok=True)
                (raw / f.path).touch()
    return raw


def test_missing_raw_file(tmp_path: Path) -> None:
    missing = "statbel/REFNIS_2025.csv"
    raw = _placeholder_raw(tmp_path / "raw", {missing})
    with pytest.raises(StoreError) as info:
        build_store(raw, tmp_path / "p", progress=False, jobs=2)
    message = str(info.value)
    assert "REFNIS_2025.csv" in message
    assert "lsb data fetch" in message
    assert "statbel_refnis_2025" in message
    assert not (tmp_path / "p").exists()
    assert _leftovers(tmp_path) == []


def test_missing_raw_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="lsb data fetch"):
        build_store(tmp_path / "nowhere", tmp_path / "p", progress=False)
    assert not (tmp_path / "p").exists()


# --- NIS codes against the REFNIS geography -------------------------------------------------


def _obs(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "geo_version", "nis", "level"])


GEOGRAPHY = pd.DataFrame(
    {
        "geo_version": ["2019", "2019", "2025", "2025"],
        "nis": ["13000", "13012", "13000", "13012"],
    }
)


def test_check_codes_accepts_known_codes(tmp_path: Path) -> None:
    obs = _obs([
        ("statbel_income_bands_2022", "2019", "13012", "municipality"),
        ("statbel_income_bands_2022", "2019", "13000", "arrondissement"),
        ("vdab_jobseekers", "2025", "13012", "municipality"),
        # Communities are not REFNIS units; they are not checked.
        ("statbel_population_density", "2019", "02001", "community"),
    ])
    assert check_codes(obs, GEOGRAPHY, tmp_path) is None


def test_check_codes_unknown_code(tmp_path: Path) -> None:
    obs = _obs([
        ("statbel_income_bands_2022", "2019", "13012", "municipality"),
        ("statbel_income_bands_2022", "2019", "13999", "municipality"),
        ("statbel_income_bands_2022", "2019", "13999", "municipality"),
    ])
    with pytest.raises(SourceFormatError) as info:
        check_codes(obs, GEOGRAPHY, tmp_path)
    assert info.value.path == tmp_path / "statbel" / "fisc2022_C_NL.xls"
    message = str(info.value)
    assert "fisc2022_C_NL.xls" in message
    assert "13999" in message
    assert "2019" in message


def test_check_codes_code_of_another_geography(tmp_path: Path) -> None:
    """A 2025 code is unknown to a source published in the 2019 geography."""
    geography = pd.concat(
        [GEOGRAPHY, pd.DataFrame({"geo_version": ["2025"], "nis": ["46030"]})],
        ignore_index=True,
    )
    obs = _obs([("statbel_population_density", "2019", "46030", "municipality")])
    with pytest.raises(SourceFormatError, match=r"Pop_density_en\.xlsx.*46030"):
        check_codes(obs, geography, tmp_path)


def test_errors_survive_pickling() -> None:
    """Readers run in worker processes: their errors must be rebuilt intact in the parent."""
    err = SourceFormatError(Path("statbel/x.xls"), "bad header", sheet="Totaal", row=3,
                            column="NIS code")
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is SourceFormatError
    assert str(copy) == str(err)
    assert (copy.path, copy.problem, copy.sheet, copy.row, copy.column) == (
        err.path, err.problem, err.sheet, err.row, err.column)
    for simple in (StoreError("store missing"), LsbError("x")):
        assert str(pickle.loads(pickle.dumps(simple))) == str(simple)
    unknown = pickle.loads(pickle.dumps(UnknownMunicipalityError("Herenthoud", ["Herenthout"])))
    assert (unknown.query, unknown.suggestions) == ("Herenthoud", ["Herenthout"])
    assert str(unknown) == "Onbekende gemeente 'Herenthoud'. Bedoelde u: Herenthout?"
