"""Charts for the analyserapport: ranking bars, trend lines, income bands and maps.

Every function takes a :class:`~lsbanalysis.compare.Comparison` and returns a matplotlib
``Figure``; none shows or saves it. Every figure carries its own Dutch title, a subtitle with
the municipality, the reference group and the year, the unit, and a footer with the source and
notes, so that a copied PNG stays self-explanatory. Numbers use Dutch notation (:mod:`fmt`).

Values that are not published (geheim, missing) are never drawn as a bar of length zero: they
are listed with a marker text, and a footnote explains it.

The house style (:data:`STYLE`) is applied while a figure is built, through
``matplotlib.rc_context``; importing this module leaves the user's rcParams alone::

    fig = charts.ranking_bars(c, "werkzoekendengraad")
    fig.savefig("werkzoekendengraad.png", **charts.savefig_kwargs)
    plt.close(fig)
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from matplotlib.ticker import FixedLocator, Formatter, MaxNLocator

from lsbanalysis import fmt
from lsbanalysis.errors import LsbError
from lsbanalysis.findings import source_label
from lsbanalysis.groups import CURRENT_GEOGRAPHY, arrondissement_phrase

__all__ = [
    "STYLE",
    "COLOURS",
    "savefig_kwargs",
    "house_style",
    "ranking_bars",
    "trend_lines",
    "income_bands",
    "group_map",
    "chart_for",
]

# -- house style ----------------------------------------------------------------------------

ACCENT = "#D55E00"  # the target municipality, in every chart (Okabe-Ito vermillion)
MEMBER = "#A3A3A3"  # other municipalities: neutral grey
TEXT = "#1F1F1F"
MUTED = "#5C5C5C"
GRID = "#E2E2E2"
NO_VALUE = "#E4E4E4"  # fill of a municipality without a value on a map (hatched)
NO_VALUE_HATCH = "#8C8C8C"
OUTLINE = "#2B2B2B"  # reference-group members on a map

#: One colour per kind of comparison point, the same in every chart (colour-blind safe).
COLOURS = {
    "target": ACCENT,
    "member": MEMBER,
    "reference_group": "#0072B2",  # blue
    "arrondissement": "#009E73",  # bluish green
    "province": "#CC79A7",  # reddish purple
    "region": "#3A3A3A",  # near-black
}
#: Line styles so that the benchmarks stay distinct when printed in black and white.
LINESTYLES = {
    "target": "-",
    "reference_group": "-",
    "arrondissement": "--",
    "province": "-.",
    "region": ":",
}
REFERENCE_ORDER = ("reference_group", "arrondissement", "province", "region")

FONT = "DejaVu Sans"  # ships with matplotlib: the same figure on every machine
TITLE_SIZE = 14
SUBTITLE_SIZE = 11.5
LABEL_SIZE = 11
TICK_SIZE = 10.5
VALUE_SIZE = 10.5
FOOTER_SIZE = 10
WIDTH = 8.0  # inches: a report page width, scaled down a little when printed on A4

#: The house style (rcParams), applied only while a chart is built.
STYLE: dict = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": LABEL_SIZE,
    "axes.titlesize": 12,
    "axes.labelsize": LABEL_SIZE,
    "axes.labelcolor": TEXT,
    "axes.edgecolor": "#8A8A8A",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.facecolor": "white",
    "axes.axisbelow": True,
    "xtick.labelsize": TICK_SIZE,
    "ytick.labelsize": TICK_SIZE,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "legend.fontsize": TICK_SIZE,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "figure.dpi": 100,
    "text.color": TEXT,
    "hatch.linewidth": 0.8,
    "savefig.facecolor": "white",
}

#: Keyword arguments for ``fig.savefig`` that suit the report (PNG at 150 dpi, tight box).
savefig_kwargs: dict = {"dpi": 150, "bbox_inches": "tight", "facecolor": "white"}

UNIT_LABELS = {
    "eur": "euro (€)",
    "percent": "procent (%)",
    "count": "aantal",
    "per_km2": "inwoners per km²",
    "index": "index",
    "ratio": "verhouding",
}
STATUS_TEXT = {
    "suppressed": "geheim (niet gepubliceerd)",
    "missing": "niet gepubliceerd",
    "not_available": "niet berekenbaar",
    "incomplete": "niet berekend (waarde ontbreekt)",
}
NO_BAR_NOTE = "Geen balk = geen gepubliceerde waarde (geheim of te weinig waarnemingen)."
NO_VALUE_LABEL = "geen gepubliceerde waarde"
HALO = [patheffects.withStroke(linewidth=3, foreground="white")]


@contextmanager
def house_style() -> Iterator[None]:
    """Apply the house style to the charts built inside the ``with`` block only."""
    with plt.rc_context(STYLE):
        yield


def _styled(func: Callable[..., Figure]) -> Callable[..., Figure]:
    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> Figure:
        with house_style():
            return func(*args, **kwargs)

    return wrapper


class DutchFormatter(Formatter):
    """Tick labels in Dutch notation (30.000, 4,5) with as few decimals as the ticks need."""

    def __init__(self, suffix: str = "") -> None:
        self.suffix = suffix
        self.decimals = 0

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        self.decimals = _decimals_needed(locs)

    def __call__(self, x, pos=None) -> str:
        if abs(x) < 1e-9:
            x = 0.0
        return fmt.number(x, self.decimals) + self.suffix


def _decimals_needed(values: Iterable[float]) -> int:
    vals = [float(v) for v in values if np.isfinite(v)]
    for d in range(4):
        if all(abs(v * 10**d - round(v * 10**d)) < 1e-6 * max(1.0, abs(v * 10**d))
               for v in vals):
            return d
    return 4


def _style_axes(ax, grid: str | None = None) -> None:
    """Tick styling stored on the axes, so ticks created later (at draw time) keep it."""
    ax.tick_params(axis="both", labelsize=TICK_SIZE, labelcolor=TEXT, color="#8A8A8A",
                   labelfontfamily=FONT)
    if grid:
        ax.grid(axis=grid, color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)


# -- titles, subtitle and footer on the figure ------------------------------------------------

_PAD = 0.14  # inches around the texts


def _wrap(text: str, size: float, width_in: float, bold: bool = False) -> list[str]:
    """Wrap to the figure width (average DejaVu Sans character ≈ 0.6 em, bold 0.66 em)."""
    per_char = size * (0.66 if bold else 0.58) / 72
    chars = max(20, int((width_in - 2 * _PAD) / per_char))
    return textwrap.wrap(text, chars, break_on_hyphens=False) or [""]


def _new_figure(height: float, width: float = WIDTH, **kwargs):
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained", **kwargs)
    fig.patch.set_facecolor("white")
    return fig, ax


def _frame(fig: Figure, title: str, subtitle: str, source: str,
           notes: Iterable[str] = ()) -> None:
    """Title, subtitle and footer as figure texts; the plot goes in the space between."""
    w, h = fig.get_size_inches()
    x = _PAD / w
    y = 1 - _PAD / h
    t_lines = _wrap(title, TITLE_SIZE, w, bold=True)
    fig.text(x, y, "\n".join(t_lines), fontsize=TITLE_SIZE, fontweight="bold", color=TEXT,
             ha="left", va="top", linespacing=1.15, gid="titel", fontfamily=FONT)
    y -= (len(t_lines) * TITLE_SIZE * 1.22 + 5) / 72 / h
    s_lines = _wrap(subtitle, SUBTITLE_SIZE, w)
    fig.text(x, y, "\n".join(s_lines), fontsize=SUBTITLE_SIZE, color=MUTED, ha="left",
             va="top", linespacing=1.2, gid="ondertitel", fontfamily=FONT)
    y -= (len(s_lines) * SUBTITLE_SIZE * 1.25) / 72 / h
    top = y - 0.1 / h

    lines = [f"Bron: {source}"]
    for note in dict.fromkeys(n for n in notes if n):
        lines += _wrap(note, FOOTER_SIZE, w)
    fig.text(x, _PAD / h, "\n".join(lines), fontsize=FOOTER_SIZE, color=MUTED, ha="left",
             va="bottom", linespacing=1.25, gid="voetnoot", fontfamily=FONT)
    bottom = (_PAD + len(lines) * FOOTER_SIZE * 1.3 / 72 + 0.12) / h
    fig.get_layout_engine().set(rect=(0.0, bottom, 1.0, max(0.2, top - bottom)),
                                w_pad=0.06, h_pad=0.06)


def _sources(rows: pd.DataFrame) -> str:
    ids = [s for s in dict.fromkeys(rows["source"].dropna().astype(str)) if s]
    return source_label("+".join(ids)) if ids else "onbekend"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _span(years: list[int]) -> str:
    """[2010, 2011, 2012, 2016] → '2010–2012, 2016'."""
    out, run = [], []
    for y in sorted(years):
        if run and y != run[-1] + 1:
            out.append(run)
            run = []
        run.append(y)
    if run:
        out.append(run)
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in out)


def _indicator(c, indicator: str):
    try:
        return c.catalogue[indicator]
    except KeyError as exc:
        raise LsbError(exc.args[0]) from None


def _indicator_rows(c, indicator: str) -> tuple:
    ind = _indicator(c, indicator)
    rows = c.table[c.table["indicator"] == indicator]
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


def _wrap_label(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


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


def _value_room(values: list[float], labels: list[str], axes_in: float) -> tuple[float, float]:
    """x limits with room for value labels beside the bar ends (labels ≈ 0.6 em a char)."""
    lo = min([0.0, *values])
    hi = max([0.0, *values])
    span = (hi - lo) or 1.0
    longest = max((len(s) for s in labels), default=6)
    frac = min(0.45, (longest * VALUE_SIZE * 0.62 + 8) / 72 / max(axes_in, 1.0))
    extra = span * frac / (1 - frac)
    return (lo - extra if lo < 0 else 0.0), (hi + extra if hi > 0 else extra * 0.2)


# -- 1. ranking bars ----------------------------------------------------------------------------


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
            (bar,) = ax.barh(y, v, height=0.68, color=e["colour"], zorder=2)
            bar.set_gid(f"balk-{e['entity']}")
            ax.annotate(fmt.value(v, ind.unit), (v, y), xytext=(4 if v >= 0 else -4, 0),
                        textcoords="offset points", ha="left" if v >= 0 else "right",
                        va="center", fontsize=VALUE_SIZE, fontfamily=FONT,
                        color=ACCENT if e["target"] else TEXT,
                        fontweight="bold" if e["target"] else "normal")
        else:
            ax.annotate(STATUS_TEXT.get(e["status"], "niet gepubliceerd"), (0, y),
                        xytext=(4, 0), textcoords="offset points", ha="left", va="center",
                        fontsize=VALUE_SIZE, fontstyle="italic", fontfamily=FONT,
                        color=ACCENT if e["target"] else MUTED, gid=f"geen-waarde-{e['entity']}")
    if gap:
        ax.axhline(n_members - 0.5 + gap / 2, color="#8A8A8A", linewidth=0.9, zorder=1)
    _style_axes(ax, grid="x")
    ax.tick_params(axis="y", length=0)
    ax.set_yticks(ys, [_wrap_label(e["name"]) for e in entries])
    for tick, e in zip(ax.get_yticklabels(), entries, strict=True):
        if e["target"]:
            tick.set_color(ACCENT)
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
    return fig


# -- 2. trend lines -----------------------------------------------------------------------------


@_styled
def trend_lines(c, indicator: str, *, index: bool | None = None) -> Figure:
    """Time series of the target, the group aggregate, the arrondissement and the Region.

    Lines break where a value is missing (no interpolation); years in which the target has no
    published value are marked with open circles along the bottom. Counts (``unit = count``)
    of areas this different in size are shown as an index (first common year = 100) unless
    ``index=False``; the legend always gives the real latest values.
    """
    ind = _indicator(c, indicator)
    h = c.history[c.history["indicator"] == indicator]
    if h.empty:
        raise LsbError(f"{ind.short}: geen reeks in deze vergelijking voor {c.target.name}")
    all_years = sorted(int(y) for y in h["year"].unique())
    years = list(range(all_years[0], all_years[-1] + 1))
    if index is None:
        index = ind.unit == "count"

    specs = [("target", "municipality"), ("aggregate", "reference_group"),
             ("benchmark", "arrondissement"), ("benchmark", "region")]
    series = []
    notes: list[str] = []
    for role, etype in specs:
        part = h[h["role"].eq(role) & h["entity_type"].eq(etype)]
        if part.empty:
            continue
        part = part.sort_values("year").drop_duplicates("year", keep="last").set_index("year")
        vals = part["value"].where(part["status"].eq("ok")).reindex(years).astype(float)
        name = (c.target.name if role == "target" else
                _reference_name(part.iloc[-1], c))
        if vals.notna().sum() == 0 and role != "target":
            why = part["note"].iloc[-1] or STATUS_TEXT.get(part["status"].iloc[-1], "")
            notes.append(f"{name}: {why or 'geen waarden'}.")
            continue
        key = "target" if role == "target" else etype
        series.append({"key": key, "name": name, "values": vals, "rows": part})
        if part["entity"].nunique() > 1:  # another area in an older geography: say so
            first = part[part["entity"] != part["entity"].iloc[-1]]
            notes.append(f"{name}: tot {int(first.index.max())} {first['name'].iloc[-1]} "
                         "(de gemeentelijke indeling van die jaren).")

    # Years without any value (none published, or no source) are trimmed at the ends and
    # shaded in between.
    has = [y for y in years if any(pd.notna(s["values"].get(y)) for s in series)]
    if not has:
        raise LsbError(f"{ind.short}: geen gepubliceerde waarden voor {c.target.name} en "
                       "de vergelijkingsgebieden")
    years = list(range(has[0], has[-1] + 1))
    for s in series:
        s["values"] = s["values"].reindex(years)
    no_data = [y for y in years if y not in set(has)]

    base_year = None
    if index:
        common = [y for y in years if all(pd.notna(s["values"].get(y)) for s in series)]
        if common:
            base_year = common[0]
        else:
            index = False

    fig, ax = _new_figure(5.4)
    last_year = years[-1]
    handles = []
    target_values = None
    for s in series:
        vals = s["values"]
        plot_vals = vals / vals[base_year] * 100 if index else vals
        is_target = s["key"] == "target"
        colour = COLOURS[s["key"]]
        entity = s["rows"]["entity"].reindex(years)
        codes = list(dict.fromkeys(entity.dropna()))
        for k, code in enumerate(codes):  # one line per area: no joins across areas
            gid = f"lijn-{s['key']}" + (f"-{k}" if k < len(codes) - 1 else "")
            (line,) = ax.plot(
                years, plot_vals.where(entity == code).to_numpy(), color=colour,
                linestyle=LINESTYLES[s["key"]], linewidth=3.2 if is_target else 1.9,
                marker="o", markersize=7 if is_target else 4.5, markerfacecolor=colour,
                markeredgecolor="white" if is_target else colour,
                markeredgewidth=1.2 if is_target else 0.5, zorder=5 if is_target else 3,
                gid=gid)
        valid = vals.dropna()
        legend = s["name"]
        if len(valid):
            y_last = int(valid.index[-1])
            legend += f": {fmt.value(float(valid.iloc[-1]), ind.unit)}"
            if y_last != last_year:
                legend += f" ({y_last})"
        line.set_label(legend)
        handles.append(line)
        if is_target:
            target_values = (vals, plot_vals)

    # Open circles along the bottom: years without a published value for the target.
    if target_values is not None:
        vals, plot_vals = target_values
        gaps = [y for y in years if pd.isna(vals.get(y)) and y not in no_data]
        if gaps:
            marks = ax.scatter(gaps, [0.0] * len(gaps), transform=ax.get_xaxis_transform(),
                               s=46, facecolors="white", edgecolors=ACCENT, linewidths=1.6,
                               zorder=6, clip_on=False, gid="doel-geen-waarde",
                               label=f"{c.target.name}: geen gepubliceerde waarde")
            handles.append(marks)
            notes.insert(0, f"Open rondjes op de tijdas: geen gepubliceerde waarde voor "
                            f"{c.target.name} in {_span(gaps)} (geheim of te weinig "
                            "waarnemingen).")
        valid = plot_vals.dropna()
        if len(valid) and not index:
            v_real = float(vals.dropna().iloc[-1])
            ax.annotate(fmt.value(v_real, ind.unit), (valid.index[-1], valid.iloc[-1]),
                        xytext=(7, 0), textcoords="offset points", ha="left", va="center",
                        fontsize=VALUE_SIZE, fontweight="bold", color=ACCENT,
                        fontfamily=FONT, path_effects=HALO, zorder=7)

    for run in _runs(no_data):
        ax.axvspan(run[0] - 0.5, run[-1] + 0.5, color="#F1F1F1", zorder=0, linewidth=0)
    if no_data:
        notes.append(f"Geen cijfers beschikbaar voor {_span(no_data)} (grijze band).")

    # X axis: whole years, the last year always labelled; room on the right for the label.
    span = len(years)
    step = 1 if span <= 12 else 2 if span <= 24 else 5
    ticks = list(range(years[-1], years[0] - 1, -step))[::-1]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticks(ticks, [str(t) for t in ticks])
    right = 0.5 + (0.0 if index else max(0.6, span * 0.13))
    ax.set_xlim(years[0] - 0.5, years[-1] + right)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(DutchFormatter())
    unit_label = (f"index ({base_year} = 100)" if index
                  else UNIT_LABELS.get(ind.unit, ind.unit))
    ax.set_ylabel(unit_label, color=MUTED)
    _style_axes(ax, grid="y")
    ax.tick_params(axis="x", labelcolor=TEXT)
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01),
              ncol=_legend_columns([h.get_label() for h in handles]), borderaxespad=0.2,
              handlelength=2.6, columnspacing=1.6, fontsize=TICK_SIZE)

    subtitle = _trend_subtitle(c, series, years)
    if index:
        notes.insert(0, f"Index: elke reeks gedeeld door haar waarde in {base_year} (× 100), "
                        "om groei van ongelijk grote gebieden te vergelijken; de legende "
                        "geeft de werkelijke waarden.")
    _frame(fig, ind.label, subtitle, _sources(h), notes)
    return fig


def _legend_columns(labels: list[str], width: float = WIDTH - 0.6) -> int:
    """Two columns when they fit the figure width (≈ 0.6 em a character), else one."""
    rows = math.ceil(len(labels) / 2)
    cols = [labels[:rows], labels[rows:]]
    need = sum(max((len(t) for t in col), default=0) * TICK_SIZE * 0.6 + 60 for col in cols)
    return 2 if len(labels) > 1 and need / 72 <= width else 1


def _trend_subtitle(c, series: list[dict], years: list[int]) -> str:
    """'Herenthout, de ISOM-gemeenten samen, het arrondissement Turnhout en het Vlaams Gewest,
    2014–2024'; the group is named in brackets when it has no line."""
    parts = [c.target.name]
    for s in series:
        if s["key"] == "reference_group":
            parts.append(f"de {c.group.label} samen")
        elif s["key"] == "arrondissement":
            parts.append(f"het {arrondissement_phrase(s['name'])}")
        elif s["key"] == "region":
            parts.append(f"het {s['name']}")
    head = ", ".join(parts[:-1]) + (" en " if len(parts) > 1 else "") + parts[-1]
    text = f"{head}, {_span_plain(years)}"
    if not any(s["key"] == "reference_group" for s in series):
        text += f" (referentiegroep: {c.group.label})"
    return text


def _span_plain(years: list[int]) -> str:
    return f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])


def _runs(years: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for y in sorted(years):
        if out and y == out[-1][-1] + 1:
            out[-1].append(y)
        else:
            out.append([y])
    return out


# -- 3. income bands ----------------------------------------------------------------------------


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
                   "rows": pick(table, "target", "municipality"), "colour": ACCENT})
    series.append({"key": "reference_group", "name": f"{_group_short(c)} (samen)",
                   "rows": pick(table, "aggregate", "reference_group"),
                   "colour": COLOURS["reference_group"]})
    arr_rows = pick(table, "benchmark", "arrondissement")
    arr_name = next((n for n in arr_rows["name"] if isinstance(n, str)), "Arrondissement")
    series.append({"key": "arrondissement", "name": arr_name, "rows": arr_rows,
                   "colour": COLOURS["arrondissement"]})

    k = len(series)
    bar_h = 0.8 / k
    height = min(9.0, 2.7 + len(bands) * (k * 0.17 + 0.22))
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
                (bar,) = ax.barh(y, v, height=bar_h * 0.92, color=s["colour"],
                                 edgecolor=s.get("edge", s["colour"]),
                                 hatch=s.get("hatch"), linewidth=1.0, zorder=2)
                bar.set_gid(f"band-{s['key']}-{iid}")
                if s.get("hatch"):
                    _set_hatch(bar, ACCENT)
                ax.annotate(fmt.value(v, "percent"), (v, y), xytext=(3, 0),
                            textcoords="offset points", ha="left", va="center",
                            fontsize=VALUE_SIZE, fontfamily=FONT,
                            color=ACCENT if s["key"] in ("target", "then") else TEXT,
                            fontweight="bold" if s["key"] == "target" else "normal")
            else:
                unavailable = True
                ax.annotate(STATUS_TEXT.get(r["status"], "niet gepubliceerd"), (0, y),
                            xytext=(3, 0), textcoords="offset points", ha="left",
                            va="center", fontsize=VALUE_SIZE, fontstyle="italic",
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
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01),
              ncol=_legend_columns([h.get_label() for h in handles]), borderaxespad=0.2,
              fontsize=TICK_SIZE)

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
    return fig


def _set_hatch(patch, colour: str) -> None:
    """Hatch colour independent of the edge colour (matplotlib ≥ 3.10), else via the edge."""
    if hasattr(patch, "set_hatchcolor"):
        patch.set_hatchcolor(colour)
    if hasattr(patch, "set_hatch_linewidth"):
        patch.set_hatch_linewidth(1.0)


# -- 4. maps ------------------------------------------------------------------------------------

MAP_CMAP = LinearSegmentedColormap.from_list(
    "lsb_blues", matplotlib.colormaps["Blues"](np.linspace(0.12, 0.88, 256)))


def _geometry_path(geom) -> Path:
    """One compound path per (multi)polygon, holes included (rings oriented for nonzero)."""
    from shapely.geometry.polygon import orient

    polygons = getattr(geom, "geoms", [geom])
    verts, codes = [], []
    for poly in polygons:
        poly = orient(poly, sign=1.0)
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            verts.append(xy)
            codes.append([Path.MOVETO] + [Path.LINETO] * (len(xy) - 2) + [Path.CLOSEPOLY])
    return Path(np.concatenate(verts), np.concatenate(codes))


@_styled
def group_map(c, indicator: str, scope: str = "arrondissement", *, ds=None,
              label_members: bool = True) -> Figure:
    """Choropleth of the target's arrondissement (``scope="arrondissement"``) or of the
    reference-group members (``scope="groep"``), in the 2025 municipal geography.

    Values come from ``ds.compare(target, reference="arrondissement", year=…)`` at the year of
    the comparison, so mergers and geography versions are handled as everywhere else. The target
    is outlined thickly in the accent colour, reference-group members in dark grey;
    municipalities without a published value are hatched grey.
    """
    if scope not in ("arrondissement", "groep"):
        raise ValueError(f"scope must be 'arrondissement' or 'groep', not {scope!r}")
    ds = ds if ds is not None else getattr(c.engine, "ds", None)
    if ds is None:
        raise LsbError("Geen dataset bij deze vergelijking: geef ds= mee.")
    ind = _indicator(c, indicator)
    own = c.table[c.table["indicator"] == indicator]
    year = int(own["year"].iloc[0]) if len(own) else None
    if scope == "arrondissement":
        area = ds.compare(c.target, reference="arrondissement", year=year,
                          indicators=[indicator])
        rows = area.table
        members = area.group.members
        group_codes = set() if c.group.id == "arrondissement" else set(c.group.codes)
    else:
        rows = own if len(own) else ds.compare(
            c.target, reference=c.group.codes, year=year, indicators=[indicator]).table
        members = c.group.members
        group_codes = set()  # every municipality on the map is a member: no outlines
    rows = rows[rows["indicator"] == indicator]
    mun = rows[rows["entity_type"] == "municipality"].drop_duplicates("entity")
    period = str(mun["period"].iloc[0])
    mun = mun.set_index("entity")[["name", "value", "status", "source"]]
    absent = [m for m in members if m.nis not in mun.index]  # no row at all: no value
    for m in absent:
        mun.loc[m.nis] = [m.name, float("nan"), "missing", None]

    bounds = ds.boundaries
    bounds = bounds[bounds["level"].eq("municipality")
                    & bounds["geo_version"].eq(CURRENT_GEOGRAPHY)].set_index("nis")
    codes = [n for n in mun.index if n in bounds.index]
    no_shape = [mun.loc[n, "name"] for n in mun.index if n not in bounds.index]

    ok = mun["status"].eq("ok") & mun["value"].notna()
    vals = mun.loc[ok, "value"].astype(float)
    vmin, vmax = (float(vals.min()), float(vals.max())) if len(vals) else (0.0, 1.0)
    if vmin == vmax:
        vmin, vmax = vmin - 1, vmax + 1
    norm = Normalize(vmin, vmax)

    x0, y0, x1, y1 = bounds.loc[codes, "geometry"].total_bounds if codes else (0, 0, 1, 1)
    aspect = (x1 - x0) / max(y1 - y0, 1.0)  # width / height of the area
    map_height = min(6.2, max(3.6, 5.6 / max(aspect, 0.1)))
    fig, ax = _new_figure(map_height + 2.2)
    target = c.target.nis
    order = sorted(codes, key=lambda n: (n == target, n in group_codes))  # outlines on top
    for nis in order:
        has_value = bool(ok.get(nis, False))
        is_target = nis == target
        member = nis in group_codes
        patch = PathPatch(
            _geometry_path(bounds.loc[nis, "geometry"]),
            facecolor=MAP_CMAP(norm(float(mun.loc[nis, "value"]))) if has_value else NO_VALUE,
            edgecolor=ACCENT if is_target else OUTLINE if member else "white",
            linewidth=3.2 if is_target else 1.6 if member else 0.7,
            hatch=None if has_value else "////",
            zorder=4 if is_target else 3 if member else 2,
            joinstyle="round",
            gid=f"gemeente-{nis}",
        )
        if not has_value:
            _set_hatch(patch, NO_VALUE_HATCH)
        ax.add_patch(patch)
    ax.set_aspect("equal", adjustable="datalim")  # metres: keep the shape, fill the box
    ax.autoscale_view()
    ax.set_axis_off()
    if len(vals):
        cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=MAP_CMAP), ax=ax, shrink=0.72,
                            aspect=22, pad=0.02)
        cbar.ax.yaxis.set_major_formatter(DutchFormatter())
        cbar.set_label(UNIT_LABELS.get(ind.unit, ind.unit), color=MUTED, fontsize=LABEL_SIZE,
                       fontfamily=FONT)
        cbar.ax.tick_params(labelsize=TICK_SIZE, labelcolor=TEXT, labelfontfamily=FONT)
        cbar.outline.set_visible(False)

    handles = [Patch(facecolor="white", edgecolor=ACCENT, linewidth=3, label=c.target.name)]
    if scope == "arrondissement" and group_codes:
        handles.append(Patch(facecolor="white", edgecolor=OUTLINE, linewidth=1.6,
                             label=_capital(c.group.label)))
    missing = [n for n in codes if not ok.get(n, False)]
    if missing:
        handle = Patch(facecolor=NO_VALUE, edgecolor=NO_VALUE_HATCH, hatch="////",
                       linewidth=0.6, label=NO_VALUE_LABEL)
        handles.append(handle)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncol=len(handles), fontsize=TICK_SIZE, handlelength=1.6, handleheight=1.1,
              borderaxespad=0.2)

    t = mun.loc[target] if target in mun.index else None
    t_value = (fmt.value(float(t["value"]), ind.unit) if t is not None and t["status"] == "ok"
               else "geen gepubliceerde waarde")
    arr_name = ds.name_of(c.target.arrondissement, c.target.geo_version)
    if scope == "arrondissement":
        where = (f"de andere gemeenten van het {arrondissement_phrase(arr_name)}"
                 if not group_codes else
                 f"{_group_phrase(c)} in het {arrondissement_phrase(arr_name)}")
    else:
        where = _group_phrase(c)
    subtitle = f"{c.target.name} ({t_value}) en {where}, {period}"
    notes = []
    if missing:
        names = ", ".join(mun.loc[n, "name"] for n in sorted(missing,
                                                              key=lambda n: mun.loc[n, "name"]))
        notes.append(f"Gearceerd = geen gepubliceerde waarde (geheim of te weinig "
                     f"waarnemingen): {names}.")
    if no_shape:
        notes.append("Geen grens gevonden voor " + ", ".join(no_shape) + ".")
    source = _sources(mun.reset_index()) + "; grenzen: Provincies in Cijfers (indeling 2025)"
    _frame(fig, ind.label, subtitle, source, notes)
    labelled = [n for n in reversed(order) if n == target or (
        label_members and (n in group_codes or scope == "groep"))]
    with_values = scope == "groep" and len(labelled) <= 12
    def label(n):  # on a map of the group alone, the value goes under the name
        if not with_values:
            return mun.loc[n, "name"]
        v = (fmt.value(float(mun.loc[n, "value"]), ind.unit) if ok.get(n, False)
             else "geen waarde")
        return f"{mun.loc[n, 'name']}\n{v}"

    _map_labels(fig, ax, [(label(n), _label_point(bounds.loc[n, "geometry"]), n == target)
                          for n in labelled])
    return fig


def _label_point(geom) -> tuple[float, float]:
    """Pole of inaccessibility of the largest part: inside, and central for odd shapes."""
    from shapely.ops import polylabel

    parts = getattr(geom, "geoms", [geom])
    main = max(parts, key=lambda p: p.area)
    try:
        point = polylabel(main, tolerance=50.0)
    except Exception:  # pragma: no cover - degenerate geometry
        point = main.representative_point()
    return float(point.x), float(point.y)


def _map_labels(fig: Figure, ax, labels: list[tuple[str, tuple[float, float], bool]]) -> None:
    """Name labels at their points, pushed apart vertically where they would overlap.

    The first label (the target) stays put. A label moved away from its municipality gets a thin
    leader line to its point.
    """
    if not labels:
        return
    texts = []
    for name, (x, y), is_target in labels:
        texts.append(ax.annotate(
            name, (x, y), xytext=(x, y), textcoords="data", ha="center", va="center",
            fontsize=11.5 if is_target else 10, fontweight="bold" if is_target else "normal",
            color=TEXT, fontfamily=FONT, path_effects=HALO, zorder=10,
            arrowprops={"arrowstyle": "-", "color": MUTED, "linewidth": 0.8, "shrinkA": 0,
                        "shrinkB": 0},
        ))
    fig.draw_without_rendering()  # lays the figure out, so the text extents are final
    boxes = [t.get_window_extent().padded(1.5) for t in texts]
    centres = np.array([[(b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2] for b in boxes])
    start = centres.copy()
    half = np.array([[b.width / 2, b.height / 2] for b in boxes])
    for _ in range(200):
        moved = False
        for i in range(len(texts)):
            for j in range(i + 1, len(texts)):
                dx = abs(centres[i, 0] - centres[j, 0]) - (half[i, 0] + half[j, 0])
                dy = abs(centres[i, 1] - centres[j, 1]) - (half[i, 1] + half[j, 1])
                if dx >= 0 or dy >= 0:
                    continue
                push = -dy + 0.5
                up = 1.0 if centres[j, 1] >= centres[i, 1] else -1.0
                if i == 0:  # the target's label does not move
                    centres[j, 1] += up * push
                else:
                    centres[i, 1] -= up * push / 2
                    centres[j, 1] += up * push / 2
                moved = True
        if not moved:
            break
    inverse = ax.transData.inverted()
    for t, c0, c1, h in zip(texts, start, centres, half, strict=True):
        shift = abs(c1[1] - c0[1])
        if shift >= 0.5:
            t.xyann = tuple(inverse.transform(c1))
        if shift < h[1] * 1.6:  # still on its municipality: no leader line
            t.arrow_patch.set_visible(False)


# -- 5. default chart ---------------------------------------------------------------------------


def chart_for(c, indicator: str) -> Figure:
    """The default chart for an indicator: the ranking bars of the group at the year."""
    return ranking_bars(c, indicator)
