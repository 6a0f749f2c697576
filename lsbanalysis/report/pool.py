"""Kernels that run several chapter notebooks of one report, one after another.

Starting a Jupyter kernel and importing pandas, matplotlib and lsbanalysis in it costs more than
drawing a small chapter. The runner therefore starts one kernel per parallel job (two on the
reference machine), with the chapter module imported at start-up (:data:`PRELOAD`) while the
runner itself computes the shared comparison, and each kernel then executes its share of the
chapters with papermill, in turn.

Each chapter still runs as a papermill notebook with its injected parameters, is saved as its
own executed notebook and fails with its own cell number. Before each chapter the kernel is made
like new (:func:`start_chapter`, run as a hidden preamble by the papermill engine of
:func:`register_engine`): an
empty namespace, execution count 1, no open figures, the rcParams of the kernel's start and the
chapter's ``output_dir`` as working directory. Imported modules stay, which is the point.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time

#: Name under which :class:`ReusedKernelEngine` is registered with papermill.
ENGINE_NAME = "lsbanalysis-reused-kernel"
#: Imported when a kernel starts, so the first chapter does not wait for it.
PRELOAD = "lsbanalysis.report.chapter"
#: Seconds between two writes of a chapter's executed notebook while it runs.
#: (A chapter takes a few seconds: it is written when it starts, on a failing cell and at its end.)
SAVE_EVERY = 5.0

_rc_at_start: dict | None = None


def start_chapter(output_dir: str) -> None:
    """Make this kernel like a new one for the next chapter (runs in the kernel)."""
    global _rc_at_start
    shell = get_ipython()  # noqa: F821 - defined in an IPython kernel
    shell.reset(new_session=False)  # an empty namespace, as %reset -f
    shell.execution_count = 1
    if "matplotlib" in sys.modules:
        import matplotlib

        if "matplotlib.pyplot" in sys.modules:
            import matplotlib.pyplot as plt

            plt.close("all")
        if _rc_at_start is None:
            _rc_at_start = dict(matplotlib.rcParams)
        else:
            matplotlib.rcParams.update(_rc_at_start)
    os.chdir(output_dir)


def preamble(output_dir: str) -> str:
    return (f"import lsbanalysis.report.pool as _pool\n_pool.start_chapter({str(output_dir)!r})\n")


def kernel_arguments() -> list[str]:
    """Extra command-line arguments of a pooled kernel."""
    return [
        # ipykernel logs noise here: a warning about unencrypted local TCP at start-up and
        # "KeyboardInterrupt caught" when jupyter_client interrupts it before shutting it down.
        "--IPKernelApp.log_level=CRITICAL",
        "--HistoryManager.hist_file=:memory:",  # no IPython history database on disk
        f"--IPKernelApp.exec_lines=import {PRELOAD}",
    ]


class ChapterSetupError(RuntimeError):
    """The kernel could not be prepared for the next chapter."""


@functools.cache
def register_engine() -> str:
    """Register :class:`ReusedKernelEngine` with papermill; returns its name.

    papermill is imported here, not at the top: the kernels import this module for
    :func:`start_chapter` and need no papermill (nor the nbformat and jsonschema it imports).
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
    from papermill.log import logger

    class ThrottledSaves(NotebookExecutionManager):
        """Writes the executing notebook at most every :data:`SAVE_EVERY` seconds, and always
        after a failing cell and at the end. papermill writes it before and after every cell,
        each time serialising (and validating) every figure so far; the executed notebook is
        the same, and a chapter whose kernel dies still leaves one at most that old."""

        _written = -math.inf

        def save(self, **kwargs):
            if "nb" in kwargs:  # what papermill's catch_nb_assignment would do
                self.nb = kwargs["nb"]
            if time.monotonic() - self._written >= SAVE_EVERY:
                super().save(**kwargs)
                self._written = time.monotonic()

        def cell_exception(self, cell, cell_index=None, **kwargs):
            self._written = -math.inf  # the failing cell is written with the next save
            return super().cell_exception(cell, cell_index=cell_index, **kwargs)

        def notebook_complete(self, **kwargs):
            self._written = -math.inf
            return super().notebook_complete(**kwargs)

    class ReusedKernelClient(PapermillNotebookClient):
        """papermill's client on a running kernel, with the chapter preamble run first."""

        def __init__(self, nb_man, km, preamble: str, **kw) -> None:
            super().__init__(nb_man, km=km, **kw)
            self._preamble = preamble

        def papermill_execute_cells(self):
            msg_id = self.kc.execute(self._preamble, silent=True, store_history=False)
            reply = self.wait_for_reply(msg_id)
            content = (reply or {}).get("content", {})
            if content.get("status") != "ok":
                raise ChapterSetupError(
                    "de kernel kon niet voorbereid worden op het hoofdstuk: "
                    f"{content.get('ename', 'geen antwoord')}: {content.get('evalue', '')}"
                )
            super().papermill_execute_cells()

    class ReusedKernelEngine(NBClientEngine):
        """Executes a notebook on a kernel that is already running (``km=``), after
        :func:`start_chapter`; the kernel stays up for the next chapter."""

        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True,
                             log_output=False, autosave_cell_every=30, **kwargs):
            # papermill's Engine.execute_notebook, with ThrottledSaves
            nb_man = ThrottledSaves(nb, output_path=output_path, progress_bar=progress_bar,
                                    log_output=log_output,
                                    autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output,
                                             **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            km = kwargs.pop("km")
            output_dir = kwargs.pop("output_dir")
            kwargs.pop("input_path", None)
            client = ReusedKernelClient(
                nb_man, km, preamble(output_dir), timeout=execution_timeout,
                startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                **kwargs)
            try:
                return client.execute()
            finally:
                if client.kc is not None:  # this chapter's channels; the kernel stays
                    client.kc.stop_channels()

    papermill_engines.register(ENGINE_NAME, ReusedKernelEngine)
    return ENGINE_NAME
