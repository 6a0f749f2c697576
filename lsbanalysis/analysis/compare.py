"""Compare a municipality with its reference group and with the arrondissement, province and
Flemish Region — statistically right aggregation, ranks, differences and trends.

Aggregation rules (see the catalogue): counts are summed; rates and shares of a group are the
ratio of summed numerators and denominators, never the mean of member rates; medians and other
published, non-additive values exist only where the publisher gives them (benchmark rows), so a
group of municipalities has no median. Benchmarks use the arrondissement, province and region of
the target *in the municipal geography of the source year*.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from lsbanalysis import fmt
from lsbanalysis.analysis.catalogue import Catalogue, Indicator, load_catalogue
from lsbanalysis.analysis.groups import CURRENT_GEOGRAPHY, ReferenceGroup
from lsbanalysis.analysis.indicators import indicator_rows
from lsbanalysis.analysis.validation import (  # noqa: F401 - re-exported
    UnknownIndicatorError,
    YearError,
    validate_request,
)
from lsbanalysis.errors import LsbError
from lsbanalysis.names import Municipality

ENTITY_TYPES = ("municipality", "reference_group", "arrondissement", "province", "region")
BENCHMARK_LEVELS = ("arrondissement", "province", "region")
GEO_VERSIONS = ("1977", "2019", "2025")
NOT_AVAILABLE = "not_available"  # no value can be computed correctly (e.g. median of a group)
INCOMPLETE = "incomplete"  # a member's value is unpublished, so the aggregate is not computed
NOT_AVAILABLE_NOTE = ("niet berekenbaar uit de waarden van de gemeenten (een mediaan, of een graad "
                      "zonder gepubliceerde aantallen)")
#: The municipal map each geography version stands for, for the notes of benchmarks: before 2025
#: one source gives "Provincie Antwerpen" on the 2019 map and another on the 2025 map.
MAP_NOTES = {
    "1977": "gemeentelijke indeling van vóór 2019 (589 gemeenten)",
    "2019": "gemeentelijke indeling 2019-2024 (581 gemeenten)",
    "2025": "gemeentelijke indeling vanaf 2025 (565 gemeenten)",
}


def computable_without(aggregation: int | np.ndarray, n_usable, n_units):
    """Whether a group or computed benchmark may leave out units without a published value.

    One rule for reference groups and benchmarks alike: a count (aggregation code 0) is only
    summed when every unit has a value (a partial sum would be an undercount); a rate or share
    (code 1) is the ratio of sums over the units with a value, provided they are more than half
    of the units, and the note names the units left out.
    """
    n_usable, n_units = np.asarray(n_usable), np.asarray(n_units)
    return np.where(np.asarray(aggregation) == 1, 2 * n_usable > n_units, n_usable == n_units)


_LEFT_OUT = re.compile(r"berekend zonder (.+?) \(geen bruikbare waarde\)")


def left_out(note: str) -> str | None:
    """The members a computed value leaves out, as named by :func:`left_out_note`."""
    hit = _LEFT_OUT.search(str(note))
    return hit.group(1) if hit else None


def left_out_note(names: list[str], computed: bool) -> str:
    """'berekend zonder X, Y (geen bruikbare waarde)' or why the value is not computed.

    "Geen bruikbare waarde": not published, or a term that cannot be derived (a published rate
    of 0 gives no denominator).
    """
    shown = ", ".join(names[:5]) + (" e.a." if len(names) > 5 else "")
    if computed:
        return f"berekend zonder {shown} (geen bruikbare waarde)"
    return f"niet berekend: geen bruikbare waarde voor {shown}"


#: Text columns of the comparison tables. Inside :func:`compare` they are plain object columns
#: (building and filtering them as Arrow strings costs more than the arithmetic); the tables a
#: comparison hands out have pandas' ``str`` dtype, as every other text column.
TEXT_COLUMNS = ("indicator", "entity", "entity_type", "role", "status", "source", "note",
                "period", "name", "label", "unit", "theme")


#: The columns of the comparison pipeline (arrays), ``icode`` = position in the catalogue.
COLUMNS = ("indicator", "year", "entity", "entity_type", "role", "value", "status", "source",
           "note", "icode")


def _empty_columns() -> dict[str, np.ndarray]:
    return {c: np.array([], dtype=np.int64 if c in ("year", "icode") else
                        float if c == "value" else object) for c in COLUMNS}


def _take(columns: dict[str, np.ndarray], index) -> dict[str, np.ndarray]:
    return {c: a[index] for c, a in columns.items()}


def _frame(columns: dict) -> pd.DataFrame:
    """A DataFrame whose text columns stay object columns (no Arrow string inference)."""
    return pd.DataFrame({k: pd.Series(v, dtype=object, copy=False)
                         if isinstance(v, np.ndarray) and v.dtype == object else v
                         for k, v in columns.items()})


def _as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``str`` columns as object columns."""
    return frame.astype({c: object for c in frame.columns if frame[c].dtype == "str"})


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The object text columns of ``frame`` as ``str`` columns (what users get)."""
    for col in TEXT_COLUMNS:
        if col in frame and frame[col].dtype == object:
            frame[col] = frame[col].astype("str")
    return frame


class NoDataError(LsbError):
    """None of the requested indicators has a value for the municipality."""


class Engine:
    """Per dataset: the base indicator table, benchmarks and geography maps, computed once."""

    def __init__(self, ds, catalogue: Catalogue | None = None) -> None:
        self.ds = ds
        self.catalogue = catalogue or load_catalogue()
        # Object text columns (as indicator_rows makes them): the comparisons and the spread
        # index and filter them with numpy, which Arrow strings would slow down.
        rows = indicator_rows(self.catalogue, ds.observations)
        self.rows = rows
        geo = ds.geography
        self._levels = set(zip(geo["geo_version"], geo["level"], geo["nis"], strict=True))
        munis = geo[geo["level"] == "municipality"]
        self.municipalities = {v: g.set_index("nis") for v, g in munis.groupby("geo_version")}
        # Which municipalities of an older geography make up a current one.
        self.predecessors: dict[tuple[str, str], dict[str, list[str]]] = {}
        for (gfrom, gto), part in ds.crosswalk.groupby(["geo_from", "geo_to"]):
            by_new = part.groupby("nis_to")["nis_from"].apply(list)
            self.predecessors[(gfrom, gto)] = by_new.to_dict()
        # Integer-coded arrays and row positions per unit, for fast comparisons.
        base = [i for i in self.catalogue if i.method in ("value", "ratio", "rate")]
        self.indicator_ids = np.array([i.id for i in base], dtype=object)
        self.indicator_code = {iid: k for k, iid in enumerate(self.indicator_ids)}
        codes = {"sum": 0, "ratio_of_sums": 1, "derived_ratio": 1, "published": 2}
        self.aggregation_code = np.array([codes[i.aggregation] for i in base])
        self.is_ratio = self.aggregation_code == 1
        self.derived_ratio = np.array([i.aggregation == "derived_ratio" for i in base])
        self.scale = np.array([i.scale for i in base], dtype=float)
        self.arrays = {
            "ind": pd.Categorical(rows["indicator"], categories=self.indicator_ids).codes.astype(
                np.int64),
            "year": rows["year"].to_numpy(dtype=np.int64),
            "value": rows["value"].to_numpy(dtype=float),
            "num": rows["num"].to_numpy(dtype=float),
            "den": rows["den"].to_numpy(dtype=float),
            "status": rows["status"].to_numpy(dtype=object),
            "source": rows["source"].to_numpy(dtype=object),
        }
        mun_rows = rows[rows["level"] == "municipality"]
        self.unit_rows = {
            key: mun_rows.index.to_numpy()[idx]
            for key, idx in mun_rows.groupby(["geo_version", "nis"], sort=False).indices.items()
        }
        self.benchmarks = self._benchmarks(rows)
        self.country = self._country(rows)
        #: Position of every indicator in the catalogue: the integer code the comparison
        #: pipeline filters and sorts on.
        self.catalogue_code = {iid: k for k, iid in enumerate(self.catalogue.indicators)}
        self.base_icode = np.array([self.catalogue_code[i] for i in self.indicator_ids],
                                   dtype=np.int64)
        self._bench_cache: dict[tuple, dict[str, np.ndarray]] = {}
        self._rows_by_indicator: dict[str, np.ndarray] | None = None
        self._units: dict[tuple[str, str], list[str]] = {}  # units() and parents(), memoised
        self._parents: dict[tuple[str, str], dict[str, str | None]] = {}
        bench = {c: self.benchmarks[c].to_numpy(dtype=object) if c not in ("year", "value")
                 else self.benchmarks[c].to_numpy() for c in self.benchmarks.columns}
        bench["icode"] = np.array([self.catalogue_code[i] for i in bench["indicator"]],
                                  dtype=np.int64)
        order = np.lexsort((bench["entity"], bench["geo_version"]))
        ent = [(v, e) for v, e in zip(bench["geo_version"][order], bench["entity"][order],
                                       strict=True)]
        self._bench_by_entity: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        start = 0
        for k in range(1, len(ent) + 1):
            if k == len(ent) or ent[k] != ent[start]:
                idx = np.sort(order[start:k])  # in the order of the benchmark table
                self._bench_by_entity[ent[start]] = {c: a[idx] for c, a in bench.items()}
                start = k

    def rows_of(self, indicator: str) -> pd.DataFrame:
        """The rows of one base indicator (all units and years), in table order."""
        if self._rows_by_indicator is None:
            codes = self.arrays["ind"]
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(len(self.indicator_ids) + 1))
            self._rows_by_indicator = {
                iid: order[bounds[k]:bounds[k + 1]] for k, iid in enumerate(self.indicator_ids)}
        return self.rows.iloc[self._rows_by_indicator.get(indicator, [])]

    @cached_property
    def age_bands(self):
        """Inhabitants per 5-year band of every municipality and year (the age structures;
        built on first use, once)."""
        from lsbanalysis.analysis.structure import BandIndex

        return BandIndex(self.ds)

    @cached_property
    def spread(self):
        """Flemish spread and chance margins of every indicator (built on first use, once)."""
        from lsbanalysis.analysis.catalogue.selection import load_selection
        from lsbanalysis.analysis.spread import Spread

        return Spread(self, load_selection())

    # -- geography -------------------------------------------------------------------------

    def units(self, nis: str, version: str) -> list[str]:
        """Codes in geography ``version`` that together form current municipality ``nis``."""
        key = (nis, version)
        if key not in self._units:
            self._units[key] = self._find_units(nis, version)
        return list(self._units[key])

    def _find_units(self, nis: str, version: str) -> list[str]:
        if version not in self.municipalities:
            return []
        if version == CURRENT_GEOGRAPHY:
            return [nis] if nis in self.municipalities[version].index else []
        if version == "2019":
            pred = self.predecessors.get(("2019", CURRENT_GEOGRAPHY), {}).get(nis)
            if pred:
                return sorted(pred)
            return [nis] if nis in self.municipalities["2019"].index else []
        # 1977: through 2019 where a 1977→2019 crosswalk exists, else the same code.
        out: list[str] = []
        for code in self.units(nis, "2019"):
            pred = self.predecessors.get(("1977", "2019"), {}).get(code)
            if pred:
                out += pred
            elif code in self.municipalities["1977"].index:
                out.append(code)
            else:
                return []  # a 2019 merger without a known composition: not comparable
        return sorted(out)

    def parents(self, nis: str, version: str) -> dict[str, str | None]:
        """Arrondissement, province and region of a current municipality in ``version``.

        The current parents are used when they exist in that geography, so a municipality
        merged across an arrondissement border (Beveren-Kruibeke-Zwijndrecht, Lokeren) keeps
        one set of benchmarks over time; otherwise those of its first predecessor.
        """
        key = (nis, version)
        if key not in self._parents:
            self._parents[key] = self._find_parents(nis, version)
        return dict(self._parents[key])

    def _find_parents(self, nis: str, version: str) -> dict[str, str | None]:
        units = self.units(nis, version)
        if not units:
            return {}
        row = self.municipalities[version].loc[units[0]]
        current = self.municipalities[CURRENT_GEOGRAPHY]
        now = current.loc[nis] if nis in current.index else row
        out: dict[str, str | None] = {}
        for lvl in BENCHMARK_LEVELS:
            code = now[lvl] if isinstance(now[lvl], str) and now[lvl] else None
            if code is None or (version, lvl, code) not in self._levels:
                code = row[lvl] if isinstance(row[lvl], str) and row[lvl] else None
            out[lvl] = code
        return out

    def members_of(self, level: str, code: str, version: str) -> list[str]:
        munis = self.municipalities[version]
        return munis.index[munis[level] == code].tolist()

    # -- benchmarks ------------------------------------------------------------------------

    def _benchmarks(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Arrondissement, province and region values of every base indicator and year.

        Published rows are used where the source has them; otherwise additive indicators are
        summed from the municipalities (unpublished members left out and named in the note);
        non-additive ones (medians) are not available.
        """
        published = rows[rows["level"].isin(BENCHMARK_LEVELS)]
        pub = pd.DataFrame({
            "indicator": published["indicator"], "year": published["year"],
            "geo_version": published["geo_version"], "entity": published["nis"],
            "entity_type": published["level"], "value": published["value"],
            "status": published["status"], "source": published["source"], "note": "",
        })
        # Municipal rows of additive indicators, with their arrondissement, province and
        # region (those without any in their geography are left out).
        arr = self.arrays
        additive = np.flatnonzero(self.aggregation_code != 2)
        parent = {lvl: np.full(len(rows), None, dtype=object) for lvl in BENCHMARK_LEVELS}
        parents_of = {
            (version, nis): up for version, munis in self.municipalities.items()
            for nis, *up in zip(munis.index, *(munis[lvl].to_numpy(dtype=object)
                                               for lvl in BENCHMARK_LEVELS), strict=True)}
        placed = np.zeros(len(rows), dtype=bool)
        for unit, idx in self.unit_rows.items():
            up = parents_of.get(unit)
            if up is not None:
                placed[idx] = True
                for lvl, code in zip(BENCHMARK_LEVELS, up, strict=True):
                    parent[lvl][idx] = code
        mun = np.flatnonzero(placed & np.isin(arr["ind"], additive))
        num, den = arr["num"][mun], arr["den"][mun]
        is_ratio = self.is_ratio[arr["ind"][mun]]
        usable = ~np.isnan(num) & (~np.isnan(den) | ~is_ratio)
        version_code, _ = pd.factorize(rows["geo_version"].to_numpy(dtype=object)[mun])
        nis_of = rows["nis"].to_numpy(dtype=object)[mun]
        parts = []
        for level in BENCHMARK_LEVELS:
            code, _ = pd.factorize(parent[level][mun])  # None: -1
            has = code >= 0
            if not has.any():
                continue
            # One integer per (indicator, year, geography, parent); pandas sums each group as
            # it sums grouped columns (compensated, in row order), groups in order of appearance.
            key = ((arr["ind"][mun] * 10_000 + arr["year"][mun]) * 4 + version_code) * (
                code.max() + 1) + code
            frame = pd.DataFrame({"key": key[has], "num_u": np.where(usable, num, np.nan)[has],
                                  "den_u": np.where(usable, den, np.nan)[has],
                                  "usable": usable[has], "at": mun[has]})
            agg = frame.groupby("key", sort=False).agg(
                num=("num_u", "sum"), den=("den_u", "sum"), n=("usable", "size"),
                n_usable=("usable", "sum"), at=("at", "first"))
            lacking: dict[int, set[str]] = {}
            for k, n in zip(key[has & ~usable].tolist(), nis_of[has & ~usable].tolist(),
                            strict=True):
                lacking.setdefault(k, set()).add(n)
            at = agg["at"].to_numpy()
            code_at = arr["ind"][at]
            scale = self.scale[code_at]
            ratio_at = self.is_ratio[code_at]
            num_g, den_g = agg["num"].to_numpy(), agg["den"].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(ratio_at, scale * num_g / np.where(den_g != 0, den_g, np.nan),
                                 num_g)
            n_usable, n_all = agg["n_usable"].to_numpy(), agg["n"].to_numpy()
            ok = (n_usable > 0) & computable_without(ratio_at.astype(int), n_usable, n_all)
            note = [
                "berekend als som van de gemeenten" if k not in lacking else
                left_out_note([self.ds.name_of(c) for c in sorted(lacking[k])], bool(ok_))
                for ok_, k in zip(ok.tolist(), agg.index.tolist(), strict=True)
            ]
            parts.append(pd.DataFrame({
                "indicator": pd.Series(self.indicator_ids[code_at], dtype=object),
                "year": arr["year"][at],
                "geo_version": pd.Series(rows["geo_version"].to_numpy(dtype=object)[at],
                                         dtype=object),
                "entity": pd.Series(parent[level][at], dtype=object), "entity_type": level,
                "value": np.where(ok, value, np.nan),
                "status": np.where(ok, "ok", INCOMPLETE), "source": pd.Series(
                    arr["source"][at], dtype=object),
                "note": note,
            }))
        # Published first, so it wins over the computed one.
        out = pd.concat([pub, *parts], ignore_index=True)
        out = out.drop_duplicates(["indicator", "year", "geo_version", "entity", "entity_type"])
        map_note = out["geo_version"].map(MAP_NOTES).fillna("")
        out["note"] = np.where(out["note"] != "", out["note"] + "; " + map_note, map_note)
        return out.reset_index(drop=True)

    def _country(self, rows: pd.DataFrame) -> dict[tuple[str, int], float]:
        """Belgium's value of every additive indicator and year (for indices).

        The published country row where the source has one; otherwise the sum over the
        municipalities, but only when the source covers every municipality of its geography.
        """
        out: dict[tuple[str, int], float] = {}
        spec = {i.id: i for i in self.catalogue}
        pub = rows[rows["level"] == "country"]
        for iid, year, value, status in zip(pub["indicator"], pub["year"], pub["value"],
                                            pub["status"], strict=True):
            if status == "ok":
                out[(iid, int(year))] = float(value)
        additive = [i for i, sp in spec.items() if sp.additive]
        mun = rows[(rows["level"] == "municipality") & rows["indicator"].isin(additive)]
        n_geo = {v: len(g) for v, g in self.municipalities.items()}
        agg = mun.assign(num_na=mun["num"].isna(), den_na=mun["den"].isna()).groupby(
            ["indicator", "year", "geo_version"], sort=False).agg(
            n=("num", "size"), num=("num", "sum"), den=("den", "sum"),
            num_na=("num_na", "any"), den_na=("den_na", "any")).reset_index()
        for r in agg.itertuples(index=False):
            ind = spec[r.indicator]
            if (r.indicator, int(r.year)) in out or r.n != n_geo.get(r.geo_version):
                continue
            if r.num_na or (ind.aggregation != "sum" and r.den_na):
                continue
            out[(r.indicator, int(r.year))] = float(
                r.num if ind.aggregation == "sum" else ind.scale * r.num / r.den)
        return out

    def benchmark_rows(self, target: Municipality, indicators: frozenset[str]
                       ) -> dict[str, np.ndarray]:
        """Benchmark rows (arrondissement, province, region) of a target, every year, as
        columns (numpy arrays)."""
        key = (tuple((v, tuple(self.parents(target.nis, v).items())) for v in GEO_VERSIONS),
               indicators)
        cached = self._bench_cache.get(key)
        if cached is None:
            wanted = np.zeros(len(self.catalogue_code), dtype=bool)
            wanted[[self.catalogue_code[i] for i in indicators]] = True
            parts = []
            for version, parents in key[0]:
                for level, code in parents:
                    part = self._bench_by_entity.get((version, code))
                    if code is not None and part is not None:
                        take = (part["entity_type"] == level) & wanted[part["icode"]]
                        parts.append({c: a[take] for c, a in part.items()})
            columns = list(self.benchmarks.columns) + ["icode"]
            cached = {c: np.concatenate([p[c] for p in parts]) if parts else
                      np.array([], dtype=np.int64 if c in ("year", "icode") else
                               float if c == "value" else object) for c in columns}
            cached["role"] = np.full(len(cached["year"]), "benchmark", dtype=object)
            if len(self._bench_cache) > 256:  # municipalities share them per arrondissement
                self._bench_cache.clear()
            self._bench_cache[key] = cached
        return cached


class DatasetEngine:
    """The engine of an unpickled comparison: the dataset at once, its engine when first used.

    A pickled :class:`Comparison` carries no engine (it holds the whole dataset); a report
    chapter that reads the comparison the runner computed attaches its own dataset with
    :meth:`Comparison.attach`, and the engine is only built if something still needs it.
    """

    def __init__(self, ds) -> None:
        self.ds = ds

    def __getattr__(self, name: str):
        return getattr(self.ds.engine, name)


@dataclass
class Comparison:
    """The result of :func:`compare`: tidy tables and the findings.

    Pickles without its engine (see :class:`DatasetEngine`) and without ``raw_history``; what
    was computed before pickling (findings, synthesis, history, the arrondissement comparison)
    travels along, anything else is computed again from the attached dataset.
    """

    target: Municipality
    group: ReferenceGroup
    table: pd.DataFrame  # one row per indicator and entity, at the chosen year
    raw_history: pd.DataFrame | None = field(repr=False)  # every year, undecorated (None
    # once pickled: ``history`` travels instead, or is recomputed)
    indicators: list[Indicator]
    notes: list[str] = field(default_factory=list)
    catalogue: Catalogue = field(default_factory=load_catalogue, repr=False)
    engine: Engine | None = field(default=None, repr=False)
    year: int | None = None  # the reference year asked for (None: latest per indicator)
    requested: tuple[str, ...] | None = field(default=None, repr=False)  # indicators asked for

    def __getstate__(self) -> dict:
        state = {**self.__dict__, "engine": None, "raw_history": None}
        for derived in ("_by_indicator", "_target_history"):  # quick to rebuild
            state.pop(derived, None)
        return state

    def _raw_history_again(self) -> pd.DataFrame:
        """The raw history computed anew from the dataset (after unpickling); the same members
        give the same rows (the group's label, which a list may have changed, is not in it)."""
        reference = self.group.id if self.group.id != "lijst" else self.group.codes
        return self.engine.ds.compare(self.target, reference=reference, year=self.year,
                                      indicators=self.requested).raw_history

    def attach(self, ds) -> Comparison:
        """Give an unpickled comparison (and its arrondissement comparison) a dataset."""
        self.engine = DatasetEngine(ds)
        area = self.__dict__.get("area")
        if area is not None and area is not self:
            area.attach(ds)
        return self

    @cached_property
    def area(self) -> Comparison:
        """The same municipality, indicators and year compared with its arrondissement (the
        maps): computed once per comparison, whatever the number of maps."""
        if self.group.id == "arrondissement":
            return self
        return self.engine.ds.compare(self.target, reference="arrondissement", year=self.year,
                                      indicators=self.requested)

    @cached_property
    def age_structure(self):
        """Inhabitants per 5-year band of the target, its group and the Flemish Region in the
        latest year up to the comparison's year (the population pyramid); raises
        :class:`~lsbanalysis.analysis.structure.AgeStructureError` when there is none.
        Computed with the comparison for a report, so a chapter needs no engine of its own."""
        from lsbanalysis.analysis.structure import age_structure

        return age_structure(self.engine.ds, self.target, self.group, upto=self.year)

    @cached_property
    def year_to_date(self):
        """The target's building permits of the incomplete last year against the same months
        a year earlier (:func:`~lsbanalysis.analysis.partial_year.year_to_date`); raises
        :class:`~lsbanalysis.analysis.partial_year.PartialYearError` when there is none."""
        from lsbanalysis.analysis.partial_year import year_to_date

        return year_to_date(self.engine.ds, self.target)

    @cached_property
    def history(self) -> pd.DataFrame:
        """The same rows as ``table`` over all years (trends); built on first use."""
        raw = self.raw_history if self.raw_history is not None else self._raw_history_again()
        ds = self.engine.ds if self.engine is not None else None
        return _as_text(_decorate(ds, _rank(raw.copy()), self.catalogue, self.target,
                                  self.group))

    # The per-indicator pieces that findings and the synthesis read row by row have object
    # text columns: filtering a dozen rows of Arrow strings costs more than the reading.

    @cached_property
    def _by_indicator(self) -> dict[str, pd.DataFrame]:
        return dict(tuple(_as_objects(self.table).groupby("indicator", sort=False)))

    @cached_property
    def _target_history(self) -> dict[str, pd.DataFrame]:
        h = self.history
        h = _as_objects(h[(h["role"] == "target") & (h["status"] == "ok")].sort_values("year"))
        return dict(tuple(h.groupby("indicator", sort=False)))

    def target_history(self, indicator: str) -> pd.DataFrame:
        """The municipality's published values of one indicator over the years, oldest first."""
        return self._target_history.get(indicator, self.history.iloc[0:0])

    def rows(self, indicator: str) -> pd.DataFrame:
        """The table's rows of one indicator."""
        return self._by_indicator.get(indicator, self.table.iloc[0:0])

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per indicator: target, group, benchmarks, rank, differences and trend."""
        return summarise(self)

    @cached_property
    def findings(self):
        from lsbanalysis.analysis.findings import make_findings

        return make_findings(self)

    @cached_property
    def synthesis(self):
        """The kernvaststellingen (see :mod:`lsbanalysis.analysis.synthesis`)."""
        from lsbanalysis.analysis.synthesis import synthesise

        return synthesise(self)

    def to_csv(self, path_or_buf=None, **kwargs):
        return csv_table(self).to_csv(path_or_buf, index=False, **kwargs)

    def to_json(self) -> dict:
        return {
            "gemeente": {"nis": self.target.nis, "naam": self.target.name},
            "referentie": {"id": self.group.id, "label": self.group.label,
                           "leden": self.group.codes},
            "observaties": csv_table(self).replace({np.nan: None}).to_dict(orient="records"),
            "vaststellingen": [f.as_dict() for f in self.findings],
            "opmerkingen": self.notes,
        }


CSV_COLUMNS = ["indicator", "period", "entity", "entity_type", "value", "role", "name", "label",
               "unit", "status", "rank", "rank_of", "source", "note"]


def csv_table(comparison: Comparison) -> pd.DataFrame:
    """The stable machine-readable contract: indicator, period, entity, entity_type, value, …"""
    return comparison.table[CSV_COLUMNS]


def _aggregate(engine: Engine, inds: list[Indicator], group: ReferenceGroup,
               target: Municipality) -> pd.DataFrame:
    """Values of the target, every member and the group aggregate, for every year.

    Works on integer keys with numpy (bincount) rather than pandas groupby: this runs once per
    comparison and must stay fast enough to compare every municipality in Flanders.
    """
    arr = engine.arrays
    spec = {i.id: i for i in inds if i.method in ("value", "ratio", "rate")}
    wanted = np.zeros(len(engine.indicator_ids), dtype=bool)
    wanted[[engine.indicator_code[i] for i in spec if i in engine.indicator_code]] = True
    members = list(group.members)
    pos_parts, owner_parts = [], []
    for j, m in enumerate(members):
        for version in GEO_VERSIONS:
            for unit in engine.units(m.nis, version):
                idx = engine.unit_rows.get((version, unit))
                if idx is not None:
                    pos_parts.append(idx)
                    owner_parts.append(np.full(len(idx), j))
    if not pos_parts:
        return _empty_columns()
    pos = np.concatenate(pos_parts)
    owner = np.concatenate(owner_parts)
    keep = wanted[arr["ind"][pos]]
    pos, owner = pos[keep], owner[keep]
    ind, year = arr["ind"][pos], arr["year"][pos]
    num, den = arr["num"][pos], arr["den"][pos]
    is_ratio = engine.is_ratio[ind]
    usable = ~np.isnan(num) & (~np.isnan(den) | ~is_ratio)
    num_u, den_u = np.where(usable, num, 0.0), np.where(usable, den, 0.0)
    m = len(members)
    iy = ind.astype(np.int64) * 10_000 + year

    def reduce(key):
        uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
        return (uniq, first, np.bincount(inv), np.bincount(inv, usable),
                np.bincount(inv, num_u), np.bincount(inv, den_u))

    # Members: the published value, or the sum over their predecessors after a merger.
    mk, mfirst, mn, mnu, mnum, mden = reduce(iy * m + owner)
    member_ok = mnu == mn  # every unit of the member has a value
    # Group aggregate: the members with a value, summed; a member without one (unpublished,
    # or absent from the source that year) is left out under the rule of computable_without().
    gk, gfirst, gn, _, _, _ = reduce(iy)
    g_of_m = np.searchsorted(gk, mk // m)
    g_usable = np.bincount(g_of_m, member_ok, minlength=len(gk))
    gnum = np.bincount(g_of_m, np.where(member_ok, mnum, 0.0), minlength=len(gk))
    gden = np.bincount(g_of_m, np.where(member_ok, mden, 0.0), minlength=len(gk))

    def frame(keys_iy, first, single, complete, snum, sden, entity, role, etype):
        ind_k = (keys_iy // 10_000).astype(int)
        agg = engine.aggregation_code[ind_k]  # 0 sum, 1 ratio, 2 published
        scale = engine.scale[ind_k]
        summed = np.where(agg == 1, scale * snum / np.where(sden != 0, sden, np.nan), snum)
        value = np.where(single, arr["value"][pos][first],
                         np.where((agg != 2) & complete, summed, np.nan))
        status = np.where(single, arr["status"][pos][first],
                          np.where(agg == 2, NOT_AVAILABLE, np.where(complete, "ok", INCOMPLETE)))
        n = len(keys_iy)
        return {
            "indicator": engine.indicator_ids[ind_k], "year": keys_iy % 10_000,
            "entity": np.broadcast_to(np.asarray(entity, dtype=object), n),
            "entity_type": np.full(n, etype, dtype=object),
            "role": np.broadcast_to(np.asarray(role, dtype=object), n),
            "value": value, "status": status.astype(object),
            "source": arr["source"][pos][first], "agg": agg, "single": single, "code": ind_k,
            "icode": engine.base_icode[ind_k],
        }

    codes = np.array([x.nis for x in members], dtype=object)
    roles = np.where(codes == target.nis, "target", "member")
    mem = frame(mk // m, mfirst, mn == 1, member_ok, mnum, mden, codes[mk % m], roles[mk % m],
                "municipality")
    g_agg = engine.aggregation_code[(gk // 10_000).astype(int)]
    g_complete = (g_usable > 0) & computable_without(g_agg, g_usable, m)
    grp = frame(gk, gfirst, np.zeros(len(gk), bool), g_complete, gnum, gden, group.id,
                "aggregate", "reference_group")
    out = {k: np.concatenate([mem[k], grp[k]]) for k in mem}
    note = np.full(len(out["year"]), "", dtype=object)
    ok = out["status"] == "ok"
    is_group = out["role"] == "aggregate"
    agg = out["agg"]
    derived = engine.derived_ratio[out["code"]]
    note[ok & is_group & (agg == 1)] = "verhouding van de sommen"
    note[ok & is_group & (agg == 1) & derived] = (
        "verhouding van de sommen, met afgeleide noemers (benadering)")
    note[ok & is_group & (agg == 0)] = "som van de leden"
    note[ok & ~is_group & ~out["single"]] = (
        "som van de gemeenten die in deze gemeente zijn opgegaan")
    note[out["status"] == NOT_AVAILABLE] = NOT_AVAILABLE_NOTE
    note[~is_group & (out["status"] == INCOMPLETE)] = (
        "niet berekend: waarde van een vroegere gemeente ontbreekt")
    # Name the members a group value leaves out (or lacks), as the benchmarks do.
    lacking: dict[int, list[str]] = {}
    for gi, owner in zip(g_of_m[~member_ok], (mk % m)[~member_ok], strict=True):
        lacking.setdefault(int(gi), []).append(members[owner].name)
    for gi in np.flatnonzero(np.bincount(g_of_m, minlength=len(gk)) < m):
        present = set((mk % m)[g_of_m == gi])
        lacking.setdefault(int(gi), []).extend(
            x.name for j, x in enumerate(members) if j not in present)
    offset = len(mem["year"])
    for gi, names in lacking.items():
        if g_agg[gi] != 2:
            note[offset + gi] = left_out_note(sorted(names), bool(g_complete[gi]))
    out["note"] = note
    bench = engine.benchmark_rows(target, frozenset(spec))
    return {c: np.concatenate([out[c], bench[c]]) for c in COLUMNS}


DERIVED_COLUMNS = ["indicator", "year", "entity", "entity_type", "role", "value", "status",
                   "source", "note"]
INDEX_NOTE = ("afgeleid: 100 × de waarde gedeeld door die van België in hetzelfde jaar (de "
              "gepubliceerde index is deze verhouding, afgerond)")


def _derived(inds: list[Indicator], base: pd.DataFrame,
             country: dict[tuple[str, int], float] | None = None) -> pd.DataFrame:
    """Change, quotient and index indicators from aggregated base values (a table).

    change:   100 * (value in year / value lag years earlier - 1), per entity
    quotient: scale * numerator indicator / denominator indicator, per entity and year
    index:    100 * value / Belgium's value of the same indicator and year (``country``)
    """
    code_of = {iid: k for k, iid in enumerate(load_catalogue().indicators)}
    columns = {c: base[c].to_numpy(dtype=object) if c not in ("year", "value")
               else base[c].to_numpy() for c in DERIVED_COLUMNS}
    columns["icode"] = np.array([code_of[i] for i in columns["indicator"]], dtype=np.int64)
    out = _derived_columns(inds, columns, country, code_of)
    if not len(out["year"]):
        return pd.DataFrame(columns=DERIVED_COLUMNS)
    return _frame({c: out[c] for c in DERIVED_COLUMNS})


def _derived_columns(inds: list[Indicator], base: dict[str, np.ndarray],
                     country: dict[tuple[str, int], float] | None,
                     code_of: dict[str, int]) -> dict[str, np.ndarray]:
    """:func:`_derived` on the pipeline's columns (``code_of``: catalogue positions)."""
    specs = [i for i in inds if i.method in ("change", "quotient", "index")]
    if not specs:
        return _empty_columns()
    refs = {r for i in specs for r in (i.base, i.numerator_indicator, i.denominator_indicator)
            if r}
    src = _take(base, np.isin(base["icode"], [code_of[r] for r in refs]))
    # One integer per (entity, entity_type, role) and year, to pair rows by sorting.
    unit = pd.factorize(pd.MultiIndex.from_arrays(
        [src["entity"], src["entity_type"], src["role"]]))[0].astype(np.int64)
    country = country or {}
    parts = []
    for ind in specs:
        first = ind.numerator_indicator if ind.method == "quotient" else ind.base
        a = np.flatnonzero(src["icode"] == code_of[first])
        if not len(a):
            continue
        year = src["year"][a]
        status = src["status"][a]
        ok = status == "ok"
        if ind.method == "index":
            belgium = np.array([country.get((first, int(y)), np.nan) for y in year.tolist()])
            a, year, status, ok, belgium = (x[~np.isnan(belgium)] for x in (
                a, year, status, ok, belgium))
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(ok, 100 * src["value"][a] / belgium, np.nan)
            note = np.where(ok, INDEX_NOTE, src["note"][a]).astype(object)
            source = src["source"][a]
        else:
            other = ind.base if ind.method == "change" else ind.denominator_indicator
            lag = ind.lag if ind.method == "change" else 0
            b = np.flatnonzero(src["icode"] == code_of[other])
            key_b = unit[b] * 10_000 + src["year"][b]
            order = np.argsort(key_b, kind="stable")
            sorted_b = key_b[order]
            want = unit[a] * 10_000 + year - lag
            # the last row with that key, as a dictionary built from the rows would keep
            at = np.searchsorted(sorted_b, want, side="right") - 1
            found = (at >= 0) & (sorted_b[np.maximum(at, 0)] == want)
            a, year, status, ok = a[found], year[found], status[found], ok[found]
            o = b[order[at[found]]]
            o_status = src["status"][o]
            ok &= o_status == "ok"
            va, vo = src["value"][a], src["value"][o]
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(ok, (va / vo - 1) * 100 if ind.method == "change"
                                 else ind.scale * va / vo, np.nan)
            status = np.where(ok, "ok", np.where(status != "ok", status, o_status)).astype(
                object)
            source = src["source"][a]
            note = src["note"][a]
            o_note = src["note"][o]
            if ind.method == "quotient":
                o_source = src["source"][o]
                source = np.array([s if s == t else f"{s}+{t}"
                                   for s, t in zip(source.tolist(), o_source.tolist(),
                                                   strict=True)], dtype=object)
                note = np.array([f"teller: {n}; noemer: {m}" if n and m and n != m else
                                 (n or m) for n, m in zip(note.tolist(), o_note.tolist(),
                                                          strict=True)], dtype=object)
            else:
                note = np.array([n or m for n, m in zip(note.tolist(), o_note.tolist(),
                                                        strict=True)], dtype=object)
        n = len(a)
        parts.append({
            "indicator": np.full(n, ind.id, dtype=object), "year": year,
            "entity": src["entity"][a], "entity_type": src["entity_type"][a],
            "role": src["role"][a], "value": value.astype(float),
            "status": np.asarray(status, dtype=object), "source": source, "note": note,
            "icode": np.full(n, code_of[ind.id], dtype=np.int64),
        })
    if not parts:
        return _empty_columns()
    return {c: np.concatenate([p[c] for p in parts]) for c in COLUMNS}


def _with_fallbacks(inds: list[Indicator], history: dict[str, np.ndarray],
                    code_of: dict[str, int]) -> dict[str, np.ndarray]:
    """Where an indicator has no value, the value of its ``fallback`` indicator stands in.

    Replaces rows that are not available (a group's or merged municipality's welfare index)
    and adds the years the indicator lacks altogether; the rows keep the fallback's note.
    Works on the pipeline's columns.
    """
    key = ("entity", "entity_type", "role", "year")
    icode = history["icode"]
    keep = np.ones(len(icode), dtype=bool)
    taken_parts = []
    for ind in inds:
        if not ind.fallback:
            continue
        sub = np.flatnonzero(icode == code_of[ind.fallback])
        if not len(sub):
            continue
        own = np.flatnonzero(icode == code_of[ind.id])
        available = history["status"][own] != NOT_AVAILABLE
        covered = set(zip(*(history[k][own[available]].tolist() for k in key), strict=True))
        taken = sub[[k not in covered for k in zip(*(history[k][sub].tolist() for k in key),
                                                    strict=True)]]
        keep[own[~available]] = False
        part = _take(history, taken)
        part["indicator"] = np.full(len(taken), ind.id, dtype=object)
        part["icode"] = np.full(len(taken), code_of[ind.id], dtype=np.int64)
        taken_parts.append(part)
    if not taken_parts:
        return history
    parts = [_take(history, keep), *taken_parts]
    return {c: np.concatenate([p[c] for p in parts]) for c in history}


def _needed(catalogue: Catalogue, inds: list[Indicator]) -> list[Indicator]:
    """The indicators plus every indicator a derived one or a fallback is built from."""
    out = {i.id: i for i in inds}
    for ind in inds:
        for ref in (ind.base, ind.numerator_indicator, ind.denominator_indicator, ind.fallback):
            if ref:
                out.update({r.id: r for r in _needed(catalogue, [catalogue[ref]])})
    return list(out.values())


def _rank(history: pd.DataFrame) -> pd.DataFrame:
    """Rank of each municipality (1 = highest value) within the group, ties share a rank.

    As ``groupby(["indicator", "year"]).rank(ascending=False, method="min")`` with the count
    of values, in numpy: sorted by group and falling value, a rank is one more than the number
    of rows of its group before the first row with the same value.
    """
    value = history["value"].to_numpy(dtype=float)
    mun = ((history["entity_type"].to_numpy() == "municipality")
           & (history["status"].to_numpy() == "ok"))
    key = pd.factorize(history["indicator"])[0].astype(np.int64) * 10_000 + history[
        "year"].to_numpy(dtype=np.int64)
    rank = np.full(len(history), np.nan)
    count = np.full(len(history), np.nan)
    if mun.any():  # the count of values of the group, also on a row without one
        groups, inverse = np.unique(key[mun], return_inverse=True)
        valued = ~np.isnan(value[mun])
        count[mun] = np.bincount(inverse, valued, minlength=len(groups))[inverse]
    at = np.flatnonzero(mun & ~np.isnan(value))  # a row without a value has no rank
    if len(at):
        k, v = key[at], value[at]
        order = np.lexsort((-v, k))
        ks, vs = k[order], v[order]
        start = np.searchsorted(ks, ks, side="left")  # first row of the group
        new_value = np.ones(len(ks), dtype=bool)
        new_value[1:] = (ks[1:] != ks[:-1]) | (vs[1:] != vs[:-1])
        first_equal = np.maximum.accumulate(np.where(new_value, np.arange(len(ks)), 0))
        rank[at[order]] = first_equal - start + 1
    history["rank"] = rank
    history["rank_of"] = count
    return history


def compare(
    ds,
    gemeente: str | int | Municipality,
    reference: str | Sequence[str] = "ISOM",
    year: int | None = None,
    indicators: Sequence[str] | None = None,
) -> Comparison:
    """Compare ``gemeente`` with a reference group and the benchmarks.

    ``year`` defaults to the latest year each indicator has for the municipality. An explicit
    year is a reference year: per indicator the latest value up to and including that year (the
    table's ``period`` says which); indicators without a value up to that year are left out and
    named in ``notes``, and the history (trends) stops at that year.
    """
    engine: Engine = ds.engine
    cat = engine.catalogue
    request = validate_request(ds, gemeente, reference, year, indicators)
    target, group, year = request.target, request.group, request.year
    chosen = [cat[i] for i in request.indicators] if request.indicators else [
        i for i in cat if i.listed]
    needed = _needed(cat, chosen)
    code_of = engine.catalogue_code
    base = _aggregate(engine, needed, group, target)
    derived = _derived_columns(needed, base, engine.country, code_of)
    history = {c: np.concatenate([base[c], derived[c]]) for c in COLUMNS}
    history = _with_fallbacks(needed, history, code_of)
    wanted = np.zeros(len(code_of), dtype=bool)
    wanted[[code_of[i.id] for i in chosen]] = True
    history = _take(history, wanted[history["icode"]])
    notes: list[str] = []
    is_target = history["role"] == "target"
    years_of: dict[str, list[int]] = {}
    for iid, y in zip(history["indicator"][is_target].tolist(),
                      history["year"][is_target].tolist(), strict=True):
        years_of.setdefault(iid, []).append(y)
    years_of = {k: sorted(set(v)) for k, v in years_of.items()}
    all_years = sorted({y for ys in years_of.values() for y in ys})
    if not all_years:
        what = chosen[0].short if len(chosen) == 1 else "de gevraagde indicatoren"
        raise NoDataError(f"Er zijn geen gegevens over {what} voor {target}.")
    if year is not None and not all_years[0] <= year <= all_years[-1]:
        if len(chosen) == 1:
            raise YearError(f"{chosen[0].short}: geen gegevens voor {year}; beschikbare jaren "
                            f"voor {target.name}: {fmt.years(all_years)}.")
        raise YearError(f"Geen gegevens voor {year}; beschikbare jaren voor {target.name}: "
                        f"{all_years[0]}–{all_years[-1]} (per indicator verschillend).")
    pick: dict[str, int] = {}
    for ind in chosen:
        years = years_of.get(ind.id, [])
        upto = [y for y in years if year is None or y <= year]
        if not years:
            notes.append(f"{ind.short}: geen gegevens voor {target.name}.")
        elif not upto:
            notes.append(f"{ind.short}: geen gegevens tot en met {year} "
                         f"(wel {fmt.years(years)}).")
        else:
            pick[ind.id] = upto[-1]
    if not pick:  # every chosen indicator starts after the year
        raise YearError(notes[-1] if len(chosen) == 1 else
                        f"Geen enkele indicator heeft gegevens tot en met {year}.")
    chosen = [i for i in chosen if i.id in pick]
    picked = np.full(len(code_of), -1, dtype=np.int64)  # the year shown, per catalogue code
    for iid, y in pick.items():
        picked[code_of[iid]] = y
    keep = picked[history["icode"]] >= 0
    if year is not None:
        keep &= history["year"] <= year
    history = _take(history, keep)
    at_year = history["year"] == picked[history["icode"]]
    table = _frame({c: a[at_year] for c, a in history.items() if c != "icode"})
    table = _as_text(_decorate(ds, _rank(table), cat, target, group))
    history = _frame({c: a for c, a in history.items() if c != "icode"})
    return Comparison(target=target, group=group, table=table, raw_history=history,
                      indicators=chosen, notes=notes, catalogue=cat, engine=engine, year=year,
                      requested=tuple(request.indicators) if request.indicators else None)


def _decorate(ds, frame: pd.DataFrame, cat: Catalogue, target, group) -> pd.DataFrame:
    """Add labels, names and the stable column order; sort for reading.

    Works on integer codes (this runs for every comparison, on every year of every member).
    """
    role_order = {"target": 0, "member": 1, "aggregate": 2, "benchmark": 3}
    level_order = {"municipality": 0, "reference_group": 1, "arrondissement": 2, "province": 3,
                   "region": 4}
    inds = list(cat.indicators.values())
    ind_code = pd.Categorical(frame["indicator"], categories=[i.id for i in inds]).codes
    ent_code, ents = pd.factorize(frame["entity"], sort=True)
    names = {m.nis: m.name for m in group.members}
    names[group.id] = group.label
    ent_names = np.array([names.get(e) or ds.name_of(e) for e in ents], dtype=object)
    order = np.lexsort((
        ent_code,
        frame["year"].to_numpy(),
        frame["entity_type"].map(level_order).to_numpy(),
        frame["role"].map(role_order).to_numpy(),
        ind_code,
    ))
    out = frame.iloc[order].reset_index(drop=True)
    ind_code, ent_code = ind_code[order], ent_code[order]
    out["period"] = out["year"].astype(str)
    out["name"] = ent_names[ent_code]
    out["label"] = np.array([i.label for i in inds], dtype=object)[ind_code]
    out["unit"] = np.array([i.unit for i in inds], dtype=object)[ind_code]
    out["theme"] = np.array([i.theme for i in inds], dtype=object)[ind_code]
    return out


def summarise(c: Comparison) -> pd.DataFrame:
    """One row per indicator at its chosen year."""
    t = c.table
    recs = []
    hist = c.history
    for ind in c.indicators:
        rows = t[t["indicator"] == ind.id]
        if rows.empty:
            continue

        def val(role: str, etype: str | None = None, rows=rows):
            r = rows[rows["role"].eq(role) & (rows["entity_type"].eq(etype) if etype else True)]
            return (float(r["value"].iloc[0]), str(r["status"].iloc[0])) if len(r) else (
                np.nan, "missing")

        tv, ts = val("target")
        gv, gs = val("aggregate")
        av, _ = val("benchmark", "arrondissement")
        pv, _ = val("benchmark", "province")
        rv, _ = val("benchmark", "region")
        trow = rows[rows["role"] == "target"].iloc[0]
        th = hist[(hist["indicator"] == ind.id) & (hist["role"] == "target")
                  & hist["status"].eq("ok")].sort_values("year")
        first = th.iloc[0] if len(th) else None
        recs.append({
            "indicator": ind.id, "label": ind.label, "short": ind.short, "theme": ind.theme,
            "unit": ind.unit, "period": trow["period"], "year": int(trow["year"]),
            "target": tv, "target_status": ts, "group": gv, "group_status": gs,
            "arrondissement": av, "province": pv, "region": rv,
            "rank": trow["rank"], "rank_of": trow["rank_of"],
            "diff_group": tv - gv, "diff_region": tv - rv, "diff_arrondissement": tv - av,
            "first_year": int(first["year"]) if first is not None else np.nan,
            "first_value": float(first["value"]) if first is not None else np.nan,
            "source": trow["source"], "direction": ind.direction,
        })
    return pd.DataFrame(recs)
