"""The worker's half of the Dask executor: one project's run, on a Dask worker.

``run`` is the task the client submits. It unpacks the project into a scratch folder of
the worker (the repository's layout, so relative paths hold), runs the same
:func:`portfolio.run.run_child` a local build runs (its own child process and process
group, the timeout, the log cap, capture, the environment allowlist, ``--smoke``), and
returns the run's folder as an archive with the outcome. While it runs, a relay thread
sends the run's progress and the start of its log to the client (Dask events, at most
twice a second), and stops the child when the client cancels the task: Ctrl-C there,
or the client gone.

The client imports this module to name ``run`` and ``describe`` (and to compare its code
digest with the workers'); only workers run them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from portfolio import parcel, results
from portfolio.domain import Workspace
from portfolio.plan import library_versions
from portfolio.run import Job, hardware, run_child

RELAY_EVERY_S = 0.5
LOG_MIRROR_BYTES = 256_000  # of the log, sent as it comes (the whole log comes at the end)
_RUNNING_STATES = {"executing", "long-running"}


def describe() -> dict[str, Any]:
    """This worker, for the client before it sends anything: what it can run with."""
    from portfolio import __version__

    return {"portfolio": __version__, "code": code_digest(), "versions": library_versions(),
            "hardware": hardware(), "host": socket.gethostname(), "cpus": _cpus(),
            "gpus": gpu_names()}


class StartedBefore(RuntimeError):
    """Dask started this run a second time (its first worker went away, or the worker
    holding its results did): it does not run again behind the owner's back."""

    def __init__(self, worker: str) -> None:
        super().__init__(f"this run started before, on {worker}; it is not run twice")
        self.worker = worker

    def __reduce__(self) -> tuple[Any, ...]:  # it travels back to the client pickled
        return StartedBefore, (self.worker,)


@functools.cache
def code_digest() -> str:
    """portfolio's own code, by content: a worker whose code differs from the client's
    captures differently (or cannot read the jobs it is sent), whatever the version says."""
    own = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(own.rglob("*.py")):
        digest.update(path.relative_to(own).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def run(job: Job, project: list[bytes], topic: str, scheduler: str, slots: dict[str, int],
        code: str) -> dict[str, Any]:
    """Run ``job`` on this worker; ``project`` is :func:`parcel.write_project`'s archive
    in its chunks (:func:`cluster.send_project`),
    ``slots`` the task slots of each machine of the cluster (by the host the scheduler
    sees: a LocalCluster puts several workers on one machine), ``code`` the client's
    :func:`code_digest`. Returns the :class:`Outcome` (plain data) and the run's folder as
    an archive (``results``)."""
    from distributed import get_worker
    from distributed.comm import get_address_host

    if code != code_digest():
        raise RuntimeError(f"this worker runs other portfolio code ({code_digest()}) than "
                           f"the client ({code}): install the same portfolio on every worker")
    worker = get_worker()
    key = worker.get_current_task()
    _first_start(topic, job.out, worker.address)
    here = slots.get(get_address_host(worker.address), worker.state.nthreads)
    scratch = Path(tempfile.mkdtemp(prefix="portfolio-", dir=worker.local_directory))
    try:
        parcel.unpack(project, scratch)
        workspace = Workspace(scratch)
        out = results.in_progress(workspace, job.out).path
        out.mkdir(parents=True)
        job = replace(job, threads=_cpus() if job.exclusive
                      else max(1, _cpus() // max(1, here)))
        where = {"executor": "dask", "host": socket.gethostname(), "worker": worker.address,
                 "scheduler": scheduler, "resources": dict(job.resources),
                 "gpus": gpu_names()}
        stop = threading.Event()
        relay = _Relay(worker, key, topic, job.out, out, stop)
        worker.log_event(topic, {"out": job.out, "started": True, "pid": os.getpid(),
                                 "host": where["host"]})
        relay.start()
        try:
            outcome = run_child(workspace, job, stop)
        finally:
            relay.finish()
        outcome = replace(outcome, placement=where, versions=library_versions(),
                          hardware=hardware())
        return {"outcome": outcome, "results": parcel.pack_folder(out)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _first_start(topic: str, name: str, address: str) -> None:
    """Mark the run as started on the scheduler; raise :class:`StartedBefore` if it was."""
    from distributed import get_client

    client = get_client()
    before = client.get_metadata([topic, name], default=None)
    if before:
        raise StartedBefore(before)
    client.set_metadata([topic, name], address)


def _cpus() -> int:
    with contextlib.suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def gpu_names() -> list[str]:
    """The GPUs this worker sees, by name (``nvidia-smi``; none without it), limited to
    ``CUDA_VISIBLE_DEVICES`` when that names indices."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return []
    try:
        listed = subprocess.run([tool, "--query-gpu=index,name", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    rows = [line.split(",", 1) for line in listed.stdout.splitlines() if "," in line]
    if os.environ.get("CUDA_VISIBLE_DEVICES", "x").strip() == "":
        return []  # set and empty: CUDA sees no GPU
    visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")]
    # Indices filter; GPU UUIDs (or nothing set) leave the list as nvidia-smi gives it.
    wanted = set(visible) if visible and all(v.isdigit() for v in visible) else None
    return [name.strip() for index, name in rows if wanted is None or index.strip() in wanted]


class _Relay(threading.Thread):
    """Sends the run's new progress lines and log bytes to the client, and sets ``stop``
    when the task is no longer wanted (cancelled by the client, or the client is gone)."""

    def __init__(self, worker: Any, key: Any, topic: str, name: str, out: Path,
                 stop: threading.Event) -> None:
        super().__init__(name="portfolio-relay", daemon=True)
        self._worker, self._key, self._topic, self._name = worker, key, topic, name
        self._out, self._stop_run = out, stop
        self._done = threading.Event()
        self._progress = self._log = 0  # bytes of each already sent

    def run(self) -> None:
        while not self._done.wait(RELAY_EVERY_S):
            if not self._wanted():
                self._stop_run.set()
            self._send()

    def finish(self) -> None:
        self._done.set()
        self.join()
        self._send()

    def _wanted(self) -> bool:
        task = self._worker.state.tasks.get(self._key)
        return task is not None and task.state in _RUNNING_STATES

    def _send(self) -> None:
        message: dict[str, Any] = {}
        lines = self._read(results.PROGRESS, self._progress, whole_lines=True)
        if lines:
            self._progress += len(lines)
            message["progress"] = lines.decode("utf-8", errors="replace")
        room = LOG_MIRROR_BYTES - self._log
        log = self._read(results.LOG, self._log, limit=room) if room > 0 else b""
        if log:
            self._log += len(log)
            message["log"] = log.decode("utf-8", errors="replace")
        if message:
            with contextlib.suppress(Exception):  # the client learns the rest at the end
                self._worker.log_event(self._topic, {"out": self._name, **message})

    def _read(self, name: str, offset: int, whole_lines: bool = False,
              limit: int = 1 << 20) -> bytes:
        try:
            with (self._out / name).open("rb") as fh:
                fh.seek(offset)
                chunk = fh.read(limit)
        except OSError:
            return b""
        return chunk[: chunk.rfind(b"\n") + 1] if whole_lines else chunk
