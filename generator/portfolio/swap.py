"""Replace a folder by another so that a reader, or a Ctrl-C, never finds half of either.

On Linux the two folders trade places in one system call (``renameat2`` with
``RENAME_EXCHANGE``). Elsewhere, or on a file system without it, it takes two renames, and
Ctrl-C, SIGTERM and SIGHUP are held back between them: the signal lands once the new folder
is in place. Only a kill that cannot be caught (SIGKILL, a power cut) can stop it halfway,
and then the old folder waits in ``.old-<name>-*/x`` for :func:`finish` to put it back.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["finish", "replace"]

OLD = ".old-"  # the prefix of a folder moved away, until the swap is finished
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def replace(source: Path, target: Path) -> None:
    """Put ``source`` at ``target``; whatever was at ``target`` is deleted."""
    if not target.exists():
        source.rename(target)
        return
    if _exchange(source, target):
        shutil.rmtree(source, ignore_errors=True)  # now the old folder
        return
    with _signals_held():
        old = Path(tempfile.mkdtemp(prefix=f"{OLD}{target.name}-", dir=target.parent))
        target.rename(old / "x")
        source.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def finish(folder: Path, name: str = "*") -> None:
    """Complete the swaps in ``folder`` (of ``name`` only, if given) that a kill stopped: a
    moved-away folder whose place is empty goes back, the rest of ``.old-*`` is deleted.
    Call it where no swap runs."""
    for stale in folder.glob(f"{OLD}{name}-*"):
        name = stale.name.removeprefix(OLD).rsplit("-", 1)[0]
        if (stale / "x").is_dir() and not (folder / name).exists():
            (stale / "x").rename(folder / name)
        shutil.rmtree(stale, ignore_errors=True)


def _exchange(source: Path, target: Path) -> bool:
    """Swap the two paths in one step; False when the system cannot."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target),
                 _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not here, use two renames
        return False
    raise OSError(error, os.strerror(error), str(source), None, str(target))


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back Ctrl-C, SIGTERM and SIGHUP (delivered when the block ends)."""
    if threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
