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


def test_no_page_is_more_than_half_empty_except_before_a_chapter(pdf, pages):
    """The body's filled height per page, against the fullest page; pages before a chapter
    (or the colophon, or the annex), the cover and the last page may be short, and so may a
    page before a chart taller than half a page (report.css: figure-tall)."""
    from lsbanalysis.report.runner import CHAPTERS

    where = destination_pages(pdf)
    starts = {where[c] for c, _, _ in CHAPTERS} | {where["colofon"], where["bijlage"]}
    top = min(p["top"] for p in pages[1:] if p["top"] is not None)
    bottom = max(p["bottom"] for p in pages if p["bottom"] is not None)
    tall = {n for n, p in enumerate(pages, start=1) if p["tallest"] > (bottom - top) / 2}
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


def test_figures_are_whole_on_their_page(pdf, pages, herenthout_report):
    """Every chart is printed, none is cut: as many images in the PDF as in the HTML."""
    html = herenthout_report.html.read_text(encoding="utf-8")
    assert sum(p["images"] for p in pages) == html.count("<img ")


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


def test_pdf_is_tagged_with_language_and_alt_texts(pdf, herenthout_report):
    """A tagged PDF: screen readers get the structure, the language and each chart's text."""
    from bs4 import BeautifulSoup
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject

    root = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert root["/Lang"] == "nl-BE"
    alts, seen, todo = [], set(), [root["/StructTreeRoot"]]
    while todo:
        ref = todo.pop()
        node = ref.get_object()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, DictionaryObject):
            if "/Alt" in node:
                alts.append(str(node["/Alt"]))
            kids = node.get("/K")
            if kids is not None:
                todo += list(kids) if isinstance(kids.get_object(), ArrayObject) else [kids]
        elif isinstance(node, ArrayObject):
            todo += list(node)
    soup = BeautifulSoup(herenthout_report.html.read_text(encoding="utf-8"), "html.parser")
    assert sorted(alts) == sorted(img["alt"] for img in soup.find_all("img"))
