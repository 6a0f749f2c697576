"""Reader for Statbel "Vastgoedprijzen" (real-estate sale prices), yearly and quarterly workbooks.

Two Dutch-language workbooks share one layout:

* ``NL_immo_statbel_jaar.xlsx``: yearly figures (``periode`` ``Y``) on five sheets, one per
  geographic level: ``België``, ``Per gewest``, ``Per provincie``, ``Per arrondissement`` and
  ``Per gemeente``.
* ``NL_immo_statbel_kwartaal_per_gemeente.xlsx``: quarterly figures (``periode`` ``Q1``..``Q4``)
  on the single sheet ``Per gemeente``.

Every sheet has a 3-row header: a title row, a category row and a measure row. Columns 0-3 are
``refnis, lokaliteit, jaar, periode``; four property categories follow at columns 5, 10, 15 and
20, each with ``aantal transacties, mediaan prijs, eerste kwartiel prijs, derde kwartiel prijs``
(a blank spacer column separates the categories). Codes follow the 2025 municipal geography.

Statbel leaves a price empty when a municipality had too few sales; such a cell becomes NaN with
status ``suppressed`` as long as the number of sales is published. An empty count (and the empty
prices beside it) becomes NaN with status ``missing``. Nothing is turned into zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.nis import levels_of
from lsbanalysis.readers.common import (
    check_labels,
    finish,
    parse_nis_codes,
    parse_values,
    read_workbook,
)

GEO_VERSION = "2025"

#: Sheet name -> the geographic level of every code on it.
LEVEL_SHEETS = {
    "België": "country",
    "Per gewest": "region",
    "Per provincie": "province",
    "Per arrondissement": "arrondissement",
    "Per gemeente": "municipality",
}
MUNICIPAL_SHEET = "Per gemeente"

#: (first column, category label in the header, measure-id suffix)
CATEGORIES = (
    (5, "Alle huizen met 2, 3, 4 of meer gevels", "houses"),
    (10, "Huizen met 2 of 3 gevels", "houses_2_3_facades"),
    (15, "Huizen met 4 of meer gevels", "houses_4plus_facades"),
    (20, "Appartementen", "apartments"),
)
#: (offset from the category's first column, measure label in the header, measure prefix, unit)
MEASURES = (
    (0, "aantal transacties", "sales", "count"),
    (1, "mediaan prijs", "price_median", "eur"),
    (2, "eerste kwartiel prijs", "price_q1", "eur"),
    (3, "derde kwartiel prijs", "price_q3", "eur"),
)
MEASURE_IDS = tuple(
    f"{prefix}_{suffix}" for _, _, suffix in CATEGORIES for _, _, prefix, _ in MEASURES
)

HEADER_ROWS = 3
ID_LABELS = ("refnis", "lokaliteit", "jaar", "periode")
N_COLUMNS = CATEGORIES[-1][0] + len(MEASURES)  # the last value column is 23
QUARTERS = ("Q1", "Q2", "Q3", "Q4")

STATUS_NAMES = ("ok", "suppressed", "missing")
OK, SUPPRESSED, MISSING = range(3)


def _expected_headers() -> tuple[list[str | None], list[str | None]]:
    category_row: list[str | None] = [None] * N_COLUMNS
    measure_row: list[str | None] = [None] * N_COLUMNS
    measure_row[: len(ID_LABELS)] = list(ID_LABELS)
    for start, label, _ in CATEGORIES:
        category_row[start] = label
        for offset, measure_label, _, _ in MEASURES:
            measure_row[start + offset] = measure_label
    return category_row, measure_row


CATEGORY_ROW, MEASURE_ROW = _expected_headers()


def read(path: Path) -> pd.DataFrame:
    """Read a Statbel real-estate price workbook (yearly or quarterly) into tidy observations.

    Measures, for each category suffix ``houses`` (all houses with 2, 3, 4 or more façades,
    excluding apartments), ``houses_2_3_facades``, ``houses_4plus_facades`` and ``apartments``:
    ``sales_<cat>`` (count), ``price_median_<cat>``, ``price_q1_<cat>`` and ``price_q3_<cat>``
    (eur). Periods are ``"2024"`` for yearly rows and ``"2024-Q1"`` for quarterly rows.
    """
    path = Path(path)
    sheets = read_workbook(path)
    if MUNICIPAL_SHEET not in sheets:
        raise SourceFormatError(
            path,
            f"sheet {MUNICIPAL_SHEET!r} not found; expected a Statbel real-estate price workbook "
            f"with sheets {list(LEVEL_SHEETS)} (yearly) or {[MUNICIPAL_SHEET]} (quarterly), "
            f"found {list(sheets)}",
        )
    municipal = _read_sheet(path, MUNICIPAL_SHEET, sheets[MUNICIPAL_SHEET])
    quarterly = municipal["quarterly"]
    if not quarterly:
        missing = [name for name in LEVEL_SHEETS if name not in sheets]
        if missing:
            raise SourceFormatError(
                path,
                f"yearly workbook lacks the sheet(s) {missing}; expected sheets "
                f"{list(LEVEL_SHEETS)}, found {list(sheets)}",
            )
    parts = []
    for name in LEVEL_SHEETS:
        if name == MUNICIPAL_SHEET:
            parts.append(municipal)
        elif name in sheets:
            part = _read_sheet(path, name, sheets[name])
            if part["quarterly"] != quarterly:
                kind = "quarterly" if quarterly else "yearly"
                raise SourceFormatError(
                    path,
                    f"expected {kind} periods (periode {'Q1-Q4' if quarterly else 'Y'}) as on "
                    f"sheet {MUNICIPAL_SHEET!r}",
                    sheet=name,
                )
            parts.append(part)
    out = finish(_tidy(parts), GEO_VERSION)
    # What the file says it is (periode Y or Q1-Q4), for the build's edition check.
    out.attrs["frequency"] = "quarter" if quarterly else "year"
    return out


def _tidy(parts: list[dict]) -> pd.DataFrame:
    """Stack the per-sheet arrays into tidy rows (measure-major), building strings only once."""
    nis = np.concatenate([part["nis"] for part in parts])
    period = np.concatenate([part["period"] for part in parts])
    year = np.concatenate([part["year"] for part in parts])
    values = np.concatenate([part["values"] for part in parts], axis=1)
    status = np.concatenate([part["status"] for part in parts], axis=1)
    n_measures, n = values.shape
    measure_codes = np.repeat(np.arange(n_measures), n)
    units = [unit for _ in CATEGORIES for _, _, _, unit in MEASURES]
    return pd.DataFrame(
        {
            "measure": _take_str(MEASURE_IDS, measure_codes),
            "nis": _tile_str(nis, n_measures),
            "period": _tile_str(period, n_measures),
            "year": np.tile(year, n_measures),
            "value": values.ravel(),
            "unit": _take_str(units, measure_codes),
            "status": _take_str(STATUS_NAMES, status.ravel()),
        }
    )


def _take_str(labels: Sequence[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``labels[codes]`` as a pandas string array, without creating a Python object per row."""
    return pd.array(np.asarray(labels, dtype=object), dtype="str").take(codes)


def _tile_str(items: np.ndarray, reps: int) -> pd.api.extensions.ExtensionArray:
    codes, uniques = pd.factorize(items)
    return _take_str(uniques, np.tile(codes, reps))


def _read_sheet(path: Path, sheet: str, raw: pd.DataFrame) -> dict:
    """Check one sheet's header and parse its rows into arrays (codes, periods, values, status)."""
    if len(raw) < HEADER_ROWS:
        raise SourceFormatError(
            path,
            f"expected a {HEADER_ROWS}-row header and data rows, found {len(raw)} row(s)",
            sheet=sheet,
        )
    if raw.shape[1] < N_COLUMNS:
        raise SourceFormatError(
            path, f"expected at least {N_COLUMNS} columns, found {raw.shape[1]}", sheet=sheet
        )
    check_labels(path, list(raw.iloc[1]), CATEGORY_ROW, sheet=sheet, row=1)
    check_labels(path, list(raw.iloc[2]), MEASURE_ROW, sheet=sheet, row=2)

    body = raw.iloc[HEADER_ROWS:, :N_COLUMNS]
    # Drop blank rows (trailing empty rows, spacer rows); anything else must be a data row.
    body = body[body.notna().any(axis=1).to_numpy()]
    if body.empty:
        raise SourceFormatError(path, "no data rows below the header", sheet=sheet)
    # 0-based sheet row of each body row, for messages (blank rows may leave gaps).
    row_of = np.flatnonzero(raw.index.isin(body.index))

    nis = _codes(path, sheet, body.iloc[:, 0], row_of)
    level = LEVEL_SHEETS[sheet]
    levels = levels_of(nis).to_numpy()
    wrong = np.flatnonzero(levels != level)
    if len(wrong):
        i = int(wrong[0])
        raise SourceFormatError(
            path,
            f"expected only {level} codes on this sheet, found {nis.iloc[i]!r} ({levels[i]})",
            sheet=sheet,
            row=int(row_of[i]),
            column="A (refnis)",
        )

    year = _years(path, sheet, body.iloc[:, 2], row_of)
    periode = body.iloc[:, 3].astype(object).where(body.iloc[:, 3].notna(), "")
    periode = periode.astype(str).str.strip().str.upper().to_numpy()
    is_year = periode == "Y"
    is_quarter = np.isin(periode, QUARTERS)
    bad = np.flatnonzero(~(is_year | is_quarter))
    if len(bad):
        i = int(bad[0])
        raise SourceFormatError(
            path,
            f"expected periode 'Y' or 'Q1'..'Q4', found {body.iloc[i, 3]!r}",
            sheet=sheet,
            row=int(row_of[i]),
            column="D (periode)",
        )
    if is_year.any() and is_quarter.any():
        i = int(np.flatnonzero(is_quarter if is_year[0] else is_year)[0])
        raise SourceFormatError(
            path,
            "yearly (Y) and quarterly (Q1-Q4) rows are mixed on one sheet",
            sheet=sheet,
            row=int(row_of[i]),
            column="D (periode)",
        )
    quarterly = bool(is_quarter[0])
    year_text = year.astype(str)
    period = (
        np.char.add(np.char.add(year_text, "-"), periode.astype(str)) if quarterly else year_text
    )

    keys = pd.DataFrame({"nis": nis.to_numpy(), "period": period})
    dup = np.flatnonzero(keys.duplicated().to_numpy())
    if len(dup):
        i = int(dup[0])
        raise SourceFormatError(
            path,
            f"duplicate row for refnis {nis.iloc[i]} and period {period[i]}",
            sheet=sheet,
            row=int(row_of[i]),
        )

    n = len(body)
    values = np.empty((len(MEASURE_IDS), n), dtype="float64")
    status = np.empty((len(MEASURE_IDS), n), dtype=np.int8)
    k = 0
    for start, _, suffix in CATEGORIES:
        count_values = count_status = None
        for offset, label, _, _ in MEASURES:
            column = f"{_letter(start + offset)} ({label}, {suffix})"
            vals, stat = _values(path, sheet, body.iloc[:, start + offset], row_of, column)
            if offset == 0:
                count_values, count_status = vals, stat
            else:
                # An empty price next to a published, non-zero count is Statbel's suppression.
                published = (count_status == OK) & (count_values > 0)
                stat = np.where((stat == MISSING) & published, SUPPRESSED, stat).astype(np.int8)
            values[k], status[k] = vals, stat
            k += 1
    return {
        "quarterly": quarterly,
        "nis": nis.to_numpy(dtype=object),
        "period": period.astype(object),
        "year": year,
        "values": values,
        "status": status,
    }


def _letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _status_codes(status: np.ndarray) -> np.ndarray:
    """Status names (from parse_values) as int8 codes into STATUS_NAMES."""
    codes = np.full(len(status), OK, dtype=np.int8)
    codes[status == "suppressed"] = SUPPRESSED
    codes[status == "missing"] = MISSING
    return codes


def _codes(path: Path, sheet: str, cells: pd.Series, row_of: np.ndarray) -> pd.Series:
    """Normalise the refnis column; each distinct code is checked once (codes repeat per period)."""
    codes, uniques = pd.factorize(cells.to_numpy(dtype=object), use_na_sentinel=False)
    try:
        parsed = parse_nis_codes(pd.Series(uniques, dtype=object), path=path, sheet=sheet)
    except SourceFormatError as exc:
        first = int(np.flatnonzero(codes == exc.row)[0])
        raise SourceFormatError(
            path, exc.problem, sheet=sheet, row=int(row_of[first]), column="A (refnis)"
        ) from None
    return pd.Series(parsed.to_numpy(dtype=object)[codes], index=cells.index, dtype=object)


def _values(
    path: Path, sheet: str, cells: pd.Series, row_of: np.ndarray, column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Values and int8 status codes of one column, with :func:`parse_values`' rules.

    Numbers and empty cells (most prices in the quarterly file) are handled here without text
    processing; only the remaining cells go through ``parse_values`` (tokens and errors).
    """
    raw = cells.to_numpy(dtype=object)
    values = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy("float64")
    status = np.full(len(raw), OK, dtype=np.int8)
    bad = np.flatnonzero(np.isnan(values))
    if len(bad):
        empty = pd.isna(raw[bad])
        status[bad[empty]] = MISSING
        text = bad[~empty]
        if len(text):
            try:
                _, text_status = parse_values(
                    pd.Series(raw[text], dtype=object), path=path, column=column, sheet=sheet
                )
            except SourceFormatError as exc:
                raise SourceFormatError(
                    path, exc.problem, sheet=sheet, row=int(row_of[text[exc.row]]), column=column
                ) from None
            status[text] = _status_codes(text_status)
    return values, status


def _years(path: Path, sheet: str, cells: pd.Series, row_of: np.ndarray) -> np.ndarray:
    """Parse the ``jaar`` column (text such as "2024") into integers."""
    values = pd.to_numeric(cells.astype(object), errors="coerce").to_numpy(dtype="float64")
    ok = np.isfinite(values) & (values == np.round(values)) & (values >= 1900) & (values <= 2100)
    bad = np.flatnonzero(~ok)
    if len(bad):
        i = int(bad[0])
        raise SourceFormatError(
            path,
            f"expected a year such as 2024, found {cells.iloc[i]!r}",
            sheet=sheet,
            row=int(row_of[i]),
            column="C (jaar)",
        )
    return values.astype("int64")
