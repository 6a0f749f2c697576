"""Income bands: the shares of the declarations per band, target against group and
arrondissement (and optionally the target in an earlier year).
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from lsbanalysis import fmt
from lsbanalysis.analysis.groups import arrondissement_phrase
from lsbanalysis.charts.alttext import ChartText, attach, join, listing, shown
from lsbanalysis.charts.common import (
    _group_phrase,
    _group_short,
    _reference_notes,
    _reference_phrase,
    _sources,
    _span,
)
from lsbanalysis.charts.style import (
    ACCENT,
    ACCENT_TEXT,
    COLOURS,
    FONT,
    MUTED,
    NO_BAR_NOTE,
    STATUS_TEXT,
    TEXT,
    TICK_SIZE,
    VALUE_SIZE,
    WIDTH,
    DutchFormatter,
    _capital,
    _frame,
    _legend_columns,
    _new_figure,
    _set_hatch,
    _style_axes,
    _styled,
    _value_room,
)
from lsbanalysis.errors import LsbError


@_styled
def income_bands(c, compare_year: int | None = None) -> Figure:
    """The six income bands: target, reference-group aggregate and arrondissement.

    Shares of the declarations (without zero income) at the comparison year, as horizontal
    grouped bars, the lowest band on top. With ``compare_year`` (e.g. 2015) a hatched bar shows
    the target's distribution in that year next to its current one.
    """
    bands = [i for i in c.catalogue if i.band]
    table = c.table[c.table["indicator"].isin([b.id for b in bands])]
    missing = [b.id for b in bands if b.id not in set(table["indicator"])]
    if missing:
        raise LsbError(
            "De inkomensklassen ontbreken in deze vergelijking (" + ", ".join(missing) + "); "
            "vergelijk zonder indicators= of met de zes aangiften_*_pct-indicatoren."
        )
    year = int(table.loc[table["role"] == "target", "year"].max())
    table = table[table["year"] == year]

    def pick(frame, role, etype):
        part = frame[frame["role"].eq(role) & frame["entity_type"].eq(etype)]
        return part.set_index("indicator").reindex([b.id for b in bands])

    series = []
    if compare_year is not None and int(compare_year) != year:
        hist = c.history[c.history["indicator"].isin([b.id for b in bands])]
        then = hist[hist["year"].eq(int(compare_year))]
        if then[then["role"] == "target"].empty:
            have = sorted(int(y) for y in hist.loc[hist["role"] == "target", "year"].unique())
            raise LsbError(f"Geen inkomensklassen voor {c.target.name} in {compare_year}; "
                           f"wel voor {_span(have)}.")
        series.append({"key": "then", "name": f"{c.target.name} {compare_year}",
                       "rows": pick(then, "target", "municipality"), "colour": "white",
                       "edge": ACCENT, "hatch": "////"})
    series.append({"key": "target", "name": f"{c.target.name} {year}",
                   "rows": pick(table, "target", "municipality"), "colour": ACCENT,
                   "edge": TEXT, "lw": 1.3})
    series.append({"key": "reference_group", "name": f"{_group_short(c)} (samen)",
                   "rows": pick(table, "aggregate", "reference_group"),
                   "colour": COLOURS["reference_group"]})
    arr_rows = pick(table, "benchmark", "arrondissement")
    arr_name = next((n for n in arr_rows["name"] if isinstance(n, str)), "Arrondissement")
    series.append({"key": "arrondissement", "name": arr_name, "rows": arr_rows,
                   "colour": COLOURS["arrondissement"]})

    k = len(series)
    bar_h = 0.8 / k
    # compact enough to stay legible when printed at most ~11 cm high (report.css)
    height = min(9.0, 2.4 + len(bands) * (k * 0.14 + 0.17))
    label_size = VALUE_SIZE if k <= 3 else VALUE_SIZE - 1  # four bars a band: labels fit
    fig, ax = _new_figure(height)
    values = [float(v) for s in series for v in s["rows"]["value"] if pd.notna(v)]
    lo, hi = _value_room(values, ["00,0 %"], WIDTH - 2.9)
    ax.set_xlim(0, hi)
    unavailable = False
    for j, s in enumerate(series):
        offset = (j - (k - 1) / 2) * bar_h
        for i, (iid, r) in enumerate(s["rows"].iterrows()):
            y = i + offset
            ok = r["status"] == "ok" and pd.notna(r["value"])
            if ok:
                v = float(r["value"])
                # the target's bars are outlined (colour is not the only cue)
                (bar,) = ax.barh(y, v, height=bar_h * 0.92, color=s["colour"],
                                 edgecolor=s.get("edge", s["colour"]),
                                 hatch=s.get("hatch"), linewidth=s.get("lw", 1.0), zorder=2)
                bar.set_gid(f"band-{s['key']}-{iid}")
                if s.get("hatch"):
                    _set_hatch(bar, ACCENT)
                ax.annotate(fmt.value(v, "percent"), (v, y), xytext=(3, 0),
                            textcoords="offset points", ha="left", va="center",
                            fontsize=label_size, fontfamily=FONT,
                            color=ACCENT_TEXT if s["key"] in ("target", "then") else TEXT,
                            fontweight="bold" if s["key"] == "target" else "normal")
            else:
                unavailable = True
                ax.annotate(STATUS_TEXT.get(r["status"], "niet gepubliceerd"), (0, y),
                            xytext=(3, 0), textcoords="offset points", ha="left",
                            va="center", fontsize=label_size, fontstyle="italic",
                            color=MUTED, fontfamily=FONT)
    ax.set_yticks(range(len(bands)), [_capital(b.band) for b in bands])
    ax.set_ylim(len(bands) - 0.5, -0.5)
    ax.spines[["left", "top", "right"]].set_visible(False)
    ax.axvline(0, color="#8A8A8A", linewidth=0.8, zorder=3)
    ax.xaxis.set_major_formatter(DutchFormatter())
    ax.set_xlabel("aandeel van de aangiften (%)", color=MUTED)
    _style_axes(ax, grid="x")
    ax.tick_params(axis="y", length=0, labelcolor=TEXT)
    handles = [Patch(facecolor=s["colour"], edgecolor=s.get("edge", s["colour"]),
                     hatch=s.get("hatch"), label=s["name"]) for s in series]
    box = ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01),
                    ncol=_legend_columns([h.get_label() for h in handles]), borderaxespad=0.2,
                    fontsize=TICK_SIZE)
    for text, s in zip(box.get_texts(), series, strict=True):
        if s["key"] == "target":
            text.set_fontweight("bold")

    notes = ["Inkomensklassen in nominale euro's (niet gecorrigeerd voor inflatie): een "
             "verschuiving naar hogere klassen over de jaren is deels inflatie.",
             "Aandelen van de aangiften zonder nul-inkomen; een aangifte is een gezin of een "
             "alleenstaande."]
    if unavailable:
        notes.append(NO_BAR_NOTE)
    refs = pd.concat([s["rows"].reset_index() for s in series[-2:]])
    bad = refs[~refs["status"].eq("ok")]
    if len(bad):
        notes += _reference_notes(c, bad.drop_duplicates("entity_type"))
    also = f" (en {c.target.name} in {compare_year})" if series[0]["key"] == "then" else ""
    subtitle = (f"Netto belastbaar inkomen per aangifte: {c.target.name}, "
                f"{_group_phrase(c)} en het {arrondissement_phrase(arr_name)}, {year}{also}")
    _frame(fig, "Aangiften per inkomensklasse", subtitle,
           _sources(pd.concat([table, *(s["rows"].reset_index() for s in series)])), notes)
    return attach(fig, _bands_text(c, bands, series, year))


def _bands_text(c, bands, series: list[dict], year: int) -> ChartText:
    """Alt text and table of the income bands, from the series drawn."""
    labels = [b.band for b in bands]
    def phrase(s: dict) -> str:
        if s["key"] in ("target", "then"):
            return s["name"]
        return _reference_phrase({"entity_type": s["key"], "name": s["name"]}, c)

    parts = [f"Staafdiagram: aandeel van de aangiften per inkomensklasse, {year}, voor "
             f"{listing([phrase(s) for s in series])}"]
    for s in series:
        rows = s["rows"]
        values = [(label, float(v)) for label, v, st in
                  zip(labels, rows["value"], rows["status"], strict=True) if st == "ok"]
        if s["key"] in ("target", "then"):  # every band of the target
            parts.append(f"{s['name']}: " + listing(
                f"{label} {shown(v, st, 'percent')}"
                for label, v, st in zip(labels, rows["value"], rows["status"], strict=True)))
        if values:
            top = max(values, key=lambda x: x[1])
            parts.append(f"grootste klasse voor {phrase(s)}: {top[0]} "
                         f"({fmt.value(top[1], 'percent')})")
    table = pd.DataFrame({"Inkomensklasse": [_capital(x) for x in labels],
                          **{s["name"]: [shown(v, st, "percent") for v, st in
                                         zip(s["rows"]["value"], s["rows"]["status"],
                                             strict=True)] for s in series}})
    data = pd.DataFrame({"inkomensklasse": labels, "indicator": [b.id for b in bands],
                         **{s["name"]: s["rows"]["value"].where(
                             s["rows"]["status"].eq("ok")).to_numpy() for s in series}})
    return ChartText(join(*parts), f"Aangiften per inkomensklasse (%), {year}", table, data)
