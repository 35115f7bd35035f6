"""Where the `edu` command starts: a signal while it is still loading ends it with one line.

Loading the command line (NumPy, matplotlib, click and the library) takes a moment. Ctrl-C, SIGTERM
or SIGHUP in that time prints "edu: stopped while starting; nothing was run or written" and exits
with 128 + the signal's number (130, 143, 129), never with a KeyboardInterrupt traceback.

The handlers have to be in place before anything of tinygrad_edu is imported, because importing any
module of the package first runs ``tinygrad_edu/__init__.py``, which imports NumPy. So this module
sits beside the package, not in it, imports nothing but os, signal and sys, and each way of starting
`edu` begins here:

- the console script `edu` (pip writes it) calls ``main()``;
- ``python cli.py`` in a checkout calls ``main()``;
- ``python -m tinygrad_edu``: Python imports the package before it runs the package's ``__main__``,
  so the first statements of ``tinygrad_edu/__init__.py`` call ``install_for_python_m()``, which
  installs the handlers when the module being run is tinygrad_edu; ``__main__`` then calls ``main()``.

``main()`` hands the signals back to Python once the command line is loaded, just before the command
runs (commands that save work install their own handlers then); a Ctrl-C in the instant between the
two is one line too, "edu: stopped by Ctrl-C". Importing tinygrad_edu in a notebook or a script,
or in a program of your own run with ``python -m``, installs nothing: only these three ways of
starting do.

What still belongs to Python, before the handlers exist:

- the interpreter's own start-up, with ``site`` and every ``.pth`` file of the installation. Ctrl-C
  there ends Python with its own "Fatal Python error: init_import_site" and a traceback none of
  whose lines is ours;
- then, for `edu`, the console script's own lines up to ``main()`` (``import re``, ``import sys``,
  finding and loading this module, the rewrite of ``sys.argv[0]``); for ``python cli.py``, its
  first line, which imports this module; for ``python -m``, runpy finding the package.

Of ours, only this module's imports and definitions run before ``install()``, and for ``python -m``
the first statements of ``tinygrad_edu/__init__.py`` and ``python_m_module()`` as well.
"""
import os
import signal
import sys

STARTUP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
STOPPED_WHILE_STARTING = "edu: stopped while starting; nothing was run or written"
EDU_MODULES = ("tinygrad_edu", "tinygrad_edu.__main__")     # what `python -m` runs as `edu`


def _stop_while_starting(signum, frame) -> None:
    os.write(2, STOPPED_WHILE_STARTING.encode() + b"\n")
    os._exit(128 + signum)     # nothing has started, so there is nothing to clean up


def install() -> None:
    """Every start-up signal ends `edu` with one line and 128 + its number."""
    for signum in STARTUP_SIGNALS:
        signal.signal(signum, _stop_while_starting)


def restore() -> None:
    """Python's defaults again: Ctrl-C raises KeyboardInterrupt, SIGTERM and SIGHUP end the process.

    SIGINT comes last, so by the time a Ctrl-C can raise KeyboardInterrupt the others are Python's too.
    """
    for signum in reversed(STARTUP_SIGNALS):
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)


def python_m_module() -> str | None:
    """The module `python -m` is looking for, while it looks for it; otherwise None.

    While ``-m`` finds its module (importing the packages on the way), ``sys.argv`` is ``["-m", *the
    program's arguments]``, and in the whole command line (``sys.orig_argv``) the word just before
    those arguments names the module: ``NAME``, or ``-mNAME`` when written as one word (``-BmNAME``
    with other flags in front).
    """
    if sys.argv[:1] != ["-m"] or len(sys.orig_argv) <= len(sys.argv):
        return None
    word = sys.orig_argv[-len(sys.argv)]
    return word.partition("m")[2] if word.startswith("-") else word


def install_for_python_m() -> None:
    """Install the handlers if this process is ``python -m tinygrad_edu`` importing the package."""
    if python_m_module() in EDU_MODULES:
        install()


def main() -> None:
    """The `edu` command: the start-up handlers, the command line, then the command with Python's signals."""
    install()
    from tinygrad_edu.cli import cli    # here, not at the top: these imports are what the handlers cover
    try:
        restore()
        cli(prog_name="edu")            # click turns a Ctrl-C from here on into "Aborted!"
    except KeyboardInterrupt:           # one that came between restore() and click's own handling
        print("edu: stopped by Ctrl-C", file=sys.stderr)
        sys.exit(128 + signal.SIGINT)
