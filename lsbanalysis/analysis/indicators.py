"""Indicator values per unit and year, computed from the store as the catalogue prescribes.

:func:`indicator_rows` produces one long table for all *base* indicators (methods value, ratio,
rate) with, per unit and year, the value and the additive components an aggregate needs:

- ``num``/``den``: numerator and denominator (ratio); for a rate the published count and a
  derived denominator, or a derived numerator and the published denominator; or the value
  itself (value) — groups and benchmarks are built from these, never from member rates;
- ``status``: ok / suppressed / missing, taken from the published cells.

Derived indicators (change, quotient) are computed later from aggregated base values.
"""

from __future__ import annotations

import fnmatch

import numpy as np
import pandas as pd

from lsbanalysis.analysis.catalogue import Catalogue, Indicator

ROW_COLUMNS = ["indicator", "year", "period", "source", "geo_version", "nis", "level",
               "value", "num", "den", "status"]
_STATUS_RANK = {"ok": 0, "missing": 1, "suppressed": 2}


def matching_sources(patterns: tuple[str, ...], available: list[str]) -> list[list[str]]:
    """Source ids matching each pattern, in pattern (= preference) order."""
    return [sorted(s for s in available if fnmatch.fnmatchcase(s, p)) for p in patterns]


_STATUS_NAMES = np.array(["ok", "missing", "suppressed"], dtype=object)


class _Codes:
    """The observations as integer codes (categoricals), decoded only for the final rows."""

    KEYS = ("geo_version", "level", "nis")

    def __init__(self, obs: pd.DataFrame) -> None:
        self.cats: dict[str, np.ndarray] = {}
        self.codes: dict[str, np.ndarray] = {}
        for col in (*self.KEYS, "measure", "source", "status", "period"):
            cat = obs[col].astype("category")
            self.cats[col] = np.asarray(cat.cat.categories.astype(str), dtype=object)
            self.codes[col] = cat.cat.codes.to_numpy().astype(np.int64)
        self.year = obs["year"].to_numpy(dtype=np.int64)
        self.value = obs["value"].to_numpy(dtype=float)
        # Annual periods only: quarters ("2024-Q1") and year-to-date sums ("2025-M01-M07")
        # must never stand in for a full year.
        periods = pd.Series(self.cats["period"])
        self.annual = periods.str.fullmatch(r"\d{4}").to_numpy(dtype=bool)
        status_rank = pd.Series(self.cats["status"]).map(_STATUS_RANK)
        self.status_rank = status_rank.fillna(1).to_numpy(dtype=np.int8)


class _Wide:
    """Annual observations of one source (or several) as arrays: one row per (unit, year), one
    column per measure, with status codes (0 ok, 1 missing, 2 suppressed, -1 no cell)."""

    def __init__(self, codes: _Codes, idx: np.ndarray) -> None:
        idx = idx[codes.annual[codes.codes["period"][idx]]]
        parts = [codes.codes[k][idx] for k in _Codes.KEYS] + [codes.year[idx]]
        sizes = [len(codes.cats[k]) for k in _Codes.KEYS] + [10_000]
        key = np.zeros(len(idx), dtype=np.int64)
        for part, size in zip(parts, sizes, strict=True):
            key = key * size + part
        uniq, first, row_id = np.unique(key, return_index=True, return_inverse=True)
        self.keys = {k: codes.cats[k][codes.codes[k][idx[first]]] for k in _Codes.KEYS}
        self.keys["year"] = codes.year[idx[first]]
        mcodes = codes.codes["measure"][idx]
        present, col_id = np.unique(mcodes, return_inverse=True)
        self.columns = {codes.cats["measure"][c]: j for j, c in enumerate(present)}
        n, m = len(uniq), len(present)
        self.value = np.full((n, m), np.nan)
        self.value[row_id, col_id] = codes.value[idx]
        self.status = np.full((n, m), -1, dtype=np.int8)
        self.status[row_id, col_id] = codes.status_rank[codes.codes["status"][idx]]

    def has(self, measures) -> bool:
        return all(m in self.columns for m in measures)

    def values(self, measures) -> np.ndarray:
        return self.value[:, [self.columns[m] for m in measures]]

    def statuses(self, measures) -> np.ndarray:
        return self.status[:, [self.columns[m] for m in measures]]


def _compute(ind: Indicator, wide: _Wide) -> dict[str, np.ndarray]:
    """Value, numerator, denominator and status of one base indicator from a source."""
    if ind.method == "value":
        value = wide.values(ind.measures).sum(axis=1)  # NaN if any component is NaN
        num, den = value, np.full(len(value), np.nan)
        status = wide.statuses(ind.measures).max(axis=1)
        status = np.where(wide.statuses(ind.measures).min(axis=1) < 0, -1, status)
    elif ind.method == "ratio":
        num = wide.values(ind.numerator).sum(axis=1)  # NaN if any component is NaN
        den = wide.values(ind.denominator).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = ind.scale * num / den
        status = wide.statuses(ind.measures).max(axis=1)
        status = np.where(wide.statuses(ind.measures).min(axis=1) < 0, -1, status)
    else:  # rate: a published rate with its published numerator or denominator
        value = wide.values([ind.measure])[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            if ind.count:  # numerator published: derive the denominator
                num = wide.values([ind.count])[:, 0]
                den = num / (value / ind.scale)
            else:  # denominator published: derive the numerator (e.g. persons at risk)
                den = wide.values(ind.denominator).sum(axis=1)
                num = value / ind.scale * den
        # The unit's own published rate stands even when its count is not published.
        status = wide.statuses([ind.measure])[:, 0]
    present = status >= 0  # the source has a cell for this unit and year
    status = status[present]
    out = {k: v[present] for k, v in wide.keys.items()}
    out["value"] = np.where(status == 0, value[present], np.nan)
    out["num"] = num[present]
    out["den"] = den[present]
    out["status"] = _STATUS_NAMES[status]
    return out


def indicator_rows(catalogue: Catalogue, observations: pd.DataFrame) -> pd.DataFrame:
    """One long table of all base indicators over all units and years.

    For each indicator and year only the most preferred source that has that year is kept,
    so every (indicator, year) comes from exactly one source and geography. An indicator whose
    measures no single source holds (a published rate in one file, its count in another) reads
    the sources it names together, as one source "a+b".
    """
    codes = _Codes(observations)
    base = [i for i in catalogue if i.method in ("value", "ratio", "rate")]
    needed = {m for i in base for m in i.measures}
    wanted = np.flatnonzero(np.isin(codes.cats["measure"], list(needed)))
    scode = codes.codes["source"]
    keep = np.isin(codes.codes["measure"], wanted)
    order = np.argsort(scode, kind="stable")
    order = order[keep[order]]
    bounds = np.searchsorted(scode[order], np.arange(len(codes.cats["source"]) + 1))
    index = {str(codes.cats["source"][k]): order[bounds[k]:bounds[k + 1]]
             for k in range(len(codes.cats["source"])) if bounds[k + 1] > bounds[k]}
    wide = {source: _Wide(codes, idx) for source, idx in index.items()}
    available = sorted(wide)
    parts: list[dict[str, np.ndarray]] = []
    for ind in base:
        ranked = matching_sources(ind.sources, available)
        found = []
        for pref, group in enumerate(ranked):
            for source in group:
                if wide[source].has(ind.measures):
                    found.append((pref, source, _compute(ind, wide[source])))
        together = [s for group in ranked for s in group]
        if not found and len(together) > 1:
            name = "+".join(together)
            if name not in wide:
                wide[name] = _Wide(codes, np.concatenate([index[s] for s in together]))
            if wide[name].has(ind.measures):
                found.append((0, name, _compute(ind, wide[name])))
        if not found:
            continue
        # Per year, the most preferred source that has it.
        best: dict[int, int] = {}
        for pref, _, rows in found:
            for y in np.unique(rows["year"]):
                best[int(y)] = min(best.get(int(y), pref), pref)
        years = np.array(sorted(best), dtype=np.int64)
        prefs = np.array([best[y] for y in years.tolist()])
        for pref, source, rows in found:
            take = prefs[np.searchsorted(years, rows["year"])] == pref
            if take.any():
                part = {k: v[take] for k, v in rows.items()}
                part["indicator"] = np.full(int(take.sum()), ind.id, dtype=object)
                part["source"] = np.full(int(take.sum()), source, dtype=object)
                parts.append(part)
    columns = {col: np.concatenate([p[col] for p in parts]) for col in ROW_COLUMNS
               if col != "period"}
    labels, inverse = np.unique(columns["year"].astype(np.int64), return_inverse=True)
    columns["period"] = np.array([str(y) for y in labels.tolist()], dtype=object)[inverse]
    # Plain object columns: the engine indexes them with numpy (no Arrow string round trip).
    return pd.DataFrame({col: pd.Series(columns[col], dtype=object if columns[col].dtype == object
                                        else None, copy=False) for col in ROW_COLUMNS})
