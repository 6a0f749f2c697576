"""Provincies in Cijfers area definitions and aggregation tables (Flemish Region + Brussels).

Source: repository ``provinciesincijfers/gebiedsniveaus`` (``data_voor_swing/``), see
``boundaries/SOURCES.md`` section B. Every table is an .xlsx with one sheet ``Sheet1`` and a
header in row 1. Two layouts:

* *codes and names* (``*_codes_names``): ``sequence nr | geoitem code | short name | name``.
  Returned as columns ``nis, name, short_name, is_area``. The Provincies-in-Cijfers
  placeholders 99991-99999 ("Buiten Vlaanderen en Brussel", "Niet te lokaliseren", ...) are
  kept with ``is_area = False`` so that labels like those in the VDAB export can be recognised
  as "not an area" and dropped.
* *aggregation tables* (``a_to_b``): two code columns. Returned as ``nis_from, nis_to``;
  placeholder rows are dropped (they are not areas).

Codes become 5-character NIS strings. Quirk: Provincies in Cijfers uses the Brussels-Capital
Region (``4000`` → ``"04000"``) as the "province" of Brussels, and arrondissement 21000 maps to
it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.nis import levels_of
from lsbanalysis.readers.common import normalise_label, parse_nis_codes, read_workbook

SHEET = "Sheet1"
CODES_NAMES_HEADER = ("sequence nr", "geoitem code", "short name", "name")

#: Provincies-in-Cijfers placeholder codes: not areas.
PLACEHOLDER_CODES = frozenset(str(code) for code in range(99991, 100000))

#: table id -> header of the table (codes-and-names tables use CODES_NAMES_HEADER).
TABLES: dict[str, tuple[str, ...]] = {
    "gemeente_2025_codes_names": CODES_NAMES_HEADER,
    "arrondiss_2025_codes_names": CODES_NAMES_HEADER,
    "provincie_2025_codes_names": CODES_NAMES_HEADER,
    "gemeente2024_to_gemeente2025": ("gemeente2024", "gemeente"),
    "gemeente2025_to_arrondiss2025": ("gemeente", "arrondiss"),
    "gemeente2025_to_provincie2025": ("gemeente", "provincie"),
    "arrondiss2025_to_provincie2025": ("arrondiss", "provincie"),
    "gemeente2024_to_arrondiss2024": ("gemeente2024", "arrondiss2024"),
}
#: Levels of the area codes of each codes-and-names table. The three tables share one header,
#: so only their codes tell them apart (the Brussels-Capital Region stands in for a province).
CODES_NAMES_LEVELS: dict[str, frozenset[str]] = {
    "gemeente_2025_codes_names": frozenset({"municipality"}),
    "arrondiss_2025_codes_names": frozenset({"arrondissement"}),
    "provincie_2025_codes_names": frozenset({"province", "region"}),
}


def is_placeholder(codes: pd.Series) -> pd.Series:
    """True where a 5-character code is a Provincies-in-Cijfers placeholder (99991-99999)."""
    return codes.isin(PLACEHOLDER_CODES)


def _read_table(path: Path, header: tuple[str, ...]) -> pd.DataFrame:
    """The sheet's data rows (header checked exactly, blank rows dropped)."""
    raw = read_workbook(path, [SHEET])[SHEET]
    if raw.empty:
        raise SourceFormatError(
            path, f"sheet is empty; expected header {list(header)}", sheet=SHEET
        )
    got = [normalise_label(c) for c in raw.iloc[0].tolist()]
    while got and got[-1] == "":
        got.pop()
    if got != [normalise_label(h) for h in header]:
        raise SourceFormatError(
            path,
            f"expected header {list(header)} in row 1, found {raw.iloc[0].dropna().tolist()}",
            sheet=SHEET,
            row=0,
        )
    body = raw.iloc[1:, : len(header)]
    filled = np.flatnonzero(body.notna().any(axis=1).to_numpy())
    if not len(filled):
        raise SourceFormatError(
            path, "expected data rows below the header, found none", sheet=SHEET
        )
    return body.iloc[: filled[-1] + 1]  # trailing blank rows only; inner blanks are errors


def _codes(body: pd.DataFrame, col: int, path: Path) -> pd.Series:
    cells = body.iloc[:, col]
    blank = cells.isna().to_numpy()
    if blank.any():
        pos = int(np.flatnonzero(blank)[0])
        raise SourceFormatError(
            path,
            "expected a NIS code, found an empty cell",
            sheet=SHEET,
            row=int(body.index[pos]),
            column=f"column {col + 1}",
        )
    return parse_nis_codes(cells, path=path, sheet=SHEET, row_offset=int(body.index[0]))


def read_codes_names(path: Path) -> pd.DataFrame:
    """A ``*_codes_names`` table: columns ``nis, name, short_name, is_area``.

    Codes and names must be unique (names are used to attach codes to name-only exports).
    """
    path = Path(path)
    body = _read_table(path, CODES_NAMES_HEADER)
    blank = body.iloc[:, 3].isna().to_numpy()
    if blank.any():
        raise SourceFormatError(
            path,
            "expected a name, found an empty cell",
            sheet=SHEET,
            row=int(body.index[np.flatnonzero(blank)[0]]),
            column="name",
        )
    out = pd.DataFrame(
        {
            "nis": _codes(body, 1, path).to_numpy(),
            "name": body.iloc[:, 3].astype(str).str.strip().to_numpy(),
            "short_name": body.iloc[:, 2].astype(str).str.strip().to_numpy(),
        }
    )
    for col in ("nis", "name"):
        dup = out[col][out[col].duplicated()]
        if len(dup):
            raise SourceFormatError(
                path, f"expected unique values in {col!r}; duplicated: {dup.tolist()}", sheet=SHEET
            )
    out["is_area"] = ~is_placeholder(out["nis"])
    out.attrs["source"] = str(path)
    return out


def read_mapping(path: Path, header: tuple[str, str]) -> pd.DataFrame:
    """An aggregation table: columns ``nis_from, nis_to``, placeholder rows dropped.

    ``nis_from`` must be unique (each area maps to exactly one area).
    """
    path = Path(path)
    body = _read_table(path, header)
    out = pd.DataFrame(
        {"nis_from": _codes(body, 0, path).to_numpy(), "nis_to": _codes(body, 1, path).to_numpy()}
    )
    out = out[~is_placeholder(out["nis_from"])].reset_index(drop=True)
    if is_placeholder(out["nis_to"]).any():
        bad = out.loc[is_placeholder(out["nis_to"]), "nis_from"].tolist()
        raise SourceFormatError(path, f"areas {bad} map to a placeholder code", sheet=SHEET)
    dup = out["nis_from"][out["nis_from"].duplicated()]
    if len(dup):
        raise SourceFormatError(
            path, f"expected each {header[0]!r} once; duplicated: {dup.tolist()}", sheet=SHEET
        )
    out.attrs["source"] = str(path)
    return out


def read(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Read the tables named by the keys of ``paths`` (ids from :data:`TABLES`).

    ``*_codes_names`` tables give ``nis, name, short_name, is_area``; the others
    ``nis_from, nis_to``.
    """
    unknown = sorted(set(paths) - set(TABLES))
    if unknown:
        raise KeyError(f"unknown Provincies in Cijfers table(s) {unknown}; known: {sorted(TABLES)}")
    out: dict[str, pd.DataFrame] = {}
    for table, path in paths.items():
        header = TABLES[table]
        if header == CODES_NAMES_HEADER:
            out[table] = read_codes_names(path)
            _check_levels(path, out[table], CODES_NAMES_LEVELS[table], table)
        else:
            out[table] = read_mapping(path, header)  # type: ignore[arg-type]
    return out


def _check_levels(path: Path, table: pd.DataFrame, levels: frozenset[str], name: str) -> None:
    """A codes-and-names table holds the codes of its own level (not another table's file)."""
    codes = table.loc[table["is_area"], "nis"]
    found = levels_of(codes)
    wrong = found[~found.isin(levels)]
    if len(wrong):
        raise SourceFormatError(
            path,
            f"expected the {' / '.join(sorted(levels))} codes of table {name}, found "
            f"{wrong.iloc[0]} code {codes[wrong.index[0]]} ({int(len(wrong))} of "
            f"{len(codes)} codes); is this another table's file?",
            sheet=SHEET,
        )


def default_paths(mirror: Path) -> dict[str, Path]:
    """Paths of all tables below a mirror root (``boundaries/pinc_<table>.xlsx``)."""
    return {table: Path(mirror) / "boundaries" / f"pinc_{table}.xlsx" for table in TABLES}
