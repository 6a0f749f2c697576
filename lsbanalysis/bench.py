"""``make bench``: timings of the pipeline's steps against their targets, printed as a table.

Run as ``python -m lsbanalysis.bench [--skip-report]``. Targets are for the project's 2-core
reference machine; the benchmark reports, it does not fail.
"""

from __future__ import annotations

import argparse
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
    "report": 30.0,
}


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-report", action="store_true")
    args = parser.parse_args(argv)

    import lsbanalysis
    from lsbanalysis.paths import default_mirror, processed_dir

    rows: list[tuple[str, float, float | None, str]] = []
    mirror = default_mirror()
    if mirror is not None:
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

    load_code = (
        "import time; t=time.perf_counter(); import lsbanalysis; ds=lsbanalysis.load(); "
        "print(time.perf_counter()-t)"
    )
    t_import = _fresh_python(load_code)
    t_load, ds = _time(lambda: lsbanalysis.load(), repeat=5)
    rows.append(("load() in a warm process", t_load, TARGETS["load"], str(processed_dir())))
    rows.append(("import + load() in a fresh process", t_import, None, ""))
    t_bounds, _ = _time(lambda: ds.boundaries)
    rows.append(("first access of ds.boundaries", t_bounds, None, "lazy, GeoParquet"))

    t_engine, _ = _time(lambda: ds.engine)
    rows.append(("indicator table (once per dataset)", t_engine, None, "cached"))
    t_one, c = _time(lambda: ds.compare("Herenthout", reference="ISOM"), repeat=5)
    rows.append((f"compare Herenthout vs ISOM ({len(c.indicators)} indicators)", t_one,
                 TARGETS["compare_one"], "warm"))
    t_find, _ = _time(lambda: ds.compare("Herenthout", reference="ISOM").findings, repeat=3)
    rows.append(("compare + findings", t_find, None, "warm"))
    t_spread, _ = _time(lambda: ds.engine.spread)
    rows.append(("Flemish spread and chance margins (once per dataset)", t_spread, None,
                 "cached"))
    t_key, _ = _time(lambda: ds.compare("Herenthout", reference="ISOM").synthesis, repeat=3)
    rows.append(("compare + kernvaststellingen", t_key, None, "warm"))
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
        try:
            from lsbanalysis.report.runner import build_report
        except ImportError:
            build_report = None
        if build_report is not None:
            with tempfile.TemporaryDirectory() as tmp:
                t_rep, _ = _time(lambda: build_report("Herenthout", "ISOM", out_root=Path(tmp),
                                                      force=True))
            rows.append(("full analyserapport (papermill, 2 parallel)", t_rep,
                         TARGETS["report"], "Herenthout vs ISOM"))
            rows.append(("papermill run of an empty notebook (floor)", _empty_notebook(), None,
                         "kernel start + save"))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'step'.ljust(width)}  {'seconds':>9}  {'target':>7}  verdict  note")
    for name, secs, target, note in rows:
        verdict = "" if target is None or secs != secs else ("ok" if secs <= target else "SLOW")
        tgt = f"{target:>7.2f}" if target is not None else " " * 7
        print(f"{name.ljust(width)}  {secs:9.3f}  {tgt}  {verdict:<7}  {note}")


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
