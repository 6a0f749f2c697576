"""Indicator values per unit and year, computed from the store as the catalogue prescribes.

:func:`indicator_rows` produces one long table for all *base* indicators (methods value, ratio,
rate) with, per unit and year, the value and the additive components an aggregate needs:

- ``num``/``den``: numerator and denominator (ratio), count and derived denominator (rate), or
  the value itself (value) — groups and benchmarks are built from these, never from member rates;
- ``status``: ok / suppressed / missing, taken from the published cells.

Derived indicators (change, quotient) are computed later from aggregated base values.
"""

from __future__ import annotations

import fnmatch

import numpy as np
import pandas as pd

from lsbanalysis.catalogue import Catalogue, Indicator

ROW_COLUMNS = ["indicator", "year", "period", "source", "geo_version", "nis", "level",
               "value", "num", "den", "status"]
_STATUS_RANK = {"ok": 0, "missing": 1, "suppressed": 2}


def matching_sources(patterns: tuple[str, ...], available: list[str]) -> list[list[str]]:
    """Source ids matching each pattern, in pattern (= preference) order."""
    return [sorted(s for s in available if fnmatch.fnmatchcase(s, p)) for p in patterns]


def _worst_status(statuses: list[pd.Series]) -> pd.Series:
    """Per row the most severe status of the components (suppressed > missing > ok)."""
    ranks = np.max([s.map(_STATUS_RANK).to_numpy() for s in statuses], axis=0)
    names = np.array(["ok", "missing", "suppressed"], dtype=object)
    return pd.Series(names[ranks], index=statuses[0].index)


def _compute(ind: Indicator, val: pd.DataFrame, sta: pd.DataFrame) -> pd.DataFrame:
    """Value, numerator, denominator and status of one base indicator from a source's wide
    tables (one column per measure)."""
    if ind.method == "value":
        value = val[ind.measure]
        num, den = value, pd.Series(np.nan, index=val.index)
        status = sta[ind.measure]
    elif ind.method == "ratio":
        num = val[list(ind.numerator)].sum(axis=1, min_count=len(ind.numerator))
        den = val[list(ind.denominator)].sum(axis=1, min_count=len(ind.denominator))
        value = ind.scale * num / den
        status = _worst_status([sta[m] for m in ind.measures])
    else:  # rate: published rate, count numerator, derived denominator
        value = val[ind.measure]
        num = val[ind.count]
        den = num / (value / ind.scale)
        # The unit's own published rate stands even when its count is not published.
        status = sta[ind.measure]
    frame = pd.DataFrame({"value": value, "num": num, "den": den, "status": status})
    frame = frame[status.notna()]  # the source has no cell for this unit and year
    frame.loc[frame["status"] != "ok", "value"] = np.nan
    return frame.reset_index()


def _wide(obs: pd.DataFrame, idx: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A source's annual observations as wide value and status tables (measures as columns)."""
    sub = obs.iloc[idx]
    sub = sub[~sub["period"].astype(str).str.contains("Q", regex=False)]
    keys = ["geo_version", "nis", "level", "year", "period", "measure"]
    sub = sub[keys + ["value", "status"]].astype({k: object for k in keys if k != "year"})
    sub["status"] = sub["status"].astype(object)
    indexed = sub.set_index(keys)
    return indexed["value"].unstack("measure"), indexed["status"].unstack("measure")


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
    wide: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    for source, idx in by_source.items():
        idx = idx[np.isin(codes[idx], wanted)]
        if len(idx):
            wide[str(source)] = _wide(obs, idx)
    available = sorted(wide)
    parts = []
    for ind in base:
        ranked = matching_sources(ind.sources, available)
        frames = []
        for group in ranked:
            for source in group:
                val, sta = wide[source]
                if all(m in val.columns for m in ind.measures):
                    frames.append(_compute(ind, val, sta).assign(source=source))
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
