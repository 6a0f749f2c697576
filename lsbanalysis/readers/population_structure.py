"""Reader for Statbel's population structure, ``TF_SOC_POP_STRUCT_YYYY.zip`` (1 January YYYY).

Each zip holds one pipe-delimited text file: the population per municipality x sex x nationality
(Belgian / non-Belgian) x civil status x single year of age, only non-zero cells, no aggregate
rows. :func:`read` sums it to municipal counts (age bands, sex, nationality, a 5-year pyramid)
straight from the zip, without unpacking it to disk.

Quirks handled (see ``population/SOURCES.md`` of the data mirror):

* two column layouts: 2015-2018 (22 columns, ``CD_MUNTY_REFNIS`` ... ``CD_YEAR``) and
  2019-2022 (21 columns, ``CD_REFNIS``, no year column), recognised from the header;
* two encodings, recognised per file: UTF-8 (with or without BOM) and Windows-1252 (2022);
* from 2019, the 100+ cells are not collapsed: one key can occur on several CD_AGE = 100 rows,
  which are summed (duplicates at any other age are an error);
* the 2015-2018 files use the municipal map before the 2019 mergers (geo_version "1977").

Speed: the archive's ~100 MB of text is inflated once in memory and parsed by pyarrow's CSV
reader, only the six code/count columns, each dictionary-encoded, so every check runs on a few
hundred distinct values and a bad cell is traced back to its line without a second parse.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.nis import level_of, normalise_nis
from lsbanalysis.readers.common import finish
from lsbanalysis.readers.population import geo_version_of_year

TABLE = "TF_SOC_POP_STRUCT"
_MEMBER = re.compile(rf"^{TABLE}_(\d{{4}})\.txt$", re.IGNORECASE)
_FILE_YEAR = re.compile(rf"{TABLE}_(\d{{4}})", re.IGNORECASE)
_BOM = b"\xef\xbb\xbf"
#: bytes Windows-1252 leaves undefined; a file holding them is neither UTF-8 nor cp1252
_CP1252_UNDEFINED = (0x81, 0x8D, 0x8F, 0x90, 0x9D)

MAX_AGE = 100  # CD_AGE 100 means "100 and older"
SEXES = ("M", "F")
NATIONALITIES = ("BEL", "ETR")


class Layout(NamedTuple):
    name: str
    header: tuple[str, ...]
    municipality: str  # the column holding the municipality's REFNIS code
    civil_statuses: tuple[str, ...]
    year: str | None  # the column holding the year, if any


LAYOUTS = (
    Layout(
        name="2015-2018",
        header=(
            "CD_MUNTY_REFNIS", "TX_MUNTY_DESCR_NL", "TX_MUNTY_DESCR_FR", "CD_DSTR_REFNIS",
            "TX_ADM_DSTR_DESCR_NL", "TX_ADM_DSTR_DESCR_FR", "CD_PROV_REFNIS", "TX_PROV_DESCR_NL",
            "TX_PROV_DESCR_FR", "CD_RGN_REFNIS", "TX_RGN_DESCR_NL", "TX_RGN_DESCR_FR", "CD_SEX",
            "CD_NATLTY", "TX_NATLTY_FR", "TX_NATLTY_NL", "CD_CIV_STS", "TX_CIV_STS_FR",
            "TX_CIV_STS_NL", "CD_AGE", "MS_POPULATION", "CD_YEAR",
        ),
        municipality="CD_MUNTY_REFNIS",
        civil_statuses=("10", "20", "30", "40"),
        year="CD_YEAR",
    ),
    Layout(
        name="2019-2022",
        header=(
            "CD_REFNIS", "TX_DESCR_NL", "TX_DESCR_FR", "CD_DSTR_REFNIS", "TX_ADM_DSTR_DESCR_NL",
            "TX_ADM_DSTR_DESCR_FR", "CD_PROV_REFNIS", "TX_PROV_DESCR_NL", "TX_PROV_DESCR_FR",
            "CD_RGN_REFNIS", "TX_RGN_DESCR_NL", "TX_RGN_DESCR_FR", "CD_SEX", "CD_NATLTY",
            "TX_NATLTY_NL", "TX_NATLTY_FR", "CD_CIV_STS", "TX_CIV_STS_NL", "TX_CIV_STS_FR",
            "CD_AGE", "MS_POPULATION",
        ),
        municipality="CD_REFNIS",
        civil_statuses=("1", "2", "3", "4"),
        year=None,
    ),
)


class Cells(NamedTuple):
    """The cells a measure counts: one sex or both, one nationality or both, an age range."""

    sex: str | None = None
    nationality: str | None = None
    age_from: int = 0
    age_to: int = MAX_AGE


def _measures() -> dict[str, Cells]:
    ages = {"0_17": (0, 17), "20_64": (20, 64), "65_plus": (65, MAX_AGE), "80_plus": (80, MAX_AGE)}
    out = {
        "population_total": Cells(),
        "population_men": Cells(sex="M"),
        "population_women": Cells(sex="F"),
        "population_age_0_17": Cells(age_to=17),
        "population_age_18_24": Cells(age_from=18, age_to=24),
        "population_age_25_59": Cells(age_from=25, age_to=59),
        "population_age_60_64": Cells(age_from=60, age_to=64),
        "population_age_18_64": Cells(age_from=18, age_to=64),
        "population_age_20_64": Cells(age_from=20, age_to=64),
        "population_age_65_plus": Cells(age_from=65),
        "population_age_80_plus": Cells(age_from=80),
        "population_non_belgian": Cells(nationality="ETR"),
    }
    for sex, word in (("M", "men"), ("F", "women")):
        for label, (low, high) in ages.items():
            out[f"population_{word}_age_{label}"] = Cells(sex=sex, age_from=low, age_to=high)
        out[f"population_non_belgian_{word}"] = Cells(sex=sex, nationality="ETR")
    for sex, word in (("M", "men"), ("F", "women")):  # the population pyramid
        for low in range(0, 95, 5):
            out[f"population_{word}_band_{low:02d}_{low + 4:02d}"] = Cells(sex, None, low, low + 4)
        out[f"population_{word}_band_95_plus"] = Cells(sex=sex, age_from=95)
    return out


#: measure id -> the cells it sums; every measure is a count of inhabitants on 1 January.
MEASURES: dict[str, Cells] = _measures()


def read(path: Path) -> pd.DataFrame:
    """Read one ``TF_SOC_POP_STRUCT_YYYY.zip`` into municipal population counts on 1 January.

    Returns tidy observations (:data:`~lsbanalysis.readers.common.OBSERVATION_COLUMNS`), one row
    per measure of :data:`MEASURES` and municipality present in the file (absent cells count as
    0), period = year = YYYY, unit "count", geo_version "1977" before 2019 and "2019" from 2019.
    ``frame.attrs`` holds ``table`` (``TF_SOC_POP_STRUCT_YYYY``, the edition the file declares),
    ``layout`` and ``encoding``. Raises SourceFormatError naming the file, line and column of
    the first problem.
    """
    path = Path(path)
    member, year, data = _member(path)
    encoding = _encoding(path, member, data)
    layout, header = _layout(path, member, data, encoding)
    table = _parse(path, member, data, layout, header)
    del data

    munis, muni_idx = _municipalities(path, member, table, layout.municipality)
    sex = _codes(path, member, table, "CD_SEX", SEXES)
    nat = _codes(path, member, table, "CD_NATLTY", NATIONALITIES)
    civ = _codes(path, member, table, "CD_CIV_STS", layout.civil_statuses)
    age = _numbers(path, member, table, "CD_AGE", 0, MAX_AGE, "an age from 0 to 100")
    count = _numbers(path, member, table, "MS_POPULATION", 0, 10**8, "a whole number of people")
    if layout.year is not None:
        # Checked only: every row must hold the year the member and file are named after.
        _numbers(path, member, table, layout.year, year, year, f"the year {year}")
    _check_duplicates(path, member, [muni_idx, sex, nat, civ], age, len(layout.civil_statuses))

    cube = _cube(muni_idx, sex, nat, age, count, len(munis))
    frame = _tidy(cube, munis, year)
    frame.attrs.update(table=f"{TABLE}_{year}", layout=layout.name, encoding=encoding)
    return frame


# --- the archive ---------------------------------------------------------------------------


def _member(path: Path) -> tuple[str, int, bytearray]:
    """The archive's only member, its year, and its inflated bytes."""
    if not path.exists():
        raise SourceFormatError(path, "file not found")
    if path.stat().st_size == 0:
        raise SourceFormatError(
            path, f"file is empty (0 bytes); expected a zip holding {TABLE}_YYYY.txt"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
            texts = [n for n in names if _MEMBER.match(Path(n).name)]
            if len(texts) != 1 or len(names) != 1:
                found = ", ".join(repr(n) for n in names) or "no files"
                raise SourceFormatError(
                    path, f"expected exactly one member named {TABLE}_YYYY.txt, found {found}"
                )
            member = texts[0]
            data = _inflate(archive, archive.getinfo(member))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            ValueError) as exc:
        raise SourceFormatError(
            path, f"cannot be read as a zip archive ({type(exc).__name__}: {exc}); "
            "the download may be truncated or corrupt"
        ) from None
    except NotImplementedError as exc:  # an unsupported compression method
        raise SourceFormatError(path, f"cannot be unzipped: {exc}") from None
    year = int(_MEMBER.match(Path(member).name).group(1))
    named = _FILE_YEAR.search(path.name)
    if named and int(named.group(1)) != year:
        raise SourceFormatError(
            path,
            f"the archive holds {Path(member).name}, the table of 1 January {year}; "
            f"expected the table of {named.group(1)} named in the file name",
        )
    if len(data) <= len(_BOM) and not data.removeprefix(_BOM).strip():
        raise SourceFormatError(path, f"{member} is empty; expected a header and data rows")
    return member, year, data


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytearray:
    """The member's bytes, read in blocks into one buffer (``ZipFile.read`` peaks at twice the
    size); reading to the end makes zipfile check the CRC."""
    data = bytearray(info.file_size)
    view = memoryview(data)
    with archive.open(info) as stream:
        pos = 0
        while pos < len(data):
            block = stream.read(min(4 << 20, len(data) - pos))
            if not block:
                raise EOFError(f"{info.filename} ends after {pos:,} of {len(data):,} bytes")
            view[pos : pos + len(block)] = block
            pos += len(block)
        if stream.read(1):
            raise zipfile.BadZipFile(f"{info.filename} is longer than its declared size")
    return data


def _encoding(path: Path, member: str, data: bytes) -> str:
    """"utf-8" or "cp1252", recognised from the bytes; fails on text that is neither.

    A byte-order mark promises UTF-8 throughout. Without one, text that is valid UTF-8 is taken
    as UTF-8 (cp1252 text with accents is practically never valid UTF-8) and anything else as
    Windows-1252, provided it holds none of the five bytes cp1252 leaves undefined.
    """
    if _valid_utf8(data):
        return "utf-8"
    if data.startswith(_BOM):
        offset = _first_invalid_utf8(data)
        line, column = _position(data, offset)
        raise SourceFormatError(
            path,
            f"{member} starts with a UTF-8 byte-order mark but byte 0x{data[offset]:02X} is not "
            "UTF-8 (a Windows-1252 file with a UTF-8 mark?); expected UTF-8 text throughout",
            row=line,
            column=column,
        )
    bad = [o for o in (data.find(bytes([b])) for b in _CP1252_UNDEFINED) if o >= 0]
    if bad:
        offset = min(bad)
        line, column = _position(data, offset)
        raise SourceFormatError(
            path,
            f"{member} is neither UTF-8 nor Windows-1252 text: byte 0x{data[offset]:02X} is "
            "undefined in both",
            row=line,
            column=column,
        )
    return "cp1252"


def _valid_utf8(data: bytes) -> bool:
    """Whole-buffer UTF-8 check with Arrow's validator (~10 ms for 100 MB)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _first_invalid_utf8(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def _position(data: bytes, offset: int) -> tuple[int, str | None]:
    """0-based line and the header name of the column holding byte ``offset``."""
    line = data.count(b"\n", 0, offset)
    start = data.rfind(b"\n", 0, offset) + 1
    field = data.count(b"|", start, offset)
    names = data[: data.find(b"\n")].removeprefix(_BOM).rstrip(b"\r").split(b"|")
    column = names[field].decode("ascii", "replace") if field < len(names) else None
    return line, column


# --- header and parse ----------------------------------------------------------------------


def _layout(path: Path, member: str, data: bytes, encoding: str) -> tuple[Layout, list[str]]:
    end = data.find(b"\n")
    first = data[: end if end >= 0 else len(data)].removeprefix(_BOM).rstrip(b"\r")
    header = first.decode(encoding).split("|")
    for layout in LAYOUTS:
        if tuple(header) == layout.header:
            return layout, header
    layout = next((lo for lo in LAYOUTS if header[0] == lo.header[0]), None)
    if layout is None:
        known = "; ".join(f"{lo.name}: {'|'.join(lo.header[:3])}|..." for lo in LAYOUTS)
        raise SourceFormatError(
            path,
            f"unknown layout of {member}: the header starts {'|'.join(header[:3])!r}; "
            f"expected one of Statbel's layouts ({known})",
            row=0,
        )
    for pos, want in enumerate(layout.header):
        got = header[pos] if pos < len(header) else None
        if got != want:
            found = repr(got) if got is not None else "no column"
            raise SourceFormatError(
                path,
                f"{member} has the {layout.name} layout but column {pos + 1} is {found}; "
                f"expected {want!r}",
                row=0,
                column=got,
            )
    raise SourceFormatError(
        path,
        f"{member} has {len(header)} columns; the {layout.name} layout has "
        f"{len(layout.header)} (extra: {header[len(layout.header):]})",
        row=0,
    )


def _parse(path: Path, member: str, data: bytes, layout: Layout, header: list[str]) -> pa.Table:
    """The code and count columns as dictionary arrays (one chunk each)."""
    columns = [layout.municipality, "CD_SEX", "CD_NATLTY", "CD_CIV_STS", "CD_AGE",
               "MS_POPULATION"] + ([layout.year] if layout.year else [])
    as_codes = pa.dictionary(pa.int32(), pa.binary())
    end = len(data)
    while end and data[end - 1] in b"\r\n":  # blank lines at the very end are harmless
        end -= 1
    if data.find(b"\n", 0, end) < 0:
        raise SourceFormatError(path, f"{member} has a header but no data rows")
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(pa.py_buffer(data)[:end]),
            # Blank lines inside are errors, so that row numbers stay the file's line numbers.
            parse_options=pa_csv.ParseOptions(
                delimiter="|", quote_char=False, ignore_empty_lines=False
            ),
            # One thread: as fast as several inside a 2-process build, a third of the memory.
            read_options=pa_csv.ReadOptions(block_size=8 << 20, use_threads=False),
            convert_options=pa_csv.ConvertOptions(
                include_columns=columns,
                column_types=dict.fromkeys(columns, as_codes),
                null_values=[],
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        line = _ragged_line(data, len(header))
        if line is None:
            raise SourceFormatError(path, f"{member} cannot be parsed: {exc}") from None
        raise SourceFormatError(
            path,
            f"{member}: expected {len(header)} '|'-separated fields like the header, "
            f"found {_fields(data, line)}",
            row=line,
        ) from None
    if table.num_rows == 0:
        raise SourceFormatError(path, f"{member} has a header but no data rows")
    return table.unify_dictionaries().combine_chunks()


def _ragged_line(data: bytes, n_fields: int) -> int | None:
    """0-based line of the first row without ``n_fields`` fields (error path only)."""
    lines = data.split(b"\n")
    while lines and not lines[-1].strip(b"\r"):
        lines.pop()  # the final line end(s)
    for i, text in enumerate(lines):
        if text.count(b"|") != n_fields - 1:
            return i
    return None


def _fields(data: bytes, line: int) -> int:
    text = data.split(b"\n", line + 1)[line].rstrip(b"\r")
    return text.count(b"|") + 1 if text else 0


# --- column checks -------------------------------------------------------------------------


def _dictionary(table: pa.Table, column: str) -> tuple[np.ndarray, list[str]]:
    chunk = table.column(column).chunk(0)
    values = [v.decode("ascii", "replace") for v in chunk.dictionary.to_pylist()]
    return chunk.indices.to_numpy(zero_copy_only=False), values


def _fail_at(path: Path, member: str, indices: np.ndarray, bad_codes: Sequence[int],
            values: list[str], column: str, expected: str) -> None:
    """Raise for the first row whose dictionary index is in ``bad_codes``."""
    row = int(np.flatnonzero(np.isin(indices, bad_codes))[0])
    raise SourceFormatError(
        path,
        f"{member}: expected {expected}, found {values[int(indices[row])]!r}",
        row=row + 1,  # line 0 is the header
        column=column,
    )


def _codes(path: Path, member: str, table: pa.Table, column: str, allowed: Sequence[str]
           ) -> np.ndarray:
    """Position of each row's code in ``allowed``; fails on the first other code."""
    indices, values = _dictionary(table, column)
    bad = [i for i, v in enumerate(values) if v not in allowed]
    if bad:
        _fail_at(path, member, indices, bad, values, column, f"one of {list(allowed)}")
    lookup = np.array([allowed.index(v) for v in values], dtype=np.int64)
    return lookup[indices]


def _numbers(path: Path, member: str, table: pa.Table, column: str, low: int, high: int,
             expected: str) -> np.ndarray:
    """A column of whole numbers from ``low`` to ``high`` (plain digits) as int64."""
    indices, values = _dictionary(table, column)
    parsed = np.array([int(v) if v.isdigit() and low <= int(v) <= high else -1 for v in values],
                      dtype=np.int64)
    bad = np.flatnonzero(parsed < 0)
    if len(bad):
        _fail_at(path, member, indices, bad, values, column, expected)
    return parsed[indices]


def _municipalities(path: Path, member: str, table: pa.Table, column: str
                    ) -> tuple[list[str], np.ndarray]:
    """The municipality codes (sorted) and each row's position among them."""
    indices, values = _dictionary(table, column)
    codes = []
    for i, value in enumerate(values):
        try:
            code = normalise_nis(value) if len(value) == 5 else None
        except ValueError:
            code = None
        if code is None:
            _fail_at(path, member, indices, [i], values, column, "a 5-digit REFNIS code")
        if level_of(code) != "municipality":
            _fail_at(path, member, indices, [i], values, column,
                     f"municipality codes only, not the {level_of(code)} code")
        codes.append(code)
    order = np.argsort(codes, kind="stable")
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = np.arange(len(codes))
    return [codes[i] for i in order], rank[indices]


def _check_duplicates(path: Path, member: str, keys: list[np.ndarray], age: np.ndarray,
                      n_civil: int) -> None:
    """Each municipality x sex x nationality x civil status x age once, except at age 100+.

    From 2019 Statbel writes the open 100+ class on several rows (to be summed); any other
    repeated key means a repeated block of rows, which would double count.
    """
    muni, sex, nat, civ = keys
    key = (((muni * 2 + sex) * 2 + nat) * n_civil + civ) * (MAX_AGE + 1) + age
    young = np.flatnonzero(age < MAX_AGE)
    order = np.argsort(key[young], kind="stable")
    ordered = key[young][order]
    repeated = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(repeated):
        row = int(young[order[repeated + 1]].min())  # the first row repeating an earlier one
        raise SourceFormatError(
            path,
            f"{member}: this municipality x sex x nationality x civil status x age already "
            "occurred on an earlier row; only CD_AGE 100 (100 and older) may repeat",
            row=row + 1,
        )


# --- sums ----------------------------------------------------------------------------------


def _cube(muni: np.ndarray, sex: np.ndarray, nat: np.ndarray, age: np.ndarray,
          count: np.ndarray, n_munis: int) -> np.ndarray:
    """Inhabitants per municipality x sex x nationality x age, summing repeated cells."""
    flat = ((muni * 2 + sex) * 2 + nat) * (MAX_AGE + 1) + age
    sums = np.bincount(flat, weights=count, minlength=n_munis * 4 * (MAX_AGE + 1))
    return np.rint(sums).astype(np.int64).reshape(n_munis, 2, 2, MAX_AGE + 1)


def _tidy(cube: np.ndarray, munis: list[str], year: int) -> pd.DataFrame:
    values = np.empty((len(MEASURES), len(munis)), dtype=np.int64)
    for i, cells in enumerate(MEASURES.values()):
        part = cube
        part = part[:, [SEXES.index(cells.sex)]] if cells.sex else part
        part = part[:, :, [NATIONALITIES.index(cells.nationality)]] if cells.nationality else part
        values[i] = part[..., cells.age_from : cells.age_to + 1].sum(axis=(1, 2, 3))
    frame = pd.DataFrame(
        {
            "measure": np.repeat(np.array(list(MEASURES), dtype=object), len(munis)),
            "nis": np.tile(np.array(munis, dtype=object), len(MEASURES)),
            "period": str(year),
            "year": year,
            "value": values.ravel().astype("float64"),
            "unit": "count",
            "status": "ok",
        }
    )
    return finish(frame, geo_version_of_year(year))
