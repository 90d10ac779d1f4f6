"""One way to start a child process, for runs and for the preview drawing alike.

A child is forked by the warm worker when there is one (the heavy libraries are imported
already), else started as a fresh interpreter. Either way it runs in a session (and
process group) of its own, writes its stdout and stderr to one pipe, is reaped with
``wait4`` so its peak memory comes back with its status, and is stopped with everything
it started by :func:`stop_group`. The environment it gets is :mod:`portfolio.childenv`'s.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from portfolio import warm

GRACE_S = 5.0  # between SIGTERM and SIGKILL when a child is stopped
_POLL_S = 0.1


class Child(Protocol):
    pid: int
    output: Any  # the read end of the child's stdout and stderr
    process: dict[str, Any] | None  # how it was started, for run.json
    lost: str | None  # why the run ended for a reason outside it (its warm worker stopped)

    def wait(self, timeout: float | None) -> tuple[int, float | None] | None:
        """(returncode, peak MB) once the child has ended; None if ``timeout`` passed."""


def start(module: str, argv: list[str], cwd: Path, env: dict[str, str], threads: int,
          worker: warm.Worker | None, expired: Callable[[], bool] = lambda: False) -> Child:
    """``python -m MODULE ARGV...`` in ``cwd`` with ``env`` (from :mod:`portfolio.childenv`),
    in a session of its own, its stdout and stderr on one pipe (``output``): forked by the
    warm ``worker`` when there is one, else a fresh interpreter. When ``expired`` says so
    while the worker is still busy importing, nothing starts (an unstarted child)."""
    if worker is not None:
        read, write = os.pipe()
        forked = worker.start(module, argv, cwd, env, threads, write, expired)
        os.close(write)
        if forked is not None:
            return _Forked(forked, os.fdopen(read, "rb"))
        os.close(read)
        if expired():
            return _Unstarted()
    return _Fresh(module, argv, cwd, env)


class _Fresh:
    """``python -m MODULE ARGV...`` in a fresh interpreter, in its own session."""

    def __init__(self, module: str, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        env = {**env, "PORTFOLIO_PARENT": str(os.getpid())}  # it dies with us: child.py
        self.proc = subprocess.Popen([sys.executable, "-m", module, *argv],
                                     cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.pid = self.proc.pid
        self.output = self.proc.stdout
        self.process = {"kind": "fresh interpreter"}
        self.lost = None
        self._ended = None
        with contextlib.suppress(AttributeError, OSError):  # not Linux, or out of fds: poll
            self._ended = os.pidfd_open(self.pid)
        self._result: tuple[int, float | None] | None = None

    def wait(self, timeout: float | None) -> tuple[int, float | None] | None:
        if self._result is not None:  # reaped already (by stop_group, say)
            return self._result
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            pid, wait_status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                self.proc.returncode = os.waitstatus_to_exitcode(wait_status)
                if self._ended is not None:
                    os.close(self._ended)
                self._result = self.proc.returncode, usage.ru_maxrss / 1024  # kB on Linux
                return self._result
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            if self._ended is not None:  # woken the moment it exits, no polling delay
                select.select([self._ended], [], [], left)
            else:
                time.sleep(min(_POLL_S, left if left is not None else _POLL_S))


class _Forked:
    """A child forked by the warm worker; the worker reaps it and reports back."""

    def __init__(self, run: warm.Run, output: Any) -> None:
        self._run = run
        self.pid = run.pid
        self.output = output
        self.process = {"kind": "forked from the warm worker", "worker_pid": run.worker_pid}
        self._ended: tuple[int, float | None] | None = None

    @property
    def lost(self) -> str | None:
        if not self._run.worker_lost:
            return None
        return (f"the warm worker (pid {self._run.worker_pid}) that ran this project stopped "
                "before the run ended; run again (a new worker starts), or use --no-warm")

    def wait(self, timeout: float | None) -> tuple[int, float | None] | None:
        if self._ended is None:
            self._ended = self._run.wait(timeout)
        return self._ended


class _Unstarted:
    """Stand-in for a run that never started: nothing to read, nothing to stop."""

    pid = 0
    process = None
    lost = None

    def __init__(self) -> None:
        self.output = Path(os.devnull).open("rb")  # noqa: SIM115 - the caller closes it

    def wait(self, timeout: float | None) -> tuple[int, float | None] | None:
        return None


def stop_group(child: Child) -> int | None:
    """Stop the child and everything it started: SIGTERM to the group, then SIGKILL.
    Returns its exit code."""
    if not child.pid:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    ended = child.wait(GRACE_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)  # what is left of the group: grandchildren too
    ended = ended or child.wait(60.0)  # bounded: a build must end even if this one won't
    return ended[0] if ended else None


def read_to_end(child: Child, timeout: float) -> bytes:
    """What the child writes until it closes its output (it ended), or until ``timeout``:
    read as it comes, so a child that writes more than a pipe holds never blocks on us."""
    deadline = time.monotonic() + timeout
    fd, chunks = child.output.fileno(), []
    while (left := deadline - time.monotonic()) > 0 and select.select([fd], [], [], left)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
