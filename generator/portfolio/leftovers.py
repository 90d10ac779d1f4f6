"""Processes a run leaves running after it ends: found, named and stopped.

A script may start processes and never wait for them: a ``Popen`` it forgets, a daemon
that double-forks into a session of its own, a server. Stopping the run's process group
catches only those that stayed in it, and one that keeps the run's output pipe open
would keep the build reading it for as long as it lives. So, once a run has ended (or
been stopped), the processes that are still its own are looked for: those in its
session or process group (the run's pid leads both), those whose environment carries the
run's marker variable (every process it started inherits it, the way Jenkins'
ProcessTreeKiller finds a build's processes by ``BUILD_ID``), and those holding its output
pipe. They are named in ``run.json`` and stopped. Linux only: elsewhere none are found.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

MARKER = "PORTFOLIO_RUN"  # set to a fresh id in every run's environment
_PROC = Path("/proc")
_POLL_S = 0.05


@dataclass(frozen=True)
class Leftover:
    pid: int
    command: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class RunMark:
    """What tells a run's processes apart: its pid, its marker, its output pipe's inode."""

    pid: int
    marker: str
    pipe: int | None = None


def find(run: RunMark) -> list[Leftover]:
    """The run's processes still alive (zombies excluded), this process excepted."""
    found = []
    me, uid = os.getpid(), os.getuid()
    prefix = f"{MARKER}=".encode()
    needle = prefix + run.marker.encode()
    pipe = f"pipe:[{run.pipe}]" if run.pipe is not None else None
    for entry in _PROC.iterdir() if _PROC.is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) in (me, run.pid):
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.stat().st_uid != uid:
                continue
            stat = (entry / "stat").read_text()
            state, _, group, session = stat[stat.rindex(")") + 2:].split()[:4]
            if state in ("Z", "X"):
                continue
            environ = _environ(entry)
            if needle not in environ and any(v.startswith(prefix) for v in environ):
                continue  # another run's (its leader's pid may have been ours before)
            if (run.pid in (int(group), int(session)) or needle in environ
                    or (pipe is not None and _holds(entry, pipe))):
                found.append(Leftover(int(entry.name), _command(entry)))
    return found


def _environ(entry: Path) -> list[bytes]:
    try:
        return (entry / "environ").read_bytes().split(b"\0")
    except OSError:  # a process that is not dumpable (setuid, or said so with prctl)
        return []


def _holds(entry: Path, target: str) -> bool:
    for fd in (entry / "fd").iterdir():
        with contextlib.suppress(OSError):
            if str(fd.readlink()) == target:
                return True
    return False


def _command(entry: Path) -> str:
    words = (entry / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    command = " ".join(w.decode(errors="replace") for w in words if w)
    return command[:200] or (entry / "comm").read_text().strip()


def settle_and_stop(run: RunMark, settle_s: float, grace_s: float) -> list[Leftover]:
    """Give the run's processes ``settle_s`` to end by themselves (a pool's helper that
    leaves when its parent has gone), then stop those left: SIGTERM, and SIGKILL after
    ``grace_s``. Returns the ones that had to be stopped."""
    deadline = time.monotonic() + settle_s
    while (left := find(run)) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    for process in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_alive(p.pid) for p in left):
        time.sleep(_POLL_S)
    for process in left:
        if _alive(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
    return left


def _alive(pid: int) -> bool:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:][:1] not in ("Z", "X")
