"""The real chapter notebooks, executed with papermill on the embedded data."""

from __future__ import annotations

import json
import re

import pytest

from lsbanalysis.report.runner import CHAPTERS, build_report

pytestmark = pytest.mark.slow


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
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', html)) >= 15
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
        assert list((folder / "chapters" / chapter / "tables").glob("*.csv"))
        figures = folder / "chapters" / chapter / "figures"
        pngs = {p.stem for p in figures.glob("*.png")}
        assert pngs and pngs == {p.stem for p in figures.glob("*.svg")}
        assert pngs == {p.stem for p in figures.glob("*.csv")}  # the values each chart draws


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
