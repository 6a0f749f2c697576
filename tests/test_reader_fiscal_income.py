"""Tests for the TF_PSNL_INC_TAX_MUNTY reader (xlsx, pipe-delimited txt and zip editions)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import fiscal_income
from lsbanalysis.readers.common import OBSERVATION_COLUMNS, read_workbook

FILE = "TF_PSNL_INC_TAX_MUNTY_2005-2020.xlsx"
SHEET = fiscal_income.SHEET

# A few real rows (CD_YEAR, CD_MUNTY_REFNIS, the 28 MS_* columns in file order, name), taken
# from the 2005-2020 release, for fixtures that do not need the official file.
HEADER = [*fiscal_income.REQUIRED_COLUMNS, "TX_MUNTY_DESCR_NL"]
# fmt: off
ROWS = [
    [2020, "13012", 5311, 202, 189452495.69, 189751429.07, 5311, 2146273.14, 885, 335049.71,
     117, 100044.84, 29, 187170061.38, 5302, 6025387.87, 1229, 183427107.82, 5311, 298933.38,
     112, 37392083.71, 4617, 2781925.68, 4268, 0, 0, 40174009.39, 4618, 9185, "Herenthout"],
    [2020, "13044", 4499, 170, 168016057.3, 168328835.63, 4499, 1869676.24, 847, 248873.64,
     105, 80643.52, 30, 166129642.23, 4489, 6137446.95, 1086, 161878610.35, 4497, 312778.33,
     105, 34618646.87, 3877, 2553045.27, 3625, 0, 0, 37171692.14, 3882, 7995, "Vorselaar"],
    [2006, "73028", 54, "*", 1307930.42, 1321044.17, 54, "*", 10, 0, 0, "*", 2, 1284939.81,
     54, 69314.03, 9, 1238616.39, 54, 13113.75, 8, 284431.51, 40, 5542.9, 40, 0, 0,
     289974.41, 40, 85, "Herstappe"],
]
# fmt: on

CORE = {
    "MS_NBR_NON_ZERO_INC": "declarations_nonzero",
    "MS_NBR_ZERO_INC": "declarations_zero_income",
    "MS_TOT_NET_TAXABLE_INC": "net_taxable_income_total",
    "MS_TOT_NET_INC": "net_income_total",
    "MS_TOT_TAXES": "taxes_total",
    "MS_TOT_STATE_TAXES": "state_taxes_total",
    "MS_TOT_MUNICIP_TAXES": "municipal_taxes_total",
    "MS_TOT_RESIDENTS": "inhabitants",
}


def write_xlsx(path: Path, rows: list[list], *, sheet: str = SHEET) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def pipe_text(rows: list[list]) -> str:
    """The official txt layout: '|'-delimited, CRLF line ends (the caller adds a BOM)."""

    def cell(v: object) -> str:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return "" if v is None else str(v)

    return "".join("|".join(cell(v) for v in row) + "\r\n" for row in rows)


def value(frame: pd.DataFrame, measure: str, nis: str, period: str) -> pd.Series:
    row = frame[(frame["measure"] == measure) & (frame["nis"] == nis) & (frame["period"] == period)]
    assert len(row) == 1, (measure, nis, period)
    return row.iloc[0]


# --- real file ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tf_path(mirror: Path) -> Path:
    return mirror / "statbel" / FILE


@pytest.fixture(scope="module")
def tf(tf_path: Path) -> pd.DataFrame:
    return fiscal_income.read(tf_path)


@pytest.fixture(scope="module")
def tf_raw(tf_path: Path) -> pd.DataFrame:
    """The sheet's raw cells with the header row as column names (for txt/zip fixtures)."""
    return read_workbook(tf_path, [SHEET], header=0)[SHEET].reset_index(drop=True)


@pytest.mark.realdata
def test_herenthout_2020(tf: pd.DataFrame) -> None:
    assert value(tf, "declarations_nonzero", "13012", "2020")["value"] == 5311
    assert value(tf, "net_taxable_income_total", "13012", "2020")["value"] == pytest.approx(
        189_452_495.69, abs=0.005
    )
    assert value(tf, "taxes_total", "13012", "2020")["value"] == pytest.approx(
        40_174_009.39, abs=0.005
    )
    row = value(tf, "inhabitants", "13012", "2020")
    assert row["value"] == 9185  # population on 1 Jan 2021 (income year + 1)
    assert (row["unit"], row["status"], row["level"], row["geo_version"], row["year"]) == (
        "count",
        "ok",
        "municipality",
        "2019",
        2020,
    )
    assert value(tf, "net_taxable_income_total", "13012", "2020")["unit"] == "eur"


@pytest.mark.realdata
def test_municipalities_and_years(tf: pd.DataFrame) -> None:
    one = tf[tf["measure"] == "inhabitants"]
    per_year = one.groupby("year")["nis"].nunique()
    assert list(per_year.index) == list(range(2005, 2021))  # 16 income years
    assert (per_year == 581).all()
    assert set(tf["level"]) == {"municipality"}
    assert set(tf["geo_version"]) == {"2019"}
    assert (tf["period"] == tf["year"].astype(str)).all()
    assert tf["measure"].nunique() == len(fiscal_income.MEASURES) == 28
    assert len(tf) == 581 * 16 * 28
    # ISOM municipalities present every year, Vorselaar with its real code.
    isom = ["13010", "13011", "13012", "13017", "13019", "13029", "13044"]
    assert (one[one["nis"].isin(isom)].groupby("nis")["year"].nunique() == 16).all()


@pytest.mark.realdata
def test_contract(tf: pd.DataFrame) -> None:
    assert list(tf.columns) == OBSERVATION_COLUMNS
    assert tf["year"].dtype == "int64" and tf["value"].dtype == "float64"
    assert (tf["value"].isna() == (tf["status"] != "ok")).all()
    assert not tf.duplicated(["measure", "nis", "period"]).any()
    assert tf["nis"].str.fullmatch(r"\d{5}").all()


@pytest.mark.realdata
def test_star_becomes_suppressed(tf: pd.DataFrame) -> None:
    row = value(tf, "declarations_zero_income", "73028", "2006")  # Herstappe: '*'
    assert row["status"] == "suppressed" and np.isnan(row["value"])
    suppressed = tf[tf["status"] == "suppressed"]
    assert len(suppressed) == 120
    assert suppressed["value"].isna().all()
    # The main measures are never suppressed.
    main = ["declarations_nonzero", "net_taxable_income_total", "taxes_total", "inhabitants"]
    assert (tf[tf["measure"].isin(main)]["status"] == "ok").all()


def test_measure_mapping_is_declarative_and_complete() -> None:
    for column, measure in CORE.items():
        assert fiscal_income.MEASURES[column][0] == measure
    units = {u for _, u in fiscal_income.MEASURES.values()}
    assert units == {"count", "eur"}
    ids = [m for m, _ in fiscal_income.MEASURES.values()]
    assert len(ids) == len(set(ids))
    assert all(c.startswith("MS_") for c in fiscal_income.MEASURES)
    assert "income year + 1" in fiscal_income.__doc__


@pytest.mark.realdata
@pytest.mark.parametrize("edition", ["txt", "zip"])
def test_txt_and_zip_editions_match_xlsx(
    tf: pd.DataFrame, tf_raw: pd.DataFrame, tmp_path: Path, edition: str
) -> None:
    picked = tf_raw[
        (tf_raw["CD_MUNTY_REFNIS"] == "13012")
        | ((tf_raw["CD_MUNTY_REFNIS"] == "73028") & (tf_raw["CD_YEAR"] == 2006))
        | ((tf_raw["CD_MUNTY_REFNIS"] == "21004") & (tf_raw["CD_YEAR"] == 2020))
    ]
    assert len(picked) == 18
    rows = [list(tf_raw.columns)] + picked.astype(object).where(picked.notna(), "").values.tolist()
    data = b"\xef\xbb\xbf" + pipe_text(rows).encode("utf-8")  # UTF-8 BOM, CRLF
    if edition == "txt":
        path = tmp_path / "TF_PSNL_INC_TAX_MUNTY.txt"
        path.write_bytes(data)
    else:
        path = tmp_path / "TF_PSNL_INC_TAX_MUNTY.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("TF_PSNL_INC_TAX_MUNTY.txt", data)
    got = fiscal_income.read(path)

    keys = set(
        zip(picked["CD_MUNTY_REFNIS"], picked["CD_YEAR"].astype(int).astype(str), strict=True)
    )
    want = tf[tf["nis"].isin({nis for nis, _ in keys})]
    want = want[[k in keys for k in zip(want["nis"], want["period"], strict=True)]]
    order = ["measure", "nis", "period"]
    pd.testing.assert_frame_equal(
        got.sort_values(order, ignore_index=True), want.sort_values(order, ignore_index=True)
    )
    assert value(got, "declarations_nonzero", "13012", "2020")["value"] == 5311
    assert value(got, "declarations_zero_income", "73028", "2006")["status"] == "suppressed"


# --- small fixtures: good and bad input ------------------------------------------------------


def test_small_xlsx_fixture_reads(tmp_path: Path) -> None:
    got = fiscal_income.read(write_xlsx(tmp_path / "tf.xlsx", [HEADER, *ROWS]))
    assert len(got) == 3 * 28
    assert value(got, "inhabitants", "13044", "2020")["value"] == 7995
    star = value(got, "various_income_total", "73028", "2006")
    assert star["status"] == "suppressed" and np.isnan(star["value"])


def test_aggregate_rows_are_dropped(tmp_path: Path) -> None:
    """Benchmarks are summed by the analysis layer: an aggregate row must never get through."""
    arrondissement = [2020, "13000", *ROWS[0][2:-1], "Arrondissement Turnhout"]
    got = fiscal_income.read(write_xlsx(tmp_path / "tf.xlsx", [HEADER, *ROWS, arrondissement]))
    assert set(got["nis"]) == {"13012", "13044", "73028"}
    assert set(got["level"]) == {"municipality"}


def test_txt_without_bom_and_with_lf(tmp_path: Path) -> None:
    path = tmp_path / "tf.txt"
    path.write_text(pipe_text([HEADER, *ROWS]).replace("\r\n", "\n"), encoding="utf-8")
    got = fiscal_income.read(path)
    assert value(got, "net_taxable_income_total", "13012", "2020")["value"] == pytest.approx(
        189_452_495.69
    )


def assert_format_error(path: Path, *fragments: str) -> SourceFormatError:
    with pytest.raises(SourceFormatError) as info:
        fiscal_income.read(path)
    message = str(info.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_wrong_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "tf.xlsx", [HEADER, *ROWS], sheet="Blad1")
    assert_format_error(path, "TF_PSNL_INC_TAX_MUNTY", "Blad1")


def test_shifted_header(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "tf.xlsx", [["Fiscale statistiek"], HEADER, *ROWS])
    assert_format_error(path, "expected column 'CD_YEAR'")


def test_renamed_column(tmp_path: Path) -> None:
    header = [c if c != "MS_TOT_NET_TAXABLE_INC" else "MS_TOT_NET_TAXABLE_INCOME" for c in HEADER]
    path = write_xlsx(tmp_path / "tf.xlsx", [header, *ROWS])
    assert_format_error(path, "expected column 'MS_TOT_NET_TAXABLE_INC'")


def test_unknown_measure_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "tf.xlsx", [[*HEADER, "MS_NEW"], *[[*r, 1] for r in ROWS]])
    assert_format_error(path, "MS_NEW", "MEASURES")


def test_garbage_value_names_row_and_column(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][HEADER.index("MS_TOT_TAXES")] = "37.171.692,14 EUR"
    err = assert_format_error(
        write_xlsx(tmp_path / "tf.xlsx", [HEADER, *rows]),
        "row 3",
        "MS_TOT_TAXES",
        "37.171.692,14 EUR",
    )
    assert err.row == 2 and err.column == "MS_TOT_TAXES"


def test_garbage_value_in_txt_names_line(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[2][HEADER.index("MS_TOT_RESIDENTS")] = "n/a"
    path = tmp_path / "tf.txt"
    path.write_text(pipe_text([HEADER, *rows]), encoding="utf-8-sig")
    assert_format_error(path, "row 4", "MS_TOT_RESIDENTS", "'n/a'")


@pytest.mark.parametrize("code", ["1301A", "130120", "0"])
def test_invalid_nis_code(tmp_path: Path, code: str) -> None:
    rows = [list(r) for r in ROWS]
    rows[0][1] = code
    assert_format_error(
        write_xlsx(tmp_path / "tf.xlsx", [HEADER, *rows]), "row 2", "NIS code", code
    )


def test_non_integer_year(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][0] = "2020b"
    assert_format_error(
        write_xlsx(tmp_path / "tf.xlsx", [HEADER, *rows]), "row 3", "CD_YEAR", "integer"
    )


def test_duplicate_row(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "tf.xlsx", [HEADER, *ROWS, ROWS[0]])
    assert_format_error(path, "duplicate", "13012")


@pytest.mark.parametrize("suffix", [".xlsx", ".txt", ".zip"])
def test_empty_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"TF_PSNL_INC_TAX_MUNTY{suffix}"
    path.write_bytes(b"")
    assert_format_error(path, "empty")


def test_missing_file(tmp_path: Path) -> None:
    assert_format_error(tmp_path / "TF_PSNL_INC_TAX_MUNTY.txt", "not found")


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "TF_PSNL_INC_TAX_MUNTY.csv"
    path.write_text("x")
    assert_format_error(path, ".csv", "expected .xlsx")


def test_truncated_xlsx(tmp_path: Path) -> None:
    full = write_xlsx(tmp_path / "full.xlsx", [HEADER, *ROWS]).read_bytes()
    path = tmp_path / "tf.xlsx"
    path.write_bytes(full[:1000])
    assert_format_error(path, "cannot be opened as an Excel workbook")


@pytest.mark.realdata
def test_truncated_real_xlsx(tf_path: Path, tmp_path: Path) -> None:
    path = tmp_path / FILE
    path.write_bytes(tf_path.read_bytes()[:1000])
    assert_format_error(path, "cannot be opened as an Excel workbook")


def test_truncated_txt(tmp_path: Path) -> None:
    text = pipe_text([HEADER, *ROWS])
    path = tmp_path / "tf.txt"
    path.write_text(text[: text.rindex("|", 0, len(text) - 40)], encoding="utf-8")
    assert_format_error(path, "row 4", "fields", "truncated")


def test_text_that_is_not_pipe_delimited(tmp_path: Path) -> None:
    path = tmp_path / "tf.txt"
    path.write_text("CD_YEAR;CD_MUNTY_REFNIS\n2020;13012\n", encoding="utf-8")
    assert_format_error(path, "pipe-delimited")


def test_truncated_zip(tmp_path: Path) -> None:
    full = tmp_path / "full.zip"
    with zipfile.ZipFile(full, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("TF_PSNL_INC_TAX_MUNTY.txt", pipe_text([HEADER, *ROWS]))
    data = full.read_bytes()
    path = tmp_path / "TF_PSNL_INC_TAX_MUNTY.zip"
    path.write_bytes(data[: len(data) // 2])
    assert_format_error(path, "zip archive", "truncated")


def test_zip_without_txt(tmp_path: Path) -> None:
    path = tmp_path / "TF_PSNL_INC_TAX_MUNTY.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.pdf", b"%PDF")
    assert_format_error(path, "exactly one pipe-delimited .txt", "readme.pdf")
