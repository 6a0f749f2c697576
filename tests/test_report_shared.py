"""The comparison computed once per report and read by the chapters (report/shared.py), the
pickled comparison it rests on, the chapter's use of it, and the text-metric sharing of the
figure files; on a miniature store with invented numbers (no kernels)."""

from __future__ import annotations

import io
import pickle
import threading
import time

import matplotlib
import pandas as pd
import pytest
from matplotlib.figure import Figure

import lsbanalysis
from lsbanalysis.analysis.compare import Comparison, DatasetEngine
from lsbanalysis.report import chapter, shared
from lsbanalysis.report.outputs import shared_text_metrics
from tests.test_synthesis import NIS, _geo
from tests.tiny_store import obs, write_store

INC, VDAB = "statbel_income_bands_2022", "vdab_jobseekers"

@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rows = []
    for k, nis in enumerate(NIS.values(), start=1):
        low = 10 + 2 * k  # % of declarations below 20.000 €
        rows += [obs(INC, "declarations_nonzero", nis, 2022, 100_000, geo="2025"),
                 obs(INC, "declarations_band_lt10k", nis, 2022, low * 500, geo="2025"),
                 obs(INC, "declarations_band_10k_20k", nis, 2022, low * 500, geo="2025")]
        for year in range(2020, 2025):
            rate = 5 + k / 2 + (year - 2020) * (0.8 if k == 1 else 0.0)
            rows += [obs(VDAB, "jobseeker_rate", nis, year, round(rate, 1), "percent",
                         geo="2025"),
                     obs(VDAB, "nwwz", nis, year, round(rate, 1) * 1_000, geo="2025")]
    return write_store(tmp_path_factory.mktemp("shared") / "store", rows, geo=_geo())


@pytest.fixture()
def ds(store):
    return lsbanalysis.load(store)


def params(store, gemeente="M01", referentie=None, jaar=None):
    referentie = referentie or ",".join(NIS[m] for m in ("M01", "M02", "M03", "M04"))
    return {"gemeente": gemeente, "referentie": referentie, "jaar": jaar,
            "store_dir": str(store)}


def prepared(ds, store, tmp_path):
    p = params(store)
    c = ds.compare(p["gemeente"], reference=p["referentie"].split(","))
    path = tmp_path / shared.SHARED_FILE
    first = shared.prepare(ds, c.target, c.group, None)
    shared.write(first, path, p)
    return first, path, p


def test_the_chapters_read_the_runners_comparison_and_findings(ds, store, tmp_path):
    c, path, p = prepared(ds, store, tmp_path)
    shared.write_findings(shared.prepare_findings(c), path)
    other = lsbanalysis.load(store)
    read = shared.read(path, p, other)
    pd.testing.assert_frame_equal(read.table, c.table)
    pd.testing.assert_frame_equal(read.history, c.history)
    pd.testing.assert_frame_equal(read.area.table, c.area.table)
    assert [f.as_dict() for f in read.findings] == [f.as_dict() for f in c.findings]
    assert [f.as_dict() for f in read.synthesis.key] == [f.as_dict() for f in c.synthesis.key]
    assert read.synthesis.key, "the miniature store gives key findings"
    # without the engine: the chapter's own dataset, its engine only built if needed
    assert isinstance(read.engine, DatasetEngine) and read.engine.ds is other
    assert "engine" not in other.__dict__
    assert read.raw_history is None
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_what_the_runner_could_not_compute_the_chapter_computes_and_explains(ds, store,
                                                                           tmp_path):
    from lsbanalysis.analysis.structure import AgeStructureError

    c, path, p = prepared(ds, store, tmp_path)
    shared.write_findings(shared.prepare_findings(c), path)
    with shared.findings_path(path).open("rb") as f:
        later = pickle.load(f)["later"]
    assert {"findings", "synthesis"} <= set(later) and "age_structure" not in later
    read = shared.read(path, p, lsbanalysis.load(store))
    with pytest.raises(AgeStructureError):  # the miniature store has no age bands
        read.age_structure  # noqa: B018


@pytest.mark.slow
def test_the_pyramid_and_the_permits_travel_so_a_chapter_builds_no_engine(tmp_path):
    embedded = lsbanalysis.load()  # the committed store: real figures
    c0 = embedded.compare("Herenthout", "ISOM")
    p = {"gemeente": "Herenthout", "referentie": "ISOM", "jaar": None,
         "store_dir": str(embedded.store_dir)}
    path = tmp_path / shared.SHARED_FILE
    c = shared.prepare(embedded, c0.target, c0.group, None)
    shared.write(c, path, p)
    shared.write_findings(shared.prepare_findings(c), path)
    other = lsbanalysis.load()
    read = shared.read(path, p, other)
    pd.testing.assert_frame_equal(read.age_structure.table, c.age_structure.table)
    pd.testing.assert_frame_equal(read.year_to_date.table, c.year_to_date.table)
    assert "engine" not in other.__dict__


def test_a_chapter_waits_for_the_findings_the_runner_is_computing(ds, store, tmp_path):
    c, path, p = prepared(ds, store, tmp_path)
    read = shared.read(path, p, lsbanalysis.load(store))
    writer = threading.Timer(0.3, lambda: shared.write_findings(shared.prepare_findings(c),
                                                                path))
    start = time.monotonic()
    writer.start()
    try:
        key = read.synthesis.key
    finally:
        writer.join()
    assert time.monotonic() - start >= 0.25
    assert [f.text for f in key] == [f.text for f in c.synthesis.key]
    assert [f.text for f in read.findings] == [f.text for f in c.findings]


def test_a_chapter_does_not_wait_for_ever(ds, store, tmp_path, monkeypatch):
    _, path, p = prepared(ds, store, tmp_path)
    monkeypatch.setattr(shared, "WAIT", 0.1)
    read = shared.read(path, p)
    with pytest.raises(shared.SharedDataError, match="nog niet berekend"):
        read.findings  # noqa: B018


def test_a_comparison_for_other_parameters_is_refused(ds, store, tmp_path):
    _, path, p = prepared(ds, store, tmp_path)
    with pytest.raises(shared.SharedDataError, match="gemaakt voor .*M01.*niet voor .*M02"):
        shared.read(path, {**p, "gemeente": "M02"})
    with pytest.raises(shared.SharedDataError, match="jaar"):
        shared.read(path, {**p, "jaar": 2022})
    (tmp_path / "kapot.pickle").write_bytes(b"geen pickle")
    with pytest.raises(shared.SharedDataError, match="onleesbaar"):
        shared.read(tmp_path / "kapot.pickle", p)


def test_an_unpickled_comparison_recomputes_what_did_not_travel(ds):
    c = ds.compare(NIS["M01"], reference=[NIS[m] for m in ("M02", "M03")])
    back = pickle.loads(pickle.dumps(c))
    assert back.engine is None and back.raw_history is None
    back.attach(ds)
    pd.testing.assert_frame_equal(back.history, c.history)
    assert [f.text for f in back.findings] == [f.text for f in c.findings]


def test_the_maps_read_one_arrondissement_comparison(ds):
    c = ds.compare(NIS["M03"], reference=[NIS["M04"], NIS["M05"]])
    area = c.area
    assert area.group.id == "arrondissement" and len(area.group) == len(NIS)
    for indicator in ("aangiften_lt20k_pct", "werkzoekendengraad"):
        year = int(c.table.loc[c.table["indicator"] == indicator, "year"].iloc[0])
        one = ds.compare(c.target, reference="arrondissement", year=year,
                         indicators=[indicator]).table
        mine = area.table[area.table["indicator"] == indicator].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, one[one["indicator"] == indicator]
                                      .reset_index(drop=True))
    whole = ds.compare(NIS["M03"], reference="arrondissement")
    assert whole.area is whole


def test_the_chapter_uses_the_shared_comparison(ds, store, tmp_path):
    c, path, p = prepared(ds, store, tmp_path)
    shared.write_findings(shared.prepare_findings(c), path)
    ch = chapter.Chapter(p["gemeente"], p["referentie"], None, tmp_path, store, str(path))
    assert isinstance(ch.c, shared.SharedComparison) and isinstance(ch.c, Comparison)
    assert ch.gemeente == "M01" and ch.has("werkzoekendengraad")
    with pytest.raises(shared.SharedDataError):
        chapter.Chapter("M02", p["referentie"], None, tmp_path, store, str(path))


def test_without_the_shared_file_a_kernel_computes_the_comparison_once(store, tmp_path):
    p = params(store)
    first = chapter.Chapter(p["gemeente"], p["referentie"], None, tmp_path, store)
    again = chapter.Chapter(p["gemeente"], p["referentie"], None, tmp_path, store)
    assert again.c is first.c  # the second chapter of a kernel reuses it
    other = chapter.Chapter("M02", p["referentie"], None, tmp_path, store)
    assert other.c is not first.c and other.c.target.name == "M02"


def test_shared_text_metrics_leave_the_files_unchanged():
    def render(fmt: str, dpi: int) -> bytes:
        with matplotlib.rc_context({"svg.hashsalt": "test"}):
            fig = Figure(figsize=(4, 3))
            ax = fig.subplots()
            ax.plot([1, 2, 3], [3, 1, 2], label="een lijn")
            ax.set_title("Werkzoekendengraad, 2024")
            ax.set_xlabel("jaar")
            ax.legend()
            fig.set_layout_engine("constrained")
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight",
                        metadata={"Software": None} if fmt == "png" else {"Date": None})
            return buffer.getvalue()

    plain = [render("png", 150), render("svg", 72), render("png", 100)]
    with shared_text_metrics():
        shared_ = [render("png", 150), render("svg", 72), render("png", 100)]
        with shared_text_metrics():  # re-entrant: the outer measurements stay
            nested = render("png", 150)
    assert shared_ == plain and nested == plain[0]
    hook = (getattr(matplotlib.text, "_get_text_metrics_function", None)
            or matplotlib.text._get_text_metrics_with_cache)  # matplotlib 3.11 or 3.8-3.10
    assert not getattr(hook, "_lsb_shared", False)  # restored after the block


def test_shared_text_metrics_measure_each_text_once_per_renderer_kind(monkeypatch):
    from matplotlib.backends.backend_agg import RendererAgg

    calls = []
    measure = RendererAgg.get_text_width_height_descent
    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent",
                        lambda self, *a: calls.append(a[0]) or measure(self, *a))
    fig = Figure(figsize=(4, 3), layout="constrained")
    fig.subplots().set_title("Werkzoekendengraad, 2024")
    with shared_text_metrics():
        fig.draw_without_rendering()
        fig.get_tightbbox()  # another Agg renderer at the same resolution
    assert calls.count("Werkzoekendengraad, 2024") == 1
