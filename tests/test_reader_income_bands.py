"""Tests for the Statbel fiscal-income table set C reader (income bands and medians)."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import income_bands
from lsbanalysis.readers.common import OBSERVATION_COLUMNS, read_workbook

ISOM = ["13010", "13011", "13012", "13017", "13019", "13029", "13044"]

# fmt: off
C1_IDS = [
    "declarations_zero_income", "declarations_nonzero", "declarations_band_lt10k",
    "declarations_band_10k_20k", "declarations_band_20k_30k", "declarations_band_30k_40k",
    "declarations_band_40k_50k", "declarations_band_gt50k", "inhabitants",
    "net_taxable_income_total", "income_mean_per_declaration", "income_median_per_declaration",
    "income_mean_per_inhabitant", "interquartile_difference", "interquartile_coefficient",
    "interquartile_asymmetry", "welfare_index", "state_taxes_total", "municipal_taxes_total",
    "taxes_total",
]
C23_IDS = [
    "declarations_zero_income", "declarations_nonzero", "declarations_band_lt20k",
    "declarations_band_20k_30k", "declarations_band_30k_40k", "declarations_band_gt40k",
    "net_taxable_income_total", "income_mean_per_declaration", "income_median_per_declaration",
    "interquartile_difference", "interquartile_coefficient", "interquartile_asymmetry",
    "state_taxes_total", "municipal_taxes_total", "taxes_total",
]
# fmt: on
ALL_IDS = C1_IDS + [f"indiv_{m}" for m in C23_IDS] + [f"joint_{m}" for m in C23_IDS]
C1_BANDS = [m for m in C1_IDS if "_band_" in m]

# --- a small workbook with the real layout and a few real rows (income year 2022) ------------

NL_SHEETS = ["Totaal", "per indiv. aang.", "per gem. aang."]
FR_SHEETS = ["Total", "par décl. indiv.", "par décl. comm."]
E = None  # empty cell

# fmt: off
C1_HEAD = {
    "nl": (
        ["Administratieve Eenheid", "NIS code",
         "Aantal aangiften met nul totaal netto belastbaar inkomen",
         "Aantal aangiften (zonder nul-inkomen)", E, E, E, E, E, E, "Aantal inwoners",
         "Totaal netto belastbaar inkomen", "Gemiddelde waarden", E, E, "Spreidingsmaten", E,
         "Interkwartiele assymmetrie", "Welvaartsindex", "Staatsbelasting",
         "Gemeente en agglommeratie belasting", "Totale belasting"],
        [E, E, E, "Totaal", "< 10.000 EUR", "vanaf 10.001 tem 20.000 EUR",
         "vanaf 20.001 tem 30.000 EUR", "vanaf 30.001 tem 40.000 EUR",
         "vanaf 40.001 tem 50.000 EUR", "meer dan 50.000 EUR", E, E,
         "Gemiddeld inkomen per aangifte", "Mediaan inkomen per aangifte",
         "Gemiddeld inkomen per inwoner", "Interkwartiel verschil",
         "Interkwartiele coëfficiënt", E, E, E, E, E],
    ),
    "fr": (
        ["Entités administratives", "Code INS",
         "Nombre déclarations de revenu net imposable nul",
         "Nombre déclarations (sans revenu nul)", E, E, E, E, E, E, "Nombre d'habitants",
         "Revenu total net imposable", "Valeurs moyennes", E, E, "Mesures de dispersion", E,
         "Asymétrie interquartile", "Indice de richesse", "Impôt d'Etat",
         "Taxes communales et d'agglomération", "Impôt total"],
        [E, E, E, "Total", "< 10.000 EUR", "de 10.001 jusqu'à 20.000 EUR",
         "de 20.001 jusqu'à 30.000 EUR", "de 30.001 jusqu'à 40.000 EUR",
         "de 40.001 jusqu'à 50.000 EUR", "plus que 50.000 EUR", E, E,
         "Revenu moyen par déclaration", "Revenu médian par déclaration",
         "Revenu moyen par habitant", "Différence interquartile", "Coefficient interquartile",
         E, E, E, E, E],
    ),
}
C23_HEAD = {
    "nl": (
        ["Administratieve Eenheid", "NIS code",
         "Aantal aangiften met nul totaal netto belastbaar inkomen",
         "Aantal aangiften (zonder nul-inkomen)", E, E, E, E,
         "Totaal netto belastbaar inkomen", "Gemiddelde waarden", E, "Spreidingsmaten", E,
         "Interkwartiele assymmetrie", "Staatsbelasting", "Gemeente en agglommeratie belasting",
         "Totale belasting"],
        [E, E, E, "Totaal", "< 20.000 EUR", "vanaf 20.001 tem 30.000 EUR",
         "vanaf 30.001 tem 40.000 EUR", "meer dan 40.000 EUR", E,
         "Gemiddeld inkomen per aangifte", "Mediaan inkomen per aangifte",
         "Interkwartiel verschil", "Interkwartiele coëfficiënt", E, E, E, E],
    ),
    "fr": (
        ["Entités administratives", "Code INS",
         "Nombre déclarations de revenu net imposable nul",
         "Nombre déclarations (sans revenu nul)", E, E, E, E, "Revenu total net imposable",
         "Valeurs moyennes", E, "Mesures de dispersion", E, "Asymétrie interquartile",
         "Impôt d'Etat", "Taxes communales et d'agglomération", "Impôt total"],
        [E, E, E, "Total", "< 20.000 EUR", "de 20.001 jusqu'à 30.000 EUR",
         "de 30.001 jusqu'à 40.000 EUR", "plus que 40.000 EUR", E,
         "Revenu moyen par déclaration", "Revenu médian par déclaration",
         "Différence interquartile", "Coefficient interquartile", E, E, E, E],
    ),
}
C1_ROWS = [
    ["België", 1000, 501410, 6774436, 941253, 1125368, 1558024, 982529, 658387, 1508875,
     11697557, 254676934997, 37594, 28145, 21772, 28360, 101, 31, 100, 55067368599,
     4016904513, 59084273113],
    ["Vlaams Gewest", 2000, 195888, 3967913, 521176, 554580, 900621, 603747, 408728, 979061,
     6774807, 157664364660, 39735, 30106, 23272, 30452, 101, 28, 107, 35449028578,
     2526371455, 37975400033],
    ["Arrondissement Turnhout", 13000, 10851, 279826, 34294, 37389, 64346, 44713, 30569,
     68515, 476568, 10955195917, 39150, 30743, 22988, 29632, 96, 26, 106, 2332327839,
     168562453, 2500890292],
    ["Herenthout", 13012, 169, 5710, 623, 800, 1425, 910, 646, 1306, 9417, 216027109, 37833,
     30024, 22940, 27428, 91, 27, 105, 45658765, 3404555, 49063320],
]
C2_ROWS = [
    ["België", 1000, 488539, 4563798, 1988727, 1297985, 637394, 639692, 113259318951, 24817,
     21757, 17375, 80, 13, 23267168325, 1702240434, 24969408759],
    ["Vlaams Gewest", 2000, 190847, 2546817, 1037821, 746601, 386097, 376298, 64727187021,
     25415, 22435, 17999, 80, 12, 13881164854, 992634478, 14873799332],
    ["Arrondissement Turnhout", 13000, 10589, 173459, 69488, 52822, 27778, 23371, 4296787771,
     24771, 22466, 17125, 76, 13, 876085196, 63717583, 939802779],
    ["Herenthout", 13012, "*", 3562, 1401, 1146, 523, 492, 87689230, 24618, 22186, 15101, 68,
     27, 17656690, 1320878, 18977568],
]
C3_ROWS = [
    ["België", 1000, 12871, 2210638, 77894, 260039, 345135, 1527570, 141417616046, 63971,
     52420, 40294, 77, 22, 31800200275, 2314664079, 34114864354],
    ["Vlaams Gewest", 2000, 5041, 1421096, 37935, 154020, 217650, 1011491, 92937177639,
     65398, 53920, 40493, 75, 21, 21567863724, 1533736977, 23101600701],
    ["Arrondissement Turnhout", 13000, 262, 106367, 2195, 11524, 16935, 75713, 6658408145,
     62598, 52749, 36886, 70, 20, 1456242643, 104844870, 1561087513],
    ["Herenthout", 13012, "*", 2148, 22, 279, 387, 1460, 128337879, 59748, 50694, 36721, 72,
     25, 28002075, 2083677, 30085752],
]
# fmt: on


def fixture_sheets(lang: str = "nl", year: int = 2022) -> dict[str, list[list]]:
    """The three data sheets as lists of rows, in the official layout."""
    title = f"Inkomstenjaar {year}" if lang == "nl" else f"Année de revenu {year}"
    footer = (
        [
            "* = confidentieel",
            "Bron: Statbel (Algemene Directie Statistiek)",
            " ",
            "Overzicht",
            "Schema",
            "Begrippenlijst",
        ]
        if lang == "nl"
        else [
            "* = confidentiel",
            "Source: Statbel (Direction générale Statistique)",
            " ",
            "Aperçu",
            "Schéma",
            "Glossaire",
        ]
    )
    names = NL_SHEETS if lang == "nl" else FR_SHEETS
    heads = [C1_HEAD[lang], C23_HEAD[lang], C23_HEAD[lang]]
    sheets = {}
    for name, head, rows in zip(names, heads, [C1_ROWS, C2_ROWS, C3_ROWS], strict=True):
        sheets[name] = [
            [f"Tabel C: {name}"],
            ["Aantal aangiften per klasse ..."],
            [title],
            [" "],
            [],
            list(head[0]),
            list(head[1]),
            *copy.deepcopy(rows),
            *[[f] for f in footer],
        ]
    return sheets


def write_book(path: Path, sheets: dict[str, list[list]], *, front: bool = True) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Home"
    if front:
        book.create_sheet("Schema")
        book.create_sheet("Metadata")
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def value(frame: pd.DataFrame, measure: str, nis: str) -> pd.Series:
    row = frame[(frame["measure"] == measure) & (frame["nis"] == nis)]
    assert len(row) == 1, (measure, nis)
    return row.iloc[0]


# --- real files (each read once per module) ---------------------------------------------------


def _read(mirror: Path, name: str) -> pd.DataFrame:
    return income_bands.read(mirror / "statbel" / name)


@pytest.fixture(scope="module")
def fisc2022(mirror: Path) -> pd.DataFrame:
    return _read(mirror, "fisc2022_C_NL.xls")


@pytest.fixture(scope="module")
def fisc2021(mirror: Path) -> pd.DataFrame:
    return _read(mirror, "fisc2021_C_FR.xls")


@pytest.fixture(scope="module")
def fisc2016(mirror: Path) -> pd.DataFrame:
    return _read(mirror, "fisc2016_C_NL.xls")


@pytest.fixture(scope="module")
def fisc2015(mirror: Path) -> pd.DataFrame:
    return _read(mirror, "fisc2015_C_FR.xls")


@pytest.fixture(scope="module")
def all_years(fisc2015, fisc2016, fisc2021, fisc2022) -> dict[int, pd.DataFrame]:
    return {2015: fisc2015, 2016: fisc2016, 2021: fisc2021, 2022: fisc2022}


@pytest.mark.realdata
def test_2022_herenthout(fisc2022: pd.DataFrame) -> None:
    h = fisc2022[fisc2022["nis"] == "13012"].set_index("measure")
    assert h.at["declarations_nonzero", "value"] == 5710
    assert [h.at[m, "value"] for m in C1_BANDS] == [623, 800, 1425, 910, 646, 1306]
    assert h.loc[C1_BANDS, "value"].sum() == h.at["declarations_nonzero", "value"]
    assert h.at["declarations_zero_income", "value"] == 169
    assert h.at["income_median_per_declaration", "value"] == 30024
    assert h.at["inhabitants", "value"] == 9417
    assert h.at["welfare_index", "value"] == 105
    assert (h["level"] == "municipality").all()
    assert (h["geo_version"] == "2019").all() and (h["period"] == "2022").all()
    assert (h["year"] == 2022).all()


@pytest.mark.realdata
def test_2022_benchmarks(fisc2022: pd.DataFrame) -> None:
    arr = value(fisc2022, "income_median_per_declaration", "13000")
    assert arr["value"] == 30743 and arr["level"] == "arrondissement"
    assert value(fisc2022, "declarations_nonzero", "13000")["value"] == 279826
    assert value(fisc2022, "income_median_per_declaration", "10000")["value"] == 29528
    region = value(fisc2022, "income_median_per_declaration", "02000")
    assert region["value"] == 30106 and region["level"] == "region"
    country = value(fisc2022, "income_median_per_declaration", "01000")
    assert country["level"] == "country"
    assert value(fisc2022, "declarations_nonzero", "03001")["level"] == "community"
    # Coefficient published x100: IQR 28,360 / median 28,145 -> 101 (percent).
    coef = value(fisc2022, "interquartile_coefficient", "01000")
    assert coef["value"] == 101 and coef["unit"] == "percent"
    assert value(fisc2022, "welfare_index", "01000")["value"] == 100


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("year", "rows", "municipalities", "geo"),
    [
        (2015, 647, 589, "1977"),
        (2016, 647, 589, "1977"),
        (2021, 639, 581, "2019"),
        (2022, 639, 581, "2019"),
    ],
)
def test_coded_rows(all_years, year, rows, municipalities, geo) -> None:
    frame = all_years[year]
    assert frame["nis"].nunique() == rows
    assert (frame.groupby("measure").size() == rows).all()
    levels = frame.drop_duplicates("nis")["level"].value_counts().to_dict()
    assert levels == {
        "municipality": municipalities,
        "arrondissement": 43,
        "province": 10,
        "region": 3,
        "country": 1,
        "community": 1,
    }
    assert set(frame["geo_version"]) == {geo}
    assert set(frame["period"]) == {str(year)} and set(frame["year"]) == {year}
    assert set(ISOM) <= set(frame["nis"])


@pytest.mark.realdata
def test_2015_french_edition(fisc2015: pd.DataFrame) -> None:
    h = fisc2015[fisc2015["nis"] == "13012"].set_index("measure")
    assert h.at["income_median_per_declaration", "value"] == 25181
    assert h.at["declarations_zero_income", "value"] == 163
    assert h.at["declarations_nonzero", "value"] == 5130
    assert [h.at[m, "value"] for m in C1_BANDS] == [532, 1375, 1233, 686, 430, 874]
    assert h.at["inhabitants", "value"] == 8806
    assert h.at["net_taxable_income_total", "value"] == 162675576
    assert value(fisc2015, "income_median_per_declaration", "13000")["value"] == 25971


@pytest.mark.realdata
def test_2016_dutch_edition(fisc2016: pd.DataFrame) -> None:
    assert value(fisc2016, "income_median_per_declaration", "13012")["value"] == 25331
    assert value(fisc2016, "declarations_nonzero", "13000")["value"] == 257763


@pytest.mark.realdata
def test_2021_french_edition(fisc2021: pd.DataFrame) -> None:
    assert value(fisc2021, "income_median_per_declaration", "13012")["value"] == 28887
    assert value(fisc2021, "taxes_total", "13012")["value"] == 43325525
    medians = {
        "13010": 30582,
        "13011": 28425,
        "13017": 30863,
        "13019": 30634,
        "13029": 30634,
        "13044": 30131,
    }  # 13044 = Vorselaar (13036 is Retie)
    for nis, median in medians.items():
        assert value(fisc2021, "income_median_per_declaration", nis)["value"] == median


@pytest.mark.realdata
@pytest.mark.parametrize("year", [2015, 2016, 2021, 2022])
def test_suppressed_zero_income_in_c2_c3(all_years, year) -> None:
    frame = all_years[year]
    for measure in ("indiv_declarations_zero_income", "joint_declarations_zero_income"):
        for nis in ISOM:
            row = value(frame, measure, nis)
            assert row["status"] == "suppressed"
            assert np.isnan(row["value"])  # never 0
    assert (frame["value"].isna() == (frame["status"] != "ok")).all()


@pytest.mark.realdata
@pytest.mark.parametrize("year", [2015, 2016])
def test_merged_band_cells_are_suppressed(all_years, year) -> None:
    """Herstappe/Voeren bands are merged cells in 2015/2016: no band may carry their total."""
    frame = all_years[year]
    for nis in ("73028", "73109"):
        assert value(frame, "declarations_nonzero", nis)["status"] == "ok"
        for band in C1_BANDS:
            row = value(frame, band, nis)
            assert row["status"] == "suppressed" and np.isnan(row["value"])


@pytest.mark.realdata
@pytest.mark.parametrize("year", [2015, 2016, 2021, 2022])
def test_published_bands_add_up(all_years, year) -> None:
    assert income_bands.band_sum_mismatches(all_years[year]).empty


@pytest.mark.realdata
def test_measure_ids_and_units(fisc2022: pd.DataFrame) -> None:
    assert sorted(fisc2022["measure"].unique()) == sorted(ALL_IDS)
    units = fisc2022.drop_duplicates("measure").set_index("measure")["unit"]
    for measure, unit in units.items():
        base = measure.removeprefix("indiv_").removeprefix("joint_")
        if base.startswith("declarations_") or base == "inhabitants":
            assert unit == "count", measure
        elif base in ("interquartile_coefficient", "interquartile_asymmetry"):
            assert unit == "percent", measure
        elif base == "welfare_index":
            assert unit == "index", measure
        else:
            assert unit == "eur", measure


@pytest.mark.realdata
def test_contract(fisc2022: pd.DataFrame) -> None:
    assert list(fisc2022.columns) == OBSERVATION_COLUMNS
    assert fisc2022["year"].dtype == "int64" and fisc2022["value"].dtype == "float64"
    assert not fisc2022.duplicated(["measure", "nis", "period"]).any()
    assert fisc2022["nis"].str.fullmatch(r"\d{5}").all()


@pytest.mark.realdata
def test_xlsx_edition_matches_xls(mirror: Path, fisc2022: pd.DataFrame, tmp_path: Path) -> None:
    """From 2023 Statbel ships .xlsx with the same layout: copy a slice of the real sheets."""
    src = mirror / "statbel" / "fisc2022_C_NL.xls"
    raw = read_workbook(src, NL_SHEETS)
    sheets = {}
    for name in NL_SHEETS:
        rows = raw[name].astype(object).where(raw[name].notna(), None).values.tolist()
        sheets[name] = rows[:60] + rows[-6:]  # title, header, 53 data rows, footer
    path = write_book(tmp_path / "fisc2023_C_NL.xlsx", sheets)
    got = income_bands.read(path)
    assert got["nis"].nunique() == 53
    want = fisc2022[fisc2022["nis"].isin(set(got["nis"]))]
    order = ["measure", "nis"]
    pd.testing.assert_frame_equal(
        got.sort_values(order, ignore_index=True), want.sort_values(order, ignore_index=True)
    )


@pytest.mark.realdata
def test_truncated_real_file(mirror: Path, tmp_path: Path) -> None:
    path = tmp_path / "fisc2022_C_NL.xls"
    path.write_bytes((mirror / "statbel" / "fisc2022_C_NL.xls").read_bytes()[:1000])
    assert_format_error(path, "cannot be opened as an Excel workbook")


# --- small fixtures: good and bad input ------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "fr"])
def test_fixture_reads(tmp_path: Path, lang: str) -> None:
    got = income_bands.read(write_book(tmp_path / f"fisc2022_C_{lang}.xlsx", fixture_sheets(lang)))
    assert sorted(got["measure"].unique()) == sorted(ALL_IDS)
    assert value(got, "income_median_per_declaration", "13012")["value"] == 30024
    assert value(got, "declarations_nonzero", "01000")["level"] == "country"
    zero = value(got, "indiv_declarations_zero_income", "13012")
    assert zero["status"] == "suppressed" and np.isnan(zero["value"])
    assert set(got["period"]) == {"2022"} and set(got["geo_version"]) == {"2019"}
    # What the file says it is, for the build's edition check (sources.toml [source.expect]).
    assert got.attrs == {"language": lang, "table": "C"}


def add_municipality(sheets: dict[str, list[list]], nis: int, name: str) -> None:
    """Copy Herenthout's row (sheet row 11) under another code in all three data sheets."""
    for rows in sheets.values():
        rows.insert(11, [name, nis, *rows[10][2:]])


@pytest.mark.parametrize(
    ("year", "extra", "geo"),
    [
        (2016, None, "1977"),  # no marker code: geography of 1 Jan of the assessment year
        (2017, None, "1977"),
        (2018, None, "2019"),  # assessment year 2019: after the 2019 mergers
        (2024, None, "2025"),
        (2018, (12030, "Puurs"), "1977"),  # a municipality merged away on 1 Jan 2019
        (2016, (12041, "Puurs-Sint-Amands"), "2019"),  # a 2019 merger code
        (2024, (46030, "Beveren-Kruibeke-Zwijndrecht"), "2025"),
    ],
)
def test_geo_version(tmp_path: Path, year: int, extra, geo: str) -> None:
    sheets = fixture_sheets("fr", year)
    if extra:
        add_municipality(sheets, *extra)
    got = income_bands.read(write_book(tmp_path / "f.xlsx", sheets))
    assert set(got["geo_version"]) == {geo} and set(got["year"]) == {year}


def test_mixed_geographies_fail(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    add_municipality(sheets, 12030, "Puurs")
    add_municipality(sheets, 12041, "Puurs-Sint-Amands")
    assert_format_error(write_book(tmp_path / "f.xlsx", sheets), "mix municipal geographies")


def test_band_mismatch_is_logged_not_raised(tmp_path: Path, caplog) -> None:
    sheets = fixture_sheets()
    sheets["Totaal"][10][4] = 600  # Herenthout < 10.000: 623 -> 600
    with caplog.at_level(logging.INFO, logger="lsbanalysis.readers.income_bands"):
        got = income_bands.read(write_book(tmp_path / "f.xlsx", sheets))
    assert "13012" in caplog.text
    bad = income_bands.band_sum_mismatches(got)
    assert bad[["table", "nis", "total", "band_sum"]].values.tolist() == [
        ["C.1", "13012", 5710.0, 5687.0]
    ]


def test_partly_empty_bands_become_suppressed(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    row = sheets["Totaal"][10]
    row[4:10] = [5710, None, None, None, None, None]  # merged cells, as Herstappe 2016
    got = income_bands.read(write_book(tmp_path / "f.xlsx", sheets))
    for band in C1_BANDS:
        assert value(got, band, "13012")["status"] == "suppressed"
    assert value(got, "declarations_nonzero", "13012")["value"] == 5710


def assert_format_error(path: Path, *fragments: str) -> SourceFormatError:
    with pytest.raises(SourceFormatError) as info:
        income_bands.read(path)
    message = str(info.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_missing_sheet(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["per gemeensch. aang."] = sheets.pop("per gem. aang.")
    assert_format_error(
        write_book(tmp_path / "f.xlsx", sheets),
        "expected the data sheets",
        "per gem. aang.",
        "per gemeensch. aang.",
    )


def test_year_missing_from_title(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["Totaal"][2] = ["Inkomstenjaar"]
    assert_format_error(
        write_book(tmp_path / "f.xlsx", sheets),
        "income year not found",
        "Inkomstenjaar YYYY",
        "Totaal",
    )


def test_year_differs_between_sheets(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["per gem. aang."][2] = ["Inkomstenjaar 2021"]
    assert_format_error(write_book(tmp_path / "f.xlsx", sheets), "2021", "2022")


def test_shifted_header(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["Totaal"].insert(0, ["Statbel"])
    err = assert_format_error(
        write_book(tmp_path / "f.xlsx", sheets),
        "expected header 'Administratieve eenheid' in column 1",
    )
    assert err.sheet == "Totaal" and err.row == 5


def test_renamed_column(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["per indiv. aang."][6][10] = "Modaal inkomen per aangifte"
    assert_format_error(
        write_book(tmp_path / "f.xlsx", sheets),
        "'per indiv. aang.'",
        "row 7",
        "Mediaan inkomen per aangifte",
        "column 11",
        "Modaal",
    )


def test_moved_column(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    for row in sheets["Totaal"][5:11]:  # swap inhabitants and total income
        row[10], row[11] = row[11], row[10]
    assert_format_error(write_book(tmp_path / "f.xlsx", sheets), "'Aantal inwoners'", "column 11")


def test_extra_column(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["Totaal"][5].append("Armoederisico")
    assert_format_error(
        write_book(tmp_path / "f.xlsx", sheets), "unexpected extra column 23", "Armoederisico"
    )


def test_garbage_value_names_row_and_column(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["Totaal"][10][13] = "30.024 EUR"  # Herenthout median, sheet row 11
    err = assert_format_error(
        write_book(tmp_path / "f.xlsx", sheets),
        "row 11",
        "N (Mediaan inkomen per aangifte)",
        "'30.024 EUR'",
    )
    assert err.sheet == "Totaal"


@pytest.mark.parametrize("code", ["13O12", 130120, "Herenthout"])
def test_invalid_nis_code(tmp_path: Path, code: object) -> None:
    sheets = fixture_sheets()
    sheets["per gem. aang."][10][1] = code
    assert_format_error(write_book(tmp_path / "f.xlsx", sheets), "row 11", "NIS code", str(code))


def test_duplicate_nis_code(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["Totaal"][9][1] = 13012
    assert_format_error(write_book(tmp_path / "f.xlsx", sheets), "duplicate NIS code 13012")


def test_other_codes_in_c2_than_c1(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["per indiv. aang."][10][1] = 13044
    assert_format_error(write_book(tmp_path / "f.xlsx", sheets), "C.2", "13044")


def test_blank_row_inside_data(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["Totaal"].insert(9, [])
    assert_format_error(
        write_book(tmp_path / "f.xlsx", sheets),
        "data continue after an empty NIS code cell in row 10",
    )


def test_no_data_rows(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["Totaal"] = sheets["Totaal"][:7] + [[], ["* = confidentieel"]]
    assert_format_error(write_book(tmp_path / "f.xlsx", sheets), "no data", "row 8")


def test_sheet_without_header(tmp_path: Path) -> None:
    sheets = fixture_sheets()
    sheets["Totaal"] = sheets["Totaal"][:3]
    assert_format_error(write_book(tmp_path / "f.xlsx", sheets), "expected a header")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "fisc2022_C_NL.xls"
    path.write_bytes(b"")
    assert_format_error(path, "empty (0 bytes)")


def test_truncated_file(tmp_path: Path) -> None:
    full = write_book(tmp_path / "full.xlsx", fixture_sheets()).read_bytes()
    path = tmp_path / "fisc2022_C_NL.xlsx"
    path.write_bytes(full[:1000])
    assert_format_error(path, "cannot be opened as an Excel workbook")


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "fisc2022_C_NL.xls"
    path.write_text("<html>404 Not Found</html>")
    assert_format_error(path, "cannot be opened as an Excel workbook")
