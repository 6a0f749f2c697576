"""Helpers for tests that start the command line as a real process and interrupt it."""

from __future__ import annotations

import signal


def ctrl_c_enabled() -> None:
    """``preexec_fn`` for a child that a test interrupts with SIGINT (Ctrl-C).

    A shell starts background jobs with SIGINT ignored, and Python keeps an ignored SIGINT
    ignored: run under ``… &`` (or a CI runner that does so), the child would not see the
    test's Ctrl-C at all. The test wants the terminal's behaviour, so the child starts with
    SIGINT at its default and Python installs its KeyboardInterrupt handler.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
