"""Run the chapter notebooks and publish the analyserapport: ``build_report()`` / ``lsb report``.

Steps
  1. Validate the parameters with the library's own errors before any kernel starts: the store
     loads, the municipality exists, the reference group resolves, the year has data.
  2. Take a lock on ``<out_root>/.<slug>.lock``: one run per report at a time.
  3. Skip when the published report's fingerprint (parameters + processed store + code and
     chapter notebooks) is unchanged, unless ``force``.
  4. Execute the chapters with papermill into ``<out_root>/.<slug>-building-XXXX`` (in parallel,
     one kernel process per chapter), assemble the HTML, write ``manifest.json``, then replace
     the published folder with two renames. On failure the published report stays untouched
     and the failed executed notebooks are kept in ``<out_root>/<slug>.failed/``.
  5. With ``pdf=True`` the HTML is printed to ``analyserapport.pdf`` inside the build folder,
     before the swap, so HTML and PDF are published together (never a stale PDF next to a new
     HTML). Without a browser the HTML is published alone and ``ReportResult.pdf_note`` says
     how to get the PDF; if the browser fails, the run fails and nothing is published.

Layout of a published report (``reports/herenthout-isom/``)::

    analyserapport.html                 the report: one self-contained file
    analyserapport.pdf                  the same, printed (A4), with ``pdf=True``
    manifest.json                       parameters, sources, code version, timings, fingerprint
    notebooks/<chapter>.ipynb           the executed chapter notebooks
    chapters/<chapter>/figures/*.png|svg  figures a chapter saved with save_figure()
    chapters/<chapter>/tables/*.csv       tables a chapter saved with save_table()

Each chapter gets ONE ``output_dir`` parameter, ``<report>/chapters/<chapter>`` (an absolute path
inside the build folder while it runs), and its kernel runs with that folder as working
directory, so stray relative writes end up in the report, never in the repository.

Chapter parameters: ``gemeente`` (the municipality's Dutch name, as resolved), ``referentie`` (the
group id, e.g. ``ISOM``, or for a list the members' NIS codes separated by commas), ``jaar``
(int or None), ``output_dir`` (str) and ``store_dir`` (absolute path of the store that was
validated and fingerprinted).
"""

from __future__ import annotations

import hashlib
import json
import numbers
import re
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from filelock import FileLock, Timeout

import lsbanalysis
from lsbanalysis import __version__, fmt
from lsbanalysis.analysis.groups import ReferenceGroup, resolve_group
from lsbanalysis.atomic import replace_dir
from lsbanalysis.errors import LsbError
from lsbanalysis.names import Municipality
from lsbanalysis.paths import NOTEBOOKS_DIR, PACKAGE_DIR, REPORTS_DIR
from lsbanalysis.report.assemble import ReportContext, assemble_html, slug
from lsbanalysis.report.outputs import FIGURES, TABLES
from lsbanalysis.sources import sha256_of

#: (chapter id, notebook file in notebooks/, Dutch title), in report order.
CHAPTERS: list[tuple[str, str, str]] = [
    ("samenvatting", "01_samenvatting.ipynb", "Samenvatting"),
    ("bevolking", "02_bevolking.ipynb", "Bevolking"),
    ("inkomen", "03_inkomen.ipynb", "Inkomen"),
    ("arbeid", "04_arbeid.ipynb", "Arbeid"),
    ("wonen", "05_wonen.ipynb", "Wonen"),
]
REPORT_FILE = "analyserapport.html"
PDF_FILE = "analyserapport.pdf"
MANIFEST_FILE = "manifest.json"
#: Bumped when the report layout or the fingerprint recipe changes.
REPORT_FORMAT = 1
KERNEL_NAME = "python3"
#: Seconds one cell may run before the chapter counts as failed.
CELL_TIMEOUT = 1800
CODE_SUFFIXES = (".py", ".toml", ".csv", ".css", ".html")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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
    """The target and its reference group; raises the library's errors for bad parameters."""
    from lsbanalysis.analysis.compare import YearError

    target = ds.municipality(gemeente)
    group = resolve_group(ds, target, referentie)
    if jaar is not None:
        if isinstance(jaar, bool) or not isinstance(jaar, numbers.Integral):
            raise YearError(f"Ongeldig jaar {jaar!r}: geef een jaartal zoals 2022.")
        jaar = int(jaar)
        years = sorted({int(y) for y in ds.observations["year"].unique()})
        if jaar not in years:
            raise YearError(
                f"Geen gegevens voor {jaar}: de gegevens bestaan voor de jaren {fmt.years(years)}."
            )
        if hasattr(ds, "compare"):  # the definitive check: does any indicator have the year?
            try:
                ds.compare(target, referentie, year=jaar)
            except LsbError:
                raise
            except Exception as exc:  # a problem of the analysis core; the chapters will tell
                warnings.warn(f"jaarcontrole met ds.compare mislukt: {exc!r}", stacklevel=2)
    return target, group


def _referentie_text(referentie: str | Sequence[str]) -> str:
    return referentie if isinstance(referentie, str) else ",".join(map(str, referentie))


def report_slug(target: Municipality, referentie: str | Sequence[str]) -> str:
    """Folder name of a report: ``herenthout-isom``."""
    ref = slug(_referentie_text(referentie)) or "referentie"
    if len(ref) > 60:  # a long list of municipalities
        digest = hashlib.sha256(ref.encode()).hexdigest()[:8]
        ref = f"{ref[:50].rstrip('-')}-{digest}"
    return f"{slug(target.name)}-{ref}"


# -- fingerprint ---------------------------------------------------------------------------


def store_digests(store_dir: Path) -> dict[str, str]:
    """sha256 of each file of the processed store."""
    from lsbanalysis.store import io

    return {
        name: sha256_of(store_dir / name)
        for name in io.STORE_FILES
        if (store_dir / name).is_file()
    }


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


def _run_chapter(notebook: Path, executed: Path, output_dir: Path, parameters: dict) -> float:
    import papermill

    start = time.perf_counter()
    output_dir.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(notebook),
        str(executed),
        parameters={**parameters, "output_dir": str(output_dir)},
        kernel_name=KERNEL_NAME,
        progress_bar=False,
        execution_timeout=CELL_TIMEOUT,
        # ipykernel logs noise here: a warning about unencrypted local TCP at start-up and
        # "KeyboardInterrupt caught" when jupyter_client interrupts it before shutting it down.
        extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        # The kernel's working directory. Not papermill's ``cwd=``: that calls os.chdir(), which
        # changes the directory of the whole process and races between the runner's threads.
        resources={"metadata": {"path": str(output_dir)}},
    )
    return time.perf_counter() - start


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
    return _Failure(
        chapter,
        filename,
        title,
        None,
        f"{where} faalt: {type(exc).__name__}: {_ANSI.sub('', str(exc)).strip()}",
    )


def _error_outputs(chapter: str, filename: str, title: str, executed: Path) -> _Failure | None:
    """A failure for the first output of type 'error' in an executed notebook, if any."""
    nb = nbformat.read(str(executed), as_version=4)
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


def _keep_failed(failures: list[_Failure], tmp: Path, failed_dir: Path, message: str) -> None:
    shutil.rmtree(failed_dir, ignore_errors=True)
    failed_dir.mkdir(parents=True)
    for f in failures:
        executed = tmp / "notebooks" / f"{f.chapter}.ipynb"
        if executed.exists():
            shutil.copy2(executed, failed_dir / executed.name)
    (failed_dir / "fout.txt").write_text(message + "\n", encoding="utf-8")


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
) -> ReportResult:
    """Make (or keep) the analyserapport of ``gemeente`` compared with ``referentie``.

    Returns where the report is and whether anything ran. Raises the library's errors for bad
    parameters (before any notebook runs), :class:`ReportBusyError` when another run holds the
    report's lock for ``lock_timeout`` seconds, and :class:`ReportError` when a chapter fails.
    ``progress`` receives one Dutch line per finished chapter. ``pdf``: also print the report
    to ``analyserapport.pdf`` (see :mod:`lsbanalysis.report.pdf`).
    """
    out_root, notebooks_dir = Path(out_root), Path(notebooks_dir)
    chapters = [tuple(c) for c in chapters]
    say = progress or (lambda _msg: None)
    if not chapters:
        raise ReportError("Geen hoofdstukken opgegeven voor het analyserapport.")
    ds = lsbanalysis.load(store_dir)
    target, group = validate_parameters(ds, gemeente, referentie, jaar)
    jaar = None if jaar is None else int(jaar)  # e.g. a numpy integer: JSON-safe from here on
    missing = [str(notebooks_dir / f) for _, f, _ in chapters if not (notebooks_dir / f).is_file()]
    if missing:
        raise ReportError(f"Hoofdstuk-notebook(s) ontbreken: {', '.join(missing)}.")

    name = report_slug(target, referentie)
    folder = out_root / name
    out_root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_root / f".{name}.lock"), timeout=lock_timeout)
    try:
        lock.acquire()
    except Timeout:
        raise ReportBusyError(
            f"Er loopt al een run voor dit rapport ({folder}); na {lock_timeout:g} s wachten "
            "is het slot nog niet vrij. Probeer later opnieuw."
        ) from None
    try:
        parameters = _parameters(target, group, referentie, jaar)
        store = store_digests(ds.store_dir)
        code = code_digest(notebooks_dir, chapters)
        fingerprint = _fingerprint(parameters, store, code, chapters)
        published = _read_published(folder)
        has_pdf = (folder / PDF_FILE).is_file()
        if (not force and published is not None and published.get("fingerprint") == fingerprint
                and (has_pdf or not pdf)):
            return ReportResult(
                html=folder / REPORT_FILE,
                folder=folder,
                skipped=True,
                fingerprint=fingerprint,
                finished_at=published.get("finished_at"),
                manifest=published,
                pdf=folder / PDF_FILE if has_pdf else None,
            )
        _clean_stale(out_root, name)
        return _build(
            _Plan(ds=ds, target=target, group=group, parameters=parameters, folder=folder,
                  name=name, notebooks_dir=notebooks_dir, chapters=chapters,
                  jobs=max(1, int(jobs)), fingerprint=fingerprint, store=store, code=code,
                  say=say, pdf=pdf)
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


def _build(plan: _Plan) -> ReportResult:
    ds, target, group, parameters = plan.ds, plan.target, plan.group, plan.parameters
    folder, name, chapters = plan.folder, plan.name, plan.chapters
    notebooks_dir, jobs, say = plan.notebooks_dir, plan.jobs, plan.say
    fingerprint, store, code = plan.fingerprint, plan.store, plan.code
    out_root = folder.parent
    started_at, t0 = _now(), time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-building-", dir=out_root))
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
        durations: dict[str, float] = {}
        errors: dict[str, BaseException] = {}
        with ThreadPoolExecutor(max_workers=min(jobs, len(chapters))) as pool:
            futures = {
                pool.submit(
                    _run_chapter,
                    notebooks_dir / filename,
                    tmp / "notebooks" / f"{chapter}.ipynb",
                    tmp / "chapters" / chapter,
                    chapter_params,
                ): (chapter, title)
                for chapter, filename, title in chapters
            }
            for future in as_completed(futures):
                chapter, title = futures[future]
                if future.cancelled():
                    continue
                try:
                    durations[chapter] = future.result()
                except Exception as exc:
                    errors[chapter] = exc
                    say(f"{title}: mislukt")
                    for other in futures:  # chapters not yet started need not run
                        other.cancel()
                else:
                    say(f"{title}: klaar ({durations[chapter]:.1f} s)")

        failures = [
            _describe(c, f, t, errors[c], tmp / "notebooks" / f"{c}.ipynb")
            for c, f, t in chapters
            if c in errors
        ]
        if not failures:
            failures = [
                f
                for f in (
                    _error_outputs(c, fn, t, tmp / "notebooks" / f"{c}.ipynb")
                    for c, fn, t in chapters
                )
                if f is not None
            ]
        if failures:
            failed_dir = out_root / f"{name}.failed"
            first = failures[0]
            kept = failed_dir / f"{first.chapter}.ipynb"
            where = (
                f"Het uitgevoerde notebook staat in {kept}."
                if (tmp / "notebooks" / kept.name).exists()
                else f"Details in {failed_dir / 'fout.txt'}."
            )
            message = f"Het analyserapport is niet gemaakt: {_short(first.text)}. {where}"
            if len(failures) > 1:
                message += " Ook mislukt: " + ", ".join(f.title for f in failures[1:]) + "."
            if folder.exists():
                message += " Het vorige rapport blijft ongewijzigd."
            _keep_failed(
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
        executed = [(c, t, tmp / "notebooks" / f"{c}.ipynb") for c, _, t in chapters]
        (tmp / REPORT_FILE).write_text(assemble_html(executed, context), encoding="utf-8")
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
            "code": {
                "lsbanalysis_version": __version__,
                "git_commit": context.git_commit,
                "sha256": code,
            },
            "started_at": started_at,
            "finished_at": _now(),
            "durations": {
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
        (tmp / MANIFEST_FILE).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        replace_dir(tmp, folder)
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
    "report_slug",
    "store_digests",
    "validate_parameters",
]
