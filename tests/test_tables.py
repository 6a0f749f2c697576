"""Report tables in Dutch notation."""

from __future__ import annotations

import pandas as pd

from lsbanalysis.report import tables
from tests.test_compare import ds  # noqa: F401


def test_key_figures_show_why_a_value_is_missing(ds):  # noqa: F811
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie,D-berg")
    frame = tables.key_figures(c, ["werkzoekendengraad", "inkomen_mediaan_aangifte"])
    rows = frame.set_index("Indicator")
    assert rows.loc["Werkzoekendengraad", "A-dorp"] == "10,0 %"
    assert rows.loc["Werkzoekendengraad", "Rang"] == "1 van 3"
    # D-berg's count is secret: the group rate leaves it out, and the table says so
    assert rows.loc["Werkzoekendengraad", c.group.label] == "6,3 % (zonder D-berg)"
    assert tables.key_figures(c, ["nwwz"]).iloc[0][c.group.label] == "onvolledig"
    assert rows.loc["Mediaan inkomen per aangifte", c.group.label] == "–"
    assert rows.loc["Mediaan inkomen per aangifte", "Arrondissement"] == "31.000 €"


def test_members_table_marks_secret_values(ds):  # noqa: F811
    c = ds.compare("A-dorp", reference="A-dorp,D-berg", indicators=["mediaanprijs_appartementen"])
    frame = tables.members(c, "mediaanprijs_appartementen")
    assert list(frame["Gemeente"]) == ["A-dorp", "D-berg"]
    assert list(frame.iloc[:, 1]) == ["200.000 €", "geheim"]


def test_findings_markdown_carries_sources(ds):  # noqa: F811
    c = ds.compare("A-dorp", reference="A-dorp,BC-fusie")
    text = tables.findings_markdown(c.findings)
    assert text.count("\n") == len(c.findings) - 1
    assert "*(Bron: " in text
    assert tables.findings_markdown([]) == "*Geen vaststellingen.*"


def test_html_table_has_caption_header_cells_and_marks_the_target():
    from bs4 import BeautifulSoup

    from lsbanalysis.report.tables import html_table

    frame = pd.DataFrame({"Gemeente": ["Olen", "Herenthout", "Herenthout-Zuid <x>"],
                          "Graad": ["5,1 %", "4,9 %", "geheim"], "Rang": ["1", "2", "–"],
                          "Soort": ["gemeente", "gemeente", "gemeente"]})
    soup = BeautifulSoup(html_table(frame, "Graad & rang, 2024", highlight="Herenthout"),
                         "html.parser")
    table = soup.table
    assert table.caption.text == "Graad & rang, 2024"
    assert [(th.text, th.get("scope"), th.get("class")) for th in table.thead.find_all("th")] == [
        ("Gemeente", "col", None), ("Graad", "col", ["num"]), ("Rang", "col", ["num"]),
        ("Soort", "col", None)]
    rows = table.tbody.find_all("tr")
    assert [r.th.text for r in rows] == ["Olen", "Herenthout", "Herenthout-Zuid <x>"]
    assert all(r.th["scope"] == "row" for r in rows)
    assert [r.get("class") for r in rows] == [None, ["target"], None]
    assert rows[2].find_all("td")[0].text == "geheim"
