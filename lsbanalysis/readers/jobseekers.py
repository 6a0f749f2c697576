"""VDAB jobseekers per Flemish municipality, 2014-2024, as exported by Provincies in Cijfers.

File: ``unemployment/vdab_pinc_werkloosheid_gemeenten_2014_2024.xlsx`` (report
"Werkloosheid - gemeenten"), see ``unemployment/SOURCES.md``. Layout of sheet
``Werkloosheid gemeenten``:

* row 1: title ``Werkloosheid - gemeenten``;
* row 2: series label, written once in the LAST column of its block of year columns;
* row 3: years (2014 ... N) per column;
* rows 4..: one row per municipality, column A the Dutch name (no NIS codes), followed by
  Provincies-in-Cijfers placeholder rows ("Buiten Vlaanderen en Brussel", "Niet te
  lokaliseren ...") that are not areas and are dropped, then an empty row and the legend.

Names are matched exactly to the ``name`` of ``pinc_gemeente_2025_codes_names.xlsx``.
Rates are published as fractions and stored in percent (0.049 → 4.9). The first seven series
are annual averages; the WZW series (footnote (1)) are a 31 December snapshot by domicile.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers.common import (
    check_labels,
    finish,
    normalise_label,
    parse_values,
    read_workbook,
)
from lsbanalysis.readers.pinc_lookups import PLACEHOLDER_CODES

SHEET = "Werkloosheid gemeenten"
TITLE = "Werkloosheid - gemeenten"
GEO_VERSION = "2025"
FIRST_YEAR = 2014
LABEL_ROW, YEAR_ROW, FIRST_DATA_ROW = 1, 2, 3

#: Verbatim series label (row 2) -> (measure id, unit). Order is the file's order.
SERIES: dict[str, tuple[str, str]] = {
    "werkzoekendengraad (jaargemiddelde) [%]": ("jobseeker_rate", "percent"),
    "werkzoekendengraad mannen (jaargemiddelde) [%]": ("jobseeker_rate_men", "percent"),
    "werkzoekendengraad vrouwen (jaargemiddelde) [%]": ("jobseeker_rate_women", "percent"),
    "werkzoekendengraad 18-24 jaar (jaargemiddelde) [%]": ("jobseeker_rate_18_24", "percent"),
    "werkzoekendengraad 25-59 jaar (jaargemiddelde) [%]": ("jobseeker_rate_25_59", "percent"),
    "werkzoekendengraad 60-64 jaar (jaargemiddelde) [%]": ("jobseeker_rate_60_64", "percent"),
    "werkzoekenden zonder werk (jaargemiddelde) [aantal]": ("nwwz", "count"),
    "WZW [aantal] (1)": ("wzw", "count"),
    "WZW (t.o.v. inwoners 18-64 jaar) [%] (1)": ("wzw_rate", "percent"),
    "WZW Belg [aantal] (1)": ("wzw_belgian", "count"),
    "WZW EU (excl. Belg) [aantal] (1)": ("wzw_eu", "count"),
    "WZW niet-EU [aantal] (1)": ("wzw_non_eu", "count"),
    "WZW Belgische herkomst [aantal] (1)": ("wzw_origin_belgian", "count"),
    "WZW EU herkomst (excl. Belg) [aantal] (1)": ("wzw_origin_eu", "count"),
    "WZW niet-EU herkomst [aantal] (1)": ("wzw_origin_non_eu", "count"),
    "WZW vorig jaar wonend in dezelfde gemeente [aantal] (1)": (
        "wzw_prev_same_municipality",
        "count",
    ),
    "WZW vorig jaar wonend in het buitenland [aantal] (1)": ("wzw_prev_abroad", "count"),
    "WZW vorig jaar wonend in een andere  gemeente [aantal] (1)": (
        "wzw_prev_other_municipality",
        "count",
    ),
    "WZW volgend jaar wonend in dezelfde gemeente [aantal] (1)": (
        "wzw_next_same_municipality",
        "count",
    ),
    "WZW volgend jaar wonend in een andere  gemeente [aantal] (1)": (
        "wzw_next_other_municipality",
        "count",
    ),
    "WZW volgend jaar wonend in het buitenland [aantal] (1)": ("wzw_next_abroad", "count"),
}
_BY_LABEL = {normalise_label(label): label for label in SERIES}


def _column_letter(col: int) -> str:
    """Excel column letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _blocks(path: Path, raw: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Series label and year of each value column (columns 1..), validated."""
    labels = raw.iloc[LABEL_ROW, 1:].to_numpy(dtype=object)
    filled = np.flatnonzero(pd.notna(labels))
    if not len(filled) or filled[-1] != len(labels) - 1:
        raise SourceFormatError(
            path,
            "expected series labels in row 2, the last one in the last column "
            f"(first expected label {next(iter(SERIES))!r})",
            sheet=SHEET,
            row=LABEL_ROW,
        )
    found = [normalise_label(labels[i]) for i in filled]
    unknown = [str(labels[i]) for i, key in zip(filled, found, strict=True) if key not in _BY_LABEL]
    missing = [label for key, label in _BY_LABEL.items() if key not in found]
    if unknown or missing or len(set(found)) != len(found):
        raise SourceFormatError(
            path,
            f"expected each of the {len(SERIES)} known series labels (jobseekers.SERIES) once "
            f"in row 2; missing {missing}, unexpected {unknown}"
            + ("" if unknown or missing else ", some label appears twice"),
            sheet=SHEET,
            row=LABEL_ROW,
        )
    # Block k spans from the column after the previous label to the label's column.
    block_of = np.searchsorted(filled, np.arange(len(labels)))
    col_label = [_BY_LABEL[found[k]] for k in block_of]
    years = pd.to_numeric(pd.Series(raw.iloc[YEAR_ROW, 1:].to_numpy()), errors="coerce")
    starts = np.r_[0, filled[:-1] + 1]
    expected = None
    for start, stop in zip(starts, filled + 1, strict=True):
        got = years.iloc[start:stop].to_numpy()
        want = np.arange(FIRST_YEAR, FIRST_YEAR + (stop - start))
        if expected is None:
            expected = want
        if len(got) != len(expected) or not np.array_equal(got, expected):
            found_years = raw.iloc[YEAR_ROW, start + 1 : stop + 1].tolist()
            raise SourceFormatError(
                path,
                f"expected the years {FIRST_YEAR}..{expected[-1]} (consecutive) under series "
                f"{col_label[start]!r} in columns {_column_letter(start + 1)}.."
                f"{_column_letter(stop)}, found {found_years}",
                sheet=SHEET,
                row=YEAR_ROW,
            )
    return col_label, years.to_numpy(dtype="int64")


def _attach_codes(
    path: Path, names: pd.Series, municipality_names: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """NIS code of each row name, and a mask of rows that are real areas (not placeholders)."""
    if not {"nis", "name"} <= set(municipality_names.columns):
        raise ValueError("municipality_names needs the columns 'nis' and 'name'")
    dup = municipality_names["name"][municipality_names["name"].duplicated()]
    if len(dup):
        raise ValueError(f"municipality_names has duplicate names {dup.tolist()}")
    mapping = pd.Series(
        municipality_names["nis"].astype(str).to_numpy(),
        index=municipality_names["name"].astype(str).str.strip(),
    )
    clean = names.astype(str).str.strip()
    codes = clean.map(mapping)
    unknown = codes.isna().to_numpy()
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        name = clean.iloc[i]
        close = difflib.get_close_matches(name, mapping.index.tolist(), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise SourceFormatError(
            path,
            f"unknown municipality name {name!r} (expected a name from "
            f"pinc_gemeente_2025_codes_names){hint}",
            sheet=SHEET,
            row=int(names.index[i]),
            column="A",
        )
    codes = codes.to_numpy(dtype=object)
    return codes, ~pd.Series(codes).isin(PLACEHOLDER_CODES).to_numpy()


def read(path: Path, *, municipality_names: pd.DataFrame) -> pd.DataFrame:
    """Tidy observations (see :data:`lsbanalysis.readers.common.OBSERVATION_COLUMNS`).

    ``municipality_names``: columns ``nis, name`` (from
    :func:`lsbanalysis.readers.pinc_lookups.read_codes_names` on
    ``pinc_gemeente_2025_codes_names.xlsx``, including the placeholder rows). Measures are
    those of :data:`SERIES`; geo_version "2025", level municipality, period = year.
    """
    path = Path(path)
    raw = read_workbook(path, [SHEET])[SHEET]
    if raw.shape[0] <= FIRST_DATA_ROW or raw.shape[1] < 2:
        raise SourceFormatError(path, "expected a title, series, year and data rows", sheet=SHEET)
    check_labels(path, [raw.iat[0, 0]], [TITLE], sheet=SHEET, row=0)
    col_label, years = _blocks(path, raw)

    # Data rows: from row 4 down to the first row with an empty column A (the legend follows).
    first_col = raw.iloc[FIRST_DATA_ROW:, 0]
    empty = np.flatnonzero(first_col.isna().to_numpy())
    stop = FIRST_DATA_ROW + (int(empty[0]) if len(empty) else len(first_col))
    if stop == FIRST_DATA_ROW:
        raise SourceFormatError(
            path, "expected municipality rows from row 4, found none", sheet=SHEET, row=3
        )
    names = raw.iloc[FIRST_DATA_ROW:stop, 0]
    codes, is_area = _attach_codes(path, names, municipality_names)
    dup = pd.Series(codes[is_area])[pd.Series(codes[is_area]).duplicated()]
    if len(dup):
        raise SourceFormatError(
            path, f"municipalities listed twice: {dup.tolist()}", sheet=SHEET, column="A"
        )

    block = raw.iloc[FIRST_DATA_ROW:stop, 1:].to_numpy(dtype=object)[is_area]
    rows = np.arange(FIRST_DATA_ROW, stop)[is_area]
    n_rows, n_cols = block.shape
    try:
        values, status = parse_values(pd.Series(block.ravel()), path=path, column="", sheet=SHEET)
    except SourceFormatError as exc:  # re-locate the flat position as sheet row and column
        r, c = divmod(int(exc.row), n_cols)
        raise SourceFormatError(
            path,
            exc.problem,
            sheet=SHEET,
            row=int(rows[r]),
            column=f"{_column_letter(c + 1)} ({col_label[c]} {years[c]})",
        ) from None

    measure = np.array([SERIES[label][0] for label in col_label], dtype=object)
    unit = np.array([SERIES[label][1] for label in col_label], dtype=object)
    unit_flat = np.tile(unit, n_rows)
    percent = unit_flat == "percent"
    values = np.where(percent, np.round(values * 100.0, 6), values)
    out = pd.DataFrame(
        {
            "measure": np.tile(measure, n_rows),
            "nis": np.repeat(codes[is_area], n_cols),
            "period": np.tile(years.astype(str), n_rows),
            "year": np.tile(years, n_rows),
            "value": values,
            "unit": unit_flat,
            "status": status,
        }
    )
    out = finish(out, GEO_VERSION)
    out.attrs["table"] = TITLE  # checked against row 1 above
    return out
