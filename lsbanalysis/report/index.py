"""The overview page of a batch: ``<out_root>/index-<referentie>[-<jaar>].html``.

One self-contained HTML file in the report's house style (``report.css`` + ``index.css``,
``lang="nl-BE"``, captioned tables with header cells), with

  * a sortable table of the key figures (``selection.toml``: ``key_figures``) of every
    municipality that has a published report for this reference group and year in the folder,
    read from each report's own ``kerncijfers.csv`` (so the page says what the reports say),
    with a relative link to each report (and its PDF). The sorting is a few lines of inline
    script that add buttons to the column headers; without script it is a plain table;
  * a map of Flanders per key indicator (PNG as a ``data:`` URI, with a Dutch text alternative
    holding the highest and lowest value; the values are those of the table);
  * the date, the data editions of the store, and the failures of the last batch, if any.

The page covers every report of that reference group and year in the folder, not only the
last batch: batches per province into one folder add up to one overview of Flanders.
"""

from __future__ import annotations

import base64
import io
import math
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from lsbanalysis import __version__
from lsbanalysis.analysis.catalogue import load_catalogue, load_reference_groups
from lsbanalysis.analysis.catalogue.selection import load_selection
from lsbanalysis.analysis.findings import source_label
from lsbanalysis.errors import LsbError
from lsbanalysis.report import runner
from lsbanalysis.report.assemble import CSS_FILE, dutch_date, esc, slug
from lsbanalysis.report.exports import KEY_FIGURES_FILE
from lsbanalysis.report.tables import cell

INDEX_CSS = Path(__file__).with_name("index.css")
MAP_DPI = 110

SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    var button = document.createElement("button");
    button.type = "button";
    while (th.firstChild) { button.appendChild(th.firstChild); }
    th.appendChild(button);
    button.addEventListener("click", function () {
      var up = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var numeric = th.classList.contains("num");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
        if (x === "" || y === "") { return (x === "") - (y === ""); }  /* no value: last */
        var d = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "nl");
        return up ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def index_filename(referentie: str | Sequence[str], jaar: int | None = None) -> str:
    """'index-arrondissement.html', 'index-buren-2022.html' (the reports' slug rule)."""
    text = referentie if isinstance(referentie, str) else ",".join(map(str, referentie))
    ref = slug(text) or "referentie"
    if len(ref) > 60:
        import hashlib

        ref = f"{ref[:50].rstrip('-')}-{hashlib.sha256(ref.encode()).hexdigest()[:8]}"
    return f"index-{ref}" + (f"-{int(jaar)}" if jaar is not None else "") + ".html"


@dataclass
class IndexRow:
    nis: str
    name: str
    arrondissement: str
    slug: str
    published: dict | None  # the report's manifest.json, if a report is published
    figures: pd.DataFrame | None  # its kerncijfers.csv, target rows
    failure: str | None = None  # the reason, if the last batch failed for it
    files: dict[str, str] = field(default_factory=dict)  # "html"/"pdf" → relative link


def collect_rows(out_root: Path, ds, referentie, jaar: int | None,
                 outcomes: Sequence | None = None) -> list[IndexRow]:
    """One row per Flemish municipality with a published report or a failure in the batch."""
    from lsbanalysis.report.batch import FAILED, flemish_municipalities

    failed = {o.nis: o.reason for o in outcomes or () if o.status == FAILED}
    rows = []
    for m in flemish_municipalities(ds):
        name = runner.report_slug(m, referentie, jaar)
        folder = out_root / name
        manifest = runner._read_published(folder)
        if manifest is not None and manifest.get("parameters", {}).get("nis") != m.nis:
            manifest = None
        if manifest is None and m.nis not in failed:
            continue
        row = IndexRow(nis=m.nis, name=m.name, slug=name,
                       arrondissement=_short(ds.name_of(m.arrondissement, m.geo_version)),
                       published=manifest, figures=None, failure=failed.get(m.nis))
        if manifest is not None:
            row.files["html"] = f"{name}/{runner.REPORT_FILE}"
            if (folder / runner.PDF_FILE).is_file():
                row.files["pdf"] = f"{name}/{runner.PDF_FILE}"
            row.figures = _key_figures(folder / KEY_FIGURES_FILE)
        rows.append(row)
    return rows


def _short(name: str) -> str:
    return name.removeprefix("Arrondissement ")


def _key_figures(path: Path) -> pd.DataFrame | None:
    try:
        t = pd.read_csv(path, dtype={"period": str, "entity": str}, keep_default_na=False,
                        na_values=[""])
    except (OSError, ValueError):
        return None
    t = t[t["role"] == "target"]
    return t.drop_duplicates("indicator").set_index("indicator")


# -- the columns and the maps --------------------------------------------------------------


@dataclass
class Column:
    id: str
    short: str
    label: str
    unit: str
    period: str  # the most common year among the values (a cell with another year says so)
    source: str


def columns(rows: list[IndexRow]) -> list[Column]:
    catalogue = load_catalogue()
    out = []
    for iid in load_selection().key_figures:
        found = [r.figures.loc[iid] for r in rows
                 if r.figures is not None and iid in r.figures.index]
        if not found:
            continue
        periods = Counter(str(f["period"]) for f in found)
        sources = "+".join(dict.fromkeys(str(f["source"]) for f in found if str(f["source"])))
        ind = catalogue[iid] if iid in catalogue.indicators else None
        out.append(Column(
            id=iid, short=ind.short if ind else iid,
            label=ind.label if ind else str(found[0]["label"]), unit=str(found[0]["unit"]),
            period=periods.most_common(1)[0][0], source=source_label(sources)))
    return out


def _value(row: IndexRow, col: Column) -> tuple[float, str, str] | None:
    """(value, status, period) of a municipality's key figure, or None without one."""
    if row.figures is None or col.id not in row.figures.index:
        return None
    f = row.figures.loc[col.id]
    value = float(f["value"]) if _finite(f["value"]) else math.nan
    return value, str(f["status"]), str(f["period"])


def _finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def maps(rows: list[IndexRow], cols: list[Column], ds) -> list[tuple[Column, str, str]]:
    """(column, alt text, PNG data URI) per key indicator."""
    import matplotlib.pyplot as plt

    from lsbanalysis.charts.alttext import describe
    from lsbanalysis.charts.flanders import flanders_map, flemish_shapes

    shapes = flemish_shapes(ds)  # a store without boundaries: LsbError, see index_html
    out = []
    for col in cols:
        records = {}
        for r in rows:
            v = _value(r, col)
            if v is not None:
                records[r.nis] = {"name": r.name, "value": v[0],
                                  "status": v[1] if v[2] == col.period else "other_year"}
        if not records:
            continue
        values = pd.DataFrame.from_dict(records, orient="index")
        fig = flanders_map(shapes, values, title=col.label, unit=col.unit, period=col.period,
                           source=col.source)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=MAP_DPI, bbox_inches="tight",
                    metadata={"Software": None})
        plt.close(fig)
        uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
        out.append((col, describe(fig).alt, uri))
    return out


# -- the page ------------------------------------------------------------------------------


def _group_phrase(referentie) -> str:
    if isinstance(referentie, str):
        spec = load_reference_groups().get(referentie.strip().casefold())
        if spec is not None:
            return f"de {spec.label}"
        items = [p.strip() for p in referentie.split(",") if p.strip()]
    else:
        items = [str(x) for x in referentie]
    return f"de gemeenten van een vaste lijst ({', '.join(items)})"


def _table(rows: list[IndexRow], cols: list[Column]) -> str:
    n = len(rows)
    out = [
        '<div class="table-wrap">',
        '<table class="overview sortable" id="kerncijfers">',
        f"<caption>Kerncijfers van de {n} gemeente{'n' if n != 1 else ''} met een rapport "
        "(de waarde van de gemeente zelf; klik op een kolomkop om te sorteren)</caption>",
        "<thead><tr>",
        '<th scope="col">Gemeente</th>',
        '<th scope="col">Arrondissement</th>',
    ]
    out += [f'<th scope="col" class="num" title="{esc(c.label)}">{esc(c.short)}'
            f'<span class="unit">{esc(c.period)}</span></th>' for c in cols]
    out += ['<th scope="col">Rapport</th>', "</tr></thead>", "<tbody>"]
    for r in rows:
        link = (f'<a href="{esc(r.files["html"])}">{esc(r.name)}</a>' if "html" in r.files
                else esc(r.name))
        cells = [f'<th scope="row" data-sort="{esc(r.name)}">{link}</th>',
                 f'<td data-sort="{esc(r.arrondissement)}">{esc(r.arrondissement)}</td>']
        for c in cols:
            v = _value(r, c)
            if v is None:
                cells.append('<td class="num" data-sort="">–</td>')
                continue
            value, status, period = v
            text = cell(value, status, c.unit).replace(" ", "\u00a0")
            if period != c.period:
                text += f" ({esc(period)})"
            key = repr(value) if status == "ok" and not math.isnan(value) else ""
            cells.append(f'<td class="num" data-sort="{key}">{esc(text)}</td>')
        cells.append(_report_cell(r))
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>", "</div>"]
    return "\n".join(out) + "\n"


def _report_cell(r: IndexRow) -> str:
    when = ""
    if r.published is not None:
        try:
            when = dutch_date(datetime.fromisoformat(r.published.get("finished_at")))
        except (TypeError, ValueError):
            when = "gepubliceerd"
    links = [f'<a href="{esc(r.files["pdf"])}">PDF</a>'] if "pdf" in r.files else []
    if r.failure is not None:
        text = (f"mislukt; vorig rapport van {when}" if when else "mislukt, geen rapport")
        return (f'<td class="failed" data-sort="0 {esc(text)}">{esc(text)}'
                + (f" · {links[0]}" if links else "") + "</td>")
    return (f'<td data-sort="{esc(r.published.get("finished_at", ""))}">{esc(when)}'
            + (f" · {links[0]}" if links else "") + "</td>")


def _maps_section(found: list[tuple[Column, str, str]]) -> str:
    if not found:
        return ""
    out = ['<section class="maps" id="kaarten">', "<h2>Kaarten</h2>",
           "<p>Per kerncijfer een kaart van de gemeenten in de tabel; hoe donkerder, hoe hoger. "
           "Gearceerd: geen gepubliceerde waarde, of een waarde van een ander jaar dan de "
           "kaart. De waarden staan in de tabel hierboven.</p>", '<div class="grid">']
    for col, alt, uri in found:
        out.append(
            f'<figure class="figure" id="kaart-{esc(slug(col.id))}">\n'
            f'<img src="{uri}" alt="{esc(alt)}">\n'
            f"<figcaption>{esc(col.label)}, {esc(col.period)}. Bron: {esc(col.source)}."
            "</figcaption>\n</figure>"
        )
    out += ["</div>", "</section>"]
    return "\n".join(out) + "\n"


def _failures_section(rows: list[IndexRow]) -> str:
    failed = [r for r in rows if r.failure is not None]
    if not failed:
        return ""
    out = ['<section id="mislukt">', "<h2>Mislukte rapporten</h2>",
           f"<p>Bij de laatste run mislukte het rapport van {len(failed)} gemeente"
           f"{'n' if len(failed) != 1 else ''}; een nieuwe run probeert ze opnieuw. Een vorig "
           "rapport blijft dan ongewijzigd staan.</p>", '<ul class="failures">']
    out += [f"<li><strong>{esc(r.name)}</strong> ({esc(r.nis)}): {esc(r.failure)}</li>"
            for r in failed]
    out += ["</ul>", "</section>"]
    return "\n".join(out) + "\n"


def _sources_section(ds, generated_at: datetime) -> str:
    out = ['<section class="colophon" id="colofon">', "<h2>Gegevens</h2>",
           f"<p>Overzicht gemaakt op {esc(dutch_date(generated_at, with_time=True))} met "
           f"lsbanalysis {esc(__version__)}. Elk rapport vermeldt zijn eigen bronnen, "
           "controlegetallen en datum.</p>", '<ul class="sources">']
    for s in ds.manifest.get("sources", []):
        head = ", ".join(esc(s[k]) for k in ("publisher", "edition") if s.get(k))
        out.append(f"<li><strong>{esc(s.get('title', s.get('id', '')))}</strong>"
                   + (f" — {head}" if head else "") + "</li>")
    out += ["</ul>", "</section>"]
    return "\n".join(out) + "\n"


def index_html(rows: list[IndexRow], ds, referentie, jaar: int | None,
               generated_at: datetime | None = None) -> str:
    """The overview page as one HTML document."""
    generated_at = generated_at or datetime.now(UTC)
    cols = columns(rows)
    try:
        found, no_maps = maps(rows, cols, ds), None
    except LsbError as exc:  # the store has no boundaries: the table alone
        found, no_maps = [], str(exc)
    n_reports = sum(r.published is not None for r in rows)
    year = (f"Referentiejaar {jaar}: per indicator de laatste waarde tot en met {jaar}"
            if jaar is not None else "Telkens het meest recente jaar met gegevens")
    title = "Omgevingsanalyses van de Vlaamse gemeenten"
    css = CSS_FILE.read_text(encoding="utf-8") + INDEX_CSS.read_text(encoding="utf-8")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="nl-BE">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="lsbanalysis {esc(__version__)}">\n'
        f"<title>{esc(title)} — overzicht</title>\n"
        f"<style>\n{css}</style>\n</head>\n<body class=\"index\">\n"
        '<header class="titlepage">\n'
        '<p class="kicker">Lokaal sociaal beleidsplan · overzicht van de analyserapporten</p>\n'
        f"<h1>{esc(title)}</h1>\n"
        f'<p class="subtitle">elke gemeente vergeleken met {esc(_group_phrase(referentie))}</p>\n'
        f'<p class="meta">{n_reports} rapport{"en" if n_reports != 1 else ""} · {esc(year)} · '
        f"{esc(dutch_date(generated_at, with_time=True))}</p>\n"
        "</header>\n<main>\n"
        + _failures_section(rows)
        + '<section id="tabel">\n<h2>Kerncijfers per gemeente</h2>\n'
        "<p>Klik op de naam van een gemeente voor haar analyserapport. De kolomkop geeft het "
        "jaar; een cijfer van een ander jaar staat erachter tussen haakjes.</p>\n"
        + _table(rows, cols)
        + "</section>\n"
        + (_maps_section(found) if no_maps is None else
           f'<section class="maps" id="kaarten">\n<h2>Kaarten</h2>\n<p>Geen kaarten: '
           f"{esc(no_maps)}</p>\n</section>\n")
        + "</main>\n"
        + _sources_section(ds, generated_at)
        + f"<script>\n{SORT_SCRIPT}</script>\n</body>\n</html>\n"
    )


def write_index(out_root: str | Path, ds, referentie, jaar: int | None = None, *,
                outcomes: Sequence | None = None) -> Path:
    """Write (atomically) the overview page of the reports in ``out_root``; returns its path."""
    out_root = Path(out_root)
    rows = collect_rows(out_root, ds, referentie, jaar, outcomes)
    page = index_html(rows, ds, referentie, jaar)
    target = out_root / index_filename(referentie, jaar)
    fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=out_root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


__all__ = ["collect_rows", "index_filename", "index_html", "write_index"]
