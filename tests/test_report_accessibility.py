"""Accessibility of the analyserapport's HTML (WCAG 2.1 AA as far as a machine can tell).

Static checks on the real Herenthout-vs-ISOM report: language, one ``<h1>``, headings in
order, a meaningful Dutch text alternative with numbers for every image, the table behind
every chart, captions and header cells in every table, and the contrast of the house colours
(report.css and the chart style). The same report is checked in a real browser with axe-core in
tests/test_report_browser.py.
"""

from __future__ import annotations

import base64
import re

import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_notebook, new_output

from lsbanalysis.charts import contrast_ratio
from lsbanalysis.report.assemble import CSS_FILE, ReportContext, assemble_html
from lsbanalysis.report.outputs import FIGURE_METADATA

pytestmark = pytest.mark.slow

DUTCH = re.compile(r"\b(voor|van|en|de|het|in|per)\b")
NUMBER = re.compile(r"\d")


@pytest.fixture(scope="module")
def soup(herenthout_report):
    return BeautifulSoup(herenthout_report.html.read_text(encoding="utf-8"), "html.parser")


def test_language_and_one_h1(soup):
    assert soup.html["lang"] == "nl-BE"
    assert len(soup.find_all("h1")) == 1
    assert soup.title and "Omgevingsanalyse Herenthout" in soup.title.text


def test_headings_are_in_order(soup):
    levels = [int(h.name[1]) for h in soup.find_all(re.compile(r"^h[1-6]$"))]
    assert levels[0] == 1
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, f"h{before} followed by h{after}"
    chapters = soup.find_all("section", class_="chapter")
    ids = [h.get("id") for c in chapters for h in c.find_all(re.compile(r"^h[3-6]$"))]
    assert ids and all(ids) and len(set(ids)) == len(ids)  # every section can be linked to


def test_every_image_has_a_meaningful_dutch_text_alternative(soup):
    images = soup.find_all(["img", "svg"])
    assert len(images) >= 15
    alts, pictures = [], []
    for img in images:
        alt = img.get("alt") if img.name == "img" else img.get("aria-label")
        assert alt, str(img)[:120]
        assert len(alt) >= 60 and NUMBER.search(alt) and DUTCH.search(alt), alt
        assert not re.fullmatch(r"Figuur \d+ bij .*", alt), alt
        assert not re.search(r"\d\.\d{1,2}(?!\d)", alt), alt  # Dutch decimals (4,9), never 4.9
        alts.append(alt)
        pictures.append(img.get("src"))
    # each figure says what it shows: one text per distinct picture (a chart may be shown twice)
    assert len(set(zip(alts, pictures, strict=True))) == len(set(alts)) == len(set(pictures))
    assert any("Herenthout" in a for a in alts)


def test_every_chart_has_its_table_within_reach(soup):
    figures = soup.find_all("figure")
    assert figures
    for fig in figures:
        details = fig.find("details", class_="figure-data")
        assert details is not None and details.summary.text.startswith("Tabel bij de figuur")
        table = details.find("table")
        assert table.caption.text.strip()
        assert table.find("thead").find_all("th") and table.tbody.find_all("tr")
        # the table carries the target's value that the alt text states
        alt = fig.img["alt"]
        numbers = re.findall(r"\d[\d.]*(?:,\d+)? (?:%|€)", alt)
        assert not numbers or any(n in table.text for n in numbers), alt


def test_every_table_has_a_caption_and_header_cells(soup):
    tables = soup.find_all("table")
    assert len(tables) > 20
    for table in tables:
        assert table.caption is not None and table.caption.text.strip(), str(table)[:200]
        head = table.find("thead")
        assert head is not None and all(th.get("scope") == "col" for th in head.find_all("th"))
        for row in table.tbody.find_all("tr") if table.tbody else []:
            first = row.find(["th", "td"])
            assert first.name == "th" and first.get("scope") in ("row", "rowgroup"), str(row)


def _css_colours() -> dict[str, str]:
    css = CSS_FILE.read_text(encoding="utf-8")
    root = css.split(":root", 1)[1].split("}", 1)[0]
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root))


def test_house_colours_of_the_report_have_enough_contrast():
    colours = _css_colours()
    assert {"ink", "muted", "accent"} <= set(colours)
    for name in ("ink", "muted", "accent"):  # text and links on white, and on the soft grey
        assert contrast_ratio(colours[name]) >= 4.5, name
        assert contrast_ratio(colours[name], colours["soft"]) >= 4.5, name
    css = CSS_FILE.read_text(encoding="utf-8")  # the running header and page numbers
    for colour in re.findall(r"@(?:top|bottom)-\w+ \{[^}]*color: (#[0-9a-fA-F]{6})", css):
        assert contrast_ratio(colour) >= 4.5, colour


def test_assemble_writes_alt_text_and_table_from_the_output_metadata():
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAB"
           "JRU5ErkJggg==")
    chart = {"name": "x", "alt": "Staafdiagram: werkzoekendengraad 2024, Herenthout 4,9 % <b>",
             "caption": "Werkzoekendengraad, 2024",
             "table": "<table><caption>Werkzoekendengraad, 2024</caption></table>"}
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("display_data", data={"image/png": png, "text/plain": "Figuur"},
                   metadata={"image/png": {"width": 800, "height": 500}, FIGURE_METADATA: chart}),
        new_output("display_data", data={"image/png": png}),
        new_output("display_data", data={"image/png": png},
                   metadata={"image/png": {"width": 800, "height": 1100}}),
    ])])
    html = assemble_html([("arbeid", "Arbeid", nb)],
                         ReportContext(gemeente="Herenthout", nis="13012",
                                       group_label="ISOM-gemeenten"))
    soup = BeautifulSoup(html, "html.parser")
    first, second, tall = soup.find_all("figure")
    assert first.img["alt"] == chart["alt"] and 'alt="Staafdiagram' in html and "&lt;b&gt;" in html
    assert first.img["width"] == "800" and first["id"] == "arbeid-figuur-1"
    assert first.details.summary.text == "Tabel bij de figuur: Werkzoekendengraad, 2024"
    assert second.img["alt"] == "Figuur 2 bij Arbeid" and second.details is None
    assert first["class"] == ["figure"] and tall["class"] == ["figure", "figure-tall"]
    assert soup.html["lang"] == "nl-BE"
    assert '@top-left { content: "Omgevingsanalyse Herenthout · ISOM-gemeenten · ' in html


def test_assemble_embeds_a_chart_svg_as_an_image_with_its_alt_text():
    svg = ('<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
           'width="600pt" height="300pt"><g id="titel"><path d="M0 0"/></g></svg>')
    chart = {"name": "x", "alt": "Lijndiagram: Herenthout 4,9 %", "caption": "Werkzoekendengraad"}
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("display_data", data={"image/svg+xml": svg, "text/plain": "Figuur"},
                   metadata={"image/svg+xml": {"width": 800, "height": 400},
                             FIGURE_METADATA: chart}),
        new_output("display_data", data={"image/svg+xml": svg}),  # not a chart: inline
    ])])
    html = assemble_html([("arbeid", "Arbeid", nb)],
                         ReportContext(gemeente="Herenthout", nis="13012",
                                       group_label="ISOM-gemeenten"))
    soup = BeautifulSoup(html, "html.parser")
    chart_figure, inline = soup.find_all("figure")
    img = chart_figure.img
    assert img["alt"] == chart["alt"] and (img["width"], img["height"]) == ("800", "400")
    assert base64.b64decode(img["src"].removeprefix("data:image/svg+xml;base64,")).decode() == svg
    assert chart_figure.svg is None and inline.img is None and inline.svg is not None


def test_chapter_figure_passes_alt_text_and_table_to_the_report(tmp_path, monkeypatch):

    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd
    from matplotlib.figure import Figure

    from lsbanalysis import charts
    from lsbanalysis.report.chapter import Chapter

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda data, raw=False, metadata=None: shown.append((data, metadata)))
    ch = Chapter("Herenthout", "ISOM", output_dir=tmp_path)
    ch.figure(charts.ranking_bars(ch.c, "werkzoekendengraad"), "wzg")
    own = Figure(figsize=(4, 3))
    own.subplots().bar(["a", "b"], [1, 2])
    ch.figure(own, "eigen", alt="Staafdiagram: a 1 en b 2, 2024.",
              table=pd.DataFrame({"Gebied": ["a", "b"], "Waarde": ["1", "2"]}))
    ch.figure(Figure(figsize=(2, 2)), "zonder")
    (chart, chart_meta), (mine, mine_meta), (bare, bare_meta) = shown
    assert chart["image/svg+xml"].lstrip().startswith("<?xml")
    assert "<svg" in chart["image/svg+xml"] and chart_meta["image/svg+xml"]["width"] > 500
    # the report shows the chart's SVG; the PNG next to it is the same figure at 150 dpi
    png = (tmp_path / "figures" / "wzg.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert int.from_bytes(png[16:20], "big") == round(chart_meta["image/svg+xml"]["width"] * 1.5)
    fig = chart_meta[FIGURE_METADATA]
    assert fig["alt"].startswith("Staafdiagram: Werkzoekendengraad")
    assert "Herenthout: " in fig["alt"]
    assert chart["text/plain"] == fig["alt"]
    table = BeautifulSoup(fig["table"], "html.parser")
    assert table.caption.text == fig["caption"]
    assert table.find("tr", class_="target").th.text == "Herenthout"
    assert mine_meta[FIGURE_METADATA]["alt"] == "Staafdiagram: a 1 en b 2, 2024."
    assert "<caption>Eigen</caption>" in mine_meta[FIGURE_METADATA]["table"]
    assert FIGURE_METADATA not in bare_meta  # no text given: the report says so (test above)
    figures = tmp_path / "figures"
    assert sorted(p.name for p in figures.iterdir()) == [
        "eigen.csv", "eigen.png", "eigen.svg", "wzg.csv", "wzg.png", "wzg.svg",
        "zonder.png", "zonder.svg"]
    assert (figures / "wzg.csv").read_text(encoding="utf-8-sig").startswith("gebied;code;")
