"""Every indicator over all municipalities: how far apart the Flemish municipalities lie, and
how much chance there is in each municipality's value.

Built once per :class:`~lsbanalysis.analysis.compare.Engine` (``engine.spread``) and shared by
every comparison of that dataset, so that the selection of key findings costs no pass over the
data per comparison.

- ``spread(indicator, year)``: the robust spread of the Flemish municipalities, i.e. the
  interquartile range / 1.349 (the standard deviation of a normal distribution with the same
  middle half);
- ``change(indicator, y0, y1)``: median and spread of the municipal changes between two years;
- ``se(indicator, year, units)``: the standard error of a municipality's value from chance:
  shares binomial (``num`` of ``den``), rates Poisson on the published count, medians
  1.2533 x sigma / sqrt(n) with sigma = IQR / 1.349; change and quotient propagate it.
"""

from __future__ import annotations

import fnmatch

import numpy as np
import pandas as pd

from lsbanalysis.analysis.catalogue import Indicator
from lsbanalysis.analysis.catalogue.selection import Selection

#: Units whose changes are compared in percent (relative) rather than in the unit itself.
RELATIVE_UNITS = ("eur", "count", "per_km2")
_IQR_TO_SD = 1.349
_MEDIAN_SE = 1.2533  # sqrt(pi / 2): SE of a median = 1.2533 x sigma / sqrt(n)
MIN_MUNICIPALITIES = 10  # fewer values give no spread


def noise_kind(ind: Indicator, rule: Selection) -> str | None:
    """share / rate / median / change / quotient, or None when chance is not modelled."""
    if ind.id in rule.noise and rule.noise[ind.id].noise:
        return rule.noise[ind.id].noise
    if ind.method == "ratio" and ind.unit == "percent":
        return "share"
    if ind.method == "rate":
        return "rate"
    if ind.method in ("change", "quotient"):
        return ind.method
    return None


def change_of(a: float | np.ndarray, b: float | np.ndarray, unit: str):
    """Change from ``a`` to ``b``: in percent for relative units, else in the unit itself."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100 * (b / a - 1) if unit in RELATIVE_UNITS else b - a


class _Slices:
    """The rows of a frame per (indicator, year), as ``groupby(...).get_group`` gives them
    (same rows, order and index), cut from one stable sort instead of ~1,000 group frames."""

    def __init__(self, frame: pd.DataFrame) -> None:
        codes, self._ids = pd.factorize(frame["indicator"])
        key = codes.astype(np.int64) * 10_000 + frame["year"].to_numpy(dtype=np.int64)
        order = np.argsort(key, kind="stable")
        self._sorted = frame.iloc[order]
        uniq, start = np.unique(key[order], return_index=True)
        stop = np.append(start[1:], len(order))
        self._bounds = {(self._ids[k // 10_000], int(k % 10_000)): (a, b)
                        for k, a, b in zip(uniq.tolist(), start.tolist(), stop.tolist(),
                                           strict=True)}
        self._cache: dict[tuple, pd.DataFrame] = {}

    def get(self, key: tuple[str, int]) -> pd.DataFrame | None:
        if key not in self._cache:
            bounds = self._bounds.get(key)
            self._cache[key] = None if bounds is None else self._sorted.iloc[bounds[0]:bounds[1]]
        return self._cache[key]


class Spread:
    """Values, standard errors and Flemish spread of every indicator (municipalities only)."""

    def __init__(self, engine, rule: Selection) -> None:
        self.catalogue = engine.catalogue
        self.rule = rule
        geo = engine.ds.geography
        munis = geo[geo["level"] == "municipality"]
        # Where each (geo_version, nis) lies: Flemish or not, and its arrondissement.
        where = pd.MultiIndex.from_arrays([munis["geo_version"].to_numpy(dtype=object),
                                           munis["nis"].to_numpy(dtype=object)])
        g_flemish = (munis["region"] == rule.region).to_numpy()
        g_arr = np.append(munis["arrondissement"].to_numpy(dtype=object), None)
        rows = engine.rows
        base = rows.loc[rows["level"] == "municipality",
                        ["indicator", "year", "geo_version", "nis", "source", "value", "num",
                         "den", "status"]].reset_index(drop=True)
        self._declared_part: tuple[pd.DataFrame, list[str]] | None = None
        self._wide: dict[tuple, pd.DataFrame] = {}
        base["se"], base["cases"] = self._base_se(base, engine.ds.observations)
        self._declared_part, self._wide = None, {}  # only needed while building
        values = pd.concat([base, self._derived(base)], ignore_index=True)
        values = values[values["status"] == "ok"].reset_index(drop=True)
        at = where.get_indexer(pd.MultiIndex.from_arrays(
            [values["geo_version"].to_numpy(dtype=object), values["nis"].to_numpy(dtype=object)]))
        values["flemish"] = np.where(at >= 0, g_flemish[at], False)
        values["arrondissement"] = g_arr[at]  # position -1: None
        # Object text columns: a comparison reads many small pieces of this table.
        self.values = values.astype({c: object for c in values.columns
                                     if values[c].dtype == "str"})
        self._by_key = _Slices(self.values)
        fl = values[values["flemish"]]
        by = fl.groupby(["indicator", "year"])["value"]
        q = by.quantile([0.25, 0.5, 0.75]).unstack()
        spread = (q[0.75] - q[0.25]) / _IQR_TO_SD
        spread = spread.where(spread > 0, by.std())  # many equal values: fall back on the SD
        self._spread = spread.where(by.count() >= MIN_MUNICIPALITIES).to_dict()
        self._median = q[0.5].to_dict()
        # Standard errors and counts per (indicator, year), looked up on first use: a
        # comparison asks for a few years of each indicator, not for all of them.
        self._base_by_key = _Slices(base)
        self._se_cache: dict[tuple, dict] = {}
        self._num_den_cache: dict[tuple, dict] = {}
        self._changes: dict[tuple, tuple[float, float, int]] = {}

    def _se_of(self, indicator: str, year: int) -> dict:
        key = (indicator, int(year))
        if key not in self._se_cache:
            m = self._by_key.get(key)
            self._se_cache[key] = {} if m is None else dict(zip(
                zip(m["geo_version"].tolist(), m["nis"].tolist(), strict=True),
                zip(m["se"].to_numpy(), m["cases"].to_numpy(), strict=True), strict=True))
        return self._se_cache[key]

    def _num_den_of(self, indicator: str, year: int) -> dict:
        key = (indicator, int(year))
        if key not in self._num_den_cache:
            b = self._base_by_key.get(key)
            self._num_den_cache[key] = {} if b is None else dict(zip(
                zip(b["geo_version"].tolist(), b["nis"].tolist(), strict=True),
                zip(b["num"].to_numpy(), b["den"].to_numpy(), strict=True), strict=True))
        return self._num_den_cache[key]

    # -- chance ---------------------------------------------------------------------------

    def _declared_obs(self, obs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
        """The municipal, non-quarterly observations of every measure a declared chance model
        reads, and the sources present in the store (filtered once, on category codes)."""
        if self._declared_part is None:
            measures = {m for spec in self.rule.noise.values() if spec.noise
                        for m in spec.measures}
            period = obs["period"].astype("category")
            quarterly = period.cat.categories.astype(str).str.contains("Q", regex=False)
            keep = ((obs["level"] == "municipality").to_numpy()
                    & obs["measure"].isin(measures).to_numpy()
                    & ~np.asarray(quarterly)[period.cat.codes.to_numpy()])
            source = obs["source"].astype("category")
            present = np.unique(source.cat.codes.to_numpy())
            self._declared_part = (
                obs[keep], [str(source.cat.categories[k]) for k in present if k >= 0])
        return self._declared_part

    def _declared(self, ind: Indicator) -> bool:
        spec = self.rule.noise.get(ind.id)
        return spec is not None and spec.noise is not None

    def _base_se(self, base: pd.DataFrame, observations: pd.DataFrame
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Standard error and number of cases of every base row (NaN when not modelled)."""
        se = np.full(len(base), np.nan)
        cases = np.full(len(base), np.nan)
        value, num, den = (base[c].to_numpy(dtype=float) for c in ("value", "num", "den"))
        codes, ids = pd.factorize(base["indicator"])
        code_of = {iid: k for k, iid in enumerate(ids)}
        for ind in self.catalogue:
            kind = noise_kind(ind, self.rule)
            if kind is None or ind.method not in ("value", "ratio", "rate"):
                continue
            mask = codes == code_of.get(ind.id, -2)
            with np.errstate(divide="ignore", invalid="ignore"):
                if kind == "share":  # binomial, Agresti-Coull: (k + 2) / (n + 4) near 0 or 1
                    k, n = num[mask], den[mask]
                    p = (k + 2) / (n + 4)
                    se[mask] = ind.scale * np.sqrt(p * (1 - p) / n)
                    cases[mask] = n
                elif kind == "rate" and not self._declared(ind):
                    # Poisson on the published count; a zero count counts as one case. A rate
                    # of zero has no derived denominator: take the unit's usual one.
                    usual = pd.Series(den[mask]).groupby(
                        [base.loc[mask, "geo_version"].to_numpy(dtype=object),
                         base.loc[mask, "nis"].to_numpy(dtype=object)]).transform("median")
                    d = np.where(np.isfinite(den[mask]), den[mask], usual.to_numpy())
                    se[mask] = ind.scale * np.sqrt(np.maximum(num[mask], 1)) / d
                    cases[mask] = num[mask]
                else:  # declared: median, or a rate with a count measure
                    se[mask], cases[mask] = self._declared_se(ind, base[mask], observations)
        return se, cases

    def _declared_se(self, ind: Indicator, rows: pd.DataFrame, obs: pd.DataFrame
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Chance of a median (count, quartiles) or of a rate whose count is a separate
        measure, from the indicator's own sources."""
        spec = self.rule.noise[ind.id]
        sources = tuple(s for s in self._declared_obs(obs)[1]
                        if any(fnmatch.fnmatchcase(s, p) for p in ind.sources))
        if sources not in self._wide:  # the four price indicators share one table, and so on
            part, _ = self._declared_obs(obs)  # every declared measure (one pivot per source)
            part = part[part["source"].isin(sources)]
            wide = part.pivot_table(index=["source", "geo_version", "nis", "year"],
                                    columns="measure", values="value", aggfunc="first",
                                    observed=True)
            wide.index = wide.index.set_levels(wide.index.levels[3].astype("int64"), level=3)
            self._wide[sources] = wide
        keys = pd.MultiIndex.from_arrays([rows[c].to_numpy(dtype=object) for c in (
            "source", "geo_version", "nis")] + [rows["year"].to_numpy(dtype="int64")])
        wide = self._wide[sources].reindex(keys, columns=list(spec.measures))
        count = wide[spec.count].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if spec.noise == "median":
                iqr = (wide[spec.iqr] if spec.iqr else wide[spec.q3] - wide[spec.q1]).to_numpy(
                    dtype=float)
                se = _MEDIAN_SE * (iqr / _IQR_TO_SD) / np.sqrt(np.where(count > 0, count,
                                                                        np.nan))
            else:  # rate: Poisson on the count
                se = rows["value"].to_numpy(dtype=float) / np.sqrt(np.maximum(count, 1))
        return se, count

    def _derived(self, base: pd.DataFrame) -> pd.DataFrame:
        """Change and quotient indicators per municipality, with propagated standard errors."""
        parts = []
        ok = base[base["status"] == "ok"]
        codes, ids = pd.factorize(ok["indicator"])
        order = np.argsort(codes, kind="stable")  # the rows of each indicator, in table order
        bounds = np.searchsorted(codes[order], np.arange(len(ids) + 1))
        at = {iid: order[bounds[k]:bounds[k + 1]] for k, iid in enumerate(ids)}

        def rows_of(indicator: str) -> pd.DataFrame:
            return ok.iloc[at.get(indicator, [])]

        for ind in self.catalogue:
            if ind.method == "change":
                b = rows_of(ind.base)
                prev = b.assign(year=b["year"] + ind.lag)
                m = b.merge(prev, on=["geo_version", "nis", "year"], suffixes=("", "_0"))
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = m["value"] / m["value_0"]
                    value = 100 * (ratio - 1)
                    rel = np.sqrt((m["se"] / m["value"]) ** 2 + (m["se_0"] / m["value_0"]) ** 2)
                se = 100 * ratio * rel
                cases = np.fmin(m["cases"], m["cases_0"])
            elif ind.method == "quotient":
                n = rows_of(ind.numerator_indicator)
                d = rows_of(ind.denominator_indicator)
                d = d.drop_duplicates(["nis", "year"])
                m = n.merge(d[["nis", "year", "value", "se", "cases", "source"]],
                            on=["nis", "year"], suffixes=("", "_0"))
                with np.errstate(divide="ignore", invalid="ignore"):
                    value = ind.scale * m["value"] / m["value_0"]
                    rel = np.sqrt((m["se"] / m["value"]) ** 2 + (m["se_0"] / m["value_0"]) ** 2)
                se = value * rel
                cases = np.fmin(m["cases"], m["cases_0"])
            else:
                continue
            parts.append(pd.DataFrame({
                "indicator": ind.id, "year": m["year"], "geo_version": m["geo_version"],
                "nis": m["nis"], "source": m["source"], "value": value, "num": np.nan,
                "den": np.nan, "status": np.where(np.isfinite(value), "ok", "missing"),
                "se": se, "cases": cases,
            }))
        return pd.concat(parts, ignore_index=True) if parts else base.iloc[0:0]

    def se(self, indicator: str, year: int, geo_version: str, units: list[str]
           ) -> tuple[float, float]:
        """Standard error and number of cases of a municipality's value (``units``: its
        codes in that geography); NaN when unknown.

        For a municipality that is the sum of several earlier ones, shares and rates are
        recomputed from the summed counts; other values then have no known error.
        """
        if len(units) == 1:
            return self._se_of(indicator, year).get((geo_version, units[0]), (np.nan, np.nan))
        ind = self.catalogue[indicator]
        kind = noise_kind(ind, self.rule)
        pairs = [self._num_den_of(indicator, year).get((geo_version, u)) for u in units]
        if (kind not in ("share", "rate") or self._declared(ind) or not units
                or any(p is None for p in pairs)):
            return (np.nan, np.nan)
        num, den = (sum(p[i] for p in pairs) for i in (0, 1))
        if kind == "share":
            p = (num + 2) / (den + 4)
            return (float(ind.scale * np.sqrt(p * (1 - p) / den)), float(den))
        return (float(ind.scale * np.sqrt(max(num, 1)) / den), float(num))

    # -- spread ---------------------------------------------------------------------------

    def spread(self, indicator: str, year: int) -> float:
        """Robust spread of the Flemish municipalities' values (NaN when too few)."""
        return float(self._spread.get((indicator, int(year)), np.nan))

    def median(self, indicator: str, year: int) -> float:
        return float(self._median.get((indicator, int(year)), np.nan))

    def municipal(self, indicator: str, year: int) -> pd.DataFrame:
        """Every municipality's published value: nis, geo_version, value, se, arrondissement."""
        found = self._by_key.get((indicator, int(year)))
        return found if found is not None else self.values.iloc[0:0]

    def version(self, indicator: str, year: int) -> str | None:
        """The municipal map (geo_version) of an indicator's values in ``year``."""
        m = self.municipal(indicator, year)
        return str(m["geo_version"].iloc[0]) if len(m) else None

    def _flemish(self, indicator: str, year: int) -> tuple[np.ndarray, np.ndarray]:
        m = self.municipal(indicator, year)
        m = m[m["flemish"].to_numpy(dtype=bool)]
        return m["nis"].to_numpy(dtype=object), m["value"].to_numpy(dtype=float)

    def change(self, indicator: str, y0: int, y1: int) -> tuple[float, float, int]:
        """Median and robust spread of the Flemish municipalities' change from y0 to y1, and
        how many municipalities have both years (relative units in percent)."""
        key = (indicator, int(y0), int(y1))
        if key not in self._changes:
            unit = self.catalogue[indicator].unit
            (nis0, v0), (nis1, v1) = self._flemish(indicator, y0), self._flemish(indicator, y1)
            # An inner join on nis in the order of the first year (as DataFrame.merge).
            later: dict[str, list[int]] = {}
            for j, n in enumerate(nis1.tolist()):
                later.setdefault(n, []).append(j)
            pairs = [(i, j) for i, n in enumerate(nis0.tolist()) for j in later.get(n, ())]
            i0 = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
            i1 = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
            delta = pd.Series(change_of(v0[i0], v1[i1], unit)).replace(
                [np.inf, -np.inf], np.nan).dropna()
            if len(delta) < MIN_MUNICIPALITIES:
                self._changes[key] = (np.nan, np.nan, len(delta))
            else:
                q1, med, q3 = delta.quantile([0.25, 0.5, 0.75])
                sd = (q3 - q1) / _IQR_TO_SD
                self._changes[key] = (float(med), float(sd if sd > 0 else delta.std()),
                                      len(delta))
        return self._changes[key]
