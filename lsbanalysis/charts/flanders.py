"""A choropleth of Flemish municipalities (2025 map) for values given per NIS code.

Used by the overview page of a batch (:mod:`lsbanalysis.report.index`): one map per key
indicator, in the house style of :func:`lsbanalysis.charts.maps.group_map` (same colour scale,
grey borders, hatched grey where there is no value). Municipalities that are not part of the
overview are drawn as white outlines for orientation; the view covers the ones that are.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PathCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from lsbanalysis import fmt
from lsbanalysis.analysis.groups import CURRENT_GEOGRAPHY
from lsbanalysis.analysis.validation import FLEMISH_REGION
from lsbanalysis.charts.alttext import ChartText, attach, extremes, join, listing, shown
from lsbanalysis.charts.maps import MAP_CMAP, _geometry_path
from lsbanalysis.charts.style import (
    FONT,
    GRID,
    LABEL_SIZE,
    MAP_EDGE,
    MUTED,
    NO_VALUE,
    NO_VALUE_HATCH,
    NO_VALUE_LABEL,
    TEXT,
    TICK_SIZE,
    UNIT_LABELS,
    DutchFormatter,
    _capital,
    _frame,
    _new_figure,
    _styled,
)

#: Beyond this many municipalities without a value, the alt text counts them instead of naming.
NAMED_MISSING = 8


def flemish_shapes(ds) -> pd.DataFrame:
    """NIS code → name and matplotlib path of every Flemish municipality on the 2025 map."""
    bounds = ds.boundaries
    bounds = bounds[bounds["level"].eq("municipality")
                    & bounds["geo_version"].eq(CURRENT_GEOGRAPHY)]
    geo = ds.geography
    flemish = geo[(geo["geo_version"] == CURRENT_GEOGRAPHY) & (geo["level"] == "municipality")
                  & (geo["region"] == FLEMISH_REGION)].set_index("nis")["name_nl"]
    bounds = bounds[bounds["nis"].isin(flemish.index)]
    return pd.DataFrame({
        "name": flemish.reindex(bounds["nis"]).to_numpy(),
        "path": [_geometry_path(g) for g in bounds["geometry"]],
        "box": [tuple(g.bounds) for g in bounds["geometry"]],
    }, index=pd.Index(bounds["nis"].to_numpy(), name="nis"))


@_styled
def flanders_map(shapes: pd.DataFrame, values: pd.DataFrame, *, title: str, unit: str,
                 period: str, source: str) -> Figure:
    """Choropleth of ``values`` (index NIS; columns ``name``, ``value``, ``status``).

    ``shapes`` comes from :func:`flemish_shapes`. The municipalities in ``values`` are coloured
    (hatched grey without a value); the other Flemish municipalities are white outlines. The
    figure carries its Dutch text alternative and the table of its values (``describe(fig)``).
    """
    inside = [n for n in values.index if n in shapes.index]
    ok = values["status"].eq("ok") & values["value"].notna()
    vals = values.loc[ok, "value"].astype(float)
    vmin, vmax = (float(vals.min()), float(vals.max())) if len(vals) else (0.0, 1.0)
    if vmin == vmax:
        vmin, vmax = vmin - 1, vmax + 1
    norm = Normalize(vmin, vmax)

    boxes = np.array([shapes.at[n, "box"] for n in (inside or list(shapes.index))])
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    pad = 0.03 * max(x1 - x0, y1 - y0)
    aspect = (x1 - x0) / max(y1 - y0, 1.0)
    map_height = min(4.6, max(2.6, 7.6 / max(aspect, 0.1)))
    fig, ax = _new_figure(map_height + 2.0)

    others = [n for n in shapes.index if n not in set(inside)]
    if others:  # context: the rest of Flanders, unfilled
        ax.add_collection(PathCollection(list(shapes.loc[others, "path"]), facecolors="white",
                                         edgecolors=GRID, linewidths=0.4, zorder=1))
    with_value = [n for n in inside if ok.get(n, False)]
    without = [n for n in inside if not ok.get(n, False)]
    if with_value:
        colours = MAP_CMAP(norm(values.loc[with_value, "value"].astype(float).to_numpy()))
        ax.add_collection(PathCollection(list(shapes.loc[with_value, "path"]),
                                         facecolors=colours, edgecolors=MAP_EDGE,
                                         linewidths=0.35, zorder=2))
    if without:
        hatched = PathCollection(list(shapes.loc[without, "path"]), facecolors=NO_VALUE,
                                 edgecolors=NO_VALUE_HATCH, linewidths=0.35, hatch="////",
                                 zorder=2)
        ax.add_collection(hatched)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    if len(vals):
        cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=MAP_CMAP), ax=ax, shrink=0.8,
                            aspect=22, pad=0.02)
        cbar.ax.yaxis.set_major_formatter(DutchFormatter())
        cbar.set_label(UNIT_LABELS.get(unit, unit), color=MUTED, fontsize=LABEL_SIZE,
                       fontfamily=FONT)
        cbar.ax.tick_params(labelsize=TICK_SIZE, labelcolor=TEXT, labelfontfamily=FONT)
        cbar.outline.set_visible(False)
    handles = []
    no_value = _no_value_label(values, period)
    if without:
        handles.append(Patch(facecolor=NO_VALUE, edgecolor=NO_VALUE_HATCH, hatch="////",
                             linewidth=0.6, label=no_value))
    if others:
        handles.append(Patch(facecolor="white", edgecolor=MAP_EDGE, linewidth=0.6,
                             label="niet in dit overzicht"))
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                  ncol=len(handles), fontsize=TICK_SIZE, handlelength=1.6, handleheight=1.1,
                  borderaxespad=0.2)
    subject = _subject(len(inside), len(shapes))
    subtitle = f"{_capital(subject)}, {period}; hoe donkerder, hoe hoger"
    notes = []
    if without:
        notes.append(f"Gearceerd = {no_value}: {_names(values, without)}.")
    _frame(fig, title, subtitle, source + "; grenzen: Provincies in Cijfers (indeling 2025)",
           notes)
    return attach(fig, _text(values, inside, ok, title, unit, period, subject, no_value))


def _subject(n: int, of: int) -> str:
    if n == of:
        return f"alle {n} Vlaamse gemeenten"
    return f"{n} Vlaamse gemeente{'n' if n != 1 else ''}"


def _no_value_label(values: pd.DataFrame, period: str) -> str:
    """Values of another year than the map's are left out: then the label names the year."""
    return (f"{NO_VALUE_LABEL} voor {period}" if values["status"].eq("other_year").any()
            else NO_VALUE_LABEL)


def _names(values: pd.DataFrame, codes: list[str]) -> str:
    names = sorted(str(values.at[n, "name"]) for n in codes)
    if len(names) > NAMED_MISSING:
        return f"{len(names)} gemeenten (zie de tabel)"
    return listing(names)


def _text(values: pd.DataFrame, inside: list[str], ok: Mapping, title: str, unit: str,
          period: str, subject: str, no_value: str) -> ChartText:
    rows = values.loc[inside].assign(_ok=[bool(ok.get(n, False)) for n in inside])
    rows = rows.sort_values(["_ok", "value", "name"], ascending=[False, False, True])
    published = [(str(r["name"]), float(r["value"])) for _, r in rows[rows["_ok"]].iterrows()]
    parts = [f"Kaart: {title} per gemeente, {period}, voor {subject}; hoe donkerder, hoe hoger",
             f"{published[0][0]}: {fmt.value(published[0][1], unit)}" if len(published) == 1
             else extremes(published, unit)]
    missing = [n for n in inside if not ok.get(n, False)]
    if missing:
        parts.append(f"{no_value}: {_names(values, missing)} (gearceerd)")
    table = pd.DataFrame({
        "Gemeente": rows["name"].astype(str).to_numpy(),
        title: [shown(v, s, unit) for v, s in zip(rows["value"], rows["status"], strict=True)],
    })
    data = pd.DataFrame({"gemeente": rows["name"].astype(str).to_numpy(),
                         "nis": rows.index.to_numpy(), "jaar": period,
                         "waarde": rows["value"].where(rows["_ok"]).to_numpy(),
                         "status": rows["status"].to_numpy()})
    return ChartText(join(*parts), f"{title} per gemeente, {period}", table, data)
