"""Tests for lsbanalysis.readers.real_estate: Statbel "Vastgoedprijzen" workbooks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import real_estate
from lsbanalysis.readers.common import OBSERVATION_COLUMNS

YEARLY = "statbel/NL_immo_statbel_jaar.xlsx"
QUARTERLY = "statbel/NL_immo_statbel_kwartaal_per_gemeente.xlsx"
ISOM = ["13010", "13011", "13012", "13017", "13019", "13029", "13044"]
CATS = ["houses", "houses_2_3_facades", "houses_4plus_facades", "apartments"]

# --------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def yearly(mirror: Path) -> pd.DataFrame:
    return real_estate.read(mirror / YEARLY)


@pytest.fixture(scope="module")
def quarterly(mirror: Path) -> pd.DataFrame:
    return real_estate.read(mirror / QUARTERLY)


def _value(obs: pd.DataFrame, measure: str, nis: str, period: str) -> float:
    sel = obs[(obs["measure"] == measure) & (obs["nis"] == nis) & (obs["period"] == period)]
    assert len(sel) == 1, (measure, nis, period)
    return float(sel["value"].iloc[0])


def _check_contract(obs: pd.DataFrame) -> None:
    assert list(obs.columns) == OBSERVATION_COLUMNS
    assert set(obs["measure"].unique()) == set(real_estate.MEASURE_IDS)
    assert set(obs["geo_version"].unique()) == {"2025"}
    assert obs["year"].dtype == np.int64 and obs["value"].dtype == np.float64
    assert not obs.duplicated(["measure", "nis", "period"]).any()
    assert set(obs["status"].unique()) <= {"ok", "suppressed", "missing"}
    # NaN exactly where not ok; never a zero standing in for a gap.
    assert (obs["value"].isna() == (obs["status"] != "ok")).all()
    assert (obs.loc[obs["status"] == "ok", "value"] > 0).all()
    pairs = obs[["measure", "unit"]].drop_duplicates()
    units = pairs.groupby("measure")["unit"].unique().map(tuple).to_dict()
    for cat in CATS:
        assert units[f"sales_{cat}"] == ("count",)
        for stat in ("median", "q1", "q3"):
            assert units[f"price_{stat}_{cat}"] == ("eur",)


@pytest.mark.realdata
def test_yearly_contract_and_levels(yearly):
    _check_contract(yearly)
    assert sorted(yearly["period"].unique()) == [str(y) for y in range(2010, 2025)]
    assert (yearly["period"] == yearly["year"].astype(str)).all()
    per_level = yearly.groupby("level")["nis"].nunique().to_dict()
    assert per_level == {
        "country": 1,
        "region": 3,
        "province": 10,
        "arrondissement": 43,
        "municipality": 565,
    }
    codes = set(yearly["nis"].unique())
    assert {"01000", "02000", "03000", "04000"} <= codes
    assert "11007" not in codes and "46030" in codes  # 2025 mergers


@pytest.mark.realdata
def test_herenthout_2024(yearly):
    assert _value(yearly, "sales_houses", "13012", "2024") == 71
    assert _value(yearly, "price_median_houses", "13012", "2024") == 349_000
    assert _value(yearly, "price_median_houses_2_3_facades", "13012", "2024") == 300_000
    assert _value(yearly, "price_median_houses_4plus_facades", "13012", "2024") == 396_500
    assert _value(yearly, "sales_apartments", "13012", "2024") == 24
    assert _value(yearly, "price_median_apartments", "13012", "2024") == 263_000


@pytest.mark.realdata
def test_benchmarks_2024(yearly):
    assert _value(yearly, "sales_houses", "13000", "2024") == 3745
    assert _value(yearly, "price_median_houses", "13000", "2024") == 330_000
    assert _value(yearly, "price_median_houses", "10000", "2024") == 360_000
    assert _value(yearly, "price_median_houses", "02000", "2024") == 330_000
    assert _value(yearly, "price_median_houses", "01000", "2024") == 290_000


@pytest.mark.realdata
def test_isom_suppression(yearly):
    isom = yearly[yearly["nis"].isin(ISOM)]
    houses = isom[isom["measure"] == "price_median_houses"]
    flats = isom[isom["measure"] == "price_median_apartments"]
    assert len(houses) == len(flats) == 105
    assert (houses["status"] == "suppressed").sum() == 4
    assert (flats["status"] == "suppressed").sum() == 52
    # Suppressed prices sit next to published counts.
    sales = isom[isom["measure"] == "sales_apartments"].set_index(["nis", "period"])
    hidden = flats.loc[flats["status"] == "suppressed"].set_index(["nis", "period"]).index
    assert (sales.loc[hidden, "status"] == "ok").all()
    assert (sales.loc[hidden, "value"] > 0).all()


@pytest.mark.realdata
def test_empty_counts_are_missing(yearly):
    sales = yearly[yearly["measure"].str.startswith("sales_")]
    gaps = sales[sales["status"] != "ok"]
    assert len(gaps) > 0 and set(gaps["status"].unique()) == {"missing"}
    # Their prices are missing too, not suppressed.
    keys = gaps.assign(cat=gaps["measure"].str.removeprefix("sales_"))[["nis", "period", "cat"]]
    prices = yearly.assign(cat=yearly["measure"].str.replace(r"^price_\w+?_", "", regex=True))
    prices = prices[prices["measure"].str.startswith("price_median_")]
    merged = keys.merge(prices, on=["nis", "period", "cat"])
    assert len(merged) == len(keys) and set(merged["status"].unique()) == {"missing"}


@pytest.mark.realdata
def test_quarterly(quarterly):
    _check_contract(quarterly)
    assert set(quarterly["level"].unique()) == {"municipality"}
    assert quarterly["nis"].nunique() == 565
    expected = [f"{y}-Q{q}" for y in range(2010, 2026) for q in range(1, 5)][:61]
    assert expected[-1] == "2025-Q1"
    sales = quarterly[quarterly["measure"] == "sales_houses"]
    sales = sales[sales["nis"].isin(ISOM)]
    for nis in ISOM:
        assert sorted(sales.loc[sales["nis"] == nis, "period"]) == expected
    assert (sales.loc[sales["period"] == "2024-Q1", "year"] == 2024).all()
    # Herenthout's quarterly prices are mostly suppressed, the counts always published.
    assert (sales.loc[sales["nis"] == "13012", "status"] == "ok").all()
    her = quarterly[(quarterly["nis"] == "13012") & (quarterly["measure"] == "price_median_houses")]
    assert (her["status"] == "suppressed").sum() > len(her) / 2


# --------------------------------------------------------------------------------------------
# Small workbooks built here


TITLE = "Vastgoedcategorieën op basis van aard gespecifieerd in de verkoopsakte"
CATEGORY_LABELS = [
    "Alle huizen met 2, 3, 4 of meer gevels (excl. appartementen)",
    "Huizen met 2 of 3 gevels (gesloten + halfopen bebouwing)",
    "Huizen met 4 of meer gevels (open bebouwing)",
    "Appartementen",
]
MEASURE_LABELS = [
    "aantal transacties",
    "mediaan prijs(€)",
    "eerste kwartiel prijs(€)",
    "derde kwartiel prijs(€)",
]


def _header() -> list[list[object]]:
    top = [TITLE, None, None, None, None]
    cats = [None] * 5
    measures = ["refnis", "lokaliteit", "jaar", "periode", None]
    for label in CATEGORY_LABELS:
        top += ["verkopen van onroerende goederen", None, None, None, None]
        cats += [label, None, None, None, None]
        measures += MEASURE_LABELS + [None]
    return [top[:27] + [None], cats[:27] + [None], measures[:27] + [0]]


def _row(code, name, year, periode, *blocks) -> list[object]:
    """One data row; each block is (count, median, q1, q3), None for an empty cell."""
    out = [code, name, year, periode, None]
    for block in blocks:
        out += list(block) + [None]
    return out[:27] + [1]


FULL = (71, 349000, 270000, 437500)
YEARLY_SHEETS = {
    "België": [_row("01000", "BELGIE", "2024", "Y", FULL, FULL, FULL, FULL)],
    "Per gewest": [_row("02000", "VLAAMS GEWEST", "2024", "Y", FULL, FULL, FULL, FULL)],
    "Per provincie": [_row("10000", "PROVINCIE ANTWERPEN", "2024", "Y", FULL, FULL, FULL, FULL)],
    "Per arrondissement": [
        _row("13000", "ARRONDISSEMENT TURNHOUT", "2024", "Y", FULL, FULL, FULL, FULL)
    ],
    "Per gemeente": [
        _row(
            "13012",
            "HERENTHOUT",
            "2024",
            "Y",
            FULL,
            (38, 300000, 256000, 370000),
            (3, None, None, None),  # too few sales: prices suppressed
            (None, None, None, None),  # no count published: missing
        ),
        _row("13010", "GROBBENDONK", "2024", "Y", FULL, FULL, FULL, FULL),
    ],
}


def _write(path: Path, sheets: dict[str, list[list[object]]], *, header=None) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in (header if header is not None else _header()) + rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def yearly_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "NL_immo_statbel_jaar.xlsx", YEARLY_SHEETS)


def test_small_yearly_workbook(yearly_file):
    obs = real_estate.read(yearly_file)
    _check_contract(obs)
    assert obs.attrs == {"frequency": "year"}  # for the build's edition check
    assert set(obs["period"].unique()) == {"2024"} and set(obs["year"].unique()) == {2024}
    levels = obs.drop_duplicates("nis").set_index("nis")["level"].to_dict()
    assert levels == {
        "01000": "country",
        "02000": "region",
        "10000": "province",
        "13000": "arrondissement",
        "13012": "municipality",
        "13010": "municipality",
    }
    her = obs[obs["nis"] == "13012"].set_index("measure")
    assert her.loc["sales_houses", "value"] == 71
    assert her.loc["price_median_houses_2_3_facades", "value"] == 300_000
    assert her.loc["sales_houses_4plus_facades", ["value", "status"]].tolist() == [3, "ok"]
    for stat in ("median", "q1", "q3"):
        assert her.loc[f"price_{stat}_houses_4plus_facades", "status"] == "suppressed"
        assert her.loc[f"price_{stat}_apartments", "status"] == "missing"
    assert her.loc["sales_apartments", "status"] == "missing"
    assert np.isnan(her.loc["sales_apartments", "value"])


def test_numeric_refnis_is_normalised(tmp_path):
    sheets = dict(YEARLY_SHEETS)
    sheets["België"] = [_row(1000, "BELGIE", 2024, "Y", FULL, FULL, FULL, FULL)]
    sheets["Per gewest"] = [_row(2000.0, "VLAAMS GEWEST", "2024", "Y", FULL, FULL, FULL, FULL)]
    obs = real_estate.read(_write(tmp_path / "immo.xlsx", sheets))
    assert {"01000", "02000"} <= set(obs["nis"].unique())
    assert set(obs.loc[obs["nis"] == "01000", "level"]) == {"country"}


def test_small_quarterly_workbook(tmp_path):
    rows = [
        _row("13012", "HERENTHOUT", "2024", q, (10, None, None, None), FULL, FULL, FULL)
        for q in ("Q1", "Q2", "Q3", "Q4")
    ]
    path = _write(tmp_path / "NL_immo_statbel_kwartaal_per_gemeente.xlsx", {"Per gemeente": rows})
    obs = real_estate.read(path)
    _check_contract(obs)
    assert obs.attrs == {"frequency": "quarter"}
    assert sorted(obs["period"].unique()) == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    assert set(obs["year"].unique()) == {2024}
    med = obs[obs["measure"] == "price_median_houses"]
    assert set(med["status"].unique()) == {"suppressed"}


def _assert_error(path: Path, *fragments: str) -> SourceFormatError:
    with pytest.raises(SourceFormatError) as info:
        real_estate.read(path)
    message = str(info.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_missing_sheet(tmp_path):
    sheets = {k: v for k, v in YEARLY_SHEETS.items() if k != "Per provincie"}
    _assert_error(_write(tmp_path / "immo.xlsx", sheets), "Per provincie", "lacks")


def test_wrong_sheet(tmp_path):
    path = _write(tmp_path / "immo.xlsx", {"Blad1": YEARLY_SHEETS["Per gemeente"]})
    _assert_error(path, "'Per gemeente' not found", "Blad1")


def test_shifted_header(tmp_path):
    header = [[None] * 28] + _header()
    path = _write(tmp_path / "immo.xlsx", YEARLY_SHEETS, header=header)
    err = _assert_error(path, "Alle huizen met 2, 3, 4 of meer gevels", "row 2")
    assert err.sheet is not None


def test_renamed_column(tmp_path):
    header = _header()
    header[2][11] = "gemiddelde prijs(€)"
    path = _write(tmp_path / "immo.xlsx", YEARLY_SHEETS, header=header)
    _assert_error(path, "'mediaan prijs'", "column 12", "gemiddelde prijs", "row 3")


def test_moved_category(tmp_path):
    header = _header()
    header[1][15], header[1][20] = header[1][20], header[1][15]
    path = _write(tmp_path / "immo.xlsx", YEARLY_SHEETS, header=header)
    _assert_error(path, "Huizen met 4 of meer gevels", "column 16")


def test_garbage_value(tmp_path):
    sheets = dict(YEARLY_SHEETS)
    rows = [list(r) for r in YEARLY_SHEETS["Per gemeente"]]
    rows[1][6] = "n/a?"  # median price of all houses, Grobbendonk: sheet row 5, column G
    sheets["Per gemeente"] = rows
    err = _assert_error(
        _write(tmp_path / "immo.xlsx", sheets), "row 5", "column 'G", "mediaan prijs", "n/a?"
    )
    assert err.sheet == "Per gemeente"


def test_invalid_nis(tmp_path):
    sheets = dict(YEARLY_SHEETS)
    rows = [list(r) for r in YEARLY_SHEETS["Per gemeente"]]
    rows[1][0] = "13O10"
    sheets["Per gemeente"] = rows
    _assert_error(_write(tmp_path / "immo.xlsx", sheets), "'13O10'", "NIS code", "row 5")


def test_code_on_wrong_level_sheet(tmp_path):
    sheets = dict(YEARLY_SHEETS)
    sheets["Per provincie"] = [_row("13012", "HERENTHOUT", "2024", "Y", FULL, FULL, FULL, FULL)]
    _assert_error(_write(tmp_path / "immo.xlsx", sheets), "expected only province codes")


def test_bad_periode_and_year(tmp_path):
    sheets = dict(YEARLY_SHEETS)
    sheets["Per gemeente"] = [_row("13012", "HERENTHOUT", "2024", "H1", FULL, FULL, FULL, FULL)]
    _assert_error(_write(tmp_path / "a.xlsx", sheets), "periode", "'H1'", "row 4")
    sheets["Per gemeente"] = [_row("13012", "HERENTHOUT", "twee", "Y", FULL, FULL, FULL, FULL)]
    _assert_error(_write(tmp_path / "b.xlsx", sheets), "jaar", "'twee'")


def test_duplicate_rows(tmp_path):
    sheets = dict(YEARLY_SHEETS)
    sheets["Per gemeente"] = YEARLY_SHEETS["Per gemeente"] + YEARLY_SHEETS["Per gemeente"][:1]
    _assert_error(_write(tmp_path / "immo.xlsx", sheets), "duplicate", "13012")


def test_empty_file(tmp_path):
    path = tmp_path / "NL_immo_statbel_jaar.xlsx"
    path.write_bytes(b"")
    _assert_error(path, "empty")


def test_truncated_file(tmp_path, yearly_file):
    data = yearly_file.read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    _assert_error(path, "cannot be opened as an Excel workbook")
