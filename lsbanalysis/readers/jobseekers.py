"""VDAB jobseekers per Flemish municipality, 2014-2024, as exported by Provincies in Cijfers.

File: ``unemployment/vdab_pinc_werkloosheid_gemeenten_2014_2024.xlsx`` (report
"Werkloosheid - gemeenten"), see ``unemployment/SOURCES.md``. Layout of sheet
``Werkloosheid gemeenten``:

the Provincies in Cijfers report layout parsed by :func:`lsbanalysis.readers.pinc.read_report`
(title ``Werkloosheid - gemeenten`` in row 1, series labels in row 2, years in row 3, one row per
municipality named in column A, placeholder rows dropped). Names are matched exactly to the
``name`` of ``pinc_gemeente_2025_codes_names.xlsx``.
Rates are published as fractions and stored in percent (0.049 → 4.9). The first seven series
are annual averages; the WZW series (footnote (1)) are a 31 December snapshot by domicile.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lsbanalysis.readers import pinc

SHEET = "Werkloosheid gemeenten"
TITLE = "Werkloosheid - gemeenten"
GEO_VERSION = pinc.GEO_VERSION
FIRST_YEAR = 2014

#: Verbatim series label (row 2) -> (measure id, unit). Order is the file's order.
SERIES: dict[str, tuple[str, str]] = {
    "werkzoekendengraad (jaargemiddelde) [%]": ("jobseeker_rate", "percent"),
    "werkzoekendengraad mannen (jaargemiddelde) [%]": ("jobseeker_rate_men", "percent"),
    "werkzoekendengraad vrouwen (jaargemiddelde) [%]": ("jobseeker_rate_women", "percent"),
    "werkzoekendengraad 18-24 jaar (jaargemiddelde) [%]": ("jobseeker_rate_18_24", "percent"),
    "werkzoekendengraad 25-59 jaar (jaargemiddelde) [%]": ("jobseeker_rate_25_59", "percent"),
    "werkzoekendengraad 60-64 jaar (jaargemiddelde) [%]": ("jobseeker_rate_60_64", "percent"),
    "werkzoekenden zonder werk (jaargemiddelde) [aantal]": ("nwwz", "count"),
    "WZW [aantal] (1)": ("wzw", "count"),
    "WZW (t.o.v. inwoners 18-64 jaar) [%] (1)": ("wzw_rate", "percent"),
    "WZW Belg [aantal] (1)": ("wzw_belgian", "count"),
    "WZW EU (excl. Belg) [aantal] (1)": ("wzw_eu", "count"),
    "WZW niet-EU [aantal] (1)": ("wzw_non_eu", "count"),
    "WZW Belgische herkomst [aantal] (1)": ("wzw_origin_belgian", "count"),
    "WZW EU herkomst (excl. Belg) [aantal] (1)": ("wzw_origin_eu", "count"),
    "WZW niet-EU herkomst [aantal] (1)": ("wzw_origin_non_eu", "count"),
    "WZW vorig jaar wonend in dezelfde gemeente [aantal] (1)": (
        "wzw_prev_same_municipality",
        "count",
    ),
    "WZW vorig jaar wonend in het buitenland [aantal] (1)": ("wzw_prev_abroad", "count"),
    "WZW vorig jaar wonend in een andere  gemeente [aantal] (1)": (
        "wzw_prev_other_municipality",
        "count",
    ),
    "WZW volgend jaar wonend in dezelfde gemeente [aantal] (1)": (
        "wzw_next_same_municipality",
        "count",
    ),
    "WZW volgend jaar wonend in een andere  gemeente [aantal] (1)": (
        "wzw_next_other_municipality",
        "count",
    ),
    "WZW volgend jaar wonend in het buitenland [aantal] (1)": ("wzw_next_abroad", "count"),
}


def read(path: Path, *, municipality_names: pd.DataFrame) -> pd.DataFrame:
    """Tidy observations (see :data:`lsbanalysis.readers.common.OBSERVATION_COLUMNS`).

    ``municipality_names``: columns ``nis, name`` (from
    :func:`lsbanalysis.readers.pinc_lookups.read_codes_names` on
    ``pinc_gemeente_2025_codes_names.xlsx``). Measures are those of :data:`SERIES`;
    geo_version "2025", level municipality, period = year. ``attrs["table"]`` is the report
    title, ``attrs["exported"]`` the export date written in the file.
    """
    return pinc.read_report(
        path,
        sheet=SHEET,
        title=TITLE,
        series=SERIES,
        municipality_names=municipality_names,
        first_year=FIRST_YEAR,
        percent_from_fraction=True,
    )
