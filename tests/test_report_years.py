"""A reference year (``--jaar N``) on the embedded data: per indicator the latest value up to N.

No single year has every indicator (population density starts in 2019, the age structure covers
2015–2022, the income bands exist for 2015, 2016, 2021 and 2022, the building permits of 2025 are
a partial year), so each indicator keeps its own year and every chapter must work for any year.
"""

from __future__ import annotations

import contextlib
import io

import matplotlib
import nbformat
import pandas as pd
import pytest

import lsbanalysis
from lsbanalysis.paths import NOTEBOOKS_DIR
from lsbanalysis.report.runner import CHAPTERS, build_report

YEARS = [2015, 2016, 2019, 2022, 2024]


@pytest.fixture(scope="module")
def ds():
    return lsbanalysis.load()


@pytest.fixture(scope="module")
def latest(ds):
    return ds.compare("Herenthout", reference="ISOM")


@pytest.mark.parametrize("year", YEARS)
def test_each_indicator_shows_its_latest_value_up_to_the_year(ds, latest, year):
    c = ds.compare("Herenthout", reference="ISOM", year=year)
    history = latest.history[latest.history["role"] == "target"]
    shown = c.summary.set_index("indicator")
    for ind in latest.indicators:
        years = sorted(int(y) for y in history.loc[history["indicator"] == ind.id, "year"])
        upto = [y for y in years if y <= year]
        if upto:
            assert shown.loc[ind.id, "period"] == str(upto[-1]), ind.id
            target = c.table[(c.table["indicator"] == ind.id) & (c.table["role"] == "target")]
            assert (target["period"] == str(upto[-1])).all()
        else:
            assert ind.id not in shown.index
            assert f"{ind.short}: geen gegevens tot en met {year}" in " ".join(c.notes)
    assert int(c.history["year"].max()) <= year


def _run_in_process(notebook, parameters: dict) -> None:
    """The chapter's code cells, with the parameters papermill would inject."""
    nb = nbformat.read(NOTEBOOKS_DIR / notebook, as_version=4)
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            exec(compile(cell.source, f"{notebook}[{index}]", "exec"), namespace)
            if "parameters" in cell.metadata.get("tags", []):
                namespace.update(parameters)


@pytest.mark.slow
@pytest.mark.parametrize("year", [2015, 2019])  # the others: by hand (`lsb report --jaar N`)
def test_every_chapter_runs_for_a_reference_year(ds, year, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.setattr(lsbanalysis, "load", lambda store_dir=None: ds)  # load the data once
    for chapter, notebook, _ in CHAPTERS:
        _run_in_process(notebook, {"gemeente": "Herenthout", "referentie": "ISOM", "jaar": year,
                                   "output_dir": str(tmp_path / chapter), "store_dir": None})
        if chapter != "vaststellingen":  # the annex is text only
            assert list((tmp_path / chapter / "tables").glob("*.csv")), chapter
    figures = list(tmp_path.glob("*/figures/*.png"))
    assert len(figures) >= 10
    # the pyramid of the reference year (the age structure starts in 2015)
    pyramid = pd.read_csv(tmp_path / "bevolking" / "figures" / "bevolkingspiramide.csv",
                          sep=";", decimal=",", encoding="utf-8-sig")
    assert set(pyramid["jaar"]) == {year} and len(pyramid) == 20
    for chapter in ("armoede", "samenleven", "gezondheid"):
        assert list((tmp_path / chapter / "figures").glob("*.png")), chapter


@pytest.mark.slow
def test_reference_year_report_says_what_the_year_means(tmp_path):
    result = build_report("Herenthout", "ISOM", 2022, out_root=tmp_path, chapters=CHAPTERS[:2])
    assert result.folder.name == "herenthout-isom-2022"
    html = result.html.read_text(encoding="utf-8")
    assert "elk cijfer is de laatste waarde tot en met 2022" in html
    assert "Bevolkingsgroei 5 jaar: geen gegevens tot en met 2022 (wel 2024)." in html
    assert 'class="error"' not in html and "Traceback" not in html
