"""Tests for lsbanalysis.readers.jobseekers: VDAB jobseekers via Provincies in Cijfers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import jobseekers, pinc_lookups
from lsbanalysis.readers.common import OBSERVATION_COLUMNS

FILE = "unemployment/vdab_pinc_werkloosheid_gemeenten_2014_2024.xlsx"
RATES_2024 = {
    "13010": 4.6,  # Grobbendonk
    "13011": 6.8,  # Herentals
    "13012": 4.9,  # Herenthout
    "13017": 4.6,  # Kasterlee
    "13019": 4.9,  # Lille
    "13029": 5.1,  # Olen
    "13044": 4.6,  # Vorselaar
}
HERENTHOUT_NWWZ = [280, 268, 267, 265, 242, 234, 244, 229, 206, 209, 227]

# --------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def names(mirror: Path) -> pd.DataFrame:
    path = mirror / "boundaries" / "pinc_gemeente_2025_codes_names.xlsx"
    return pinc_lookups.read_codes_names(path)


@pytest.fixture(scope="module")
def obs(mirror: Path, names: pd.DataFrame) -> pd.DataFrame:
    return jobseekers.read(mirror / FILE, municipality_names=names[["nis", "name"]])


def _series(obs: pd.DataFrame, measure: str, nis: str) -> pd.Series:
    sel = obs[(obs["measure"] == measure) & (obs["nis"] == nis)]
    return sel.set_index("year")["value"].sort_index()


@pytest.mark.realdata
def test_shape_and_columns(obs, names):
    assert list(obs.columns) == OBSERVATION_COLUMNS
    assert obs["nis"].nunique() == 285
    assert sorted(obs["year"].unique()) == list(range(2014, 2025))
    assert obs["measure"].nunique() == 21 and len(obs) == 285 * 11 * 21
    assert set(obs["measure"]) == {m for m, _ in jobseekers.SERIES.values()}
    assert set(obs["level"]) == {"municipality"} and set(obs["geo_version"]) == {"2025"}
    assert (obs["period"] == obs["year"].astype(str)).all()
    assert not obs["nis"].isin(pinc_lookups.PLACEHOLDER_CODES).any()
    assert set(obs["nis"]) <= set(names.loc[names["is_area"], "nis"])
    assert not obs.duplicated(["measure", "nis", "period"]).any()
    assert "46030" in set(obs["nis"]) and "11007" not in set(obs["nis"])
    assert "21004" not in set(obs["nis"])  # no Brussels


@pytest.mark.realdata
def test_units(obs):
    units = obs.groupby("measure")["unit"].unique().map(tuple).to_dict()
    assert units["jobseeker_rate"] == ("percent",) and units["wzw_rate"] == ("percent",)
    assert units["nwwz"] == ("count",) and units["wzw_next_abroad"] == ("count",)


@pytest.mark.realdata
def test_herenthout(obs):
    assert _series(obs, "jobseeker_rate", "13012")[2024] == 4.9
    assert _series(obs, "nwwz", "13012").tolist() == HERENTHOUT_NWWZ


@pytest.mark.realdata
def test_isom_rates_2024(obs):
    rates = obs[(obs["measure"] == "jobseeker_rate") & (obs["year"] == 2024)]
    got = rates.set_index("nis")["value"]
    for nis, rate in RATES_2024.items():
        assert got[nis] == rate  # exact: rounded, no float noise such as 4.8999999


@pytest.mark.realdata
def test_wzw_2014_missing_everywhere(obs):
    wzw = obs[(obs["measure"] == "wzw") & (obs["year"] == 2014)]
    assert len(wzw) == 285
    assert wzw["value"].isna().all() and (wzw["status"] == "missing").all()


@pytest.mark.realdata
def test_suppressed_cells_are_nan_not_zero(obs):
    sup = obs[obs["status"] == "suppressed"]
    assert len(sup) > 0 and sup["value"].isna().all()
    herstappe = obs[(obs["measure"] == "nwwz") & (obs["nis"] == "73028")].set_index("year")
    assert (herstappe.loc[[2022, 2023, 2024], "status"] == "suppressed").all()
    assert herstappe.loc[2014, "status"] == "missing"
    assert obs.loc[obs["status"] == "ok", "value"].notna().all()


# --------------------------------------------------------------------------------------------
# Bad input: a small workbook with the real layout (all 21 series, 2014-2024, 2 municipalities)

LABELS = list(jobseekers.SERIES)
YEARS = list(range(2014, 2025))
SMALL_NAMES = pd.DataFrame(
    {
        "nis": ["13012", "13029", "13011", "99999"],
        "name": ["Herenthout", "Olen", "Herentals", "Buiten Vlaanderen en Brussel"],
    }
)


def _rows(municipalities=("Herenthout", "Olen")) -> list[list[object]]:
    width = len(LABELS) * len(YEARS)
    label_row: list[object] = [None] * (width + 1)
    for k, label in enumerate(LABELS):
        label_row[(k + 1) * len(YEARS)] = label
    rows = [
        ["Werkloosheid - gemeenten"] + [None] * width,
        label_row,
        [None] + [str(y) for y in YEARS] * len(LABELS),
    ]
    for name in municipalities:
        row: list[object] = [name]
        for label in LABELS:
            rate = jobseekers.SERIES[label][1] == "percent"
            row += [0.049 if rate else 227] * len(YEARS)
        rows.append(row)
    rows.append(["Buiten Vlaanderen en Brussel"] + ["-"] * width)
    rows += [[None], ["Speciale waarden", "- Geen waarde"], [None, "x Verborgen waarde"]]
    return rows


def _cell(rows, name: str, label: str, year: int) -> tuple[int, int]:
    r = next(i for i, row in enumerate(rows) if row[0] == name)
    return r, 1 + LABELS.index(label) * len(YEARS) + YEARS.index(year)


def _xlsx(path: Path, rows: list[list[object]], sheet: str = jobseekers.SHEET) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


NWWZ = "werkzoekenden zonder werk (jaargemiddelde) [aantal]"


def test_small_workbook(tmp_path: Path):
    rows = _rows()
    r, c = _cell(rows, "Olen", NWWZ, 2024)
    rows[r][c] = "x"
    r, c = _cell(rows, "Olen", "WZW [aantal] (1)", 2014)
    rows[r][c] = "-"
    out = jobseekers.read(_xlsx(tmp_path / "w.xlsx", rows), municipality_names=SMALL_NAMES)
    assert len(out) == 2 * len(LABELS) * len(YEARS)
    assert set(out["nis"]) == {"13012", "13029"}  # placeholder row dropped
    herenthout = out[out["nis"] == "13012"].set_index(["measure", "year"])
    assert herenthout.loc[("jobseeker_rate", 2024), "value"] == 4.9
    assert herenthout.loc[("nwwz", 2024), "value"] == 227
    olen = out[out["nis"] == "13029"].set_index(["measure", "year"])
    assert np.isnan(olen.loc[("nwwz", 2024), "value"])
    assert olen.loc[("nwwz", 2024), "status"] == "suppressed"
    assert olen.loc[("wzw", 2014), "status"] == "missing"


def test_wrong_sheet(tmp_path: Path):
    path = _xlsx(tmp_path / "w.xlsx", _rows(), sheet="Sheet1")
    with pytest.raises(SourceFormatError, match=r"w\.xlsx.*'Werkloosheid gemeenten' not found"):
        jobseekers.read(path, municipality_names=SMALL_NAMES)


def test_shifted_header(tmp_path: Path):
    path = _xlsx(tmp_path / "w.xlsx", [[None], *_rows()])
    with pytest.raises(SourceFormatError, match=r"w\.xlsx.*row 1.*'Werkloosheid - gemeenten'"):
        jobseekers.read(path, municipality_names=SMALL_NAMES)


def test_shifted_label_row(tmp_path: Path):
    rows = _rows()
    rows[1] = [None, *rows[1][:-1]]  # labels one column to the right of their block end
    path = _xlsx(tmp_path / "w.xlsx", rows)
    with pytest.raises(SourceFormatError, match=r"w\.xlsx.*row 2.*last column"):
        jobseekers.read(path, municipality_names=SMALL_NAMES)


def test_renamed_series_label(tmp_path: Path):
    rows = _rows()
    rows[1][3 * len(YEARS)] = "werkzoekendengraad vrouwen [%]"
    path = _xlsx(tmp_path / "w.xlsx", rows)
    with pytest.raises(
        SourceFormatError,
        match=r"w\.xlsx.*row 2.*missing \['werkzoekendengraad vrouwen \(jaargemiddelde\) \[%\]'\]"
        r".*unexpected \['werkzoekendengraad vrouwen \[%\]'\]",
    ):
        jobseekers.read(path, municipality_names=SMALL_NAMES)


def test_years_not_consecutive(tmp_path: Path):
    rows = _rows()
    rows[2][1 + 6 * len(YEARS) + 3] = "2018"  # nwwz block: 2014, 2015, 2016, 2018, 2018, ...
    path = _xlsx(tmp_path / "w.xlsx", rows)
    with pytest.raises(
        SourceFormatError, match=r"row 3.*expected the years 2014\.\.2024.*werkzoekenden zonder"
    ):
        jobseekers.read(path, municipality_names=SMALL_NAMES)


def test_garbage_value(tmp_path: Path):
    rows = _rows()
    r, c = _cell(rows, "Herenthout", NWWZ, 2020)
    rows[r][c] = "n/a?"
    path = _xlsx(tmp_path / "w.xlsx", rows)
    with pytest.raises(SourceFormatError) as err:
        jobseekers.read(path, municipality_names=SMALL_NAMES)
    msg = str(err.value)
    assert "w.xlsx" in msg and "row 4" in msg and "'n/a?'" in msg
    assert "column 'BV (werkzoekenden zonder werk (jaargemiddelde) [aantal] 2020)'" in msg
    assert err.value.row == r and err.value.column.startswith("BV")


def test_unknown_municipality_suggests(tmp_path: Path):
    path = _xlsx(tmp_path / "w.xlsx", _rows(("Herenthout", "Herenthoud")))
    with pytest.raises(
        SourceFormatError,
        match=r"w\.xlsx.*row 5, column 'A'.*'Herenthoud'.*did you mean 'Herenthout'",
    ):
        jobseekers.read(path, municipality_names=SMALL_NAMES)


def test_empty_and_truncated(tmp_path: Path):
    path = tmp_path / "vdab.xlsx"
    path.write_bytes(b"")
    with pytest.raises(SourceFormatError, match=r"vdab\.xlsx.*empty \(0 bytes\)"):
        jobseekers.read(path, municipality_names=SMALL_NAMES)
    good = _xlsx(tmp_path / "good.xlsx", _rows()).read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(SourceFormatError, match=r"vdab\.xlsx.*cannot be opened"):
        jobseekers.read(path, municipality_names=SMALL_NAMES)
