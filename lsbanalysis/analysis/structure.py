"""The age structure of a municipality, its reference group and a benchmark: inhabitants per
5-year age band and sex, as a share of the whole population (for the population pyramid).

Counts are summed the way the comparison engine sums them: a current municipality that arose
from a merger is the sum of its predecessors in the geography of the year (``Engine.units``);
the reference group's shape is the sum of its members' counts per band divided by the sum of
their populations — never the mean of the members' shares. Benchmarks (arrondissement,
province, region) are the sum over their municipalities, as the source publishes no rows for
them.

    s = age_structure(ds, target, group)          # latest year with data
    s.shape("reference_group")                    # band × sex, % of the group's population
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lsbanalysis.analysis.compare import BENCHMARK_LEVELS, MAP_NOTES, left_out_note
from lsbanalysis.analysis.groups import ReferenceGroup
from lsbanalysis.errors import LsbError
from lsbanalysis.names import Municipality

#: population_men_band_00_04 … population_women_band_95_plus (Statbel, bevolkingsstructuur)
BAND_MEASURE = re.compile(r"population_(men|women)_band_(\d\d)_(\d\d|plus)")
SEXES = ("men", "women")
SEX_LABELS = {"men": "mannen", "women": "vrouwen"}
ENTITY_ORDER = ("municipality", "reference_group", "arrondissement", "province", "region")


class AgeStructureError(LsbError):
    """No age structure for the municipality in the requested year(s)."""


@dataclass(frozen=True)
class AgeStructure:
    """Inhabitants per band and sex on 1 January of ``year``, for several entities.

    ``table`` has one row per entity, band and sex: entity, entity_type, name, band (label
    '0-4' … '95+'), lower (lowest age of the band), sex ('men'/'women'), count, share (% of the
    entity's whole population). Bands are ordered from young to old.
    """

    year: int
    geo_version: str
    source: str
    table: pd.DataFrame
    bands: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def map_note(self) -> str:
        """The municipal map of the counts, for a footnote."""
        return MAP_NOTES.get(self.geo_version, f"gemeentelijke indeling {self.geo_version}")

    def entities(self) -> list[str]:
        """The entity types present, in the order target, group, benchmarks."""
        have = set(self.table["entity_type"])
        return [e for e in ENTITY_ORDER if e in have]

    def name(self, entity_type: str) -> str:
        return str(self.table.loc[self.table["entity_type"] == entity_type, "name"].iloc[0])

    def total(self, entity_type: str) -> float:
        return float(self.table.loc[self.table["entity_type"] == entity_type, "count"].sum())

    def shape(self, entity_type: str, value: str = "share") -> pd.DataFrame:
        """Band × sex (columns 'men', 'women') of one entity: shares (%) or counts."""
        part = self.table[self.table["entity_type"] == entity_type]
        wide = part.pivot(index="band", columns="sex", values=value)
        return wide.reindex(index=list(self.bands), columns=list(SEXES))

    def share_of_ages(self, entity_type: str, lower: int, upper: int | None = None) -> float:
        """% of the population in the bands from age ``lower`` to below ``upper`` (None: up)."""
        part = self.table[self.table["entity_type"] == entity_type]
        inside = part["lower"].ge(lower) & (part["lower"].lt(upper) if upper is not None
                                            else True)
        return float(100 * part.loc[inside, "count"].sum() / part["count"].sum())


def _band_label(lower: str, upper: str) -> str:
    return f"{int(lower)}+" if upper == "plus" else f"{int(lower)}-{int(upper)}"


def _band_rows(ds) -> pd.DataFrame:
    """Annual municipal band counts: nis, geo_version, year, sex, band, lower, count, source."""
    obs = ds.observations
    parsed = {str(m): BAND_MEASURE.fullmatch(str(m)) for m in pd.unique(obs["measure"])}
    parsed = {m: hit.groups() for m, hit in parsed.items() if hit}
    rows = obs[obs["measure"].isin(list(parsed)) & obs["level"].eq("municipality")]
    rows = rows[rows["period"].astype(str).str.fullmatch(r"\d{4}")]
    measure = pd.Series(_objects(rows["measure"]))
    return pd.DataFrame({
        "nis": _objects(rows["nis"]),
        "geo_version": _objects(rows["geo_version"]),
        "year": rows["year"].to_numpy(dtype=int),
        "sex": measure.map({m: g[0] for m, g in parsed.items()}).to_numpy(dtype=object),
        "band": measure.map({m: _band_label(g[1], g[2]) for m, g in parsed.items()}).to_numpy(
            dtype=object),
        "lower": measure.map({m: int(g[1]) for m, g in parsed.items()}).to_numpy(dtype=int),
        "count": rows["value"].to_numpy(dtype=float),
        "status": _objects(rows["status"]),
        "source": _objects(rows["source"]),
    })


def _objects(column: pd.Series) -> np.ndarray:
    """A text column as Python strings; a categorical one through its codes (converting
    every row of a categorical to text first costs ten times more)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        if (codes >= 0).all():
            categories = np.array([str(c) for c in column.cat.categories], dtype=object)
            return categories[codes]
    return column.astype(str).to_numpy(dtype=object)


class BandIndex:
    """The band counts of a dataset (:func:`_band_rows`) and, per year and geography version,
    the municipalities that have them; made once per dataset (``Engine.age_bands``)."""

    def __init__(self, ds) -> None:
        self.rows = _band_rows(ds)
        self.present: dict[tuple[int, str], set[str]] = {
            (int(year), str(version)): set(nis)
            for (year, version), nis in self.rows.groupby(["year", "geo_version"],
                                                          sort=True)["nis"]}

    def target_years(self, engine, target: Municipality) -> dict[int, str]:
        """Year → geography version of the years in which every unit of ``target`` has
        counts."""
        out: dict[int, str] = {}
        for (year, version), present in self.present.items():
            units = engine.units(target.nis, version)
            if units and set(units) <= present:
                out[year] = version
        return out


def structure_years(ds, target: Municipality) -> list[int]:
    """The years with an age structure for ``target`` (every unit it is made of present)."""
    return sorted(ds.engine.age_bands.target_years(ds.engine, target))


def _sum_units(part: pd.DataFrame, units: list[str]) -> pd.DataFrame | None:
    """Band × sex counts summed over ``units``; None if a unit or a count is missing."""
    rows = part[part["nis"].isin(units)]
    if not units or set(rows["nis"]) != set(units) or (rows["status"] != "ok").any():
        return None
    return rows.groupby(["band", "lower", "sex"], as_index=False)["count"].sum()


def age_structure(
    ds,
    target: Municipality,
    group: ReferenceGroup | None = None,
    year: int | None = None,
    *,
    upto: int | None = None,
    benchmarks: tuple[str, ...] = ("region",),
) -> AgeStructure:
    """Inhabitants per 5-year band and sex of ``target``, its group and ``benchmarks``.

    ``year``: that year exactly; else the latest year with data, up to ``upto`` (a reference
    year) when given. Raises :class:`AgeStructureError` when there is none. A group member
    without data in that year is left out of the group's shape if fewer than half are missing
    (the note names it); otherwise the group has no shape.
    """
    unknown = [b for b in benchmarks if b not in BENCHMARK_LEVELS]
    if unknown:
        raise LsbError(f"benchmarks: onbekend niveau {unknown[0]!r}; kies uit "
                       f"{', '.join(BENCHMARK_LEVELS)}.")
    engine = ds.engine
    rows = engine.age_bands.rows
    versions = engine.age_bands.target_years(engine, target)
    available = sorted(versions)
    if year is not None:
        if int(year) not in available:
            raise AgeStructureError(
                f"Geen leeftijdsopbouw van {target.name} voor {year}; wel voor "
                f"{_years(available)}.")
        year = int(year)
    else:
        usable = [y for y in available if upto is None or y <= int(upto)]
        if not usable:
            upto_text = f" tot en met {upto}" if upto is not None else ""
            have = f" (wel {_years(available)})" if available else ""
            raise AgeStructureError(
                f"Geen leeftijdsopbouw per 5 jaar van {target.name}{upto_text}{have}.")
        year = usable[-1]
    version = versions[year]
    part = rows[(rows["year"] == year) & (rows["geo_version"] == version)]
    source = "+".join(sorted(part["source"].unique()))
    frames, notes = [], []

    def add(counts: pd.DataFrame, entity: str, entity_type: str, name: str) -> None:
        counts = counts.assign(entity=entity, entity_type=entity_type, name=name)
        counts["share"] = 100 * counts["count"] / counts["count"].sum()
        frames.append(counts)

    own = _sum_units(part, engine.units(target.nis, version))
    if own is None:  # pragma: no cover - structure_years checked the units
        raise AgeStructureError(f"Geen volledige leeftijdsopbouw van {target.name} in {year}.")
    add(own, target.nis, "municipality", target.name)

    if group is not None:
        usable, lacking = [], []
        for member in group.members:
            counts = _sum_units(part, engine.units(member.nis, version))
            (usable if counts is not None else lacking).append(
                counts if counts is not None else member.name)
        if usable and 2 * len(usable) > len(group.members):
            total = pd.concat(usable).groupby(["band", "lower", "sex"], as_index=False)[
                "count"].sum()
            add(total, group.id, "reference_group", group.label)
        if lacking:
            notes.append(f"{group.label}: " + left_out_note(
                sorted(lacking), bool(usable) and 2 * len(usable) > len(group.members)))

    parents = engine.parents(target.nis, version)
    for level in benchmarks:
        code = parents.get(level)
        members = engine.members_of(level, code, version) if code else []
        counts = part[part["nis"].isin(members)]
        if counts.empty:
            continue
        missing = sorted(set(members) - set(counts["nis"]))
        if missing or (counts["status"] != "ok").any():
            notes.append(f"{ds.name_of(code, version)}: niet berekend (niet elke gemeente heeft "
                         "een leeftijdsopbouw).")
            continue
        total = counts.groupby(["band", "lower", "sex"], as_index=False)["count"].sum()
        add(total, code, level, ds.name_of(code, version))

    table = pd.concat(frames, ignore_index=True)
    bands = tuple(table.sort_values("lower")["band"].drop_duplicates())
    table["_e"] = table["entity_type"].map({e: i for i, e in enumerate(ENTITY_ORDER)})
    table["_s"] = table["sex"].map({s: i for i, s in enumerate(SEXES)})
    table = table.sort_values(["_e", "lower", "_s"]).drop(columns=["_e", "_s"])
    cols = ["entity", "entity_type", "name", "band", "lower", "sex", "count", "share"]
    return AgeStructure(year=year, geo_version=version, source=source,
                        table=table[cols].reset_index(drop=True), bands=bands,
                        notes=tuple(notes))


def _years(years: list[int]) -> str:
    from lsbanalysis import fmt

    return fmt.years(years) if years else "geen enkel jaar"


__all__ = ["AgeStructure", "AgeStructureError", "age_structure", "structure_years"]
