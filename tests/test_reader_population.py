"""Tests for lsbanalysis.readers.population: population density and population structure."""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadr
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import population
from lsbanalysis.readers.common import OBSERVATION_COLUMNS

DENSITY = "statbel/Pop_density_en.xlsx"
STRUCTURE = "statbel/TF_SOC_POP_STRUCT_2015.RData"
ISOM_2015 = {
    "13010": 11_128,  # Grobbendonk
    "13011": 27_677,  # Herentals
    "13012": 8_804,  # Herenthout
    "13017": 18_052,  # Kasterlee
    "13019": 16_386,  # Lille
    "13029": 12_186,  # Olen
    "13044": 7_773,  # Vorselaar
}
HERENTHOUT = {2019: 9061, 2020: 9109, 2021: 9185, 2022: 9287, 2023: 9417, 2024: 9454}
BANDS = [
    "population_age_0_17",
    "population_age_18_24",
    "population_age_25_59",
    "population_age_60_64",
    "population_age_65_plus",
]

# --------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def density(mirror: Path) -> pd.DataFrame:
    return population.read(mirror / DENSITY)


@pytest.fixture(scope="module")
def structure(mirror: Path) -> pd.DataFrame:
    return population.read(mirror / STRUCTURE)


def _wide(obs: pd.DataFrame, period: str) -> pd.DataFrame:
    return obs[obs["period"] == period].pivot(index="nis", columns="measure", values="value")


@pytest.mark.realdata
def test_density_contract(density):
    assert list(density.columns) == OBSERVATION_COLUMNS
    assert sorted(density["period"].unique()) == [str(y) for y in range(2019, 2025)]
    assert set(density["geo_version"].unique()) == {"2019"}
    assert set(density["status"].unique()) == {"ok"}
    assert not density.duplicated(["measure", "nis", "period"]).any()
    units = density.drop_duplicates("measure").set_index("measure")["unit"].to_dict()
    assert units == {"population": "count", "area_km2": "km2", "population_density": "per_km2"}
    counts = density[density["measure"] == "population"].groupby(["period", "level"]).size()
    for period in density["period"].unique():
        assert counts[period].to_dict() == {
            "arrondissement": 43,
            "country": 1,
            "municipality": 581,
            "province": 10,
            "region": 3,
        }


@pytest.mark.realdata
def test_density_figures(density):
    pop = density[density["measure"] == "population"]
    her = pop[pop["nis"] == "13012"].set_index("year")["value"].to_dict()
    assert her == HERENTHOUT
    wide = _wide(density, "2024")
    assert wide.loc["13000", "population"] == 479_974
    assert wide.loc["10000", "population"] == 1_926_522
    assert wide.loc["02000", "population"] == 6_821_770
    # Density is population / area.
    ratio = wide["population"] / wide["area_km2"]
    assert np.allclose(ratio, wide["population_density"], rtol=1e-6)
    # Municipalities add up to Belgium.
    muni = pop[(pop["level"] == "municipality") & (pop["period"] == "2024")]["value"].sum()
    assert muni == wide.loc["01000", "population"]


@pytest.mark.realdata
def test_structure_contract(structure):
    assert list(structure.columns) == OBSERVATION_COLUMNS
    assert set(structure["measure"].unique()) == set(population.STRUCTURE_MEASURES)
    assert set(structure["level"].unique()) == {"municipality"}
    assert structure["nis"].nunique() == 589
    assert set(structure["period"].unique()) == {"2015"}
    assert set(structure["year"].unique()) == {2015}
    assert set(structure["geo_version"].unique()) == {"1977"}
    assert set(structure["unit"].unique()) == {"count"}
    assert set(structure["status"].unique()) == {"ok"}
    assert not structure.duplicated(["measure", "nis", "period"]).any()


@pytest.mark.realdata
def test_structure_figures(structure):
    wide = _wide(structure, "2015")
    assert wide.loc[list(ISOM_2015), "population_total"].to_dict() == ISOM_2015
    assert wide["population_total"].sum() == 11_209_044
    assert (wide["population_men"] + wide["population_women"] == wide["population_total"]).all()
    assert (wide[BANDS].sum(axis=1) == wide["population_total"]).all()
    adults = wide[["population_age_18_24", "population_age_25_59", "population_age_60_64"]]
    assert (adults.sum(axis=1) == wide["population_age_18_64"]).all()
    assert (wide["population_age_80_plus"] <= wide["population_age_65_plus"]).all()
    assert (wide["population_non_belgian"] < wide["population_total"]).all()


# --------------------------------------------------------------------------------------------
# Small files built here: density workbook


DENSITY_HEADER = [
    "Refnis",
    "Municipality FR",
    "Municipality NL",
    "Population",
    "Size in km²",
    "Population / km²",
]
DENSITY_ROWS = [
    ["01000", "Belgique", "België", 11763650, 30689.171862, 383.315980401739],
    ["02000", "Région flamande", "Vlaams Gewest", 6821770, 13625.537141, 500.660629332029],
    ["13000", "Arrondissement de Turnhout", "Arrondissement Turnhout", 479974, 1362.5, 352.3],
    ["13012", "Herenthout", "Herenthout", 9454, 23.5, 402.3],
]


def _density_book(path: Path, sheets: dict[str, list[list[object]]], *, title=None) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        heading = title or f"Population density by municipality 1st January {name}"
        for row in [[heading], DENSITY_HEADER, *rows]:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def density_file(tmp_path: Path) -> Path:
    return _density_book(
        tmp_path / "Pop_density_en.xlsx", {"2023": DENSITY_ROWS, "2024": DENSITY_ROWS}
    )


def _assert_error(path: Path, *fragments: str) -> SourceFormatError:
    with pytest.raises(SourceFormatError) as info:
        population.read(path)
    message = str(info.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_small_density_workbook(density_file):
    obs = population.read(density_file)
    assert list(obs.columns) == OBSERVATION_COLUMNS
    assert sorted(obs["period"].unique()) == ["2023", "2024"]
    assert len(obs) == 2 * 4 * 3
    row = obs[(obs["nis"] == "13012") & (obs["measure"] == "population")]
    assert row["value"].tolist() == [9454, 9454] and row["year"].tolist() == [2023, 2024]
    assert obs.drop_duplicates("nis").set_index("nis")["level"].to_dict() == {
        "01000": "country",
        "02000": "region",
        "13000": "arrondissement",
        "13012": "municipality",
    }


def test_density_wrong_sheet(tmp_path):
    path = _density_book(tmp_path / "Pop_density_en.xlsx", {"Blad1": DENSITY_ROWS})
    _assert_error(path, "no sheet named after a year", "Blad1")


def test_density_shifted_header(tmp_path):
    path = tmp_path / "Pop_density_en.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "2024"
    for row in [[None], ["Population density by municipality 1st January 2024"], DENSITY_HEADER]:
        sheet.append(row)
    for row in DENSITY_ROWS:
        sheet.append(row)
    book.save(path)
    _assert_error(path, "expected header 'Population density'", "row 1", "sheet '2024'")


def test_density_renamed_column(tmp_path):
    path = tmp_path / "Pop_density_en.xlsx"
    rows = [list(r) for r in DENSITY_ROWS]
    _density_book(path, {"2024": rows})
    book = openpyxl.load_workbook(path)
    book["2024"].cell(row=2, column=5).value = "Area (ha)"
    book.save(path)
    _assert_error(path, "'Size in km'", "column 5", "'Area (ha)'", "row 2")


def test_density_title_year_mismatch(tmp_path):
    path = _density_book(
        tmp_path / "Pop_density_en.xlsx",
        {"2024": DENSITY_ROWS},
        title="Population density by municipality 1st January 2023",
    )
    _assert_error(path, "another year", "2024")


def test_density_garbage_value(tmp_path):
    rows = [list(r) for r in DENSITY_ROWS]
    rows[3][3] = "9.454 inw."
    path = _density_book(tmp_path / "Pop_density_en.xlsx", {"2024": rows})
    _assert_error(path, "row 6", "column 'D (Population)'", "'9.454 inw.'", "sheet '2024'")


def test_density_invalid_nis(tmp_path):
    rows = [list(r) for r in DENSITY_ROWS]
    rows[2][0] = "13-000"
    path = _density_book(tmp_path / "Pop_density_en.xlsx", {"2024": rows})
    _assert_error(path, "'13-000'", "NIS code", "row 5", "Refnis")


def test_density_empty_and_truncated(tmp_path, density_file):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    _assert_error(empty, "empty")
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(density_file.read_bytes()[:2000])
    _assert_error(truncated, "cannot be opened as an Excel workbook")


def test_unknown_suffix(tmp_path):
    path = tmp_path / "population.csv"
    path.write_text("x\n")
    _assert_error(path, "unknown file type", ".RData")


# --------------------------------------------------------------------------------------------
# Small files built here: population structure (.RData)


def _structure_frame() -> pd.DataFrame:
    """Two municipalities; every combination of sex, nationality, civil status and some ages.

    About 1,050 rows, so the text columns take the vectorised path of the RData parser.
    """
    rows = []
    seen = 0
    for code, name in ((13012, "Herenthout"), (13044, "Vorselaar")):
        for sex in ("M", "F"):
            for nat in ("BEL", "ETR"):
                for civ in (10, 20, 30):
                    for age in range(0, 101, 2):
                        seen += 1
                        if seen % 7 == 0:  # leave some combinations out, as Statbel does
                            continue
                        count = (age % 5) + (3 if nat == "BEL" else 1) + (code % 3)
                        rows.append((code, name, sex, nat, civ, age, count))
    frame = pd.DataFrame(
        rows,
        columns=[
            "CD_MUNTY_REFNIS",
            "TX_MUNTY_DESCR_NL",
            "CD_SEX",
            "CD_NATLTY",
            "CD_CIV_STS",
            "CD_AGE",
            "MS_POPULATION",
        ],
    )
    frame["TX_NATLTY_NL"] = frame["CD_NATLTY"].map({"BEL": "Belgen", "ETR": "Vreemdelingen"})
    frame["CD_YEAR"] = 2015
    return frame


def _expected(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame
    age = f["CD_AGE"]
    out = pd.DataFrame(
        {
            "population_total": f["MS_POPULATION"],
            "population_men": f["MS_POPULATION"].where(f["CD_SEX"] == "M", 0),
            "population_women": f["MS_POPULATION"].where(f["CD_SEX"] == "F", 0),
            "population_age_0_17": f["MS_POPULATION"].where(age <= 17, 0),
            "population_age_18_24": f["MS_POPULATION"].where(age.between(18, 24), 0),
            "population_age_25_59": f["MS_POPULATION"].where(age.between(25, 59), 0),
            "population_age_60_64": f["MS_POPULATION"].where(age.between(60, 64), 0),
            "population_age_18_64": f["MS_POPULATION"].where(age.between(18, 64), 0),
            "population_age_65_plus": f["MS_POPULATION"].where(age >= 65, 0),
            "population_age_80_plus": f["MS_POPULATION"].where(age >= 80, 0),
            "population_non_belgian": f["MS_POPULATION"].where(f["CD_NATLTY"] == "ETR", 0),
        }
    )
    out["nis"] = f["CD_MUNTY_REFNIS"].astype(str).str.zfill(5)
    return out.groupby("nis").sum().astype(float)


def _write_rdata(path: Path, frame: pd.DataFrame, name="TF_SOC_POP_STRUCT_2015", **kw) -> Path:
    pyreadr.write_rdata(str(path), frame, df_name=name, **kw)
    return path


@pytest.fixture
def structure_file(tmp_path: Path) -> Path:
    return _write_rdata(tmp_path / "TF_SOC_POP_STRUCT_2015.RData", _structure_frame())


def test_small_structure_file(structure_file):
    obs = population.read(structure_file)
    assert list(obs.columns) == OBSERVATION_COLUMNS
    assert set(obs["geo_version"]) == {"1977"} and set(obs["period"]) == {"2015"}
    got = obs.pivot(index="nis", columns="measure", values="value")
    expected = _expected(_structure_frame())
    pd.testing.assert_frame_equal(
        got[expected.columns], expected, check_names=False, check_like=True
    )


@pytest.mark.parametrize("compress", ["gzip", "xz"])
def test_compressed_structure_file(tmp_path, structure_file, compress):
    if compress == "gzip":
        path = _write_rdata(tmp_path / "gz.RData", _structure_frame(), compress="gzip")
    else:
        path = tmp_path / "xz.RData"
        path.write_bytes(lzma.compress(structure_file.read_bytes()))
    pd.testing.assert_frame_equal(population.read(path), population.read(structure_file))


def test_slow_paths_agree(structure_file, monkeypatch):
    """The per-string loop and the pyreadr fallback give the same result as the fast path."""
    fast = population.read(structure_file)
    monkeypatch.setattr(population._XdrParser, "_strings_vectorised", lambda self, n: None)
    pd.testing.assert_frame_equal(population.read(structure_file), fast)

    def unsupported(self):
        raise population._Unsupported("forced")

    monkeypatch.setattr(population._XdrParser, "workspace", unsupported)
    pd.testing.assert_frame_equal(population.read(structure_file), fast)


def test_r_data_frame_columns(structure_file):
    name, frame = population.read_r_data_frame(
        structure_file, lambda n: n.startswith("TF_"), ["TX_MUNTY_DESCR_NL", "CD_AGE", "CD_SEX"]
    )
    assert name == "TF_SOC_POP_STRUCT_2015"
    source = _structure_frame()
    assert frame["TX_MUNTY_DESCR_NL"].astype(str).tolist() == source["TX_MUNTY_DESCR_NL"].tolist()
    assert frame["CD_AGE"].tolist() == source["CD_AGE"].tolist()
    assert frame["CD_SEX"].astype(str).tolist() == source["CD_SEX"].tolist()


def test_structure_missing_column(tmp_path):
    frame = _structure_frame().drop(columns="CD_NATLTY")
    path = _write_rdata(tmp_path / "TF_SOC_POP_STRUCT_2015.RData", frame)
    _assert_error(path, "lacks the column(s) ['CD_NATLTY']", "TF_SOC_POP_STRUCT_2015")


def test_structure_wrong_object_name(tmp_path):
    path = _write_rdata(tmp_path / "TF_SOC_POP_STRUCT_2015.RData", _structure_frame(), "bevolking")
    _assert_error(path, "TF_SOC_POP_STRUCT_<year>", "['bevolking']")


def test_structure_year_mismatch(tmp_path):
    frame = _structure_frame()
    frame.loc[5, "CD_YEAR"] = 2016
    path = _write_rdata(tmp_path / "TF_SOC_POP_STRUCT_2015.RData", frame)
    _assert_error(path, "CD_YEAR 2016", "expected only 2015")


def test_structure_bad_values(tmp_path):
    frame = _structure_frame()
    frame.loc[10, "CD_SEX"] = "X"
    path = _write_rdata(tmp_path / "a.RData", frame)
    _assert_error(path, "column 'CD_SEX'", "row 11", "'X'")

    frame = _structure_frame()
    frame["MS_POPULATION"] = frame["MS_POPULATION"].astype(float)
    frame.loc[3, "MS_POPULATION"] = 2.5
    path = _write_rdata(tmp_path / "b.RData", frame)
    _assert_error(path, "column 'MS_POPULATION'", "row 4", "whole number")


def test_structure_invalid_nis(tmp_path):
    frame = _structure_frame()
    frame.loc[7, "CD_MUNTY_REFNIS"] = 13000  # an arrondissement, not a municipality
    path = _write_rdata(tmp_path / "a.RData", frame)
    _assert_error(path, "expected municipality codes", "'13000'", "row 8")

    frame.loc[7, "CD_MUNTY_REFNIS"] = 123456
    path = _write_rdata(tmp_path / "b.RData", frame)
    _assert_error(path, "CD_MUNTY_REFNIS", "row 8", "whole number from 1 to 99999")


def test_structure_empty_file(tmp_path):
    path = tmp_path / "TF_SOC_POP_STRUCT_2015.RData"
    path.write_bytes(b"")
    _assert_error(path, "empty", "R workspace")


def test_structure_truncated(tmp_path, structure_file):
    data = structure_file.read_bytes()
    plain = tmp_path / "plain.RData"
    plain.write_bytes(data[: len(data) // 2])
    _assert_error(plain, "truncated or corrupt")
    packed = tmp_path / "packed.RData"
    packed.write_bytes(lzma.compress(data)[:-40])
    _assert_error(packed, "truncated or corrupt")


def test_structure_not_r_data(tmp_path, density_file):
    path = tmp_path / "fake.RData"
    path.write_bytes(density_file.read_bytes())
    _assert_error(path, "R workspace")


def test_structure_codes_as_text(tmp_path, structure_file, monkeypatch):
    """A REFNIS column saved as text ("13012") reads like the numeric one, on both paths."""
    frame = _structure_frame()
    frame["CD_MUNTY_REFNIS"] = frame["CD_MUNTY_REFNIS"].astype(str)
    path = _write_rdata(tmp_path / "TF_SOC_POP_STRUCT_2015.RData", frame)
    expected = population.read(structure_file)
    pd.testing.assert_frame_equal(population.read(path), expected)

    def unsupported(self):
        raise population._Unsupported("forced")

    monkeypatch.setattr(population._XdrParser, "workspace", unsupported)
    pd.testing.assert_frame_equal(population.read(path), expected)


def test_structure_missing_count(tmp_path):
    frame = _structure_frame()
    frame["MS_POPULATION"] = frame["MS_POPULATION"].astype(float)
    frame.loc[20, "MS_POPULATION"] = np.nan
    path = _write_rdata(tmp_path / "TF_SOC_POP_STRUCT_2015.RData", frame)
    _assert_error(path, "column 'MS_POPULATION'", "row 21", "found NA")


def test_structure_factor_columns(tmp_path, structure_file):
    """Codes saved as R factors (integer codes + levels) read like text columns."""
    frame = _structure_frame()
    frame["CD_SEX"] = pd.Categorical(frame["CD_SEX"], categories=["F", "M"])
    frame["CD_NATLTY"] = pd.Categorical(frame["CD_NATLTY"])
    path = _write_rdata(tmp_path / "TF_SOC_POP_STRUCT_2015.RData", frame)
    pd.testing.assert_frame_equal(population.read(path), population.read(structure_file))
