"""Readers for Statbel population files: density per municipality and the population structure.

* :func:`read_density` reads ``Pop_density_en.xlsx`` ("Population density by municipality 1st
  January YYYY", one sheet per year): population, area and density for Belgium, the regions,
  provinces, arrondissements and the 581 municipalities of the 2019-2024 geography.
* :func:`read_structure` reads ``TF_SOC_POP_STRUCT_YYYY.RData`` (population by municipality x
  sex x nationality x civil status x age on 1 January) and sums it to one row per municipality
  and measure. Only municipalities are returned; the analysis layer aggregates.

The .RData workspace holds 457,051 rows with fourteen text columns; pyreadr needs about 4-5 s for
it because it hands every string to Python. :func:`read_r_data_frame` parses R's XDR
serialisation with numpy instead (about 1 s, most of it xz decompression), reading text columns
only where they are needed, and falls back to pyreadr for objects it does not handle.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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

# --------------------------------------------------------------------------------------------
# Pop_density_en.xlsx
# --------------------------------------------------------------------------------------------

DENSITY_TITLE = "Population density"
DENSITY_HEADER = (
    "Refnis",
    "Municipality FR",
    "Municipality NL",
    "Population",
    "Size in km",
    "Population / km",
)
#: column index -> (measure id, unit)
DENSITY_MEASURES = {
    3: ("population", "count"),
    4: ("area_km2", "km2"),
    5: ("population_density", "per_km2"),
}
_YEAR_SHEET = re.compile(r"^\s*(\d{4})\s*$")


def geo_version_of_year(year: int) -> str:
    """Municipal geography in force on 1 January of ``year``: "1977" (589 municipalities,
    until 2018), "2019" (581, 2019-2024) or "2025" (565)."""
    if year < 2019:
        return "1977"
    if year < 2025:
        return "2019"
    return "2025"


def read(path: Path) -> pd.DataFrame:
    """Read a Statbel population file, choosing the reader by file type.

    ``.xlsx`` -> :func:`read_density`; ``.RData``/``.rdata``/``.rda`` -> :func:`read_structure`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        return read_density(path)
    if suffix in (".rdata", ".rda"):
        return read_structure(path)
    raise SourceFormatError(
        path,
        f"unknown file type {path.suffix!r}; expected Pop_density_en.xlsx (.xlsx) or "
        "TF_SOC_POP_STRUCT_YYYY.RData (.RData)",
    )


def read_density(path: Path) -> pd.DataFrame:
    """Read ``Pop_density_en.xlsx``: one sheet per year, population on 1 January of that year.

    Measures: ``population`` (count), ``area_km2`` (km2), ``population_density`` (per_km2);
    period = the sheet's year; all geographic levels. geo_version follows the sheet's year
    (:func:`geo_version_of_year`): "2019" for the 2019-2024 sheets of the current edition.
    """
    path = Path(path)
    sheets = read_workbook(path)
    years = {name: int(m.group(1)) for name in sheets if (m := _YEAR_SHEET.match(str(name)))}
    if not years:
        raise SourceFormatError(
            path,
            f"no sheet named after a year (such as '2024') found; the workbook has sheets "
            f"{list(sheets)}; expected Statbel's population-density workbook",
        )
    parts = [
        finish(_density_sheet(path, str(name), year, sheets[name]), geo_version_of_year(year))
        for name, year in years.items()
    ]
    out = pd.concat(parts, ignore_index=True)
    # The titles checked above are English ("Population density by municipality 1st January").
    out.attrs.update(language="en", table="population density")
    return out


def _density_sheet(path: Path, sheet: str, year: int, raw: pd.DataFrame) -> pd.DataFrame:
    if len(raw) < 3 or raw.shape[1] < len(DENSITY_HEADER):
        raise SourceFormatError(
            path,
            f"expected a title row, a header row ({' | '.join(DENSITY_HEADER)}) and data rows, "
            f"found {raw.shape[0]} row(s) x {raw.shape[1]} column(s)",
            sheet=sheet,
        )
    check_labels(path, [raw.iat[0, 0]], [DENSITY_TITLE], sheet=sheet, row=0)
    title_years = re.findall(r"\b(\d{4})\b", str(raw.iat[0, 0]))
    if title_years and int(title_years[-1]) != year:
        raise SourceFormatError(
            path,
            f"the title {raw.iat[0, 0]!r} names another year than the sheet; expected {year}",
            sheet=sheet,
            row=0,
        )
    check_labels(path, list(raw.iloc[1]), DENSITY_HEADER, sheet=sheet, row=1)

    body = raw.iloc[2:, : len(DENSITY_HEADER)]
    keep = body.notna().any(axis=1).to_numpy()
    row_of = np.flatnonzero(keep) + 2  # 0-based sheet rows, for messages
    body = body[keep]
    if body.empty:
        raise SourceFormatError(path, "no data rows below the header", sheet=sheet)

    try:
        nis = parse_nis_codes(body.iloc[:, 0], path=path, sheet=sheet)
    except SourceFormatError as exc:
        raise SourceFormatError(
            path, exc.problem, sheet=sheet, row=int(row_of[exc.row]), column="A (Refnis)"
        ) from None
    dup = np.flatnonzero(nis.duplicated().to_numpy())
    if len(dup):
        i = int(dup[0])
        raise SourceFormatError(
            path, f"duplicate row for Refnis {nis.iloc[i]}", sheet=sheet, row=int(row_of[i])
        )

    parts = []
    for col, (measure, unit) in DENSITY_MEASURES.items():
        column = f"{'ABCDEF'[col]} ({DENSITY_HEADER[col]})"
        try:
            values, status = parse_values(body.iloc[:, col], path=path, column=column, sheet=sheet)
        except SourceFormatError as exc:
            raise SourceFormatError(
                path, exc.problem, sheet=sheet, row=int(row_of[exc.row]), column=column
            ) from None
        parts.append(
            pd.DataFrame(
                {
                    "measure": measure,
                    "nis": nis.to_numpy(),
                    "period": str(year),
                    "year": year,
                    "value": values,
                    "unit": unit,
                    "status": status,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------------
# TF_SOC_POP_STRUCT_YYYY.RData
# --------------------------------------------------------------------------------------------

STRUCTURE_OBJECT = re.compile(r"^TF_SOC_POP_STRUCT_(\d{4})$")
STRUCTURE_COLUMNS = (
    "CD_MUNTY_REFNIS",
    "CD_SEX",
    "CD_NATLTY",
    "CD_AGE",
    "MS_POPULATION",
    "CD_YEAR",
)
SEXES = ("M", "F")
NATIONALITIES = ("BEL", "ETR")
#: measure id -> rows it counts, as a function of (age, sex, nationality) arrays.
STRUCTURE_MEASURES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "population_total": lambda age, sex, nat: np.ones(len(age), dtype=bool),
    "population_men": lambda age, sex, nat: sex == "M",
    "population_women": lambda age, sex, nat: sex == "F",
    "population_age_0_17": lambda age, sex, nat: age <= 17,
    "population_age_18_24": lambda age, sex, nat: (age >= 18) & (age <= 24),
    "population_age_25_59": lambda age, sex, nat: (age >= 25) & (age <= 59),
    "population_age_60_64": lambda age, sex, nat: (age >= 60) & (age <= 64),
    "population_age_18_64": lambda age, sex, nat: (age >= 18) & (age <= 64),
    "population_age_65_plus": lambda age, sex, nat: age >= 65,
    "population_age_80_plus": lambda age, sex, nat: age >= 80,
    "population_non_belgian": lambda age, sex, nat: nat == "ETR",
}


def read_structure(path: Path) -> pd.DataFrame:
    """Read ``TF_SOC_POP_STRUCT_YYYY.RData`` into municipal population counts on 1 January.

    Measures (unit count): population_total, population_men, population_women,
    population_age_0_17, _18_24, _25_59, _60_64, _18_64, _65_plus, _80_plus and
    population_non_belgian. Period = CD_YEAR (the 2015 file gives "2015"); municipality rows
    only; geo_version "1977" for years before 2019 (589 municipalities).
    """
    path = Path(path)
    name, frame = read_r_data_frame(
        path,
        lambda obj: STRUCTURE_OBJECT.match(obj) is not None,
        STRUCTURE_COLUMNS,
        expected="a data.frame named TF_SOC_POP_STRUCT_<year>",
    )
    n = len(frame)
    if n == 0:
        raise SourceFormatError(path, f"data.frame {name} has no rows")

    munty = _whole_numbers(path, frame, "CD_MUNTY_REFNIS", low=1, high=99999)
    age = _whole_numbers(path, frame, "CD_AGE", low=0, high=130)
    population = _whole_numbers(path, frame, "MS_POPULATION", low=0, high=10**9)
    years = _whole_numbers(path, frame, "CD_YEAR", low=1900, high=2100)
    sex = _codes_in(path, frame, "CD_SEX", SEXES)
    nat = _codes_in(path, frame, "CD_NATLTY", NATIONALITIES)
    name_year = int(STRUCTURE_OBJECT.match(name).group(1))
    if not (years == name_year).all():
        row = int(np.flatnonzero(years != name_year)[0])
        raise SourceFormatError(
            path,
            f"data.frame {name} holds CD_YEAR {years[row]}; expected only {name_year}",
            row=row,
            column="CD_YEAR",
        )

    code_idx, code_values = pd.factorize(munty)
    try:
        nis_labels = parse_nis_codes(pd.Series(code_values, dtype=object), path=path)
    except SourceFormatError as exc:
        row = int(np.flatnonzero(code_idx == exc.row)[0])
        raise SourceFormatError(path, exc.problem, row=row, column="CD_MUNTY_REFNIS") from None
    levels = levels_of(nis_labels).to_numpy()
    wrong = np.flatnonzero(levels != "municipality")
    if len(wrong):
        row = int(np.flatnonzero(code_idx == wrong[0])[0])
        raise SourceFormatError(
            path,
            f"expected municipality codes, found {nis_labels.iloc[wrong[0]]!r} "
            f"({levels[wrong[0]]})",
            row=row,
            column="CD_MUNTY_REFNIS",
        )

    # Sum per municipality with bincount: one pass per measure over integer group codes.
    order = np.argsort(nis_labels.to_numpy(dtype=str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    group = rank[code_idx]
    n_groups = len(order)
    weights = population.astype("float64")
    parts = []
    for measure, select in STRUCTURE_MEASURES.items():
        mask = select(age, sex, nat)
        totals = np.bincount(group[mask], weights=weights[mask], minlength=n_groups)
        parts.append(
            pd.DataFrame(
                {
                    "measure": measure,
                    "nis": nis_labels.to_numpy(dtype=object)[order],
                    "period": str(name_year),
                    "year": name_year,
                    "value": totals,
                    "unit": "count",
                    "status": "ok",
                }
            )
        )
    out = finish(pd.concat(parts, ignore_index=True), geo_version_of_year(name_year))
    out.attrs["table"] = name.removesuffix(f"_{name_year}")  # TF_SOC_POP_STRUCT
    return out


def _whole_numbers(path: Path, frame: pd.DataFrame, column: str, *, low: int, high: int):
    """An integer column (R integer, double or text) as int64; fails on NA, fractions, text
    that is not a number, or values outside [low, high]."""
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
        arr = values.to_numpy(dtype="float64", na_value=np.nan)
    else:  # numbers stored as text (or a factor of them)
        arr = pd.to_numeric(values.astype(object), errors="coerce").to_numpy(dtype="float64")
    ok = np.isfinite(arr) & (arr == np.round(arr)) & (arr >= low) & (arr <= high)
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raise SourceFormatError(
            path,
            f"expected a whole number from {low} to {high}, found {_show(values.iloc[row])}",
            row=row,
            column=column,
        )
    return arr.astype("int64")


def _show(cell: object) -> str:
    """A cell for an error message: 2.5, 'abc' or NA."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return "NA"
    if isinstance(cell, np.generic):
        cell = cell.item()
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return repr(cell)


def _codes_in(path: Path, frame: pd.DataFrame, column: str, allowed: Sequence[str]) -> np.ndarray:
    """A code column (text or factor) as a str array, failing on values outside ``allowed``."""
    values = frame[column].astype("category")
    cats = [str(c) for c in values.cat.categories]
    unexpected = [c for c in cats if c not in allowed]
    codes = values.cat.codes.to_numpy()
    bad_codes = [i for i, c in enumerate(cats) if c in unexpected]
    bad = np.flatnonzero((codes < 0) | np.isin(codes, bad_codes))
    if len(bad):
        row = int(bad[0])
        raise SourceFormatError(
            path,
            f"expected one of {list(allowed)}, found {frame[column].iloc[row]!r}",
            row=row,
            column=column,
        )
    return np.asarray(cats, dtype=object)[codes]


# --------------------------------------------------------------------------------------------
# A fast reader for data.frames in .RData workspaces (R's XDR serialisation)
# --------------------------------------------------------------------------------------------


def read_r_data_frame(
    path: Path,
    select: Callable[[str], bool],
    columns: Sequence[str],
    *,
    expected: str = "a data.frame",
) -> tuple[str, pd.DataFrame]:
    """Read ``columns`` of the first data.frame in an .RData file whose name passes ``select``.

    Returns the object's name and a frame with the requested columns: integers as int32 (or
    float64 when they hold NA), doubles as float64, text and factors as categoricals. Uses a
    numpy parser of R's serialisation format and pyreadr for anything that parser does not
    handle. Raises SourceFormatError naming the file when it is empty, truncated or not an R
    workspace, when no object passes ``select``, or when a column is missing.
    """
    path = Path(path)
    if not path.exists():
        raise SourceFormatError(path, "file not found")
    raw = path.read_bytes()
    if not raw:
        raise SourceFormatError(
            path, f"file is empty (0 bytes); expected an R workspace (.RData) with {expected}"
        )
    data = _decompress(path, raw)
    if data[:5] not in _WORKSPACE_MAGIC:
        raise SourceFormatError(
            path,
            f"is not an R workspace: expected an .RData file saved by R's save() (starting "
            f"with 'RDX2' or 'RDX3'), found {data[:8]!r}",
        )
    try:
        objects = _XdrParser(data).workspace()
    except _Unsupported:
        return _read_with_pyreadr(path, select, columns, expected)
    except (struct.error, ValueError, IndexError, _Corrupt) as exc:
        raise SourceFormatError(
            path,
            f"cannot be read as an R workspace: it is truncated or corrupt ({exc or 'no detail'})",
        ) from None

    names = [name for name, _ in objects]
    target = next(((name, obj) for name, obj in objects if select(str(name))), None)
    if target is None:
        raise SourceFormatError(path, f"expected {expected}; the file holds objects {names}")
    name, obj = target
    if not isinstance(obj, _RVector) or obj.sexptype != _VECSXP or not obj.is_data_frame():
        raise SourceFormatError(path, f"object {name!r} is not a data.frame; expected {expected}")
    col_names = obj.names()
    missing = [c for c in columns if c not in col_names]
    if missing:
        raise SourceFormatError(
            path,
            f"data.frame {name} lacks the column(s) {missing}; it has {col_names}",
        )
    try:
        frame = pd.DataFrame({c: obj.data[col_names.index(c)].to_pandas() for c in columns})
    except (_Unsupported, ValueError):  # e.g. a list column: let pyreadr try
        return _read_with_pyreadr(path, select, columns, expected)
    return name, frame


def _read_with_pyreadr(
    path: Path, select: Callable[[str], bool], columns: Sequence[str], expected: str
) -> tuple[str, pd.DataFrame]:
    """The slow, general route: pyreadr reads every object and column."""
    import pyreadr

    try:
        result = pyreadr.read_r(str(path))
    except Exception as exc:  # pyreadr raises its own error types for bad files
        raise SourceFormatError(
            path, f"cannot be read as an R workspace ({type(exc).__name__}: {exc})"
        ) from exc
    target = next(((name, obj) for name, obj in result.items() if select(str(name))), None)
    if target is None:
        raise SourceFormatError(path, f"expected {expected}; the file holds objects {list(result)}")
    name, frame = target
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SourceFormatError(
            path, f"data.frame {name} lacks the column(s) {missing}; it has {list(frame.columns)}"
        )
    frame = frame[list(columns)].reset_index(drop=True)
    # Match the fast path: integers with NA (object columns of numbers) as float64, text as
    # categoricals.
    for c in columns:
        col = frame[c]
        if col.dtype == object:
            numeric = pd.to_numeric(col, errors="coerce")
            if numeric.notna().sum() == col.notna().sum() and not col.map(type).eq(str).any():
                frame[c] = numeric.astype("float64")
                continue
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            frame[c] = col.astype("category")
    return str(name), frame


def _decompress(path: Path, raw: bytes) -> bytes:
    try:
        if raw[:6] == b"\xfd7zXZ\x00":
            return lzma.decompress(raw)
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        if raw[:3] == b"BZh":
            return bz2.decompress(raw)
    except (lzma.LZMAError, OSError, EOFError, ValueError, zlib.error) as exc:
        raise SourceFormatError(
            path, f"cannot be decompressed: the file is truncated or corrupt ({exc})"
        ) from None
    return raw


class _Unsupported(Exception):
    """Something the numpy parser does not handle; pyreadr reads the file instead."""


class _Corrupt(Exception):
    """The byte stream does not follow R's serialisation format."""


# SEXP types and flag bits of R's serialisation format (R Internals, "Serialization formats").
_SYMSXP, _LISTSXP, _CHARSXP, _LGLSXP, _INTSXP, _REALSXP, _CPLXSXP = 1, 2, 9, 10, 13, 14, 15
_STRSXP, _VECSXP, _EXPRSXP, _RAWSXP = 16, 19, 20, 24
_LANGSXP, _ATTRLANGSXP, _ATTRLISTSXP = 6, 240, 239
_REFSXP, _NILVALUE_SXP = 255, 254
_SPECIAL_SXPS = frozenset({253, 252, 251, 250, 242, 241})  # global/empty/base env, markers
_PAIRLISTS = frozenset({_LISTSXP, _LANGSXP, _ATTRLANGSXP, _ATTRLISTSXP})
_HAS_ATTR, _HAS_TAG = 1 << 9, 1 << 10
_LATIN1_BYTE = 0x40  # LATIN1_MASK (4) << 12, seen in the third byte of the flags
_NA_INTEGER = -(2**31)
_HEADERS = {b"RDX2\nX\n": 2, b"RDX3\nX\n": 3}
_WORKSPACE_MAGIC = frozenset(f"RD{f}{v}\n".encode() for f in "XAB" for v in "23")
_INT = struct.Struct(">i")


@dataclass
class _Symbol:
    name: str


@dataclass
class _Strings:
    """A character vector as offsets of its CHARSXP records and byte lengths (-1 = NA)."""

    u8: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets)

    def tolist(self) -> list[str | None]:
        return [
            None if n < 0 else _decode(self.u8[o + 8 : o + 8 + n].tobytes(), self.u8[o + 2])
            for o, n in zip(self.offsets.tolist(), self.lengths.tolist(), strict=True)
        ]

    def to_categorical(self) -> pd.Categorical:
        n = len(self)
        na = self.lengths < 0
        width = max(int(self.lengths.max(initial=0)), 1)
        if n * width > 16_000_000:  # long free text: decode string by string
            return pd.Categorical(self.tolist())
        cols = np.arange(width)
        idx = np.minimum((self.offsets + 8)[:, None] + cols[None, :], len(self.u8) - 1)
        mat = self.u8[idx]
        mat[cols[None, :] >= self.lengths[:, None]] = 0
        keys = mat.view(f"S{width}").ravel()
        codes = np.full(n, -1, dtype=np.int64)
        if (~na).any():
            uniq, first, inverse = np.unique(keys[~na], return_index=True, return_inverse=True)
            flag_bytes = self.u8[self.offsets[~na][first] + 2]
            texts = [_decode(u, f) for u, f in zip(uniq.tolist(), flag_bytes.tolist(), strict=True)]
            text_codes, categories = pd.factorize(pd.Series(texts, dtype=object))
            codes[~na] = text_codes[inverse.ravel()]
        else:
            categories = pd.Index([], dtype=object)
        return pd.Categorical.from_codes(codes, categories=list(categories))


def _decode(raw: bytes, flag_byte: int) -> str:
    if flag_byte & _LATIN1_BYTE:
        return raw.decode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@dataclass
class _RVector:
    sexptype: int
    data: object  # numpy array, _Strings, list of items, or None (complex/raw)
    attrs: dict = field(default_factory=dict)

    def attr_strings(self, name: str) -> list[str | None]:
        value = self.attrs.get(name)
        if isinstance(value, _RVector) and isinstance(value.data, _Strings):
            return value.data.tolist()
        return []

    def is_data_frame(self) -> bool:
        return "data.frame" in self.attr_strings("class")

    def names(self) -> list[str | None]:
        return self.attr_strings("names")

    def to_pandas(self) -> pd.api.extensions.ExtensionArray | np.ndarray | pd.Categorical:
        if self.sexptype in (_INTSXP, _LGLSXP):
            values = self.data.astype(np.int32)
            na = values == _NA_INTEGER
            if "factor" in self.attr_strings("class"):
                levels = self.attr_strings("levels")
                if None in levels:
                    raise _Unsupported("factor with an NA level")
                codes = np.where(na, -1, values.astype(np.int64) - 1)
                return pd.Categorical.from_codes(codes, categories=levels)
            if self.sexptype == _LGLSXP or na.any():
                out = values.astype("float64")
                out[na] = np.nan
                return out
            return values
        if self.sexptype == _REALSXP:
            return self.data.astype("float64")
        if self.sexptype == _STRSXP:
            return self.data.to_categorical()
        raise _Unsupported(f"column of R type {self.sexptype}")


class _XdrParser:
    """Reads the objects of an XDR (big-endian) .RData stream: a pairlist of named objects."""

    def __init__(self, data: bytes) -> None:
        self.buf = data
        self.u8 = np.frombuffer(data, dtype=np.uint8)
        self.pos = 0
        self.refs: list[object] = []
        self._candidates: np.ndarray | None = None

    def workspace(self) -> list[tuple[str, object]]:
        head = self.buf[:7]
        if head not in _HEADERS:
            if head[:3] in (b"RDA", b"RDB", b"RDX"):  # ASCII or native-binary: not handled here
                raise _Unsupported("not XDR")
            raise _Corrupt("no R workspace header 'RDX2'/'RDX3' at the start")
        self.pos = 7
        version = self.int()
        if version != _HEADERS[head]:
            raise _Corrupt(f"serialisation version {version}")
        self.int()  # R version that wrote the file
        self.int()  # oldest R version that can read it
        if version == 3:
            n = self.int()
            self.pos += n  # native encoding name
        top = self.item()
        if top is None:
            return []
        if not isinstance(top, list):
            raise _Corrupt("the workspace is not a pairlist of named objects")
        return [(tag, value) for tag, value in top]

    def int(self) -> int:
        (value,) = _INT.unpack_from(self.buf, self.pos)
        self.pos += 4
        return value

    def length(self) -> int:
        n = self.int()
        if n == -1:  # long vector: two more ints
            n = (self.int() << 32) + self.int()
        if n < 0:
            raise _Corrupt(f"negative vector length {n}")
        return n

    def item(self) -> object:
        flags = self.int()
        kind = flags & 0xFF
        if kind == _NILVALUE_SXP:
            return None
        if kind == _REFSXP:
            index = (flags >> 8) or self.int()
            return self.refs[index - 1]
        if kind in _SPECIAL_SXPS:
            return kind
        if kind == _SYMSXP:
            symbol = _Symbol(self.item())
            self.refs.append(symbol)
            return symbol
        if kind in _PAIRLISTS:
            return self.pairlist(flags)
        if kind == _CHARSXP:
            n = self.int()
            if n < 0:
                return None
            raw = self.buf[self.pos : self.pos + n]
            if len(raw) != n:
                raise _Corrupt("a string runs past the end of the data")
            self.pos += n
            return _decode(raw, (flags >> 8) & 0xFF)
        if kind in (_LGLSXP, _INTSXP, _REALSXP, _CPLXSXP, _RAWSXP, _STRSXP, _VECSXP, _EXPRSXP):
            n = self.length()
            if kind in (_LGLSXP, _INTSXP):
                data = self.array(">i4", n)
            elif kind == _REALSXP:
                data = self.array(">f8", n)
            elif kind == _CPLXSXP:
                data = self.array(">f8", 2 * n)
            elif kind == _RAWSXP:
                data = self.array("u1", n)
            elif kind == _STRSXP:
                data = self.strings(n)
            else:
                data = [self.item() for _ in range(n)]
            attrs = {}
            if flags & _HAS_ATTR:
                attrs = {str(tag): value for tag, value in self.item() or []}
            return _RVector(kind, data, attrs)
        raise _Unsupported(f"R object type {kind}")

    def pairlist(self, flags: int) -> list[tuple[str | None, object]]:
        items = []
        while True:
            if flags & _HAS_ATTR:
                self.item()
            tag = self.item() if flags & _HAS_TAG else None
            items.append((tag.name if isinstance(tag, _Symbol) else tag, self.item()))
            flags = self.int()  # the CDR: the next cell, or the end of the list
            kind = flags & 0xFF
            if kind == _NILVALUE_SXP:
                return items
            if kind not in _PAIRLISTS:
                raise _Unsupported("dotted pairlist")

    def array(self, dtype: str, n: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * n
        if self.pos + size > len(self.buf):
            raise _Corrupt("a vector runs past the end of the data")
        out = np.frombuffer(self.buf, dtype=dtype, count=n, offset=self.pos)
        self.pos += size
        return out

    def strings(self, n: int) -> _Strings:
        """A STRSXP of ``n`` CHARSXP records (flags, length, bytes), located with numpy."""
        if n >= 256:
            found = self._strings_vectorised(n)
            if found is not None:
                return found
        offsets = np.empty(n, dtype=np.int64)
        lengths = np.empty(n, dtype=np.int64)
        for i in range(n):
            offsets[i] = self.pos
            flags = self.int()
            if flags & 0xFF != _CHARSXP:
                raise _Corrupt(f"expected a string (CHARSXP) record, found type {flags & 0xFF}")
            size = self.int()
            lengths[i] = size
            self.pos += max(size, 0)
        if self.pos > len(self.buf):
            raise _Corrupt("a string runs past the end of the data")
        return _Strings(self.u8, offsets, lengths)

    def _strings_vectorised(self, n: int) -> _Strings | None:
        """Find the ``n`` records among all positions that look like CHARSXP headers.

        A header is ``00 {00|04} {00|20|40|80} 09`` (type 9 plus encoding bits) followed by a
        length below 65,536 or -1 (NA). Text cannot hold NUL bytes, so such a pattern inside a
        string is all but impossible; the records are accepted only if each starts exactly
        where the previous one ends. Returns None (slow path) otherwise.
        """
        cand = self.candidates()
        first = int(np.searchsorted(cand, self.pos))
        sel = cand[first : first + n]
        if len(sel) < n or sel[0] != self.pos:
            return None
        u8 = self.u8
        na = u8[sel + 4] == 0xFF
        lengths = np.where(
            na, -1, (u8[sel + 6].astype(np.int64) << 8) | u8[sel + 7].astype(np.int64)
        )
        ends = sel + 8 + np.maximum(lengths, 0)
        if not np.array_equal(sel[1:], ends[:-1]):
            return None
        self.pos = int(ends[-1])
        return _Strings(u8, sel.astype(np.int64), lengths)

    def candidates(self) -> np.ndarray:
        if self._candidates is None:
            u8 = self.u8
            pos = np.flatnonzero(u8[3:] == _CHARSXP)  # position of the flags' first byte
            pos = pos[pos + 8 <= len(u8)]
            b1, b2 = u8[pos + 1], u8[pos + 2]
            header = (u8[pos] == 0) & ((b1 == 0) | (b1 == 4))
            header &= (b2 == 0) | (b2 == 0x20) | (b2 == 0x40) | (b2 == 0x80)
            pos = pos[header]
            l0, l1 = u8[pos + 4], u8[pos + 5]
            short = (l0 == 0) & (l1 == 0)
            na = (l0 == 0xFF) & (l1 == 0xFF) & (u8[pos + 6] == 0xFF) & (u8[pos + 7] == 0xFF)
            self._candidates = pos[short | na]
        return self._candidates
