"""Ranking bars: the target and every group member sorted by value, then the benchmarks."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lsbanalysis import fmt
from lsbanalysis.charts.alttext import ChartText, attach, extremes, join, listing, shown
from lsbanalysis.charts.common import (
    _group_phrase,
    _indicator_rows,
    _reference_name,
    _reference_notes,
    _reference_phrase,
    _reference_rows,
    _sources,
)
from lsbanalysis.charts.style import (
    ACCENT,
    ACCENT_TEXT,
    COLOURS,
    FONT,
    MEMBER,
    MUTED,
    NO_BAR_NOTE,
    REFERENCE_KIND,
    STATUS_TEXT,
    TEXT,
    UNIT_LABELS,
    VALUE_SIZE,
    WIDTH,
    DutchFormatter,
    _frame,
    _new_figure,
    _style_axes,
    _styled,
    _value_room,
    _wrap_label,
)


@_styled
def ranking_bars(c, indicator: str) -> Figure:
    """Horizontal bars of the target and every group member, sorted by value.

    Below a divider, separate bars for the group aggregate (when it can be computed) and for
    the arrondissement, the province and the Flemish Region, each in its benchmark colour.
    Members without a published value are listed with a marker text, not drawn.
    """
    ind, rows = _indicator_rows(c, indicator)
    period = str(rows["period"].iloc[0])
    mun = rows[rows["entity_type"] == "municipality"]
    absent = [m for m in c.group.members if m.nis not in set(mun["entity"])]
    if absent:  # a member without any row: listed as unpublished, like a suppressed one
        mun = pd.concat([mun, pd.DataFrame({
            "entity": [m.nis for m in absent], "name": [m.name for m in absent],
            "role": ["target" if m.nis == c.target.nis else "member" for m in absent],
            "value": float("nan"), "status": "missing"})], ignore_index=True)
    has_value = mun["status"].eq("ok") & mun["value"].notna()
    shown = mun[has_value].sort_values(["value", "name"], ascending=[False, True])
    hidden = mun[~has_value].sort_values("name")
    refs = _reference_rows(rows)
    refs_ok = refs[refs["status"].eq("ok") & refs["value"].notna()]

    entries: list[dict] = []
    for _, r in pd.concat([shown, hidden]).iterrows():
        target = r["role"] == "target"
        published = pd.notna(r["value"]) and r["status"] == "ok"
        status = "ok" if published else "missing" if r["status"] == "ok" else r["status"]
        entries.append({"name": r["name"], "value": r["value"], "status": status,
                        "colour": ACCENT if target else MEMBER, "target": target,
                        "entity": r["entity"]})
    n_members = len(entries)
    for _, r in refs_ok.iterrows():
        entries.append({"name": _reference_name(r, c), "value": r["value"], "status": "ok",
                        "colour": COLOURS[r["entity_type"]], "target": False,
                        "entity": r["entity"]})
    gap = 0.7 if len(refs_ok) else 0.0
    ys = [float(i) if i < n_members else i + gap for i in range(len(entries))]

    height = min(11.0, max(4.8, 2.3 + 0.3 * (len(entries) + gap)))
    fig, ax = _new_figure(height)
    ok_values = [float(e["value"]) for e in entries if e["status"] == "ok"]
    labels = [fmt.value(v, ind.unit) for v in ok_values]
    lo, hi = _value_room(ok_values, labels, WIDTH - 2.6)
    ax.set_xlim(lo, hi)
    for y, e in zip(ys, entries, strict=True):
        if e["status"] == "ok":
            v = float(e["value"])
            # The target also has an outline (and a bold label): colour is not the only cue.
            (bar,) = ax.barh(y, v, height=0.68, color=e["colour"], zorder=2,
                             edgecolor=TEXT if e["target"] else "none",
                             linewidth=1.3 if e["target"] else 0)
            bar.set_gid(f"balk-{e['entity']}")
            ax.annotate(fmt.value(v, ind.unit), (v, y), xytext=(4 if v >= 0 else -4, 0),
                        textcoords="offset points", ha="left" if v >= 0 else "right",
                        va="center", fontsize=VALUE_SIZE, fontfamily=FONT,
                        color=ACCENT_TEXT if e["target"] else TEXT,
                        fontweight="bold" if e["target"] else "normal")
        else:
            ax.annotate(STATUS_TEXT.get(e["status"], "niet gepubliceerd"), (0, y),
                        xytext=(4, 0), textcoords="offset points", ha="left", va="center",
                        fontsize=VALUE_SIZE, fontstyle="italic", fontfamily=FONT,
                        color=ACCENT_TEXT if e["target"] else MUTED,
                        fontweight="bold" if e["target"] else "normal",
                        gid=f"geen-waarde-{e['entity']}")
    if gap:
        ax.axhline(n_members - 0.5 + gap / 2, color="#8A8A8A", linewidth=0.9, zorder=1)
    _style_axes(ax, grid="x")
    ax.tick_params(axis="y", length=0)
    ax.set_yticks(ys, [_wrap_label(e["name"]) for e in entries])
    for tick, e in zip(ax.get_yticklabels(), entries, strict=True):
        if e["target"]:
            tick.set_color(ACCENT_TEXT)
            tick.set_fontweight("bold")
    ax.set_ylim(max(ys) + 0.6, -0.6)
    ax.axvline(0, color="#8A8A8A", linewidth=0.8, zorder=3)
    ax.spines[["left", "top", "right"]].set_visible(False)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(DutchFormatter())
    ax.set_xlabel(UNIT_LABELS.get(ind.unit, ind.unit), color=MUTED)

    notes = [NO_BAR_NOTE] if len(hidden) else []
    notes += _reference_notes(c, refs)
    _frame(fig, ind.label, f"{c.target.name} vergeleken met {_group_phrase(c)}, {period}",
           _sources(rows), notes)
    return attach(fig, _ranking_text(c, ind, period, mun, refs))


def _ranking_text(c, ind, period: str, mun: pd.DataFrame, refs: pd.DataFrame) -> ChartText:
    """Alt text and table of the ranking bars, from the rows the bars are drawn from."""
    mun = mun.assign(_ok=mun["status"].eq("ok") & mun["value"].notna())
    mun = mun.sort_values(["_ok", "value", "name"], ascending=[False, False, True])
    published = [(str(r["name"]), float(r["value"])) for _, r in mun[mun["_ok"]].iterrows()]
    t = mun[mun["role"] == "target"]
    head = (f"Staafdiagram: {ind.label}, {period}, voor {c.target.name} en "
            f"{_group_phrase(c)} ({len(mun)} gemeenten), van hoog naar laag")
    target = ""
    if len(t):
        r = t.iloc[0]
        target = f"{c.target.name}: {shown(r['value'], r['status'], ind.unit)}"
        if "rank" in r and pd.notna(r.get("rank")) and pd.notna(r.get("rank_of")):
            target += f" (rang {int(r['rank'])} van {int(r['rank_of'])})"
    spread = extremes(published, ind.unit)
    points = listing(f"{_reference_phrase(r, c)} {shown(r['value'], r['status'], ind.unit)}"
                     for _, r in refs.iterrows())
    points = f"ter vergelijking: {points}" if points else ""
    hidden = [str(n) for n in mun.loc[~mun["_ok"], "name"]]
    missing = f"geen gepubliceerde waarde voor {listing(hidden)}" if hidden else ""
    alt = join(head, target, spread, points, missing)

    rows = [*mun.to_dict("records"), *refs.to_dict("records")]
    names = [_reference_name(r, c) if r["entity_type"] != "municipality" else str(r["name"])
             for r in rows]
    kinds = ["gemeente" if r["entity_type"] == "municipality"
             else REFERENCE_KIND.get(r["entity_type"], r["entity_type"]) for r in rows]
    col = ind.short
    ranks = [f"{int(r['rank'])}" if pd.notna(r.get("rank")) else "–" for r in rows]
    table = pd.DataFrame({"Gebied": names, "Soort": kinds,
                          col: [shown(r["value"], r["status"], ind.unit) for r in rows],
                          "Rang": ranks})
    data = pd.DataFrame({"gebied": names, "code": [r["entity"] for r in rows], "soort": kinds,
                         "indicator": ind.id, "jaar": period,
                         "waarde": [r["value"] if r["status"] == "ok" else float("nan")
                                    for r in rows],
                         "status": [r["status"] for r in rows],
                         "rang": [r.get("rank") for r in rows]})
    return ChartText(alt, f"{ind.label}, {period}", table, data)


def chart_for(c, indicator: str) -> Figure:
    """The default chart for an indicator: the ranking bars of the group at the year."""
    return ranking_bars(c, indicator)
