"""Shared helpers for the source readers: opening workbooks, checking layouts, parsing cells.

Every reader returns *tidy observations*: one row per (measure, NIS code, period) with the
columns in :data:`OBSERVATION_COLUMNS`. Suppressed or unpublished cells become NaN with a
``status`` of ``suppressed`` or ``missing``; they are never turned into zero.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.nis import levels_of, normalise_nis

OBSERVATION_COLUMNS = [
    "measure",  # measure id, e.g. "declarations_nonzero"
    "nis",  # 5-character NIS code
    "level",  # country / region / community / province / arrondissement / municipality
    "geo_version",  # municipal geography of the codes: "1977", "2019" or "2025"
    "period",  # "2022" (year), "2024-Q1" (quarter) or "2025-M01-M07" (months, year to date)
    "year",  # int, the calendar or income year the period falls in
    "value",  # float; NaN when suppressed or missing
    "unit",  # count / eur / percent / km2 / per_km2 / index / ratio / per_1000 / m2 / m3
    "status",  # ok / suppressed / missing
]
STATUSES = ("ok", "suppressed", "missing")

# Tokens publishers use for cells without a value. Statbel: "*" confidential; VDAB/Provincies in
# Cijfers: "x" hidden, "-" no value, "?" missing, "nvt" not applicable.
SUPPRESSED_TOKENS = frozenset({"*", "x", "X"})
MISSING_TOKENS = frozenset({"", "-", "?", "nvt", "n.v.t.", "."})


def normalise_label(text: object) -> str:
    """Lower-case, accent-free, single-spaced text for comparing header labels."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    folded = unicodedata.normalize("NFKD", str(text))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", folded).strip().casefold()


def read_workbook(
    path: Path, sheets: Sequence[str | int] | None = None, *, header: int | None = None
) -> dict[str | int, pd.DataFrame]:
    """Read sheets of an .xls/.xlsx workbook with calamine, as raw cells (no header parsing).

    Raises SourceFormatError naming the file when it is missing, empty, not a workbook, or
    lacks one of the requested sheets.
    """
    path = Path(path)
    if not path.exists():
        raise SourceFormatError(path, "file not found")
    if path.stat().st_size == 0:
        raise SourceFormatError(path, "file is empty (0 bytes); expected an Excel workbook")
    try:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise SourceFormatError(
            path, f"cannot be opened as an Excel workbook ({type(exc).__name__}: {exc})"
        ) from exc
    names = list(book.sheet_names)
    wanted = names if sheets is None else list(sheets)
    out: dict[str | int, pd.DataFrame] = {}
    for key in wanted:
        name = names[key] if isinstance(key, int) and key < len(names) else key
        if name not in names:
            raise SourceFormatError(
                path, f"sheet {key!r} not found; the workbook has sheets {names}"
            )
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        # calamine returns "" for empty cells; pandas code below expects NaN there. Replacing
        # them in one 2-D object array is about twice as fast as DataFrame.replace.
        cells = np.array(rows, dtype=object) if rows else np.empty((0, 0), dtype=object)
        if cells.ndim == 2:
            cells[cells == ""] = np.nan
            frame = pd.DataFrame(cells, dtype=object)
        else:  # ragged rows (not produced by calamine, but be safe)
            frame = pd.DataFrame(rows, dtype=object).replace("", np.nan)
        if header is not None:
            frame.columns = frame.iloc[header]
            frame = frame.iloc[header + 1 :]
        out[key] = frame
    return out


def check_labels(
    path: Path,
    actual: Sequence[object],
    expected: Sequence[str | None],
    *,
    sheet: str | None = None,
    row: int | None = None,
) -> None:
    """Fail unless each non-None expected label is a prefix of the actual cell at that position.

    Labels are compared with :func:`normalise_label`, so case, accents and spacing do not
    matter, but a moved or renamed column does.
    """
    for pos, want in enumerate(expected):
        if want is None:
            continue
        got = actual[pos] if pos < len(actual) else None
        if not normalise_label(got).startswith(normalise_label(want)):
            found = repr(got) if normalise_label(got) else "an empty cell"
            raise SourceFormatError(
                path,
                f"expected header {want!r} in column {pos + 1}, found {found}",
                sheet=sheet,
                row=row,
            )


def parse_values(
    cells: pd.Series,
    *,
    path: Path,
    column: str,
    sheet: str | None = None,
    row_offset: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Turn raw cells into (float values, status) arrays.

    Numbers stay numbers; suppression tokens give NaN/"suppressed"; empty and "-" give
    NaN/"missing". Anything else (stray text) is an error naming the file, row and column.
    ``row_offset`` is the 0-based sheet row of ``cells``' first element, for messages.
    """
    raw = cells.to_numpy(dtype=object)
    values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64")
    status = np.full(len(raw), "ok", dtype=object)
    bad = np.flatnonzero(np.isnan(values))
    if len(bad):
        cand = pd.Series(raw[bad], dtype=object)
        tokens = cand.where(cand.notna(), "").astype(str).str.strip()
        suppressed = tokens.isin(SUPPRESSED_TOKENS).to_numpy()
        missing = tokens.isin(MISSING_TOKENS).to_numpy() | tokens.str.lower().eq("nan").to_numpy()
        garbage = ~(suppressed | missing)
        if garbage.any():
            first = int(np.flatnonzero(garbage)[0])
            raise SourceFormatError(
                path,
                f"expected a number or a suppression mark (*, x, -), found {raw[bad[first]]!r}",
                sheet=sheet,
                row=row_offset + int(bad[first]),
                column=column,
            )
        status[bad[suppressed]] = "suppressed"
        status[bad[missing]] = "missing"
    return values, status


def parse_nis_codes(
    cells: pd.Series, *, path: Path, sheet: str | None = None, row_offset: int = 0
) -> pd.Series:
    """Normalise a column of NIS codes to 5-character strings, failing on the first bad one."""
    out = []
    for i, cell in enumerate(cells.to_numpy(dtype=object)):
        try:
            out.append(normalise_nis(cell))
        except ValueError as exc:
            raise SourceFormatError(
                path, str(exc), sheet=sheet, row=row_offset + i, column="NIS code"
            ) from None
    return pd.Series(out, index=cells.index, dtype=object)


def tidy_from_wide(
    wide: pd.DataFrame,
    measures: dict[object, tuple[str, str]],
    *,
    path: Path,
    geo_version: str,
    period: str | pd.Series,
    year: int | pd.Series,
    sheet: str | None = None,
    row_offset: int = 0,
) -> pd.DataFrame:
    """Melt a frame with a ``nis`` column and one raw column per measure into tidy rows.

    ``measures`` maps a column of ``wide`` to ``(measure id, unit)``. ``period``/``year``
    may be scalars or per-row Series aligned with ``wide``. ``row_offset`` is the 0-based
    sheet row of ``wide``'s first row (rows must be contiguous), used in error messages.
    """
    n, k = len(wide), len(measures)
    values = np.empty(n * k, dtype="float64")
    status = np.empty(n * k, dtype=object)
    for j, col in enumerate(measures):
        if col not in wide.columns:
            raise SourceFormatError(path, f"expected column {col!r}", sheet=sheet)
        values[j * n : (j + 1) * n], status[j * n : (j + 1) * n] = parse_values(
            wide[col], path=path, column=str(col), sheet=sheet, row_offset=row_offset
        )
    # Melt without one frame per measure: the repeated string columns are built as Arrow
    # dictionary arrays, which is several times faster than broadcasting Python strings.
    by_measure = np.repeat(np.arange(k), n)
    nis_codes, nis_labels = pd.factorize(
        np.asarray(wide["nis"], dtype=object), use_na_sentinel=False
    )
    if np.ndim(period) == 0:
        period_col = _repeated_strings(np.zeros(n * k, dtype=np.int64), [period])
    else:
        p_codes, p_labels = pd.factorize(np.asarray(period, dtype=object), use_na_sentinel=False)
        period_col = _repeated_strings(np.tile(p_codes, k), p_labels)
    year_col = np.full(n * k, year) if np.ndim(year) == 0 else np.tile(np.asarray(year), k)
    status_codes, status_labels = pd.factorize(status, use_na_sentinel=False)
    out = pd.DataFrame(
        {
            "measure": _repeated_strings(by_measure, [m for m, _ in measures.values()]),
            "nis": _repeated_strings(np.tile(nis_codes, k), nis_labels),
            "period": period_col,
            "year": year_col,
            "value": values,
            "unit": _repeated_strings(by_measure, [u for _, u in measures.values()]),
            "status": _repeated_strings(status_codes, status_labels),
        }
    )
    return finish(out, geo_version)


def _repeated_strings(codes: np.ndarray, labels: Sequence[object]) -> pd.Series:
    """A str Series holding ``labels[codes]`` (NaN labels stay NaN), built via Arrow."""
    import pyarrow as pa

    texts = [
        None if x is None or (isinstance(x, float) and np.isnan(x)) else str(x) for x in labels
    ]
    array = pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes, dtype="int32")), pa.array(texts, type=pa.large_string())
    ).cast(pa.large_string())
    return pd.Series(array, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def finish(frame: pd.DataFrame, geo_version: str) -> pd.DataFrame:
    """Add ``level`` and ``geo_version`` and return the columns in canonical order and dtypes."""
    frame = frame.copy()
    frame["nis"] = frame["nis"].astype(str)
    # One level_of call per distinct code (vectorised over the, often many, repeated codes).
    codes, uniques = pd.factorize(frame["nis"], use_na_sentinel=False)
    levels = _repeated_strings(codes, list(levels_of(pd.Series(uniques, dtype=object))))
    frame["level"] = levels.array  # positional: ``frame`` may have any index
    frame["geo_version"] = geo_version
    frame["year"] = frame["year"].astype("int64")
    frame["period"] = frame["period"].astype(str)
    frame["value"] = frame["value"].astype("float64")
    return frame[OBSERVATION_COLUMNS]
