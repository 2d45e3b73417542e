"""Imported only in the forkserver of ``toolforge validate --workers`` (see :mod:`toolforge.validate.parallel`).

Workers ignore Ctrl-C. A terminal sends SIGINT to the whole process group; the parent turns it into
``error: interrupted`` and stops its workers (each ends the chunk it holds, then its queue says stop), while a
worker that took the signal itself would print a ``KeyboardInterrupt`` traceback from wherever it was
waiting. The forkserver gives its children the SIGINT handling it had after importing this module, so they
ignore it from their first instruction, before the pool's own initializer could set it.

A worker forked from it while the command is being interrupted can find that the parent, already gone, took
the pool's semaphores with it: unpickling its start-up data then fails with ``FileNotFoundError``. The
forkserver prints such a failure with ``sys.excepthook``, which would put a traceback under the command's
``error: interrupted``. This hook says nothing in that case (there is nobody left to judge for) and prints one
line for any other failure to start.
"""

from __future__ import annotations

import os
import signal
import sys
from types import TracebackType


def _hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if isinstance(exc, (FileNotFoundError, EOFError, BrokenPipeError, KeyboardInterrupt)):
        return  # the parent stopped while this worker was starting
    sys.stderr.write(f"toolforge validate worker {os.getpid()}: could not start: {kind.__name__}: {exc}\n")


sys.excepthook = _hook
signal.signal(signal.SIGINT, signal.SIG_IGN)
