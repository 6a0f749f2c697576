"""What a report writes next to its chapters, and 'Wat is er nieuw sinds het vorige rapport'.

A report is published on a miniature store with two editions of the income statistics
(2021, 2022); then the 2022 edition is dropped from a copy of the store and the report is made
again: the changes must name the edition, the key finding that disappeared and the key figure
that moved. The chapters are the runner's small fixture notebooks, so only the exports and the
generated sections come from the real library.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from lsbanalysis.report import build_report
from lsbanalysis.report.exports import CHANGES_FILE, FINDINGS_FILE, KEY_FIGURES_FILE, changes
from lsbanalysis.store import io
from tests.test_synthesis import LOW_INCOME, NIS, _geo
from tests.tiny_store import obs, write_store

pytestmark = pytest.mark.slow
NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
CHAPTERS = [("parameters", "parameters.ipynb", "Parameters")]
DECLARATIONS = 1_000_000
EDITIONS = {"statbel_income_bands_2021": ("aanslagjaar 2022", 2021),
            "statbel_income_bands_2022": ("aanslagjaar 2023", 2022)}


def _rows():
    rows = []
    for name, nis in NIS.items():
        for source, (_, year) in EDITIONS.items():
            # in 2021 every municipality has 20 % low incomes: M01 stands out only in 2022
            share = LOW_INCOME[name] if year == 2022 else 20.0
            half = share / 100 * DECLARATIONS / 2
            rows += [obs(source, "declarations_nonzero", nis, year, DECLARATIONS, geo="2025"),
                     obs(source, "declarations_band_lt10k", nis, year, half, geo="2025"),
                     obs(source, "declarations_band_10k_20k", nis, year, half, geo="2025")]
    return rows


def _sources(ids):
    return [{"id": s, "title": "Fiscale inkomens", "publisher": "Statbel",
             "edition": EDITIONS[s][0], "files": [{"name": f"{s}.xls", "sha256": s[-4:] * 16}]}
            for s in ids]


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    base = tmp_path_factory.mktemp("stores")
    full = write_store(base / "full", _rows(), geo=_geo(), sources=_sources(EDITIONS))
    # the same store without the 2022 edition: observations and manifest entry dropped
    older = base / "older"
    shutil.copytree(full, older)
    table = io.read_table(older / io.OBSERVATIONS_FILE)
    io.write_table(table[table["source"] != "statbel_income_bands_2022"].reset_index(drop=True),
                   older / io.OBSERVATIONS_FILE)
    manifest = json.loads((older / io.MANIFEST_FILE).read_text())
    manifest["sources"] = _sources(["statbel_income_bands_2021"])
    (older / io.MANIFEST_FILE).write_text(json.dumps(manifest))
    return full, older


@pytest.fixture(scope="module")
def reports(stores, tmp_path_factory):
    full, older = stores
    out = tmp_path_factory.mktemp("reports")

    def build(store):
        return build_report("M01", "arrondissement", out_root=out, notebooks_dir=NOTEBOOKS,
                            chapters=CHAPTERS, store_dir=store)

    first = build(full)
    first_files = {p.name: p.read_bytes() for p in first.folder.iterdir() if p.is_file()}
    first_html = first.html.read_text(encoding="utf-8")
    second = build(older)
    return first_files, first_html, second


def test_first_report_writes_findings_and_key_figures_without_changes(reports):
    files, html, _ = reports
    assert CHANGES_FILE not in files and "Wat is er nieuw" not in html
    assert "toets_vorig_plan.csv" not in files and "Toets van het vorige plan" not in html
    findings = pd.read_csv(pd.io.common.BytesIO(files[FINDINGS_FILE]))
    assert list(findings.columns[:8]) == ["theme", "werkgroep", "indicator", "period", "kind",
                                          "assessment", "label", "kern"]
    kern = findings[findings["kern"]]
    assert list(kern["indicator"]) == ["aangiften_lt20k_pct"]
    assert kern.iloc[0]["label"] == "werkpunt" and kern.iloc[0]["period"] == 2022
    assert json.loads(kern.iloc[0]["values"])["waarde"] == pytest.approx(30.0)
    # the detailed findings follow, none of them key
    assert (~findings["kern"]).sum() > 0 and set(findings.loc[~findings["kern"], "kind"]) >= {
        "rank", "benchmark"}
    figures = pd.read_csv(pd.io.common.BytesIO(files[KEY_FIGURES_FILE]), dtype={"period": str})
    target = figures[(figures["role"] == "target")].set_index("indicator")
    assert target.loc["aangiften_lt20k_pct", "value"] == pytest.approx(30.0)
    manifest = json.loads(files["manifest.json"])
    assert manifest["exports"] == [FINDINGS_FILE, KEY_FIGURES_FILE]


def test_dropped_edition_is_named_in_wijzigingen_and_in_the_report(reports):
    _, _, second = reports
    table = pd.read_csv(second.folder / CHANGES_FILE, keep_default_na=False)
    source = table[table["soort"] == "bron"]
    assert source.to_dict(orient="records") == [{
        "soort": "bron", "onderwerp": "statbel_income_bands_2022",
        "vorig": "Fiscale inkomens, aanslagjaar 2023", "nieuw": "",
        "toelichting": "niet meer in de gegevens"}]
    gone = table[(table["soort"] == "kernvaststelling")]
    assert list(gone["toelichting"]) == ["vervallen"]
    assert gone.iloc[0]["onderwerp"] == "aangiften_lt20k_pct"
    assert gone.iloc[0]["vorig"].startswith("In 2022 is het aandeel aangiften met een laag")
    moved = table[table["soort"] == "kerncijfer"].set_index("onderwerp")
    assert moved.loc["Aangiften < 20.000 € (laag inkomen)", "vorig"] == "30,0 % (2022)"
    assert moved.loc["Aangiften < 20.000 € (laag inkomen)", "nieuw"] == "20,0 % (2021)"

    html = second.html.read_text(encoding="utf-8")
    section = html.split('id="nieuw"', 1)[1].split("</section>", 1)[0]
    assert ">Wat is er nieuw sinds het vorige rapport</h2>" in section
    assert "Niet meer in de gegevens: Fiscale inkomens, aanslagjaar 2023" in section
    assert "statbel_income_bands_2022" in section
    assert "Vervallen kernvaststellingen" in section and "In 2022 is het aandeel" in section
    assert "<td>30,0 % (2022)</td>" in section and "<td>20,0 % (2021)</td>" in section
    # placed right after the first chapter, listed in the table of contents
    assert html.index('id="nieuw"') > html.index('id="parameters"')
    assert 'href="#nieuw"' in html
    assert json.loads((second.folder / "manifest.json").read_text())["exports"][-1] == (
        CHANGES_FILE)


def test_no_comparison_with_a_report_for_another_group(tmp_path):
    old = {"parameters": {"nis": "13101", "group": {"members": [{"nis": "13101"}]}},
           "sources": [], "finished_at": "2026-01-01T00:00:00+00:00"}
    (tmp_path / "manifest.json").write_text(json.dumps(old))
    now = {"parameters": {"nis": "13101", "group": {"members": [{"nis": "13101"},
                                                                {"nis": "13102"}]}},
           "sources": []}
    empty = pd.DataFrame()
    assert changes(tmp_path, now, empty, empty, None) is None
    now["parameters"]["group"]["members"] = [{"nis": "13101"}]
    table, text = changes(tmp_path, now, empty, empty, None)
    assert table.empty and "geen nieuwe gegevens" in text
    assert "nog geen lijst van vaststellingen" in text  # an older report without the CSV
