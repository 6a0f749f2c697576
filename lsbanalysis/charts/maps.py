"""Maps: a choropleth of the target's arrondissement or of its reference group."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path

from lsbanalysis import fmt
from lsbanalysis.analysis.groups import CURRENT_GEOGRAPHY, arrondissement_phrase
from lsbanalysis.charts.alttext import ChartText, attach, extremes, join, listing, shown
from lsbanalysis.charts.common import _group_phrase, _indicator, _sources
from lsbanalysis.charts.style import (
    ACCENT,
    FONT,
    HALO,
    LABEL_SIZE,
    MAP_EDGE,
    MUTED,
    NO_VALUE,
    NO_VALUE_HATCH,
    NO_VALUE_LABEL,
    OUTLINE,
    TEXT,
    TICK_SIZE,
    UNIT_LABELS,
    DutchFormatter,
    _capital,
    _frame,
    _new_figure,
    _set_hatch,
    _styled,
)
from lsbanalysis.errors import LsbError

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

    Values come from the comparison of the target with its arrondissement at the year of the
    comparison (``c.area``, computed once for all maps of a comparison; with another ``ds``,
    ``ds.compare(target, reference="arrondissement", year=…)``), so mergers and geography
    versions are handled as everywhere else. The target
    is outlined thickly in the accent colour, reference-group members in dark grey;
    municipalities without a published value are hatched grey.
    """
    if scope not in ("arrondissement", "groep"):
        raise ValueError(f"scope must be 'arrondissement' or 'groep', not {scope!r}")
    own_ds = getattr(c.engine, "ds", None)
    ds = ds if ds is not None else own_ds
    if ds is None:
        raise LsbError("Geen dataset bij deze vergelijking: geef ds= mee.")
    ind = _indicator(c, indicator)
    own = c.rows(indicator)
    year = int(own["year"].iloc[0]) if len(own) else None
    if scope == "arrondissement":
        area = c.area if ds is own_ds and len(own) else ds.compare(
            c.target, reference="arrondissement", year=year, indicators=[indicator])
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
    # at most ~7 inches in all: legible when printed at most ~11 cm high (report.css)
    map_height = min(4.6, max(3.4, 4.6 / max(aspect, 0.1)))
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
            # grey borders, so that light shades stay apart from the background and each other
            edgecolor=ACCENT if is_target else OUTLINE if member else MAP_EDGE,
            linewidth=3.2 if is_target else 1.6 if member else 0.6,
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
    return attach(fig, _map_text(c, ind, mun, ok, codes, group_codes, where, period,
                                 scope == "groep"))


def _map_text(c, ind, mun, ok, codes: list[str], group_codes: set[str], where: str,
              period: str, whole_group: bool) -> ChartText:
    """Alt text and table of a map, from the values it colours."""
    unit, target = ind.unit, c.target.nis
    shown_rows = mun.loc[codes].assign(_ok=[bool(ok.get(n, False)) for n in codes])
    shown_rows = shown_rows.sort_values(["_ok", "value", "name"],
                                        ascending=[False, False, True])
    published = [(str(r["name"]), float(r["value"]))
                 for _, r in shown_rows[shown_rows["_ok"]].iterrows()]
    parts = [f"Kaart: {ind.label} per gemeente, {period}, voor {c.target.name} en {where} "
             f"({len(codes)} gemeenten); hoe donkerder, hoe hoger"]
    if target in mun.index:
        r = mun.loc[target]
        parts.append(f"{c.target.name} (dik omrand): {shown(r['value'], r['status'], unit)}")
    if whole_group and len(published) <= 12:
        parts.append("waarden: " + listing(f"{n} {fmt.value(v, unit)}" for n, v in published))
    else:
        parts.append(extremes(published, unit))
    hidden = sorted(str(n) for n in shown_rows.loc[~shown_rows["_ok"], "name"])
    if hidden:
        parts.append(f"geen gepubliceerde waarde voor {listing(hidden)} (gearceerd)")

    table = pd.DataFrame({
        "Gemeente": shown_rows["name"].astype(str).to_numpy(),
        ind.short: [
            shown(v, st, unit) for v, st in zip(shown_rows["value"], shown_rows["status"],
                                                strict=True)],
    })
    data = pd.DataFrame({"gemeente": shown_rows["name"].astype(str).to_numpy(),
                         "nis": shown_rows.index.to_numpy(), "indicator": ind.id,
                         "jaar": period,
                         "waarde": shown_rows["value"].where(shown_rows["_ok"]).to_numpy(),
                         "status": shown_rows["status"].to_numpy()})
    if group_codes:
        flag = ["ja" if n in group_codes else "nee" for n in shown_rows.index]
        table[_capital(c.group.label)] = flag
        data["referentiegroep"] = flag
    return ChartText(join(*parts), f"{ind.label} per gemeente, {period}", table, data)


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
