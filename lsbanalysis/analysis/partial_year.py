"""A partial year against the same months of the year before (building permits, January–July).

A source whose last year is incomplete (Statbel's building permits: 2025 has January–July
only) is stored with ``<measure>_ytd`` measures and periods like ``2025-M01-M07``. The annual
indicators never read them (they take annual periods only); this module compares such a
partial year with the same months one year earlier, and never presents it as a full year.

    ytd = year_to_date(ds, target)
    ytd.label        # 'januari–juli 2025'
    ytd.table        # measure, label, entity_type, name, previous, current, status_*
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lsbanalysis.analysis.compare import BENCHMARK_LEVELS
from lsbanalysis.errors import LsbError
from lsbanalysis.names import Municipality

PERIOD = re.compile(r"(\d{4})-M(\d\d)-M(\d\d)")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")
#: The year-to-date measures the report shows, with their Dutch label, in this order.
PERMIT_MEASURES = {
    "permits_residential_new_dwellings_ytd": "Vergunde nieuwe woningen",
    "permits_residential_new_apartments_ytd": "waarvan appartementen",
    "permits_residential_new_houses_ytd": "waarvan eengezinswoningen",
    "permits_residential_renovations_ytd": "Renovatievergunningen (woongebouwen)",
}


class PartialYearError(LsbError):
    """No partial-year figures (for this municipality) in the store."""


@dataclass(frozen=True)
class YearToDate:
    """The same months of two consecutive years, per measure and entity."""

    year: int  # the partial year
    first_month: int
    last_month: int
    source: str
    table: pd.DataFrame

    @property
    def months(self) -> str:
        """'januari–juli'."""
        return f"{MONTHS[self.first_month - 1]}–{MONTHS[self.last_month - 1]}"

    @property
    def label(self) -> str:
        """'januari–juli 2025'."""
        return f"{self.months} {self.year}"

    @property
    def previous_label(self) -> str:
        return f"{self.months} {self.year - 1}"


def _periods(obs: pd.DataFrame, measures) -> list[tuple[int, int, int]]:
    found = obs.loc[obs["measure"].isin(list(measures)), "period"].astype(str).unique()
    out = []
    for p in found:
        hit = PERIOD.fullmatch(p)
        if hit:
            out.append(tuple(int(x) for x in hit.groups()))
    return sorted(out)


def year_to_date(ds, target: Municipality, measures: dict[str, str] | None = None,
                 benchmarks: tuple[str, ...] = ("arrondissement", "region")) -> YearToDate:
    """The latest partial year of ``measures`` against the same months a year earlier.

    For the municipality (summed over its predecessors where it arose from a merger; a
    missing count leaves the sum missing, never zero) and the published rows of its
    ``benchmarks``. Raises :class:`PartialYearError` when the store holds no such pair.
    """
    measures = measures or PERMIT_MEASURES
    obs = ds.observations
    periods = _periods(obs, measures)
    pairs = [(y, a, b) for y, a, b in periods if (y - 1, a, b) in periods]
    if not pairs:
        raise PartialYearError("De gegevens bevatten geen onvolledig jaar met dezelfde maanden "
                               "een jaar eerder (" + ", ".join(measures) + ").")
    year, first, last = pairs[-1]
    wanted = {f"{y}-M{first:02d}-M{last:02d}": y for y in (year - 1, year)}
    rows = obs[obs["measure"].isin(list(measures)) & obs["period"].isin(list(wanted))]
    rows = rows.assign(measure=rows["measure"].astype(str), nis=rows["nis"].astype(str),
                       geo_version=rows["geo_version"].astype(str),
                       status=rows["status"].astype(str), y=rows["period"].map(wanted))
    engine = ds.engine
    records = []
    version = str(rows["geo_version"].iloc[0])
    units = engine.units(target.nis, version)
    parents = engine.parents(target.nis, version)
    entities = [("municipality", target.name, units)]
    for level in benchmarks:
        if level not in BENCHMARK_LEVELS:
            raise LsbError(f"benchmarks: onbekend niveau {level!r}; kies uit "
                           f"{', '.join(BENCHMARK_LEVELS)}.")
        code = parents.get(level)
        if code:
            entities.append((level, ds.name_of(code, version), [code]))
    if not units or rows[rows["nis"].isin(units)].empty:
        raise PartialYearError(f"Geen gegevens over {MONTHS[first - 1]}–{MONTHS[last - 1]} "
                               f"{year} voor {target.name}.")
    for etype, name, codes in entities:
        for measure, label in measures.items():
            rec = {"measure": measure, "label": label, "entity_type": etype, "name": name}
            for key, y in (("previous", year - 1), ("current", year)):
                part = rows[(rows["measure"] == measure) & (rows["y"] == y)
                            & rows["nis"].isin(codes)]
                complete = set(part["nis"]) == set(codes) and (part["status"] == "ok").all()
                rec[key] = float(part["value"].sum()) if complete else np.nan
                rec[f"status_{key}"] = "ok" if complete else (
                    "suppressed" if (part["status"] == "suppressed").any() else "missing")
            records.append(rec)
    source = "+".join(sorted(rows["source"].astype(str).unique()))
    return YearToDate(year=year, first_month=first, last_month=last, source=source,
                      table=pd.DataFrame(records))


__all__ = ["YearToDate", "PartialYearError", "year_to_date", "PERMIT_MEASURES"]
