"""Executed chapter notebooks → ONE self-contained HTML analyserapport.

The file works offline and can be mailed: the stylesheet is inlined, PNG images and the charts
(SVG, with their text alternative) are embedded as ``data:`` URIs, other SVG images are inlined
(their ids prefixed so that figures cannot collide), and nothing is loaded from elsewhere
(scripts in HTML outputs are removed).

What a chapter shows
  * markdown cells, rendered (they carry the explanatory text); headings get ids, and level-1/2
    headings are listed in the table of contents under their chapter. A chapter's title comes
    from the report's chapter list: a notebook's leading level-1 heading (its own title) is
    omitted, and the other headings move one level down (``#``/``##`` → ``<h3>``, ``###`` →
    ``<h4>`` …) below the chapter's ``<h2>``;
  * outputs of code cells, never the code: per output the richest of text/html, text/markdown,
    image/svg+xml, image/png, image/jpeg; text/plain only when it is the only representation
    (object reprs such as ``<Axes at 0x…>`` are dropped); stdout as ``<pre>``; stderr dropped;
  * nothing of cells tagged ``parameters``, ``injected-parameters``, ``remove-cell``
    (``remove_cell``), and no outputs of cells tagged ``remove-output`` (``remove_output``).

A chart shown by ``Chapter.figure()`` carries its Dutch text alternative and the table behind it
in the output's metadata (:data:`~lsbanalysis.report.outputs.FIGURE_METADATA`): the text becomes
the image's ``alt``, the table a collapsible ``<details>`` under the figure.

Printing (and the PDF, :mod:`lsbanalysis.report.pdf`): a cover page, a table of contents whose
entries carry an empty ``<span class="toc-page">`` for the page number the PDF renderer fills
in, a running header and page numbers (``@page`` margin boxes, written here because the header
names the report), and an annex with the checksums of the source files.
"""

from __future__ import annotations

import base64
import html
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mistune
import nbformat

from lsbanalysis import __version__
from lsbanalysis.report.outputs import FIGURE_METADATA

CSS_FILE = Path(__file__).with_name("report.css")

MIME_PRIORITY = (
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/plain",
)
HIDDEN_TAGS = frozenset(
    {"parameters", "injected-parameters", "remove-cell", "remove_cell", "papermill-error-cell-tag"}
)
NO_OUTPUT_TAGS = frozenset({"remove-output", "remove_output", "remove-outputs"})
#: A table with at most this many rows (header included) is never split across pages.
SMALL_TABLE_ROWS = 9
#: Height / width above which a figure counts as tall (printed larger, on a page of its own).
TALL_FIGURE = 0.9
# Object reprs are noise in a report: "<Axes: title={…}>", "[<matplotlib.lines.Line2D at 0x…>]",
# "<Figure size 640x480 with 1 Axes>", "Text(0.5, 1.0, 'Titel')".
_NOISE = re.compile(r"[\[(]?\s*(?:<[^<>\n]*>\s*(?:,\s*)?)+[\])]?|\[?Text\(.*\)\]?", re.S)
_SCRIPT = re.compile(r"<script\b.*?</script\s*>|<script\b[^>]*/>", re.S | re.I)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TAG = re.compile(r"<[^>]+>")
# A paragraph that is only a bold lead-in ("**Beter:**") belongs with what follows it.
_LEAD_IN = re.compile(r"<p>(<strong>[^<]*</strong>)</p>")
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def slug(text: str) -> str:
    """Lower-case ASCII with '-' for anything else: 'Ôpstal & Zoon' → 'opstal-zoon'."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class ReportContext:
    """What the title page and the colophon say about a report."""

    gemeente: str  # Dutch name of the municipality
    nis: str
    group_label: str  # "ISOM-gemeenten", used as "vergelijking met de ISOM-gemeenten"
    group_id: str = ""
    members: tuple[tuple[str, str], ...] = ()  # (NIS, name) of the reference group
    jaar: int | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    sources: tuple[Mapping, ...] = ()  # entries of the store manifest's "sources"
    store_built_at: str | None = None
    version: str = __version__
    git_commit: str | None = None

    @property
    def title(self) -> str:
        return f"Omgevingsanalyse {self.gemeente}"

    @property
    def subtitle(self) -> str:
        return f"vergelijking met de {self.group_label}"


def dutch_date(moment: datetime, with_time: bool = False) -> str:
    local = _local(moment)
    text = f"{local.day} {MONTHS[local.month - 1]} {local.year}"
    return text + (f", {local:%H:%M}" if with_time else "")


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    try:
        from zoneinfo import ZoneInfo

        return moment.astimezone(ZoneInfo("Europe/Brussels"))
    except Exception:  # no time-zone database: keep UTC
        return moment


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


class _HeadingRenderer(mistune.HTMLRenderer):
    def __init__(self, chapter: _Chapter) -> None:
        super().__init__(escape=False)
        self._chapter = chapter

    def heading(self, text: str, level: int, **attrs) -> str:
        return self._chapter.heading(text, level)


class _Chapter:
    """Renders one executed notebook; collects its sub-headings for the table of contents."""

    def __init__(self, chapter_id: str, title: str, used_ids: set[str], counter) -> None:
        self.id = chapter_id
        self.title = title
        self.used_ids = used_ids
        self.section_id = self.unique_id(slug(chapter_id) or "hoofdstuk")
        self.toc: list[tuple[str, str]] = []
        self.seen_heading = False
        self.figures = 0
        self.svg_counter = counter
        self.markdown = mistune.create_markdown(
            renderer=_HeadingRenderer(self), plugins=["table", "strikethrough", "url"]
        )

    def unique_id(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self.used_ids:
            n += 1
            candidate = f"{base}-{n}"
        self.used_ids.add(candidate)
        return candidate

    def heading(self, inner_html: str, level: int) -> str:
        first = not self.seen_heading
        self.seen_heading = True
        if first and level == 1:  # the notebook's own title: the chapter title replaces it
            return ""
        plain = html.unescape(_TAG.sub("", inner_html)).strip()
        anchor = self.unique_id(f"{self.section_id}-{slug(plain) or 'sectie'}")
        if level <= 2:
            self.toc.append((anchor, plain))
        out = min(max(level, 2) + 1, 6)
        return f'<h{out} id="{anchor}">{inner_html}</h{out}>\n'

    # -- cells -------------------------------------------------------------------------------

    def render(self, nb) -> str:
        parts: list[str] = []
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & HIDDEN_TAGS:
                continue
            if cell.cell_type == "markdown":
                parts.append(self.render_markdown(_text(cell.source), cell.get("attachments")))
            elif cell.cell_type == "code" and not tags & NO_OUTPUT_TAGS:
                parts.append(self.render_outputs(cell.get("outputs", [])))
        return "".join(p for p in parts if p)

    def render_markdown(self, source: str, attachments: Mapping | None = None) -> str:
        for name, bundle in (attachments or {}).items():
            for mime, data in bundle.items():
                uri = f"data:{mime};base64,{''.join(_text(data).split())}"
                source = source.replace(f"attachment:{name}", uri)
                break
        return _LEAD_IN.sub(r'<p class="lead-in">\1</p>', self.markdown(source))

    def render_outputs(self, outputs: Iterable) -> str:
        parts: list[str] = []
        stdout: list[str] = []

        def flush() -> None:
            if stdout:
                text = _ANSI.sub("", "".join(stdout))
                if text.strip():
                    parts.append(f'<pre class="output stream">{esc(text.rstrip())}</pre>\n')
                stdout.clear()

        for out in outputs:
            kind = out.get("output_type")
            if kind == "stream":
                if out.get("name") == "stdout":
                    stdout.append(_text(out.get("text")))
                continue
            flush()
            if kind in ("display_data", "execute_result"):
                parts.append(self.render_data(out.get("data", {}), out.get("metadata", {})))
            elif kind == "error":  # the runner refuses these; shown, never hidden, if present
                message = _ANSI.sub("", f"{out.get('ename', '')}: {out.get('evalue', '')}")
                parts.append(f'<pre class="output error">{esc(message)}</pre>\n')
        flush()
        return "".join(parts)

    def render_data(self, data: Mapping, metadata: Mapping) -> str:
        mime = next((m for m in MIME_PRIORITY if m in data), None)
        if mime is None:
            return ""
        value = _text(data[mime])
        if mime == "text/html":
            value = _SCRIPT.sub("", value)
            css = "output html"
            if "<table" in value.lower():  # small tables are kept on one page when printed
                rows = len(re.findall(r"<tr[\s>]", value, re.I))
                size = "table-small" if rows <= SMALL_TABLE_ROWS else "table-long"
                css = f"output table-wrap {size}"
            return f'<div class="{css}">\n{value}\n</div>\n'
        if mime == "text/markdown":
            return f'<div class="output markdown">\n{self.render_markdown(value)}</div>\n'
        metadata = metadata if isinstance(metadata, Mapping) else {}
        if mime == "image/svg+xml" and not metadata.get(FIGURE_METADATA):
            self.figures += 1
            svg = _namespace_svg(value, f"f{next(self.svg_counter)}-")
            return f'<figure class="figure">\n{svg}\n</figure>\n'
        if mime in ("image/svg+xml", "image/png", "image/jpeg"):
            self.figures += 1
            if mime == "image/svg+xml":  # a chart: an image with its alt text, not inline
                b64 = base64.b64encode(value.encode("utf-8")).decode("ascii")
            else:
                b64 = "".join(value.split())
            size = ""
            meta = metadata.get(mime, {})
            for attr in ("width", "height"):
                if isinstance(meta.get(attr), int | float):
                    size += f' {attr}="{int(meta[attr])}"'
            chart = metadata.get(FIGURE_METADATA) or {}
            alt = chart.get("alt") or f"Figuur {self.figures} bij {self.title}"
            anchor = self.unique_id(f"{self.section_id}-figuur-{self.figures}")
            data = ""
            if chart.get("table"):
                data = (
                    '<details class="figure-data">\n'
                    f"<summary>Tabel bij de figuur: {esc(chart.get('caption') or '')}</summary>\n"
                    f'<div class="table-wrap">\n{chart["table"]}\n</div>\n</details>\n'
                )
            # A chart much taller than wide (a ranking of many municipalities) is printed up
            # to a page high to stay legible; the others at most ~43 % of a page (report.css).
            w, h = meta.get("width"), meta.get("height")
            tall = " figure-tall" if w and h and h / w > TALL_FIGURE else ""
            return (
                f'<figure class="figure{tall}" id="{anchor}">\n'
                f'<img src="data:{mime};base64,{b64}" alt="{esc(alt)}"{size}>\n'
                f"{data}</figure>\n"
            )
        # text/plain: only when it is the only representation, and not an object repr
        if len(data) > 1 or not value.strip() or _NOISE.fullmatch(value.strip()):
            return ""
        return f'<pre class="output text">{esc(_ANSI.sub("", value.rstrip()))}</pre>\n'


def _namespace_svg(svg: str, prefix: str) -> str:
    """Inline-ready SVG: no XML prolog, every id (and reference to it) prefixed."""
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg, flags=re.I)
    ids = set(re.findall(r'\sid="([^"]+)"', svg))
    if ids:
        svg = re.sub(r'(\sid=")([^"]+)"', lambda m: f'{m.group(1)}{prefix}{m.group(2)}"', svg)

        def ref(m: re.Match) -> str:
            return m.group(1) + (prefix if m.group(2) in ids else "") + m.group(2) + m.group(3)

        svg = re.sub(r"(url\(['\"]?#)([^)'\"]+)(['\"]?\))", ref, svg)
        svg = re.sub(r'(href="#)([^"]+)(")', ref, svg)
    return svg.strip()


# -- the document --------------------------------------------------------------------------


def _title_page(ctx: ReportContext) -> str:
    members = ", ".join(name for _, name in ctx.members)
    year = (
        f"Referentiejaar {ctx.jaar}: per indicator de laatste waarde tot en met {ctx.jaar}"
        if ctx.jaar is not None
        else "Telkens het meest recente jaar met gegevens"
    )
    lines = [
        '<header class="titlepage">',
        '<p class="kicker">Lokaal sociaal beleidsplan · analyserapport</p>',
        f"<h1>{esc(ctx.title)}</h1>",
        f'<p class="subtitle">{esc(ctx.subtitle)}</p>',
        '<div class="cover-meta">',
    ]
    if members:
        lines.append(f'<p class="meta">Referentiegroep: {esc(members)}</p>')
    lines.append(f'<p class="meta">{esc(year)}</p>')
    lines.append(f'<p class="meta">{esc(dutch_date(ctx.generated_at))}</p>')
    lines.append("</div>")
    lines.append(
        '<p class="cover-note">Officiële cijfers van Statbel en VDAB; bronnen, berekeningen en '
        'controlegetallen staan in het colofon en de bijlage.</p>'
    )
    lines.append("</header>")
    return "\n".join(lines) + "\n"


def _css_string(text: str) -> str:
    """A CSS string literal; '<' escaped too, since it stands inside a <style> element."""
    for old, new in (("\\", "\\\\"), ('"', '\\"'), ("\n", " "), ("<", "\\3C ")):
        text = text.replace(old, new)
    return f'"{text}"'


def _page_style(ctx: ReportContext) -> str:
    """Running header and page numbers of the printed report (not on the cover)."""
    header = f"{ctx.title} · {ctx.group_label} · {dutch_date(ctx.generated_at)}"
    return (
        "@page {\n"
        f"  @top-left {{ content: {_css_string(header)}; }}\n"
        '  @bottom-right { content: "pagina " counter(page) " van " counter(pages); }\n'
        "}\n"
    )


def _toc_link(anchor: str, title: str) -> str:
    # the empty span gets the page number when the report is printed to PDF
    return (f'<a href="#{anchor}"><span class="toc-title">{esc(title)}</span>'
            '<span class="toc-page"></span></a>')


def _toc(entries: list[tuple[str, str, list[tuple[str, str]]]]) -> str:
    lines = ['<nav class="toc" id="inhoud" aria-labelledby="inhoud-titel">',
             '<h2 id="inhoud-titel">Inhoud</h2>', "<ol>"]
    for anchor, title, subs in entries:
        lines.append(f"<li>{_toc_link(anchor, title)}")
        if subs:
            lines.append("<ol>")
            lines += [f"<li>{_toc_link(a, t)}</li>" for a, t in subs]
            lines.append("</ol>")
        lines.append("</li>")
    lines += [f"<li>{_toc_link('colofon', 'Colofon')}</li>",
              f"<li>{_toc_link('bijlage', 'Bijlage: bronbestanden en controlegetallen')}</li>",
              "</ol>", "</nav>"]
    return "\n".join(lines) + "\n"


def _colophon(ctx: ReportContext) -> str:
    out = ['<section class="colophon" id="colofon">', "<h2>Colofon</h2>", "<h3>Bronnen</h3>"]
    if ctx.sources:
        out.append('<ul class="sources">')
        for src in ctx.sources:
            title = esc(src.get("title", src.get("id", "")))
            if src.get("page"):
                title = f'<a href="{esc(src["page"])}">{title}</a>'
            head = ", ".join(esc(src[k]) for k in ("publisher", "edition") if src.get(k))
            item = [f"<strong>{title}</strong>" + (f" — {head}." if head else "")]
            if src.get("licence") or src.get("attribution"):
                lic = f"Licentie: {esc(src['licence'])}." if src.get("licence") else ""
                item.append(" ".join(p for p in (lic, esc(src.get("attribution") or "")) if p))
            n = len(src.get("files", []))
            if n:
                item.append(
                    f'<span class="files">{n} bestand{"en" if n > 1 else ""}, met controlegetal '
                    'in de <a href="#bijlage">bijlage</a>.</span>'
                )
            out.append("<li>" + "<br>\n".join(item) + "</li>")
        out.append("</ul>")
    else:
        out.append('<p class="muted">Geen bronnen opgegeven.</p>')
    members = ", ".join(f"{name} ({nis})" for nis, name in ctx.members)
    group = ctx.group_label + (f" ({ctx.group_id})" if ctx.group_id else "")
    year = (f"{ctx.jaar} (per indicator de laatste waarde tot en met {ctx.jaar})"
            if ctx.jaar is not None else "meest recente jaar per indicator")
    out += [
        "<h3>Parameters</h3>",
        "<dl>",
        f"<dt>Gemeente</dt><dd>{esc(ctx.gemeente)} (NIS {esc(ctx.nis)})</dd>",
        f"<dt>Referentiegroep</dt><dd>{esc(group)}"
        + (f": {esc(members)}" if members else "")
        + "</dd>",
        f"<dt>Jaar</dt><dd>{esc(year)}</dd>",
        "</dl>",
    ]
    commit = f"git-commit {ctx.git_commit[:12]}" if ctx.git_commit else "geen git-commit bekend"
    out += [
        "<h3>Productie</h3>",
        "<dl>",
        f"<dt>Software</dt><dd>lsbanalysis {esc(ctx.version)}, {esc(commit)}</dd>",
    ]
    if ctx.store_built_at:
        try:
            built = dutch_date(datetime.fromisoformat(ctx.store_built_at), with_time=True)
        except ValueError:
            built = ctx.store_built_at
        out.append(f"<dt>Gegevensbestand</dt><dd>verwerkt op {esc(built)}</dd>")
    out += [
        f"<dt>Gegenereerd</dt><dd>{esc(dutch_date(ctx.generated_at, with_time=True))}</dd>",
        "</dl>",
        "</section>",
    ]
    return "\n".join(out) + "\n" + _annex(ctx)


def _annex(ctx: ReportContext) -> str:
    """Every source file with its full sha256, in one compact table."""
    out = [
        '<section class="annex" id="bijlage">',
        "<h2>Bijlage: bronbestanden en controlegetallen</h2>",
        "<p>Het SHA-256-controlegetal van elk officieel bestand waaruit de gegevens van dit "
        "rapport zijn berekend: wie het bestand opnieuw downloadt, kan nagaan dat het "
        "hetzelfde is.</p>",
    ]
    groups = [(src.get("title", src.get("id", "")), src.get("files", [])) for src in ctx.sources]
    groups = [(title, files) for title, files in groups if files]
    if not groups:
        out.append('<p class="muted">Geen bronbestanden opgegeven.</p>')
    else:
        out += [
            '<table class="checksums">',
            "<caption>Bronbestanden en hun SHA-256-controlegetal, per bron</caption>",
            '<thead><tr><th scope="col">Bestand</th><th scope="col">SHA-256</th></tr></thead>',
        ]
        for title, files in groups:  # one row group per source, headed by its title
            out.append(f'<tbody>\n<tr class="source"><th colspan="2" scope="rowgroup">'
                       f"{esc(title)}</th></tr>")
            out += [
                f'<tr><th scope="row">{esc(f.get("name", ""))}</th>'
                f'<td class="hash">{esc(str(f.get("sha256", "")))}</td></tr>'
                for f in files
            ]
            out.append("</tbody>")
        out.append("</table>")
    out.append("</section>")
    return "\n".join(out) + "\n"


def assemble_html(
    executed: Iterable[tuple[str, str, str | Path | nbformat.NotebookNode]],
    context: ReportContext | Mapping,
) -> str:
    """The analyserapport as one HTML document.

    ``executed`` lists ``(chapter_id, title, notebook)`` in report order, where ``notebook`` is
    the path of an executed notebook (or the notebook itself); ``context`` is a
    :class:`ReportContext` (or a mapping of its fields).
    """
    ctx = context if isinstance(context, ReportContext) else ReportContext(**context)
    used_ids = {"inhoud", "inhoud-titel", "colofon", "bijlage"}
    svg_counter = itertools.count(1)
    sections: list[str] = []
    toc: list[tuple[str, str, list[tuple[str, str]]]] = []
    for chapter_id, title, notebook in executed:
        nb = (
            notebook
            if isinstance(notebook, nbformat.NotebookNode)
            else nbformat.read(str(notebook), as_version=4)
        )
        chapter = _Chapter(chapter_id, title, used_ids, svg_counter)
        body = chapter.render(nb)
        sections.append(
            f'<section class="chapter" id="{chapter.section_id}">\n'
            f"<h2>{esc(title)}</h2>\n{body}</section>\n"
        )
        toc.append((chapter.section_id, title, chapter.toc))
    css = CSS_FILE.read_text(encoding="utf-8")
    head = (
        "<!DOCTYPE html>\n"
        '<html lang="nl-BE">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="lsbanalysis {esc(ctx.version)}">\n'
        f"<title>{esc(ctx.title)} — {esc(ctx.subtitle)}</title>\n"
        f"<style>\n{css}{_page_style(ctx)}</style>\n</head>\n<body>\n"
    )
    return (
        head
        + _title_page(ctx)
        + _toc(toc)
        + "<main>\n"
        + "".join(sections)
        + "</main>\n"
        + _colophon(ctx)
        + "</body>\n</html>\n"
    )


__all__ = ["ReportContext", "assemble_html", "slug", "dutch_date"]
