"""Tests for lsbanalysis.readers.vacancies: VDAB vacancies via Provincies in Cijfers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import jobseekers, pinc_lookups, vacancies
from lsbanalysis.readers.common import OBSERVATION_COLUMNS
from tests.built_store import BuiltStore
from tests.isom import ISOM

FILE = "work/vdab_pinc_vacatures_gemeenten_2014_2024.xlsx"
SOURCE = "vdab_vacancies"
# work/SOURCES.md, "ISOM check": (ontvangen, openstaande) for 2014, 2019, 2024.
ISOM_2014_2019_2024 = {
    "Grobbendonk": ((188, 275, 203), (49, 44, 34)),
    "Herentals": ((897, 2_220, 2_092), (142, 384, 349)),
    "Herenthout": ((70, 122, 107), (6, 25, 22)),
    "Kasterlee": ((196, 563, 510), (22, 48, 114)),
    "Lille": ((143, 710, 746), (26, 115, 110)),
    "Olen": ((353, 459, 586), (52, 91, 113)),
    "Vorselaar": ((54, 322, 155), (7, 34, 24)),
}
HERENTHOUT_RECEIVED = [70, 84, 153, 316, 126, 122, 152, 157, 229, 316, 107]
NIS = {name: nis for nis, name in ISOM.items()}

# --------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def names(mirror: Path) -> pd.DataFrame:
    return pinc_lookups.read_codes_names(
        mirror / "boundaries" / "pinc_gemeente_2025_codes_names.xlsx")


@pytest.fixture(scope="module")
def obs(mirror: Path, names: pd.DataFrame) -> pd.DataFrame:
    return vacancies.read(mirror / FILE, municipality_names=names)


def _series(obs: pd.DataFrame, measure: str, nis: str) -> pd.Series:
    sel = obs[(obs["measure"] == measure) & (obs["nis"] == nis)]
    return sel.set_index("year")["value"].sort_index()


@pytest.mark.realdata
def test_shape(obs, names):
    assert list(obs.columns) == OBSERVATION_COLUMNS
    assert obs.attrs["table"] == "Vacatures en krapte - gemeenten"
    assert obs.attrs["exported"] == "donderdag 21 mei 2026"
    assert set(obs["measure"]) == {"vacancies_received", "vacancies_open"}
    assert set(obs["unit"]) == {"count"}
    assert sorted(obs["year"].unique()) == list(range(2014, 2025))
    assert (obs["period"] == obs["year"].astype(str)).all()
    # 285 Flemish + 19 Brussels municipalities, 2025 map; placeholders dropped.
    assert obs["nis"].nunique() == 304 and len(obs) == 304 * 11 * 2
    assert set(obs["nis"]) <= set(names.loc[names["is_area"], "nis"])
    assert set(obs["level"]) == {"municipality"} and set(obs["geo_version"]) == {"2025"}
    assert not obs.duplicated(["measure", "nis", "period"]).any()


@pytest.mark.realdata
def test_herenthout_and_isom(obs):
    assert _series(obs, "vacancies_received", "13012").tolist() == HERENTHOUT_RECEIVED
    for name, (received, open_) in ISOM_2014_2019_2024.items():
        got_r = _series(obs, "vacancies_received", NIS[name])[[2014, 2019, 2024]]
        got_o = _series(obs, "vacancies_open", NIS[name])[[2014, 2019, 2024]]
        assert tuple(got_r) == received, name
        assert tuple(got_o) == open_, name


@pytest.mark.realdata
def test_flanders_complete_brussels_missing(obs):
    brussels = obs["nis"].str.startswith("21")
    assert obs.loc[brussels, "nis"].nunique() == 19
    assert (obs.loc[brussels, "status"] == "missing").all()
    assert obs.loc[brussels, "value"].isna().all()
    assert (obs.loc[~brussels, "status"] == "ok").all()  # SOURCES.md: no special values


@pytest.mark.realdata
def test_jobseekers_file_is_refused(mirror: Path, names: pd.DataFrame):
    with pytest.raises(SourceFormatError, match=r"vdab_pinc_werkloosheid.*'Vacatures en krapte"):
        vacancies.read(mirror / "unemployment/vdab_pinc_werkloosheid_gemeenten_2014_2024.xlsx",
                       municipality_names=names)


@pytest.mark.realdata
def test_in_built_store(built_store: BuiltStore):
    obs = built_store.observations
    rows = obs[obs["source"] == SOURCE]
    assert set(rows["measure"].astype(str)) == {"vacancies_received", "vacancies_open"}
    assert set(rows["level"].astype(str)) == {"municipality"}
    assert set(rows["status"].astype(str)) == {"ok", "missing"}
    cell = rows[(rows["nis"] == "13012") & (rows["measure"] == "vacancies_open")
                & (rows["period"] == "2024")]
    assert cell["value"].tolist() == [22.0] and cell["status"].tolist() == ["ok"]
    entry = next(e for e in built_store.manifest["sources"] if e["id"] == SOURCE)
    assert entry["rows"] == len(rows) and entry["missing"] == 19 * 11 * 2


# --------------------------------------------------------------------------------------------
# Bad input: a small workbook with the real layout (all 58 series, 2014-2024)

LABELS = [*vacancies.SERIES, *vacancies.SECTOR_SERIES]
YEARS = list(range(2014, 2025))
SMALL_NAMES = pd.DataFrame(
    {
        "nis": ["13012", "13029", "21004", "99999", "99991"],
        "name": ["Herenthout", "Olen", "Brussel", "Buiten Vlaanderen en Brussel",
                 "Niet te lokaliseren"],
    }
)


def _rows(municipalities=("Herenthout", "Olen", "Brussel"), labels=LABELS,
          title=vacancies.TITLE) -> list[list[object]]:
    width = len(labels) * len(YEARS)
    label_row: list[object] = [None] * (width + 1)
    for k, label in enumerate(labels):
        label_row[(k + 1) * len(YEARS)] = label
    rows = [[title] + [None] * width, label_row, [None] + YEARS * len(labels)]
    for name in municipalities:
        value = "?" if name == "Brussel" else 107
        rows.append([name] + [value] * width)
    rows.append(["Buiten Vlaanderen en Brussel"] + ["nvt"] * width)
    rows.append(["Niet te lokaliseren"] + ["-"] * width)
    rows += [[None], ["Speciale waarden", "- Geen waarde"], ["Datum export", "vandaag"]]
    return rows


def _xlsx(path: Path, rows: list[list[object]], sheet: str = vacancies.SHEET) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def _col(label: str, year: int) -> int:
    return 1 + LABELS.index(label) * len(YEARS) + YEARS.index(year)


def test_small_workbook(tmp_path: Path):
    rows = _rows()
    rows[4][_col("openstaande vacatures", 2019)] = "x"  # Olen
    out = vacancies.read(_xlsx(tmp_path / "v.xlsx", rows), municipality_names=SMALL_NAMES)
    assert out.attrs == {"table": vacancies.TITLE, "exported": "vandaag"}
    assert len(out) == 3 * 2 * len(YEARS)  # sector series not stored, placeholders dropped
    olen = out[out["nis"] == "13029"].set_index(["measure", "year"])
    assert olen.loc[("vacancies_open", 2019), "status"] == "suppressed"
    assert np.isnan(olen.loc[("vacancies_open", 2019), "value"])
    assert olen.loc[("vacancies_received", 2019), "value"] == 107
    brussel = out[out["nis"] == "21004"]
    assert (brussel["status"] == "missing").all() and brussel["value"].isna().all()


def test_missing_file(tmp_path: Path):
    with pytest.raises(SourceFormatError, match=r"nope\.xlsx: file not found"):
        vacancies.read(tmp_path / "nope.xlsx", municipality_names=SMALL_NAMES)


def test_not_a_workbook(tmp_path: Path):
    path = tmp_path / "v.xlsx"
    path.write_text('"gemeenten";"nieuwkomers|2014"\n"Herenthout";17\n', encoding="utf-16")
    with pytest.raises(SourceFormatError, match=r"v\.xlsx: cannot be opened as an Excel workbook"):
        vacancies.read(path, municipality_names=SMALL_NAMES)


def test_jobseekers_layout_is_refused(tmp_path: Path):
    """A jobseekers export (right layout family, other report) under the vacancies reader."""
    rows = _rows(labels=list(jobseekers.SERIES), title=jobseekers.TITLE)
    path = _xlsx(tmp_path / "j.xlsx", rows, sheet=jobseekers.SHEET)
    with pytest.raises(SourceFormatError, match=r"j\.xlsx.*sheet 'Vacatures en krapte gemeenten'"):
        vacancies.read(path, municipality_names=SMALL_NAMES)
    path = _xlsx(tmp_path / "j2.xlsx", rows)  # even on a sheet with the expected name
    with pytest.raises(SourceFormatError, match=r"row 1.*'Vacatures en krapte - gemeenten'"):
        vacancies.read(path, municipality_names=SMALL_NAMES)
    with pytest.raises(SourceFormatError, match=r"row 1.*'Werkloosheid - gemeenten'"):
        jobseekers.read(_xlsx(tmp_path / "v.xlsx", _rows(), sheet=jobseekers.SHEET),
                        municipality_names=SMALL_NAMES)


def test_missing_sector_series(tmp_path: Path):
    rows = _rows(labels=LABELS[:-1])
    with pytest.raises(SourceFormatError,
                       match=r"row 2.*58 known series.*missing \['openstaande vacatures "
                             r"Onbepaalde sector'\]"):
        vacancies.read(_xlsx(tmp_path / "v.xlsx", rows), municipality_names=SMALL_NAMES)


def test_garbage_value(tmp_path: Path):
    rows = _rows()
    rows[3][_col("ontvangen vacatures", 2024)] = "107 (v)"
    with pytest.raises(SourceFormatError) as err:
        vacancies.read(_xlsx(tmp_path / "v.xlsx", rows), municipality_names=SMALL_NAMES)
    msg = str(err.value)
    assert "v.xlsx" in msg and "row 4" in msg and "'107 (v)'" in msg
    assert "column 'L (ontvangen vacatures 2024)'" in msg


def test_garbage_in_an_unused_series_is_ignored(tmp_path: Path):
    """Sector series are not stored, so their cells are not parsed."""
    rows = _rows()
    rows[3][_col("ontvangen vacatures Bouw", 2024)] = "107 (v)"
    out = vacancies.read(_xlsx(tmp_path / "v.xlsx", rows), municipality_names=SMALL_NAMES)
    assert (out.loc[out["nis"] == "13012", "value"] == 107).all()


def test_unknown_municipality(tmp_path: Path):
    path = _xlsx(tmp_path / "v.xlsx", _rows(("Herenthout", "Olenn")))
    with pytest.raises(SourceFormatError,
                       match=r"v\.xlsx.*row 5, column 'A'.*'Olenn'.*did you mean 'Olen'"):
        vacancies.read(path, municipality_names=SMALL_NAMES)


def test_municipality_listed_twice(tmp_path: Path):
    path = _xlsx(tmp_path / "v.xlsx", _rows(("Herenthout", "Olen", "Herenthout")))
    with pytest.raises(SourceFormatError, match=r"row 6, column 'A'.*'Herenthout'.*twice"):
        vacancies.read(path, municipality_names=SMALL_NAMES)
