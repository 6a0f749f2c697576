"""Statbel TF_SOC_ADI_MUNTY: administrative disposable income and poverty risk per municipality.

File: ``income_poverty/TF_SOC_ADI_MUNTY.xlsx``, see ``income_poverty/SOURCES.md``. Statbel DataLab
"Administratief beschikbaar inkomen": household disposable income from administrative sources,
equivalised for the household's composition (AEBI), and the *administratief armoederisico*
(share of the population below the one national administrative poverty line).

One sheet ``TF_SOC_ADI_MUNTY``, header in row 1, one row per municipality and year (long
format): ``CD_YEAR`` (the income year), ``CD_MUNTY_REFNIS`` (text), the MS_* measures of
:data:`MEASURES`, names in four languages, and the district/province/region codes and names.
Those codes are stored as text or as numbers without leading zeros (``2000`` for 02000); they
are normalised and checked, not stored. The province is empty for the 19 Brussels
municipalities only.

Municipalities only (no benchmark rows), on the 2019 map back-cast to 2015 (geo_version
"2019"; Herstappe is absent). Period = ``str(CD_YEAR)``, year = CD_YEAR: the income year, as in
the fiscal-income readers (``MS_NBR_ELIGIBLE + MS_NBR_NOT_ELIGIBLE`` is about the population on
1 January of the *following* year). Empty cells (Statbel publishes no indicator when at least
15 % of a municipality's people have no administrative income) become NaN/missing.

Medians and quartiles cannot be aggregated; a group's poverty risk is
``sum(adi_poverty_risk_pct / 100 × adi_persons_eligible) / sum(adi_persons_eligible)``.
``attrs["table"]`` is the sheet name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.nis import levels_of, normalise_nis
from lsbanalysis.readers.common import parse_nis_codes, read_workbook, tidy_from_wide

SHEET = "TF_SOC_ADI_MUNTY"
YEAR_COLUMN = "CD_YEAR"
NIS_COLUMN = "CD_MUNTY_REFNIS"
GEO_VERSION = "2019"

#: MS_* column -> (measure id, unit).
MEASURES: dict[str, tuple[str, str]] = {
    "MS_NBR_ELIGIBLE": ("adi_persons_eligible", "count"),
    "MS_NBR_NOT_ELIGIBLE": ("adi_persons_not_eligible", "count"),
    "MS_PERC_NOT_ELIGIBLE": ("adi_persons_not_eligible_pct", "percent"),
    # Meaning not documented in the file (values 0.0-0.3 % in ISOM); stored as published.
    "MS_PERC_IOE_HH": ("adi_perc_ioe_hh", "percent"),
    "MS_Q1": ("adi_q1", "eur"),
    "MS_MEDIAN": ("adi_median", "eur"),
    "MS_Q3": ("adi_q3", "eur"),
    "MS_INT_QUART_DIFF": ("adi_interquartile_range", "eur"),
    "MS_ADMIN_AROP": ("adi_poverty_risk_pct", "percent"),
}

#: Higher-level code columns: checked (valid code of the right level), not stored.
AREA_COLUMNS = {
    "CD_DSTR_REFNIS": "arrondissement",
    "CD_PROV_REFNIS": "province",
    "CD_RGN_REFNIS": "region",
}
REQUIRED_COLUMNS = [YEAR_COLUMN, NIS_COLUMN, *MEASURES, *AREA_COLUMNS]
BRUSSELS_REGION = "04000"


def read(path: Path) -> pd.DataFrame:
    """Tidy observations of the measures of :data:`MEASURES` (municipalities, geo 2019).

    Raises SourceFormatError naming the file, row and column when the file is missing, not a
    workbook, lacks the sheet or a column, or holds a bad code, year or value.
    """
    path = Path(path)
    raw = read_workbook(path, [SHEET], header=0)[SHEET]
    header = [str(c).strip() if isinstance(c, str) else c for c in raw.columns]
    raw = raw.set_axis(header, axis=1).reset_index(drop=True)
    for col in REQUIRED_COLUMNS:
        if col not in raw.columns:
            shown = [c for c in header if isinstance(c, str)][:6]
            raise SourceFormatError(
                path,
                f"expected column {col!r} in the header row; the header starts with {shown}",
                sheet=SHEET,
                row=0,
            )
    unmapped = [c for c in header if isinstance(c, str) and c.startswith("MS_")
                and c not in MEASURES]
    if unmapped:
        raise SourceFormatError(
            path,
            f"unknown measure column(s) {unmapped}: add them to MEASURES in "
            "lsbanalysis/readers/admin_income.py",
            sheet=SHEET,
            row=0,
        )
    # Trailing rows without year and code (formatted but empty) are dropped.
    keys = raw[[YEAR_COLUMN, NIS_COLUMN]]
    filled = np.flatnonzero(keys.notna().any(axis=1).to_numpy())
    if not len(filled):
        raise SourceFormatError(path, "no data rows below the header", sheet=SHEET)
    raw = raw.iloc[: filled[-1] + 1]

    years = _years(path, raw[YEAR_COLUMN])
    try:
        nis = parse_nis_codes(raw[NIS_COLUMN], path=path, sheet=SHEET, row_offset=1)
    except SourceFormatError as exc:  # name the column as the file does
        raise SourceFormatError(path, exc.problem, sheet=SHEET, row=exc.row,
                                column=NIS_COLUMN) from None
    not_municipal = np.flatnonzero((levels_of(nis) != "municipality").to_numpy())
    if len(not_municipal):
        i = int(not_municipal[0])
        raise SourceFormatError(
            path,
            f"expected a municipality code, found {raw[NIS_COLUMN].iloc[i]!r}",
            sheet=SHEET,
            row=i + 1,
            column=NIS_COLUMN,
        )
    _check_areas(path, raw, nis)
    key = pd.DataFrame({"nis": nis.to_numpy(), "year": years})
    dup = np.flatnonzero(key.duplicated().to_numpy())
    if len(dup):
        i = int(dup[0])
        raise SourceFormatError(
            path,
            f"duplicate row for municipality {key.at[i, 'nis']} and year {key.at[i, 'year']}; "
            "expected one row per municipality and year",
            sheet=SHEET,
            row=i + 1,
        )
    wide = raw[list(MEASURES)].assign(nis=nis.to_numpy())
    out = tidy_from_wide(
        wide,
        MEASURES,
        path=path,
        geo_version=GEO_VERSION,
        period=pd.Series(years.astype(str)),
        year=pd.Series(years),
        sheet=SHEET,
        row_offset=1,
    )
    out.attrs["table"] = SHEET
    return out


def _years(path: Path, cells: pd.Series) -> np.ndarray:
    values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 1970) | (values > 2100)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SourceFormatError(
            path,
            f"expected an integer income year, found {cells.iloc[i]!r}",
            sheet=SHEET,
            row=i + 1,
            column=YEAR_COLUMN,
        )
    return values.astype("int64")


def _check_areas(path: Path, raw: pd.DataFrame, nis: pd.Series) -> None:
    """District, province and region codes: valid codes of their level (text or number).

    The province may be empty only for Brussels municipalities (region 04000).
    """
    brussels = None
    for col, level in reversed(AREA_COLUMNS.items()):  # region first: Brussels rows known
        cells = raw[col].to_numpy(dtype=object)
        codes = []
        for i, cell in enumerate(cells):
            if pd.isna(cell) or str(cell).strip() == "":
                if level == "province" and brussels is not None and brussels[i]:
                    codes.append("")
                    continue
                raise SourceFormatError(
                    path, f"expected a {level} code, found an empty cell",
                    sheet=SHEET, row=i + 1, column=col,
                )
            try:
                code = normalise_nis(cell)
            except ValueError as exc:
                raise SourceFormatError(path, str(exc), sheet=SHEET, row=i + 1,
                                        column=col) from None
            codes.append(code)
        codes_s = pd.Series(codes, dtype=object)
        wrong = np.flatnonzero(
            (codes_s != "").to_numpy() & (levels_of(codes_s) != level).to_numpy()
        )
        if len(wrong):
            i = int(wrong[0])
            raise SourceFormatError(
                path, f"expected a {level} code, found {cells[i]!r}",
                sheet=SHEET, row=i + 1, column=col,
            )
        if level == "region":
            brussels = (codes_s == BRUSSELS_REGION).to_numpy()
        if level == "arrondissement":
            # A municipality's code starts with its arrondissement's first two digits.
            other = np.flatnonzero(codes_s.str[:2].to_numpy() != nis.str[:2].to_numpy())
            if len(other):
                i = int(other[0])
                raise SourceFormatError(
                    path,
                    f"municipality {nis.iloc[i]} is not in arrondissement {codes[i]}",
                    sheet=SHEET, row=i + 1, column=col,
                )
