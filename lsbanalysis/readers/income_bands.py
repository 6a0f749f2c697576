"""Reader for Statbel "Fiscale inkomens per gemeente", table set C (income classes, medians).

Statbel publishes one workbook per income year (``fisc2022_C_NL.xls``, ``fisc2015_C_FR.xls``,
from income year 2023 as ``.xlsx`` with the same layout), in Dutch or French. Three data
sheets follow ``Home``, ``Schema`` and ``Metadata``:

====================  =====================  ===========================================
Dutch sheet           French sheet           table
====================  =====================  ===========================================
``Totaal``            ``Total``              C.1, all declarations (measures unprefixed)
``per indiv. aang.``  ``par décl. indiv.``   C.2, individual declarations (``indiv_…``)
``per gem. aang.``    ``par décl. comm.``    C.3, joint declarations (``joint_…``)
====================  =====================  ===========================================

Each data sheet has its title in rows 1–3 (row 3: "Inkomstenjaar 2022" / "Année de revenu
2015"), a two-row header in (1-based) rows 6–7 and data from row 8 until the first row
without a NIS code (the footer: "* = confidentieel", "Bron: …", navigation links).

Every coded row is kept: Belgium (01000), the regions, the Duitstalige Gemeenschap (03001,
level ``community``), provinces, arrondissements and municipalities. Their published
medians are benchmarks that cannot be rebuilt by summing municipalities.

Units: counts of declarations and inhabitants are ``count``; amounts and the interquartile
difference ``eur``; the interquartile coefficient and asymmetry are published multiplied by
100 (Belgium 2022: IQR 28,360 / median 28,145 is shown as 101) and carry unit ``percent``;
the welfare index (Belgium = 100) is ``index``.

Quirks handled here:

* ``*`` (confidential) becomes NaN with status ``suppressed``; in C.2/C.3 the zero-income
  count is ``*`` for most municipalities.
* In the 2015 and 2016 editions the income bands of Herstappe and Voeren are merged cells
  spanning several bands (e.g. all 53 declarations in one cell under "< 10.000 EUR"). The
  merged value does not belong to the band it sits under, so every band of such a row
  becomes NaN/``suppressed``.
* ``inhabitants`` is the population on 1 January of the assessment year (income year + 1).
* ``municipal_taxes_total`` here is "Gemeente- en agglomeratiebelasting": the municipal
  surcharge **plus** the Brussels agglomeration tax. In TF_PSNL_INC_TAX_MUNTY the two are
  separate (``municipal_taxes_total`` + ``agglomeration_taxes_total``); they differ only
  for the 19 Brussels municipalities.

Geography: a declaration counts in the municipality of residence on 1 January of the
assessment year (income year + 1). ``geo_version`` is taken from the codes themselves:
``"1977"`` (589 municipalities) when a municipality merged away on 1 January 2019 is
present (income years 2015 and 2016 here), ``"2025"`` when a 2025 merger code is present,
else ``"2019"`` (581 municipalities: income years 2021 and 2022). An extract without any of
these marker codes falls back to the geography of 1 January of the assessment year.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers.common import (
    check_labels,
    normalise_label,
    parse_nis_codes,
    read_workbook,
    tidy_from_wide,
)

log = logging.getLogger(__name__)

HEADER_ROWS = (5, 6)  # 0-based rows of the two-row header
DATA_START = 7  # 0-based row of the first data row
NIS_COL = 1


@dataclass(frozen=True)
class Column:
    """One sheet column: its measure (None for name/NIS), unit and expected header labels.

    ``nl``/``fr`` give the expected (row 6, row 7) labels as prefixes; None = not checked
    (the cell is empty or belongs to a merged group header).
    """

    measure: str | None
    unit: str | None
    nl: tuple[str | None, str | None]
    fr: tuple[str | None, str | None]
    band: bool = False


def _c1() -> tuple[Column, ...]:
    c = Column
    return (
        c(None, None, ("Administratieve eenheid", None), ("Entites administratives", None)),
        c(None, None, ("NIS code", None), ("Code INS", None)),
        c(
            "declarations_zero_income",
            "count",
            ("Aantal aangiften met nul", None),
            ("Nombre declarations de revenu net imposable nul", None),
        ),
        c(
            "declarations_nonzero",
            "count",
            ("Aantal aangiften (zonder nul-inkomen)", "Totaal"),
            ("Nombre declarations (sans revenu nul)", "Total"),
        ),
        c(
            "declarations_band_lt10k",
            "count",
            (None, "< 10.000 EUR"),
            (None, "< 10.000 EUR"),
            band=True,
        ),
        c(
            "declarations_band_10k_20k",
            "count",
            (None, "vanaf 10.001 tem 20.000"),
            (None, "de 10.001 jusqu'a 20.000"),
            band=True,
        ),
        c(
            "declarations_band_20k_30k",
            "count",
            (None, "vanaf 20.001 tem 30.000"),
            (None, "de 20.001 jusqu'a 30.000"),
            band=True,
        ),
        c(
            "declarations_band_30k_40k",
            "count",
            (None, "vanaf 30.001 tem 40.000"),
            (None, "de 30.001 jusqu'a 40.000"),
            band=True,
        ),
        c(
            "declarations_band_40k_50k",
            "count",
            (None, "vanaf 40.001 tem 50.000"),
            (None, "de 40.001 jusqu'a 50.000"),
            band=True,
        ),
        c(
            "declarations_band_gt50k",
            "count",
            (None, "meer dan 50.000"),
            (None, "plus que 50.000"),
            band=True,
        ),
        c("inhabitants", "count", ("Aantal inwoners", None), ("Nombre d'habitants", None)),
        c(
            "net_taxable_income_total",
            "eur",
            ("Totaal netto belastbaar inkomen", None),
            ("Revenu total net imposable", None),
        ),
        c(
            "income_mean_per_declaration",
            "eur",
            ("Gemiddelde waarden", "Gemiddeld inkomen per aangifte"),
            ("Valeurs moyennes", "Revenu moyen par declaration"),
        ),
        c(
            "income_median_per_declaration",
            "eur",
            (None, "Mediaan inkomen per aangifte"),
            (None, "Revenu median par declaration"),
        ),
        c(
            "income_mean_per_inhabitant",
            "eur",
            (None, "Gemiddeld inkomen per inwoner"),
            (None, "Revenu moyen par habitant"),
        ),
        c(
            "interquartile_difference",
            "eur",
            ("Spreidingsmaten", "Interkwartiel verschil"),
            ("Mesures de dispersion", "Difference interquartile"),
        ),
        c(
            "interquartile_coefficient",
            "percent",
            (None, "Interkwartiele coefficient"),
            (None, "Coefficient interquartile"),
        ),
        # Statbel's Dutch label is misspelt "assymmetrie"; accept the correct spelling too.
        c(
            "interquartile_asymmetry",
            "percent",
            ("Interkwartiele as", None),
            ("Asymetrie interquartile", None),
        ),
        c("welfare_index", "index", ("Welvaartsindex", None), ("Indice de richesse", None)),
        c("state_taxes_total", "eur", ("Staatsbelasting", None), ("Impot d'Etat", None)),
        c("municipal_taxes_total", "eur", ("Gemeente", None), ("Taxes communales", None)),
        c("taxes_total", "eur", ("Totale belasting", None), ("Impot total", None)),
    )


def _c23(prefix: str) -> tuple[Column, ...]:
    """C.2 (individual) and C.3 (joint) declarations: four bands, no inhabitants/index."""
    c = Column
    cols = (
        c(None, None, ("Administratieve eenheid", None), ("Entites administratives", None)),
        c(None, None, ("NIS code", None), ("Code INS", None)),
        c(
            "declarations_zero_income",
            "count",
            ("Aantal aangiften met nul", None),
            ("Nombre declarations de revenu net imposable nul", None),
        ),
        c(
            "declarations_nonzero",
            "count",
            ("Aantal aangiften (zonder nul-inkomen)", "Totaal"),
            ("Nombre declarations (sans revenu nul)", "Total"),
        ),
        c(
            "declarations_band_lt20k",
            "count",
            (None, "< 20.000 EUR"),
            (None, "< 20.000 EUR"),
            band=True,
        ),
        c(
            "declarations_band_20k_30k",
            "count",
            (None, "vanaf 20.001 tem 30.000"),
            (None, "de 20.001 jusqu'a 30.000"),
            band=True,
        ),
        c(
            "declarations_band_30k_40k",
            "count",
            (None, "vanaf 30.001 tem 40.000"),
            (None, "de 30.001 jusqu'a 40.000"),
            band=True,
        ),
        c(
            "declarations_band_gt40k",
            "count",
            (None, "meer dan 40.000"),
            (None, "plus que 40.000"),
            band=True,
        ),
        c(
            "net_taxable_income_total",
            "eur",
            ("Totaal netto belastbaar inkomen", None),
            ("Revenu total net imposable", None),
        ),
        c(
            "income_mean_per_declaration",
            "eur",
            ("Gemiddelde waarden", "Gemiddeld inkomen per aangifte"),
            ("Valeurs moyennes", "Revenu moyen par declaration"),
        ),
        c(
            "income_median_per_declaration",
            "eur",
            (None, "Mediaan inkomen per aangifte"),
            (None, "Revenu median par declaration"),
        ),
        c(
            "interquartile_difference",
            "eur",
            ("Spreidingsmaten", "Interkwartiel verschil"),
            ("Mesures de dispersion", "Difference interquartile"),
        ),
        c(
            "interquartile_coefficient",
            "percent",
            (None, "Interkwartiele coefficient"),
            (None, "Coefficient interquartile"),
        ),
        c(
            "interquartile_asymmetry",
            "percent",
            ("Interkwartiele as", None),
            ("Asymetrie interquartile", None),
        ),
        c("state_taxes_total", "eur", ("Staatsbelasting", None), ("Impot d'Etat", None)),
        c("municipal_taxes_total", "eur", ("Gemeente", None), ("Taxes communales", None)),
        c("taxes_total", "eur", ("Totale belasting", None), ("Impot total", None)),
    )
    return tuple(
        Column(f"{prefix}{col.measure}", col.unit, col.nl, col.fr, col.band) if col.measure else col
        for col in cols
    )


@dataclass(frozen=True)
class Table:
    key: str  # "C.1", "C.2", "C.3"
    sheet_nl: str
    sheet_fr: str
    columns: tuple[Column, ...]


TABLES = (
    Table("C.1", "Totaal", "Total", _c1()),
    Table("C.2", "per indiv. aang.", "par décl. indiv.", _c23("indiv_")),
    Table("C.3", "per gem. aang.", "par décl. comm.", _c23("joint_")),
)

#: Income year in the title rows, per language (labels are compared accent-free, lower case).
YEAR_PATTERNS = {
    "nl": re.compile(r"inkomstenjaar\s*:?\s*(\d{4})"),
    "fr": re.compile(r"annee\s+de\s+revenus?\s*:?\s*(\d{4})"),
}
YEAR_LABELS = {"nl": "Inkomstenjaar YYYY", "fr": "Année de revenu YYYY"}
#: Table code in a data sheet's title ("Tabel C.1: …", "Table C.1: …").
TABLE_PATTERN = re.compile(r"^tab(?:el|le)\s+([a-z])(?:\.\d+)?\s*:")

#: Municipalities that ceased to exist on 1 January 2019 (mergers), and the codes created
#: by the 2019 and 2025 mergers (REFNIS): markers of a table's municipal geography.
# fmt: off
ENDED_2018 = frozenset({
    "12030", "12034", "44001", "44011", "44029", "44036", "44049", "44072", "44080",
    "45017", "45057", "52043", "52063", "54007", "54010", "55010", "55022", "55023",
    "55039", "56011", "56085", "56087", "71047", "72025", "72029", "72040",
})
NEW_2019 = frozenset({
    "12041", "44083", "44084", "44085", "45068", "51067", "51068", "51069", "55085",
    "55086", "57096", "57097", "58001", "58002", "58003", "58004", "72042", "72043",
})
NEW_2025 = frozenset({
    "23106", "37021", "37022", "44086", "44087", "44088", "46029", "46030", "71071",
    "71072", "73110", "73111", "82039",
})
# fmt: on

#: Band measures and the total they add up to, per table.
BAND_TOTALS = {
    t.key: (
        next(c.measure for c in t.columns if c.measure and c.measure.endswith("nonzero")),
        [c.measure for c in t.columns if c.band],
    )
    for t in TABLES
}


def read(path: Path) -> pd.DataFrame:
    """Read a fisc<YYYY>_C_<NL|FR> workbook (.xls or .xlsx) into tidy observations.

    Returns the columns of :data:`lsbanalysis.readers.common.OBSERVATION_COLUMNS` for all
    coded rows of tables C.1–C.3 (country, regions, community, provinces, arrondissements,
    municipalities); ``period``/``year`` are the income year from the title cell.

    Raises SourceFormatError (naming the file, sheet, row and what was expected) for a
    missing data sheet, a missing year in the title, a moved or renamed column, stray text
    in a value cell, an invalid or duplicate NIS code, or an empty/corrupt file.
    """
    path = Path(path)
    sheets = read_workbook(path)
    lang, names = _detect_language(path, list(sheets))
    year = None
    parts: list[pd.DataFrame] = []
    first_codes: set[str] = set()
    for table in TABLES:
        sheet = names[table.key]
        raw = sheets[sheet]
        sheet_year = _income_year(path, raw, lang, sheet)
        if year is not None and sheet_year != year:
            raise SourceFormatError(
                path,
                f"income year {sheet_year} in the title differs from {year} in the other "
                "data sheets; expected one income year per workbook",
                sheet=sheet,
            )
        year = sheet_year
        tidy, codes = _read_table(path, raw, table, lang, sheet, year)
        if not parts:
            first_codes = codes
        elif codes != first_codes:
            diff = sorted(codes ^ first_codes)[:5]
            raise SourceFormatError(
                path,
                f"table {table.key} has other NIS codes than table C.1 (e.g. {diff}); "
                "expected the same administrative units in every data sheet",
                sheet=sheet,
            )
        parts.append(tidy)
    out = pd.concat(parts, ignore_index=True)
    # What the file says it is, for the build's edition check ([source.expect]).
    out.attrs.update(language=lang, table=_table_code(sheets, names))
    return out


def _table_code(sheets: dict, names: dict[str, str]) -> str | None:
    """The table set named in the data sheets' titles ("Tabel C.1: …" → "C"), if one."""
    letters = set()
    for sheet in names.values():
        title = sheets[sheet].iloc[: HEADER_ROWS[0]].to_numpy(dtype=object).ravel()
        for cell in title:
            match = TABLE_PATTERN.match(normalise_label(cell))
            if match:
                letters.add(match.group(1).upper())
                break
    return letters.pop() if len(letters) == 1 else None


def band_sum_mismatches(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows where all bands and the total are published but the bands don't add up to it.

    ``frame`` is the output of :func:`read`. Returns one row per (table, nis, period) with
    columns ``table, nis, period, total, band_sum``; empty when everything adds up.
    """
    found = []
    ok = frame[frame["status"] == "ok"]
    for key, (total, bands) in BAND_TOTALS.items():
        sub = ok[ok["measure"].isin([total, *bands])]
        wide = sub.pivot_table(
            index=["nis", "period"], columns="measure", values="value", aggfunc="first"
        ).reindex(columns=[total, *bands])
        wide = wide.dropna()
        band_sum = wide[bands].sum(axis=1)
        bad = wide[~np.isclose(band_sum, wide[total], rtol=0, atol=0.5)]
        found.append(
            pd.DataFrame(
                {
                    "table": key,
                    "nis": bad.index.get_level_values("nis"),
                    "period": bad.index.get_level_values("period"),
                    "total": bad[total].to_numpy(),
                    "band_sum": band_sum[bad.index].to_numpy(),
                }
            )
        )
    return pd.concat(found, ignore_index=True)


# --- layout checks -------------------------------------------------------------------------


def _detect_language(path: Path, sheet_names: list[str]) -> tuple[str, dict[str, str]]:
    """Language of the workbook and the actual sheet name of each table."""
    by_label = {normalise_label(s): s for s in sheet_names}
    for lang in ("nl", "fr"):
        wanted = {t.key: getattr(t, f"sheet_{lang}") for t in TABLES}
        found = {k: by_label.get(normalise_label(v)) for k, v in wanted.items()}
        if all(found.values()):
            return lang, {k: v for k, v in found.items() if v}
    nl = [t.sheet_nl for t in TABLES]
    fr = [t.sheet_fr for t in TABLES]
    raise SourceFormatError(
        path,
        f"expected the data sheets {nl} (Dutch edition) or {fr} (French edition); "
        f"the workbook has sheets {sheet_names}",
    )


def _income_year(path: Path, raw: pd.DataFrame, lang: str, sheet: str) -> int:
    """The income year in the title rows (above the header) of a data sheet."""
    pattern = YEAR_PATTERNS[lang]
    title = raw.iloc[: HEADER_ROWS[0]]
    for cell in title.to_numpy(dtype=object).ravel():
        match = pattern.search(normalise_label(cell))
        if match:
            return int(match.group(1))
    raise SourceFormatError(
        path,
        f"income year not found: expected a title cell {YEAR_LABELS[lang]!r} in rows 1-"
        f"{HEADER_ROWS[0]}",
        sheet=sheet,
    )


def _check_header(path: Path, raw: pd.DataFrame, table: Table, lang: str, sheet: str) -> None:
    if len(raw) <= DATA_START:
        raise SourceFormatError(
            path,
            f"sheet has {len(raw)} rows; expected a header in rows {HEADER_ROWS[0] + 1}-"
            f"{HEADER_ROWS[1] + 1} and data from row {DATA_START + 1}",
            sheet=sheet,
        )
    width = len(table.columns)
    for level, row in enumerate(HEADER_ROWS):
        cells = list(raw.iloc[row])
        expected = [getattr(col, lang)[level] for col in table.columns]
        check_labels(path, cells, expected, sheet=sheet, row=row)
        extra = [(i, c) for i, c in enumerate(cells[width:], start=width) if normalise_label(c)]
        if extra:
            i, c = extra[0]
            raise SourceFormatError(
                path,
                f"unexpected extra column {i + 1} with header {c!r}; expected {width} "
                f"columns for table {table.key}",
                sheet=sheet,
                row=row,
            )


def _read_table(
    path: Path, raw: pd.DataFrame, table: Table, lang: str, sheet: str, year: int
) -> tuple[pd.DataFrame, set[str]]:
    _check_header(path, raw, table, lang, sheet)
    width = len(table.columns)
    body = raw.iloc[DATA_START:, :width].reset_index(drop=True)
    body.columns = range(width)
    codes = body[NIS_COL]
    empty = (codes.isna() | codes.astype(str).str.strip().eq("")).to_numpy()
    stop = int(np.argmax(empty)) if empty.any() else len(body)
    if stop == 0:
        raise SourceFormatError(
            path,
            f"no data: expected NIS codes in column {NIS_COL + 1} from row {DATA_START + 1}",
            sheet=sheet,
            row=DATA_START,
        )
    after = np.flatnonzero(~empty[stop:])
    if len(after):
        raise SourceFormatError(
            path,
            f"the data continue after an empty NIS code cell in row {DATA_START + stop + 1}; "
            "expected the data rows to be contiguous, followed by the footer",
            sheet=sheet,
            row=DATA_START + stop + int(after[0]),
            column="NIS code",
        )
    wide = body.iloc[:stop].copy()
    nis = parse_nis_codes(wide[NIS_COL], path=path, sheet=sheet, row_offset=DATA_START)
    dup = nis.duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise SourceFormatError(
            path,
            f"duplicate NIS code {nis.iloc[i]}; expected one row per administrative unit",
            sheet=sheet,
            row=DATA_START + i,
            column="NIS code",
        )
    wide["nis"] = nis
    band_cols = [i for i, c in enumerate(table.columns) if c.band]
    _suppress_merged_bands(wide, band_cols)
    _log_band_mismatches(path, wide, table, band_cols, sheet)
    # Name the value columns as an analyst sees them (letter and header) for error messages.
    names = _column_names(raw, width)
    wide = wide.rename(columns=dict(enumerate(names)))
    measures = {names[i]: (c.measure, c.unit) for i, c in enumerate(table.columns) if c.measure}
    tidy = tidy_from_wide(
        wide,
        measures,
        path=path,
        geo_version=_geo_version(path, set(nis), year, sheet),
        period=str(year),
        year=year,
        sheet=sheet,
        row_offset=DATA_START,
    )
    return tidy, set(nis)


def _geo_version(path: Path, codes: set[str], year: int, sheet: str) -> str:
    """The municipal geography of a table's NIS codes (see the module docstring)."""
    old, new19, new25 = codes & ENDED_2018, codes & NEW_2019, codes & NEW_2025
    if old and (new19 or new25):
        raise SourceFormatError(
            path,
            f"the NIS codes mix municipal geographies: {sorted(old)[:3]} ended in 2018 but "
            f"{sorted(new19 | new25)[:3]} were created later; expected one geography",
            sheet=sheet,
        )
    if old:
        return "1977"
    if new25:
        return "2025"
    if new19:
        return "2019"
    assessment_year = year + 1
    return "1977" if assessment_year < 2019 else "2019" if assessment_year < 2025 else "2025"


def _column_names(raw: pd.DataFrame, width: int) -> list[str]:
    """'N (Mediaan inkomen per aangifte)': column letter plus its lowest header label."""
    names = []
    for i in range(width):
        label = ""
        for row in reversed(HEADER_ROWS):
            cell = raw.iat[row, i]
            if normalise_label(cell):
                label = " ".join(str(cell).split())
                break
        letter = chr(ord("A") + i) if i < 26 else f"A{chr(ord('A') + i - 26)}"
        names.append(f"{letter} ({label})" if label else letter)
    return names


def _log_band_mismatches(
    path: Path, wide: pd.DataFrame, table: Table, band_cols: list[int], sheet: str
) -> None:
    """Log (not fail, not warn) rows whose published bands don't add up to the total."""
    total_col = next(
        i for i, c in enumerate(table.columns) if c.measure == BAND_TOTALS[table.key][0]
    )
    total = pd.to_numeric(wide[total_col], errors="coerce").to_numpy(dtype="float64")
    bands = wide[band_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
    published = ~np.isnan(total) & ~np.isnan(bands).any(axis=1)
    off = published & (np.abs(bands.sum(axis=1) - total) > 0.5)
    if off.any():
        log.info(
            "%s, sheet %r: income bands do not add up to the total for NIS %s",
            path.name,
            sheet,
            ", ".join(wide.loc[off, "nis"].head(10)),
        )


def _suppress_merged_bands(wide: pd.DataFrame, band_cols: list[int]) -> None:
    """Mark every band of a row whose bands are partly empty as suppressed (in place).

    Statbel merges band cells for confidentiality (2015/2016: Herstappe, Voeren); the merged
    value sits in the first band of the group and the other cells are empty. None of the
    row's band values then means what its column says.
    """
    bands = wide[band_cols]
    blank = (bands.isna() | bands.astype(str).apply(lambda s: s.str.strip().eq(""))).to_numpy()
    partly = blank.any(axis=1) & ~blank.all(axis=1)
    if partly.any():
        wide.loc[partly, band_cols] = "*"
