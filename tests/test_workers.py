"""Stopping a pool never hangs the command, even when a worker dies in the middle of a result.

Regression test (CI, stop 12): a build stopped by SIGTERM printed its message and then never
exited, because the pool's manager thread waited for the rest of a result that a killed worker
had begun to send, and the interpreter joins that thread at exit.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import os, struct, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from lsbanalysis.workers import die_with_parent, stop_workers

    def half_a_result():
        # Find the pipe the worker sends its result on and send only the start of a message
        # (a length header announcing 1 MB, then 10 bytes), as a worker killed mid-send does.
        frame = sys._getframe()
        while "result_queue" not in frame.f_locals:
            frame = frame.f_back
        fd = frame.f_locals["result_queue"]._writer.fileno()
        os.write(fd, struct.pack("!i", 1 << 20) + b"x" * 10)
        open(sys.argv[1], "w").close()
        time.sleep(600)

    if __name__ == "__main__":
        pool = ProcessPoolExecutor(1, initializer=die_with_parent, initargs=(os.getpid(),))
        pool.submit(half_a_result)
        while not os.path.exists(sys.argv[1]):
            time.sleep(0.05)
        stop_workers(pool)
        print("stopped", flush=True)
        sys.exit(3)
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method, Linux pipes")
def test_stop_workers_after_a_half_sent_result_lets_the_process_exit(tmp_path) -> None:
    script = tmp_path / "half.py"
    script.write_text(SCRIPT)
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "sent")],
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "stopped"
    assert run.returncode == 3, run.stderr[-2000:]
