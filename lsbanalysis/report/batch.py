"""Every Flemish municipality in one run: :func:`run_batch` / ``lsb report --alle``.

The unit of work is :func:`~lsbanalysis.report.runner.build_report`, unchanged: each report
lands in ``<out_root>/<slug>/`` exactly as a single ``lsb report`` would write it (same slug,
same files, same fingerprint), so a single run afterwards finds it unchanged, and a rerun of
the batch skips the unchanged reports and redoes the failed or changed ones.

Orchestration
  * ``jobs`` worker processes (spawned, so no thread or lock of this process is copied into
    them), each building one report at a time with ``chapter_jobs`` chapter kernels. A worker
    loads the store once and passes it to every report it builds (``build_report(dataset=…)``),
    and keeps its chapter kernels from one report to the next (``kernels=``, a
    :class:`~lsbanalysis.report.runner.KernelPool`).
  * Tasks go to a worker over its own pipe, so the batch always knows which municipality a
    worker holds: a worker that dies (out of memory, killed) fails that municipality only, and
    a new worker takes over the rest.
  * Failures are isolated: a report that fails is recorded (its ``<slug>.failed/`` is kept as
    for a single run) and the others continue; :class:`BatchResult` lists them.
  * Ctrl-C / SIGTERM in the batch: every worker gets SIGTERM, and each one's ``build_report``
    kills its kernels and removes its build folder (within a few seconds); published reports
    are untouched. A worker also stops when the batch process dies (``PR_SET_PDEATHSIG``).

Progress goes to ``progress`` as one line per finished municipality (done/total, failures so
far, estimated time left); on a terminal :class:`Progress` also shows a tqdm bar.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import statistics
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait as wait_for_connections
from pathlib import Path

from lsbanalysis.analysis.catalogue import load_reference_groups
from lsbanalysis.analysis.groups import CURRENT_GEOGRAPHY
from lsbanalysis.analysis.validation import (
    FLEMISH_REGION,
    check_year,
    current_municipality,
    require_flemish,
)
from lsbanalysis.errors import Interrupted, LsbError, shown
from lsbanalysis.names import Municipality, fold
from lsbanalysis.paths import NOTEBOOKS_DIR, REPORTS_DIR
from lsbanalysis.report import runner
from lsbanalysis.workers import parent_death_signal

#: The chapters a batch runs unless told otherwise (read at call time, so tests can swap them).
CHAPTERS = runner.CHAPTERS
#: Seconds the workers get to stop their kernels after an interrupt before they are killed.
STOP_GRACE = runner.STOP_WAIT + 5

BUILT, SKIPPED, FAILED = "gemaakt", "ongewijzigd", "mislukt"


class SelectionError(LsbError):
    """A filter of the batch (province, arrondissement, list) that selects nothing usable."""


class BatchError(LsbError):
    """The batch could not run, or some of its reports failed."""


# -- which municipalities ------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    municipalities: tuple[Municipality, ...]  # in alphabetical order
    label: str  # "het arrondissement Turnhout", "Vlaanderen", "3 gemeenten", …


def flemish_municipalities(ds) -> list[Municipality]:
    """The municipalities of the Flemish Region on the 2025 map, alphabetically."""
    geo = ds.geography
    rows = geo[(geo["geo_version"] == CURRENT_GEOGRAPHY) & (geo["level"] == "municipality")
               & (geo["region"] == FLEMISH_REGION)]
    return sorted((ds.municipality(nis) for nis in rows["nis"]), key=lambda m: fold(m.name))


def _short(name: str) -> str:
    """'Provincie Antwerpen' → 'Antwerpen', 'Arrondissement Turnhout' → 'Turnhout'."""
    first, _, rest = str(name).partition(" ")
    return rest if first.casefold() in ("provincie", "arrondissement") and rest else str(name)


def _unit(ds, query: str, level: str) -> tuple[str, str]:
    """NIS code and Dutch name of the Flemish province or arrondissement ``query`` names.

    Accepts the name with or without 'Provincie'/'Arrondissement', the French name, or the
    NIS code; anything else is refused with the closest Flemish names.
    """
    import difflib

    what = {"province": "provincie", "arrondissement": "arrondissement"}[level]
    geo = ds.geography
    units = geo[(geo["geo_version"] == CURRENT_GEOGRAPHY) & (geo["level"] == level)]
    text = str(query).strip()
    key = fold(text)
    for row in units.itertuples(index=False):
        names = {fold(n) for n in (row.name_nl, row.name_fr, _short(row.name_nl),
                                   _short(row.name_fr)) if isinstance(n, str)}
        if text == row.nis or key in names:
            if row.region != FLEMISH_REGION:
                region = ds.name_of(row.region)
                raise SelectionError(
                    f"{row.name_nl} ({row.nis}) ligt in het {region}, niet in Vlaanderen: "
                    f"--alle maakt rapporten voor Vlaamse gemeenten; kies een Vlaamse {what} "
                    f"({_choices(units)})."
                )
            return row.nis, row.name_nl
    flemish = units[units["region"] == FLEMISH_REGION]
    options = {fold(_short(n)): _short(n) for n in flemish["name_nl"]}
    close = difflib.get_close_matches(key.removeprefix(f"{what} "), list(options), n=3,
                                      cutoff=0.6)
    hint = (f"Bedoelde u: {', '.join(options[c] + '?' for c in close)} " if close else "")
    raise SelectionError(
        f"Onbekende {what} {shown(text)}. {hint}De Vlaamse {what}en zijn: "
        f"{_choices(flemish)}."
    )


def _choices(units) -> str:
    flemish = units[units["region"] == FLEMISH_REGION]
    return ", ".join(sorted(_short(n) for n in flemish["name_nl"]))


def select_municipalities(
    ds,
    *,
    provincie: str | None = None,
    arrondissement: str | None = None,
    gemeenten: str | Sequence[str | int] | None = None,
) -> Selection:
    """The Flemish municipalities (2025 map) a batch makes reports for.

    Without filters all of them; the filters (a province, an arrondissement, a list of names or
    NIS codes separated by commas) narrow it down, and together select what all of them allow.
    Raises :class:`SelectionError` (or the library's municipality errors) with one sentence.
    """
    chosen = flemish_municipalities(ds)
    labels: list[str] = []
    if provincie is not None and str(provincie).strip():
        nis, name = _unit(ds, provincie, "province")
        chosen = [m for m in chosen if m.province == nis]
        labels.append("de " + name[0].lower() + name[1:])
    if arrondissement is not None and str(arrondissement).strip():
        nis, name = _unit(ds, arrondissement, "arrondissement")
        chosen = [m for m in chosen if m.arrondissement == nis]
        labels.append("het " + name[0].lower() + name[1:])
    if gemeenten is not None:
        items = ([p.strip() for p in gemeenten.split(",") if p.strip()]
                 if isinstance(gemeenten, str) else list(gemeenten))
        if not items:
            raise SelectionError("--gemeenten is leeg: geef namen of NIS-codes, met komma's.")
        listed = []
        for item in items:
            m = current_municipality(ds, item)
            require_flemish(ds, m)
            listed.append(m.nis)
        chosen = [m for m in chosen if m.nis in set(listed)]
        n = len(set(listed))
        labels.append(f"{n} gekozen gemeente{'n' if n != 1 else ''}")
    if not chosen:
        raise SelectionError(
            f"Geen enkele gemeente voldoet aan alle filters samen ({' en '.join(labels)}): "
            "kies één filter, of filters die elkaar overlappen."
        )
    return Selection(tuple(chosen), " en ".join(labels) or "Vlaanderen")


# -- outcomes ------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened to one municipality's report."""

    nis: str
    name: str
    slug: str
    status: str  # BUILT, SKIPPED or FAILED
    seconds: float = 0.0  # wall time of its build_report, in its worker
    reason: str | None = None  # FAILED: the one-line reason
    failed_dir: str | None = None  # FAILED in a chapter: <out_root>/<slug>.failed
    durations: dict[str, float] = field(default_factory=dict)  # BUILT: seconds per chapter
    pdf_note: str | None = None  # --pdf without a browser: why there is no PDF


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    out_root: Path
    referentie: str
    jaar: int | None
    jobs: int
    chapter_jobs: int
    seconds: float
    selection: str
    index: Path | None = None

    def _with(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def built(self) -> list[Outcome]:
        return self._with(BUILT)

    @property
    def skipped(self) -> list[Outcome]:
        return self._with(SKIPPED)

    @property
    def failures(self) -> list[Outcome]:
        return self._with(FAILED)


def duration(seconds: float) -> str:
    """'45 s', '3 min 05 s', '1 u 02 min'."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} u {minutes:02d} min"


def _times(jobs: int, chapter_jobs: int) -> str:
    """'2 tegelijk, elk met 2 hoofdstukken tegelijk'."""
    return (f"{jobs} tegelijk, elk met {chapter_jobs} hoofdstuk"
            f"{'ken' if chapter_jobs != 1 else ''} tegelijk")


def summary_text(result: BatchResult) -> str:
    """The closing summary: counts, time, the failures with their reason, the index page."""
    n = len(result.outcomes)
    lines = [
        f"{n} rapport{'en' if n != 1 else ''} voor {result.selection} (referentie "
        f"{result.referentie}{f', jaar {result.jaar}' if result.jaar is not None else ''}) in "
        f"{duration(result.seconds)}, {_times(result.jobs, result.chapter_jobs)}: "
        f"{len(result.built)} gemaakt, {len(result.skipped)} ongewijzigd, "
        f"{len(result.failures)} mislukt."
    ]
    built = [o.seconds for o in result.built]
    if built:
        lines.append(f"Per gemaakt rapport: mediaan {duration(statistics.median(built))}, "
                     f"langste {duration(max(built))}.")
    if result.failures:
        lines.append("Mislukt:")
        lines += [f"  {o.name} ({o.nis}): {o.reason}" for o in result.failures]
    notes = list(dict.fromkeys(o.pdf_note for o in result.outcomes if o.pdf_note))
    lines += [f"Let op: {note}" for note in notes]
    if result.index is not None:
        lines.append(f"Overzichtspagina: {result.index}")
    return "\n".join(lines)


# -- progress ------------------------------------------------------------------------------


class Progress:
    """One line per finished municipality, with done/total, failures and the time left.

    On a terminal a tqdm bar sits under the lines; elsewhere (a log, cron) only the lines.
    """

    def __init__(self, total: int, say: Callable[[str], None] | None = None,
                 bar: bool | None = None) -> None:
        self.total, self.done, self.failed, self.built = total, 0, 0, 0
        self.started = time.monotonic()
        self._say = say
        self._bar = None
        if bar is None:
            bar = say is None and sys.stderr.isatty()
        if bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="rapport", file=sys.stderr, leave=False,
                             dynamic_ncols=True)

    def eta(self) -> str:
        """Wall time per built report so far, times the reports still to do."""
        left = self.total - self.done
        if left == 0:
            return "klaar"
        if self.built == 0:
            return "nog onbekend"
        return "nog ongeveer " + duration((time.monotonic() - self.started) / self.built * left)

    def update(self, outcome: Outcome) -> str:
        self.done += 1
        self.failed += outcome.status == FAILED
        self.built += outcome.status == BUILT
        what = {BUILT: f"gemaakt ({duration(outcome.seconds)})", SKIPPED: "ongewijzigd",
                FAILED: "MISLUKT"}[outcome.status]
        width = len(str(self.total))
        line = (f"[{self.done:>{width}}/{self.total}] {outcome.name}: {what} · "
                f"{self.failed} mislukt · {self.eta()}")
        self.say(line)
        if self._bar is not None:
            self._bar.update(1)
        return line

    def say(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=sys.stderr)
        elif self._say is not None:
            self._say(line)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# -- the workers ---------------------------------------------------------------------------


def _worker_signals(parent_pid: int) -> None:
    """SIGINT, SIGTERM and SIGHUP raise Interrupted once, so build_report cleans up; a second
    signal (the terminal's Ctrl-C and the batch's SIGTERM both arrive) is ignored. The worker
    gets SIGTERM when the batch process dies."""
    hit = threading.Event()

    def handler(signum, _frame):
        if hit.is_set():
            return
        hit.set()
        raise Interrupted(signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
    parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent_pid:  # the batch died before prctl took effect
        os._exit(1)


def _worker(conn, settings: dict, parent_pid: int) -> None:
    """A worker process: load the store once, then build the reports it is sent, one by one."""
    _worker_signals(parent_pid)
    kernels = runner.KernelPool()  # one report after the other on the same chapter kernels
    try:
        import lsbanalysis

        try:
            ds = lsbanalysis.load(settings["store_dir"])
        except Exception as exc:  # the batch loaded it a moment ago: a fault of this machine
            conn.send(("fatal", f"{type(exc).__name__}: {exc}"))
            return
        conn.send(("ready", None))
        while True:
            task = conn.recv()
            if task is None:
                return
            conn.send(("done", _build_one(ds, task, settings, kernels)))
    except (KeyboardInterrupt, EOFError, OSError):
        return  # stopped by the batch (or the batch is gone); build_report cleaned up
    finally:
        kernels.close()
        with contextlib.suppress(OSError):
            conn.close()


def _build_one(ds, task: tuple[str, str, str], settings: dict,
               kernels: runner.KernelPool | None = None) -> Outcome:
    nis, name, slug = task
    start = time.perf_counter()
    outcome = Outcome(nis=nis, name=name, slug=slug, status=FAILED)
    try:
        result = runner.build_report(
            nis, settings["referentie"], settings["jaar"], out_root=settings["out_root"],
            force=settings["force"], notebooks_dir=settings["notebooks_dir"],
            chapters=settings["chapters"], jobs=settings["chapter_jobs"],
            store_dir=settings["store_dir"], lock_timeout=settings["lock_timeout"],
            pdf=settings["pdf"], dataset=ds, kernels=kernels,
        )
    except runner.ReportError as exc:
        outcome.reason = _one_line(str(exc))
        if exc.failed_dir is not None:
            outcome.failed_dir = str(exc.failed_dir)
    except LsbError as exc:
        outcome.reason = _one_line(str(exc))
    except Exception as exc:
        outcome.reason = _one_line(f"interne fout in lsbanalysis ({type(exc).__name__}: "
                                   f"{str(exc)[:300]})")
    else:
        outcome.status = SKIPPED if result.skipped else BUILT
        outcome.durations = {k: round(v, 2) for k, v in result.durations.items()}
        outcome.pdf_note = result.pdf_note
    outcome.seconds = time.perf_counter() - start
    return outcome


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@dataclass
class _Worker:
    process: multiprocessing.Process
    conn: object
    task: tuple[str, str, str] | None = None
    ready: bool = False  # it loaded the store and asked for work


class _Pool:
    """``jobs`` worker processes fed one task at a time; replaced when one dies."""

    def __init__(self, jobs: int, settings: dict) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self.settings = settings
        self.workers: list[_Worker] = []
        for _ in range(jobs):
            self.start_worker()

    def start_worker(self) -> None:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker, args=(child, self.settings, os.getpid()),
                                 name="lsb-batch-worker")
        proc.start()
        child.close()
        self.workers.append(_Worker(proc, parent))

    def stop(self, grace: float) -> None:
        """SIGTERM every worker (each cleans up its build), then kill what is left."""
        for w in self.workers:
            if w.process.is_alive():
                with contextlib.suppress(OSError):
                    os.kill(w.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for w in self.workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
        for w in self.workers:
            if w.process.is_alive():
                w.process.kill()
                w.process.join(5)
            with contextlib.suppress(OSError):
                w.conn.close()

    def close(self) -> None:
        for w in self.workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        for w in self.workers:
            w.process.join(10)
        self.stop(grace=0)


# -- the batch -----------------------------------------------------------------------------


def run_batch(
    municipalities: Sequence[Municipality] | Selection,
    referentie: str | Sequence[str],
    jaar: int | None = None,
    *,
    out_root: str | Path = REPORTS_DIR,
    jobs: int | None = None,
    chapter_jobs: int | None = None,
    force: bool = False,
    pdf: bool = False,
    store_dir: str | Path | None = None,
    notebooks_dir: str | Path | None = None,
    chapters: Sequence[tuple[str, str, str]] | None = None,
    lock_timeout: float = 600,
    progress: Callable[[str], None] | None = None,
    index: bool = True,
    dataset=None,
) -> BatchResult:
    """Build (or keep) the analyserapport of each municipality against ``referentie``.

    Validates everything that is the same for all reports before any worker starts (the store,
    the year, the group for the first municipality, the chapter notebooks, the output folder).
    Returns a :class:`BatchResult`; failures do not raise (see ``result.failures``). Writes the
    overview page (:mod:`lsbanalysis.report.index`) unless ``index=False``. ``jobs``: reports
    at the same time (default: the number of cores); ``chapter_jobs``: chapter kernels per
    report (default: the cores left per report, at least 1: one report alone gets every
    core, many reports one kernel each; measured in the README). ``progress`` receives the
    progress lines (default: stderr, with a bar on a terminal). The workers are spawned (a
    fresh interpreter that imports the caller's main module), so a script that calls this
    needs the usual ``if __name__ == "__main__":`` guard.
    """
    import lsbanalysis

    start = time.monotonic()
    if isinstance(municipalities, Selection):
        label, municipalities = municipalities.label, list(municipalities.municipalities)
    else:
        municipalities = list(municipalities)
        label = f"{len(municipalities)} gemeente{'n' if len(municipalities) != 1 else ''}"
    if not municipalities:
        raise BatchError("Geen gemeenten om een rapport voor te maken.")
    out_root = Path(out_root)
    notebooks_dir = Path(notebooks_dir or NOTEBOOKS_DIR)
    chapters = [tuple(c) for c in (chapters if chapters is not None else CHAPTERS)]
    cores = os.cpu_count() or 1
    jobs = max(1, int(jobs or cores))
    ds = dataset if dataset is not None else lsbanalysis.load(store_dir)
    jaar = check_year(jaar)
    _check_reference(ds, municipalities, referentie, jaar)
    for _, filename, _ in chapters:
        if not (notebooks_dir / filename).is_file():
            raise runner.ReportError(f"Hoofdstuk-notebook ontbreekt: {notebooks_dir / filename}.")
        runner.check_chapter_notebook(notebooks_dir / filename)
    runner._prepare_out_root(out_root)

    jobs = min(jobs, len(municipalities))
    chapter_jobs = max(1, int(chapter_jobs or cores // jobs))
    tasks = deque((m.nis, m.name, runner.report_slug(m, referentie, jaar)) for m in municipalities)
    total = len(tasks)
    settings = {
        "referentie": referentie if isinstance(referentie, str) else list(map(str, referentie)),
        "jaar": jaar, "out_root": str(out_root.resolve()), "force": force,
        "notebooks_dir": str(notebooks_dir.resolve()), "chapters": chapters,
        "chapter_jobs": chapter_jobs, "store_dir": str(Path(ds.store_dir).resolve()),
        "lock_timeout": lock_timeout, "pdf": pdf,
    }
    meter = Progress(total, progress)
    ref_text = runner._referentie_text(referentie)
    meter.say(f"{total} rapport{'en' if total != 1 else ''} voor {label}, referentie {ref_text}"
              f"{f', jaar {jaar}' if jaar is not None else ''}, in {out_root}/: "
              f"{_times(jobs, min(chapter_jobs, len(chapters)))}")
    outcomes: list[Outcome] = []
    pool = _Pool(jobs, settings)
    try:
        while len(outcomes) < total:
            _step(pool, tasks, outcomes, meter)
    except BaseException:
        pool.stop(grace=STOP_GRACE)
        raise
    finally:
        meter.close()
    pool.close()
    order = {m.nis: i for i, m in enumerate(municipalities)}
    outcomes.sort(key=lambda o: order[o.nis])
    result = BatchResult(outcomes=outcomes, out_root=out_root, referentie=ref_text,
                         jaar=jaar, jobs=jobs, chapter_jobs=min(chapter_jobs, len(chapters)),
                         seconds=time.monotonic() - start, selection=label)
    if index:
        from lsbanalysis.report.index import write_index

        result.index = write_index(out_root, ds, referentie, jaar, outcomes=outcomes)
        result.seconds = time.monotonic() - start
    return result


def _check_reference(ds, municipalities: list[Municipality], referentie, jaar) -> None:
    """Refuse a group or year that fails for every municipality, before any worker starts.

    A named group (arrondissement, buren, …) can fail for one municipality only (no
    neighbours): that one fails in the batch, the others go on. A list or an unknown name fails
    alike for all, and a year outside the data too: then the first error is raised.
    """
    named = isinstance(referentie, str) and referentie.strip().casefold() in (
        load_reference_groups())
    first: LsbError | None = None
    for m in municipalities if named else municipalities[:1]:
        try:
            runner.validate_parameters(ds, m, referentie, None)
        except LsbError as exc:
            first = first or exc
            continue
        runner.validate_parameters(ds, m, referentie, jaar)  # the year, once
        return
    raise first


def _step(pool: _Pool, tasks: deque, outcomes: list[Outcome], meter: Progress) -> None:
    """Wait for a message from any worker and act on it."""
    by_conn = {id(w.conn): w for w in pool.workers}
    ready = wait_for_connections([w.conn for w in pool.workers], timeout=1.0)
    for conn in ready:
        w = by_conn[id(conn)]
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError):
            _worker_died(pool, w, tasks, outcomes, meter)
            continue
        if kind == "fatal":
            raise BatchError(f"Een werkproces kan de gegevens niet laden: {payload}.")
        w.ready = True
        if kind == "done":
            w.task = None
            outcomes.append(payload)
            meter.update(payload)
        if tasks:  # "ready" or "done": the next municipality
            w.task = tasks.popleft()
            try:
                conn.send(w.task)
            except OSError:  # it died meanwhile: the task goes back, the death is handled
                tasks.appendleft(w.task)
                w.task = None
                _worker_died(pool, w, tasks, outcomes, meter)


def _worker_died(pool: _Pool, w: _Worker, tasks: deque, outcomes: list[Outcome],
                 meter: Progress) -> None:
    """A worker ended without saying why: fail its municipality, replace it if work is left."""
    w.process.join(5)
    pool.workers.remove(w)
    with contextlib.suppress(OSError):
        w.conn.close()
    code = w.process.exitcode
    why = (f"signaal {signal.Signals(-code).name}" if code is not None and code < 0
           else f"afsluitcode {code}")
    if not w.ready:  # died while starting: every new worker would do the same
        raise BatchError(f"Een werkproces van de reeks stopte bij het starten ({why}).")
    if w.task is not None:
        nis, name, slug = w.task
        outcome = Outcome(nis=nis, name=name, slug=slug, status=FAILED, reason=(
            f"Het werkproces dat dit rapport maakte, stopte onverwacht ({why}; te weinig "
            "geheugen?). Het vorige rapport, als er een was, blijft ongewijzigd."))
        outcomes.append(outcome)
        meter.update(outcome)
    if tasks:
        pool.start_worker()


__all__ = [
    "BatchError",
    "BatchResult",
    "Outcome",
    "Progress",
    "Selection",
    "SelectionError",
    "flemish_municipalities",
    "run_batch",
    "select_municipalities",
    "summary_text",
]
