"""Tests for lsbanalysis.readers.refnis: REFNIS history, 2019/2025 structures, geography."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import pinc_lookups, refnis
from tests.isom import ISOM

# --------------------------------------------------------------------------------------------
# Real data (each file read once per module)


@pytest.fixture(scope="module")
def history(mirror: Path) -> pd.DataFrame:
    return refnis.read_history(mirror / "statbel" / "TU_COM_REFNIS.txt")


@pytest.fixture(scope="module")
def s2019(mirror: Path) -> pd.DataFrame:
    return refnis.read_structure(mirror / "statbel" / "REFNIS_2019.xls")


@pytest.fixture(scope="module")
def s2025(mirror: Path) -> pd.DataFrame:
    return refnis.read_structure(mirror / "statbel" / "REFNIS_2025.csv")


@pytest.fixture(scope="module")
def geography(history, s2019, s2025) -> pd.DataFrame:
    return refnis.build_geography(history, s2019, s2025)


@pytest.fixture(scope="module")
def pinc_2024_2025(mirror: Path) -> pd.DataFrame:
    path = mirror / "boundaries" / "pinc_gemeente2024_to_gemeente2025.xlsx"
    return pinc_lookups.read({"gemeente2024_to_gemeente2025": path})["gemeente2024_to_gemeente2025"]


def _units(geo: pd.DataFrame, version: str, level: str = "municipality") -> pd.DataFrame:
    return geo[(geo["geo_version"] == version) & (geo["level"] == level)].set_index("nis")


@pytest.mark.realdata
def test_history_columns_and_levels(history):
    assert list(history.columns) == refnis.HISTORY_COLUMNS
    assert history["level"].value_counts().to_dict() == {
        "municipality": 2707,
        "arrondissement": 48,
        "province": 11,
        "region": 3,
    }
    assert history.loc[history["level"] == "region", "parent_nis"].isna().all()
    row = history[history["nis"] == "13012"].iloc[0]
    assert (row["name_nl"], row["parent_nis"]) == ("Herenthout", "13000")
    assert row["valid_from"] == pd.Timestamp("1970-01-01")
    assert row["valid_to"] == refnis.OPEN_END
    puurs = history[history["nis"] == "12030"].iloc[0]
    assert puurs["valid_to"] == pd.Timestamp("2018-12-31")
    brussel = history[history["nis"] == "21004"].iloc[0]
    assert (brussel["name_nl"], brussel["name_fr"], brussel["name_de"]) == (
        "Brussel",
        "Bruxelles",
        "Brüssel",
    )


@pytest.mark.realdata
def test_history_2019_wave(history):
    ended = history[(history["level"] == "municipality") & (history["valid_to"] == "2018-12-31")]
    started = history[
        (history["level"] == "municipality") & (history["valid_from"] == "2019-01-01")
    ]
    assert len(ended) == 26 and len(started) == 18
    assert {"12030", "12034"} <= set(ended["nis"]) and "12041" in set(started["nis"])


@pytest.mark.realdata
def test_history_from_zip(mirror: Path, tmp_path: Path, history):
    archive = tmp_path / "TU_COM_REFNIS.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(mirror / "statbel" / "TU_COM_REFNIS.txt", "TU_COM_REFNIS.txt")
    pd.testing.assert_frame_equal(refnis.read_history(archive), history)


@pytest.mark.realdata
def test_structures(s2019, s2025):
    for frame, n in ((s2019, 581), (s2025, 565)):
        assert list(frame.columns) == refnis.STRUCTURE_COLUMNS
        assert (frame["level"] == "municipality").sum() == n
        assert frame.iloc[0]["nis"] == "01000"
        muni = frame[frame["level"] == "municipality"]
        assert set(muni["language"]) == {"N", "F", "NF", "D"}
        assert muni["arrondissement"].notna().all() and muni["region"].notna().all()
    brussels = s2019.set_index("nis").loc["21004"]
    assert (brussels["name_nl"], brussels["name_fr"], brussels["language"]) == (
        "Brussel",
        "Bruxelles",
        "NF",
    )
    assert brussels["arrondissement"] == "21000" and pd.isna(brussels["province"])
    assert brussels["region"] == "04000"
    halle = s2025.set_index("nis").loc["23000"]
    assert (halle["province"], halle["region"]) == ("20001", "02000")
    nivelles = s2025.set_index("nis").loc["25000"]
    assert (nivelles["province"], nivelles["region"]) == ("20002", "03000")


@pytest.mark.realdata
@pytest.mark.parametrize("version", ["1977", "2019", "2025"])
def test_isom_in_every_version(geography, version):
    units = _units(geography, version)
    for nis, name in ISOM.items():
        row = units.loc[nis]
        assert row["name_nl"] == name
        assert (row["arrondissement"], row["province"], row["region"]) == (
            "13000",
            "10000",
            "02000",
        )
        assert row["language"] == "N"
    assert units.loc["13036", "name_nl"] == "Retie"


@pytest.mark.realdata
def test_geography_counts_and_changes(geography):
    assert list(geography.columns) == refnis.GEOGRAPHY_COLUMNS
    counts = geography[geography["level"] == "municipality"].groupby("geo_version").size()
    assert counts.to_dict() == {"1977": 589, "2019": 581, "2025": 565}
    assert not geography.duplicated(["geo_version", "nis"]).any()
    for version in ("1977", "2019", "2025"):
        assert len(_units(geography, version, "arrondissement")) == 43
        assert len(_units(geography, version, "province")) == 10
        assert len(_units(geography, version, "region")) == 3
        assert len(_units(geography, version, "country")) == 1
    m1977, m2019, m2025 = (_units(geography, v) for v in ("1977", "2019", "2025"))
    assert "12030" in m1977.index and "12030" not in m2019.index
    assert "12041" in m2019.index and "12041" not in m1977.index
    assert "11007" in m2019.index and "11007" not in m2025.index
    bkz = m2025.loc["46030"]
    assert bkz["name_nl"] == "Beveren-Kruibeke-Zwijndrecht"
    assert (bkz["arrondissement"], bkz["province"]) == ("46000", "40000")
    # Bilingual Brussels: Dutch name in name_nl, French in name_fr, no province.
    for m in (m1977, m2019, m2025):
        assert (m.loc["21015", "name_nl"], m.loc["21015", "name_fr"]) == (
            "Schaarbeek",
            "Schaerbeek",
        )
        assert pd.isna(m.loc["21015", "province"]) and m.loc["21015", "region"] == "04000"
    # Hainaut: renumbered municipalities, La Louvière arrondissement since 2019.
    assert m1977.loc["55022", "arrondissement"] == "55000"
    assert m2019.loc["58001", "arrondissement"] == "58000"
    # 1977 language regime is copied from REFNIS 2019 where the code survived, else unknown.
    assert pd.isna(m1977.loc["12030", "language"])
    assert m1977.loc["21015", "language"] == "NF"


@pytest.mark.realdata
def test_build_geography_fails_on_wrong_count(history, s2019, s2025):
    short = s2025[s2025["nis"] != "13012"]
    short.attrs["source"] = "REFNIS_2025.csv"
    with pytest.raises(SourceFormatError, match=r"REFNIS_2025\.csv.*expected 565 municipalities"):
        refnis.build_geography(history, s2019, short)


@pytest.mark.realdata
def test_crosswalk_flanders_brussels(pinc_2024_2025):
    cw = refnis.municipality_crosswalk(pinc_2024_2025)
    assert list(cw.columns) == refnis.CROSSWALK_COLUMNS
    assert len(cw) == 319 and not cw["nis_from"].duplicated().any()
    links = cw.set_index("nis_from")["nis_to"]
    assert links["73040"] == "71072"  # Kortessem -> Hasselt
    assert links["11007"] == "11002"  # Borsbeek -> Antwerpen
    assert links["11056"] == "46030"  # Zwijndrecht -> Beveren-Kruibeke-Zwijndrecht
    for nis in ISOM:
        assert links[nis] == nis
    assert set(cw["geo_from"]) == {"2019"} and set(cw["geo_to"]) == {"2025"}


@pytest.mark.realdata
def test_crosswalk_complete_with_geography(pinc_2024_2025, geography):
    cw = refnis.municipality_crosswalk(pinc_2024_2025, geography=geography)
    assert len(cw) == 581
    assert set(cw["nis_from"]) == set(_units(geography, "2019").index)
    assert set(cw["nis_to"]) == set(_units(geography, "2025").index)
    links = cw.set_index("nis_from")["nis_to"]
    assert links["82003"] == links["82005"] == "82039"  # Bastogne + Bertogne
    assert links["93088"] == "93088"


# --------------------------------------------------------------------------------------------
# Bad input (small fixtures built in tmp_path)

HISTORY_HEAD = "|".join(refnis.HISTORY_HEADER)
HISTORY_ROWS = [
    "1|02000|-|Flämische Region|Région flamande|Vlaams Gewest|01/01/1970|31/12/9999",
    "2|10000|02000|Provinz Antwerpen|Province d'Anvers|Provincie Antwerpen|01/01/1970|31/12/9999",
    "3|13000|10000|Bezirk Turnhout|Arrondissement de Turnhout|Arrondissement Turnhout"
    "|01/01/1970|31/12/9999",
    "4|13012|13000|Herenthout|Herenthout|Herenthout|01/01/1970|31/12/9999",
]
STRUCTURE_HEAD = "Code INS|Entités administratives|Langue|Code NIS|Administratieve eenheden|Taal|||"
STRUCTURE_ROWS = [
    "01000|ROYAUME||01000|HET RIJK||||",
    "02000|RÉGION FLAMANDE||02000|VLAAMS GEWEST||||",
    "10000|Province d'Anvers||10000|Provincie Antwerpen||||",
    "13000|Arrondissement de Turnhout||13000|Arrondissement Turnhout||||",
    "13012|Herenthout|N|13012|Herenthout|N|||",
]


def _write(path: Path, lines: list[str], *, bom: bool = True) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + "\r\n".join(lines).encode() + b"\r\n")
    return path


def _structure_xlsx(path: Path, rows: list[list[object]], sheet: str = "REFNIS") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def _structure_cells() -> list[list[object]]:
    return [line.split("|")[:6] for line in [STRUCTURE_HEAD, *STRUCTURE_ROWS]]


def test_small_structure_parses(tmp_path: Path):
    out = refnis.read_structure(_write(tmp_path / "s.csv", [STRUCTURE_HEAD, *STRUCTURE_ROWS]))
    row = out.set_index("nis").loc["13012"]
    assert (row["arrondissement"], row["province"], row["region"], row["language"]) == (
        "13000",
        "10000",
        "02000",
        "N",
    )
    xlsx = refnis.read_structure(_structure_xlsx(tmp_path / "s.xlsx", _structure_cells()))
    pd.testing.assert_frame_equal(out, xlsx, check_dtype=False)


def test_history_empty_file(tmp_path: Path):
    path = tmp_path / "TU_COM_REFNIS.txt"
    path.write_bytes(b"")
    with pytest.raises(SourceFormatError, match=r"TU_COM_REFNIS\.txt.*empty \(0 bytes\)"):
        refnis.read_history(path)


def test_history_wrong_delimiter(tmp_path: Path):
    lines = [line.replace("|", ";") for line in [HISTORY_HEAD, *HISTORY_ROWS]]
    path = _write(tmp_path / "TU_COM_REFNIS.txt", lines)
    with pytest.raises(SourceFormatError, match=r"TU_COM_REFNIS\.txt.*LVL_REFNIS\|.*';'"):
        refnis.read_history(path)


def test_history_truncated_line(tmp_path: Path):
    path = _write(tmp_path / "h.txt", [HISTORY_HEAD, *HISTORY_ROWS[:-1], "4|13012|13000|Herent"])
    with pytest.raises(SourceFormatError, match=r"h\.txt, row 5.*truncated"):
        refnis.read_history(path)


@pytest.mark.realdata
def test_history_truncated_real_file(mirror: Path, tmp_path: Path):
    lines = (mirror / "statbel" / "TU_COM_REFNIS.txt").read_bytes().split(b"\r\n")
    path = tmp_path / "TU_COM_REFNIS.txt"
    path.write_bytes(b"\r\n".join(lines[:2000]) + b"\r\n")  # cut at a line end
    with pytest.raises(SourceFormatError, match=r"expected 589 municipalities valid on 2018-01-01"):
        refnis.read_history(path)


def test_history_garbage_date_and_level(tmp_path: Path):
    bad = HISTORY_ROWS[-1].replace("01/01/1970", "1970-01-01")
    path = _write(tmp_path / "h.txt", [HISTORY_HEAD, *HISTORY_ROWS[:-1], bad])
    with pytest.raises(
        SourceFormatError, match=r"row 5, column 'DT_VLDT_START'.*dd/mm/yyyy.*'1970-01-01'"
    ):
        refnis.read_history(path)
    bad = "9" + HISTORY_ROWS[-1][1:]
    path = _write(tmp_path / "h.txt", [HISTORY_HEAD, *HISTORY_ROWS[:-1], bad])
    with pytest.raises(SourceFormatError, match=r"row 5, column 'LVL_REFNIS'.*1-4"):
        refnis.read_history(path)


def test_history_bad_zip(tmp_path: Path):
    path = tmp_path / "TU_COM_REFNIS.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SourceFormatError, match=r"TU_COM_REFNIS\.zip.*zip"):
        refnis.read_history(path)


def test_structure_csv_wrong_delimiter(tmp_path: Path):
    lines = [line.replace("|", ";") for line in [STRUCTURE_HEAD, *STRUCTURE_ROWS]]
    path = _write(tmp_path / "REFNIS_2025.csv", lines)
    with pytest.raises(SourceFormatError, match=r"REFNIS_2025\.csv.*Code INS\|.*';'"):
        refnis.read_structure(path)


def test_structure_csv_empty_and_truncated(tmp_path: Path):
    path = tmp_path / "REFNIS_2025.csv"
    path.write_bytes(b"")
    with pytest.raises(SourceFormatError, match=r"REFNIS_2025\.csv.*empty"):
        refnis.read_structure(path)
    path = _write(path, [STRUCTURE_HEAD, *STRUCTURE_ROWS[:-1], "13012|Herent"])
    with pytest.raises(SourceFormatError, match=r"REFNIS_2025\.csv, row 6"):
        refnis.read_structure(path)


def test_structure_csv_garbage_code(tmp_path: Path):
    rows = [*STRUCTURE_ROWS[:-1], "13O12|Herenthout|N|13O12|Herenthout|N|||"]
    path = _write(tmp_path / "REFNIS_2025.csv", [STRUCTURE_HEAD, *rows])
    with pytest.raises(SourceFormatError, match=r"row 6, column 'Code INS'.*'13O12'.*NIS code"):
        refnis.read_structure(path)


def test_structure_rows_out_of_order(tmp_path: Path):
    rows = [STRUCTURE_ROWS[0], STRUCTURE_ROWS[1], STRUCTURE_ROWS[4], *STRUCTURE_ROWS[2:4]]
    path = _write(tmp_path / "REFNIS_2025.csv", [STRUCTURE_HEAD, *rows])
    with pytest.raises(SourceFormatError, match=r"municipality 13012 precedes any arrondissement"):
        refnis.read_structure(path)


def test_structure_xls_wrong_sheet(tmp_path: Path):
    path = _structure_xlsx(tmp_path / "REFNIS_2019.xlsx", _structure_cells(), sheet="Blad1")
    with pytest.raises(SourceFormatError, match=r"REFNIS_2019\.xlsx.*sheet 'REFNIS' not found"):
        refnis.read_structure(path)


def test_structure_xls_shifted_header(tmp_path: Path):
    path = _structure_xlsx(tmp_path / "REFNIS_2019.xlsx", [[None], *_structure_cells()])
    with pytest.raises(SourceFormatError, match=r"REFNIS_2019\.xlsx.*row 1.*expected the header"):
        refnis.read_structure(path)


def test_structure_xls_empty_and_truncated(tmp_path: Path):
    path = tmp_path / "REFNIS_2019.xls"
    path.write_bytes(b"")
    with pytest.raises(SourceFormatError, match=r"REFNIS_2019\.xls.*empty"):
        refnis.read_structure(path)
    good = _structure_xlsx(tmp_path / "good.xlsx", _structure_cells()).read_bytes()
    path = tmp_path / "REFNIS_2019.xlsx"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(SourceFormatError, match=r"REFNIS_2019\.xlsx.*cannot be opened"):
        refnis.read_structure(path)


def test_structure_xls_bad_language(tmp_path: Path):
    cells = _structure_cells()
    cells[-1][5] = "X"
    path = _structure_xlsx(tmp_path / "REFNIS_2019.xlsx", cells)
    with pytest.raises(SourceFormatError, match=r"row 6, column 'Taal'.*N, F, NF or D"):
        refnis.read_structure(path)


@pytest.mark.realdata
def test_edition_notes(history, s2019, s2025) -> None:
    """What the files say about their release, for the build's edition check."""
    # The history release predates the 2025 mergers: its last change is the 2019 wave.
    assert history.attrs["latest_change"] == "2019-01-01"
    assert s2019.attrs["municipalities"] == refnis.MUNICIPALITY_COUNTS["2019"]
    assert s2025.attrs["municipalities"] == refnis.MUNICIPALITY_COUNTS["2025"]
