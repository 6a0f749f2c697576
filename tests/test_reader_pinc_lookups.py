"""Tests for lsbanalysis.readers.pinc_lookups: Provincies in Cijfers codes and lookups."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import pinc_lookups

ISOM = ["13010", "13011", "13012", "13017", "13019", "13029", "13044"]


@pytest.fixture(scope="module")
def tables(mirror: Path) -> dict[str, pd.DataFrame]:
    return pinc_lookups.read(pinc_lookups.default_paths(mirror))


@pytest.mark.realdata
def test_all_tables_read(tables):
    assert set(tables) == set(pinc_lookups.TABLES)
    for name, frame in tables.items():
        expected = (
            ["nis", "name", "short_name", "is_area"]
            if name.endswith("codes_names")
            else ["nis_from", "nis_to"]
        )
        assert list(frame.columns) == expected, name
        for col in expected:
            if col.startswith("nis"):
                assert frame[col].str.fullmatch(r"\d{5}").all(), (name, col)


@pytest.mark.realdata
def test_municipality_names(tables):
    names = tables["gemeente_2025_codes_names"]
    assert len(names) == 308 and names["is_area"].sum() == 304
    placeholders = names[~names["is_area"]]
    assert set(placeholders["nis"]) == {"99991", "99992", "99993", "99999"}
    assert "Buiten Vlaanderen en Brussel" in set(placeholders["name"])
    by_code = names.set_index("nis")["name"]
    assert by_code["13012"] == "Herenthout" and by_code["13044"] == "Vorselaar"
    assert by_code["46030"] == "Beveren-Kruibeke-Zwijndrecht"
    assert "11007" not in by_code.index
    arr = tables["arrondiss_2025_codes_names"].set_index("nis")["name"]
    assert arr["13000"] == "Turnhout (Arr.)"
    prov = tables["provincie_2025_codes_names"].set_index("nis")["name"]
    assert prov["10000"] == "Antwerpen (Prov.)" and "04000" in prov.index


@pytest.mark.realdata
def test_mappings(tables):
    g24 = tables["gemeente2024_to_gemeente2025"].set_index("nis_from")["nis_to"]
    assert len(g24) == 319
    assert g24["73040"] == "71072" and g24["11007"] == "11002" and g24["13012"] == "13012"
    g_arr = tables["gemeente2025_to_arrondiss2025"].set_index("nis_from")["nis_to"]
    g_prov = tables["gemeente2025_to_provincie2025"].set_index("nis_from")["nis_to"]
    assert len(g_arr) == len(g_prov) == 304
    for nis in ISOM:
        assert (g_arr[nis], g_prov[nis]) == ("13000", "10000")
    assert g_prov["46030"] == "40000"
    assert g_prov["21004"] == "04000"  # Brussels region stands in for a province
    a_prov = tables["arrondiss2025_to_provincie2025"].set_index("nis_from")["nis_to"]
    assert len(a_prov) == 23 and a_prov["13000"] == "10000" and a_prov["21000"] == "04000"
    g24_arr = tables["gemeente2024_to_arrondiss2024"].set_index("nis_from")["nis_to"]
    assert g24_arr["73040"] == "73000" and g24_arr["11056"] == "11000"


# --------------------------------------------------------------------------------------------
# Bad input


def _xlsx(path: Path, rows: list[list[object]], sheet: str = "Sheet1") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


NAMES = [
    ["sequence nr", "geoitem code", "short name", "name"],
    [1, 13012, "Herenthout", "Herenthout"],
    [2, 13029, "Olen", "Olen"],
    [3, 99999, "Buiten Vlaanderen en Brussel", "Buiten Vlaanderen en Brussel"],
]
MAPPING = [["gemeente", "arrondiss"], [13012, 13000], [13029, 13000], [99992, 4000]]


def test_small_tables(tmp_path: Path):
    names = pinc_lookups.read_codes_names(_xlsx(tmp_path / "n.xlsx", NAMES))
    assert names["nis"].tolist() == ["13012", "13029", "99999"]
    assert names["is_area"].tolist() == [True, True, False]
    mapping = pinc_lookups.read_mapping(
        _xlsx(tmp_path / "m.xlsx", MAPPING), ("gemeente", "arrondiss")
    )
    assert mapping.to_dict("list") == {"nis_from": ["13012", "13029"], "nis_to": ["13000"] * 2}


def test_wrong_sheet(tmp_path: Path):
    path = _xlsx(tmp_path / "pinc_gemeente_2025_codes_names.xlsx", NAMES, sheet="Blad1")
    with pytest.raises(
        SourceFormatError, match=r"pinc_gemeente_2025_codes_names\.xlsx.*'Sheet1' not found"
    ):
        pinc_lookups.read_codes_names(path)


def test_shifted_header(tmp_path: Path):
    path = _xlsx(tmp_path / "n.xlsx", [[None], *NAMES])
    with pytest.raises(SourceFormatError, match=r"n\.xlsx, sheet 'Sheet1', row 1.*expected header"):
        pinc_lookups.read_codes_names(path)


def test_wrong_mapping_header(tmp_path: Path):
    # A gemeente2024 -> arrondiss2024 table given where gemeente -> arrondiss is expected.
    rows = [["gemeente2024", "arrondiss2024"], *MAPPING[1:]]
    path = _xlsx(tmp_path / "pinc_gemeente2025_to_arrondiss2025.xlsx", rows)
    with pytest.raises(SourceFormatError, match=r"expected header \['gemeente', 'arrondiss'\]"):
        pinc_lookups.read({"gemeente2025_to_arrondiss2025": path})


def test_garbage_code(tmp_path: Path):
    rows = [*NAMES[:2], [2, "Olen", "Olen", "Olen"]]
    path = _xlsx(tmp_path / "n.xlsx", rows)
    with pytest.raises(
        SourceFormatError, match=r"n\.xlsx, sheet 'Sheet1', row 3.*'Olen'.*NIS code"
    ):
        pinc_lookups.read_codes_names(path)


def test_duplicate_name(tmp_path: Path):
    path = _xlsx(tmp_path / "n.xlsx", [*NAMES, [4, 13017, "Olen", "Olen"]])
    with pytest.raises(SourceFormatError, match=r"unique values in 'name'.*Olen"):
        pinc_lookups.read_codes_names(path)


def test_empty_and_truncated(tmp_path: Path):
    path = tmp_path / "pinc_provincie_2025_codes_names.xlsx"
    path.write_bytes(b"")
    with pytest.raises(SourceFormatError, match=r"pinc_provincie_2025_codes_names\.xlsx.*empty"):
        pinc_lookups.read_codes_names(path)
    good = _xlsx(tmp_path / "good.xlsx", NAMES).read_bytes()
    path.write_bytes(good[: len(good) - 200])
    with pytest.raises(SourceFormatError, match=r"cannot be opened as an Excel workbook"):
        pinc_lookups.read_codes_names(path)


def test_unknown_table_id(tmp_path: Path):
    with pytest.raises(KeyError, match="gemeente_codes"):
        pinc_lookups.read({"gemeente_codes": tmp_path / "x.xlsx"})


def test_codes_names_table_of_another_level(tmp_path: Path):
    """The three codes-and-names tables share a header: their codes tell them apart."""
    names = _xlsx(tmp_path / "pinc_gemeente_2025_codes_names.xlsx", NAMES)
    assert len(pinc_lookups.read({"gemeente_2025_codes_names": names})["gemeente_2025_codes_names"])
    with pytest.raises(SourceFormatError) as info:
        pinc_lookups.read({"arrondiss_2025_codes_names": names})
    message = str(info.value)
    assert message.startswith("file pinc_gemeente_2025_codes_names.xlsx, sheet 'Sheet1': ")
    assert "expected the arrondissement codes of table arrondiss_2025_codes_names" in message
    assert "municipality code 13012 (2 of 2 codes)" in message
