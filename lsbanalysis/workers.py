"""Worker processes that never outlive the process that started them.

A pool's workers are ordinary child processes: when the parent is killed (``kill -9``, the
OOM killer, a closed terminal) they are re-parented and would keep running, holding hundreds
of megabytes, for ever. :func:`die_with_parent` (a pool ``initializer``) makes each worker end
as soon as its parent is gone: on Linux the kernel sends it SIGKILL (``PR_SET_PDEATHSIG``);
elsewhere, and as a fallback, a thread watches the parent. :func:`stop_workers` ends a pool's
workers at once when the parent gives up (an error, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_INTERVAL_S = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: end this worker when ``parent_pid`` (the pool's owner) is gone."""
    # The parent handles Ctrl-C and SIGTERM and stops the workers itself; a worker must not
    # print its own KeyboardInterrupt traceback, nor run the parent's (inherited) handlers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, signal.SIG_DFL)
    first_parent = os.getppid()
    if first_parent == parent_pid:
        parent_death_signal(signal.SIGKILL)
    if not _alive(parent_pid):  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(
        target=_watch, args=(parent_pid, first_parent), name="watch-parent", daemon=True
    ).start()


def parent_death_signal(sig: int) -> None:
    """Have Linux send ``sig`` to this process when its parent dies (``PR_SET_PDEATHSIG``);
    elsewhere nothing (the callers also watch their parent)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(parent_pid: int, first_parent: int) -> None:
    # A re-parented worker (getppid changed) lost its parent even if that one is still a
    # zombie; with a fork server in between, the owner's own pid is checked too.
    while True:
        time.sleep(WATCH_INTERVAL_S)
        if os.getppid() != first_parent or not _alive(parent_pid):
            os._exit(1)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's worker processes now (running tasks are abandoned) and shut it down."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.kill()
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.join(timeout=5)
    # shutdown() drops the pool's references to its thread and pipes: take them first.
    thread = getattr(pool, "_executor_manager_thread", None)
    results = getattr(pool, "_result_queue", None)
    pool.shutdown(wait=False, cancel_futures=True)
    _unblock_manager(thread, results)


def _unblock_manager(thread: threading.Thread | None, results: object,
                     wait_s: float = 1.0) -> None:
    """Let the pool's manager thread end although a worker was killed in mid-result.

    The manager thread reads results from a pipe whose write end the parent also holds: a
    worker killed while sending a large result leaves it waiting for the rest for ever, and
    the interpreter joins that thread at exit, so the command would never end. Closing the
    parent's write end turns the wait into end-of-file, which the manager handles as a broken
    pool (these are private attributes of concurrent.futures, hence the guards).
    """
    if thread is None:
        return
    thread.join(timeout=wait_s)
    if thread.is_alive():
        writer = getattr(results, "_writer", None)
        with contextlib.suppress(Exception):
            writer.close()
        thread.join(timeout=wait_s)


@contextlib.contextmanager
def signals_as_exceptions(make_error) -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise ``make_error(signal name)`` (main thread only).

    So a ``kill PID`` runs the same clean-up as an error: workers stopped, temporary folders
    removed, the previous result kept. Outside the main thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]

    def handler(signum, _frame):
        raise make_error(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in wanted}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
