"""The analyserapport: chapter notebooks executed with papermill, assembled into one HTML file.

>>> from lsbanalysis.report import build_report
>>> build_report("Herenthout", "ISOM").html
PosixPath('.../reports/herenthout-isom/analyserapport.html')

Chapter notebooks save their figures and tables with :func:`save_figure` / :func:`save_table`.
Many municipalities in one run, with an overview page: :func:`lsbanalysis.report.batch.run_batch`
(``lsb report --alle``).
"""

from lsbanalysis.report.assemble import ReportContext, assemble_html
from lsbanalysis.report.outputs import save_figure, save_table
from lsbanalysis.report.runner import (
    CHAPTERS,
    ReportBusyError,
    ReportError,
    ReportResult,
    build_report,
)

__all__ = [
    "CHAPTERS",
    "ReportBusyError",
    "ReportContext",
    "ReportError",
    "ReportResult",
    "assemble_html",
    "build_report",
    "save_figure",
    "save_table",
]
