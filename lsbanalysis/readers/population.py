"""Reader for Statbel's population density per municipality, ``Pop_density_en.xlsx``.

:func:`read_density` reads the workbook ("Population density by municipality 1st January YYYY",
one sheet per year): population, area and density for Belgium, the regions, provinces,
arrondissements and the 581 municipalities of the 2019-2024 geography. The population
structure (``TF_SOC_POP_STRUCT_YYYY.zip``) has its own reader,
:mod:`lsbanalysis.readers.population_structure`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from lsbanalysis.errors import SourceFormatError
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

    ``.xlsx`` -> :func:`read_density`; ``.zip`` (``TF_SOC_POP_STRUCT_YYYY.zip``) ->
    :func:`lsbanalysis.readers.population_structure.read`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        return read_density(path)
    if suffix == ".zip":
        from lsbanalysis.readers import population_structure

        return population_structure.read(path)
    raise SourceFormatError(
        path,
        f"unknown file type {path.suffix!r}; expected Pop_density_en.xlsx (.xlsx) or "
        "TF_SOC_POP_STRUCT_YYYY.zip (.zip)",
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
