"""The report runner: chapter notebooks run with papermill → one self-contained analyserapport.

The runner tests use small fixture notebooks (tests/fixtures/notebooks/) and a tiny synthetic
processed store (seven ISOM municipalities and a neighbour, one income measure for 2020–2022),
so they depend neither on the real chapter notebooks nor on the real data. Tests that start
kernels are marked ``slow`` (each build starts two kernels in parallel, ~5 s).
"""

from __future__ import annotations

import base64
import functools
import json
import shutil
import threading
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest
from click.testing import CliRunner
from filelock import FileLock
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import lsbanalysis
from lsbanalysis.analysis.compare import YearError
from lsbanalysis.analysis.groups import ReferenceGroupError
from lsbanalysis.cli import main
from lsbanalysis.errors import LsbError, UnknownMunicipalityError
from lsbanalysis.paths import processed_dir
from lsbanalysis.report import (
    ReportBusyError,
    ReportContext,
    ReportError,
    assemble_html,
    build_report,
    runner,
    save_figure,
    save_table,
)
from lsbanalysis.report.assemble import slug
from lsbanalysis.store import io
from tests.isom import ISOM

NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
CHAPTERS = [
    ("figuren", "figuren.ipynb", "Figuren"),
    ("parameters", "parameters.ipynb", "Parameters"),
]
FAILING = [CHAPTERS[0], ("faalt", "faalt.ipynb", "Faalt")]
MUNICIPALITIES = {**ISOM, "13049": "Westerlo"}
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
    "RU5ErkJggg=="
)


def make_store(folder: Path) -> Path:
    """A minimal processed store that lsbanalysis.load() accepts."""
    folder.mkdir(parents=True, exist_ok=True)
    parents = {"arrondissement": "13000", "province": "10000", "region": "02000"}
    geo = [
        {
            "geo_version": "2025",
            "nis": "02000",
            "level": "region",
            "name_nl": "Vlaams Gewest",
            "name_fr": "Région flamande",
            "arrondissement": None,
            "province": None,
            "region": "02000",
        },
        {
            "geo_version": "2025",
            "nis": "10000",
            "level": "province",
            "name_nl": "Provincie Antwerpen",
            "name_fr": "Province d'Anvers",
            "arrondissement": None,
            "province": "10000",
            "region": "02000",
        },
        {
            "geo_version": "2025",
            "nis": "13000",
            "level": "arrondissement",
            "name_nl": "Arrondissement Turnhout",
            "name_fr": "Arrondissement de Turnhout",
            **parents,
        },
    ]
    geo += [
        {
            "geo_version": "2025",
            "nis": nis,
            "level": "municipality",
            "name_nl": name,
            "name_fr": name,
            **parents,
        }
        for nis, name in MUNICIPALITIES.items()
    ]
    io.write_table(pd.DataFrame(geo), folder / io.GEOGRAPHY_FILE)
    obs = [
        {
            "source": "statbel_income_bands_2022",
            "measure": "income_median_per_declaration",
            "nis": nis,
            "level": "municipality",
            "geo_version": "2025",
            "period": str(year),
            "year": year,
            "value": 25000.0 + 100 * i + year,
            "unit": "eur",
            "status": "ok",
        }
        for i, nis in enumerate(MUNICIPALITIES)
        for year in (2020, 2021, 2022)
    ]
    obs = pd.DataFrame(obs)
    for col in io.CATEGORICAL:  # as the store build writes them
        obs[col] = obs[col].astype("category")
    io.write_table(obs, folder / io.OBSERVATIONS_FILE)
    empty = pd.Series(dtype=str)
    io.write_table(
        pd.DataFrame({"geo_from": empty, "geo_to": empty, "nis_from": empty, "nis_to": empty}),
        folder / io.CROSSWALK_FILE,
    )
    io.write_table(
        pd.DataFrame(
            {
                "geo_version": ["2025", "2025"],
                "nis": ["13012", "13012"],
                "neighbour_nis": ["13010", "13049"],
            }
        ),
        folder / io.NEIGHBOURS_FILE,
    )
    io.write_manifest(
        folder,
        {
            "store_format": io.STORE_FORMAT,
            "built_at": "2025-01-01T00:00:00+00:00",
            "lsbanalysis_version": lsbanalysis.__version__,
            "sources": [
                {
                    "id": "statbel_income_bands_2022",
                    "title": "Fiscale inkomens <test>",
                    "publisher": "Statbel",
                    "edition": "aanslagjaar 2023",
                    "attribution": "Bron: Statbel",
                    "licence": "CC BY 4.0",
                    "page": "https://statbel.fgov.be/",
                    "role": "observations",
                    "files": [
                        {"name": "income.xlsx", "path": "statbel/income.xlsx", "sha256": "ab" * 32}
                    ],
                }
            ],
        },
    )
    return folder


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return make_store(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module", autouse=True)
def stable_code(tmp_path_factory):
    """Fingerprint a fixed stand-in package: the real one may be edited while the tests run.

    (``code_digest`` over a package folder is tested on its own below.)
    """
    package = tmp_path_factory.mktemp("package")
    (package / "module.py").write_text("X = 1\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "PACKAGE_DIR", package)
        yield package


@pytest.fixture
def no_kernels(monkeypatch):
    """Any attempt to execute a notebook fails the test."""

    def refuse(*args, **kwargs):
        pytest.fail("a notebook was executed")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)


def build(
    out_root: Path, store: Path, gemeente="Herenthout", referentie="ISOM", jaar=None, **kwargs
):
    kwargs.setdefault("chapters", CHAPTERS)
    return build_report(
        gemeente,
        referentie,
        jaar,
        out_root=out_root,
        notebooks_dir=NOTEBOOKS,
        store_dir=store,
        **kwargs,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(out_root: Path) -> list[str]:
    return [p.name for p in out_root.iterdir() if "-building-" in p.name or "-previous-" in p.name]


@pytest.fixture(scope="module")
def built(tmp_path_factory, store):
    return build(tmp_path_factory.mktemp("reports"), store)


# -- a successful run ----------------------------------------------------------------------


@pytest.mark.slow
def test_report_is_one_self_contained_html_without_code(built):
    assert not built.skipped
    assert built.html == built.folder / "analyserapport.html"
    assert built.folder.name == "herenthout-isom"
    text = built.html.read_text(encoding="utf-8")
    assert "<title>Omgevingsanalyse Herenthout — vergelijking met de ISOM-gemeenten</title>" in text
    # no code, no prompts, no stderr, no parameter cells
    for absent in (
        "CODE_MARKER",
        "import matplotlib",
        "In [",
        "stderr-tekst",
        "save_figure",
        'output_dir = "."',
        "<Axes",
    ):
        assert absent not in text, absent
    # outputs: figure embedded, table, stdout escaped, the only-representation text/plain kept
    assert text.count('src="data:image/png;base64,') == 1
    assert '<table border="1" class="dataframe">' in text and "<td>Olen</td>" in text
    assert "stdout &lt;b&gt;ontsnapt&lt;/b&gt;" in text
    assert '<pre class="output text">2</pre>' in text
    assert "gemeente=Herenthout nis=13012 referentie=ISOM jaar=None" in text
    assert "Deze tekst legt de figuur uit, met <em>nadruk</em>." in text
    # table of contents: every chapter and its level-2 headings
    toc = text.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    for anchor in (
        "figuren",
        "figuren-een-lijn",
        "figuren-een-tabel",
        "parameters",
        "parameters-tweede-deel",
        "colofon",
    ):
        assert f'href="#{anchor}"' in toc
        assert f'id="{anchor}"' in text
    # the two chapters, and the generated test of Herenthout's previous plan after the first
    assert text.count('<section class="chapter"') == 3
    assert text.index('id="figuren"') < text.index('id="vorig-plan"') < text.index(
        'id="parameters"')
    # the generated section is rendered Markdown with a captioned HTML table, not raw text
    assert "**" not in text and "<td>niet toetsbaar (1)</td>" in text
    # colophon: sources, parameters, version
    colophon = text.split('<section class="colophon"', 1)[1]
    for needle in (
        "Fiscale inkomens &lt;test&gt;",
        "Statbel",
        "aanslagjaar 2023",
        "1 bestand, met controlegetal in de",
        "CC BY 4.0",
        "Herenthout (NIS 13012)",
        "Vorselaar (13044)",
        f"lsbanalysis {lsbanalysis.__version__}",
        "Gegenereerd",
    ):
        assert needle in colophon, needle
    # the per-file checksums: in full, in the annex table, not in the colophon's text
    annex = colophon.split('<section class="annex" id="bijlage">', 1)[1]
    assert "ab" * 32 not in colophon.split('<section class="annex"', 1)[0]
    assert '<th scope="row">income.xlsx</th><td class="hash">' + "ab" * 32 + "</td>" in annex
    assert '<th colspan="2" scope="rowgroup">Fiscale inkomens &lt;test&gt;</th>' in annex
    # works offline: nothing loaded from elsewhere
    for external in ('src="http', "<link", "@import", "url(http", "<script"):
        assert external not in text


@pytest.mark.slow
def test_manifest_records_parameters_sources_code_and_timings(built):
    manifest = json.loads((built.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == built.manifest
    assert manifest["fingerprint"] == built.fingerprint
    params = manifest["parameters"]
    assert params["nis"] == "13012" and params["gemeente"] == "Herenthout"
    assert params["jaar"] is None and params["group"]["id"] == "ISOM"
    assert [m["nis"] for m in params["group"]["members"]] == [
        "13010",
        "13011",
        "13012",
        "13017",
        "13019",
        "13029",
        "13044",
    ]
    (source,) = manifest["sources"]
    assert source["id"] == "statbel_income_bands_2022" and source["licence"] == "CC BY 4.0"
    assert source["files"] == [{"name": "income.xlsx", "sha256": "ab" * 32}]
    assert manifest["store"]["built_at"] == "2025-01-01T00:00:00+00:00"
    assert set(manifest["store"]["files"]) >= {"observations.parquet", "manifest.json"}
    code = manifest["code"]
    assert code["lsbanalysis_version"] == lsbanalysis.__version__
    assert len(code["sha256"]) == 64 and "git_commit" in code
    assert manifest["started_at"] <= manifest["finished_at"]
    assert set(manifest["durations"]["chapters"]) == {"figuren", "parameters"}
    assert manifest["durations"]["total"] > 0
    figuren = manifest["chapters"][0]
    assert figuren["figures"] == [
        "chapters/figuren/figures/lijn.png",
        "chapters/figuren/figures/lijn.svg",
    ]
    assert figuren["tables"] == ["chapters/figuren/tables/waarden.csv"]


@pytest.mark.slow
def test_executed_notebooks_and_chapter_outputs_are_kept(built):
    folder = built.folder
    for chapter, _, _ in CHAPTERS:
        nb = nbformat.read(folder / "notebooks" / f"{chapter}.ipynb", as_version=4)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert injected and f"chapters/{chapter}" in injected[0].source
        assert "store_dir" in injected[0].source
        assert "gedeeld" not in injected[0].source  # only for notebooks that declare it
    figures = folder / "chapters" / "figuren" / "figures"
    assert (figures / "lijn.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (figures / "lijn.svg").read_text(encoding="utf-8")
    csv = (folder / "chapters" / "figuren" / "tables" / "waarden.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf") and "Herenthout;1,5" in csv.decode("utf-8-sig")
    assert not leftovers(folder.parent)


def _reuse_notebook(code: str) -> nbformat.NotebookNode:
    params = new_code_cell(
        'gemeente = "X"\nreferentie = "Y"\njaar = None\noutput_dir = "."\nstore_dir = None\n'
        "gedeeld = None", metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[new_markdown_cell("# Hoofdstuk"), params, new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


@pytest.mark.slow
def test_one_kernel_runs_the_chapters_in_turn_each_as_in_a_new_kernel(store, tmp_path):
    """jobs=1: both chapters run in one kernel, the second with an empty namespace, its own
    working directory, the kernel's rcParams and execution count 1; a notebook that declares
    ``gedeeld`` gets the runner's comparison."""
    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    nbformat.write(_reuse_notebook(
        "import os, json, matplotlib\n"
        "SPOOR = 1\n"
        "matplotlib.rcParams['lines.linewidth'] = 9\n"
        "print(json.dumps({'pid': os.getpid(), 'cwd': os.getcwd() == output_dir,\n"
        "                  'lw': matplotlib.rcParams['lines.linewidth']}))"),
        notebooks / "eerste.ipynb")
    nbformat.write(_reuse_notebook(
        "import os, json, matplotlib\n"
        "from lsbanalysis.report.chapter import Chapter\n"
        "ch = Chapter(gemeente, referentie, jaar, output_dir, store_dir, gedeeld)\n"
        "print(json.dumps({'pid': os.getpid(), 'cwd': os.getcwd() == output_dir,\n"
        "                  'lw': matplotlib.rcParams['lines.linewidth'],\n"
        "                  'spoor': 'SPOOR' in globals(), 'soort': type(ch.c).__name__,\n"
        "                  'kern': len(ch.c.synthesis.key) == len(ch.c.synthesis.key)}))"),
        notebooks / "tweede.ipynb")
    result = build_report("Herenthout", "ISOM", out_root=tmp_path / "reports",
                          notebooks_dir=notebooks, store_dir=store, jobs=1,
                          chapters=[("eerste", "eerste.ipynb", "Eerste"),
                                    ("tweede", "tweede.ipynb", "Tweede")])
    seen = {}
    for chapter in ("eerste", "tweede"):
        nb = nbformat.read(result.folder / "notebooks" / f"{chapter}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code[0].execution_count == 1  # numbered as in a new kernel
        seen[chapter] = json.loads(code[-1].outputs[0]["text"])
        injected = next(c for c in code if "injected-parameters" in c.metadata.get("tags", []))
        assert "gedeeld" in injected.source
    first, second = seen["eerste"], seen["tweede"]
    assert first["pid"] == second["pid"]  # one kernel
    assert first["cwd"] and second["cwd"]
    assert first["lw"] == 9 and second["lw"] != 9 and not second["spoor"]
    assert second["soort"] == "SharedComparison" and second["kern"]
    assert not list(result.folder.glob(".gedeeld*"))  # not published


def test_the_runner_knows_which_parameters_a_chapter_declares(tmp_path):
    nbformat.write(_reuse_notebook("x = 1"), tmp_path / "a.ipynb")
    assert runner.check_chapter_notebook(tmp_path / "a.ipynb") == {
        "gemeente", "referentie", "jaar", "output_dir", "store_dir", "gedeeld"}
    assert "gedeeld" not in runner.check_chapter_notebook(NOTEBOOKS / "parameters.ipynb")


def test_chapters_are_queued_longest_first(tmp_path):
    for name, charts in (("kort", 0), ("lang", 3), ("midden", 1)):
        calls = "\n".join(f"ch.chart('ranking_bars', 'x{k}', 'x{k}')" for k in range(charts))
        nbformat.write(_reuse_notebook(calls or "pass"), tmp_path / f"{name}.ipynb")
    chapters = [(n, f"{n}.ipynb", n.capitalize()) for n in ("kort", "lang", "midden")]
    folder = tmp_path / "rapport"
    assert [c[0] for c in runner._queue_order(chapters, tmp_path, folder)] == [
        "lang", "midden", "kort"]
    folder.mkdir()  # a published report: its durations decide
    (folder / runner.REPORT_FILE).write_text("<html></html>")
    (folder / runner.MANIFEST_FILE).write_text(json.dumps(
        {"durations": {"chapters": {"kort": 9.0, "lang": 1.0, "midden": 2.0}}}))
    assert [c[0] for c in runner._queue_order(chapters, tmp_path, folder)] == [
        "kort", "midden", "lang"]


@pytest.mark.slow
def test_unchanged_report_is_skipped_and_force_rebuilds(built, store, monkeypatch):
    out_root = built.folder.parent
    before = snapshot(built.folder)
    with monkeypatch.context() as mp:
        mp.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("ran a notebook"))
        again = build(out_root, store)
    assert again.skipped and again.fingerprint == built.fingerprint
    assert again.finished_at == built.finished_at and again.html == built.html
    assert snapshot(built.folder) == before

    stale_failed = out_root / "herenthout-isom.failed"
    stale_failed.mkdir(exist_ok=True)
    forced = build(out_root, store, force=True)
    assert not forced.skipped and forced.fingerprint == built.fingerprint
    assert forced.finished_at >= built.finished_at
    assert set(forced.durations) == {"figuren", "parameters"}
    assert not stale_failed.exists() and not leftovers(out_root)
    assert "Omgevingsanalyse Herenthout" in forced.html.read_text(encoding="utf-8")


# -- failures ------------------------------------------------------------------------------


@pytest.mark.slow
def test_failing_chapter_names_chapter_and_cell_and_keeps_previous_report(built, store):
    out_root = built.folder.parent
    before = snapshot(built.folder)
    with pytest.raises(ReportError) as caught:
        build(out_root, store, chapters=FAILING)
    err = caught.value
    message = str(err)
    for needle in (
        "'Faalt'",
        "faalt.ipynb",
        "cel 4",
        "raise ValueError(",
        "ValueError: opzettelijke fout in het testhoofdstuk",
        "herenthout-isom.failed",
        "vorige rapport blijft ongewijzigd",
    ):
        assert needle in message, needle
    assert (err.chapter, err.notebook, err.cell) == ("faalt", "faalt.ipynb", 4)
    assert snapshot(built.folder) == before  # byte for byte
    kept = out_root / "herenthout-isom.failed" / "faalt.ipynb"
    nb = nbformat.read(kept, as_version=4)
    assert any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    assert not (out_root / "herenthout-isom.failed" / "figuren.ipynb").exists()
    assert not leftovers(out_root)


def test_error_output_in_executed_notebook_counts_as_failure(tmp_path):
    nb = new_notebook(
        cells=[
            new_code_cell("gemeente = 'x'", metadata={"tags": ["parameters"]}),
            new_code_cell("gemeente = 'y'", metadata={"tags": ["injected-parameters"]}),
            new_markdown_cell("tekst"),
            new_code_cell(
                "1 / 0\n# tweede regel",
                outputs=[
                    new_output(
                        "error", ename="ZeroDivisionError", evalue="division by zero", traceback=[]
                    )
                ],
            ),
        ]
    )
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    failure = runner._error_outputs("x", "x.ipynb", "X", path, nb)
    assert failure is not None and failure.cell == 3  # 1-based, without the injected cell
    assert "`1 / 0`" in failure.text and "ZeroDivisionError: division by zero" in failure.text


# -- concurrency ---------------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_runs_of_the_same_report_do_not_corrupt_it(store, tmp_path):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        barrier.wait()
        try:
            results.append(build(tmp_path, store))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors
    assert sorted(r.skipped for r in results) == [False, True]  # the second waited, then skipped
    folder = tmp_path / "herenthout-isom"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fingerprint"] == results[0].fingerprint == results[1].fingerprint
    assert "</html>" in (folder / "analyserapport.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".herenthout-isom.lock",
        "herenthout-isom",
    ]


def test_lock_timeout_is_an_lsb_error(store, tmp_path, no_kernels):
    with (
        FileLock(str(tmp_path / ".herenthout-isom.lock")),
        pytest.raises(ReportBusyError, match="Er loopt al een run voor dit rapport"),
    ):
        build(tmp_path, store, lock_timeout=0.2)
    assert issubclass(ReportBusyError, LsbError)


# -- bad parameters fail before any kernel starts ------------------------------------------


@pytest.mark.parametrize(
    ("gemeente", "referentie", "jaar", "error", "needle"),
    [
        ("Herentout", "ISOM", None, UnknownMunicipalityError, "Bedoelde u: Herenthout?"),
        ("99999", "ISOM", None, UnknownMunicipalityError, "99999"),
        ("Herenthout", "ISMO", None, ReferenceGroupError, "Onbekende referentiegroep"),
        ("Herenthout", "Herenthout", None, ReferenceGroupError, "minstens twee"),
        ("Herenthout", "ISOM", 1999, YearError, "2020–2022"),
    ],
)
def test_bad_parameters_fail_before_any_notebook_runs(
    store, tmp_path, no_kernels, gemeente, referentie, jaar, error, needle
):
    out_root = tmp_path / "reports"
    with pytest.raises(error, match=needle):
        build(out_root, store, gemeente=gemeente, referentie=referentie, jaar=jaar)
    assert not out_root.exists()


def test_missing_notebook_fails_before_any_notebook_runs(store, tmp_path, no_kernels):
    with pytest.raises(ReportError, match="ontbreken: .*bestaat_niet.ipynb"):
        build(tmp_path, store, chapters=[*CHAPTERS, ("x", "bestaat_niet.ipynb", "X")])


def test_valid_year_and_other_groups_pass_validation(store, monkeypatch):
    calls = []
    monkeypatch.setattr(lsbanalysis.Dataset, "compare", lambda self, *a, **k: calls.append(a))
    ds = lsbanalysis.load(store)
    target, group = runner.validate_parameters(ds, "13012", "buren", 2021)
    assert target.name == "Herenthout" and group.codes == ["13012", "13010", "13049"]
    _, group = runner.validate_parameters(ds, "herenthout", "Olen, Lille", None)
    assert group.id == "lijst" and runner.report_slug(target, "Olen, Lille") == (
        "herenthout-olen-lille"
    )
    assert len(calls) == 1  # ds.compare checks a given year only


def test_year_check_uses_ds_compare(store, monkeypatch):
    ds = lsbanalysis.load(store)

    def no_indicator(self, target, reference, year=None):
        raise YearError(f"geen enkele indicator heeft gegevens voor {year}")

    monkeypatch.setattr(lsbanalysis.Dataset, "compare", no_indicator)
    with pytest.raises(YearError, match="geen enkele indicator"):
        runner.validate_parameters(ds, "Herenthout", "ISOM", 2021)

    def broken(self, *args, **kwargs):
        raise TypeError("bug in the analysis core")

    monkeypatch.setattr(lsbanalysis.Dataset, "compare", broken)
    with pytest.warns(UserWarning, match="jaarcontrole met ds.compare mislukt"):
        runner.validate_parameters(ds, "Herenthout", "ISOM", 2021)


@pytest.mark.skipif(
    not (processed_dir() / "manifest.json").exists(),
    reason="the embedded processed store is not built",
)
def test_parameters_validate_against_the_embedded_store():
    target, group = runner.validate_parameters(lsbanalysis.load(), "Herenthout", "ISOM", None)
    assert target.nis == "13012" and len(group) == 7


# -- CLI -----------------------------------------------------------------------------------


def test_cli_bad_municipality_exits_1(store, tmp_path, no_kernels):
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--gemeente",
            "Herentout",
            "--referentie",
            "ISOM",
            "--uit",
            str(tmp_path),
            "--store",
            str(store),
        ],
    )
    assert result.exit_code == 1
    assert "Onbekende gemeente 'Herentout'. Bedoelde u: Herenthout?" in result.output


@pytest.mark.slow
def test_cli_reports_unchanged_report(built, store, monkeypatch, no_kernels):
    monkeypatch.setattr(
        runner,
        "build_report",
        functools.partial(build_report, notebooks_dir=NOTEBOOKS, chapters=CHAPTERS),
    )
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--gemeente",
            "herenthout",
            "--referentie",
            "isom",
            "--uit",
            str(built.folder.parent),
            "--store",
            str(store),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Ongewijzigd sinds " in result.output
    assert "niets te doen (gebruik --force)" in result.output


def test_cli_prints_where_the_report_is(tmp_path, monkeypatch):
    html = tmp_path / "herenthout-isom" / "analyserapport.html"
    seen = {}

    def fake(*args, **kwargs):
        seen.update(kwargs, args=args)
        return runner.ReportResult(
            html=html,
            folder=html.parent,
            skipped=False,
            fingerprint="x",
            finished_at="2025-01-01T00:00:00+00:00",
            total_seconds=12.0,
        )

    monkeypatch.setattr(runner, "build_report", fake)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--gemeente",
            "Herenthout",
            "--referentie",
            "ISOM",
            "--jaar",
            "2022",
            "--jobs",
            "3",
            "--force",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Analyserapport: herenthout-isom/analyserapport.html" in result.output
    assert seen["args"] == ("Herenthout", "ISOM", 2022)
    assert seen["force"] is True and seen["jobs"] == 3


# -- the PDF: published with the HTML, or not at all ---------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_pdf_is_published_with_the_html_and_never_left_stale(store, tmp_path, chromium):
    first = build(tmp_path, store, pdf=True)
    assert first.pdf == first.folder / "analyserapport.pdf" and first.pdf_note is None
    assert first.pdf.read_bytes().startswith(b"%PDF")
    pages = first.manifest["pdf"]["pages"]
    assert pages >= 4 and first.manifest["durations"]["pdf"] > 0  # cover, contents, 2 chapters
    again = build(tmp_path, store, pdf=True)  # unchanged, PDF present: nothing to do
    assert again.skipped and again.pdf == first.pdf
    without = build(tmp_path, store, force=True)  # a new HTML without a PDF: the old one goes
    assert not without.skipped and without.pdf is None
    assert not (without.folder / "analyserapport.pdf").exists()
    assert without.manifest["pdf"] is None
    back = build(tmp_path, store, pdf=True)  # same fingerprint, but the PDF is missing: made
    assert not back.skipped and back.pdf.is_file()
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_without_a_browser_the_html_is_published_and_the_note_says_how(
    store, tmp_path, monkeypatch
):
    monkeypatch.setenv("LSB_CHROMIUM", str(tmp_path / "geen-chromium"))
    lines: list[str] = []
    result = build(tmp_path, store, pdf=True, progress=lines.append)
    assert result.html.is_file() and result.pdf is None
    assert not (result.folder / "analyserapport.pdf").exists()
    assert "geen Chromium gevonden" in result.pdf_note
    assert "scripts/system_deps.sh" in result.pdf_note and "--pdf" in result.pdf_note
    assert result.pdf_note in lines


@pytest.mark.slow
def test_a_failing_browser_publishes_nothing(store, tmp_path, monkeypatch, chromium):
    published = build(tmp_path, store, pdf=True)
    before = snapshot(published.folder)
    broken = tmp_path / "kapotte-chromium"
    broken.write_text("#!/bin/sh\necho 'kapot' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv("LSB_CHROMIUM", str(broken))
    with pytest.raises(ReportError, match="de PDF kon niet gemaakt worden") as err:
        build(tmp_path, store, pdf=True, force=True)
    assert "Het vorige rapport blijft ongewijzigd" in str(err.value)
    assert snapshot(published.folder) == before  # the old HTML and PDF, still a pair
    assert leftovers(tmp_path) == []


def test_cli_report_pdf_option(tmp_path, monkeypatch):
    seen = {}

    def fake_build(*args, **kwargs):
        seen.update(kwargs)
        folder = tmp_path / "herenthout-isom"
        return runner.ReportResult(html=folder / "analyserapport.html", folder=folder,
                                   skipped=False, fingerprint="f", finished_at=None,
                                   pdf=None, pdf_note="Geen PDF: geen Chromium gevonden.")

    monkeypatch.setattr(runner, "build_report", fake_build)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["report", "--gemeente", "Herenthout", "--referentie", "ISOM", "--pdf"]
    )
    assert result.exit_code == 0, result.output
    assert seen["pdf"] is True
    assert "Analyserapport: herenthout-isom/analyserapport.html" in result.output
    assert "Geen PDF: geen Chromium gevonden." in result.output


# -- assembly, outputs, fingerprint (no kernels) -------------------------------------------


SVG = (
    '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg viewBox="0 0 10 10">'
    '<defs><clipPath id="c1"><rect width="5" height="5"/></clipPath></defs>'
    '<rect id="r" clip-path="url(#c1)" width="10" height="10"/><use xlink:href="#r"/></svg>'
)


def test_assemble_shows_outputs_never_code():
    def display(data, kind="display_data"):
        extra = {"execution_count": 1} if kind == "execute_result" else {}
        return new_output(kind, data=data, **extra)

    nb = new_notebook(
        cells=[
            new_code_cell(
                "gemeente = 'X'",
                metadata={"tags": ["parameters"]},
                outputs=[new_output("stream", name="stdout", text="HIDDEN")],
            ),
            new_markdown_cell("# Eigen titel\n\nUitleg & <em>meer</em>.\n\n## Sub één"),
            new_code_cell(
                "SECRET_SOURCE = 1",
                outputs=[
                    new_output("stream", name="stdout", text="a <x>\n"),
                    new_output("stream", name="stdout", text="b\n"),
                    new_output("stream", name="stderr", text="WARNING-TEXT"),
                    display({"text/plain": "<Axes: title={'center': 'x'}>"}, "execute_result"),
                    display(
                        {"text/plain": "[<matplotlib.lines.Line2D at 0x7f00>]"}, "execute_result"
                    ),
                    display(
                        {
                            "text/html": "<table><tr><td>1</td></tr></table>"
                            "<script>alert(1)</script>",
                            "text/plain": "DATAFRAME-REPR",
                        }
                    ),
                    display({"image/png": PNG_1PX, "text/plain": "<Figure size 1x1>"}),
                    display({"image/svg+xml": SVG}),
                    display({"image/svg+xml": SVG}),
                    display({"text/plain": "42"}, "execute_result"),
                    display({"text/markdown": "## Uit code"}),
                ],
            ),
            new_code_cell(
                "x",
                metadata={"tags": ["remove-output"]},
                outputs=[display({"text/plain": "REMOVED"})],
            ),
        ]
    )
    ctx = ReportContext(
        gemeente="Herenthout",
        nis="13012",
        group_label="ISOM-gemeenten",
        group_id="ISOM",
        members=(("13012", "Herenthout"), ("13029", "Olen")),
    )
    html = assemble_html([("ch", "Hoofdstuk", nb)], ctx)
    for absent in (
        "SECRET_SOURCE",
        "HIDDEN",
        "WARNING-TEXT",
        "Axes",
        "Line2D",
        "DATAFRAME-REPR",
        "<Figure",
        "<script",
        "Eigen titel",
        "REMOVED",
        "<?xml",
        "<!DOCTYPE svg",
    ):
        assert absent not in html, absent
    assert '<pre class="output stream">a &lt;x&gt;\nb</pre>' in html  # merged, escaped
    assert "Uitleg &amp; <em>meer</em>." in html
    assert '<pre class="output text">42</pre>' in html
    assert f'src="data:image/png;base64,{PNG_1PX}"' in html
    base64.b64decode(PNG_1PX)
    # two inline SVGs with the same ids get distinct prefixes, references follow
    assert 'id="f1-c1"' in html and 'id="f2-c1"' in html and "url(#f2-c1)" in html
    assert 'xlink:href="#f1-r"' in html
    assert '<h3 id="ch-sub-een">Sub één</h3>' in html
    assert '<h3 id="ch-uit-code">Uit code</h3>' in html
    toc = html.split("</nav>", 1)[0]
    assert 'href="#ch"' in toc and 'href="#ch-sub-een"' in toc and 'href="#ch-uit-code"' in toc
    assert "vergelijking met de ISOM-gemeenten" in html and "Olen (13029)" in html


def test_save_figure_and_save_table(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([1, 2], [3, 4])
    png, svg = save_figure(fig, "lijn.png", tmp_path)
    assert png == tmp_path / "figures" / "lijn.png" and svg == tmp_path / "figures" / "lijn.svg"
    assert png.read_bytes().startswith(b"\x89PNG") and "<dc:date>" not in svg.read_text()
    first = svg.read_bytes()
    save_figure(fig, "lijn", tmp_path)
    assert svg.read_bytes() == first  # no timestamps: an unchanged figure gives the same file
    csv = save_table(pd.DataFrame({"a": [1.5], "b": ["é"]}), "t", tmp_path)
    assert csv == tmp_path / "tables" / "t.csv"
    assert csv.read_text(encoding="utf-8-sig") == "a;b\n1,5;é\n"
    with pytest.raises(ValueError, match="invalid output name"):
        save_table(pd.DataFrame(), "../weg", tmp_path)


def test_render_figure_lays_out_once_and_keeps_the_figure_usable(tmp_path):
    import re as regex

    from matplotlib.figure import Figure

    from lsbanalysis.report.outputs import render_figure

    def figure():
        fig = Figure(figsize=(6, 3), layout="constrained")
        ax = fig.subplots()
        image = ax.imshow([[1, 2], [3, 4]])
        fig.colorbar(image, ax=ax, label="een lange eenheid")  # needs the engine's room
        fig.suptitle("Titel")
        return fig

    fig = figure()
    engine = fig.get_layout_engine()
    rendered = render_figure(fig, "kaart", tmp_path, display_dpi=100)
    assert fig.get_layout_engine() is engine  # restored for whoever uses the figure next
    png = (tmp_path / "figures" / "kaart.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    svg = (tmp_path / "figures" / "kaart.svg").read_text()
    assert svg == rendered.svg
    pt_w, pt_h = (float(v) for v in regex.search(r'width="([\d.]+)pt" height="([\d.]+)pt"',
                                                  svg).groups())
    # the same tight box for both files and for the size in the report
    assert abs(width - pt_w / 72 * 150) <= 1 and abs(height - pt_h / 72 * 150) <= 1
    assert abs(rendered.display_size[0] - width / 1.5) <= 1
    assert rendered.display_size[0] < 600  # cropped to the drawing, not the 6-inch canvas
    fig.savefig(tmp_path / "daarna.png")  # still a normal figure
    again = render_figure(figure(), "kaart", tmp_path, display_dpi=100)
    assert again.svg == rendered.svg  # the same figure gives identical files
    assert (tmp_path / "figures" / "kaart.png").read_bytes() == png

    # The PNG is cut from the drawing that made the layout: the size and resolution of
    # matplotlib's own tight PNG; a text past the canvas edge (which that drawing clips) is
    # in the PNG all the same.
    from io import BytesIO

    from PIL import Image

    def sizes(fig) -> tuple[Image.Image, Image.Image]:
        render_figure(fig, "vergelijk", tmp_path)
        own = BytesIO()
        fig.savefig(own, format="png", dpi=150, bbox_inches="tight")
        return Image.open(tmp_path / "figures" / "vergelijk.png").convert("RGB"), Image.open(own)

    ours, theirs = sizes(figure())
    assert abs(ours.size[0] - theirs.size[0]) <= 1 and abs(ours.size[1] - theirs.size[1]) <= 1
    assert round(Image.open(tmp_path / "figures" / "vergelijk.png").info["dpi"][0]) == 150
    assert ours.getpixel((0, 0)) == (255, 255, 255)  # the padding: background
    wide = figure()
    wide.text(1.02, 0.5, "buiten het doek", color="red")
    ours, theirs = sizes(wide)
    assert abs(ours.size[0] - theirs.size[0]) <= 1 and abs(ours.size[1] - theirs.size[1]) <= 1
    red = [x for x in range(ours.size[0]) for y in range(0, ours.size[1], 2)
           if ours.getpixel((x, y))[0] > 200 and ours.getpixel((x, y))[1] < 90]
    assert len(red) > 50 and max(red) > ours.size[0] - 0.3 * 150  # up to the right edge


def test_code_digest_follows_cells_and_package_not_outputs(tmp_path):
    notebooks, package = tmp_path / "nb", tmp_path / "pkg"
    shutil.copytree(NOTEBOOKS, notebooks)
    package.mkdir()
    (package / "a.py").write_text("A = 1\n")
    digest = functools.partial(runner.code_digest, notebooks, CHAPTERS, package_dir=package)
    first = digest()
    path = notebooks / "figuren.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].outputs = [new_output("stream", name="stdout", text="uitvoer")]
    nb.cells[2].execution_count = 7
    nbformat.write(nb, path)
    assert digest() == first  # outputs are not code
    nb.cells[2].source += "\nEXTRA = 1"
    nbformat.write(nb, path)
    second = digest()
    assert second != first
    (package / "a.py").write_text("A = 2\n")
    assert digest() != second


def test_slug():
    assert slug("Herenthout") == "herenthout" and slug("ISOM") == "isom"
    assert slug("Écaussinnes") == "ecaussinnes"
    assert slug("Sint-Genesius-Rode, Rhode-St-Genèse") == "sint-genesius-rode-rhode-st-genese"
