"""The Dask executor: ``portfolio build --executor dask --scheduler tcp://HOST:PORT``.

The client's half. Each job travels as an archive (:mod:`portfolio.parcel`: the project
folder, its declared data, the repository modules it imports) to a worker, where
:func:`portfolio.remote.run` runs it exactly as a local build would, and its run folder
comes back as another archive, unpacked into the run's folder here; the runner then keeps
it with the same atomic replace as a local run. While it runs, its progress and the start
of its log arrive as Dask events and are written into that folder, where the live
display reads them as it reads a local child's.

What can go wrong, and what the project's page then says: no worker offers the
``resources:`` it asks for (it fails at once, naming them); the worker running it went
away (it fails; Dask would start it again elsewhere, but a run that may have killed its
worker is not run twice behind the owner's back); the scheduler went away; its results
could not be fetched or written. In every case its previous results stay as they were.
Ctrl-C cancels the remote runs: each worker stops its child when its task is cancelled,
and when this client disconnects.

Dask is imported here only, and only when a build asks for this executor.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import shutil
import sys
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from portfolio import __version__, parcel, remote, results
from portfolio.domain import Workspace
from portfolio.errors import InputError
from portfolio.run import Job, MakeExecutor, Outcome, project_folder, run_folder

CONNECT_S = 10.0  # to reach the scheduler, and for a first worker to be there
WATCH_EVERY_S = 1.0  # how often the workers' list is read from the scheduler
_POLL_S = 0.5
LOST_S = 5.0  # a scheduler out of reach this long has gone away
NO_WORKER_GRACE_S = 30.0  # a worker that could run a queued project may be restarting
_DRIVERS = 256  # threads that follow remote runs (they wait, they do not compute)


class ClusterError(InputError):
    """The cluster cannot be used: Dask missing, the scheduler out of reach, a worker
    without portfolio. Exit code 2, before anything runs."""


@dataclass
class _Tracked:
    """What the client knows of one remote run: its folder here, the workers it started
    on (Dask starts a task again when its worker goes away), when each event came."""

    folder: Path
    started_on: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


class Cluster:
    """A connection to a Dask scheduler, for one build."""

    def __init__(self, address: str) -> None:
        try:
            import distributed
        except ImportError:
            raise ClusterError("--executor dask needs Dask's distributed scheduler, which "
                               "is not installed here: pip install 'portfolio[dask]'") from None
        self.address = address if "://" in address else f"tcp://{address}"
        # Dask logs its own view of a lost connection with tracebacks; the build says what
        # happened to each project instead, in one line.
        for name in ["distributed", *logging.Logger.manager.loggerDict]:
            if name.startswith("distributed"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        try:
            self.client = distributed.Client(self.address, timeout=CONNECT_S,
                                             set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {self.address}: "
                               f"{exc}. Is `dask scheduler` running there?") from None
        self._tracked: dict[str, _Tracked] = {}
        self._lock = threading.Lock()
        self._alive: dict[str, dict[str, Any]] = {}
        self._seen = time.monotonic()
        self._closing = threading.Event()
        try:
            self.workers = self._describe()
            self.topic = f"portfolio-{uuid.uuid4().hex[:12]}"
            self.client.subscribe_topic(self.topic, self._event)
            self._read_workers()
        except BaseException:
            self.client.close()
            raise
        self._watcher = threading.Thread(target=self._watch, name="portfolio-dask-watch",
                                         daemon=True)
        self._watcher.start()

    # -- the cluster as a whole -----------------------------------------------------------
    def _describe(self) -> dict[str, dict[str, Any]]:
        """Each worker's portfolio and library versions, host, cores and GPUs; refuses a
        cluster without workers, or with a worker that cannot run portfolio."""
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_S)
        except TimeoutError:
            raise ClusterError(f"the Dask scheduler at {self.address} has no worker: start "
                               f"one with `dask worker {self.address}`") from None
        try:
            described = self.client.run(remote.describe)
        except Exception as exc:
            raise ClusterError(
                f"a worker of the Dask cluster at {self.address} cannot run portfolio "
                f"({type(exc).__name__}: {exc}): install portfolio[train,dask] {__version__} "
                "on every worker") from None
        ours = remote.code_digest()
        wrong = {a: d["portfolio"] for a, d in described.items() if d["code"] != ours}
        if wrong:
            raise ClusterError(
                f"the Dask workers must run the portfolio this client runs ({__version__}, "
                f"code {ours}); these run other code: " + ", ".join(
                    f"{a} ({v}, code {described[a]['code']})" for a, v in wrong.items())
                + ". Install the same portfolio on every worker")
        return described

    def versions(self) -> dict[str, str]:
        """The library versions the projects will run with, for planning: the workers'
        (the most common, when they differ: each run records its own worker's)."""
        counted = collections.Counter(json.dumps(d["versions"], sort_keys=True)
                                      for d in self.workers.values())
        if len(counted) > 1:
            print(f"warning: the Dask workers do not all have the same library versions "
                  f"({'; '.join(sorted(counted))}): each project records those of the "
                  "worker that ran it, and runs again when they change",
                  file=sys.stderr, flush=True)
        return json.loads(counted.most_common(1)[0][0])

    def executors(self, workspace: Workspace) -> MakeExecutor:
        """Executors for the runner; Dask places the jobs, so the count is not used."""
        return lambda jobs: DaskExecutor(self, workspace)

    def close(self) -> None:
        self._closing.set()
        with contextlib.suppress(Exception):
            self.client.close(timeout=CONNECT_S)

    def _threads(self) -> dict[str, int]:
        """Each worker's share of its machine's cores: those cores divided among the task
        slots of every worker on that machine."""
        slots = collections.Counter()
        for info in self._alive.values():
            slots[info.get("host")] += info.get("nthreads") or 1
        cpus = {d["host"]: d["cpus"] for d in self.workers.values()}
        by_address = {}
        for address, info in self._alive.items():
            described = self.workers.get(address)
            total = described["cpus"] if described else cpus.get(info.get("host"), 1)
            by_address[address] = max(1, total // max(1, slots[info.get("host")]))
        return by_address

    def _read_workers(self) -> None:
        info = self.client.scheduler_info()
        self._alive = {address: {"resources": w.get("resources") or {},
                                 "nthreads": w.get("nthreads"), "host": w.get("host")}
                       for address, w in info.get("workers", {}).items()}
        self._seen = time.monotonic()

    def _watch(self) -> None:
        while not self._closing.wait(WATCH_EVERY_S):
            with contextlib.suppress(Exception):  # out of reach: _seen says for how long
                if self.client.status == "running":
                    self._read_workers()

    def _lost(self) -> bool:
        return (self.client.status != "running"
                and time.monotonic() - self._seen > LOST_S) or self.client.status == "closed"

    def _unmet(self, slug: str, need: dict[str, float]) -> str | None:
        """Why no worker can take a project asking for ``need``, or None."""
        if not need:
            return None
        offers = [w["resources"] for w in self._alive.values()]
        if any(all(o.get(k, 0) >= v for k, v in need.items()) for o in offers):
            return None
        asked = ", ".join(f"{k}: {v:g}" for k, v in need.items())
        offered = sorted({", ".join(f"{k}={v:g}" for k, v in o.items()) for o in offers if o})
        flags = " ".join(f"{k}={v:g}" for k, v in need.items())
        there = f"the workers offer {'; '.join(offered)}" if offered else \
            "no worker declares resources"
        return (f"{slug} asks for {{{asked}}} (resources: in its project.yaml), but no worker "
                f"of the Dask cluster at {self.address} offers that ({there}): start one "
                f"with `dask worker {self.address} --resources {flags}`")

    # -- events from the workers ----------------------------------------------------------
    def _event(self, event: tuple[float, dict[str, Any]]) -> None:
        """A worker's message about a run: started, progress lines, log bytes. Written
        into the run's folder here, where the runner reads them (on Dask's event loop:
        small appends only)."""
        message = event[1]
        with self._lock:
            tracked = self._tracked.get(message.get("out", ""))
        if tracked is None:
            return
        with contextlib.suppress(OSError):
            if message.get("started"):
                tracked.started_on.append(message.get("worker", "?"))
                tracked.hosts.append(message.get("host", "?"))
                if len(tracked.started_on) == 1:
                    (tracked.folder / results.LOG).touch()
            if len(tracked.started_on) != 1:
                return  # a second start: the runner fails the project; nothing to show
            for key, name in (("progress", results.PROGRESS), ("log", results.LOG)):
                if message.get(key):
                    with (tracked.folder / name).open("a", encoding="utf-8") as fh:
                        fh.write(message[key])

    # -- one project ----------------------------------------------------------------------
    def run(self, workspace: Workspace, job: Job, stop: threading.Event) -> Outcome:
        """Send ``job`` to the cluster, follow it, and bring its run folder back into
        ``results/<job.out>`` here; returns its outcome."""
        started_at, began = datetime.now(UTC), time.monotonic()
        tracked = _Tracked(run_folder(workspace, job))

        def ended(status: str, error: str | None) -> Outcome:
            here = {"executor": "dask", "scheduler": self.address,
                    "resources": dict(job.resources)}
            if tracked.started_on:  # where it was when it went wrong
                here.update(worker=tracked.started_on[0], host=tracked.hosts[0])
            return Outcome(job.slug, status, None, time.monotonic() - began, error, started_at,
                           placement=here)

        need = dict(job.resources)
        unmet = self._unmet(job.slug, need)
        if unmet:
            return ended("failed", unmet)
        with self._lock:
            self._tracked[job.out] = tracked
        try:
            return self._follow(workspace, job, stop, tracked, need, ended)
        finally:
            with self._lock:
                self._tracked.pop(job.out, None)

    def _follow(self, workspace: Workspace, job: Job, stop: threading.Event,
                tracked: _Tracked, need: dict[str, float], ended: Any) -> Outcome:
        root = workspace.root
        pythonpath = parcel.repository_pythonpath(root)
        project = project_folder(workspace, job)
        modules = parcel.local_modules(root, project, job.modules, pythonpath)
        job = replace(job, pythonpath=tuple(pythonpath), values=tuple(
            (name, os.environ[name]) for name in job.env if name in os.environ))
        try:
            archive = parcel.pack_project(root, project, job.data, modules)
            sent = self.client.scatter(archive, hash=False)
            future = self.client.submit(
                remote.run, job, sent, self.topic, self.address, self._threads(),
                key=f"portfolio-{job.slug}-{uuid.uuid4().hex[:8]}", pure=False,
                resources=need or None, retries=0)
        except Exception as exc:
            return ended("failed", f"it could not be sent to the Dask cluster at "
                                   f"{self.address}: {type(exc).__name__}: {exc}")
        queued = time.monotonic()
        while not future.done():
            if stop.wait(_POLL_S):
                future.cancel()
                return ended("interrupted", "the build was interrupted")
            trouble = self._trouble(job, tracked, need, queued)
            if trouble:
                future.cancel()
                return ended(*trouble)
        return self._fetch(job, future, tracked, need, queued, ended)

    def _trouble(self, job: Job, tracked: _Tracked, need: dict[str, float],
                 queued: float) -> tuple[str, str] | None:
        """Why a run still going must be given up: its worker went away (or Dask started
        it again elsewhere), no worker left can take it, the scheduler is gone."""
        if self._lost():
            return "failed", (f"the connection to the Dask scheduler at {self.address} was "
                              "lost while it ran")
        if len(tracked.started_on) > 1 or (tracked.started_on
                                           and tracked.started_on[0] not in self._alive):
            worker = tracked.started_on[0]
            return "killed", (f"the Dask worker {worker} ({tracked.hosts[0]}) running it went "
                              "away mid-run (killed, or out of memory?); it was not run again")
        if not tracked.started_on and time.monotonic() - queued > NO_WORKER_GRACE_S:
            return ("failed", unmet) if (unmet := self._unmet(job.slug, need)) else None
        return None

    def _fetch(self, job: Job, future: Any, tracked: _Tracked, need: dict[str, float],
               queued: float, ended: Any) -> Outcome:
        """The finished run's outcome, and its folder written here in place of what the
        events wrote (nothing half-written: on any error the folder is emptied)."""
        if future.status == "cancelled":
            # The scheduler cancels a task whose input was lost with its worker, and every
            # task when it goes away: which one, the workers' list says.
            with contextlib.suppress(Exception):
                if self.client.status == "running":
                    self._read_workers()
            trouble = self._trouble(job, tracked, need, queued)
            if trouble is None and self.client.status != "running":
                trouble = "failed", (f"the connection to the Dask scheduler at "
                                     f"{self.address} was lost while it ran")
            return ended(*(trouble or ("failed", "the Dask cluster cancelled it (was the "
                                       "scheduler restarted, or did another client cancel "
                                       "it?)")))
        if future.status == "error":
            exc = future.exception()
            if type(exc).__name__ == "KilledWorker":
                return ended("killed", f"Dask gave up on it: the workers running it kept "
                                       f"dying ({exc})")
            return ended("failed", f"the Dask worker could not run it: "
                                   f"{type(exc).__name__}: {exc}")
        worker = tracked.started_on[0] if tracked.started_on else "its worker"
        try:
            answer = future.result(timeout=max(60.0, job.timeout))
        except Exception as exc:
            return ended("failed", f"its results could not be fetched from {worker}: "
                                   f"{type(exc).__name__}: {exc}")
        finally:
            future.release()
        folder = tracked.folder
        try:
            _empty(folder)
            parcel.unpack(answer["results"], folder)
        except (OSError, ValueError) as exc:  # tarfile's errors are ValueErrors too
            _empty(folder)
            return ended("failed", f"its results could not be written here: {exc}")
        outcome: Outcome = answer["outcome"]
        return outcome


def _empty(folder: Path) -> None:
    """Everything in ``folder`` removed, the folder kept."""
    for path in list(folder.iterdir()) if folder.is_dir() else []:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


class DaskExecutor:
    """The runner's :class:`~portfolio.run.Executor` on a :class:`Cluster`: a thread per
    job follows its remote run."""

    def __init__(self, cluster: Cluster, workspace: Workspace) -> None:
        self._cluster, self._workspace = cluster, workspace
        self._pool = ThreadPoolExecutor(max_workers=_DRIVERS, thread_name_prefix="portfolio-dask")
        self._stop = threading.Event()

    def submit(self, job: Job) -> Future[Outcome]:
        return self._pool.submit(self._cluster.run, self._workspace, job, self._stop)

    def cancel(self) -> None:
        """Cancel every remote run (each worker stops its child); queued jobs never go."""
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

