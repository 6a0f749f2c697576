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


class _Wide:
    """A source's annual observations as arrays: one row per (unit, year), one column per
    measure, with status codes (0 ok, 1 missing, 2 suppressed, -1 no cell)."""

    def __init__(self, obs: pd.DataFrame, idx: np.ndarray) -> None:
        sub = obs.iloc[idx]
        # Annual periods only: quarters ("2024-Q1") and year-to-date sums ("2025-M01-M07")
        # must never stand in for a full year.
        sub = sub[sub["period"].astype(str).str.fullmatch(r"\d{4}")]
        keys = ["geo_version", "nis", "level", "year", "period"]
        sub = sub.astype({k: object for k in keys if k != "year"})
        # Groups are numbered in order of first appearance, as drop_duplicates keeps them.
        row_id = sub.groupby(keys, sort=False).ngroup().to_numpy()
        self.keys = sub[keys].drop_duplicates().reset_index(drop=True)
        col_id, measures = pd.factorize(sub["measure"].astype(object))
        n, m = len(self.keys), len(measures)
        self.columns = {name: j for j, name in enumerate(measures)}
        self.value = np.full((n, m), np.nan)
        self.value[row_id, col_id] = sub["value"].to_numpy(dtype=float)
        self.status = np.full((n, m), -1, dtype=np.int8)
        self.status[row_id, col_id] = sub["status"].astype(object).map(_STATUS_RANK).to_numpy()

    def has(self, measures) -> bool:
        return all(m in self.columns for m in measures)

    def values(self, measures) -> np.ndarray:
        return self.value[:, [self.columns[m] for m in measures]]

    def statuses(self, measures) -> np.ndarray:
        return self.status[:, [self.columns[m] for m in measures]]


def _compute(ind: Indicator, wide: _Wide) -> pd.DataFrame:
    """Value, numerator, denominator and status of one base indicator from a source."""
    if ind.method == "value":
        value = wide.values([ind.measure])[:, 0]
        num, den = value, np.full(len(value), np.nan)
        status = wide.statuses([ind.measure])[:, 0]
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
    frame = wide.keys[present].reset_index(drop=True)
    status = status[present]
    frame["value"] = np.where(status == 0, value[present], np.nan)
    frame["num"] = num[present]
    frame["den"] = den[present]
    frame["status"] = _STATUS_NAMES[status]
    return frame


def indicator_rows(catalogue: Catalogue, observations: pd.DataFrame) -> pd.DataFrame:
    """One long table of all base indicators over all units and years.

    For each indicator and year only the most preferred source that has that year is kept,
    so every (indicator, year) comes from exactly one source and geography.
    """
    obs = observations
    base = [i for i in catalogue if i.method in ("value", "ratio", "rate")]
    needed = {m for i in base for m in i.measures}
    by_source = obs.groupby("source", observed=True, sort=False).indices
    measure = obs["measure"].astype("category")
    wanted = np.flatnonzero(measure.cat.categories.isin(list(needed)))
    codes = measure.cat.codes.to_numpy()
    wide: dict[str, _Wide] = {}
    for source, idx in by_source.items():
        idx = idx[np.isin(codes[idx], wanted)]
        if len(idx):
            wide[str(source)] = _Wide(obs, idx)
    available = sorted(wide)
    parts = []
    for ind in base:
        ranked = matching_sources(ind.sources, available)
        frames = []
        for group in ranked:
            for source in group:
                if wide[source].has(ind.measures):
                    frames.append(_compute(ind, wide[source]).assign(source=source))
        if not frames:
            continue
        rows = pd.concat(frames, ignore_index=True)
        preference = {s: i for i, group in enumerate(ranked) for s in group}
        rows["_pref"] = rows["source"].map(preference)
        best = rows.groupby("year")["_pref"].transform("min")
        rows = rows[rows["_pref"] == best].drop(columns="_pref")
        rows.insert(0, "indicator", ind.id)
        parts.append(rows[ROW_COLUMNS])
    out = pd.concat(parts, ignore_index=True)
    for col in ("source", "geo_version", "nis", "level", "period", "status"):
        out[col] = out[col].astype(str)
    out["year"] = out["year"].astype("int64")
    return out
