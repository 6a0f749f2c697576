"""Shared parsing of Provincies in Cijfers (PinC) exports: report workbooks and municipal names.

PinC exports have no NIS codes: rows are named after the municipality (Dutch name, 2025 map),
followed by four placeholder rows that are not areas. :func:`attach_codes` joins the names on
the ``name`` column of ``pinc_gemeente_2025_codes_names.xlsx`` (see
:mod:`lsbanalysis.readers.pinc_lookups`); every reader of a PinC export uses it.

:func:`read_report` parses the *report* export to Excel (used by the VDAB jobseeker and vacancy
reports). Layout of its single sheet:

* row 1: the report title;
* row 2: series label, written once in the LAST column of its block of year columns;
* row 3: years (consecutive, the same in every block) per column;
* rows 4..: one row per area, column A the Dutch name, then the placeholder rows, an empty row
  and the legend (special values, unit, source, export date "Datum export").

Special values (PinC legend): ``-`` no value and ``?`` missing value and ``nvt`` not applicable
(all NaN/missing), ``x`` hidden value (NaN/suppressed).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
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

GEO_VERSION = "2025"

#: The PinC placeholder rows at the end of every export: not areas, always skipped.
PLACEHOLDER_NAMES = frozenset(
    {
        "Buiten Vlaanderen en Brussel",
        "Niet te lokaliseren",
        "Niet te lokaliseren - Brussel",
        "Niet te lokaliseren - Vlaanderen",
    }
)

LABEL_ROW, YEAR_ROW, FIRST_DATA_ROW = 1, 2, 3
EXPORT_DATE_LABEL = "Datum export"


def column_letter(col: int) -> str:
    """Excel column letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def attach_codes(
    path: Path,
    names: pd.Series,
    municipality_names: pd.DataFrame,
    *,
    sheet: str | None = None,
    column: str = "A",
) -> tuple[np.ndarray, np.ndarray]:
    """NIS code of each row name, and a mask of rows that are real areas (not placeholders).

    ``names``' index is the 0-based row of each name in the file (for messages). A name that is
    neither a municipality of ``municipality_names`` (columns ``nis, name``) nor a PinC
    placeholder is an error naming the file, row and column, with the closest names as a hint.
    Placeholder rows get code ``""``; an area listed twice is an error.
    """
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
    placeholder = clean.isin(PLACEHOLDER_NAMES).to_numpy()
    codes = clean.map(mapping)
    unknown = codes.isna().to_numpy() & ~placeholder
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        name = clean.iloc[i]
        close = difflib.get_close_matches(name, mapping.index.tolist(), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise SourceFormatError(
            path,
            f"unknown municipality name {name!r} (expected a name from "
            f"pinc_gemeente_2025_codes_names){hint}",
            sheet=sheet,
            row=int(names.index[i]),
            column=column,
        )
    codes = codes.fillna("").to_numpy(dtype=object)
    is_area = ~(placeholder | pd.Series(codes).isin(PLACEHOLDER_CODES).to_numpy())
    seen = pd.Series(codes[is_area])
    twice = seen[seen.duplicated()]
    if len(twice):
        i = int(np.flatnonzero(is_area)[twice.index[0]])
        raise SourceFormatError(
            path,
            f"municipality {clean.iloc[i]!r} ({twice.iloc[0]}) is listed twice",
            sheet=sheet,
            row=int(names.index[i]),
            column=column,
        )
    return codes, is_area


def _blocks(
    path: Path,
    raw: pd.DataFrame,
    *,
    sheet: str,
    labels: list[str],
    first_year: int,
) -> tuple[list[str], np.ndarray]:
    """Series label and year of each value column (columns 1..), validated against ``labels``."""
    cells = raw.iloc[LABEL_ROW, 1:].to_numpy(dtype=object)
    filled = np.flatnonzero(pd.notna(cells))
    if not len(filled) or filled[-1] != len(cells) - 1:
        raise SourceFormatError(
            path,
            "expected series labels in row 2, the last one in the last column "
            f"(first expected label {labels[0]!r})",
            sheet=sheet,
            row=LABEL_ROW,
        )
    by_label = {normalise_label(label): label for label in labels}
    found = [normalise_label(cells[i]) for i in filled]
    unknown = [str(cells[i]) for i, key in zip(filled, found, strict=True) if key not in by_label]
    missing = [label for key, label in by_label.items() if key not in found]
    if unknown or missing or len(set(found)) != len(found):
        shown = unknown if len(unknown) <= 5 else [*unknown[:5], f"... ({len(unknown)} in all)"]
        raise SourceFormatError(
            path,
            f"expected each of the {len(labels)} known series labels once in row 2; "
            f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}, unexpected {shown}"
            + ("" if unknown or missing else ", some label appears twice"),
            sheet=sheet,
            row=LABEL_ROW,
        )
    # Block k spans from the column after the previous label to the label's column.
    block_of = np.searchsorted(filled, np.arange(len(cells)))
    col_label = [by_label[found[k]] for k in block_of]
    years = pd.to_numeric(pd.Series(raw.iloc[YEAR_ROW, 1:].to_numpy()), errors="coerce")
    starts = np.r_[0, filled[:-1] + 1]
    expected = None
    for start, stop in zip(starts, filled + 1, strict=True):
        got = years.iloc[start:stop].to_numpy()
        want = np.arange(first_year, first_year + (stop - start))
        if expected is None:
            expected = want
        if len(got) != len(expected) or not np.array_equal(got, expected):
            found_years = raw.iloc[YEAR_ROW, start + 1 : stop + 1].tolist()
            raise SourceFormatError(
                path,
                f"expected the years {first_year}..{expected[-1]} (consecutive) under series "
                f"{col_label[start]!r} in columns {column_letter(start + 1)}.."
                f"{column_letter(stop)}, found {found_years}",
                sheet=sheet,
                row=YEAR_ROW,
            )
    return col_label, years.to_numpy(dtype="int64")


def _export_date(raw: pd.DataFrame, stop: int) -> str | None:
    """The "Datum export" written in the legend below the data, if any."""
    legend = raw.iloc[stop:, :2]
    hit = legend[legend.iloc[:, 0].map(normalise_label) == normalise_label(EXPORT_DATE_LABEL)]
    if hit.empty or pd.isna(hit.iat[0, 1]):
        return None
    return str(hit.iat[0, 1]).strip()


def read_report(
    path: Path,
    *,
    sheet: str,
    title: str,
    series: dict[str, tuple[str, str]],
    municipality_names: pd.DataFrame,
    ignored: Iterable[str] = (),
    first_year: int = 2014,
    percent_from_fraction: bool = False,
) -> pd.DataFrame:
    """Tidy observations of a PinC report workbook (one row per area, measure and year).

    ``series`` maps the verbatim row-2 label of every series to store to ``(measure id,
    unit)``; ``ignored`` lists the labels the report also holds but that are not stored. Every
    label in the sheet must be one of these two, each exactly once. With
    ``percent_from_fraction``, "percent" series published as fractions (0.049) are stored in
    percent (4.9). Placeholder rows are dropped; level municipality, geo_version "2025",
    period = year. ``attrs["table"]`` is the title in row 1, ``attrs["exported"]`` the export
    date written in the legend.
    """
    path = Path(path)
    raw = read_workbook(path, [sheet])[sheet]
    if raw.shape[0] <= FIRST_DATA_ROW or raw.shape[1] < 2:
        raise SourceFormatError(path, "expected a title, series, year and data rows", sheet=sheet)
    check_labels(path, [raw.iat[0, 0]], [title], sheet=sheet, row=0)
    ignored = list(ignored)
    col_label, years = _blocks(
        path, raw, sheet=sheet, labels=[*series, *ignored], first_year=first_year
    )
    keep = np.array([label in series for label in col_label])

    # Data rows: from row 4 down to the first row with an empty column A (the legend follows).
    first_col = raw.iloc[FIRST_DATA_ROW:, 0]
    empty = np.flatnonzero(first_col.isna().to_numpy())
    stop = FIRST_DATA_ROW + (int(empty[0]) if len(empty) else len(first_col))
    if stop == FIRST_DATA_ROW:
        raise SourceFormatError(
            path, "expected municipality rows from row 4, found none", sheet=sheet, row=3
        )
    names = raw.iloc[FIRST_DATA_ROW:stop, 0]
    codes, is_area = attach_codes(path, names, municipality_names, sheet=sheet)

    columns = np.flatnonzero(keep)
    block = raw.iloc[FIRST_DATA_ROW:stop, 1:].to_numpy(dtype=object)[is_area][:, columns]
    rows = np.arange(FIRST_DATA_ROW, stop)[is_area]
    n_rows, n_cols = block.shape
    try:
        values, status = parse_values(pd.Series(block.ravel()), path=path, column="", sheet=sheet)
    except SourceFormatError as exc:  # re-locate the flat position as sheet row and column
        r, c = divmod(int(exc.row), n_cols)
        col = int(columns[c])
        raise SourceFormatError(
            path,
            exc.problem,
            sheet=sheet,
            row=int(rows[r]),
            column=f"{column_letter(col + 1)} ({col_label[col]} {years[col]})",
        ) from None

    kept_labels = [col_label[c] for c in columns]
    measure = np.array([series[label][0] for label in kept_labels], dtype=object)
    unit = np.array([series[label][1] for label in kept_labels], dtype=object)
    unit_flat = np.tile(unit, n_rows)
    if percent_from_fraction:
        percent = unit_flat == "percent"
        values = np.where(percent, np.round(values * 100.0, 6), values)
    kept_years = years[columns]
    out = pd.DataFrame(
        {
            "measure": np.tile(measure, n_rows),
            "nis": np.repeat(codes[is_area], n_cols),
            "period": np.tile(kept_years.astype(str), n_rows),
            "year": np.tile(kept_years, n_rows),
            "value": values,
            "unit": unit_flat,
            "status": status,
        }
    )
    out = finish(out, GEO_VERSION)
    out.attrs["table"] = str(raw.iat[0, 0]).strip()
    exported = _export_date(raw, stop)
    if exported:
        out.attrs["exported"] = exported
    return out
