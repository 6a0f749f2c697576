"""The analyserapport as PDF: headless Chromium (Debian's ``chromium``) prints the HTML.

Playwright drives the browser the system provides (never a browser of its own). The report's
print stylesheet does the layout: A4, cover page, running header and page numbers in the
``@page`` margin boxes. Chromium cannot fill in page numbers in a table of contents
(``target-counter`` is not implemented), so the report is printed twice: the first PDF tells on
which page each table-of-contents target landed (its named destinations), the numbers are
written into the contents, and the second print is the PDF. The page-number boxes have a fixed
width, so filling them in moves nothing; the result is checked and printed once more if a
target still moved.

The page makes no network request: everything but ``file:`` and ``data:`` URLs is refused.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lsbanalysis.errors import LsbError

#: Environment variable naming the Chromium executable (else the first one on PATH).
BROWSER_ENV = "LSB_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
#: Headless Chromium on a machine without network or display (see the machine notes).
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
PDF_OPTIONS = {
    "format": "A4",
    "prefer_css_page_size": True,
    "print_background": True,
    "display_header_footer": False,  # the report's own @page margin boxes
    "outline": True,  # bookmarks from the headings
    "tagged": True,  # a tagged (accessible) PDF: structure, alt texts, language
}
INSTALL_HINT = (
    "installeer Chromium met scripts/system_deps.sh (Debian: apt-get install chromium) en "
    "draai het rapport opnieuw met --pdf"
)
#: Seconds a page may take to load or print.
TIMEOUT = 180


class PdfError(LsbError):
    """The PDF could not be made."""


class PdfEngineMissing(PdfError):
    """No browser (or no Playwright) to print with: the HTML can still be made."""


@dataclass(frozen=True)
class PdfResult:
    path: Path
    pages: int
    seconds: float
    toc_pages: dict[str, int]  # table-of-contents target id → page number (1 = cover)


def find_browser() -> str | None:
    """Path of the Chromium executable: ``$LSB_CHROMIUM``, else the first on PATH, else None."""
    named = os.environ.get(BROWSER_ENV)
    if named:
        return named if Path(named).is_file() else shutil.which(named)
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def engine_problem() -> str | None:
    """Why no PDF can be made here (one Dutch sentence), or None when it can."""
    if find_browser() is None:
        return f"geen Chromium gevonden; {INSTALL_HINT}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "het Python-pakket playwright ontbreekt; installeer het met `pip install -e .`"
    return None


@contextmanager
def open_browser(executable: str | None = None) -> Iterator[object]:
    """A headless Chromium (a Playwright ``Browser``) with a fresh profile; closed afterwards."""
    problem = engine_problem() if executable is None else None
    if problem:
        raise PdfEngineMissing(f"Geen PDF: {problem}.")
    from playwright.sync_api import Error, sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=executable or find_browser(), args=CHROMIUM_ARGS,
                timeout=TIMEOUT * 1000,
            )
            try:
                yield browser
            finally:
                browser.close()
    except Error as exc:
        raise PdfError(f"Chromium faalt: {_first_line(exc)}") from None


def offline(page) -> list[str]:
    """Refuse every request but ``file:`` and ``data:``; returns the list of refused URLs."""
    refused: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            refused.append(url)
            r.abort()

    page.route("**/*", route)
    return refused


def destination_pages(pdf: bytes) -> dict[str, int]:
    """Named destinations of a PDF (the link targets: element ids) → page number (1-based)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    out = {}
    for name, dest in reader.named_destinations.items():
        try:
            out[name.lstrip("/")] = reader.get_destination_page_number(dest) + 1
        except Exception:  # a destination without a page: nothing to number
            continue
    return out


_FILL = """(pages) => {
  for (const span of document.querySelectorAll('nav.toc .toc-page')) {
    const id = span.parentElement.getAttribute('href').slice(1);
    span.textContent = pages[id] === undefined ? '' : String(pages[id]);
  }
}"""
_PLACEHOLDER = """() => {
  for (const span of document.querySelectorAll('nav.toc .toc-page')) span.textContent = '0';
}"""


def render_pdf(html: str | Path, pdf: str | Path, *, executable: str | None = None) -> PdfResult:
    """Print ``html`` (a self-contained report) to ``pdf``, with page numbers in its contents.

    Raises :class:`PdfEngineMissing` when there is no browser to print with, and
    :class:`PdfError` when printing fails; ``pdf`` is then not written.
    """
    from playwright.sync_api import Error

    html, pdf = Path(html).resolve(), Path(pdf)
    start = time.perf_counter()
    with open_browser(executable) as browser:
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT * 1000)
            offline(page)
            page.goto(html.as_uri(), wait_until="load")
            page.evaluate(_PLACEHOLDER)  # same widths as the real numbers: nothing moves
            data = page.pdf(**PDF_OPTIONS)
            targets = page.evaluate(
                "() => [...document.querySelectorAll('nav.toc a')]"
                ".map(a => a.getAttribute('href').slice(1))"
            )
            numbers: dict[str, int] | None = None
            for _ in range(3):
                where = destination_pages(data)
                now = {t: where[t] for t in targets if t in where}
                if now == numbers:
                    break
                numbers = now
                page.evaluate(_FILL, numbers)
                data = page.pdf(**PDF_OPTIONS)
        except Error as exc:
            raise PdfError(f"Chromium kon {html.name} niet afdrukken: {_first_line(exc)}") from None
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(data)).pages)
    part = pdf.with_name(f".{pdf.name}.part")
    part.write_bytes(data)
    part.replace(pdf)
    return PdfResult(pdf, pages, time.perf_counter() - start, numbers or {})


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0].rstrip(".")


__all__ = [
    "PdfEngineMissing",
    "PdfError",
    "PdfResult",
    "engine_problem",
    "find_browser",
    "open_browser",
    "offline",
    "render_pdf",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m lsbanalysis.report.pdf RAPPORT.html [RAPPORT.pdf]``: print one report."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        print("gebruik: python -m lsbanalysis.report.pdf RAPPORT.html [RAPPORT.pdf]",
              file=sys.stderr)
        return 2
    html = Path(args[0])
    if not html.is_file():
        print(f"Fout: {html} bestaat niet.", file=sys.stderr)
        return 1
    try:
        done = render_pdf(html, args[1] if len(args) > 1 else html.with_suffix(".pdf"))
    except PdfError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return 1
    print(f"{done.path}: {done.pages} pagina's ({done.seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
