"""Tests for lsbanalysis.readers.building_permits: Statbel TF_BUILDING_PERMITS (housing/)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import building_permits as bp
from lsbanalysis.readers.common import OBSERVATION_COLUMNS
from tests.built_store import BuiltStore

FILE = "housing/TF_BUILDING_PERMITS_2025-10-21.zip"
SOURCE = "statbel_building_permits"
HERENTHOUT, TURNHOUT, ANTWERPEN, FLANDERS = "13012", "13000", "10000", "02000"
DWELLINGS = "permits_residential_new_dwellings"
# housing/SOURCES.md, "ISOM check": Herenthout, issued permits.
HERENTHOUT_ROWS = {
    2022: (34, 35, 2, 33, 7_684, 25, 2),
    2023: (32, 50, 19, 31, 7_895, 16, 4),
    2024: (22, 22, 0, 22, 4_685, 15, 6),
}
TABLE_MEASURES = [
    "permits_residential_new_buildings", DWELLINGS, "permits_residential_new_apartments",
    "permits_residential_new_houses", "permits_residential_new_floor_area",
    "permits_residential_renovations", "permits_nonresidential_new_buildings",
]
COUNTS = [m for m, unit in bp.MEASURES.values() if unit == "count"]

# --------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def obs(mirror: Path) -> pd.DataFrame:
    return bp.read(mirror / FILE)


@pytest.fixture(scope="module")
def raw(mirror: Path) -> pd.DataFrame:
    """The monthly text itself, read independently of the reader, one column per MS_* column."""
    with zipfile.ZipFile(mirror / FILE) as archive:
        (member,) = archive.namelist()
        with archive.open(member) as fh:
            dtype = {c: str for c in bp.CODE_COLUMNS} | {c: "float64" for c in bp.MEASURES}
            frame = pd.read_csv(fh, sep="|", engine="pyarrow", dtype=dtype)
    return frame.rename(columns={c: m for c, (m, _) in bp.MEASURES.items()})


def _value(obs: pd.DataFrame, measure: str, nis: str, period: str) -> float:
    sel = obs[(obs["measure"] == measure) & (obs["nis"] == nis) & (obs["period"] == period)]
    assert len(sel) == 1, (measure, nis, period)
    return float(sel["value"].iloc[0])


@pytest.mark.realdata
def test_shape(obs):
    assert list(obs.columns) == OBSERVATION_COLUMNS
    assert obs.attrs["table"] == "BV_opendata_251021_114328.txt"
    assert obs.groupby("level")["nis"].nunique().to_dict() == {
        "country": 1, "region": 3, "province": 10, "arrondissement": 43, "municipality": 565}
    assert set(obs["geo_version"]) == {"2025"}
    assert "46030" in set(obs["nis"]) and "11007" not in set(obs["nis"])
    assert not obs.duplicated(["measure", "nis", "period"]).any()
    units = obs.groupby("measure")["unit"].first()
    assert units["permits_residential_new_floor_area"] == "m2"
    assert units["permits_nonresidential_new_volume_ytd"] == "m3"
    assert units[DWELLINGS] == "count"


@pytest.mark.realdata
def test_partial_year_never_looks_like_a_full_year(obs):
    annual_ids = {m for m, _ in bp.MEASURES.values()}
    annual = obs[obs["measure"].isin(annual_ids)]
    assert sorted(annual["year"].unique()) == list(range(1996, 2025))
    assert (annual["period"] == annual["year"].astype(str)).all()
    ytd = obs[~obs["measure"].isin(annual_ids)]
    assert set(ytd["measure"]) == {m + "_ytd" for m in annual_ids}
    assert set(ytd["period"]) == {"2024-M01-M07", "2025-M01-M07"}
    assert (obs.loc[obs["year"] == 2025, "period"] == "2025-M01-M07").all()
    # Both periods for every area: like-for-like comparison.
    assert ytd.groupby("period")["nis"].nunique().to_dict() == {
        "2024-M01-M07": 622, "2025-M01-M07": 622}


@pytest.mark.realdata
def test_herenthout_and_benchmarks(obs):
    for year, row in HERENTHOUT_ROWS.items():
        got = tuple(_value(obs, m, HERENTHOUT, str(year)) for m in TABLE_MEASURES)
        assert got == row, year
    assert _value(obs, DWELLINGS, HERENTHOUT, "2024") == 22
    assert _value(obs, DWELLINGS, TURNHOUT, "2024") == 2_250
    assert _value(obs, DWELLINGS, ANTWERPEN, "2024") == 7_695
    assert _value(obs, DWELLINGS, FLANDERS, "2024") == 32_137
    levels = obs.drop_duplicates("nis").set_index("nis")["level"]
    assert (levels[TURNHOUT], levels[ANTWERPEN], levels[FLANDERS]) == (
        "arrondissement", "province", "region")


@pytest.mark.realdata
def test_annual_rows_equal_the_sum_of_their_months(obs, raw):
    """Exact for municipal counts; elsewhere Statbel's rounding leaves at most 4 units."""
    months = raw[raw["CD_PERIOD"] > 0]
    ids = [m for m, _ in bp.MEASURES.values()]
    summed = months.groupby(["REFNIS", "CD_YEAR"])[ids].sum(min_count=12)
    summed = summed[months.groupby(["REFNIS", "CD_YEAR"]).size() == 12]
    stored = obs[obs["measure"].isin(ids)].pivot_table(
        index=["nis", "year"], columns="measure", values="value", dropna=False)
    stored.index.names = summed.index.names
    both = stored[ids].join(summed.add_suffix("_months"), how="inner")
    level = obs.drop_duplicates("nis").set_index("nis")["level"]
    municipal = np.asarray(both.index.get_level_values("REFNIS").map(level) == "municipality")
    checked = 0
    for m in ids:
        have = (both[m].notna() & both[m + "_months"].notna()).to_numpy()
        diff = (both[m] - both[m + "_months"]).abs()[have]
        checked += int(have.sum())
        assert diff.max() <= 4, m
        if m in COUNTS:
            assert (diff[municipal[have]] == 0).all(), m
            assert (diff == 0).mean() > 0.99, m
        else:  # m² and m³: rounding of the monthly figures
            assert (diff == 0).mean() > 0.9, m
    assert checked > 150_000
    # Herenthout 2024: the annual row is the sum of its 12 months exactly.
    h = both.loc[(HERENTHOUT, 2024)]
    for m in ids:
        if m != "permits_residential_new_floor_area":  # empty months: no sum of all 12
            assert h[m] == h[m + "_months"], m


@pytest.mark.realdata
def test_municipal_sums_equal_published_arrondissement_rows(obs, raw):
    """Flemish arrondissements: exact for counts, rounding (<= 4) for m² and m³, except 2017."""
    ids = [m for m, _ in bp.MEASURES.values()]
    annual = raw[raw["CD_PERIOD"] == 0]
    municipal = annual[annual["CD_REFNIS_LEVEL"] == 5].groupby(["CD_REFNIS_DISTRICT", "CD_YEAR"])
    complete = municipal[ids].count().eq(municipal.size(), axis=0)  # no empty municipal cell
    sums = municipal[ids].sum().where(complete)
    flemish = set(annual.loc[(annual["CD_REFNIS_LEVEL"] == 4)
                             & (annual["CD_REFNIS_REGION"] == FLANDERS), "REFNIS"])
    assert len(flemish) == 22
    arr = obs[obs["nis"].isin(flemish) & obs["measure"].isin(ids)]
    published = arr.pivot_table(index=["nis", "year"], columns="measure", values="value")
    published.index.names = sums.index.names
    for m in ids:
        pair = published[[m]].join(sums[[m]].add_suffix("_sum"), how="inner").dropna()
        diff = pair[m] - pair[m + "_sum"]
        in_2017 = pair.index.get_level_values("CD_YEAR") == 2017
        assert len(pair) > 500, m
        if m in COUNTS:
            assert (diff[~in_2017] == 0).all(), m
        else:
            assert diff[~in_2017].abs().max() <= 4, m
        # 2017: the published arrondissement rows hold more permits than their municipalities
        # (documented in the reader); never fewer.
        assert diff[in_2017].min() >= -4 and diff[in_2017].max() > 4, m
    # SOURCES.md: arrondissement Turnhout 2024 = the sum of its municipalities, 2,250 dwellings.
    for m in COUNTS:
        assert published.loc[(TURNHOUT, 2024), m] == sums.loc[(TURNHOUT, 2024), m], m
    assert sums.loc[(TURNHOUT, 2024), DWELLINGS] == 2_250


@pytest.mark.realdata
def test_year_to_date_sums(obs, raw):
    jan_jul = raw[(raw["CD_PERIOD"] >= 1) & (raw["CD_PERIOD"] <= 7)]
    for year in (2024, 2025):
        months = jan_jul[jan_jul["CD_YEAR"] == year]
        for nis in (HERENTHOUT, TURNHOUT, FLANDERS):
            cells = months[months["REFNIS"] == nis]
            assert len(cells) == 7
            assert _value(obs, DWELLINGS + "_ytd", nis, f"{year}-M01-M07") == cells[DWELLINGS].sum()
    # A municipality with an empty 2025 month has a missing (not a partial) year-to-date sum.
    months = jan_jul[(jan_jul["CD_YEAR"] == 2025) & (jan_jul["CD_REFNIS_LEVEL"] == 5)]
    gaps = months.loc[months[DWELLINGS].isna(), "REFNIS"].unique()
    assert len(gaps) > 0
    ytd = obs[(obs["measure"] == DWELLINGS + "_ytd") & (obs["period"] == "2025-M01-M07")]
    ytd = ytd.set_index("nis")
    assert (ytd.loc[gaps, "status"] == "missing").all() and ytd.loc[gaps, "value"].isna().all()
    assert set(ytd.index[ytd["status"] == "missing"]) == set(gaps)


@pytest.mark.realdata
def test_empty_cells_are_missing_never_zero(obs):
    empty = obs[obs["status"] != "ok"]
    assert set(empty["status"]) == {"missing"} and empty["value"].isna().all()
    # SOURCES.md: 18 municipalities have no 2024 annual row values (not available, not zero).
    dwellings_2024 = obs[(obs["measure"] == DWELLINGS) & (obs["period"] == "2024")]
    assert (dwellings_2024["status"] == "missing").sum() == 18


@pytest.mark.realdata
def test_in_built_store(built_store: BuiltStore):
    obs = built_store.observations
    rows = obs[obs["source"] == SOURCE]
    assert set(rows["level"].astype(str)) == {
        "country", "region", "province", "arrondissement", "municipality"}
    assert set(rows["status"].astype(str)) == {"ok", "missing"}
    periods = set(rows["period"].astype(str))
    assert {"1996", "2024", "2024-M01-M07", "2025-M01-M07"} <= periods and "2025" not in periods
    cell = rows[(rows["nis"] == TURNHOUT) & (rows["measure"] == DWELLINGS)
                & (rows["period"] == "2024")]
    assert cell["value"].tolist() == [2_250.0]
    assert cell["level"].astype(str).tolist() == ["arrondissement"]


# --------------------------------------------------------------------------------------------
# Bad input: a small archive with the real layout

HEADER = "|".join(f'"{c}"' for c in bp.COLUMNS)
LEVEL_CODES = {1: "01000", 2: "02000", 4: "13000", 5: "13012"}


def _line(nis="13012", year=2023, period=0, values=("3",) * 9, level=5) -> str:
    codes = {1: ('"01000"', '""', '""', '""', '""'),
             2: ('"01000"', '"02000"', '""', '""', '""'),
             4: ('"01000"', '"02000"', '"10000"', '"13000"', '""'),
             5: ('"01000"', '"02000"', '"10000"', '"13000"', f'"{nis}"')}[level]
    return "|".join([f'"{nis}"', '"NAAM"', '"NOM"', str(year), str(period), *values, *codes,
                     str(level)])


def _lines(last_months: int = 2) -> list[str]:
    lines = []
    for nis, level in (("13012", 5), ("13000", 4)):
        lines += [_line(nis, 2023, p, level=level) for p in range(13)]
        lines += [_line(nis, 2024, p, level=level) for p in range(1, last_months + 1)]
    return lines


def _zip(path: Path, lines: list[str], *, header: str = HEADER, member="BV_opendata_x.txt",
         encoding: str = "ascii") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, ("\r\n".join([header, *lines]) + "\r\n").encode(encoding))
    return path


def test_small_archive(tmp_path: Path):
    lines = _lines()
    lines[1] = _line(period=1, values=("1", "", *("1",) * 7))  # Herenthout 2023-01: empty cell
    out = bp.read(_zip(tmp_path / "b.zip", lines))
    assert out.attrs["table"] == "BV_opendata_x.txt"
    assert set(out["period"]) == {"2023", "2023-M01-M02", "2024-M01-M02"}
    cells = out.set_index(["nis", "measure", "period"])
    assert cells.loc[("13012", DWELLINGS, "2023"), "value"] == 3  # the published annual row
    assert cells.loc[("13000", DWELLINGS + "_ytd", "2024-M01-M02"), "value"] == 6
    assert cells.loc[("13012", DWELLINGS + "_ytd", "2024-M01-M02"), "value"] == 6
    assert cells.loc[("13012", DWELLINGS + "_ytd", "2023-M01-M02"), "status"] == "missing"
    assert np.isnan(cells.loc[("13012", DWELLINGS + "_ytd", "2023-M01-M02"), "value"])
    assert cells.loc[("13012", "permits_residential_new_buildings_ytd", "2023-M01-M02"),
                     "value"] == 4
    assert set(out.loc[out["year"] == 2024, "measure"].str.endswith("_ytd")) == {True}
    assert dict(zip(out["nis"], out["level"], strict=True)) == {
        "13012": "municipality", "13000": "arrondissement"}


def test_complete_last_year_has_no_ytd(tmp_path: Path):
    lines = [_line(year=y, period=p) for y in (2023, 2024) for p in range(13)]
    out = bp.read(_zip(tmp_path / "b.zip", lines))
    assert set(out["period"]) == {"2023", "2024"}
    assert not out["measure"].str.endswith("_ytd").any()


def test_missing_file(tmp_path: Path):
    with pytest.raises(SourceFormatError, match=r"b\.zip: file not found"):
        bp.read(tmp_path / "b.zip")


def test_not_a_zip(tmp_path: Path):
    path = tmp_path / "b.zip"
    path.write_text(HEADER + "\n", encoding="ascii")
    with pytest.raises(SourceFormatError, match=r"b\.zip: cannot be opened as a zip archive"):
        bp.read(path)


def test_workbook_given_to_zip_reader(tmp_path: Path):
    """An .xlsx is a zip too, but without the text member."""
    path = tmp_path / "TF_SOC_ADI_MUNTY.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["CD_YEAR", "CD_MUNTY_REFNIS"])
    book.save(path)
    with pytest.raises(SourceFormatError,
                       match=r"TF_SOC_ADI_MUNTY\.xlsx: expected exactly one '\|'-separated \.txt "
                             r"file in the zip archive, found \[.*xml"):
        bp.read(path)


def test_wrong_layout(tmp_path: Path):
    header = "CD_YEAR|CD_MUNTY_REFNIS|MS_NBR_NON_ZERO_INC"  # another Statbel table
    with pytest.raises(SourceFormatError,
                       match=r"b\.zip, row 1: expected the '\|'-separated header "
                             r"REFNIS\|REFNIS_NL.*in BV_opendata_x\.txt, found"):
        bp.read(_zip(tmp_path / "b.zip", ["2022|13012|5710"], header=header))


def test_wrong_encoding(tmp_path: Path):
    lines = _lines()
    lines[0] = lines[0].replace('"NAAM"', '"HÉRENTHOUT"')
    with pytest.raises(SourceFormatError, match=r"b\.zip: BV_opendata_x\.txt cannot be parsed as "
                                                r"'\|'-separated UTF-8 text"):
        bp.read(_zip(tmp_path / "b.zip", lines, encoding="latin-1"))
    with pytest.raises(SourceFormatError, match=r"c\.zip, row 1: expected the '\|'-separated"):
        bp.read(_zip(tmp_path / "c.zip", lines, encoding="utf-16"))


def test_garbage_value(tmp_path: Path):
    lines = _lines()
    lines[5] = _line(period=5, values=("1", "2", "n/a", *("1",) * 6))
    with pytest.raises(SourceFormatError,
                       match=r"b\.zip, row 7, column 'MS_APARTMENT_RES_NEW in BV_opendata_x\.txt'"
                             r".*'n/a'"):
        bp.read(_zip(tmp_path / "b.zip", lines))


def test_level_does_not_match_code(tmp_path: Path):
    lines = _lines()
    lines[3] = _line(nis="13012", period=3, level=4)
    with pytest.raises(SourceFormatError,
                       match=r"row 5, column 'CD_REFNIS_LEVEL.*code 13012 is not of level 4 "
                             r"\(arrondissement\)"):
        bp.read(_zip(tmp_path / "b.zip", lines))


def test_bad_code_and_duplicate(tmp_path: Path):
    lines = _lines()
    lines[2] = lines[2].replace('"13012"', '"13012A"', 1)
    with pytest.raises(SourceFormatError, match=r"row 4, column 'REFNIS.*5-digit.*'13012A'"):
        bp.read(_zip(tmp_path / "b.zip", lines))
    lines = _lines()
    lines[2] = lines[1]
    with pytest.raises(SourceFormatError, match=r"row 4.*duplicate row for 13012, year 2023, "
                                                r"period 1"):
        bp.read(_zip(tmp_path / "c.zip", lines))


def test_gaps_in_periods(tmp_path: Path):
    lines = [ln for ln in _lines(3) if "|2024|2|" not in ln]
    with pytest.raises(SourceFormatError, match=r"expected the months 1\.\.3 of the partial year "
                                                r"2024.*found \[1, 3\]"):
        bp.read(_zip(tmp_path / "b.zip", lines))
    lines = [_line(year=y, period=p) for y in (2022, 2023) for p in range(13)]
    lines = [ln for ln in lines if "|2022|0|" not in ln]
    lines += [_line(year=2024, period=1)]
    with pytest.raises(SourceFormatError, match=r"only the last year may lack annual rows.*"
                                                r"\[2022, 2024\]"):
        bp.read(_zip(tmp_path / "c.zip", lines))
