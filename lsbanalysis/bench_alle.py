"""``make bench-alle``: every Flemish municipality against its arrondissement, timed.

Run as ``python -m lsbanalysis.bench_alle [--arrondissement A | --provincie P] [--jobs N]
[--hoofdstukjobs N] [--uit DIR]``. Builds the HTML reports (no PDF) in a temporary folder
(or ``--uit``), then the overview page, and prints the total time against the target (all 285
in 15 minutes on the 2-core reference machine), the time per report, the CPU time per report
(so that the floor on two cores is visible whatever else runs on the machine), where the time
of a report goes (median seconds per chapter) and the failures. Missing the time target is
reported, not an error; a failed report makes the exit status 1.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 15 * 60  # all 285 Flemish municipalities


def _cpu_seconds() -> float:
    """CPU time of this process and of its ended children (the workers and their kernels)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arrondissement")
    parser.add_argument("--provincie")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--hoofdstukjobs", type=int, default=None)
    parser.add_argument("--uit", type=Path, default=None,
                        help="keep the reports here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)

    import lsbanalysis
    from lsbanalysis.report import batch
    from lsbanalysis.report.index import write_index

    ds = lsbanalysis.load()
    selection = batch.select_municipalities(ds, provincie=args.provincie,
                                            arrondissement=args.arrondissement)
    n = len(selection.municipalities)
    print(f"bench-alle: {n} rapporten voor {selection.label} tegen hun arrondissement "
          f"(HTML), {os.cpu_count()} kernen, load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="lsb-bench-alle-") as tmp:
        out_root = args.uit or Path(tmp) / "reports"
        cpu0, t0 = _cpu_seconds(), time.perf_counter()
        result = batch.run_batch(
            selection, "arrondissement", out_root=out_root, jobs=args.jobs,
            chapter_jobs=args.hoofdstukjobs, force=True, index=False, dataset=ds,
            progress=lambda line: print(line, flush=True),
        )
        reports_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        index = write_index(out_root, ds, "arrondissement", outcomes=result.outcomes)
        index_s = time.perf_counter() - t1
        cpu = _cpu_seconds() - cpu0
        total = reports_s + index_s
        built = [o.seconds for o in result.built]
        chapters: dict[str, list[float]] = {}
        for o in result.built:
            for chapter, seconds in o.durations.items():
                chapters.setdefault(chapter, []).append(seconds)
        rows = [
            ("totaal (rapporten + overzicht)", f"{total:,.0f} s ({batch.duration(total)})",
             f"doel {TARGET_SECONDS} s voor 285: "
             + ("gehaald" if total * 285 / max(n, 1) <= TARGET_SECONDS else
                f"{total * 285 / max(n, 1) / TARGET_SECONDS:.1f}× te traag (geëxtrapoleerd)")),
            ("rapporten", f"{reports_s:,.0f} s", f"{result.jobs} tegelijk × "
             f"{result.chapter_jobs} hoofdstukken"),
            ("overzichtspagina", f"{index_s:,.1f} s", f"{index.stat().st_size / 1e6:.1f} MB"),
            ("per rapport (wand, in zijn werkproces)",
             f"mediaan {statistics.median(built):,.1f} s" if built else "–",
             f"max {max(built):,.1f} s" if built else ""),
            ("per rapport (doorvoer)", f"{reports_s / max(n, 1):,.1f} s", "totaal / aantal"),
            ("CPU per rapport", f"{cpu / max(n, 1):,.1f} s",
             f"ondergrens op 2 kernen: {cpu / 2:,.0f} s voor deze {n}"),
            *[(f"  hoofdstuk {c} (mediaan)", f"{statistics.median(v):,.1f} s", "")
              for c, v in sorted(chapters.items(), key=lambda kv: -statistics.median(kv[1]))],
            ("mislukt", str(len(result.failures)), ""),
        ]
        width = max(len(r[0]) for r in rows)
        print()
        for label, value, note in rows:
            print(f"{label:<{width}}  {value:>22}  {note}")
        for o in result.failures:
            print(f"  {o.name} ({o.nis}): {o.reason}")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
