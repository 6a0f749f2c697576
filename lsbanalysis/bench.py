"""``make bench``: timings of the pipeline's steps against their targets, printed as a table.

Run as ``python -m lsbanalysis.bench [--skip-report] [--skip-build] [--report-runs N]``. Targets
are for the project's 2-core reference machine; the benchmark reports, it does not fail.

Every ratio compares two figures measured in the same run, so that a busy machine (the
reference machine is shared) slows both: the store build against a raw-read floor (every raw
file read once by the fastest reader of its format), and the report against a papermill floor
(an empty notebook executed once per chapter by papermill, each in a fresh kernel, divided by
the cores the report uses). Cheap steps are the median of repeats.

The report is timed as the user runs it: ``lsb report --force`` in a fresh process (imports,
store, comparison, kernels, chapters, exports and assembly), HTML only; the target applies to
that. The PDF (headless Chromium, ``--pdf``) is timed separately on the report just made.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {
    "build_ratio": 2.5,  # store build / raw-read floor, same run
    "store_mb": 15.0,
    "load": 0.3,
    "compare_one": 0.05,
    "compare_all": 10.0,
    "report": 10.0,  # the HTML report, wall clock
    "report_ratio": 6.0,  # report / papermill floor, same run
}
GEMEENTE, REFERENTIE = "Herenthout", "ISOM"


def _time(func, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _fresh_python(code: str) -> float:
    """Seconds a snippet takes in a new interpreter (so imports and caches count)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _lsb() -> list[str]:
    exe = Path(sys.executable).with_name("lsb")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "lsbanalysis.cli"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--report-runs", type=int, default=1,
                        help="time the report this many times (the median is shown)")
    args = parser.parse_args(argv)

    load_code = (
        "import time; t=time.perf_counter(); import lsbanalysis; ds=lsbanalysis.load(); "
        "print(time.perf_counter()-t)"
    )
    t_import = _fresh_python(load_code)  # first, before this process has anything cached

    import lsbanalysis
    from lsbanalysis.paths import default_mirror, processed_dir

    rows: list[tuple[str, float, float | None, str]] = []
    mirror = default_mirror()
    if args.skip_build:
        pass
    elif mirror is not None:
        with tempfile.TemporaryDirectory() as tmp:
            from lsbanalysis.store.build import build_store

            t_floor, n_files = _time(lambda: raw_read_floor(mirror))
            t, _ = _time(lambda: build_store(mirror, Path(tmp) / "processed", progress=False))
            rows.append((f"raw-read floor ({n_files} files, 2 workers)", t_floor, None,
                         "calamine / pyarrow.csv / pyogrio, no parsing"))
            rows.append(("build store from raw (2 workers)", t, None, str(mirror)))
            rows.append(("build / raw-read floor (ratio)", t / t_floor, TARGETS["build_ratio"],
                         "same run"))
    else:
        rows.append(("build store from raw", float("nan"), None, "no mirror found"))
    size = sum(p.stat().st_size for p in processed_dir().iterdir() if p.is_file()) / 1e6
    rows.append(("embedded store size (MB)", size, TARGETS["store_mb"], str(processed_dir())))

    t_load, ds = _time(lambda: lsbanalysis.load(), repeat=5)
    rows.append(("load() in a warm process", t_load, TARGETS["load"],
                 "median of 5; observations parsed on first use"))
    rows.append(("import + load() in a fresh process", t_import, None, ""))
    t_obs, _ = _time(lambda: ds.observations)
    rows.append(("first access of ds.observations", t_obs, None,
                 f"{len(ds.observations):,} rows, Parquet"))
    t_bounds, _ = _time(lambda: ds.boundaries)
    rows.append(("first access of ds.boundaries", t_bounds, None, "lazy, GeoParquet"))

    t_engine, _ = _time(lambda: ds.engine)
    rows.append(("indicator table and benchmarks (ds.engine)", t_engine, None,
                 "once per dataset"))
    t_one, c = _time(lambda: ds.compare(GEMEENTE, reference=REFERENTIE), repeat=5)
    rows.append((f"compare {GEMEENTE} vs {REFERENTIE} ({len(c.indicators)} indicators)", t_one,
                 TARGETS["compare_one"], "warm, median of 5"))
    t_spread, _ = _time(lambda: ds.engine.spread)
    rows.append(("Flemish spread and chance margins (ds.engine.spread)", t_spread, None,
                 "once per dataset"))
    t_find, _ = _time(lambda: ds.compare(GEMEENTE, reference=REFERENTIE).findings, repeat=3)
    rows.append(("compare + findings", t_find, None, "warm, median of 3"))
    t_key, _ = _time(lambda: ds.compare(GEMEENTE, reference=REFERENTIE).synthesis, repeat=3)
    rows.append(("compare + kernvaststellingen", t_key, None, "warm, median of 3"))
    geo = ds.geography
    flemish = geo[(geo["geo_version"] == "2025") & (geo["level"] == "municipality")
                  & (geo["region"] == "02000")]["nis"].tolist()

    def all_munis():
        for code in flemish:
            ds.compare(code, reference="arrondissement")

    t_all, _ = _time(all_munis)
    rows.append((f"compare all {len(flemish)} Flemish municipalities vs arrondissement", t_all,
                 TARGETS["compare_all"], "warm"))

    if not args.skip_report:
        rows += report_rows(args.report_runs)

    width = max(len(r[0]) for r in rows)
    print(f"\n{'step'.ljust(width)}  {'seconds':>9}  {'target':>7}  verdict  note")
    for name, secs, target, note in rows:
        verdict = "" if target is None or secs != secs else ("ok" if secs <= target else "SLOW")
        tgt = f"{target:>7.2f}" if target is not None else " " * 7
        print(f"{name.ljust(width)}  {secs:9.3f}  {tgt}  {verdict:<7}  {note}")
    print(f"\n{os.cpu_count()} cores; load average at the end: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))


def report_rows(runs: int = 1) -> list[tuple[str, float, float | None, str]]:
    """The report (``lsb report`` in a fresh process), its papermill floor, their ratio and the
    PDF step."""
    from lsbanalysis.report.runner import CHAPTERS

    jobs = 2  # lsb report's default
    cores = min(jobs, len(CHAPTERS), os.cpu_count() or 1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        times, cpu = [], []
        for _ in range(max(1, runs)):
            before = _children_cpu()
            start = time.perf_counter()
            subprocess.run([*_lsb(), "report", "--gemeente", GEMEENTE, "--referentie",
                            REFERENTIE, "--uit", tmp, "--force"], check=True,
                           capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            cpu.append(_children_cpu() - before)
        t_report = statistics.median(times)
        html = next(Path(tmp).glob("*/analyserapport.html"))
        t_empty = [_empty_notebook() for _ in CHAPTERS]
        floor = statistics.median(t_empty) * len(CHAPTERS) / cores
        rows.append((f"full analyserapport, HTML (lsb report, {len(CHAPTERS)} chapters)",
                     t_report, TARGETS["report"],
                     f"{GEMEENTE} vs {REFERENTIE}, fresh process, "
                     + (f"median of {runs}" if runs > 1 else "one run")
                     + f"; {statistics.median(cpu):.1f} CPU-s in all its processes"))
        rows.append(("papermill floor: empty notebook x chapters / cores", floor, None,
                     f"median {statistics.median(t_empty):.2f} s x {len(CHAPTERS)} / {cores}"))
        rows.append(("report / papermill floor (ratio)", t_report / floor,
                     TARGETS["report_ratio"], "same run"))
        rows.append(_pdf_row(html, Path(tmp) / "bench.pdf"))
    return rows


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes, grandchildren included."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pdf_row(html: Path, out: Path) -> tuple[str, float, float | None, str]:
    from lsbanalysis.report import pdf

    try:
        start = time.perf_counter()
        printed = pdf.render_pdf(html, out)
        return ("PDF of that report (headless Chromium)", time.perf_counter() - start, None,
                f"{printed.pages} pages; not part of the HTML target")
    except pdf.PdfError as exc:
        return ("PDF of that report (headless Chromium)", float("nan"), None,
                str(exc).split(".")[0])


def _read_raw(path: str) -> int:
    """Read one raw file with the fastest well-kept reader; returns the cells or rows read."""
    import io
    import zipfile

    import pyarrow.csv as pacsv

    def text(data: bytes) -> int:
        # The delimiter of a data row: a header may hold others ("label|year" in PinC exports).
        lines = data[:65536].split(b"\n", 2)
        row = lines[1] if len(lines) > 2 else lines[0]
        delimiter = max(b"|;\t,", key=row.count)
        table = pacsv.read_csv(io.BytesIO(data),
                               parse_options=pacsv.ParseOptions(delimiter=chr(delimiter)),
                               read_options=pacsv.ReadOptions(block_size=1 << 24))
        return table.num_rows

    suffix = Path(path).suffix.lower()
    if suffix in (".xls", ".xlsx"):
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(path)
        return sum(len(book.get_sheet_by_name(n).to_python()) for n in book.sheet_names)
    if suffix in (".txt", ".csv"):
        return text(Path(path).read_bytes())
    if suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            return sum(text(zf.read(name)) for name in zf.namelist())
    if suffix == ".shp":
        import pyogrio

        return pyogrio.read_arrow(path)[1].num_rows
    return len(Path(path).read_bytes())  # side files of a shapefile: the bytes


def raw_read_floor(raw_dir: Path, jobs: int = 2) -> int:
    """Read every raw file of the manifest once, in ``jobs`` processes as the build does.

    The floor against which the store build is measured: no parsing, validation or tidying,
    only the fastest reader of each format. Returns the number of files read.
    """
    from concurrent.futures import ProcessPoolExecutor

    from lsbanalysis.sources import load_manifest

    paths = sorted({str(raw_dir / f.path) for s in load_manifest() for f in s.files},
                   key=lambda p: -Path(p).stat().st_size)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(_read_raw, paths))
    return len(paths)


def _empty_notebook() -> float:
    import nbformat
    import papermill

    with tempfile.TemporaryDirectory() as tmp:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("x = 1")
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [cell]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        src, dst = Path(tmp) / "empty.ipynb", Path(tmp) / "out.ipynb"
        nbformat.write(nb, src)
        start = time.perf_counter()
        papermill.execute_notebook(str(src), str(dst), parameters={"x": 2},
                                   kernel_name="python3", progress_bar=False,
                                   extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
        return time.perf_counter() - start


if __name__ == "__main__":
    main()
