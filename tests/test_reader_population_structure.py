"""Tests for lsbanalysis.readers.population_structure (TF_SOC_POP_STRUCT_YYYY.zip).

Unit tests write small zips in Statbel's two layouts and two encodings here; the real-data tests
read the eight archives of the mirror (population/) and check them against the figures in
population/SOURCES.md, Pop_density_en.xlsx and the 2015 .RData copy of the same table.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import population, population_structure
from lsbanalysis.readers.common import OBSERVATION_COLUMNS

# --------------------------------------------------------------------------------------------
# Small archives built here

HEADER_2015 = (
    "CD_MUNTY_REFNIS|TX_MUNTY_DESCR_NL|TX_MUNTY_DESCR_FR|CD_DSTR_REFNIS|TX_ADM_DSTR_DESCR_NL|"
    "TX_ADM_DSTR_DESCR_FR|CD_PROV_REFNIS|TX_PROV_DESCR_NL|TX_PROV_DESCR_FR|CD_RGN_REFNIS|"
    "TX_RGN_DESCR_NL|TX_RGN_DESCR_FR|CD_SEX|CD_NATLTY|TX_NATLTY_FR|TX_NATLTY_NL|CD_CIV_STS|"
    "TX_CIV_STS_FR|TX_CIV_STS_NL|CD_AGE|MS_POPULATION|CD_YEAR"
)
HEADER_2019 = (
    "CD_REFNIS|TX_DESCR_NL|TX_DESCR_FR|CD_DSTR_REFNIS|TX_ADM_DSTR_DESCR_NL|TX_ADM_DSTR_DESCR_FR|"
    "CD_PROV_REFNIS|TX_PROV_DESCR_NL|TX_PROV_DESCR_FR|CD_RGN_REFNIS|TX_RGN_DESCR_NL|"
    "TX_RGN_DESCR_FR|CD_SEX|CD_NATLTY|TX_NATLTY_NL|TX_NATLTY_FR|CD_CIV_STS|TX_CIV_STS_NL|"
    "TX_CIV_STS_FR|CD_AGE|MS_POPULATION"
)
#: code -> (NL, FR, arrondissement, its NL/FR, province, its NL/FR, region, its NL/FR)
PLACES = {
    "13012": ("Herenthout", "Herenthout", "13000", "Arrondissement Turnhout",
              "Arrondissement de Turnhout", "10000", "Provincie Antwerpen", "Province d’Anvers",
              "02000", "Vlaams Gewest", "Région flamande"),
    "21004": ("Brussel", "Bruxelles", "21000", "Arrondissement Brussel-Hoofdstad",
              "Arrondissement de Bruxelles-Capitale", None, None, None, "04000",
              "Brussels Hoofdstedelijk Gewest", "Région de Bruxelles-Capitale"),
    "62063": ("Luik", "Liège", "62000", "Arrondissement Luik", "Arrondissement de Liège",
              "60000", "Provincie Luik", "Province de Liège", "03000", "Waals Gewest",
              "Région wallonne"),
}
NATIONALITY = {"BEL": ("Belgen", "Belges"), "ETR": ("niet-Belgen", "non-Belges")}
CIVIL = {1: ("Ongehuwd", "Célibataire"), 2: ("Gehuwd", "Marié"), 3: ("Weduwstaat", "Veuf"),
         4: ("Gescheiden", "Divorcé")}
AGES = sorted(set(range(0, 101, 3)) | {17, 18, 19, 20, 24, 25, 59, 60, 64, 65, 79, 80, 95, 100})


def _cells() -> pd.DataFrame:
    """Cells (nis, sex, nationality, civil status, age, count) with gaps, as Statbel omits zeros.

    Luik has no non-Belgian women; Brussel nobody aged 85-94; Herenthout no widowed men.
    """
    rows = []
    for i, nis in enumerate(PLACES):
        for sex in ("M", "F"):
            for nat in ("BEL", "ETR"):
                if nis == "62063" and nat == "ETR" and sex == "F":
                    continue
                for civ in CIVIL:
                    if nis == "13012" and sex == "M" and civ == 3:
                        continue
                    for age in AGES:
                        if nis == "21004" and 85 <= age <= 94:
                            continue
                        count = 1 + (age * 7 + civ * 3 + i) % 11 + (5 if nat == "BEL" else 0)
                        rows.append((nis, sex, nat, civ, age, count))
    return pd.DataFrame(rows, columns=["nis", "sex", "nat", "civ", "age", "count"])


def _line(layout: str, nis: str, sex: str, nat: str, civ: int, age: int, count: object,
          year: int) -> str:
    place = [("" if v is None else v) for v in PLACES[nis]]
    if layout == "2015-2018":
        if place[5] == "":  # Brussels: a single space where the province would be
            place[5:8] = [" ", " ", " "]
        nat_fr, nat_nl = NATIONALITY[nat][1], NATIONALITY[nat][0]
        civ_fr, civ_nl = CIVIL[civ][1], CIVIL[civ][0]
        fields = [nis, *place, sex, nat, nat_fr, nat_nl, civ * 10, civ_fr, civ_nl, age, count,
                  year]
    else:
        fields = [nis, *place, sex, nat, *NATIONALITY[nat], civ, *CIVIL[civ], age, count]
    return "|".join(str(f) for f in fields)


def _lines(cells: pd.DataFrame, layout: str, year: int, *, split_100: bool) -> list[str]:
    """Text rows; with ``split_100`` each 100+ cell is written as two rows, as from 2019."""
    out = []
    for nis, sex, nat, civ, age, count in cells.itertuples(index=False):
        if split_100 and age == 100 and count > 1:
            out.append(_line(layout, nis, sex, nat, civ, age, count - 1, year))
            out.append(_line(layout, nis, sex, nat, civ, age, 1, year))
        else:
            out.append(_line(layout, nis, sex, nat, civ, age, count, year))
    return out


def _write(path: Path, lines: list[str], *, header: str, encoding: str = "utf-8-sig",
           member: str | None = None, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    text = "\r\n".join([header, *lines]) + "\r\n"
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr(member or path.with_suffix(".txt").name, text.encode(encoding))
    return path


def _archive(tmp_path: Path, year: int, *, encoding: str = "utf-8-sig",
             cells: pd.DataFrame | None = None) -> Path:
    layout = "2015-2018" if year < 2019 else "2019-2022"
    header = HEADER_2015 if year < 2019 else HEADER_2019
    cells = _cells() if cells is None else cells
    lines = _lines(cells, layout, year, split_100=year >= 2019)
    return _write(tmp_path / f"TF_SOC_POP_STRUCT_{year}.zip", lines, header=header,
                  encoding=encoding)


def _expected(cells: pd.DataFrame) -> pd.DataFrame:
    """Every measure summed from the cells with pandas: a second, independent computation."""
    men, women, foreign = cells["sex"] == "M", cells["sex"] == "F", cells["nat"] == "ETR"
    age = cells["age"]
    masks = {
        "population_total": age >= 0,
        "population_men": men,
        "population_women": women,
        "population_age_0_17": age <= 17,
        "population_age_18_24": age.between(18, 24),
        "population_age_25_59": age.between(25, 59),
        "population_age_60_64": age.between(60, 64),
        "population_age_18_64": age.between(18, 64),
        "population_age_20_64": age.between(20, 64),
        "population_age_65_plus": age >= 65,
        "population_age_80_plus": age >= 80,
        "population_non_belgian": foreign,
        "population_non_belgian_men": foreign & men,
        "population_non_belgian_women": foreign & women,
    }
    for word, sex in (("men", men), ("women", women)):
        masks[f"population_{word}_age_0_17"] = sex & (age <= 17)
        masks[f"population_{word}_age_20_64"] = sex & age.between(20, 64)
        masks[f"population_{word}_age_65_plus"] = sex & (age >= 65)
        masks[f"population_{word}_age_80_plus"] = sex & (age >= 80)
        for low in range(0, 95, 5):
            masks[f"population_{word}_band_{low:02d}_{low + 4:02d}"] = sex & age.between(
                low, low + 4)
        masks[f"population_{word}_band_95_plus"] = sex & (age >= 95)
    sums = {m: cells["count"].where(mask, 0).groupby(cells["nis"]).sum() for m, mask in
            masks.items()}
    return pd.DataFrame(sums).astype("float64")


def _wide(obs: pd.DataFrame) -> pd.DataFrame:
    return obs.pivot(index="nis", columns="measure", values="value")


def _error(path: Path, *fragments: str) -> SourceFormatError:
    with pytest.raises(SourceFormatError) as info:
        population_structure.read(path)
    message = str(info.value)
    assert path.name in message, message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


OLD_MEASURES = [
    "population_total", "population_men", "population_women", "population_age_0_17",
    "population_age_18_24", "population_age_25_59", "population_age_60_64",
    "population_age_18_64", "population_age_65_plus", "population_age_80_plus",
    "population_non_belgian",
]


def test_measure_ids() -> None:
    ids = list(population_structure.MEASURES)
    assert len(ids) == len(set(ids))
    assert set(OLD_MEASURES) <= set(ids)  # the ids the catalogue already uses
    assert set(ids) == set(_expected(_cells()).columns)


@pytest.mark.parametrize(
    ("year", "encoding", "layout", "geo_version"),
    [
        (2015, "utf-8-sig", "2015-2018", "1977"),
        (2018, "utf-8-sig", "2015-2018", "1977"),
        (2019, "utf-8-sig", "2019-2022", "2019"),
        (2021, "utf-8", "2019-2022", "2019"),  # no byte-order mark
        (2022, "cp1252", "2019-2022", "2019"),
    ],
)
def test_small_archive(tmp_path, year, encoding, layout, geo_version) -> None:
    path = _archive(tmp_path, year, encoding=encoding)
    obs = population_structure.read(path)
    assert list(obs.columns) == OBSERVATION_COLUMNS
    assert obs.attrs["table"] == f"TF_SOC_POP_STRUCT_{year}"
    assert obs.attrs["layout"] == layout
    assert obs.attrs["encoding"] == ("cp1252" if encoding == "cp1252" else "utf-8")
    assert set(obs["period"]) == {str(year)} and set(obs["year"]) == {year}
    assert set(obs["geo_version"]) == {geo_version}
    assert set(obs["level"]) == {"municipality"}
    assert set(obs["unit"]) == {"count"} and set(obs["status"]) == {"ok"}
    assert not obs.duplicated(["measure", "nis", "period"]).any()
    expected = _expected(_cells())
    pd.testing.assert_frame_equal(_wide(obs)[expected.columns], expected, check_names=False)


def test_all_layouts_and_encodings_agree(tmp_path) -> None:
    """The same cells give the same counts in both layouts and all three encodings."""
    results = []
    for year, encoding in ((2016, "utf-8-sig"), (2020, "utf-8-sig"), (2022, "cp1252")):
        obs = population_structure.read(_archive(tmp_path, year, encoding=encoding))
        results.append(_wide(obs))
    for other in results[1:]:
        pd.testing.assert_frame_equal(other, results[0])


def test_hundred_plus_rows_are_summed(tmp_path) -> None:
    """From 2019 one 100+ cell may span several rows: all of them count."""
    cells = pd.DataFrame(
        [("13012", "M", "BEL", 1, 100, 2), ("13012", "M", "BEL", 1, 97, 1),
         ("13012", "F", "ETR", 2, 40, 4)],
        columns=["nis", "sex", "nat", "civ", "age", "count"],
    )
    lines = _lines(cells, "2019-2022", 2020, split_100=False)
    lines.insert(1, lines[0])  # the same 100+ key twice: 2 + 2 men aged 100+
    lines.insert(2, _line("2019-2022", "13012", "M", "BEL", 1, 100, 3, 2020))  # and 3 more
    path = _write(tmp_path / "TF_SOC_POP_STRUCT_2020.zip", lines, header=HEADER_2019)
    wide = _wide(population_structure.read(path)).loc["13012"]
    assert wide["population_men"] == 2 + 2 + 3 + 1
    assert wide["population_men_band_95_plus"] == 8
    assert wide["population_age_80_plus"] == 8
    assert wide["population_total"] == 12
    assert wide["population_non_belgian_women"] == 4


def test_absent_cells_are_zero(tmp_path) -> None:
    """Only non-zero cells are published: a municipality in the file has 0, never NaN."""
    obs = population_structure.read(_archive(tmp_path, 2019))
    wide = _wide(obs)
    assert len(obs) == len(population_structure.MEASURES) * len(PLACES)
    assert wide.notna().all().all()
    assert wide.loc["62063", "population_non_belgian_women"] == 0
    assert wide.loc["62063", "population_non_belgian_men"] > 0
    assert wide.loc["21004", "population_women_band_90_94"] == 0
    assert wide.loc["21004", "population_women_band_85_89"] == 0
    assert wide.loc["21004", "population_women_band_80_84"] > 0


def test_year_from_member_when_the_file_name_has_none(tmp_path) -> None:
    path = _archive(tmp_path, 2017)
    renamed = shutil.copy(path, tmp_path / "bevolking.zip")
    obs = population_structure.read(Path(renamed))
    assert obs.attrs["table"] == "TF_SOC_POP_STRUCT_2017"
    assert set(obs["period"]) == {"2017"} and set(obs["geo_version"]) == {"1977"}


def test_population_read_dispatches_zip(tmp_path) -> None:
    path = _archive(tmp_path, 2019)
    pd.testing.assert_frame_equal(population.read(path), population_structure.read(path))


# --- bad archives ---------------------------------------------------------------------------


def test_missing_empty_and_not_a_zip(tmp_path) -> None:
    _error(tmp_path / "TF_SOC_POP_STRUCT_2019.zip", "file not found")
    empty = tmp_path / "TF_SOC_POP_STRUCT_2020.zip"
    empty.write_bytes(b"")
    _error(empty, "empty (0 bytes)")
    text = tmp_path / "TF_SOC_POP_STRUCT_2021.zip"
    text.write_text(HEADER_2019 + "\r\n", encoding="utf-8")
    _error(text, "cannot be read as a zip archive")


def test_truncated_archive(tmp_path) -> None:
    path = _archive(tmp_path, 2019)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _error(path, "cannot be read as a zip archive", "truncated or corrupt")


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_corrupt_archive(tmp_path, compression) -> None:
    lines = _lines(_cells(), "2019-2022", 2019, split_100=True)
    path = _write(tmp_path / "TF_SOC_POP_STRUCT_2019.zip", lines, header=HEADER_2019,
                  compression=compression)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0x5A for b in data[middle : middle + 8])
    path.write_bytes(bytes(data))
    _error(path, "truncated or corrupt")


def test_members(tmp_path) -> None:
    path = tmp_path / "TF_SOC_POP_STRUCT_2019.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("leesmij.txt", "geen gegevens")
    _error(path, "expected exactly one member named TF_SOC_POP_STRUCT_YYYY.txt", "'leesmij.txt'")

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("TF_SOC_POP_STRUCT_2019.txt", HEADER_2019)
        archive.writestr("TF_SOC_POP_STRUCT_2020.txt", HEADER_2019)
    _error(path, "exactly one member", "'TF_SOC_POP_STRUCT_2019.txt'",
           "'TF_SOC_POP_STRUCT_2020.txt'")

    with zipfile.ZipFile(path, "w"):
        pass
    _error(path, "exactly one member", "found no files")


def test_member_of_another_year(tmp_path) -> None:
    lines = _lines(_cells(), "2019-2022", 2020, split_100=True)
    path = _write(tmp_path / "TF_SOC_POP_STRUCT_2019.zip", lines, header=HEADER_2019,
                  member="TF_SOC_POP_STRUCT_2020.txt")
    _error(path, "TF_SOC_POP_STRUCT_2020.txt", "1 January 2020", "expected the table of 2019")


def test_cd_year_of_another_year(tmp_path) -> None:
    lines = _lines(_cells(), "2015-2018", 2016, split_100=False)
    lines[6] = lines[6].rsplit("|", 1)[0] + "|2017"
    path = _write(tmp_path / "TF_SOC_POP_STRUCT_2016.zip", lines, header=HEADER_2015)
    _error(path, "row 8", "column 'CD_YEAR'", "expected the year 2016", "'2017'")


def test_empty_member_and_header_only(tmp_path) -> None:
    path = tmp_path / "TF_SOC_POP_STRUCT_2019.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("TF_SOC_POP_STRUCT_2019.txt", b"")
    _error(path, "TF_SOC_POP_STRUCT_2019.txt is empty")
    _write(path, [], header=HEADER_2019)
    _error(path, "header but no data rows")


# --- bad headers ----------------------------------------------------------------------------


def test_unknown_layout(tmp_path) -> None:
    lines = _lines(_cells(), "2019-2022", 2019, split_100=True)
    path = _write(tmp_path / "TF_SOC_POP_STRUCT_2019.zip", lines,
                  header=HEADER_2019.replace("CD_REFNIS|", "NIS|", 1))
    _error(path, "unknown layout", "'NIS|TX_DESCR_NL|TX_DESCR_FR'", "CD_MUNTY_REFNIS", "row 1")


def test_missing_renamed_and_extra_columns(tmp_path) -> None:
    lines = _lines(_cells(), "2019-2022", 2019, split_100=True)
    path = tmp_path / "TF_SOC_POP_STRUCT_2019.zip"
    _write(path, lines, header=HEADER_2019.replace("|CD_NATLTY", ""))
    _error(path, "2019-2022 layout", "column 14 is 'TX_NATLTY_NL'", "expected 'CD_NATLTY'")
    _write(path, lines, header=HEADER_2019.replace("CD_AGE", "AGE"))
    _error(path, "column 20 is 'AGE'", "expected 'CD_AGE'", "row 1")
    _write(path, lines, header=HEADER_2019 + "|CD_YEAR")
    _error(path, "22 columns", "layout has 21", "CD_YEAR")
    # The 2015-2018 header without CD_YEAR: the old layout, one column short.
    _write(path, lines, header=HEADER_2015.removesuffix("|CD_YEAR"))
    _error(path, "2015-2018 layout", "column 22 is no column", "expected 'CD_YEAR'")


def test_ragged_row(tmp_path) -> None:
    lines = _lines(_cells(), "2019-2022", 2019, split_100=True)
    lines[40] = lines[40].rsplit("|", 1)[0]  # MS_POPULATION left out
    path = _write(tmp_path / "TF_SOC_POP_STRUCT_2019.zip", lines, header=HEADER_2019)
    _error(path, "row 42", "expected 21 '|'-separated fields", "found 20")


def test_blank_line(tmp_path) -> None:
    lines = _lines(_cells(), "2019-2022", 2019, split_100=True)
    lines.insert(100, "")
    path = _write(tmp_path / "TF_SOC_POP_STRUCT_2019.zip", lines, header=HEADER_2019)
    _error(path, "row 102", "column 'CD_REFNIS'", "found ''")


# --- bad cells ------------------------------------------------------------------------------


def _with_field(tmp_path: Path, year: int, row: int, column: str, value: str) -> Path:
    header = HEADER_2015 if year < 2019 else HEADER_2019
    layout = "2015-2018" if year < 2019 else "2019-2022"
    lines = _lines(_cells(), layout, year, split_100=year >= 2019)
    fields = lines[row].split("|")
    fields[header.split("|").index(column)] = value
    lines[row] = "|".join(fields)
    return _write(tmp_path / f"TF_SOC_POP_STRUCT_{year}.zip", lines, header=header)


@pytest.mark.parametrize(
    ("year", "column", "value", "expected"),
    [
        (2019, "MS_POPULATION", "12a", "a whole number of people"),
        (2019, "MS_POPULATION", "", "a whole number of people"),
        (2016, "MS_POPULATION", "-3", "a whole number of people"),
        (2019, "MS_POPULATION", "4.5", "a whole number of people"),
        (2019, "CD_AGE", "abc", "an age from 0 to 100"),
        (2016, "CD_AGE", "101", "an age from 0 to 100"),
        (2019, "CD_SEX", "X", "one of ['M', 'F']"),
        (2019, "CD_SEX", "m", "one of ['M', 'F']"),
        (2022, "CD_NATLTY", "EU", "one of ['BEL', 'ETR']"),
        (2019, "CD_CIV_STS", "20", "one of ['1', '2', '3', '4']"),
        (2016, "CD_CIV_STS", "2", "one of ['10', '20', '30', '40']"),
        (2019, "CD_REFNIS", "13-12", "a 5-digit REFNIS code"),
        (2016, "CD_MUNTY_REFNIS", "1312", "a 5-digit REFNIS code"),
        (2019, "CD_REFNIS", "13000", "municipality codes only, not the arrondissement code"),
    ],
)
def test_bad_cell(tmp_path, year, column, value, expected) -> None:
    path = _with_field(tmp_path, year, 57, column, value)
    _error(path, "row 59", f"column {column!r}", expected, f"found {value!r}")


def test_repeated_rows_below_100(tmp_path) -> None:
    """Only the 100+ class may repeat; any other repeated key would double count."""
    lines = _lines(_cells(), "2019-2022", 2019, split_100=True)
    lines.append(lines[30])
    path = _write(tmp_path / "TF_SOC_POP_STRUCT_2019.zip", lines, header=HEADER_2019)
    _error(path, f"row {len(lines) + 1}", "already occurred", "only CD_AGE 100")


# --- encodings ------------------------------------------------------------------------------


def test_cp1252_bytes_behind_a_utf8_mark(tmp_path) -> None:
    lines = _lines(_cells(), "2019-2022", 2022, split_100=True)
    text = ("\r\n".join([HEADER_2019, *lines]) + "\r\n").encode("cp1252")
    path = tmp_path / "TF_SOC_POP_STRUCT_2022.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("TF_SOC_POP_STRUCT_2022.txt", b"\xef\xbb\xbf" + text)
    # The first line with an accent: Herenthout's province, "Province d’Anvers".
    _error(path, "byte 0x92 is not UTF-8", "row 2", "column 'TX_PROV_DESCR_FR'",
           "expected UTF-8 text throughout")


def test_neither_utf8_nor_cp1252(tmp_path) -> None:
    lines = _lines(_cells(), "2019-2022", 2022, split_100=True)
    text = ("\r\n".join([HEADER_2019, *lines]) + "\r\n").encode("cp1252").split(b"\r\n")
    text[10] = text[10].replace(b"Gewest", b"Gew\x81est", 1)  # line 11
    path = tmp_path / "TF_SOC_POP_STRUCT_2022.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("TF_SOC_POP_STRUCT_2022.txt", b"\r\n".join(text))
    _error(path, "neither UTF-8 nor Windows-1252", "byte 0x81", "row 11",
           "column 'TX_RGN_DESCR_NL'")


def test_encoding_is_recognised_per_file(tmp_path) -> None:
    """The encoding follows the bytes, not the year: a UTF-8 2022 and a cp1252 2019 read."""
    utf8 = population_structure.read(_archive(tmp_path, 2022, encoding="utf-8-sig"))
    cp1252 = population_structure.read(_archive(tmp_path, 2019, encoding="cp1252"))
    assert (utf8.attrs["encoding"], cp1252.attrs["encoding"]) == ("utf-8", "cp1252")
    pd.testing.assert_frame_equal(_wide(utf8), _wide(cp1252))


# --------------------------------------------------------------------------------------------
# Real data: the eight archives of the mirror

YEARS = range(2015, 2023)
ISOM = {  # population/SOURCES.md, 1 January
    "13010": [11_204, 11_237, 11_123, 11_155, 11_172, 11_249, 11_442],
    "13011": [27_728, 27_800, 28_117, 28_177, 28_272, 28_194, 28_455],
    "13012": [8_806, 8_845, 8_951, 9_061, 9_109, 9_185, 9_287],
    "13017": [18_331, 18_501, 18_600, 18_655, 18_882, 19_052, 19_140],
    "13019": [16_404, 16_406, 16_512, 16_529, 16_564, 16_517, 16_688],
    "13029": [12_242, 12_381, 12_491, 12_505, 12_560, 12_600, 12_582],
    "13044": [7_777, 7_778, 7_848, 7_861, 7_936, 7_995, 8_019],
}
#: year -> Belgium, Vlaams Gewest, provincie Antwerpen, arrondissement Turnhout (SOURCES.md)
TOTALS = {
    2016: (11_267_910, 6_477_804, 1_824_136, 453_123),
    2017: (11_322_088, 6_516_011, 1_836_030, 455_677),
    2018: (11_376_070, 6_552_967, 1_847_486, 458_948),
    2019: (11_431_406, 6_589_069, 1_857_986, 461_867),
    2020: (11_492_641, 6_629_143, 1_869_730, 464_869),
    2021: (11_521_238, 6_653_062, 1_875_524, 467_146),
    2022: (11_584_008, 6_698_876, 1_886_609, 471_226),
}
#: Herenthout (13012): men, women, non-Belgians, 0-17, 65+, 80+ (SOURCES.md)
HERENTHOUT = {
    2016: (4_369, 4_437, 361, 1_542, 1_797, 508),
    2019: (4_494, 4_567, 483, 1_560, 1_939, 565),
    2022: (4_601, 4_686, 627, 1_586, 2_086, 593),
}
HERENTHOUT_MEASURES = ["population_men", "population_women", "population_non_belgian",
                       "population_age_0_17", "population_age_65_plus", "population_age_80_plus"]
BANDS = [f"band_{a:02d}_{a + 4:02d}" for a in range(0, 95, 5)] + ["band_95_plus"]


@pytest.fixture(scope="module")
def structures(mirror: Path) -> dict[int, pd.DataFrame]:
    return {
        y: population_structure.read(mirror / "population" / f"TF_SOC_POP_STRUCT_{y}.zip")
        for y in YEARS
    }


@pytest.fixture(scope="module")
def wide(structures) -> dict[int, pd.DataFrame]:
    return {y: _wide(obs) for y, obs in structures.items()}


@pytest.mark.realdata
def test_real_contract(structures) -> None:
    for year, obs in structures.items():
        assert list(obs.columns) == OBSERVATION_COLUMNS
        assert obs.attrs["table"] == f"TF_SOC_POP_STRUCT_{year}"
        assert obs.attrs["layout"] == ("2015-2018" if year < 2019 else "2019-2022")
        assert obs.attrs["encoding"] == ("cp1252" if year == 2022 else "utf-8")
        assert set(obs["measure"]) == set(population_structure.MEASURES)
        assert set(obs["level"]) == {"municipality"}
        assert set(obs["period"]) == {str(year)} and set(obs["year"]) == {year}
        assert set(obs["geo_version"]) == {"1977" if year < 2019 else "2019"}
        assert obs["nis"].nunique() == (589 if year < 2019 else 581)
        assert set(obs["status"]) == {"ok"} and obs["value"].notna().all()
        assert not obs.duplicated(["measure", "nis"]).any()


@pytest.mark.realdata
def test_real_herenthout(wide) -> None:
    her = wide[2022].loc["13012"]
    assert her["population_total"] == 9_287
    assert her["population_age_65_plus"] == 2_086
    assert her["population_age_80_plus"] == 593
    assert her["population_age_0_17"] == 1_586
    assert her["population_non_belgian"] == 627
    for year, figures in HERENTHOUT.items():
        row = wide[year].loc["13012", HERENTHOUT_MEASURES]
        assert tuple(row) == figures, year


@pytest.mark.realdata
def test_real_isom_totals(wide) -> None:
    for nis, totals in ISOM.items():
        got = [wide[y].loc[nis, "population_total"] for y in range(2016, 2023)]
        assert got == totals, nis


@pytest.mark.realdata
def test_real_aggregate_totals(wide) -> None:
    """Belgium, the Flemish Region, province Antwerpen and arrondissement Turnhout are sums of
    their municipalities (REFNIS: Flemish provinces 1, 3, 4, 7 and Vlaams-Brabant 23/24)."""
    for year, (belgium, flanders, antwerp, turnhout) in TOTALS.items():
        total = wide[year]["population_total"]
        nis = total.index.to_series()
        flemish = nis.str[0].isin(["1", "3", "4", "7"]) | nis.str[:2].isin(["23", "24"])
        assert total.sum() == belgium, year
        assert total[flemish].sum() == flanders, year
        assert total[nis.str[0] == "1"].sum() == antwerp, year
        assert total[nis.str[:2] == "13"].sum() == turnhout, year


@pytest.mark.realdata
def test_real_equals_population_density(wide, mirror: Path) -> None:
    """2019-2022: every municipal total equals Pop_density_en.xlsx (SOURCES.md cross-check)."""
    density = population.read(mirror / "statbel" / "Pop_density_en.xlsx")
    density = density[(density["measure"] == "population") & (density["level"] == "municipality")]
    for year in range(2019, 2023):
        published = density[density["year"] == year].set_index("nis")["value"].sort_index()
        assert len(published) == 581
        pd.testing.assert_series_equal(
            wide[year]["population_total"].sort_index(), published, check_names=False
        )


@pytest.mark.realdata
def test_real_sums_are_consistent(wide) -> None:
    for year, w in wide.items():
        total = w["population_total"]
        for word in ("men", "women"):
            bands = w[[f"population_{word}_{b}" for b in BANDS]].sum(axis=1)
            assert (bands == w[f"population_{word}"]).all(), (year, word)
            for age in ("0_17", "20_64", "65_plus", "80_plus"):
                both = w[f"population_men_age_{age}"] + w[f"population_women_age_{age}"]
                assert (both == w[f"population_age_{age}"]).all(), (year, age)
        assert (w["population_men"] + w["population_women"] == total).all()
        foreign = w["population_non_belgian_men"] + w["population_non_belgian_women"]
        assert (foreign == w["population_non_belgian"]).all()
        ages = ["0_17", "18_24", "25_59", "60_64", "65_plus"]
        assert (w[[f"population_age_{a}" for a in ages]].sum(axis=1) == total).all()
        assert (w["population_age_20_64"] <= w["population_age_18_64"]).all()


@pytest.mark.realdata
def test_real_2015_equals_rdata(wide, mirror: Path) -> None:
    """The 2015 zip holds the same table as the .RData copy the store used before: the 11
    measures agree for every municipality (the RData computed here with pyreadr and pandas)."""
    import pyreadr  # a dev dependency, for this test only

    (frame,) = pyreadr.read_r(str(mirror / "statbel" / "TF_SOC_POP_STRUCT_2015.RData")).values()
    frame = frame.assign(
        nis=frame["CD_MUNTY_REFNIS"].astype(int).astype(str).str.zfill(5),
        age=frame["CD_AGE"].astype(int),
        count=frame["MS_POPULATION"].astype(int),
    )
    age, count = frame["age"], frame["count"]
    masks = {
        "population_total": age >= 0,
        "population_men": frame["CD_SEX"] == "M",
        "population_women": frame["CD_SEX"] == "F",
        "population_age_0_17": age <= 17,
        "population_age_18_24": age.between(18, 24),
        "population_age_25_59": age.between(25, 59),
        "population_age_60_64": age.between(60, 64),
        "population_age_18_64": age.between(18, 64),
        "population_age_65_plus": age >= 65,
        "population_age_80_plus": age >= 80,
        "population_non_belgian": frame["CD_NATLTY"] == "ETR",
    }
    rdata = pd.DataFrame(
        {m: count.where(mask, 0).groupby(frame["nis"]).sum() for m, mask in masks.items()}
    ).astype("float64")
    assert len(rdata) == 589
    zipped = wide[2015][OLD_MEASURES]
    pd.testing.assert_frame_equal(zipped.sort_index(), rdata.sort_index(), check_names=False)
    assert np.isclose(rdata["population_total"].sum(), 11_209_044)
