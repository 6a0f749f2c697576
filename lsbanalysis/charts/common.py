"""Reading a :class:`~lsbanalysis.analysis.compare.Comparison` for the charts: its indicator and
rows, the names of the group and the comparison points, their footnotes and sources.
"""

from __future__ import annotations

import pandas as pd

from lsbanalysis.analysis.findings import source_label
from lsbanalysis.analysis.groups import arrondissement_phrase
from lsbanalysis.charts.style import REFERENCE_ORDER, STATUS_TEXT, _capital
from lsbanalysis.errors import LsbError


def _indicator(c, indicator: str):
    try:
        return c.catalogue[indicator]
    except KeyError as exc:
        raise LsbError(exc.args[0]) from None


def _indicator_rows(c, indicator: str) -> tuple:
    ind = _indicator(c, indicator)
    rows = c.rows(indicator)
    if rows.empty:
        raise LsbError(
            f"{ind.short}: geen gegevens in deze vergelijking voor {c.target.name}"
            + (f" ({'; '.join(c.notes)})" if c.notes else "")
        )
    return ind, rows


def _group_phrase(c) -> str:
    return f"de {c.group.label}"


def _group_short(c) -> str:
    """'buurgemeenten van Geel' → 'Buurgemeenten' (the subtitle names the municipality)."""
    label = c.group.label.removesuffix(f" van {c.target.name}")
    return _capital(label)


def _reference_name(row, c) -> str:
    if row["entity_type"] == "reference_group":
        return f"{_group_short(c)} (samen)"
    return str(row["name"])


def _reference_phrase(row, c) -> str:
    """A comparison point inside a Dutch sentence: 'de ISOM-gemeenten samen',
    'het arrondissement Turnhout', 'de provincie Antwerpen', 'het Vlaams Gewest'."""
    etype, name = row["entity_type"], str(row["name"])
    if etype == "reference_group":
        return f"{_group_phrase(c)} samen"
    if etype == "arrondissement":
        return f"het {arrondissement_phrase(name)}"
    if etype == "province":
        return "de " + (name[0].lower() + name[1:] if name.startswith("Provincie") else name)
    if etype == "region":
        return f"het {name}"
    return name


def _reference_notes(c, refs: pd.DataFrame) -> list[str]:
    """Footnotes for comparison points that are unavailable or computed without a member."""
    notes = []
    for _, r in refs.iterrows():
        name = _reference_name(r, c)
        if r["status"] != "ok":
            why = r["note"] or STATUS_TEXT.get(r["status"], "niet beschikbaar")
            notes.append(f"{name}: {why}.")
        elif str(r["note"]).startswith("berekend zonder"):
            notes.append(f"{name}: {r['note']}.")
    return notes


def _reference_rows(rows: pd.DataFrame) -> pd.DataFrame:
    refs = rows[rows["entity_type"].isin(REFERENCE_ORDER)].copy()
    refs["_o"] = refs["entity_type"].map({k: i for i, k in enumerate(REFERENCE_ORDER)})
    return refs.sort_values("_o", kind="stable").drop_duplicates("entity_type")


def _sources(rows: pd.DataFrame) -> str:
    ids = [s for s in dict.fromkeys(rows["source"].dropna().astype(str)) if s]
    return source_label("+".join(ids)) if ids else "onbekend"


def _span(years: list[int]) -> str:
    """[2010, 2011, 2012, 2016] → '2010–2012, 2016'.

    Not the same as ``compare._span``: that one writes a list with a gap in full
    ('2010, 2011, 2012, 2016') and gives 'geen' for no years.
    """
    out, run = [], []
    for y in sorted(years):
        if run and y != run[-1] + 1:
            out.append(run)
            run = []
        run.append(y)
    if run:
        out.append(run)
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in out)
