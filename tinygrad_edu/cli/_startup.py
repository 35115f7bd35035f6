"""Ctrl-C while `edu` is still starting (importing NumPy and matplotlib takes a moment) ends it with
one line and status 130, not a KeyboardInterrupt traceback; SIGTERM and SIGHUP likewise (143, 129).

Imported first by ``tinygrad_edu.cli``, so the handler is in place before the command line's own
imports (click, matplotlib, the library). The package's ``__init__`` (NumPy) runs before it, and the
interpreter's start-up before that: a Ctrl-C in those first tens of milliseconds is still Python's.
``main()`` hands the signals back to Python's defaults once the command is about to run; commands
that save work install their own handlers then.
"""
from __future__ import annotations

import os
import signal

_STARTUP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _stop_while_starting(signum, frame) -> None:
    os.write(2, b"edu: stopped while starting; nothing was run or written\n")
    os._exit(128 + signum)     # no cleanup to do: nothing has started


def install() -> None:
    for signum in _STARTUP_SIGNALS:
        signal.signal(signum, _stop_while_starting)


def restore() -> None:
    """Python's defaults again: Ctrl-C raises KeyboardInterrupt, SIGTERM and SIGHUP end the process."""
    for signum in _STARTUP_SIGNALS:
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)


install()
