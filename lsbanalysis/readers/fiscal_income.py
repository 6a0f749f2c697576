"""Reader for Statbel open data TF_PSNL_INC_TAX_MUNTY: fiscal income per municipality and year.

Statbel's "Fiscale statistiek van de inkomens" gives one row per municipality per *income
year* (inkomstenjaar; the tax return is filed in the following assessment year). Statbel
ships the table in three editions with the same column names:

* ``.xlsx`` (or ``.xls``): one sheet ``TF_PSNL_INC_TAX_MUNTY``, header in row 1;
* ``.txt``: pipe-delimited text (``|``), UTF-8, possibly with a byte-order mark and CRLF;
* ``.zip``: the ``.txt`` edition zipped (``TF_PSNL_INC_TAX_MUNTY.zip``).

The table has municipality rows only and no arrondissement/province/region totals (and no
median): benchmarks must be summed from the municipalities by the analysis layer. Statbel
has back-cast the 2019 municipal geography (581 municipalities) over the whole series, so
every year is on geo_version ``"2019"``.

``MS_TOT_RESIDENTS`` (measure ``inhabitants``) is the population on **1 January of the
assessment year, i.e. income year + 1**: income year 2020 carries the population of
1 January 2021.

Suppressed cells hold ``*`` and become NaN with status ``suppressed``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.nis import levels_of
from lsbanalysis.readers.common import parse_nis_codes, read_workbook, tidy_from_wide

SHEET = "TF_PSNL_INC_TAX_MUNTY"
YEAR_COLUMN = "CD_YEAR"
NIS_COLUMN = "CD_MUNTY_REFNIS"
GEO_VERSION = "2019"

#: Every MS_* column of the table → (measure id, unit). "_total" measures are sums in euro
#: over the municipality's declarations; "_declarations" measures count the declarations
#: with a non-zero amount of that kind.
MEASURES: dict[str, tuple[str, str]] = {
    "MS_NBR_NON_ZERO_INC": ("declarations_nonzero", "count"),
    "MS_NBR_ZERO_INC": ("declarations_zero_income", "count"),
    "MS_TOT_NET_TAXABLE_INC": ("net_taxable_income_total", "eur"),
    "MS_TOT_NET_INC": ("net_income_total", "eur"),
    "MS_NBR_TOT_NET_INC": ("net_income_declarations", "count"),
    "MS_REAL_ESTATE_NET_INC": ("real_estate_income_total", "eur"),
    "MS_NBR_REAL_ESTATE_NET_INC": ("real_estate_income_declarations", "count"),
    "MS_TOT_NET_MOV_ASS_INC": ("movable_assets_income_total", "eur"),
    "MS_NBR_NET_MOV_ASS_INC": ("movable_assets_income_declarations", "count"),
    "MS_TOT_NET_VARIOUS_INC": ("various_income_total", "eur"),
    "MS_NBR_NET_VARIOUS_INC": ("various_income_declarations", "count"),
    "MS_TOT_NET_PROF_INC": ("professional_income_total", "eur"),
    "MS_NBR_NET_PROF_INC": ("professional_income_declarations", "count"),
    # Separately taxable income (afzonderlijk belastbaar: arrears, early holiday pay, ...).
    "MS_SEP_TAXABLE_INC": ("separately_taxable_income_total", "eur"),
    "MS_NBR_SEP_TAXABLE_INC": ("separately_taxable_income_declarations", "count"),
    # Aggregately taxable income (gezamenlijk belastbaar: taxed at the progressive rates).
    # Not to be confused with joint (couple) declarations.
    "MS_JOINT_TAXABLE_INC": ("aggregately_taxable_income_total", "eur"),
    "MS_NBR_JOINT_TAXABLE_INC": ("aggregately_taxable_income_declarations", "count"),
    "MS_TOT_DEDUCT_SPEND": ("deductible_spending_total", "eur"),
    "MS_NBR_DEDUCT_SPEND": ("deductible_spending_declarations", "count"),
    "MS_TOT_STATE_TAXES": ("state_taxes_total", "eur"),
    "MS_NBR_STATE_TAXES": ("state_taxes_declarations", "count"),
    # Municipal surcharge only; the Brussels agglomeration tax is the next pair.
    "MS_TOT_MUNICIP_TAXES": ("municipal_taxes_total", "eur"),
    "MS_NBR_MUNICIP_TAXES": ("municipal_taxes_declarations", "count"),
    "MS_TOT_SUBURBS_TAXES": ("agglomeration_taxes_total", "eur"),
    "MS_NBR_SUBURBS_TAXES": ("agglomeration_taxes_declarations", "count"),
    "MS_TOT_TAXES": ("taxes_total", "eur"),
    "MS_NBR_TOT_TAXES": ("taxes_declarations", "count"),
    # Population on 1 January of income year + 1 (the assessment year).
    "MS_TOT_RESIDENTS": ("inhabitants", "count"),
}

REQUIRED_COLUMNS = [YEAR_COLUMN, NIS_COLUMN, *MEASURES]

_WORKBOOK_SUFFIXES = {".xlsx", ".xls", ".xlsm"}


def read(path: Path) -> pd.DataFrame:
    """Read a TF_PSNL_INC_TAX_MUNTY edition (.xlsx/.xls, .txt or .zip) into tidy observations.

    Returns the columns of :data:`lsbanalysis.readers.common.OBSERVATION_COLUMNS`, with
    municipality rows only, ``period`` = ``str(CD_YEAR)`` and ``year`` = ``CD_YEAR`` (the
    income year). ``inhabitants`` is the population on 1 January of income year + 1.

    Raises SourceFormatError (naming the file and what was expected) when the file is
    missing, empty, truncated, lacks a column, holds a non-numeric value, an invalid NIS
    code or a non-integer CD_YEAR.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    sheet: str | None = None
    table: str | None = None  # the table's name as the file gives it (sheet or zip member)
    if suffix in _WORKBOOK_SUFFIXES:
        sheet = table = SHEET
        raw = read_workbook(path, [SHEET], header=0)[SHEET]
    elif suffix == ".txt":
        raw = _read_text(path, _read_bytes(path), where=None)
    elif suffix == ".zip":
        raw = _read_zip(path)
        table = raw.attrs.get("member")
    else:
        raise SourceFormatError(
            path, f"unknown file type {path.suffix!r}; expected .xlsx, .xls, .txt or .zip"
        )
    out = _tidy(raw, path, sheet=sheet)
    out.attrs["table"] = table  # for the build's edition check ([source.expect])
    return out


# --- editions ------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise SourceFormatError(path, "file not found")
    data = path.read_bytes()
    if not data:
        raise SourceFormatError(path, "file is empty (0 bytes); expected pipe-delimited text")
    return data


def _read_zip(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise SourceFormatError(path, "file not found")
    if path.stat().st_size == 0:
        raise SourceFormatError(path, "file is empty (0 bytes); expected a zip archive")
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir()
                and info.filename.lower().endswith(".txt")
                and not info.filename.startswith("__MACOSX/")
            ]
            if len(members) != 1:
                raise SourceFormatError(
                    path,
                    "expected exactly one pipe-delimited .txt file in the zip archive, found "
                    f"{[i.filename for i in members] or archive.namelist()}",
                )
            member = members[0]
            data = archive.read(member)
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as exc:
        raise SourceFormatError(
            path, f"cannot be opened as a zip archive, possibly truncated ({exc})"
        ) from exc
    if not data:
        raise SourceFormatError(path, f"{member.filename} inside the zip archive is empty")
    frame = _read_text(path, data, where=member.filename)
    frame.attrs["member"] = Path(member.filename).stem
    return frame


def _read_text(path: Path, data: bytes, *, where: str | None) -> pd.DataFrame:
    """Parse the pipe-delimited edition; every line must have as many fields as the header."""
    # Text columns (names) are not used; undecodable bytes cannot corrupt the numbers silently
    # because every value is still checked by parse_values.
    text = data.decode("utf-8-sig", errors="replace")
    lines = pd.Series(text.splitlines(), dtype=object)
    lines = lines[lines.str.strip() != ""]
    member = f" ({where} in the zip archive)" if where else ""
    if lines.empty:
        raise SourceFormatError(path, f"no header line{member}; expected pipe-delimited text")
    header = lines.iloc[0]
    if "|" not in header:
        raise SourceFormatError(
            path,
            f"expected a pipe-delimited ('|') header line with {YEAR_COLUMN}|{NIS_COLUMN}|…"
            f"{member}, found {header[:80]!r}",
        )
    fields = lines.str.count(r"\|").to_numpy()
    bad = np.flatnonzero(fields != fields[0])
    if len(bad):
        i = int(bad[0])
        raise SourceFormatError(
            path,
            f"line has {fields[i] + 1} fields, expected {fields[0] + 1} like the header"
            f"{member}; the file may be truncated or malformed",
            row=int(lines.index[i]),
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep="|",
            dtype=str,
            keep_default_na=False,
            quoting=csv.QUOTE_NONE,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise SourceFormatError(
            path, f"cannot be parsed as pipe-delimited text{member}: {exc}"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


# --- shared validation and tidying -----------------------------------------------------------


def _tidy(raw: pd.DataFrame, path: Path, *, sheet: str | None) -> pd.DataFrame:
    columns = [str(c).strip() if isinstance(c, str) else c for c in raw.columns]
    raw = raw.set_axis(columns, axis=1)
    for col in REQUIRED_COLUMNS:
        if col not in raw.columns:
            shown = [c for c in columns if isinstance(c, str)][:6]
            raise SourceFormatError(
                path,
                f"expected column {col!r} in the header row (row 1); the header starts "
                f"with {shown}",
                sheet=sheet,
            )
    unmapped = [
        c for c in columns if isinstance(c, str) and c.startswith("MS_") and c not in MEASURES
    ]
    if unmapped:
        raise SourceFormatError(
            path,
            f"unknown measure column(s) {unmapped}: add them to MEASURES in "
            "lsbanalysis/readers/fiscal_income.py",
            sheet=sheet,
        )
    raw = raw.reset_index(drop=True)
    # Drop empty trailing rows (an xlsx may carry formatted but empty rows); a row without
    # year and NIS code inside the data is an error.
    keys = raw[[YEAR_COLUMN, NIS_COLUMN]]
    keep = (keys.notna() & (keys != "")).any(axis=1).to_numpy()
    if not keep.all():
        last = int(np.flatnonzero(keep)[-1]) if keep.any() else -1
        if not keep[: last + 1].all():
            gap = int(np.flatnonzero(~keep[: last + 1])[0])
            raise SourceFormatError(
                path,
                "empty row inside the data; expected one row per municipality and year",
                sheet=sheet,
                row=gap + 1,
            )
        raw = raw.iloc[: last + 1]
    if raw.empty:
        raise SourceFormatError(path, "no data rows below the header", sheet=sheet)

    years = _parse_years(raw[YEAR_COLUMN], path=path, sheet=sheet)
    nis = parse_nis_codes(raw[NIS_COLUMN], path=path, sheet=sheet, row_offset=1)
    municipal = (levels_of(nis) == "municipality").to_numpy()
    if not municipal.any():
        raise SourceFormatError(
            path, f"no municipality codes in column {NIS_COLUMN!r}", sheet=sheet
        )
    key = pd.DataFrame({"nis": nis.to_numpy(), "year": years})
    dup = key.duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise SourceFormatError(
            path,
            f"duplicate row for municipality {key.at[i, 'nis']} and year {key.at[i, 'year']};"
            " expected one row per municipality and year",
            sheet=sheet,
            row=i + 1,
        )
    wide = raw[list(MEASURES)]
    wide = wide.assign(nis=nis.to_numpy())
    out = tidy_from_wide(
        wide,
        MEASURES,
        path=path,
        geo_version=GEO_VERSION,
        period=pd.Series(years.astype(str)),
        year=pd.Series(years),
        sheet=sheet,
        row_offset=1,
    )
    if not municipal.all():
        # The published table has municipality rows only; an aggregate row must never reach
        # the store, where the analysis layer sums municipalities into benchmarks.
        out = out[out["level"] == "municipality"].reset_index(drop=True)
    return out


def _parse_years(cells: pd.Series, *, path: Path, sheet: str | None) -> np.ndarray:
    values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 1970) | (values > 2100)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SourceFormatError(
            path,
            f"expected an integer income year, found {cells.iloc[i]!r}",
            sheet=sheet,
            row=i + 1,
            column=YEAR_COLUMN,
        )
    return values.astype("int64")
