"""The real Herenthout-vs-ISOM analyserapport in a real browser (Debian's headless Chromium),
and its PDF as a reader gets it.

The browser opens the HTML from disk and refuses every request that is not ``file:`` or
``data:``: the report must work offline. The PDF is the one ``build_report(pdf=True)`` published;
its pages are read with pdfplumber (text and drawing positions per page) and pypdf (links,
destinations). Nothing here is tuned to today's page count: the expectations come from the
report itself (its table of contents, its chapters, its running header).
"""

from __future__ import annotations

import io
import re

import pytest

from lsbanalysis.report.pdf import destination_pages, offline, open_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

FOOTER = re.compile(r"^pagina (\d+) van (\d+)$")


@pytest.fixture(scope="module")
def page(chromium, herenthout_report):
    """The report open in headless Chromium; ``page.refused`` lists refused requests."""
    with open_browser(chromium) as browser:
        tab = browser.new_page()
        refused = offline(tab)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(herenthout_report.html.resolve().as_uri(), wait_until="load")
        tab.refused, tab.errors, tab.browser = refused, errors, browser
        yield tab


@pytest.fixture(scope="module")
def pdf(chromium, herenthout_report):
    path = herenthout_report.pdf
    assert path is not None and path.is_file(), herenthout_report.pdf_note
    return path.read_bytes()


@pytest.fixture(scope="module")
def pages(pdf) -> list[dict]:
    """Per page: its text lines, and the body's vertical extent (margin boxes left out)."""
    import pdfplumber

    out = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for p in doc.pages:
            words = p.extract_words(keep_blank_chars=False, use_text_flow=True)
            rows: dict[int, list] = {}
            for w in words:
                rows.setdefault(round(w["top"]), []).append(w)
            lines = []
            for top in sorted(rows):
                text = " ".join(w["text"] for w in sorted(rows[top], key=lambda w: w["x0"]))
                lines.append((top, max(w["bottom"] for w in rows[top]), text))
            margin = [ln for ln in lines if FOOTER.match(ln[2])
                      or ln[2].startswith("Omgevingsanalyse Herenthout · ")]
            body = [(t, b) for t, b, _ in lines if (t, b, _) not in margin]

            def visible(o) -> bool:  # the page's white background is not content
                colour = o.get("non_stroking_color")
                white = isinstance(colour, tuple | list) and len(colour) in (1, 3) and \
                    min(colour) >= 0.99
                return bool(o.get("stroke")) or not (o.get("fill") and white)

            body += [(o["top"], o["bottom"]) for o in p.images + p.lines]
            body += [(o["top"], o["bottom"]) for o in p.rects + p.curves if visible(o)]
            out.append({
                "lines": [t for _, _, t in lines],
                "margin": [t for _, _, t in margin],
                "top": min((t for t, _ in body), default=None),
                "bottom": max((b for _, b in body), default=None),
                "images": len(p.images),
                "tallest": max((o["bottom"] - o["top"] for o in p.images), default=0),
            })
    return out


def pdf_figures(pdf: bytes) -> list[dict]:
    """The PDF's Figure structure elements (one per chart): the alt text, the pages its
    marked content is on and the number of its pieces. Charts are vector drawings in the
    PDF, so they are found through the structure tree rather than as images."""
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject

    reader = PdfReader(io.BytesIO(pdf))
    number = {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages, start=1)}

    def kids_of(element) -> list:
        kids = element.get("/K")
        kids = kids.get_object() if kids is not None else None
        return list(kids) if isinstance(kids, ArrayObject) else [] if kids is None else [kids]

    def pages_of(element) -> set[int]:
        found = {number[element.raw_get("/Pg").idnum]} if "/Pg" in element else set()
        for kid in kids_of(element):
            kid = kid.get_object()
            if isinstance(kid, DictionaryObject) and "/Pg" in kid:  # marked-content reference
                found.add(number[kid.raw_get("/Pg").idnum])
        return found

    out, seen, todo = [], set(), [reader.trailer["/Root"]["/StructTreeRoot"]]
    while todo:
        node = todo.pop().get_object()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, DictionaryObject):
            if "/Alt" in node:  # an image (the HTML <figure> around it has none)
                out.append({"alt": str(node.get("/Alt", "")), "pages": pages_of(node),
                            "parts": len(kids_of(node))})
            todo += kids_of(node)
        elif isinstance(node, ArrayObject):
            todo += list(node)
    return out


@pytest.fixture(scope="module")
def figures(pdf) -> list[dict]:
    return pdf_figures(pdf)


# -- the HTML in the browser ---------------------------------------------------------------


def test_report_makes_no_network_request_and_runs_without_errors(page):
    assert page.refused == []
    assert page.errors == []
    assert page.evaluate("document.documentElement.lang") == "nl-BE"


def test_every_image_decodes(page):
    sizes = page.evaluate("""() => Promise.all([...document.images].map(img =>
        img.decode().then(() => [img.naturalWidth, img.naturalHeight], () => null)))""")
    assert len(sizes) >= 15
    assert all(s is not None and s[0] > 100 and s[1] > 100 for s in sizes), sizes


def test_every_internal_link_lands_on_an_anchor(page):
    links = page.evaluate("""() => [...document.querySelectorAll('a[href^="#"]')].map(a => [
        a.getAttribute('href').slice(1), a.closest('nav.toc') !== null])""")
    toc = [target for target, in_toc in links if in_toc]
    assert len(toc) >= 10 and "colofon" in toc and "bijlage" in toc
    missing = page.evaluate("ids => ids.filter(id => !document.getElementById(id))",
                            [t for t, _ in links])
    assert missing == []
    # following a contents link scrolls its heading into view
    page.click('nav.toc a[href="#colofon"]')
    assert page.evaluate("location.hash") == "#colofon"
    top = page.evaluate("document.getElementById('colofon').getBoundingClientRect().top")
    assert abs(top) < 5


def test_the_table_behind_a_chart_opens_under_it(page):
    details = page.locator("figure details.figure-data").first
    assert not details.get_attribute("open") and not details.locator("table").is_visible()
    details.locator("summary").click()
    assert details.locator("table").is_visible()
    assert details.locator("caption").inner_text().strip()


def test_axe_finds_no_accessibility_violations(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={
        "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"],
    })
    assert results.violations_count == 0, results.generate_snapshot()


# -- the PDF ---------------------------------------------------------------------------------


def test_pdf_has_a_cover_running_header_and_page_numbers(pages, herenthout_report):
    from pypdf import PdfReader

    n = len(pages)
    assert herenthout_report.manifest["pdf"] == {"file": "analyserapport.pdf", "pages": n}
    cover = pages[0]
    assert cover["margin"] == [] and "Omgevingsanalyse Herenthout" in cover["lines"]
    assert "vergelijking met de ISOM-gemeenten" in cover["lines"]
    for number, p in enumerate(pages[1:], start=2):
        footers = [FOOTER.match(t) for t in p["margin"] if FOOTER.match(t)]
        assert [(int(m[1]), int(m[2])) for m in footers] == [(number, n)], (number, p["margin"])
        assert any(t.startswith("Omgevingsanalyse Herenthout · ISOM-gemeenten · ")
                   for t in p["margin"]), number
    reader = PdfReader(herenthout_report.pdf)
    assert reader.metadata.title.startswith("Omgevingsanalyse Herenthout")
    assert reader.pages[0].mediabox.width == pytest.approx(595, abs=1)  # A4
    assert reader.pages[0].mediabox.height == pytest.approx(842, abs=1)


def test_pdf_contents_give_the_right_pages_and_link_to_them(pdf, pages):
    """Each entry of the printed contents shows the page its heading is on, and links there."""
    from pypdf import PdfReader

    where = destination_pages(pdf)
    toc_pages = [i for i, p in enumerate(pages) if "Inhoud" in p["lines"]]
    assert toc_pages == [1]  # the contents follow the cover
    entries = []
    for line in pages[1]["lines"]:
        m = re.match(r"^(?:\d+\. )?(.+?)\s*\.*\s*(\d+)$", line.replace("…", ""))
        if m and line not in pages[1]["margin"]:
            entries.append((m[1].rstrip(" ."), int(m[2])))
    assert len(entries) >= 10
    for title, number in entries:
        text = " ".join(pages[number - 1]["lines"])
        assert title.split(":")[0] in text, (title, number)
    reader = PdfReader(io.BytesIO(pdf))
    links = [a.get_object() for a in reader.pages[1].get("/Annots", [])]
    dests = {str(a["/Dest"]).lstrip("/") for a in links if a.get("/Subtype") == "/Link"
             and "/Dest" in a}
    assert len(dests) >= len(entries) and dests <= set(where)
    assert sorted(where[d] for d in ("samenvatting", "colofon", "bijlage")) == \
        [where["samenvatting"], where["colofon"], where["bijlage"]]


def test_no_page_is_more_than_half_empty_except_before_a_chapter(pdf, pages, figures,
                                                                herenthout_report):
    """The body's filled height per page, against the fullest page; pages before a chapter
    (or the colophon, or the annex), the cover and the last page may be short, and so may a
    page before a tall chart (report.css: figure-tall, printed up to a page high)."""
    from bs4 import BeautifulSoup

    from lsbanalysis.report.runner import CHAPTERS

    where = destination_pages(pdf)
    starts = {where[c] for c, _, _ in CHAPTERS} | {where["colofon"], where["bijlage"]}
    top = min(p["top"] for p in pages[1:] if p["top"] is not None)
    bottom = max(p["bottom"] for p in pages if p["bottom"] is not None)
    soup = BeautifulSoup(herenthout_report.html.read_text(encoding="utf-8"), "html.parser")
    tall_alts = {f.img["alt"] for f in soup.select("figure.figure-tall") if f.img}
    tall = {n for f in figures if f["alt"] in tall_alts for n in f["pages"]}
    tall |= {n for n, p in enumerate(pages, start=1) if p["tallest"] > (bottom - top) / 2}
    short = []
    for number, p in enumerate(pages, start=1):
        if number == 1 or number == len(pages) or number + 1 in starts | tall:
            continue
        filled = (p["bottom"] - top) / (bottom - top)
        if filled < 0.5:
            short.append((number, round(filled, 2), p["lines"][:3]))
    assert short == []
    # each chapter starts on a page of its own, in order
    order = [where[c] for c, _, _ in CHAPTERS]
    assert order == sorted(order) and len(set(order)) == len(order)


def test_figures_are_whole_on_their_page(figures, herenthout_report):
    """Every chart is printed, none is cut: one Figure in the PDF per image in the HTML, each
    drawn in one piece on one page (a chart split by a page break is drawn on both)."""
    html = herenthout_report.html.read_text(encoding="utf-8")
    assert len(figures) == html.count("<img ")
    split = [(f["alt"][:60], sorted(f["pages"])) for f in figures
             if len(f["pages"]) != 1 or f["parts"] != 1]
    assert split == []


def test_a_chart_cut_by_a_page_break_is_found(page, tmp_path):
    """The check above finds a cut chart: an SVG chart taller than a page, printed."""
    import base64

    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="1600">'
           '<rect width="400" height="1600" fill="#0072B2"/></svg>')
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    html = tmp_path / "lang.html"
    html.write_text('<!DOCTYPE html><html lang="nl-BE"><head><meta charset="utf-8"><title>t'
                    f'</title></head><body><p>Tekst</p><img src="{uri}" alt="Te lang" '
                    'width="400" height="1600"></body></html>', encoding="utf-8")
    tab = page.browser.new_page()
    try:
        tab.goto(html.as_uri(), wait_until="load")
        printed = tab.pdf(format="A4", tagged=True)
    finally:
        tab.close()
    (cut,) = pdf_figures(printed)
    assert cut["alt"] == "Te lang" and (len(cut["pages"]) > 1 or cut["parts"] > 1)


def test_axe_does_find_planted_violations(page):
    """The check above is live: axe flags an image without text and grey-on-white text."""
    from axe_playwright_python.sync_playwright import Axe

    other = page.browser.new_page()
    offline(other)
    other.set_content('<html lang="nl-BE"><head><title>t</title></head><body><main><h1>T</h1>'
                      '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                      '<p style="color:#aaaaaa">te licht</p></main></body></html>')
    found = Axe().run(other, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}})
    other.close()
    assert {v["id"] for v in found.response["violations"]} >= {"image-alt", "color-contrast"}


def test_pdf_is_tagged_with_language_and_alt_texts(pdf, figures, herenthout_report):
    """A tagged PDF: screen readers get the structure, the language and each chart's text."""
    from bs4 import BeautifulSoup
    from pypdf import PdfReader

    root = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert root["/Lang"] == "nl-BE"
    alts = [f["alt"] for f in figures]
    soup = BeautifulSoup(herenthout_report.html.read_text(encoding="utf-8"), "html.parser")
    assert sorted(alts) == sorted(img["alt"] for img in soup.find_all("img"))
