"""Tests for lsbanalysis.load() and the municipality lookup, on the embedded store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas
import pytest

import lsbanalysis
from lsbanalysis.errors import LsbError, StoreError, UnknownMunicipalityError
from lsbanalysis.paths import PROCESSED_DIR
from lsbanalysis.sources import load_manifest
from lsbanalysis.store import io


@pytest.fixture(scope="module")
def ds() -> lsbanalysis.Dataset:
    return lsbanalysis.load(PROCESSED_DIR)


def test_load_default_is_the_embedded_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LSB_PROCESSED_DIR", raising=False)
    loaded = lsbanalysis.load()
    assert loaded.store_dir == PROCESSED_DIR
    assert "observations" in repr(loaded)


def test_store_tables(ds: lsbanalysis.Dataset) -> None:
    assert list(ds.observations.columns) == [
        "source", "measure", "nis", "level", "geo_version", "period", "year", "value", "unit",
        "status",
    ]
    assert len(ds.observations) > 0
    assert set(ds.observations["source"].astype(str).unique()) == {
        s.id for s in load_manifest() if s.role == "observations"
    }
    assert {"geo_version", "nis", "level", "name_nl", "name_fr"} <= set(ds.geography.columns)
    assert len(ds.geography) > 0
    # Crosswalk 2019 -> 2025: Borsbeek merged into Antwerpen on 1 January 2025.
    cw = ds.crosswalk
    borsbeek = cw[(cw["nis_from"] == "11007") & (cw["geo_from"] == "2019")]
    assert borsbeek[["nis_to", "geo_to"]].values.tolist() == [["11002", "2025"]]
    # and 1977 -> 2019: Puurs and Sint-Amands became Puurs-Sint-Amands in 2019
    puurs = cw[(cw["geo_from"] == "1977") & (cw["nis_to"] == "12041")]
    assert sorted(puurs["nis_from"]) == ["12030", "12034"]
    # Neighbours: symmetric, Herentals borders Herenthout.
    nb = ds.neighbours
    pairs = set(zip(nb["geo_version"], nb["nis"], nb["neighbour_nis"], strict=True))
    assert ("2025", "13012", "13011") in pairs
    assert all((g, b, a) in pairs for g, a, b in pairs)


def test_sources_table(ds: lsbanalysis.Dataset) -> None:
    table = ds.sources()
    assert table["id"].tolist() == [s.id for s in load_manifest()]


def test_boundaries(ds: lsbanalysis.Dataset) -> None:
    b = ds.boundaries
    assert isinstance(b, geopandas.GeoDataFrame)
    assert b.crs.to_epsg() == 31370
    m2025 = b[(b["level"] == "municipality") & (b["geo_version"] == "2025")]
    assert len(m2025) == 304  # Flanders (285) and Brussels (19), 2025
    assert "13012" in set(m2025["nis"])
    assert m2025.geometry.is_valid.all()


# --- municipality lookup --------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["Herenthout", "herenthout", "HERENTHOUT", " Herenthout ", 13012, "13012"]
)
def test_lookup_herenthout(ds: lsbanalysis.Dataset, query) -> None:
    m = ds.municipality(query)
    assert m.nis == "13012"
    assert m.name == "Herenthout"
    assert m.geo_version == "2025"
    assert m.arrondissement == "13000"


@pytest.mark.parametrize(
    ("query", "nis"),
    [
        ("Anvers", "11002"),  # French name
        ("Antwerpen", "11002"),
        ("Liège", "62063"),  # French name with accent; Dutch name Luik
        ("liege", "62063"),
        ("Chievres", "51014"),  # stored as "Chièvres"
        ("CHIÈVRES", "51014"),
        ("Écaussinnes", "55050"),  # stored without accent
        ("sint genesius rode", "23101"),  # hyphens
        ("Rhode-Saint-Genèse", "23101"),
    ],
)
def test_lookup_french_and_accents(ds: lsbanalysis.Dataset, query: str, nis: str) -> None:
    assert ds.municipality(query).nis == nis


def test_lookup_typo_suggests(ds: lsbanalysis.Dataset) -> None:
    with pytest.raises(UnknownMunicipalityError) as info:
        ds.municipality("Herenthoud")
    assert "Herenthout" in info.value.suggestions
    assert "Herenthout" in str(info.value)
    assert isinstance(info.value, LsbError) and isinstance(info.value, KeyError)


@pytest.mark.parametrize("query", ["99999", 99999, "Nergensdorp"])
def test_lookup_unknown(ds: lsbanalysis.Dataset, query) -> None:
    with pytest.raises(UnknownMunicipalityError, match=str(query)):
        ds.municipality(query)


def test_lookup_municipality_merged_in_2025(ds: lsbanalysis.Dataset) -> None:
    borsbeek = ds.municipality("Borsbeek")
    assert (borsbeek.nis, borsbeek.geo_version) == ("11007", "2019")
    assert ds.municipality("11007").geo_version == "2019"
    assert not ds.municipalities.in_version("11007", "2025")
    assert ds.municipalities.in_version("11007", "2019")


def test_name_of(ds: lsbanalysis.Dataset) -> None:
    assert ds.name_of("13012") == "Herenthout"
    assert ds.name_of("11007", "2019") == "Borsbeek"


# --- missing or incompatible store ----------------------------------------------------------


def test_missing_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StoreError, match="lsb data build"):
        lsbanalysis.load(tmp_path)
    monkeypatch.setenv("LSB_PROCESSED_DIR", str(tmp_path))
    with pytest.raises(StoreError, match="lsb data build") as info:
        lsbanalysis.load()
    assert str(tmp_path) in str(info.value)


def test_other_store_format(tmp_path: Path) -> None:
    manifest = json.loads((PROCESSED_DIR / io.MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["store_format"] = io.STORE_FORMAT + 1
    (tmp_path / io.MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(StoreError, match="lsb data build") as info:
        lsbanalysis.load(tmp_path)
    assert f"format {io.STORE_FORMAT + 1}" in str(info.value)


def test_incomplete_store(tmp_path: Path) -> None:
    shutil.copy(PROCESSED_DIR / io.MANIFEST_FILE, tmp_path / io.MANIFEST_FILE)
    with pytest.raises(StoreError, match=io.OBSERVATIONS_FILE):
        lsbanalysis.load(tmp_path)
