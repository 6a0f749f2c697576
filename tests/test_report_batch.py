"""``lsb report --alle``: many reports in worker processes, isolated failures, reruns, the overview.

The batch tests use the tiny synthetic store of ``test_report_runner`` (eight municipalities of
the arrondissement Turnhout, one income measure), given square boundaries here, and one fixture
chapter (tests/fixtures/notebooks/per_gemeente.ipynb) that fails for the municipalities named in
``LSB_TEST_FAIL`` and kills the worker that runs it for those in ``LSB_TEST_KILL``. Selection
and validation use the embedded store (the real 2025 map). The acceptance test runs the real
chapters for a small arrondissement.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from html.parser import HTMLParser
from pathlib import Path

import geopandas
import pandas as pd
import papermill
import pytest
from click.testing import CliRunner
from shapely.geometry import box

import lsbanalysis
from lsbanalysis import fmt
from lsbanalysis.cli import main
from lsbanalysis.report import batch, build_report, runner
from lsbanalysis.report.assemble import slug
from lsbanalysis.report.batch import (
    BUILT,
    FAILED,
    SKIPPED,
    Outcome,
    Progress,
    SelectionError,
    select_municipalities,
)
from lsbanalysis.report.index import index_filename
from lsbanalysis.store import io
from tests.processes import ctrl_c_enabled
from tests.test_report_runner import NOTEBOOKS, make_store

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = [("inhoud", "per_gemeente.ipynb", "Inhoud")]
CHOSEN = "Herenthout,Olen,Lille,13044"  # Vorselaar by its NIS code
STAMP = re.compile(r"\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|"
                   r"oktober|november|december) \d{4}(, \d{2}:\d{2})?")


def with_boundaries(store: Path) -> Path:
    """Give the tiny store square municipalities (1 km, EPSG:31370), as the build writes them."""
    geo = io.read_table(store / io.GEOGRAPHY_FILE)
    munis = geo[geo["level"] == "municipality"].reset_index(drop=True)
    shapes = geopandas.GeoDataFrame(
        {"nis": munis["nis"], "level": "municipality", "geo_version": "2025",
         "name_nl": munis["name_nl"]},
        geometry=[box(150000 + 1000 * (i % 4), 200000 + 1000 * (i // 4),
                      151000 + 1000 * (i % 4), 201000 + 1000 * (i // 4))
                  for i in range(len(munis))],
        crs="EPSG:31370",
    )
    shapes.to_parquet(store / io.BOUNDARIES_FILE, compression="zstd", index=False)
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return with_boundaries(make_store(tmp_path_factory.mktemp("store")))


@pytest.fixture(scope="module")
def ds():
    return lsbanalysis.load()


def batch_cli(out_root: Path, store: Path, *more: str, env: dict | None = None):
    """`lsb report --alle` in this process (its workers are new processes) with the fixture
    chapter; returns click's result."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batch, "CHAPTERS", CHAPTERS)
        mp.setattr(batch, "NOTEBOOKS_DIR", NOTEBOOKS)
        for key in ("LSB_TEST_FAIL", "LSB_TEST_KILL"):
            mp.delenv(key, raising=False)
        for key, value in (env or {}).items():
            mp.setenv(key, value)
        return CliRunner().invoke(main, [
            "report", "--alle", "--gemeenten", CHOSEN, "--referentie", "ISOM",
            "--uit", str(out_root), "--store", str(store), "--jobs", "2", *more])


@pytest.fixture(scope="module")
def first_run(store, tmp_path_factory):
    """The batch of four municipalities: Olen's chapter fails, Lille's kills its worker."""
    out_root = tmp_path_factory.mktemp("batch") / "reports"
    result = batch_cli(out_root, store, env={"LSB_TEST_FAIL": "Olen", "LSB_TEST_KILL": "Lille"})
    return result, out_root


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# -- which municipalities ------------------------------------------------------------------


def test_selection_of_all_flemish_municipalities_and_by_filter(ds):
    every = select_municipalities(ds).municipalities
    assert len(every) == 285  # the Flemish Region on the 2025 map
    assert all(m.region == "02000" and m.geo_version == "2025" for m in every)
    names = [m.name for m in every]
    assert len(set(names)) == len(names)
    turnhout = select_municipalities(ds, arrondissement="Turnhout")
    assert len(turnhout.municipalities) == 27 and turnhout.label == "het arrondissement Turnhout"
    assert {m.arrondissement for m in turnhout.municipalities} == {"13000"}
    # the same arrondissement by NIS code, French name or with its prefix
    for query in ("13000", "arrondissement turnhout", "Arrondissement de Turnhout"):
        assert select_municipalities(ds, arrondissement=query).municipalities == \
            turnhout.municipalities
    province = select_municipalities(ds, provincie="Antwerpen").municipalities
    assert {m.arrondissement for m in province} == {"11000", "12000", "13000"}
    assert len(province) == sum(len(select_municipalities(ds, arrondissement=a).municipalities)
                                for a in ("Antwerpen", "Mechelen", "Turnhout"))
    # filters together: what all of them allow
    both = select_municipalities(ds, provincie="Antwerpen", gemeenten="Olen, 24062, Herenthout")
    assert [m.name for m in both.municipalities] == ["Herenthout", "Olen"]


@pytest.mark.parametrize(("kwargs", "needles"), [
    ({"arrondissement": "Turnhot"}, ["Onbekende arrondissement 'Turnhot'",
                                     "Bedoelde u: Turnhout?", "Veurne"]),
    ({"provincie": "Antwrpen"}, ["Onbekende provincie 'Antwrpen'", "Bedoelde u: Antwerpen?",
                                 "Antwerpen, Limburg, Oost-Vlaanderen, Vlaams-Brabant, "
                                 "West-Vlaanderen"]),
    ({"provincie": "Henegouwen"}, ["Provincie Henegouwen (50000) ligt in het Waals Gewest, "
                                   "niet in Vlaanderen"]),
    ({"arrondissement": "Brussel-Hoofdstad"}, ["Brussels Hoofdstedelijk Gewest",
                                               "kies een Vlaams"]),
    ({"provincie": "Limburg", "arrondissement": "Turnhout"}, ["Geen enkele gemeente voldoet"]),
])
def test_bad_filter_is_one_sentence_with_suggestions(ds, kwargs, needles):
    with pytest.raises(SelectionError) as caught:
        select_municipalities(ds, **kwargs)
    message = str(caught.value)
    for needle in needles:
        assert needle in message, message
    assert "\n" not in message


@pytest.mark.parametrize(("gemeenten", "needle"), [
    ("Olen,Herenthoud", "Bedoelde u: Herenthout?"),
    ("Olen,Borsbeek", "Borsbeek (11007) is sinds 1 januari 2025 een deel van Antwerpen"),
    ("Olen,Luik", "niet in Vlaanderen"),
    (" , ", "--gemeenten is leeg"),
])
def test_bad_list_is_refused_before_anything_runs(ds, gemeenten, needle, tmp_path):
    result = CliRunner().invoke(main, ["report", "--alle", "--gemeenten", gemeenten,
                                       "--referentie", "arrondissement", "--uit",
                                       str(tmp_path / "r")])
    assert result.exit_code == 1, result.output
    assert needle in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_cli_refuses_mixed_or_orphan_options(tmp_path):
    mixed = CliRunner().invoke(main, ["report", "--alle", "--gemeente", "Olen",
                                      "--referentie", "ISOM"])
    assert mixed.exit_code == 2 and "niet allebei" in mixed.stderr
    orphan = CliRunner().invoke(main, ["report", "--arrondissement", "Turnhout",
                                       "--referentie", "ISOM"])
    assert orphan.exit_code == 2 and "--arrondissement hoort bij --alle" in orphan.stderr
    neither = CliRunner().invoke(main, ["report", "--referentie", "ISOM"])
    assert neither.exit_code == 2 and "--gemeente" in neither.stderr


@pytest.mark.parametrize(("args", "needle"), [
    (["--referentie", "ISOMM"], "Onbekende referentiegroep 'ISOMM'"),
    (["--referentie", "arrondissement", "--jaar", "1990"], "1990"),
])
def test_bad_group_or_year_is_refused_before_any_worker(store, tmp_path, monkeypatch, args,
                                                         needle):
    monkeypatch.setattr(batch, "_Pool", lambda *a, **k: pytest.fail("workers were started"))
    result = CliRunner().invoke(main, ["report", "--alle", *args, "--store", str(store),
                                       "--uit", str(tmp_path / "r")])
    assert result.exit_code == 1, result.output
    assert needle in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


# -- progress ------------------------------------------------------------------------------


def test_progress_lines_count_failures_and_estimate_the_time_left(monkeypatch):
    clock = iter([100.0, 160.0, 220.0, 230.0])
    monkeypatch.setattr(batch.time, "monotonic", lambda: next(clock))
    lines: list[str] = []
    meter = Progress(3, lines.append)
    meter.update(Outcome("1", "Aa", "aa-x", BUILT, seconds=55))
    meter.update(Outcome("2", "Bb", "bb-x", FAILED, reason="stuk"))
    meter.update(Outcome("3", "Cc", "cc-x", SKIPPED))
    assert lines == [
        "[1/3] Aa: gemaakt (55 s) · 0 mislukt · nog ongeveer 2 min 00 s",  # 60 s a report
        "[2/3] Bb: MISLUKT · 1 mislukt · nog ongeveer 2 min 00 s",  # one built in 120 s
        "[3/3] Cc: ongewijzigd · 1 mislukt · klaar",
    ]


def test_index_name_follows_the_report_slug():
    assert index_filename("arrondissement") == "index-arrondissement.html"
    assert index_filename("Buren", 2022) == "index-buren-2022.html"
    assert index_filename(["Geel", "Mol"]) == "index-geel-mol.html"


def test_overview_of_an_empty_folder_and_a_store_without_boundaries(tmp_path):
    from lsbanalysis.report.index import write_index

    ds = lsbanalysis.load(make_store(tmp_path / "store"))  # no boundaries.parquet
    path = write_index(tmp_path, ds, "ISOM")
    assert path == tmp_path / "index-isom.html"
    text, page = read_page(path)
    assert "0 rapporten" in text and [r for r in page.rows if len(r) > 3] == []
    assert "<p>Geen kaarten: " in text and "boundaries.parquet" in text
    assert not list(tmp_path.glob(".index-*"))  # written atomically, no leftovers


# -- a batch with failures -----------------------------------------------------------------


@pytest.mark.slow
def test_one_failure_does_not_stop_the_others_and_exits_1(first_run):
    result, out_root = first_run
    assert result.exit_code == 1, result.output
    # the others are published, as a single run would publish them
    for name in ("herenthout", "vorselaar"):
        assert (out_root / f"{name}-isom" / "analyserapport.html").is_file()
        assert (out_root / f"{name}-isom" / "kerncijfers.csv").is_file()
    # Olen: the chapter failed; kept in .failed/ as for a single run
    assert not (out_root / "olen-isom").exists()
    fout = (out_root / "olen-isom.failed" / "fout.txt").read_text(encoding="utf-8")
    assert "opzettelijke fout voor Olen" in fout
    assert (out_root / "olen-isom.failed" / "inhoud.ipynb").is_file()
    # Lille: its worker was killed; a new worker made the remaining reports
    assert not (out_root / "lille-isom").exists()
    # the summary on stdout, the failures with their one-line reason
    out = result.stdout
    assert "4 rapporten voor 4 gekozen gemeenten (referentie ISOM) in " in out
    assert "2 gemaakt, 0 ongewijzigd, 2 mislukt." in out
    olen = next(line for line in out.splitlines() if line.startswith("  Olen (13029): "))
    assert "ValueError: opzettelijke fout voor Olen" in olen and "olen-isom.failed" in olen
    lille = next(line for line in out.splitlines() if line.startswith("  Lille (13019): "))
    assert "stopte onverwacht (signaal SIGKILL" in lille
    assert f"Overzichtspagina: {out_root / 'index-isom.html'}" in out
    # one closing sentence on stderr, no traceback
    assert "Fout: 2 van de 4 rapporten mislukt (Lille, Olen); de andere zijn gepubliceerd" in \
        result.stderr
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_progress_has_one_line_per_municipality(first_run):
    result, _ = first_run
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("[")]
    assert len(lines) == 4
    pattern = re.compile(r"\[([1-4])/4\] (Herenthout|Olen|Lille|Vorselaar): "
                         r"(gemaakt \(\d+ s\)|MISLUKT) · ([0-2]) mislukt · (nog .+|klaar)")
    matches = [pattern.fullmatch(ln) for ln in lines]
    assert all(matches), lines
    assert [int(m.group(1)) for m in matches] == [1, 2, 3, 4]
    failed_so_far = [int(m.group(4)) for m in matches]
    assert failed_so_far == sorted(failed_so_far) and failed_so_far[-1] == 2
    assert sorted(m.group(2) for m in matches) == ["Herenthout", "Lille", "Olen", "Vorselaar"]
    assert lines[-1].endswith("klaar")
    assert "4 rapporten voor 4 gekozen gemeenten" in result.stderr.splitlines()[0]


class _Page(HTMLParser):
    """What the overview page holds: rows of the table, links, images, header cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self.images: list[dict] = []
        self.headers: list[dict] = []
        self.captions = 0
        self.external: list[str] = []
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in ("td", "th") and self._in_body:
            self._cell = []
        elif tag == "th":
            self.headers.append(a)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img":
            self.images.append(a)
        if tag == "caption":
            self.captions += 1
        for key in ("src", "href"):
            if str(a.get(key, "")).startswith(("http:", "https:", "//")) and tag != "a":
                self.external.append(a[key])
        if tag in ("link", "iframe"):
            self.external.append(tag)

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_page(path: Path) -> tuple[str, _Page]:
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    return text, page


@pytest.mark.slow
def test_overview_page_has_every_municipality_links_and_maps(first_run):
    _, out_root = first_run
    text, page = read_page(out_root / "index-isom.html")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="nl-BE">' in text
    assert not page.external and "<script src" not in text
    # the table: the published reports and the failures, alphabetically
    table = [r for r in page.rows if len(r) > 3]
    assert [r[0] for r in table] == ["Herenthout", "Lille", "Olen", "Vorselaar"]
    assert page.captions >= 1 and any(h.get("scope") == "col" for h in page.headers)
    # relative links that land on the reports
    reports = [href for href in page.links if href.endswith("analyserapport.html")]
    assert sorted(reports) == ["herenthout-isom/analyserapport.html",
                               "vorselaar-isom/analyserapport.html"]
    assert all((out_root / href).is_file() for href in reports)
    # the values are those of each report's kerncijfers.csv
    figures = pd.read_csv(out_root / "herenthout-isom" / "kerncijfers.csv", dtype=str)
    own = figures[(figures["role"] == "target")
                  & (figures["indicator"] == "inkomen_mediaan_aangifte")].iloc[0]
    shown = fmt.value(float(own["value"]), own["unit"]).replace(" ", "\u00a0")
    herenthout = next(r for r in table if r[0] == "Herenthout")
    assert shown in herenthout
    # the failures, with their reason, in the table and in a list
    olen = next(r for r in table if r[0] == "Olen")
    assert "mislukt" in olen[-1]
    failures = text.split('<section id="mislukt">', 1)[1].split("</section>", 1)[0]
    assert "Olen</strong> (13029)" in failures and "opzettelijke fout voor Olen" in failures
    assert "Lille</strong> (13019)" in failures
    # a map per key indicator, each with a text alternative holding a number
    assert page.images and all(img["src"].startswith("data:image/png;base64,")
                               for img in page.images)
    for img in page.images:
        assert img["alt"].startswith("Kaart: ") and re.search(r"\d", img["alt"]), img["alt"]
    assert "Herenthout" in html.unescape(page.images[0]["alt"])
    # the data editions and the date
    assert "aanslagjaar 2023" in text and STAMP.search(text)


@pytest.mark.slow
def test_batch_report_is_the_report_a_single_run_makes(first_run, store, tmp_path,
                                                        monkeypatch):
    _, out_root = first_run
    single = build_report("Herenthout", "ISOM", out_root=tmp_path, notebooks_dir=NOTEBOOKS,
                          chapters=CHAPTERS, store_dir=store)
    batch_folder = out_root / "herenthout-isom"

    def without_stamps(path: Path) -> str:
        return STAMP.sub("DATUM", path.read_text(encoding="utf-8"))

    assert single.folder.name == batch_folder.name
    assert without_stamps(single.html) == without_stamps(batch_folder / "analyserapport.html")
    manifest = json.loads((batch_folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fingerprint"] == single.fingerprint
    assert manifest["parameters"] == single.manifest["parameters"]
    assert sorted(p.relative_to(batch_folder).as_posix() for p in batch_folder.rglob("*")) == \
        sorted(p.relative_to(single.folder).as_posix() for p in single.folder.rglob("*"))
    # and a single run afterwards finds the batch's report unchanged
    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda *a, **k: pytest.fail("a notebook was executed"))
    again = build_report("Herenthout", "ISOM", out_root=out_root, notebooks_dir=NOTEBOOKS,
                         chapters=CHAPTERS, store_dir=store)
    assert again.skipped


@pytest.mark.slow
def test_rerun_skips_the_unchanged_and_redoes_the_failed(first_run, store, tmp_path):
    _, first_root = first_run
    out_root = tmp_path / "reports"
    shutil.copytree(first_root, out_root)
    before = snapshot(out_root / "herenthout-isom")
    result = batch_cli(out_root, store)  # nothing fails any more
    assert result.exit_code == 0, result.output
    assert "2 gemaakt, 2 ongewijzigd, 0 mislukt." in result.stdout
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("[")]
    assert sorted(ln.split("] ", 1)[1].split(" ·")[0] for ln in lines if "ongewijzigd" in ln) \
        == ["Herenthout: ongewijzigd", "Vorselaar: ongewijzigd"]
    assert snapshot(out_root / "herenthout-isom") == before  # not rebuilt
    for name in ("olen", "lille"):
        assert (out_root / f"{name}-isom" / "analyserapport.html").is_file()
        assert not (out_root / f"{name}-isom.failed").exists()
    assert not [p for p in out_root.iterdir() if "-building-" in p.name]
    text, page = read_page(out_root / "index-isom.html")
    assert '<section id="mislukt">' not in text
    assert len([h for h in page.links if h.endswith("analyserapport.html")]) == 4


# -- Ctrl-C and SIGTERM --------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("how", "code"), [("terminal", 130), ("sigterm", 143)])
def test_interrupt_stops_every_worker_and_kernel(store, tmp_path, how, code):
    """Ctrl-C in a terminal (SIGINT to the whole process group) or `kill PID` (SIGTERM to the
    batch only): the workers, their kernels and what those started end within seconds."""
    pids = tmp_path / "pids"
    pids.mkdir()
    script = textwrap.dedent(f"""
        from pathlib import Path
        from lsbanalysis.cli import main
        from lsbanalysis.report import batch
        batch.CHAPTERS = [("traag", "traag.ipynb", "Traag")]
        batch.NOTEBOOKS_DIR = Path({str(NOTEBOOKS)!r})
        main()
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "report", "--alle", "--gemeenten", "Olen,Lille,Westerlo",
         "--referentie", "ISOM", "--uit", str(tmp_path / "reports"), "--store", str(store),
         "--jobs", "2"],
        env={**os.environ, "LSB_TEST_PIDS": str(pids)}, cwd=REPO, start_new_session=True,
        preexec_fn=ctrl_c_enabled,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    started: list[int] = []
    try:
        if not _wait_for(lambda: len(list(pids.glob("*.pids"))) == 2, 120):
            pytest.fail("two kernels did not start within 120 s")
        workers = _children(proc.pid)
        started = [int(p) for f in pids.glob("*.pids") for p in f.read_text().split()]
        assert len(workers) >= 2 and all(_alive(p) for p in started)
        sent = time.monotonic()
        if how == "terminal":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
        assert proc.returncode == code, err
        assert took < 15, f"took {took:.1f} s to stop"
        assert "Onderbroken" in err and "Traceback" not in err
        assert _wait_for(lambda: not any(_alive(p) for p in started + workers), 5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in started:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=10)
    out_root = tmp_path / "reports"
    assert not [p.name for p in out_root.iterdir() if "-building-" in p.name]
    assert not [p for p in out_root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert not list(out_root.glob("index-*.html"))


# -- kernels kept from one report to the next ------------------------------------------------

KEPT_CHAPTERS = [("kernel", "welke_kernel.ipynb", "Kernel"),
                 ("inhoud", "per_gemeente.ipynb", "Inhoud")]
PID = re.compile(r"kernel=(\d+)")


def kernel_pid(folder: Path) -> int:
    """The process that ran the chapter welke_kernel (it prints its PID)."""
    return int(PID.search((folder / "notebooks" / "kernel.ipynb").read_text()).group(1))


def test_kept_kernels_serve_the_next_report_as_new_ones_would(store, tmp_path, monkeypatch):
    """A batch worker's KernelPool: the next report runs on the same kernel, which starts each
    chapter like new (welke_kernel fails on a name left by an earlier chapter), so the report is
    the one a fresh kernel makes; a kernel that ran a failing chapter is not kept; close() ends
    the kept ones."""
    monkeypatch.setenv("LSB_TEST_FAIL", "Olen")  # set before any kernel starts: they inherit it
    monkeypatch.delenv("LSB_TEST_KILL", raising=False)

    def build(gemeente: str, out: str, kernels=None):
        return build_report(gemeente, "ISOM", out_root=tmp_path / out, notebooks_dir=NOTEBOOKS,
                            chapters=KEPT_CHAPTERS, store_dir=store, jobs=1, kernels=kernels)

    kept = runner.KernelPool()
    started: list[int] = []
    try:
        first = build("Herenthout", "batch", kept)
        second = build("Vorselaar", "batch", kept)
        started.append(kernel_pid(first.folder))
        assert kernel_pid(second.folder) == started[0] and _alive(started[0])
        single = build("Vorselaar", "single")
        assert kernel_pid(single.folder) != started[0]

        def html(result) -> str:
            return PID.sub("kernel=PID", STAMP.sub("DATUM", result.html.read_text()))

        assert html(second) == html(single)
        with pytest.raises(runner.ReportError, match="opzettelijke fout voor Olen"):
            build("Olen", "batch", kept)
        assert _wait_for(lambda: not _alive(started[0]), 10)  # not kept after the failure
        third = build("Lille", "batch", kept)
        started.append(kernel_pid(third.folder))
        assert started[1] != started[0] and _alive(started[1])
    finally:
        kept.close()
    assert _wait_for(lambda: not any(_alive(pid) for pid in started), 10)


# -- the acceptance test: real chapters, embedded store -------------------------------------


@pytest.mark.slow
def test_batch_of_an_arrondissement_with_the_real_chapters(tmp_path, ds):
    """`lsb report --alle --arrondissement Veurne` (5 municipalities; the 27 of Turnhout are
    run by hand, see the README) gives a report per municipality and the overview page."""
    expected = select_municipalities(ds, arrondissement="Veurne").municipalities
    out_root = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "lsbanalysis.cli", "report", "--alle", "--arrondissement",
         "Veurne", "--referentie", "arrondissement", "--uit", str(out_root)],
        cwd=REPO, capture_output=True, text=True, timeout=3600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    n = len(expected)
    assert f"{n} gemaakt, 0 ongewijzigd, 0 mislukt." in done.stdout
    folders = sorted(p.name for p in out_root.iterdir() if p.is_dir())
    assert folders == sorted(f"{slug(m.name)}-arrondissement" for m in expected)
    for folder in folders:
        assert (out_root / folder / "analyserapport.html").stat().st_size > 100_000
    text, page = read_page(out_root / "index-arrondissement.html")
    table = [r for r in page.rows if len(r) > 3]
    assert sorted(r[0] for r in table) == sorted(m.name for m in expected)
    assert len(page.images) >= 8 and all(re.search(r"\d", i["alt"]) for i in page.images)
    assert not page.external
    # The last one ran on chapter kernels kept from a report before it (two workers, five
    # reports): the same report as a single run with new kernels makes.
    last = expected[-1]
    batch_folder = out_root / f"{slug(last.name)}-arrondissement"
    single = build_report(last.nis, "arrondissement", out_root=tmp_path / "single", dataset=ds)

    def made(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted((folder / "chapters").rglob("*")) if p.is_file()}

    assert STAMP.sub("DATUM", (batch_folder / "analyserapport.html").read_text()) == \
        STAMP.sub("DATUM", single.html.read_text())
    assert made(batch_folder) == made(single.folder)


@pytest.mark.slow
@pytest.mark.browser
def test_overview_page_sorts_in_a_browser_offline_and_passes_axe(first_run, chromium):
    from axe_playwright_python.sync_playwright import Axe

    from lsbanalysis.report.pdf import offline, open_browser

    _, out_root = first_run
    with open_browser(chromium) as browser:
        tab = browser.new_page()
        refused = offline(tab)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto((out_root / "index-isom.html").resolve().as_uri(), wait_until="load")
        assert refused == [] and errors == []
        names = "els => els.map(e => e.textContent.trim())"
        before = tab.eval_on_selector_all("#kerncijfers tbody th", names)
        assert before == ["Herenthout", "Lille", "Olen", "Vorselaar"]
        # sort on the income column, descending: the published values first, high to low
        header = tab.locator("#kerncijfers thead th.num").first
        header.locator("button").click()
        header.locator("button").click()
        assert header.get_attribute("aria-sort") == "descending"
        keys = tab.eval_on_selector_all(
            "#kerncijfers tbody tr td.num:nth-of-type(2)",
            "els => els.map(e => e.getAttribute('data-sort'))")
        numbers = [float(k) for k in keys if k]
        assert numbers == sorted(numbers, reverse=True) and len(numbers) == 2
        assert keys[len(numbers):] == [""] * (len(keys) - len(numbers))  # no value: last
        results = Axe().run(tab, options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            "resultTypes": ["violations"],
        })
        assert results.violations_count == 0, results.generate_snapshot()
