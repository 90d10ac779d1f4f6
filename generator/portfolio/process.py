"""Leaving a process quickly.

Python's own exit tears every module down one by one: about half a second once
scikit-learn and SciPy are loaded, and a tenth of one in the parent, for nothing a build
needs. ``leave`` does what that exit does that matters, in the same order (the hooks
registered with ``threading._register_atexit``, then waiting for non-daemon threads, then
the atexit handlers, then flushing the standard streams) and then ends the process.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
import traceback
from typing import NoReturn


def leave(code: int) -> NoReturn:
    # The interpreter's own first step at exit: concurrent.futures and joblib's loky stop
    # their pools' manager threads from threading's exit hooks, and only then can those
    # threads be joined (joining first waits forever: an n_jobs=-1 script would hang).
    try:
        threading._shutdown()  # type: ignore[attr-defined]
    except Exception:  # a hook's error is printed, as the interpreter would, and we go on
        traceback.print_exc()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
