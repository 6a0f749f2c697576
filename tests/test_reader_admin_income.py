"""Tests for lsbanalysis.readers.admin_income: Statbel TF_SOC_ADI_MUNTY (income_poverty/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import admin_income
from lsbanalysis.readers.common import OBSERVATION_COLUMNS
from tests.built_store import BuiltStore
from tests.isom import ISOM

FILE = "income_poverty/TF_SOC_ADI_MUNTY.xlsx"
SOURCE = "statbel_admin_income"
HERENTHOUT = "13012"
# income_poverty/SOURCES.md, "ISOM check": MS_MEDIAN (€) / MS_ADMIN_AROP (%).
ISOM_TABLE = {
    "Grobbendonk": {2015: (24_189, 6.7), 2018: (26_034, 6.6), 2022: (29_759, 5.9)},
    "Herentals": {2015: (23_283, 7.9), 2020: (26_763, 7.2), 2022: (28_823, 6.3)},
    "Herenthout": {2015: (23_421, 7.2), 2018: (25_321, 6.9), 2020: (26_837, 6.5),
                   2021: (27_714, 5.9), 2022: (28_920, 5.1)},
    "Kasterlee": {2021: (28_780, 5.3), 2022: (30_016, 5.5)},
    "Lille": {2018: (25_934, 6.0), 2022: (29_709, 4.8)},
    "Olen": {2015: (24_171, 5.9), 2021: (28_466, 4.6)},
    "Vorselaar": {2020: (27_502, 6.2), 2022: (29_370, 5.5)},
}
HERENTHOUT_2022 = {
    "adi_persons_eligible": 9_324,
    "adi_persons_not_eligible": 89,
    "adi_persons_not_eligible_pct": 0.9,
    "adi_perc_ioe_hh": 0.1,
    "adi_q1": 22_485,
    "adi_median": 28_920,
    "adi_q3": 35_944,
    "adi_interquartile_range": 13_458,
    "adi_poverty_risk_pct": 5.1,
}
NIS = {name: nis for nis, name in ISOM.items()}

# --------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def obs(mirror: Path) -> pd.DataFrame:
    return admin_income.read(mirror / FILE)


def _cells(obs: pd.DataFrame, nis: str, year: int) -> pd.DataFrame:
    return obs[(obs["nis"] == nis) & (obs["year"] == year)].set_index("measure")


@pytest.mark.realdata
def test_shape(obs):
    assert list(obs.columns) == OBSERVATION_COLUMNS
    assert obs.attrs["table"] == "TF_SOC_ADI_MUNTY"
    assert set(obs["measure"]) == {m for m, _ in admin_income.MEASURES.values()}
    assert obs["nis"].nunique() == 580 and "73028" not in set(obs["nis"])  # no Herstappe
    assert sorted(obs["year"].unique()) == list(range(2015, 2023))
    assert len(obs) == 4_640 * 9
    assert (obs["period"] == obs["year"].astype(str)).all()  # the income year
    assert set(obs["level"]) == {"municipality"} and set(obs["geo_version"]) == {"2019"}
    assert "44083" in set(obs.loc[obs["year"] == 2015, "nis"])  # 2019 map back-cast


@pytest.mark.realdata
def test_herenthout_2022(obs):
    cells = _cells(obs, HERENTHOUT, 2022)
    for measure, value in HERENTHOUT_2022.items():
        assert cells.loc[measure, "value"] == value, measure
        assert cells.loc[measure, "status"] == "ok"
    units = cells["unit"].to_dict()
    assert units["adi_median"] == "eur" and units["adi_poverty_risk_pct"] == "percent"
    assert units["adi_persons_eligible"] == "count"
    # eligible + not eligible = population on 1 January of the following year (2016: 8,806)
    y2015 = _cells(obs, HERENTHOUT, 2015)["value"]
    assert y2015["adi_persons_eligible"] + y2015["adi_persons_not_eligible"] == 8_806


@pytest.mark.realdata
def test_isom_table(obs):
    for name, years in ISOM_TABLE.items():
        for year, (median, arop) in years.items():
            cells = _cells(obs, NIS[name], year)["value"]
            assert (cells["adi_median"], cells["adi_poverty_risk_pct"]) == (median, arop), (
                name, year)


@pytest.mark.realdata
def test_empty_cells_are_missing(obs):
    missing = obs[obs["status"] == "missing"]
    assert missing["value"].isna().all()
    assert (obs.loc[obs["status"] == "ok", "value"].notna()).all()
    counts = missing.groupby("measure").size().to_dict()
    assert counts == {"adi_q1": 5, "adi_median": 5, "adi_poverty_risk_pct": 5, "adi_q3": 30,
                      "adi_interquartile_range": 30}
    assert set(missing.loc[missing["measure"] == "adi_median", "nis"]) == {"21009"}  # Elsene
    assert not missing["nis"].isin(list(ISOM)).any()


@pytest.mark.realdata
def test_other_statbel_table_is_refused(mirror: Path):
    with pytest.raises(SourceFormatError,
                       match=r"TF_PSNL_INC_TAX_MUNTY_2005-2020\.xlsx.*'TF_SOC_ADI_MUNTY' "
                             r"not found"):
        admin_income.read(mirror / "statbel/TF_PSNL_INC_TAX_MUNTY_2005-2020.xlsx")


@pytest.mark.realdata
def test_in_built_store(built_store: BuiltStore):
    obs = built_store.observations
    rows = obs[obs["source"] == SOURCE]
    assert set(rows["measure"].astype(str)) == set(HERENTHOUT_2022)
    assert set(rows["level"].astype(str)) == {"municipality"}
    assert set(rows["geo_version"].astype(str)) == {"2019"}
    assert set(rows["status"].astype(str)) == {"ok", "missing"}
    cell = rows[(rows["nis"] == HERENTHOUT) & (rows["period"] == "2022")
                & (rows["measure"] == "adi_poverty_risk_pct")]
    assert cell["value"].tolist() == [5.1] and cell["unit"].astype(str).tolist() == ["percent"]


# --------------------------------------------------------------------------------------------
# Bad input: a small workbook with the real header

HEADER = [
    "CD_YEAR", "CD_MUNTY_REFNIS", *admin_income.MEASURES, "TX_MUNTY_DESCR_NL", "CD_DSTR_REFNIS",
    "CD_PROV_REFNIS", "CD_RGN_REFNIS",
]


def _row(year="2022", nis="13012", district=13000, province="10000", region=2000,
         values=(9324, 89, 0.9, 0.1, 22485, 28920, 35944, 13458, 5.1)) -> list[object]:
    return [year, nis, *values, "Herenthout", district, province, region]


def _xlsx(path: Path, rows: list[list[object]], header=HEADER,
          sheet: str = admin_income.SHEET) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def test_small_workbook(tmp_path: Path):
    elsene = _row(year="2019", nis="21009", district="21000", province=None, region=4000,
                  values=(60000, 9000, 13.0, 0.3, None, None, None, None, None))
    out = admin_income.read(_xlsx(tmp_path / "a.xlsx", [_row(), elsene]))
    assert out.attrs["table"] == "TF_SOC_ADI_MUNTY"
    herenthout = out[out["nis"] == "13012"].set_index("measure")
    assert herenthout.loc["adi_median", "value"] == 28920
    assert herenthout.loc["adi_poverty_risk_pct", "period"] == "2022"
    el = out[out["nis"] == "21009"].set_index("measure")
    assert el.loc["adi_median", "status"] == "missing" and np.isnan(el.loc["adi_median", "value"])
    assert el.loc["adi_persons_eligible", "value"] == 60000


def test_missing_file(tmp_path: Path):
    with pytest.raises(SourceFormatError, match=r"a\.xlsx: file not found"):
        admin_income.read(tmp_path / "a.xlsx")


def test_text_file_named_xlsx(tmp_path: Path):
    path = tmp_path / "a.xlsx"
    path.write_text("CD_YEAR;CD_MUNTY_REFNIS\n2022;13012\n", encoding="cp1252")
    with pytest.raises(SourceFormatError, match=r"a\.xlsx: cannot be opened as an Excel workbook"):
        admin_income.read(path)


def test_wrong_sheet(tmp_path: Path):
    path = _xlsx(tmp_path / "a.xlsx", [_row()], sheet="TF_PSNL_INC_TAX_MUNTY")
    with pytest.raises(SourceFormatError, match=r"a\.xlsx: sheet 'TF_SOC_ADI_MUNTY' not found"):
        admin_income.read(path)


def test_missing_column(tmp_path: Path):
    header = [h if h != "MS_ADMIN_AROP" else "MS_AROP" for h in HEADER]
    with pytest.raises(SourceFormatError,
                       match=r"sheet 'TF_SOC_ADI_MUNTY', row 1: expected column 'MS_ADMIN_AROP'"):
        admin_income.read(_xlsx(tmp_path / "a.xlsx", [_row()], header=header))


def test_unknown_measure_column(tmp_path: Path):
    rows = [[*_row(), 1.0]]
    with pytest.raises(SourceFormatError, match=r"unknown measure column\(s\) \['MS_NEW'\]"):
        admin_income.read(_xlsx(tmp_path / "a.xlsx", rows, header=[*HEADER, "MS_NEW"]))


def test_garbage_value(tmp_path: Path):
    values = (9324, 89, 0.9, 0.1, 22485, "28.920 EUR", 35944, 13458, 5.1)
    with pytest.raises(SourceFormatError,
                       match=r"a\.xlsx, sheet 'TF_SOC_ADI_MUNTY', row 3, column 'MS_MEDIAN'"
                             r".*'28\.920 EUR'"):
        admin_income.read(_xlsx(tmp_path / "a.xlsx", [_row(), _row(year="2021", values=values)]))


def test_bad_codes(tmp_path: Path):
    with pytest.raises(SourceFormatError, match=r"row 2, column 'CD_MUNTY_REFNIS'.*'1301x'"):
        admin_income.read(_xlsx(tmp_path / "a.xlsx", [_row(nis="1301x")]))
    with pytest.raises(SourceFormatError,
                       match=r"row 2, column 'CD_MUNTY_REFNIS': expected a municipality code, "
                             r"found '13000'"):
        admin_income.read(_xlsx(tmp_path / "b.xlsx", [_row(nis="13000")]))
    with pytest.raises(SourceFormatError,
                       match=r"row 2, column 'CD_DSTR_REFNIS': municipality 13012 is not in "
                             r"arrondissement 11000"):
        admin_income.read(_xlsx(tmp_path / "c.xlsx", [_row(district=11000)]))
    with pytest.raises(SourceFormatError,
                       match=r"row 2, column 'CD_PROV_REFNIS': expected a province code, "
                             r"found an empty cell"):
        admin_income.read(_xlsx(tmp_path / "d.xlsx", [_row(province=None)]))
    with pytest.raises(SourceFormatError,
                       match=r"row 2, column 'CD_RGN_REFNIS': expected a region code"):
        admin_income.read(_xlsx(tmp_path / "e.xlsx", [_row(region=10000)]))


def test_bad_year_and_duplicate(tmp_path: Path):
    with pytest.raises(SourceFormatError, match=r"row 2, column 'CD_YEAR'.*income year.*'2022a'"):
        admin_income.read(_xlsx(tmp_path / "a.xlsx", [_row(year="2022a")]))
    with pytest.raises(SourceFormatError, match=r"row 3: duplicate row for municipality 13012"):
        admin_income.read(_xlsx(tmp_path / "b.xlsx", [_row(), _row()]))
