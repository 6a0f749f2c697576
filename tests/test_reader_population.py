"""Tests for lsbanalysis.readers.population: population density (Pop_density_en.xlsx)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import population
from lsbanalysis.readers.common import OBSERVATION_COLUMNS

DENSITY = "statbel/Pop_density_en.xlsx"
HERENTHOUT = {2019: 9061, 2020: 9109, 2021: 9185, 2022: 9287, 2023: 9417, 2024: 9454}

# --------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def density(mirror: Path) -> pd.DataFrame:
    return population.read(mirror / DENSITY)


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
    _assert_error(path, "unknown file type", "TF_SOC_POP_STRUCT_YYYY.zip")
