"""Trend lines: the target, the group aggregate, the arrondissement and the Region over time."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator

from lsbanalysis import fmt
from lsbanalysis.analysis.groups import arrondissement_phrase
from lsbanalysis.charts.alttext import ChartText, attach, join, listing, shown
from lsbanalysis.charts.common import (
    _indicator,
    _reference_name,
    _reference_phrase,
    _sources,
    _span,
)
from lsbanalysis.charts.style import (
    ACCENT,
    ACCENT_TEXT,
    COLOURS,
    FONT,
    HALO,
    LINESTYLES,
    MARKERS,
    MUTED,
    STATUS_TEXT,
    TEXT,
    TICK_SIZE,
    UNIT_LABELS,
    VALUE_SIZE,
    DutchFormatter,
    _frame,
    _legend_columns,
    _new_figure,
    _style_axes,
    _styled,
)
from lsbanalysis.errors import LsbError


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
                marker=MARKERS[s["key"]], markersize=7 if is_target else 5,
                markerfacecolor=colour,
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
                        fontsize=VALUE_SIZE, fontweight="bold", color=ACCENT_TEXT,
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
    box = ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01),
                    ncol=_legend_columns([h.get_label() for h in handles]),
                    borderaxespad=0.2, handlelength=2.6, columnspacing=1.6, fontsize=TICK_SIZE)
    for text in box.get_texts():  # the target: bold, not only another colour
        if text.get_text().startswith(f"{c.target.name}:"):
            text.set_fontweight("bold")

    subtitle = _trend_subtitle(c, series, years)
    if index:
        notes.insert(0, f"Index: elke reeks gedeeld door haar waarde in {base_year} (× 100), "
                        "om groei van ongelijk grote gebieden te vergelijken; de legende "
                        "geeft de werkelijke waarden.")
    _frame(fig, ind.label, subtitle, _sources(h), notes)
    return attach(fig, _trend_text(c, ind, series, years, base_year if index else None))


def _trend_text(c, ind, series: list[dict], years: list[int], base_year) -> ChartText:
    """Alt text and table of the trend lines, from the series drawn."""
    unit = ind.unit
    phrase = {s["key"]: s["name"] if s["key"] == "target"
              else _reference_phrase(s["rows"].iloc[-1], c) for s in series}
    head = (f"Lijndiagram: {ind.label}, {_span_plain(years)}, voor "
            f"{listing(list(phrase.values()))}")
    if base_year is not None:
        head += f", als index ({base_year} = 100); hieronder de werkelijke waarden"
    parts = [head]
    for s in series:
        valid = s["values"].dropna()
        if valid.empty:
            parts.append(f"{phrase[s['key']]}: geen gepubliceerde waarden")
            continue
        first_y, last_y = int(valid.index[0]), int(valid.index[-1])
        text = (f"{phrase[s['key']]}: van {fmt.value(float(valid.iloc[0]), unit)} in {first_y} "
                f"naar {fmt.value(float(valid.iloc[-1]), unit)} in {last_y}")
        if s["key"] == "target" and len(valid) > 2:
            lo_y, hi_y = int(valid.idxmin()), int(valid.idxmax())
            text += (f" (laagste {fmt.value(float(valid.min()), unit)} in {lo_y}, "
                     f"hoogste {fmt.value(float(valid.max()), unit)} in {hi_y})")
        parts.append(text)
    target = next((s for s in series if s["key"] == "target"), None)
    if target is not None:
        gaps = [y for y in years if pd.isna(target["values"].get(y))]
        if gaps:
            parts.append(f"geen gepubliceerde waarde voor {c.target.name} in {_span(gaps)}")

    col = {s["name"]: [shown(v, "ok" if pd.notna(v) else "missing", unit)
                       for v in s["values"].reindex(years)] for s in series}
    table = pd.DataFrame({"Jaar": [str(y) for y in years], **col})
    data = pd.DataFrame({"jaar": years, "indicator": ind.id,
                         **{s["name"]: s["values"].reindex(years).to_numpy() for s in series}})
    caption = f"{ind.label}, {_span_plain(years)}"
    return ChartText(join(*parts), caption, table, data)


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
