"""The real chapter notebooks, executed with papermill on the embedded data."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil

import pandas as pd
import pytest

import lsbanalysis
from lsbanalysis.report.runner import CHAPTERS, build_report

pytestmark = pytest.mark.slow
TEXT_CHAPTERS = {"samenvatting", "vaststellingen"}


@pytest.fixture(scope="module")
def herenthout(herenthout_report):
    return herenthout_report


@pytest.fixture(scope="module")
def geel(tmp_path_factory):
    return build_report("Geel", "buren", out_root=tmp_path_factory.mktemp("reports"))


def _check_report(result, gemeente: str):
    html = result.html.read_text(encoding="utf-8")
    for _, _, title in CHAPTERS:
        assert f">{title}</h2>" in html, title
    # no code: no input prompts, no source of the setup cell, no tracebacks
    assert "In [" not in html and "ch = Chapter(" not in html
    assert "Traceback" not in html and 'class="error"' not in html
    assert len(re.findall(r'<img [^>]*src="data:image/svg\+xml;base64,', html)) >= 15
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert gemeente in html
    assert "Bron: Statbel" in html and "VDAB" in html
    assert "Colofon" in html
    return html


def test_herenthout_isom_report(herenthout):
    html = _check_report(herenthout, "Herenthout")
    # findings are in the report, with Dutch numbers
    assert "komen in Herenthout het vaakst voor (25,0 %" in html
    assert "hoger dan in het arrondissement Turnhout (23,0 %)" in html
    assert "30.024 €" in html and "4,9 %" in html
    folder = herenthout.folder
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["nis"] == "13012"
    assert {s["id"] for s in manifest["sources"]} >= {"statbel_income_bands_2022",
                                                       "vdab_jobseekers"}
    for chapter, _, _ in CHAPTERS:
        assert (folder / "notebooks" / f"{chapter}.ipynb").exists()
        if chapter in TEXT_CHAPTERS:  # the summary and the annex are text and tables only
            continue
        assert list((folder / "chapters" / chapter / "tables").glob("*.csv"))
        figures = folder / "chapters" / chapter / "figures"
        pngs = {p.stem for p in figures.glob("*.png")}
        assert pngs and pngs == {p.stem for p in figures.glob("*.svg")}
        assert pngs == {p.stem for p in figures.glob("*.csv")}  # the values each chart draws
    assert list((folder / "chapters" / "samenvatting" / "tables").glob("kerncijfers*.csv"))


def test_another_municipality_and_group(geel):
    html = _check_report(geel, "Geel")
    assert "buurgemeenten van Geel" in html


def test_exploration_notebook_runs(tmp_path):
    import papermill

    from lsbanalysis.paths import NOTEBOOKS_DIR

    out = tmp_path / "verkenning.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS_DIR / "00_verkenning.ipynb"), str(out), kernel_name="python3",
        parameters={"gemeente": "Olen", "referentie": "arrondissement"}, progress_bar=False,
        cwd=str(tmp_path), extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
    )
    text = out.read_text(encoding="utf-8")
    assert "Bedoelde u: Herenthout?" in text
    assert '"output_type": "error"' not in text


# -- the synthesis in the report ---------------------------------------------------------------


def _section(html: str, section_id: str) -> str:
    return html.split(f'<section class="chapter" id="{section_id}">', 1)[1].split(
        "</section>", 1)[0]


def _plain(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment))


@pytest.fixture(scope="module")
def herenthout_comparison():
    return lsbanalysis.load().compare("Herenthout", "ISOM")


def test_summary_shows_key_figures_and_key_findings_per_workgroup(herenthout,
                                                                  herenthout_comparison):
    html = herenthout.html.read_text(encoding="utf-8")
    summary = _section(html, "samenvatting")
    s = herenthout_comparison.synthesis
    assert 0 < len(s.key) <= 25
    for section in s.sections:
        assert html_lib.escape(section.heading) in summary
        if s.has_data[section.id]:
            assert s.section_items(section), section.id  # every workgroup with data has one
        else:
            assert "Geen gegevens per gemeente" in _plain(summary)
    text = _plain(summary)
    for f in s.key:
        assert " ".join(f.text.split()) in " ".join(text.split())
        assert re.search(r"\b(19|20)\d\d\b", f.text) and f.source
    # readable Dutch: short sentences, Belgian number notation
    prose = [" ".join(_plain(m).split()) for m in re.findall(r"<(?:p|li)>(.*?)</(?:p|li)>",
                                                              summary, flags=re.S)]
    sentences = [x for p in prose for x in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", p) if x]
    assert len(sentences) > len(s.key)
    assert max(len(x.split()) for x in sentences) <= 45
    body = " ".join(text.split())
    assert not re.search(r"\d\.\d{1,2} ?%", body)  # no decimal point before a percent sign
    assert "Kerncijfers" in summary and "Werkzoekendengraad" in summary


def test_chapters_show_key_findings_first_and_the_annex_every_finding(herenthout,
                                                                      herenthout_comparison):
    html = herenthout.html.read_text(encoding="utf-8")
    c = herenthout_comparison
    arbeid = _plain(_section(html, "arbeid"))
    key, _ = c.synthesis.theme_items("arbeid")
    assert arbeid.index("Kernvaststellingen") < arbeid.index(key[0].text[:40])
    annex = " ".join(_plain(_section(html, "vaststellingen")).split())
    for f in c.findings:
        assert " ".join(f.text.split()) in annex, f.text
    assert "Hoe de kernvaststellingen gekozen zijn" in annex
    table = pd.read_csv(herenthout.folder / "vaststellingen.csv")
    assert len(table) == len(c.synthesis.key) + len(c.synthesis.more) + len(c.findings)
    assert table["kern"].sum() == len(c.synthesis.key)


def test_previous_plan_table_for_herenthout_and_none_for_geel(herenthout, geel):
    toets = pd.read_csv(herenthout.folder / "toets_vorig_plan.csv")
    assert len(toets) == 3 and set(toets["geldt_nog"]) <= {"ja", "nee", "niet toetsbaar"}
    assert toets["waarde_nu"].notna().all() and toets["jaar_nu"].notna().all()
    html = herenthout.html.read_text(encoding="utf-8")
    assert ">Toets van het vorige plan</h2>" in html and "Geldt nog?" in html
    assert not (geel.folder / "toets_vorig_plan.csv").exists()
    assert "Toets van het vorige plan" not in geel.html.read_text(encoding="utf-8")


@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("pdftotext")),
                    reason="chromium and pdftotext (scripts/report_pages.sh installs them)")
def test_summary_prints_on_two_a4_pages(herenthout):
    """The printed report's bookmarks (one per heading) give the page of every chapter."""
    from pypdf import PdfReader

    if herenthout.pdf is None:
        pytest.skip(herenthout.pdf_note or "no PDF")
    reader = PdfReader(herenthout.pdf)
    top = [x for x in reader.outline if isinstance(x, list)][0]  # under the report title
    chapters = [(x.title, reader.get_destination_page_number(x)) for x in top
                if not isinstance(x, list)]
    titles = [t for t, _ in chapters]
    start = chapters[titles.index("Samenvatting")][1]
    end = chapters[titles.index("Samenvatting") + 1][1]
    assert end - start <= 2, chapters


# -- the social themes: ageing, poverty, housing supply, integration, vacancies, health ----------


def test_every_social_theme_has_its_chapter_with_charts_and_findings(herenthout,
                                                                     herenthout_comparison):
    html = herenthout.html.read_text(encoding="utf-8")
    c = herenthout_comparison
    for chapter, title in (("bevolking", "Bevolking en vergrijzing"), ("armoede", "Armoede"),
                           ("samenleven", "Samenleven en integratie"),
                           ("gezondheid", "Gezondheid")):
        assert f'<section class="chapter" id="{chapter}">\n<h2>{title}</h2>' in html, chapter
    # the chapters follow the summary in the declared order, the annex last
    starts = [html.index(f'<section class="chapter" id="{c_id}">') for c_id, _, _ in CHAPTERS]
    assert starts == sorted(starts) and CHAPTERS[-1][0] == "vaststellingen"

    def text(chapter: str) -> str:
        return " ".join(_plain(_section(html, chapter)).split())

    def target(indicator: str) -> float:
        return float(c.rows(indicator).query("role == 'target'")["value"].iloc[0])

    bevolking = _section(html, "bevolking")
    assert re.search(r'<img [^>]*alt="Bevolkingspiramide: inwoners van Herenthout', bevolking)
    assert "Grijze druk" in text("bevolking") and "Interne vergrijzing" in text("bevolking")
    armoede = text("armoede")
    assert target("armoederisico") == pytest.approx(5.1) and "5,1 %" in armoede
    assert "EU-SILC" in armoede and "één nationale armoedegrens" in armoede
    assert armoede.count("Kernvaststellingen") == 1
    wonen = _section(html, "wonen")
    assert target("nieuwbouw_woningen") == 22
    assert re.search(r'<td class="num">22</td>', wonen)  # vergunde nieuwe woningen, 2024
    assert "januari–juli 2025" in text("wonen") and "januari–juli 2024" in text("wonen")
    assert "Vraag naar arbeid" in text("arbeid") and "Vacatures per 100 NWWZ" in text("arbeid")
    samenleven = _section(html, "samenleven")
    assert target("nieuwkomers") == 55 and re.search(r'<td class="num">55</td>', samenleven)
    assert "Thuistaal" in text("samenleven") and "bij benadering" in text("samenleven")
    gezondheid = text("gezondheid")
    assert "geen gezondheidsindicator per gemeente" in gezondheid
    assert "IMA-AIM" in gezondheid and "Zorgatlas" in gezondheid
    assert "Interne vergrijzing" in gezondheid
    key = [f for f in c.synthesis.key if c.synthesis.section_of[f.indicator] == "gezondheid"]
    for f in key:  # the workgroup's key findings, also those on ageing indicators
        assert " ".join(f.text.split()) in gezondheid
    # every new chapter has charts with a text alternative and the table behind them
    for chapter in ("armoede", "samenleven", "gezondheid"):
        part = _section(html, chapter)
        alts = re.findall(r'<img [^>]*alt="([^"]+)"', part)
        assert len(alts) >= 3 and all(len(a) > 80 for a in alts), chapter
        assert part.count('<details class="figure-data">') == len(alts), chapter
    annex = text("vaststellingen")
    assert "De cijfers die de werkgroep gezondheid aanbelangen" in annex
