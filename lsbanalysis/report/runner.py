"""Run the chapter notebooks and publish the analyserapport: ``build_report()`` / ``lsb report``.

Steps
  1. Validate the parameters with the library's own errors before any kernel starts: the store
     loads, the municipality exists today and is Flemish, the reference group resolves, the
     year has data, every chapter notebook exists and has a cell tagged ``parameters``, and the
     report folder can be made.
  2. Take a lock on ``<out_root>/.<slug>.lock``: one run per report at a time (a waiting run
     says so; ``lock_timeout`` bounds the wait). Leftovers of a killed run are cleaned up.
  3. Skip when the published report's fingerprint (parameters + the processed store's content
     + code and chapter notebooks) is unchanged, unless ``force``.
  4. Compute the comparison once (report/shared.py) while ``jobs`` kernels start, then execute
     the chapters with papermill into ``<out_root>/.<slug>-building-XXXX``: each kernel runs
     its share of them in turn, longest first, reset before each (report/pool.py); the exports
     are written meanwhile. Assemble the HTML, write ``manifest.json``, then replace the
     published folder with two renames. On failure the published report stays untouched
     and the failure (``fout.txt``) and failed executed notebooks are kept in
     ``<out_root>/<slug>.failed/``. On an interrupt (Ctrl-C, SIGTERM) the kernels are killed,
     the build folder is removed and the interrupt is raised again.

  5. With ``pdf=True`` the HTML is printed to ``analyserapport.pdf`` inside the build folder,
     before the swap, so HTML and PDF are published together (never a stale PDF next to a new
     HTML). Without a browser the HTML is published alone and ``ReportResult.pdf_note`` says
     how to get the PDF; if the browser fails, the run fails and nothing is published.

The slug names the parameter set: ``herenthout-isom`` (latest year per indicator) and
``herenthout-isom-2022`` (reference year 2022) are different reports with their own lock.

Layout of a published report (``reports/herenthout-isom/``)::

    analyserapport.html                 the report: one self-contained file
    analyserapport.pdf                  the same, printed (A4), with ``pdf=True``
    manifest.json                       parameters, sources, code version, timings, fingerprint
    vaststellingen.csv, kerncijfers.csv  findings and key figures (report/exports.py); with
    toets_vorig_plan.csv, wijzigingen.csv  a previous-plan file / a previously published report
    notebooks/<chapter>.ipynb           the executed chapter notebooks
    chapters/<chapter>/figures/*.png|svg  figures a chapter saved with save_figure()
    chapters/<chapter>/tables/*.csv       tables a chapter saved with save_table()

Each chapter gets ONE ``output_dir`` parameter, ``<report>/chapters/<chapter>`` (an absolute path
inside the build folder while it runs), and its kernel runs the chapter with that folder as
working directory, so stray relative writes end up in the report, never in the repository.

Chapter parameters: ``gemeente`` (the municipality's Dutch name, as resolved), ``referentie`` (the
group id, e.g. ``ISOM``, or for a list the members' NIS codes separated by commas), ``jaar``
(int or None), ``output_dir`` (str), ``store_dir`` (absolute path of the store that was
validated and fingerprinted) and, for notebooks whose ``parameters`` cell declares it,
``gedeeld`` (the path of the shared comparison).

Why this way: a chapter costs a kernel start, the imports of pandas and matplotlib, the
comparison and its kernvaststellingen, and its charts; only the charts differ per chapter. The
comparison is computed once and handed over as a file (a kernel is a separate process); a
kernel imports once and runs several chapters. Each chapter remains a papermill notebook with
its own executed copy, cell numbers, timeout and failure message, and Ctrl-C kills every
kernel (``_Kernels``).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from filelock import FileLock, Timeout

import lsbanalysis
from lsbanalysis import __version__
from lsbanalysis.analysis.groups import ReferenceGroup
from lsbanalysis.analysis.validation import check_year, validate_request
from lsbanalysis.atomic import replace_dir
from lsbanalysis.errors import LsbError, os_error_advice, os_error_message, shown_path
from lsbanalysis.names import Municipality
from lsbanalysis.paths import NOTEBOOKS_DIR, PACKAGE_DIR, REPORTS_DIR
from lsbanalysis.report import pool, shared
from lsbanalysis.report.assemble import ReportContext, assemble_html, slug
from lsbanalysis.report.exports import write_exports
from lsbanalysis.report.outputs import FIGURES, TABLES
from lsbanalysis.sources import sha256_of

#: (chapter id, notebook file in notebooks/, Dutch title), in report order.
CHAPTERS: list[tuple[str, str, str]] = [
    ("samenvatting", "01_samenvatting.ipynb", "Samenvatting"),
    ("bevolking", "02_bevolking.ipynb", "Bevolking en vergrijzing"),
    ("armoede", "03_armoede.ipynb", "Armoede"),
    ("inkomen", "04_inkomen.ipynb", "Inkomen"),
    ("arbeid", "05_arbeid.ipynb", "Arbeid"),
    ("wonen", "06_wonen.ipynb", "Wonen"),
    ("samenleven", "07_samenleven.ipynb", "Samenleven en integratie"),
    ("gezondheid", "08_gezondheid.ipynb", "Gezondheid"),
    ("vaststellingen", "09_vaststellingen.ipynb", "Alle vaststellingen"),
]
REPORT_FILE = "analyserapport.html"
PDF_FILE = "analyserapport.pdf"
MANIFEST_FILE = "manifest.json"
#: Bumped when the report layout or the fingerprint recipe changes.
REPORT_FORMAT = 2
KERNEL_NAME = "python3"
#: Seconds one cell may run before the chapter counts as failed.
CELL_TIMEOUT = 1800
#: Seconds an interrupted run waits for its chapter threads after killing their kernels.
STOP_WAIT = 10
#: Store manifest fields that change on every build without the data changing.
VOLATILE_MANIFEST_FIELDS = ("built_at",)
PARAMETERS_TAG = "parameters"
CODE_SUFFIXES = (".py", ".toml", ".csv", ".css", ".html")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ASSIGNED = re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", re.MULTILINE)
#: The chapter parameter with the path of the shared comparison (report/shared.py); passed
#: only to notebooks that declare it (others compute the comparison themselves).
SHARED_PARAMETER = "gedeeld"


class ReportError(LsbError):
    """A report could not be made: a chapter failed, or a notebook is missing.

    For a failing chapter, ``chapter``, ``notebook`` and ``cell`` (1-based position of the
    failing cell in the chapter notebook) are set, and ``failed_dir`` holds the executed notebook.
    """

    def __init__(
        self,
        message: str,
        *,
        chapter: str | None = None,
        notebook: str | None = None,
        cell: int | None = None,
        failed_dir: Path | None = None,
    ) -> None:
        super().__init__(message)
        self.chapter = chapter
        self.notebook = notebook
        self.cell = cell
        self.failed_dir = failed_dir


class ReportBusyError(ReportError):
    """Another run holds the lock of this report."""


@dataclass
class ReportResult:
    html: Path  # the published analyserapport.html
    folder: Path  # the published report folder
    skipped: bool  # True: unchanged since the last run, nothing was executed
    fingerprint: str
    finished_at: str | None  # UTC time the published report was finished
    durations: dict[str, float] = field(default_factory=dict)  # seconds per chapter (this run)
    total_seconds: float = 0.0
    manifest: dict = field(default_factory=dict)
    pdf: Path | None = None  # the published analyserapport.pdf, if there is one
    pdf_note: str | None = None  # why a PDF was asked for but not made (no browser)


# -- parameters ----------------------------------------------------------------------------


def validate_parameters(
    ds, gemeente: str | int, referentie: str | Sequence[str], jaar: int | None
) -> tuple[Municipality, ReferenceGroup]:
    """The target and its reference group; raises the library's errors for bad parameters.

    The same validation as ``ds.compare`` (one path for every command), plus what the report
    needs: a Flemish municipality, and data up to the reference year.
    """
    request = validate_request(ds, gemeente, referentie, jaar, flemish=True)
    if request.year is not None and hasattr(ds, "compare"):
        try:  # the definitive check: the same YearError as lsb compare
            ds.compare(request.target, referentie, year=request.year)
        except LsbError:
            raise
        except Exception as exc:  # a problem of the analysis core; the chapters will tell
            warnings.warn(f"jaarcontrole met ds.compare mislukt: {exc!r}", stacklevel=2)
    return request.target, request.group


def _referentie_text(referentie: str | Sequence[str]) -> str:
    return referentie if isinstance(referentie, str) else ",".join(map(str, referentie))


def report_slug(
    target: Municipality, referentie: str | Sequence[str], jaar: int | None = None
) -> str:
    """Folder name of a report: ``herenthout-isom``, ``herenthout-isom-2022`` for a year."""
    ref = slug(_referentie_text(referentie)) or "referentie"
    if len(ref) > 60:  # a long list of municipalities
        digest = hashlib.sha256(ref.encode()).hexdigest()[:8]
        ref = f"{ref[:50].rstrip('-')}-{digest}"
    return f"{slug(target.name)}-{ref}" + (f"-{int(jaar)}" if jaar is not None else "")


def check_chapter_notebook(path: Path) -> set[str]:
    """Refuse a chapter notebook that papermill cannot parameterise; returns the names its
    ``parameters`` cell assigns.

    Without a code cell tagged ``parameters`` papermill only warns and the notebook's own
    defaults win: the report would silently be about another municipality.
    """
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:
        raise ReportError(
            f"Hoofdstuk-notebook {path} is geen leesbaar notebook ({type(exc).__name__}: "
            f"{str(exc)[:200]})."
        ) from None
    cells = [
        c for c in nb.cells
        if c.cell_type == "code" and PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])
    ]
    if not cells:
        raise ReportError(
            f"Hoofdstuk-notebook {path} heeft geen codecel met de tag 'parameters': de "
            "parameters (gemeente, referentie, jaar, …) zouden niet doorgegeven worden en het "
            "hoofdstuk zou over de standaardgemeente van het notebook gaan. Geef de cel met de "
            "standaardwaarden de tag 'parameters'."
        )
    return {m.group(1) for c in cells for m in _ASSIGNED.finditer(c.source)}


def _parameters_injected(nb: nbformat.NotebookNode) -> bool:
    """Did papermill inject the parameters right after the cell tagged ``parameters``?"""
    tags = [c.get("metadata", {}).get("tags", []) for c in nb.cells]
    return any(
        PARAMETERS_TAG in before and "injected-parameters" in after
        for before, after in zip(tags, tags[1:], strict=False)
    )


# -- fingerprint ---------------------------------------------------------------------------


def store_digests(store_dir: Path) -> dict[str, str]:
    """sha256 of each file of the processed store."""
    from lsbanalysis.store import io

    return {
        name: sha256_of(store_dir / name)
        for name in io.STORE_FILES
        if (store_dir / name).is_file()
    }


def store_content_digests(store_dir: Path) -> dict[str, str]:
    """What the report fingerprint depends on: the store's content, not when it was built.

    sha256 of each data file, and of the manifest without its volatile fields (``built_at``),
    so rebuilding identical data does not make an unchanged report run again.
    """
    from lsbanalysis.store import io

    out = {
        name: sha256_of(store_dir / name)
        for name in io.STORE_FILES
        if name != io.MANIFEST_FILE and (store_dir / name).is_file()
    }
    manifest = {
        k: v for k, v in io.read_manifest(store_dir).items() if k not in VOLATILE_MANIFEST_FIELDS
    }
    out[io.MANIFEST_FILE] = hashlib.sha256(
        json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return out


def _notebook_digest(path: Path) -> str:
    """Hash of a notebook's cells (type, source, tags), ignoring outputs and metadata noise."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:
        return sha256_of(path)
    cells = [
        (c.cell_type, c.source, sorted(c.get("metadata", {}).get("tags", []))) for c in nb.cells
    ]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode()).hexdigest()


def code_digest(
    notebooks_dir: Path, chapters: Sequence[tuple[str, str, str]], package_dir: Path | None = None
) -> str:
    """sha256 over the package's code and data files and the chapter notebooks' cells."""
    package_dir = Path(package_dir or PACKAGE_DIR)
    h = hashlib.sha256(__version__.encode())
    for path in sorted(package_dir.rglob("*")):
        if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts and path.is_file():
            h.update(path.relative_to(package_dir).as_posix().encode())
            h.update(sha256_of(path).encode())
    for chapter_id, filename, title in chapters:
        h.update(f"{chapter_id}\0{filename}\0{title}".encode())
        h.update(_notebook_digest(notebooks_dir / filename).encode())
    return h.hexdigest()


def git_commit() -> str | None:
    """The repository's HEAD commit, or None (no git, no repository, no commit yet)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(PACKAGE_DIR), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", commit) else None


def _parameters(target: Municipality, group: ReferenceGroup, referentie, jaar) -> dict:
    return {
        "gemeente": target.name,
        "nis": target.nis,
        "referentie": _referentie_text(referentie),
        "group": {
            "id": group.id,
            "label": group.label,
            "members": [{"nis": m.nis, "name": m.name} for m in group.members],
        },
        "jaar": jaar,
    }


def _fingerprint(parameters: dict, store: dict[str, str], code: str, chapters) -> str:
    payload = {
        "report_format": REPORT_FORMAT,
        "nis": parameters["nis"],
        "group": [parameters["group"]["id"], [m["nis"] for m in parameters["group"]["members"]]],
        "jaar": parameters["jaar"],
        "store": store,
        "code": code,
        "chapters": [list(c) for c in chapters],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# -- running -------------------------------------------------------------------------------


class _Kernels:
    """The kernels of one build, so that an interrupted build can stop every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._managers: list = []
        self.stopping = False

    def manager_class(self) -> type:
        """A kernel manager class that registers its kernels here (passed to nbclient)."""
        from jupyter_client import AsyncKernelManager

        kernels = self

        class _RegisteredKernelManager(AsyncKernelManager):
            async def start_kernel(self, **kwargs):
                if kernels.stopping:
                    raise RuntimeError("de run is onderbroken")
                await super().start_kernel(**kwargs)
                with kernels._lock:
                    kernels._managers.append(self)
                    stopping = kernels.stopping
                if stopping:  # interrupted while this kernel was starting
                    kernels.kill(self)

        return _RegisteredKernelManager

    @staticmethod
    def kill(manager) -> None:
        """SIGKILL a kernel's process group: the kernel and whatever it started."""
        provisioner = getattr(manager, "provisioner", None)
        pgid = getattr(provisioner, "pgid", None)
        pid = getattr(provisioner, "pid", None)
        try:
            if pgid and pgid != os.getpgrp():  # jupyter_client starts kernels in a new session
                os.killpg(pgid, signal.SIGKILL)
            elif pid:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # already gone

    def stop(self) -> None:
        with self._lock:
            self.stopping = True
            managers = list(self._managers)
        for manager in managers:
            self.kill(manager)

    def adopt(self, manager) -> bool:
        """Register a kernel started by an earlier build (a :class:`KernelPool`'s); False when
        this build is already stopping (the kernel is then killed)."""
        with self._lock:
            if not self.stopping:
                self._managers.append(manager)
                return True
        self.kill(manager)
        return False

    def release(self, manager) -> bool:
        """Unregister a kernel that outlives this build; False when the build is stopping."""
        with self._lock:
            if self.stopping:
                return False
            with suppress(ValueError):
                self._managers.remove(manager)
            return True


class KernelPool:
    """Chapter kernels kept from one report to the next, for a process that builds many
    reports (a batch worker: ``build_report(kernels=pool)``).

    Starting a kernel and importing the chapter module in it costs more than a small chapter,
    and the kernel's dataset, fonts and boundaries are read on first use; a kept kernel has
    them. A chapter starts on a kernel made like new all the same (:func:`pool.start_chapter`),
    so the report is the one a fresh kernel makes (tests/test_report_batch.py compares them).
    Only a kernel whose chapters all ended normally comes back; one that ran a failing chapter
    or was interrupted is killed. After :attr:`max_reports` reports a kernel is retired, which
    bounds what it can accumulate. :meth:`close` kills what is left; a kernel also ends within
    a second when its process dies (ipykernel watches its parent).
    """

    def __init__(self, max_reports: int = 40) -> None:
        self.max_reports = max_reports
        self._lock = threading.Lock()
        self._idle: list = []
        self._uses: dict[int, int] = {}
        self._closed = False

    def take(self):
        """A running kernel, or None (the caller starts one and may :meth:`give_back` it)."""
        from jupyter_core.utils import run_sync

        while True:
            with self._lock:
                if not self._idle:
                    return None
                manager = self._idle.pop()
            try:
                if run_sync(manager.is_alive)():
                    return manager
            except Exception:
                pass
            self._discard(manager)

    def give_back(self, manager) -> None:
        """Keep ``manager``'s kernel for the next report (or retire it)."""
        with self._lock:
            uses = self._uses.get(id(manager), 0) + 1
            keep = not self._closed and uses < self.max_reports
            if keep:
                self._uses[id(manager)] = uses
                self._idle.append(manager)
        if not keep:
            self._discard(manager)

    def _discard(self, manager) -> None:
        with self._lock:
            self._uses.pop(id(manager), None)
        _shutdown(manager)

    def close(self) -> None:
        """Kill every kept kernel; the pool keeps no more."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for manager in idle:
            self._discard(manager)


def _shutdown(manager) -> None:
    """SIGKILL a kernel's process group, wait for it and clean up its files."""
    from jupyter_core.utils import run_sync

    try:
        run_sync(manager.shutdown_kernel)(now=True)
    except Exception:
        _Kernels.kill(manager)


@contextmanager
def _signals_deferred():
    """Ignore a second Ctrl-C / SIGTERM / SIGHUP while an interrupted run cleans up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    for sig in saved:
        signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _queue_order(chapters, notebooks_dir: Path, folder: Path) -> list:
    """The chapters, longest first: the kernels then end at about the same time, and the short
    chapters that open with the kernvaststellingen (the summary, the annex) come last, when the
    runner has long written them. Longest by the published report's durations, else by the
    number of charts a notebook draws."""
    published = (_read_published(folder) or {}).get("durations", {}).get("chapters", {})

    def work(item) -> float:
        chapter, filename, _ = item
        if isinstance(published.get(chapter), int | float):
            return float(published[chapter])
        try:
            nb = nbformat.read(str(notebooks_dir / filename), as_version=4)
        except Exception:
            return 0.0
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        return float(sum(code.count(call) for call in ("chart(", "figure(", "income_bands(")))

    return sorted(chapters, key=work, reverse=True)  # stable: report order among equals


class _ChapterRun:
    """The chapters of one build, executed by a few pooled kernels (see report/pool.py).

    Each worker thread starts one kernel (importing the chapter module while the runner
    computes the shared comparison), waits until that comparison is written (``ready``), then
    takes the next chapter from the queue until none is left, the run fails or it is aborted.
    Results go to a queue that the runner's own thread reads (:meth:`report`).
    """

    def __init__(self, chapters, notebooks_dir: Path, tmp: Path, params: dict,
                 declared: dict[str, set[str]], shared_path: str,
                 kept: KernelPool | None = None) -> None:
        self.notebooks_dir, self.tmp, self.params = notebooks_dir, tmp, params
        self.declared, self.shared_path, self.kept = declared, shared_path, kept
        self.kernels = _Kernels()
        self.ready, self.stop = threading.Event(), threading.Event()
        self.todo: queue.SimpleQueue = queue.SimpleQueue()
        for item in chapters:  # in the order given: see _queue_order()
            self.todo.put(item)
        self.done: queue.SimpleQueue = queue.SimpleQueue()
        self.durations: dict[str, float] = {}
        self.errors: dict[str, BaseException] = {}
        #: chapter -> its executed notebook as papermill wrote it (read again only without it)
        self.executed: dict[str, nbformat.NotebookNode] = {}

    def worker(self) -> None:
        from jupyter_core.utils import run_sync

        km, start_error, clean = None, None, False
        try:
            km = self.kept.take() if self.kept is not None else None
            if km is not None and not self.kernels.adopt(km):
                return
            if km is None:
                try:
                    km = self.kernels.manager_class()(kernel_name=KERNEL_NAME)
                    run_sync(km.start_kernel)(extra_arguments=pool.kernel_arguments(),
                                              cwd=str(self.tmp))
                except Exception as exc:  # reported with the first chapter this worker takes
                    start_error = exc
            self.ready.wait()
            while not self.stop.is_set():
                try:
                    chapter, filename, title = self.todo.get_nowait()
                except queue.Empty:
                    clean = start_error is None
                    return
                if start_error is not None:
                    self.done.put((chapter, title, start_error))
                    return
                params = dict(self.params)
                if SHARED_PARAMETER in self.declared.get(chapter, ()):
                    params[SHARED_PARAMETER] = self.shared_path
                try:
                    seconds, self.executed[chapter] = _run_chapter(
                        self.notebooks_dir / filename,
                        self.tmp / "notebooks" / f"{chapter}.ipynb",
                        self.tmp / "chapters" / chapter,
                        params,
                        km,
                    )
                except Exception as exc:  # the kernel may be in any state: use it no more
                    self.done.put((chapter, title, exc))
                    return
                self.done.put((chapter, title, seconds))
        finally:
            if km is not None:
                if (clean and self.kept is not None and not self.stop.is_set()
                        and self.kernels.release(km)):
                    self.kept.give_back(km)
                else:
                    _shutdown(km)

    def report(self, say: Callable[[str], None]) -> None:
        """Record and tell the chapters finished since the last call; a failure stops the run
        (chapters not yet started are not run)."""
        while True:
            try:
                chapter, title, result = self.done.get_nowait()
            except queue.Empty:
                return
            if isinstance(result, BaseException):
                self.errors[chapter] = result
                self.stop.set()
                say(f"{title}: mislukt")
            else:
                self.durations[chapter] = result
                say(f"{title}: klaar ({result:.1f} s)")

    def abort(self) -> None:
        self.stop.set()
        self.ready.set()
        self.kernels.stop()


def _run_chapter(notebook: Path, executed: Path, output_dir: Path, parameters: dict, km
                 ) -> tuple[float, nbformat.NotebookNode]:
    """Execute one chapter with papermill on the running kernel ``km``; returns the seconds
    it took and the executed notebook (as written to ``executed``)."""
    import papermill

    start = time.perf_counter()
    output_dir.mkdir(parents=True, exist_ok=True)
    nb = papermill.execute_notebook(
        str(notebook),
        str(executed),
        parameters={**parameters, "output_dir": str(output_dir)},
        kernel_name=KERNEL_NAME,
        progress_bar=False,
        execution_timeout=CELL_TIMEOUT,
        engine_name=pool.register_engine(),
        km=km,
        # The kernel's working directory, set by the chapter preamble. Not papermill's
        # ``cwd=``: that calls os.chdir(), which changes the directory of the whole process
        # and races between the runner's threads.
        output_dir=str(output_dir),
    )
    if not _parameters_injected(nb):  # the notebook papermill has just written
        raise ReportError(
            f"papermill heeft de parameters niet in {notebook.name} gezet (geen cel "
            "'injected-parameters' na de cel met de tag 'parameters')."
        )
    return time.perf_counter() - start, nb


def _short(text: str, limit: int = 600) -> str:
    text = text.strip().rstrip(".")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_line(source: str) -> str:
    line = next((ln.strip() for ln in str(source).splitlines() if ln.strip()), "")
    return line if len(line) <= 80 else line[:77] + "…"


def _source_position(executed: Path, cell_index: int) -> int:
    """1-based position in the chapter notebook of cell ``cell_index`` of the executed one.

    papermill counts the injected-parameters cell (and, in the saved file, adds error markers).
    """
    try:
        nb = nbformat.read(str(executed), as_version=4)
    except Exception:
        return cell_index + 1
    cells = [
        c
        for c in nb.cells
        if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])
    ]
    injected = next(
        (
            i
            for i, c in enumerate(cells)
            if "injected-parameters" in c.get("metadata", {}).get("tags", [])
        ),
        None,
    )
    shift = 1 if injected is not None and cell_index > injected else 0
    return cell_index - shift + 1


@dataclass
class _Failure:
    chapter: str
    notebook: str
    title: str
    cell: int | None
    text: str


def _describe(
    chapter: str, filename: str, title: str, exc: BaseException, executed: Path
) -> _Failure:
    from papermill.exceptions import PapermillExecutionError

    where = f"hoofdstuk {title!r} ({chapter}, notebook {filename})"
    if isinstance(exc, PapermillExecutionError):
        cell = _source_position(executed, exc.cell_index)
        error = _ANSI.sub("", f"{exc.ename}: {exc.evalue}")
        text = (
            f"{where} faalt in cel {cell} (uitvoering [{exc.exec_count}]: "
            f"`{_first_line(exc.source)}`): {error}"
        )
        return _Failure(chapter, filename, title, cell, text)
    if isinstance(exc, OSError):  # papermill could not write the executed notebook
        return _Failure(chapter, filename, title, None,
                        f"{where} faalt: {os_error_message(exc, what=str(executed))}")
    if isinstance(exc, ReportError):
        return _Failure(chapter, filename, title, None, f"{where} faalt: {exc}")
    return _Failure(
        chapter,
        filename,
        title,
        None,
        f"{where} faalt: {type(exc).__name__}: {_ANSI.sub('', str(exc)).strip()}",
    )


def _error_outputs(chapter: str, filename: str, title: str, executed: Path,
                   nb: nbformat.NotebookNode) -> _Failure | None:
    """A failure for the first output of type 'error' in executed notebook ``nb`` (written
    to ``executed``), if any."""
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                cell_no = _source_position(executed, index)
                error = _ANSI.sub("", f"{out.get('ename')}: {out.get('evalue')}")
                text = (
                    f"hoofdstuk {title!r} ({chapter}, notebook {filename}) bevat een fout "
                    f"in cel {cell_no} (`{_first_line(cell.source)}`): {error}"
                )
                return _Failure(chapter, filename, title, cell_no, text)
    return None


FAILURE_FILE = "fout.txt"


def _whole_notebook(path: Path) -> bool:
    """An executed notebook that was written whole: a write on a full disk leaves 0 bytes or
    a file cut short, which is not kept."""
    try:
        json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return True


def _keep_failed(failures: list[_Failure], tmp: Path, failed_dir: Path, message: str) -> str:
    """Keep the failure record; returns a sentence to add when (part of) it could not be kept.

    The explanation (``fout.txt``, small) is written first, so that a full disk still leaves
    it; the executed notebooks are moved after it (a rename in the same folder needs no space).
    """
    shutil.rmtree(failed_dir, ignore_errors=True)
    try:
        failed_dir.mkdir(parents=True, exist_ok=True)
        _write_text(failed_dir / FAILURE_FILE, f"{_now()}\n{message}\n")
    except OSError as exc:
        shutil.rmtree(failed_dir, ignore_errors=True)
        return f" De foutgegevens konden niet bewaard worden: {os_error_message(exc)}"
    lost = []
    for f in failures:
        executed = tmp / "notebooks" / f"{f.chapter}.ipynb"
        if _whole_notebook(executed):  # not one cut short by a full disk
            try:
                executed.rename(failed_dir / executed.name)
            except OSError:
                (failed_dir / executed.name).unlink(missing_ok=True)
                lost.append(executed.name)
    if lost:
        return (f" Het uitgevoerde notebook ({', '.join(lost)}) kon niet bewaard worden "
                f"(schijf vol?); de uitleg staat in {failed_dir / FAILURE_FILE}.")
    return ""


def _clean_stale(out_root: Path, name: str) -> None:
    """Leftovers of a run that was killed (we hold the lock, so none is in use)."""
    folder = out_root / name
    for backup in sorted(out_root.glob(f".{name}-previous-*")):
        if not folder.exists():  # killed between the two renames: put the old report back
            backup.rename(folder)
        else:
            shutil.rmtree(backup, ignore_errors=True)
    for tmp in out_root.glob(f".{name}-building-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def _write_text(path: Path, text: str) -> None:
    """Write a file; an OSError names the file (a failed write() alone does not)."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise


def _prepare_out_root(out_root: Path) -> None:
    """The folder for the reports: made if missing (not its parents), and writable."""
    try:
        if not out_root.is_dir() and out_root.parent.exists() and not out_root.parent.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(out_root.parent))
        if not out_root.is_dir() and not out_root.parent.is_dir():
            raise ReportError(
                f"De map {shown_path(out_root.parent)} bestaat niet, dus de map voor de rapporten "
                f"({shown_path(out_root.name)}) kan er niet in komen: maak ze eerst aan of kies "
                "een andere map (--uit)."
            )
        out_root.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_root, prefix=".lsb-probe-"):
            pass
    except OSError as exc:
        raise ReportError(
            f"Kan de map voor de rapporten {shown_path(out_root)} niet gebruiken: "
            f"{os_error_advice(exc)}."
        ) from exc


def _read_published(folder: Path) -> dict | None:
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if (folder / REPORT_FILE).is_file() else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sources(manifest: dict) -> list[dict]:
    keys = ("id", "title", "publisher", "edition", "attribution", "licence", "page")
    return [
        {
            **{k: s.get(k) for k in keys},
            "files": [
                {"name": f.get("name"), "sha256": f.get("sha256")} for f in s.get("files", [])
            ],
        }
        for s in manifest.get("sources", [])
    ]


def build_report(
    gemeente: str | int,
    referentie: str | Sequence[str],
    jaar: int | None = None,
    *,
    out_root: str | Path = REPORTS_DIR,
    force: bool = False,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    chapters: Sequence[tuple[str, str, str]] = CHAPTERS,
    jobs: int = 2,
    store_dir: str | Path | None = None,
    lock_timeout: float = 600,
    progress: Callable[[str], None] | None = None,
    pdf: bool = False,
    dataset=None,
    kernels: KernelPool | None = None,
) -> ReportResult:
    """Make (or keep) the analyserapport of ``gemeente`` compared with ``referentie``.

    Returns where the report is and whether anything ran. Raises the library's errors for bad
    parameters (before any notebook runs), :class:`ReportBusyError` when another run holds the
    report's lock for ``lock_timeout`` seconds, and :class:`ReportError` when a chapter fails
    or the report cannot be written. ``progress`` receives one Dutch line per step worth
    telling (waiting for the lock, each finished chapter). ``pdf``: also print the report to
    ``analyserapport.pdf`` (see :mod:`lsbanalysis.report.pdf`). ``dataset``: the store already
    loaded (``lsbanalysis.load(store_dir)``), reused instead of loading it again, as the batch
    of :mod:`lsbanalysis.report.batch` does per worker; ``store_dir`` is then not read.
    ``kernels``: chapter kernels kept from an earlier report and for the next one (a batch
    worker's :class:`KernelPool`); without it the build starts its own and stops them.
    """
    out_root, notebooks_dir = Path(out_root), Path(notebooks_dir)
    chapters = [tuple(c) for c in chapters]
    say = progress or (lambda _msg: None)
    if not chapters:
        raise ReportError("Geen hoofdstukken opgegeven voor het analyserapport.")
    ds = dataset if dataset is not None else lsbanalysis.load(store_dir)
    jaar = check_year(jaar)  # e.g. a numpy integer or "2022": a JSON-safe int from here on
    target, group = validate_parameters(ds, gemeente, referentie, jaar)
    missing = [str(notebooks_dir / f) for _, f, _ in chapters if not (notebooks_dir / f).is_file()]
    if missing:
        raise ReportError(f"Hoofdstuk-notebook(s) ontbreken: {', '.join(missing)}.")
    declared = {chapter: check_chapter_notebook(notebooks_dir / filename)
                for chapter, filename, _ in chapters}

    name = report_slug(target, referentie, jaar)
    folder = out_root / name
    _prepare_out_root(out_root)
    lock = FileLock(str(out_root / f".{name}.lock"), timeout=lock_timeout)
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            say(f"Er loopt al een run voor {folder}; wachten tot die klaar is "
                f"(hoogstens {lock_timeout:g} s)…")
            lock.acquire()
    except Timeout:
        raise ReportBusyError(
            f"Er loopt al een run voor dit rapport ({folder}); na {lock_timeout:g} s wachten "
            "is het slot nog niet vrij. Probeer later opnieuw of wacht langer (--wacht)."
        ) from None
    except OSError as exc:
        raise ReportError(f"Het slot van het rapport kan niet gemaakt worden. "
                          f"{os_error_message(exc)}") from exc
    try:
        _clean_stale(out_root, name)
        parameters = _parameters(target, group, referentie, jaar)
        store = store_digests(ds.store_dir)
        code = code_digest(notebooks_dir, chapters)
        fingerprint = _fingerprint(parameters, store_content_digests(ds.store_dir), code,
                                   chapters)
        published = _read_published(folder)
        has_pdf = (folder / PDF_FILE).is_file()
        if (not force and published is not None and published.get("fingerprint") == fingerprint
                and (has_pdf or not pdf)):
            # The published report is current: a failure record of an earlier run is stale.
            shutil.rmtree(out_root / f"{name}.failed", ignore_errors=True)
            return ReportResult(
                html=folder / REPORT_FILE,
                folder=folder,
                skipped=True,
                fingerprint=fingerprint,
                finished_at=published.get("finished_at"),
                manifest=published,
                pdf=folder / PDF_FILE if has_pdf else None,
            )
        return _build(
            _Plan(ds=ds, target=target, group=group, parameters=parameters, folder=folder,
                  name=name, notebooks_dir=notebooks_dir, chapters=chapters,
                  jobs=max(1, int(jobs)), fingerprint=fingerprint, store=store, code=code,
                  say=say, pdf=pdf, declared=declared, kernels=kernels)
        )
    finally:
        lock.release()


@dataclass(frozen=True)
class _Plan:
    """Everything one report build needs, decided before the lock-protected build starts."""

    ds: object
    target: Municipality
    group: ReferenceGroup
    parameters: dict
    folder: Path
    name: str
    notebooks_dir: Path
    chapters: list
    jobs: int
    fingerprint: str
    store: dict[str, str]
    code: str
    say: Callable[[str], None]
    pdf: bool = False
    declared: dict[str, set[str]] = field(default_factory=dict)  # chapter -> its parameters
    kernels: KernelPool | None = None  # kept kernels (batch), see build_report()


def _build(plan: _Plan) -> ReportResult:
    ds, target, group, parameters = plan.ds, plan.target, plan.group, plan.parameters
    folder, name, chapters = plan.folder, plan.name, plan.chapters
    notebooks_dir, jobs, say = plan.notebooks_dir, plan.jobs, plan.say
    fingerprint, store, code = plan.fingerprint, plan.store, plan.code
    out_root = folder.parent
    started_at, t0 = _now(), time.perf_counter()
    kept = " Het vorige rapport blijft ongewijzigd." if folder.exists() else ""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-building-", dir=out_root))
    except OSError as exc:
        raise ReportError(f"Het analyserapport is niet gemaakt. {os_error_message(exc)}{kept}"
                          ) from exc
    say(f"{folder.name}: {len(chapters)} hoofdstukken, {min(jobs, len(chapters))} tegelijk")
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the published report is meant to be read
        (tmp / "notebooks").mkdir()
        chapter_params = {
            "gemeente": target.name,
            "referentie": group.id if group.id != "lijst" else ",".join(group.codes),
            "jaar": parameters["jaar"],
            "store_dir": str(Path(ds.store_dir).resolve()),
        }
        shared_path = tmp / shared.SHARED_FILE
        run = _ChapterRun(_queue_order(chapters, notebooks_dir, folder), notebooks_dir, tmp,
                          chapter_params, plan.declared, str(shared_path), plan.kernels)
        workers = ThreadPoolExecutor(max_workers=min(jobs, len(chapters)))
        futures = [workers.submit(run.worker) for _ in range(min(jobs, len(chapters)))]
        try:
            # While the kernels start: the comparison every chapter and export shows, once.
            t_shared = time.perf_counter()
            comparison = shared.prepare(ds, target, group, parameters["jaar"])
            shared.write(comparison, shared_path, chapter_params)
            run.ready.set()  # the chapters start; their findings follow in a second file
            shared_seconds = time.perf_counter() - t_shared
            shared.write_findings(shared.prepare_findings(comparison), shared_path)
            findings_seconds = time.perf_counter() - t_shared - shared_seconds
            # CSV exports and the sections made without a notebook (what is new, previous
            # plan), while the chapters run.
            exports = write_exports(tmp, ds, target, group, parameters["jaar"], folder,
                                    {"parameters": parameters, "sources": _sources(ds.manifest)},
                                    comparison=comparison)
            pending = set(futures)
            while pending:
                _, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                run.report(say)
            for future in futures:
                future.result()  # a bug in the worker itself
            run.report(say)
        except BaseException:  # Ctrl-C, SIGTERM: stop the kernels now, not when they finish
            with _signals_deferred():
                run.abort()
                workers.shutdown(wait=False, cancel_futures=True)
                wait(futures, timeout=STOP_WAIT)  # threads see their dead kernel within ~1 s
            raise
        workers.shutdown(wait=True)
        for used in (shared_path, shared.findings_path(shared_path)):
            used.unlink(missing_ok=True)  # read by the chapters only; not published
        durations, errors = run.durations, run.errors

        failures = [
            _describe(c, f, t, errors[c], tmp / "notebooks" / f"{c}.ipynb")
            for c, f, t in chapters
            if c in errors
        ]
        read = run.executed  # every chapter's, as papermill returned it, when none failed
        if not failures:
            failures = [
                f
                for f in (
                    _error_outputs(c, fn, t, tmp / "notebooks" / f"{c}.ipynb", read[c])
                    for c, fn, t in chapters
                )
                if f is not None
            ]
        if failures:
            # The outputs of a failed build are never published: free their space first, so
            # that the failure record can still be written when the disk is full.
            shutil.rmtree(tmp / "chapters", ignore_errors=True)
            failed_dir = out_root / f"{name}.failed"
            first = failures[0]
            kept = failed_dir / f"{first.chapter}.ipynb"
            executed_first = tmp / "notebooks" / kept.name
            where = (
                f"Het uitgevoerde notebook staat in {kept}."
                if _whole_notebook(executed_first)
                else f"Details in {failed_dir / FAILURE_FILE}."
            )
            message = f"Het analyserapport is niet gemaakt: {_short(first.text)}. {where}"
            if len(failures) > 1:
                message += " Ook mislukt: " + ", ".join(f.title for f in failures[1:]) + "."
            if folder.exists():
                message += " Het vorige rapport blijft ongewijzigd."
            message += _keep_failed(
                failures, tmp, failed_dir, "\n".join([message, *(f.text for f in failures)])
            )
            raise ReportError(
                message,
                chapter=first.chapter,
                notebook=first.notebook,
                cell=first.cell,
                failed_dir=failed_dir,
            )

        t_assemble = time.perf_counter()
        generated = datetime.now(UTC)
        context = ReportContext(
            gemeente=target.name,
            nis=target.nis,
            group_id=group.id,
            group_label=group.label,
            members=tuple((m.nis, m.name) for m in group.members),
            jaar=parameters["jaar"],
            generated_at=generated,
            sources=tuple(ds.manifest.get("sources", [])),
            store_built_at=ds.manifest.get("built_at"),
            git_commit=git_commit(),
        )
        executed = [(c, t, read[c]) for c, _, t in chapters]
        executed[1:1] = exports.sections
        _write_text(tmp / REPORT_FILE, assemble_html(executed, context))
        assemble_seconds = time.perf_counter() - t_assemble
        printed, pdf_note = _print_pdf(tmp, folder, say) if plan.pdf else (None, None)

        def listing(chapter: str, sub: str) -> list[str]:
            base = tmp / "chapters" / chapter / sub
            return sorted(p.relative_to(tmp).as_posix() for p in base.glob("*") if p.is_file())

        total = time.perf_counter() - t0
        manifest = {
            "report_format": REPORT_FORMAT,
            "report": REPORT_FILE,
            "fingerprint": fingerprint,
            "parameters": parameters,
            "store": {
                "dir": str(Path(ds.store_dir).resolve()),
                "built_at": ds.manifest.get("built_at"),
                "files": store,
            },
            "sources": _sources(ds.manifest),
            "exports": exports.files,
            "code": {
                "lsbanalysis_version": __version__,
                "git_commit": context.git_commit,
                "sha256": code,
            },
            "started_at": started_at,
            "finished_at": _now(),
            "durations": {
                # computed once for all chapters: the comparison, then its findings
                "comparison": round(shared_seconds, 2),
                "findings": round(findings_seconds, 2),
                "chapters": {c: round(durations[c], 2) for c, _, _ in chapters},
                "assemble": round(assemble_seconds, 2),
                **({"pdf": round(printed.seconds, 2)} if printed else {}),
                "total": round(total, 2),
            },
            "pdf": {"file": PDF_FILE, "pages": printed.pages} if printed else None,
            "chapters": [
                {
                    "id": c,
                    "title": t,
                    "notebook": f,
                    "executed": f"notebooks/{c}.ipynb",
                    "output_dir": f"chapters/{c}",
                    "figures": listing(c, FIGURES),
                    "tables": listing(c, TABLES),
                }
                for c, f, t in chapters
            ],
        }
        _write_text(tmp / MANIFEST_FILE, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        replace_dir(tmp, folder)
    except OSError as exc:  # a full disk, a read-only or vanished folder while writing
        shutil.rmtree(tmp, ignore_errors=True)
        raise ReportError(f"Het analyserapport is niet gemaakt. {os_error_message(exc)}{kept}"
                          ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out_root / f"{name}.failed", ignore_errors=True)
    return ReportResult(
        html=folder / REPORT_FILE,
        folder=folder,
        skipped=False,
        fingerprint=fingerprint,
        finished_at=manifest["finished_at"],
        durations=durations,
        total_seconds=total,
        manifest=manifest,
        pdf=folder / PDF_FILE if printed else None,
        pdf_note=pdf_note,
    )


def _print_pdf(tmp: Path, folder: Path, say: Callable[[str], None]):
    """Print the built HTML to PDF inside the build folder: (PdfResult or None, note or None).

    No browser: no PDF, and a note that says how to get one. A browser that fails: the run
    fails (nothing is published), so a published folder always holds a matching pair.
    """
    from lsbanalysis.report import pdf

    try:
        printed = pdf.render_pdf(tmp / REPORT_FILE, tmp / PDF_FILE)
    except pdf.PdfEngineMissing as exc:
        say(str(exc))
        return None, str(exc)
    except pdf.PdfError as exc:
        kept = " Het vorige rapport blijft ongewijzigd." if folder.exists() else ""
        raise ReportError(
            f"Het analyserapport is niet gepubliceerd: de PDF kon niet gemaakt worden "
            f"({str(exc).rstrip('.')}).{kept}"
        ) from None
    say(f"PDF: {printed.pages} pagina's ({printed.seconds:.1f} s)")
    return printed, None


__all__ = [
    "CHAPTERS",
    "PDF_FILE",
    "ReportBusyError",
    "ReportError",
    "ReportResult",
    "build_report",
    "code_digest",
    "check_chapter_notebook",
    "report_slug",
    "store_content_digests",
    "store_digests",
    "validate_parameters",
]
