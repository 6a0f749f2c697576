"""The analyserapport: chapter notebooks executed with papermill, assembled into one HTML file.

>>> from lsbanalysis.report import build_report
>>> build_report("Herenthout", "ISOM").html
PosixPath('.../reports/herenthout-isom/analyserapport.html')

Chapter notebooks save their figures and tables with :func:`save_figure` / :func:`save_table`.

The names below are imported on first use (PEP 562): a chapter kernel that needs only
``lsbanalysis.report.chapter`` and ``tables`` then does not import the runner and the
assembler, nor their nbformat and jsonschema.

Many municipalities in one run, with an overview page: :func:`lsbanalysis.report.batch.run_batch`
(``lsb report --alle``).
"""

import sys
from importlib import import_module

# The runner and the batch validate notebooks with nbformat, whose jsonschema builds the
# RFC 3987 grammar of rfc3987_syntax on import (when installed, as Jupyter's dependencies
# install it) for its "iri" format checks: 1.6 s per process, for formats the notebook schema
# does not use. Marked absent, jsonschema leaves those two checks out (``make bench``:
# "import the report runner").
sys.modules.setdefault("rfc3987_syntax", None)

_EXPORTS = {
    "CHAPTERS": "runner",
    "ReportBusyError": "runner",
    "ReportError": "runner",
    "ReportResult": "runner",
    "build_report": "runner",
    "ReportContext": "assemble",
    "assemble_html": "assemble",
    "save_figure": "outputs",
    "save_table": "outputs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
