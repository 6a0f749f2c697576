"""Tests for lsbanalysis.readers.pinc_csv: Provincies in Cijfers CSV exports (nieuwkomers, ...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import pinc_csv, pinc_lookups
from lsbanalysis.readers.common import OBSERVATION_COLUMNS
from lsbanalysis.sources import load_manifest
from tests.built_store import BuiltStore

FILES = {
    "pinc_newcomers": "pinc_nieuwkomers_gemeenten_2014_2024.csv",
    "pinc_newcomers_non_eu": "pinc_nieuwkomers_nietEU_gemeenten_2014_2024.csv",
    "pinc_newcomers_per_1000": "pinc_nieuwkomers_per1000_18plus_gemeenten_2014_2024.csv",
    "pinc_newcomers_non_eu_per_1000":
        "pinc_nieuwkomers_nietEU_per1000_18plus_nietEU_gemeenten_2014_2024.csv",
    "pinc_home_language_origin": "pinc_thuistaal_herkomst_0_24_gemeenten_2014_2024.csv",
}
HERENTHOUT, HERENTALS, VORSELAAR = "13012", "13011", "13044"
# migration_diversity/SOURCES.md, "ISOM check": Herenthout 2014, 2019, 2024; Herentals and
# Vorselaar 2024.
ISOM_TABLE = {
    ("pinc_newcomers", "newcomers"): ((17, 46, 55), 175, 28),
    ("pinc_newcomers_non_eu", "newcomers_non_eu"): ((5, 8, 10), 91, 12),
    ("pinc_newcomers_per_1000", "newcomers_per_1000_adults"): ((2.3, 6.1, 7.0), 7.3, 4.2),
    ("pinc_home_language_origin", "pupils_primary_home_language_not_dutch_pct"):
        ((6.5, 9.0, 13.3), 18.8, 5.7),
    ("pinc_home_language_origin", "pupils_secondary_home_language_not_dutch_pct"):
        ((3.1, 5.8, 12.1), 15.0, 3.6),
    ("pinc_home_language_origin", "youth_0_24_non_belgian_origin"): ((259, 354, 467), 2052, 297),
}
HERENTHOUT_ORIGIN_2024 = {
    "youth_0_24_origin_maghreb_pct": 1.2,
    "youth_0_24_origin_turkish_pct": 0.4,
    "youth_0_24_origin_eastern_europe_non_eu_pct": 2.3,
    "youth_0_24_origin_other_african_pct": 1.2,
}

# --------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def names(mirror: Path) -> pd.DataFrame:
    return pinc_lookups.read_codes_names(
        mirror / "boundaries" / "pinc_gemeente_2025_codes_names.xlsx")


@pytest.fixture(scope="module")
def exports(mirror: Path, names: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        export: pinc_csv.read(mirror / "migration_diversity" / file, export=export,
                              municipality_names=names)
        for export, file in FILES.items()
    }


def _value(obs: pd.DataFrame, measure: str, nis: str, year: int) -> float:
    sel = obs[(obs["measure"] == measure) & (obs["nis"] == nis) & (obs["year"] == year)]
    assert len(sel) == 1
    return float(sel["value"].iloc[0])


@pytest.mark.realdata
def test_manifest_declares_every_export():
    declared = {s.id: s.files[0].name for s in load_manifest() if s.reader == "pinc_csv"}
    assert declared == FILES
    assert set(pinc_csv.EXPORTS) == set(FILES)


@pytest.mark.realdata
def test_shape(exports, names):
    for export, obs in exports.items():
        assert list(obs.columns) == OBSERVATION_COLUMNS
        assert obs.attrs["table"] == "; ".join(pinc_csv.EXPORTS[export]), export
        measures = {m for m, _ in pinc_csv.EXPORTS[export].values()}
        assert set(obs["measure"]) == measures
        # 285 Flemish + 19 Brussels municipalities (2025 map); the 4 placeholders skipped.
        assert obs["nis"].nunique() == 304
        assert len(obs) == 304 * 11 * len(measures)
        assert set(obs["nis"]) <= set(names.loc[names["is_area"], "nis"])
        assert sorted(obs["year"].unique()) == list(range(2014, 2025))
        assert set(obs["level"]) == {"municipality"} and set(obs["geo_version"]) == {"2025"}
        assert not obs.duplicated(["measure", "nis", "period"]).any()


@pytest.mark.realdata
def test_isom_figures(exports):
    for (export, measure), (herenthout, herentals, vorselaar) in ISOM_TABLE.items():
        obs = exports[export]
        got = tuple(_value(obs, measure, HERENTHOUT, y) for y in (2014, 2019, 2024))
        assert got == herenthout, measure
        assert _value(obs, measure, HERENTALS, 2024) == herentals, measure
        assert _value(obs, measure, VORSELAAR, 2024) == vorselaar, measure
    for measure, share in HERENTHOUT_ORIGIN_2024.items():
        assert _value(exports["pinc_home_language_origin"], measure, HERENTHOUT, 2024) == share


@pytest.mark.realdata
def test_units(exports):
    units = pd.concat(exports.values()).groupby("measure")["unit"].unique().map(tuple)
    assert units["newcomers"] == ("count",)
    assert units["newcomers_per_1000_adults"] == ("per_1000",)
    assert units["youth_0_24_origin_maghreb_pct"] == ("percent",)


@pytest.mark.realdata
def test_special_values(exports):
    for export, obs in exports.items():
        flemish = ~obs["nis"].str.startswith("21")
        assert (obs["value"].isna() == (obs["status"] != "ok")).all()
        if export != "pinc_home_language_origin":
            # SOURCES.md: no special values among the Flemish municipalities; Brussels is empty.
            assert (obs.loc[flemish, "status"] == "ok").all(), export
            assert (obs.loc[~flemish, "status"] == "missing").all(), export
    home = exports["pinc_home_language_origin"]
    flemish = ~home["nis"].str.startswith("21")
    assert (home.loc[flemish, "status"] == "suppressed").sum() == 447  # the 'x' cells
    # Brussels residents in Dutch-language education: PinC publishes these shares.
    anderlecht = home[(home["nis"] == "21001")].set_index(["measure", "year"])
    assert anderlecht.loc[("pupils_primary_home_language_not_dutch_pct", 2014), "value"] == 73.3
    assert anderlecht.loc[("youth_0_24_non_belgian_origin", 2014), "status"] == "missing"
    # Published zeros stay zeros (Herstappe): only special values become NaN.
    newcomers = exports["pinc_newcomers"]
    assert (newcomers.loc[newcomers["nis"] == "73028", "value"] == 0).all()


@pytest.mark.realdata
def test_swapped_file_is_detected(mirror: Path, names: pd.DataFrame):
    path = mirror / "migration_diversity" / FILES["pinc_newcomers_per_1000"]
    with pytest.raises(SourceFormatError,
                       match=r"per1000_18plus_gemeenten.*row 1.*\(export 'pinc_newcomers'\).*"
                             r"looks like the export 'pinc_newcomers_per_1000'"):
        pinc_csv.read(path, export="pinc_newcomers", municipality_names=names)


@pytest.mark.realdata
def test_in_built_store(built_store: BuiltStore):
    obs = built_store.observations
    for export, measures in pinc_csv.EXPORTS.items():
        rows = obs[obs["source"] == export]
        assert set(rows["measure"].astype(str)) == {m for m, _ in measures.values()}, export
        assert set(rows["level"].astype(str)) == {"municipality"}
        assert set(rows["geo_version"].astype(str)) == {"2025"}
    home = obs[obs["source"] == "pinc_home_language_origin"]
    assert set(home["status"].astype(str)) == {"ok", "missing", "suppressed"}
    cell = obs[(obs["source"] == "pinc_newcomers") & (obs["nis"] == HERENTHOUT)
               & (obs["period"] == "2024")]
    assert cell["value"].tolist() == [55.0]


# --------------------------------------------------------------------------------------------
# Bad input: small synthetic exports

SMALL_NAMES = pd.DataFrame(
    {
        "nis": ["13012", "13029", "21001", "99999", "99991", "99992", "99993"],
        "name": ["Herenthout", "Olen", "Anderlecht", "Buiten Vlaanderen en Brussel",
                 "Niet te lokaliseren", "Niet te lokaliseren - Brussel",
                 "Niet te lokaliseren - Vlaanderen"],
    }
)
RATE = "nieuwkomers per 1.000 inwoners 18+ jaar"


def _csv(path: Path, label: str = RATE, years=(2022, 2023, 2024),
         rows: list[str] | None = None, encoding: str = "ascii") -> Path:
    header = ";".join(['"gemeenten"', *(f'"{label}|{y}"' for y in years)])
    rows = rows if rows is not None else [
        '"Herenthout";12,2;8,6;7,0',
        '"Olen";"x";3;"?"',
        '"Anderlecht";"-";"-";""',
        '"Buiten Vlaanderen en Brussel";"-";"-";"-"',
        '"Niet te lokaliseren - Vlaanderen";"-";"-";"-"',
    ]
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def _read(path: Path, export: str = "pinc_newcomers_per_1000") -> pd.DataFrame:
    return pinc_csv.read(path, export=export, municipality_names=SMALL_NAMES)


def test_small_export(tmp_path: Path):
    out = _read(_csv(tmp_path / "n.csv"))
    assert list(out.columns) == OBSERVATION_COLUMNS
    assert out.attrs["table"] == RATE
    cells = out.set_index(["nis", "year"])
    assert len(out) == 3 * 3  # placeholders skipped
    assert cells.loc[("13012", 2022), "value"] == 12.2  # decimal comma
    assert cells.loc[("13012", 2024), "value"] == 7.0
    assert (cells.loc[("13029", 2022), "status"], cells.loc[("13029", 2024), "status"]) == (
        "suppressed", "missing")
    assert np.isnan(cells.loc[("13029", 2022), "value"])
    assert cells.loc[("13029", 2023), "value"] == 3
    assert (cells.loc["21001", "status"] == "missing").all()
    assert set(out["unit"]) == {"per_1000"} and set(out["period"]) == {"2022", "2023", "2024"}


def test_missing_file(tmp_path: Path):
    with pytest.raises(SourceFormatError, match=r"n\.csv: file not found"):
        _read(tmp_path / "n.csv")


def test_wrong_encoding(tmp_path: Path):
    path = _csv(tmp_path / "n.csv", rows=['"Herenthout";1;2;3', '"Overijse-é";1;2;3'],
                encoding="latin-1")
    with pytest.raises(SourceFormatError, match=r"n\.csv, row 3: is not UTF-8 text \(byte 0xe9"):
        _read(path)


def test_workbook_given_to_csv_reader(tmp_path: Path):
    path = tmp_path / "vacatures.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U\x9e\xfd")
    with pytest.raises(SourceFormatError, match=r"vacatures\.csv.*not UTF-8 text"):
        _read(path)


def test_wrong_layout(tmp_path: Path):
    path = tmp_path / "n.csv"
    path.write_text("gemeente,2014,2015\nHerenthout,17,31\n", encoding="ascii")
    with pytest.raises(SourceFormatError, match=r"n\.csv, row 1: expected a ';'-separated header "
                                                r"starting with 'gemeenten'"):
        _read(path)
    path.write_text('"gemeenten";"nieuwkomers 2014"\n"Herenthout";17\n', encoding="ascii")
    with pytest.raises(SourceFormatError, match=r"row 1, column 'column 2'.*'<indicator>\|<year>'"):
        _read(path, export="pinc_newcomers")


def test_other_export_is_refused(tmp_path: Path):
    path = _csv(tmp_path / "n.csv", label="nieuwkomers")
    with pytest.raises(SourceFormatError,
                       match=r"n\.csv, row 1: expected the indicator\(s\) \['nieuwkomers per "
                             r"1\.000 inwoners 18\+ jaar'\].*found \['nieuwkomers'\]; this looks "
                             r"like the export 'pinc_newcomers'"):
        _read(path)


def test_years_not_consecutive(tmp_path: Path):
    with pytest.raises(SourceFormatError, match=r"row 1: expected consecutive years.*2022, 2024"):
        _read(_csv(tmp_path / "n.csv", years=(2022, 2024, 2025)))


@pytest.mark.parametrize("cell", ["6.5", "n/a", "1.234", "12,2%"])
def test_garbage_value(tmp_path: Path, cell: str):
    rows = ['"Herenthout";12,2;8,6;7,0', f'"Olen";1;"{cell}";3']
    with pytest.raises(SourceFormatError) as err:
        _read(_csv(tmp_path / "n.csv", rows=rows))
    msg = str(err.value)
    column = "nieuwkomers per 1.000 inwoners 18+ jaar|2023"
    assert msg.startswith(f"file n.csv, row 3, column '{column}'")
    assert repr(cell) in msg


def test_fraction_in_a_count(tmp_path: Path):
    rows = ['"Herenthout";17;31,5;49']
    with pytest.raises(SourceFormatError, match=r"row 2, column 'nieuwkomers\|2023'.*whole number"):
        _read(_csv(tmp_path / "n.csv", label="nieuwkomers", rows=rows), export="pinc_newcomers")


def test_unknown_municipality(tmp_path: Path):
    rows = ['"Herenthout";1;2;3', '"Niet te lokaliseren";"-";"-";"-"', '"Herenthoud";1;2;3']
    with pytest.raises(SourceFormatError,
                       match=r"n\.csv, row 4, column 'gemeenten': unknown municipality name "
                             r"'Herenthoud'.*did you mean 'Herenthout'"):
        _read(_csv(tmp_path / "n.csv", rows=rows))


def test_ragged_row(tmp_path: Path):
    rows = ['"Herenthout";1;2;3', '"Olen";1;2']
    with pytest.raises(SourceFormatError, match=r"row 3: expected 4 ';'-separated fields.*found 3"):
        _read(_csv(tmp_path / "n.csv", rows=rows))


def test_unknown_export(tmp_path: Path):
    with pytest.raises(KeyError, match="unknown Provincies in Cijfers export 'pinc_x'"):
        _read(_csv(tmp_path / "n.csv"), export="pinc_x")
