"""VDAB vacancies per Flemish municipality, 2014-2024, as exported by Provincies in Cijfers.

File: ``work/vdab_pinc_vacatures_gemeenten_2014_2024.xlsx`` (report "Vacatures en krapte -
gemeenten"), see ``work/SOURCES.md``. Same report layout as the jobseekers export, parsed by
:func:`lsbanalysis.readers.pinc.read_report`: sheet ``Vacatures en krapte gemeenten``, 58 series
of 11 years (2014-2024), municipalities on the 2025 map named in column A (no NIS codes).

Stored: the two totals, ``ontvangen vacatures`` (``vacancies_received``) and ``openstaande
vacatures`` (``vacancies_open``), counts per municipality and year. The 56 sector series
(``ontvangen|openstaande vacatures <sector>``, 28 sectors) are checked to be present but not
stored: the analysis does not use them. The 19 Brussels rows hold no data (``?``) and are
stored as missing. The file does not define "ontvangen" (during the year?) or "openstaande"
(at a date, or a yearly average?).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lsbanalysis.readers import pinc

SHEET = "Vacatures en krapte gemeenten"
TITLE = "Vacatures en krapte - gemeenten"
GEO_VERSION = pinc.GEO_VERSION
FIRST_YEAR = 2014

#: Verbatim series label (row 2) -> (measure id, unit): the series that are stored.
SERIES: dict[str, tuple[str, str]] = {
    "ontvangen vacatures": ("vacancies_received", "count"),
    "openstaande vacatures": ("vacancies_open", "count"),
}

#: The 28 sectors of the sector series (verbatim, in the file's order).
SECTORS = (
    "Primaire sector",
    "Dranken, voeding en tabak",
    "Textiel, kleding en schoeisel",
    "Grafische nijverheid, papier en karton",
    "Chemie, rubber en kunststof",
    "Vervaardiging van bouwmaterialen",
    "Metaal",
    "Vervaardiging van machines en toestellen",
    "Vervaardiging van transportmiddelen",
    "Hout- en meubelindustrie",
    "Overige industrie",
    "Energie, water en afvalverwerking",
    "Bouw",
    "Groot- en kleinhandel",
    "Transport, logistiek en post",
    "Horeca en toerisme",
    "Informatica, media en telecom",
    "Financiële diensten",
    "Zakelijke dienstverlening",
    "Uitzendbureaus en arbeidsbemiddeling",
    "Diensten aan personen",
    "Ontspanning, cultuur en sport",
    "Openbare besturen",
    "Onderwijs",
    "Gezondheidszorg",
    "Maatschappelijke dienstverlening",
    "Overige dienstverlening",
    "Onbepaalde sector",
)
#: Labels of the sector series: present in the file, not stored.
SECTOR_SERIES = tuple(f"{kind} {sector}" for kind in SERIES for sector in SECTORS)


def read(path: Path, *, municipality_names: pd.DataFrame) -> pd.DataFrame:
    """Tidy observations of ``vacancies_received`` and ``vacancies_open`` (counts).

    ``municipality_names``: columns ``nis, name`` of ``pinc_gemeente_2025_codes_names.xlsx``.
    Level municipality, geo_version "2025", period = year. ``attrs["table"]`` is the report
    title, ``attrs["exported"]`` the export date written in the file.
    """
    return pinc.read_report(
        path,
        sheet=SHEET,
        title=TITLE,
        series=SERIES,
        ignored=SECTOR_SERIES,
        municipality_names=municipality_names,
        first_year=FIRST_YEAR,
    )
