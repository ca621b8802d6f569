"""Worker processes die with the batch that started them.

A batch killed with SIGKILL cannot stop its pool; without this, the pool's forkserver and its
workers (hundreds of MB) would run on. On Linux the kernel is asked (`prctl(PR_SET_PDEATHSIG)`)
to kill a process when its parent dies: the forkserver when the batch dies, each worker when
the forkserver dies. Elsewhere a daemon thread watches the parent and exits when it is gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

__all__ = ["die_with_parent"]

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_SECONDS = 0.5


def _prctl_deathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def die_with_parent() -> None:
    """Make this process end when its parent does (call it first thing in a child)."""
    parent = os.getppid()
    if not _prctl_deathsig():
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    elif parent == 1:  # the parent died before the request was made
        os._exit(1)
