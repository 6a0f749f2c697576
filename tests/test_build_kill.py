"""A killed `lsb data build` leaves no worker processes behind and the previous store intact.

Regression test for issue 9, defect 6: `lsb data build & sleep 2; kill $!` left the build's
worker processes running for ever (re-parented, 145-435 MB each). The build runs as a real
process (`python -m lsbanalysis.cli`), is ended by its PID, and every process it started must
be gone within a bounded wait. Processes are found and checked through /proc (Linux).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lsbanalysis.paths import PROCESSED_DIR, REPO_DIR
from lsbanalysis.sources import sha256_of
from tests.processes import ctrl_c_enabled

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc"),
]

WAIT_S = 60  # for the build to start its workers (a loaded CI machine)
GONE_S = 15  # for every worker to end after the build was killed


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None when it no longer exists."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat and stat[1] == pid and stat[0] != "Z":
                found.add(int(entry.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    """The processes that still run (a zombie has ended; only its exit status is left)."""
    return {p for p in pids if (s := _stat(p)) is not None and s[0] != "Z"}


def _snapshot(store: Path) -> dict[str, str]:
    return {p.name: sha256_of(p) for p in sorted(store.iterdir()) if p.is_file()}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT],
                         ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_killed_build_leaves_no_workers(mirror: Path, tmp_path: Path, sig: signal.Signals
                                        ) -> None:
    out = tmp_path / "p"
    shutil.copytree(PROCESSED_DIR, out)  # the previous store, README included
    before = _snapshot(out)
    build = subprocess.Popen(
        [sys.executable, "-m", "lsbanalysis.cli", "data", "build", "--raw", str(mirror),
         "--out", str(out), "--jobs", "2"],
        cwd=REPO_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=ctrl_c_enabled,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + WAIT_S
        while len(workers) < 2 and time.monotonic() < deadline and build.poll() is None:
            workers |= _children(build.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the build did not start its worker processes"
        time.sleep(0.5)  # let the workers get to work
        os.kill(build.pid, sig)
        _, stderr = build.communicate(timeout=GONE_S)
        deadline = time.monotonic() + GONE_S
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _alive(workers) == set(), f"workers still running after {sig.name}"
    finally:
        if build.poll() is None:
            build.kill()
            build.wait(timeout=GONE_S)
        for pid in _alive(workers):  # never leave a stray process on the machine
            os.kill(pid, signal.SIGKILL)

    assert build.returncode != 0
    assert _snapshot(out) == before  # stopped while reading: the previous store is untouched
    if sig != signal.SIGKILL:  # it had the chance to clean up, and said what happened
        assert "Traceback" not in stderr
        assert not [p for p in tmp_path.iterdir() if "-building-" in p.name]
    if sig == signal.SIGTERM:
        assert "stopped (SIGTERM)" in stderr and "left as it was" in stderr
