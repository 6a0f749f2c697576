"""Provincies in Cijfers CSV exports (indicator × year per municipality), e.g. nieuwkomers.

Files: ``migration_diversity/pinc_*.csv``, see ``migration_diversity/SOURCES.md``. Layout:

* UTF-8 (in practice ASCII) text, ``;``-separated, fields optionally in double quotes;
* header ``"gemeenten"`` then one column per indicator and year, ``"<indicator label>|<year>"``,
  the years of an indicator consecutive;
* one row per municipality (Dutch name, 2025 map, no NIS codes), then the four PinC
  placeholder rows (skipped); there is no footer, hence no export date;
* decimal comma (``6,5``); special values ``-`` (no value) and ``?`` (missing value) and empty
  cells give NaN/missing, ``x`` (hidden value) NaN/suppressed. Anything else is an error.

Names are joined on ``pinc_gemeente_2025_codes_names.xlsx`` with
:func:`lsbanalysis.readers.pinc.attach_codes` (the jobseekers reader's matching). The 19 Brussels
municipalities are kept: they are missing (``-``/``?``) except where PinC publishes a value (the
pupils' home-language shares for Brussels residents in Dutch-language education).

Each export is declared in :data:`EXPORTS` (keyed by the source id of ``sources.toml``) with
its verbatim indicator labels, so a file placed under the wrong source is detected. Level
municipality, geo_version "2025", period = year as labelled in the header.
``attrs["table"]`` holds the indicator labels of the file, joined by ``"; "``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import pinc
from lsbanalysis.readers.common import MISSING_TOKENS, SUPPRESSED_TOKENS, finish, normalise_label

GEO_VERSION = pinc.GEO_VERSION
NAME_HEADER = "gemeenten"

#: Export (source id) -> verbatim indicator label -> (measure id, unit), in the file's order.
EXPORTS: dict[str, dict[str, tuple[str, str]]] = {
    "pinc_newcomers": {"nieuwkomers": ("newcomers", "count")},
    "pinc_newcomers_non_eu": {"nieuwkomers niet-EU": ("newcomers_non_eu", "count")},
    "pinc_newcomers_per_1000": {
        "nieuwkomers per 1.000 inwoners 18+ jaar": ("newcomers_per_1000_adults", "per_1000"),
    },
    "pinc_newcomers_non_eu_per_1000": {
        "nieuwkomers niet-EU per 1.000 inwoners 18+ jaar niet-EU": (
            "newcomers_non_eu_per_1000_non_eu_adults",
            "per_1000",
        ),
    },
    "pinc_home_language_origin": {
        "leerlingen basisonderwijs die thuis geen Nederlands spreken (t.o.v. lln bo) - WP": (
            "pupils_primary_home_language_not_dutch_pct",
            "percent",
        ),
        "leerlingen secundair onderwijs die thuis geen Nederlands spreken (t.o.v. lln so) - WP": (
            "pupils_secondary_home_language_not_dutch_pct",
            "percent",
        ),
        "0-24 jaar totaal niet-Belgische herkomst": ("youth_0_24_non_belgian_origin", "count"),
        "0-24 jaar Maghreb herkomst (t.o.v. 0-24 jaar)": (
            "youth_0_24_origin_maghreb_pct",
            "percent",
        ),
        "0-24 jaar Turkse herkomst (t.o.v. 0-24 jaar)": (
            "youth_0_24_origin_turkish_pct",
            "percent",
        ),
        "0-24 jaar Oost-Europese (niet-EU) herkomst (t.o.v. 0-24 jaar)": (
            "youth_0_24_origin_eastern_europe_non_eu_pct",
            "percent",
        ),
        "0-24 jaar andere Afrikaanse herkomst (t.o.v. 0-24 jaar)": (
            "youth_0_24_origin_other_african_pct",
            "percent",
        ),
    },
}

_NUMBER = re.compile(r"^-?\d+(,\d+)?$")
_HEADER = re.compile(r"^(?P<label>.+)\|(?P<year>\d{4})$")


def _rows(path: Path) -> list[list[str]]:
    if not path.exists():
        raise SourceFormatError(path, "file not found")
    data = path.read_bytes()
    if not data.strip():
        raise SourceFormatError(path, "file is empty; expected a Provincies in Cijfers CSV export")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n")
        raise SourceFormatError(
            path,
            f"is not UTF-8 text (byte {data[exc.start]:#04x} at position {exc.start}); expected "
            "a Provincies in Cijfers CSV export",
            row=line,
        ) from None
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"'))


def _header(path: Path, header: list[str], export: str) -> tuple[list[str], np.ndarray]:
    """Indicator label and year of every value column, checked against the export's labels."""
    expected = EXPORTS[export]
    if not header or normalise_label(header[0]) != NAME_HEADER or len(header) < 2:
        raise SourceFormatError(
            path,
            f"expected a ';'-separated header starting with {NAME_HEADER!r} and "
            f"'<indicator>|<year>' columns, found {';'.join(header)[:80]!r}",
            row=0,
        )
    labels, years = [], []
    for pos, cell in enumerate(header[1:], start=2):
        match = _HEADER.match(cell.strip())
        if not match:
            raise SourceFormatError(
                path, f"expected a header '<indicator>|<year>', found {cell!r}", row=0,
                column=f"column {pos}",
            )
        labels.append(match["label"].strip())
        years.append(int(match["year"]))
    found = list(dict.fromkeys(labels))
    by_label = {normalise_label(label): label for label in expected}
    if [normalise_label(x) for x in found] != list(by_label):
        others = [
            other for other, series in EXPORTS.items()
            if [normalise_label(x) for x in found] == [normalise_label(s) for s in series]
        ]
        hint = f"; this looks like the export {others[0]!r}" if others else ""
        raise SourceFormatError(
            path,
            f"expected the indicator(s) {list(expected)} (export {export!r}) in the header, "
            f"found {found}{hint}",
            row=0,
        )
    labels = [by_label[normalise_label(x)] for x in labels]
    years_arr = np.array(years, dtype="int64")
    for label in expected:
        cols = [i for i, x in enumerate(labels) if x == label]
        got = years_arr[cols]
        contiguous = cols == list(range(cols[0], cols[0] + len(cols)))
        if not contiguous or not np.array_equal(got, np.arange(got[0], got[0] + len(got))):
            raise SourceFormatError(
                path,
                f"expected consecutive years in adjacent columns for {label!r}, found "
                f"{got.tolist()} in columns {[c + 2 for c in cols]}",
                row=0,
            )
    return labels, years_arr


def _parse(path: Path, cells: np.ndarray, rows: np.ndarray, columns: list[str]) -> tuple:
    """Float values and status of a 2-D array of raw text cells (decimal comma)."""
    flat = pd.Series(cells.ravel(), dtype=object).str.strip()
    number = flat.str.match(_NUMBER).to_numpy()
    values = np.full(len(flat), np.nan)
    values[number] = flat[number].str.replace(",", ".", regex=False).astype(float).to_numpy()
    status = np.full(len(flat), "ok", dtype=object)
    suppressed = flat.isin(SUPPRESSED_TOKENS).to_numpy() & ~number
    missing = flat.isin(MISSING_TOKENS).to_numpy() & ~number
    status[suppressed] = "suppressed"
    status[missing] = "missing"
    bad = ~(number | suppressed | missing)
    if bad.any():
        r, c = divmod(int(np.flatnonzero(bad)[0]), cells.shape[1])
        raise SourceFormatError(
            path,
            f"expected a number with a decimal comma or a special value (-, x, ?), found "
            f"{cells[r, c]!r}",
            row=int(rows[r]),
            column=columns[c],
        )
    return values, status


def read(path: Path, *, export: str, municipality_names: pd.DataFrame) -> pd.DataFrame:
    """Tidy observations of one PinC CSV export (``export``: a key of :data:`EXPORTS`).

    ``municipality_names``: columns ``nis, name`` of ``pinc_gemeente_2025_codes_names.xlsx``.
    """
    if export not in EXPORTS:
        raise KeyError(f"unknown Provincies in Cijfers export {export!r}; known: {list(EXPORTS)}")
    path = Path(path)
    lines = _rows(path)
    labels, years = _header(path, lines[0], export)
    width = len(lines[0])
    body = [(i, row) for i, row in enumerate(lines) if i > 0 and row]  # blank lines skipped
    if not body:
        raise SourceFormatError(path, "expected municipality rows below the header, found none")
    for i, row in body:
        if len(row) != width:
            raise SourceFormatError(
                path, f"expected {width} ';'-separated fields like the header, found {len(row)}",
                row=i,
            )
    rows = np.array([i for i, _ in body])
    names = pd.Series([row[0] for _, row in body], index=rows, dtype=object)
    codes, is_area = pinc.attach_codes(path, names, municipality_names, column=NAME_HEADER)
    cells = np.array([row[1:] for _, row in body], dtype=object)[is_area]
    columns = [f"{label}|{year}" for label, year in zip(labels, years, strict=True)]
    values, status = _parse(path, cells, rows[is_area], columns)

    series = EXPORTS[export]
    measure = np.array([series[label][0] for label in labels], dtype=object)
    unit = np.array([series[label][1] for label in labels], dtype=object)
    n_rows, n_cols = cells.shape
    unit_flat = np.tile(unit, n_rows)
    fraction = (unit_flat == "count") & (status == "ok") & (values != np.round(values))
    if fraction.any():
        r, c = divmod(int(np.flatnonzero(fraction)[0]), n_cols)
        raise SourceFormatError(
            path, f"expected a whole number (a count), found {cells[r, c]!r}",
            row=int(rows[is_area][r]), column=columns[c],
        )
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
    out.attrs["table"] = "; ".join(dict.fromkeys(labels))
    return out
