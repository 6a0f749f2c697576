"""Statbel TF_BUILDING_PERMITS: building permits issued per area, monthly, from 1996.

File: ``housing/TF_BUILDING_PERMITS_<date>.zip``, see ``housing/SOURCES.md``. The zip holds one
text member (``BV_opendata_<yymmdd>_<hhmmss>.txt``, 25 MB), read from the archive in memory
with ``pyarrow.csv``: ``|``-separated, fields in double quotes, CRLF, a header row, columns
:data:`COLUMNS`. ``CD_REFNIS_LEVEL`` gives the level of each row (1 Belgium, 2 regions,
3 provinces, 4 arrondissements, 5 municipalities), on the 2025 map (geo_version "2025"); the
level must agree with the code. ``CD_PERIOD`` 1-12 are months, 0 the annual total.

Stored, at every level:

* **complete years** (those with annual rows): the published annual total (``CD_PERIOD`` 0) of
  every MS_* measure, period ``"YYYY"``, measure ids of :data:`MEASURES`;
* **the partial last year** (months 1..k only, no annual row; 2025 = January-July in this
  edition) as **year-to-date sums** under separate ids ``<measure>_ytd``, with period
  ``"YYYY-M01-Mkk"`` (e.g. ``"2025-M01-M07"``), and the same months of the previous year under
  the same ids (``"2024-M01-M07"``) for a like-for-like comparison. A partial year never appears
  under the annual ids. A ``_ytd`` cell is NaN/missing when any of its months is empty (or
  suppressed when one is suppressed).

Empty cells are NaN/missing, never zero; Statbel leaves the floor area (and volume) empty in
months without new buildings, so their ``_ytd`` sums are often missing. The ``_ytd`` values are
derived (summed by this reader from the published monthly rows of the same area); annual and
higher-level rows are stored as published. In the 2025-10-21 edition an annual row differs
from the sum of its 12 months by at most 4 units (never for municipal counts), and a Flemish
arrondissement row equals the sum of its municipalities (counts exactly, m²/m³ within 4) -
except in **2017**, when the Flemish arrondissement, province and region rows hold more permits
than their municipalities (Vlaams Gewest: 2,206 new dwellings more), so a group summed from
municipalities is not comparable with a published benchmark row for 2017. Some Walloon 2024
rows differ too (floor area, volume). ``attrs["table"]`` is the name of the zip member.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.nis import levels_of
from lsbanalysis.readers.common import finish, parse_values

GEO_VERSION = "2025"

#: MS_* column -> (measure id, unit) of the annual totals; year-to-date ids add "_ytd".
MEASURES: dict[str, tuple[str, str]] = {
    "MS_BUILDING_RES_NEW": ("permits_residential_new_buildings", "count"),
    "MS_DWELLING_RES_NEW": ("permits_residential_new_dwellings", "count"),
    "MS_APARTMENT_RES_NEW": ("permits_residential_new_apartments", "count"),
    "MS_SINGLE_HOUSE_RES_NEW": ("permits_residential_new_houses", "count"),
    "MS_TOTAL_SURFACE_RES_NEW": ("permits_residential_new_floor_area", "m2"),
    "MS_BUILDING_RES_RENOVATION": ("permits_residential_renovations", "count"),
    "MS_BUILDING_NONRES_NEW": ("permits_nonresidential_new_buildings", "count"),
    "MS_VOLUME_NONRES_NEW": ("permits_nonresidential_new_volume", "m3"),
    "MS_BUILDING_NONRES_RENOVATION": ("permits_nonresidential_renovations", "count"),
}
YTD_SUFFIX = "_ytd"
CODE_COLUMNS = (
    "REFNIS",
    "CD_REFNIS_NATION",
    "CD_REFNIS_REGION",
    "CD_REFNIS_PROVINCE",
    "CD_REFNIS_DISTRICT",
    "CD_REFNIS_MUNICIPALITY",
)
COLUMNS = (
    "REFNIS", "REFNIS_NL", "REFNIS_FR", "CD_YEAR", "CD_PERIOD", *MEASURES, *CODE_COLUMNS[1:],
    "CD_REFNIS_LEVEL",
)
LEVELS = {1: "country", 2: "region", 3: "province", 4: "arrondissement", 5: "municipality"}
ANNUAL = 0
STATUS_NAMES = np.array(["ok", "suppressed", "missing"], dtype=object)
OK, SUPPRESSED, MISSING = range(3)


def ytd_period(year: int, last_month: int) -> str:
    """Period label of the months January..``last_month`` of ``year``: '2025-M01-M07'."""
    return f"{year}-M01-M{last_month:02d}"


def read(path: Path) -> pd.DataFrame:
    """Tidy observations: annual totals of complete years, ``_ytd`` sums for a partial year.

    See the module docstring for the periods and measure ids. Raises SourceFormatError naming
    the file, member, row and column for a missing or damaged archive, another layout, a bad
    code, level, year, month or value.
    """
    path = Path(path)
    member, data = _member(path)
    table = _parse(path, member, data)
    frame, values, status = _columns(path, member, table)
    out = _tidy(path, member, frame, values, status)
    out.attrs["table"] = member
    return out


def _member(path: Path) -> tuple[str, bytes]:
    if not path.exists():
        raise SourceFormatError(path, "file not found")
    if path.stat().st_size == 0:
        raise SourceFormatError(path, "file is empty (0 bytes); expected a zip archive")
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                info for info in archive.infolist()
                if not info.is_dir() and info.filename.lower().endswith(".txt")
                and not info.filename.startswith("__MACOSX/")
            ]
            if len(members) != 1:
                raise SourceFormatError(
                    path,
                    "expected exactly one '|'-separated .txt file in the zip archive, found "
                    f"{[i.filename for i in members] or archive.namelist()}",
                )
            data = archive.read(members[0])
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as exc:
        raise SourceFormatError(
            path, f"cannot be opened as a zip archive, possibly truncated ({exc})"
        ) from exc
    if not data.strip():
        raise SourceFormatError(path, f"{members[0].filename} inside the zip archive is empty")
    return members[0].filename, data


def _parse(path: Path, member: str, data: bytes) -> pa.Table:
    """Every column as text (nulls for empty cells); the header is checked first."""
    first = data[: data.find(b"\n") if b"\n" in data else len(data)]
    header = first.decode("ascii", errors="replace").strip().replace('"', "").split("|")
    if tuple(header) != COLUMNS:
        raise SourceFormatError(
            path,
            f"expected the '|'-separated header {'|'.join(COLUMNS[:5])}|… ({len(COLUMNS)} "
            f"columns) in {member}, found {first[:80]!r}",
            row=0,
        )
    try:
        return pcsv.read_csv(
            io.BytesIO(data),
            parse_options=pcsv.ParseOptions(delimiter="|"),
            # Only an empty cell is null: "NA", "n/a", "NaN" ... must reach the value check.
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in COLUMNS},
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid as exc:
        raise SourceFormatError(
            path, f"{member} cannot be parsed as '|'-separated UTF-8 text: {exc}"
        ) from None


def _numbers(path: Path, member: str, table: pa.Table, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Values and status codes (:data:`STATUS_NAMES`) of one column; a cell that is not a
    number is located exactly (row and column) by :func:`parse_values`."""
    try:
        values = pc.cast(table[col], pa.float64()).to_numpy(zero_copy_only=False)
        return values, np.where(np.isnan(values), MISSING, OK).astype(np.int8)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        cells = pd.Series(table[col].to_pandas(), dtype=object)
        values, status = parse_values(cells, path=path, column=f"{col} in {member}", row_offset=1)
        codes = np.select([status == "suppressed", status == "missing"], [SUPPRESSED, MISSING], OK)
        return values, codes.astype(np.int8)


def _integers(path: Path, member: str, table: pa.Table, col: str, low: int, high: int):
    values, status = _numbers(path, member, table, col)
    bad = (status != OK) | (values != np.round(values)) | (values < low) | (values > high)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SourceFormatError(
            path,
            f"expected a whole number from {low} to {high}, found {table[col][i].as_py()!r}",
            row=i + 1,
            column=f"{col} in {member}",
        )
    return values.astype("int64")


def _columns(path: Path, member: str, table: pa.Table):
    """Keys (code, level, year, month) as a frame, measures as 2-D arrays, all validated."""
    if table.num_rows == 0:
        raise SourceFormatError(path, f"no data rows below the header in {member}")
    # Codes and levels are checked once per distinct (code, level) pair, not per row.
    level_no = _integers(path, member, table, "CD_REFNIS_LEVEL", 1, 5)
    encoded = pc.dictionary_encode(pc.fill_null(table["REFNIS"], "")).combine_chunks()
    uniques = pd.Series(encoded.dictionary.to_pylist(), dtype=object)
    code_idx = encoded.indices.to_numpy(zero_copy_only=False)
    pairs = pd.DataFrame({"code": code_idx, "level": level_no}).drop_duplicates()
    text = uniques.to_numpy()[pairs["code"].to_numpy()]
    valid = pd.Series(text, dtype=object).str.fullmatch(r"\d{5}").to_numpy()
    if not valid.all():
        bad = pairs.index[np.flatnonzero(~valid)[0]]
        raise SourceFormatError(
            path, f"expected a 5-digit NIS code, found {text[~valid][0]!r}",
            row=int(bad) + 1, column=f"REFNIS in {member}",
        )
    declared = pairs["level"].map(LEVELS).to_numpy()
    wrong = np.flatnonzero(levels_of(pd.Series(text, dtype=object)).to_numpy() != declared)
    if len(wrong):
        i = int(pairs.index[wrong[0]])
        raise SourceFormatError(
            path,
            f"code {text[wrong[0]]} is not of level {level_no[i]} ({declared[wrong[0]]}) given "
            "in CD_REFNIS_LEVEL",
            row=i + 1, column=f"CD_REFNIS_LEVEL in {member}",
        )
    frame = pd.DataFrame(
        {
            "nis": pd.Categorical.from_codes(code_idx, categories=uniques.to_numpy()),
            "year": _integers(path, member, table, "CD_YEAR", 1970, 2100),
            "month": _integers(path, member, table, "CD_PERIOD", 0, 12),
        }
    )
    key = (code_idx.astype(np.int64) * 10_000 + frame["year"].to_numpy()) * 100 + frame["month"]
    dup = np.flatnonzero(pd.Series(key).duplicated().to_numpy())
    if len(dup):
        i = int(dup[0])
        raise SourceFormatError(
            path,
            f"duplicate row for {frame.at[i, 'nis']}, year {frame.at[i, 'year']}, period "
            f"{frame.at[i, 'month']}; expected one row per area, year and period",
            row=i + 1, column=f"REFNIS in {member}",
        )
    values = np.empty((table.num_rows, len(MEASURES)))
    status = np.empty((table.num_rows, len(MEASURES)), dtype=np.int8)
    for j, col in enumerate(MEASURES):
        values[:, j], status[:, j] = _numbers(path, member, table, col)
    return frame, values, status


def _tidy(path: Path, member: str, frame: pd.DataFrame, values: np.ndarray,
          status: np.ndarray) -> pd.DataFrame:
    annual = frame["month"].to_numpy() == ANNUAL
    complete = set(frame.loc[annual, "year"])
    partial = sorted(set(frame["year"]) - complete)
    if len(partial) > 1 or (partial and partial[0] != frame["year"].max()):
        raise SourceFormatError(
            path,
            f"only the last year may lack annual rows (CD_PERIOD 0) in {member}; years without "
            f"them: {partial}",
        )
    parts = [_long(frame[annual], values[annual], status[annual], suffix="",
                   period=frame.loc[annual, "year"].astype(str))]
    if partial:
        year = partial[0]
        months = sorted(set(frame.loc[frame["year"] == year, "month"]))
        if months != list(range(1, len(months) + 1)):
            raise SourceFormatError(
                path, f"expected the months 1..{max(months)} of the partial year {year} in "
                f"{member}, found {months}",
            )
        for y in (year, year - 1):
            parts.append(_year_to_date(frame, values, status, y, len(months)))
    out = pd.concat(parts, ignore_index=True)
    return finish(out, GEO_VERSION)


def _long(keys: pd.DataFrame, values: np.ndarray, status: np.ndarray, *, suffix: str,
          period: pd.Series) -> pd.DataFrame:
    n, k = values.shape
    ids = [m + suffix for m, _ in MEASURES.values()]
    units = [u for _, u in MEASURES.values()]
    return pd.DataFrame(
        {
            "measure": np.tile(ids, n),
            "nis": np.repeat(keys["nis"].to_numpy(), k),
            "period": np.repeat(np.asarray(period, dtype=object), k),
            "year": np.repeat(keys["year"].to_numpy(), k),
            "value": values.ravel(),
            "unit": np.tile(units, n),
            "status": STATUS_NAMES[status.ravel()],
        }
    )


def _year_to_date(frame: pd.DataFrame, values: np.ndarray, status: np.ndarray, year: int,
                  last_month: int) -> pd.DataFrame:
    """Sums of months 1..last_month of ``year`` per area; missing unless every month is there."""
    rows = np.flatnonzero(
        (frame["year"].to_numpy() == year)
        & (frame["month"].to_numpy() >= 1) & (frame["month"].to_numpy() <= last_month)
    )
    codes, area = np.unique(np.asarray(frame["nis"], dtype=object)[rows], return_inverse=True)
    n, k = len(codes), values.shape[1]
    total = np.zeros((n, k))
    months = np.zeros((n, k), dtype=np.int64)
    suppressed = np.zeros((n, k), dtype=bool)
    ok = status[rows] == OK
    np.add.at(total, area, np.where(ok, values[rows], 0.0))
    np.add.at(months, area, ok.astype(np.int64))
    np.logical_or.at(suppressed, area, status[rows] == SUPPRESSED)
    complete = months == last_month
    total[~complete] = np.nan
    state = np.where(complete, OK, np.where(suppressed, SUPPRESSED, MISSING)).astype(np.int8)
    keys = pd.DataFrame({"nis": codes, "year": np.full(n, year)})
    return _long(keys, total, state, suffix=YTD_SUFFIX,
                 period=pd.Series([ytd_period(year, last_month)] * n))
