"""Population pyramid: the municipality's inhabitants per 5-year age band and sex as bars, the
reference group's (and the Flemish Region's) shape as step lines over them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from lsbanalysis import fmt
from lsbanalysis.analysis.findings import source_label
from lsbanalysis.analysis.structure import SEX_LABELS, SEXES, AgeStructure, age_structure
from lsbanalysis.charts.alttext import ChartText, attach, join, listing
from lsbanalysis.charts.common import _group_phrase, _group_short
from lsbanalysis.charts.style import (
    ACCENT,
    COLOURS,
    FONT,
    LABEL_SIZE,
    LINESTYLES,
    MUTED,
    TEXT,
    TICK_SIZE,
    DutchFormatter,
    _frame,
    _legend_columns,
    _new_figure,
    _style_axes,
    _styled,
)

#: Broad age groups for the text alternative: (lowest age, below this age or None, label).
AGE_GROUPS = ((0, 20, "0-19 jaar"), (20, 65, "20-64 jaar"), (65, None, "65 jaar en ouder"),
              (80, None, "80 jaar en ouder"))
#: The comparison shapes drawn as lines: entity type → line width.
SHAPES = {"reference_group": 2.4, "region": 1.9}


class _AbsoluteFormatter(DutchFormatter):
    """Men are drawn to the left (negative); their ticks show the share without a sign."""

    def __call__(self, x, pos=None) -> str:
        return super().__call__(abs(x), pos)


def _default_upto(c) -> int | None:
    """The comparison's reference year (None: the latest year with data); a comparison handed
    to a chapter travels without its raw history, so the year is not read from there."""
    return c.year


@_styled
def population_pyramid(c, year: int | None = None, *, region: bool = True,
                       ds=None) -> Figure:
    """Inhabitants per 5-year age band (men left, women right) as a % of the whole population.

    The municipality is drawn as outlined bars; the reference group's shape (its members'
    counts per band summed, divided by their summed population) and, with ``region``, the
    Flemish Region's shape are step lines over them. ``year`` defaults to the latest year with
    an age structure up to the comparison's last year (its reference year, if any). The counts
    are read from ``ds`` (default: the dataset the comparison was made from).
    """
    if year is None and region and (ds is None or ds is c.engine.ds):
        s = c.age_structure  # the comparison's own (computed once, shared with a report)
    else:
        s = age_structure(ds if ds is not None else c.engine.ds, c.target, c.group, year,
                          upto=None if year else _default_upto(c),
                          benchmarks=("region",) if region else ())
    bands = list(s.bands)
    n = len(bands)
    y = np.arange(n)
    edges = np.arange(n + 1) - 0.5
    own = s.shape("municipality")

    fig, ax = _new_figure(6.9)
    handles = []
    for sex, sign in (("men", -1), ("women", 1)):
        drawn = ax.barh(y, sign * own[sex].to_numpy(), height=0.86, color=ACCENT,
                        edgecolor=TEXT, linewidth=0.9, zorder=2)
        for band, bar in zip(bands, drawn, strict=True):
            bar.set_gid(f"piramide-{sex}-{band}")
    handles.append(Patch(facecolor=ACCENT, edgecolor=TEXT, linewidth=0.9,
                         label=f"{c.target.name} {s.year}"))
    shapes = [e for e in SHAPES if e in s.entities()]
    for etype in shapes:
        shape = s.shape(etype)
        colour = COLOURS[etype]
        for sex, sign in (("men", -1), ("women", 1)):
            ax.stairs(sign * shape[sex].to_numpy(), edges, orientation="horizontal",
                      baseline=None, color=colour, linewidth=SHAPES[etype],
                      linestyle=LINESTYLES[etype], zorder=4, gid=f"vorm-{etype}-{sex}")
        handles.append(Line2D([], [], color=colour, linewidth=SHAPES[etype],
                              linestyle=LINESTYLES[etype], label=_shape_name(c, s, etype)))

    top = max(float(s.table["share"].max()), 0.1) * 1.08
    ax.set_xlim(-top, top)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_yticks(y, bands)
    ax.axvline(0, color="#8A8A8A", linewidth=0.8, zorder=3)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10], symmetric=True))
    ax.xaxis.set_major_formatter(_AbsoluteFormatter())
    ax.set_xlabel("aandeel van de totale bevolking (%)", color=MUTED)
    ax.set_ylabel("leeftijd (jaar)", color=MUTED)
    _style_axes(ax, grid="x")
    ax.tick_params(axis="y", length=0, labelcolor=TEXT)
    for x, ha, sex in ((0.02, "left", "men"), (0.98, "right", "women")):
        ax.text(x, 0.985, SEX_LABELS[sex].capitalize(), transform=ax.transAxes, ha=ha,
                va="top", fontsize=LABEL_SIZE, fontweight="bold", color=TEXT, fontfamily=FONT,
                gid=f"kop-{sex}")
    box = ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01),
                    ncol=_legend_columns([h.get_label() for h in handles]), borderaxespad=0.2,
                    handlelength=2.6, fontsize=TICK_SIZE)
    box.get_texts()[0].set_fontweight("bold")  # the municipality: not only another colour

    others = listing([_shape_phrase(c, s, e) for e in shapes])
    subtitle = (f"{c.target.name}: inwoners per leeftijdsklasse van 5 jaar op 1 januari "
                f"{s.year}" + (f", tegenover de opbouw van {others}" if others else ""))
    notes = ["Aandeel van de totale bevolking van elk gebied (mannen en vrouwen samen = 100 %)."]
    if "reference_group" in shapes:
        notes.append(f"Lijn {_group_short(c)}: de inwoners van de gemeenten samen per klasse "
                     "gedeeld door hun totale bevolking.")
    notes += [*s.notes, f"{s.map_note[:1].upper()}{s.map_note[1:]}."]
    _frame(fig, "Bevolkingspiramide", subtitle, source_label(s.source), notes)
    return attach(fig, _pyramid_text(c, s, shapes))


def _shape_name(c, s: AgeStructure, etype: str) -> str:
    return f"{_group_short(c)} (samen)" if etype == "reference_group" else s.name(etype)


def _shape_phrase(c, s: AgeStructure, etype: str) -> str:
    return f"{_group_phrase(c)} samen" if etype == "reference_group" else f"het {s.name(etype)}"


def _pyramid_text(c, s: AgeStructure, shapes: list[str]) -> ChartText:
    """Alt text and table of the pyramid, from the shares drawn."""
    pct = "percent"
    head = (f"Bevolkingspiramide: inwoners van {c.target.name} op 1 januari {s.year} per "
            "leeftijdsklasse van 5 jaar, mannen links en vrouwen rechts, als aandeel van de "
            "totale bevolking")
    if shapes:
        head += ", met als lijn de opbouw van " + listing(
            [_shape_phrase(c, s, e) for e in shapes])
    parts = [head]
    for etype in ["municipality", *shapes]:
        who = c.target.name if etype == "municipality" else _shape_phrase(c, s, etype)
        groups = listing(f"{label} {fmt.value(s.share_of_ages(etype, lo, hi), pct)}"
                         for lo, hi, label in AGE_GROUPS)
        parts.append(f"{who}: {groups}")
    own = s.shape("municipality")
    for sex in SEXES:
        band = own[sex].idxmax()
        parts.append(f"grootste klasse bij de {SEX_LABELS[sex]} in {c.target.name}: {band} "
                     f"jaar ({fmt.value(float(own.loc[band, sex]), pct)})")
    if "reference_group" in shapes:
        diff = (own - s.shape("reference_group")).sum(axis=1)
        band = diff.abs().idxmax()
        more = "meer" if diff[band] > 0 else "minder"
        parts.append(f"het grootste verschil met {_group_phrase(c)} samen is de klasse {band} "
                     f"jaar: {fmt.number(abs(float(diff[band])), 1)} procentpunt {more} van "
                     "de bevolking")

    columns = {"Leeftijd": list(s.bands)}
    data = {"jaar": s.year, "leeftijd": list(s.bands)}
    for etype in ["municipality", *shapes]:
        name = c.target.name if etype == "municipality" else _shape_name(c, s, etype)
        shape = s.shape(etype)
        for sex in SEXES:
            columns[f"{name}, {SEX_LABELS[sex]}"] = [fmt.value(float(v), pct)
                                                    for v in shape[sex]]
            data[f"{name}, {SEX_LABELS[sex]} (%)"] = shape[sex].to_numpy()
    caption = f"Bevolking per leeftijdsklasse en geslacht (% van de totale bevolking), {s.year}"
    return ChartText(join(*parts), caption, pd.DataFrame(columns), pd.DataFrame(data))
