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
away (it fails: Dask would start it again elsewhere, but a run that may have killed its
worker is not run twice behind the owner's back, so a second start refuses to run); the
scheduler went away; its results could not be fetched or written. In every case its
previous results stay as they were, and nothing escapes as a traceback. Ctrl-C cancels
the remote runs: each worker stops its child when its task is cancelled, and when this
client disconnects.

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
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
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
CONNECT_DEADLINE_S = CONNECT_S + 5.0  # the whole connection, past Dask's own timeout
WATCH_EVERY_S = 1.0  # how often the workers' list is read from the scheduler
_POLL_S = 0.5
LOST_S = 5.0  # a scheduler out of reach this long has gone away
NO_WORKER_GRACE_S = 30.0  # a worker that could run a queued project may be restarting
QUEUED_PER_CLUSTER = 2  # runs sent beyond the workers' threads, so none waits for work
_DRIVERS = 256  # threads that follow remote runs (they wait, they do not compute)

Ended = Callable[[str, str | None], Outcome]


class ClusterError(InputError):
    """The cluster cannot be used: Dask missing, the scheduler out of reach, a worker
    without portfolio. Exit code 2, before anything runs."""


@dataclass
class _Tracked:
    """What the client knows of one remote run: its folder here, and the (worker, host)
    of each start (Dask starts a task again when its worker goes away). ``lock`` keeps the
    event thread's writes and the final unpacking apart; ``closed``: no more writes."""

    folder: Path
    starts: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False


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
        self.client = _connect(distributed, self.address)
        self.topic = f"portfolio-{uuid.uuid4().hex[:12]}"
        self._tracked: dict[str, _Tracked] = {}
        self._lock = threading.Lock()
        self._alive: dict[str, dict[str, Any]] = {}
        self._seen = time.monotonic()
        self._closing = threading.Event()
        self._gate = threading.Condition()
        self._sent = 0  # runs sent and not yet back
        try:
            self.workers = self._describe()
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
        """Each worker's portfolio code, library versions, host, cores and GPUs; refuses
        a cluster without workers, or with a worker that cannot run portfolio or runs
        other code than this client (a worker that joins later is checked by its runs)."""
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
        wrong = {a: d for a, d in described.items() if d["code"] != ours}
        if wrong:
            raise ClusterError(
                f"the Dask workers must run the portfolio this client runs ({__version__}, "
                f"code {ours}); these run other code: " + ", ".join(
                    f"{a} ({d['portfolio']}, code {d['code']})" for a, d in wrong.items())
                + ". Install the same portfolio on every worker")
        return described

    def versions_for(self, resources: dict[str, float],
                     recorded: dict[str, str] | None) -> dict[str, str]:
        """The library versions a project will run with, for planning: those of the
        workers that can take it (by ``resources``). Its ``recorded`` versions when one of
        them has those (it would run there as before), else the most common."""
        able = [d["versions"] for a, d in self.workers.items()
                if _offers(self._alive.get(a, {}).get("resources", {}), resources)]
        able = able or [d["versions"] for d in self.workers.values()]
        if recorded in able:
            return dict(recorded)
        counted = collections.Counter(json.dumps(v, sort_keys=True) for v in able)
        return json.loads(counted.most_common(1)[0][0])

    def warn_if_versions_differ(self) -> None:
        kinds = {json.dumps(d["versions"], sort_keys=True) for d in self.workers.values()}
        if len(kinds) > 1:
            print(f"warning: the Dask workers do not all have the same library versions "
                  f"({'; '.join(sorted(kinds))}): a project is fresh while a worker that can "
                  "take it has the versions it ran with, and records those of the worker "
                  "that runs it", file=sys.stderr, flush=True)

    def executors(self, workspace: Workspace) -> MakeExecutor:
        """Executors for the runner; Dask places the jobs, so the count is not used."""
        return lambda jobs: DaskExecutor(self, workspace)

    def close(self) -> None:
        self._closing.set()
        with contextlib.suppress(Exception):
            self.client.set_metadata(self.topic, {})  # the runs' start marks (remote.py)
        with contextlib.suppress(Exception):
            self.client.close(timeout=CONNECT_S)

    def _slots(self) -> dict[str, int]:
        """Task slots (worker threads) per machine, by the host the scheduler sees: a
        worker shares its machine's cores among all of them (a LocalCluster puts several
        workers on one machine)."""
        slots: collections.Counter[str] = collections.Counter()
        for info in self._alive.values():
            slots[info.get("host") or "?"] += info.get("nthreads") or 1
        return dict(slots)

    def _read_workers(self) -> None:
        info = self.client.scheduler_info()
        self._alive = {address: {"resources": w.get("resources") or {},
                                 "nthreads": w.get("nthreads"), "host": w.get("host")}
                       for address, w in info.get("workers", {}).items()}
        self._seen = time.monotonic()
        with self._gate:
            self._gate.notify_all()  # more workers: more runs may go

    def _watch(self) -> None:
        while not self._closing.wait(WATCH_EVERY_S):
            with contextlib.suppress(Exception):  # out of reach: _seen says for how long
                if self.client.status == "running":
                    self._read_workers()

    def _lost(self) -> bool:
        return (self.client.status != "running"
                and time.monotonic() - self._seen > LOST_S) or self.client.status == "closed"

    def _gone(self, worker: str) -> bool:
        """Whether ``worker`` has left the cluster: asked again before saying so (a worker
        that just joined is not in the list read a second ago)."""
        if worker in self._alive:
            return False
        with contextlib.suppress(Exception):
            if self.client.status == "running":
                self._read_workers()
        return worker not in self._alive

    def _unmet(self, slug: str, need: dict[str, float]) -> str | None:
        """Why no worker can take a project asking for ``need``, or None."""
        offers = [w["resources"] for w in self._alive.values()]
        if not need or any(_offers(o, need) for o in offers):
            return None
        asked = ", ".join(f"{k}: {v:g}" for k, v in need.items())
        offered = sorted({", ".join(f"{k}={v:g}" for k, v in o.items()) for o in offers if o})
        flags = " ".join(f"{k}={v:g}" for k, v in need.items())
        there = f"the workers offer {'; '.join(offered)}" if offered else \
            "no worker declares resources"
        return (f"{slug} asks for {{{asked}}} (resources: in its project.yaml), but no worker "
                f"of the Dask cluster at {self.address} offers that ({there}): start one "
                f"with `dask worker {self.address} --resources {flags}`")

    def _enter(self, stop: threading.Event) -> bool:
        """Wait until one more run may be sent (the workers' threads, and a couple queued:
        every run's archive waits in a worker's memory until it starts); False if ``stop``
        was set meanwhile."""
        with self._gate:
            while not stop.is_set():
                room = sum(w.get("nthreads") or 1 for w in self._alive.values())
                if self._sent < room + QUEUED_PER_CLUSTER:
                    self._sent += 1
                    return True
                self._gate.wait(_POLL_S)
        return False

    def _leave(self) -> None:
        with self._gate:
            self._sent -= 1
            self._gate.notify_all()

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
        with tracked.lock, contextlib.suppress(OSError):
            if tracked.closed:
                return
            if message.get("started"):
                tracked.starts.append((message.get("worker", "?"), message.get("host", "?")))
                if len(tracked.starts) == 1:
                    (tracked.folder / results.LOG).touch()
            if len(tracked.starts) != 1:
                return  # a second start: the runner fails the project; nothing to show
            for key, name in (("progress", results.PROGRESS), ("log", results.LOG)):
                if message.get(key):
                    with (tracked.folder / name).open("a", encoding="utf-8") as fh:
                        fh.write(message[key])

    # -- one project ----------------------------------------------------------------------
    def run(self, workspace: Workspace, job: Job, stop: threading.Event) -> Outcome:
        """Send ``job`` to the cluster, follow it, and bring its run folder back into
        ``results/<job.out>`` here; returns its outcome, whatever happens."""
        started_at, began = datetime.now(UTC), time.monotonic()
        tracked = _Tracked(run_folder(workspace, job))

        def ended(status: str, error: str | None) -> Outcome:
            here = {"executor": "dask", "scheduler": self.address,
                    "resources": dict(job.resources)}
            machine: dict[str, Any] = {}
            if tracked.starts:  # where it was when it went wrong
                worker, host = tracked.starts[0]
                here.update(worker=worker, host=host)
                machine = self.workers.get(worker, {})
            return Outcome(job.slug, status, None, time.monotonic() - began, error, started_at,
                           placement=here, versions=machine.get("versions"),
                           hardware=machine.get("hardware"))

        unmet = self._unmet(job.slug, dict(job.resources))
        if unmet:
            return ended("failed", unmet)
        if not self._enter(stop):
            return ended("interrupted", "the build was interrupted")
        with self._lock:
            self._tracked[job.out] = tracked
        try:
            return self._follow(workspace, job, stop, tracked, ended)
        except Exception as exc:  # whatever Dask or the network raised: this run failed
            return ended("failed", f"on the Dask cluster at {self.address}: "
                                   f"{type(exc).__name__}: {exc}")
        finally:
            self._leave()
            with self._lock:
                self._tracked.pop(job.out, None)

    def _follow(self, workspace: Workspace, job: Job, stop: threading.Event,
                tracked: _Tracked, ended: Ended) -> Outcome:
        root = workspace.root
        pythonpath = parcel.repository_pythonpath(root)
        project = project_folder(workspace, job)
        modules = parcel.local_modules(root, project, job.modules, pythonpath)
        job = replace(job, pythonpath=tuple(pythonpath), values=tuple(
            (name, os.environ[name]) for name in job.env if name in os.environ))
        need = dict(job.resources)
        # Sent twice at most: the scheduler forgets an archive that was waiting on a
        # worker that went away, and cancels the run before it started.
        attempt = 0
        while True:
            attempt += 1
            try:
                sent = send_project(self.client, root, project, job.data, modules)
                future = self.client.submit(
                    remote.run, job, sent, self.topic, self.address, self._slots(),
                    remote.code_digest(), key=f"portfolio-{job.slug}-{uuid.uuid4().hex[:8]}",
                    pure=False, resources=need or None, retries=0)
            except Exception as exc:
                return ended("failed", f"it could not be sent to the Dask cluster at "
                                       f"{self.address}: {type(exc).__name__}: {exc}")
            del sent  # the future holds the archive's chunks on the cluster; not kept here
            queued = time.monotonic()
            while not future.done():
                if stop.wait(_POLL_S):
                    future.cancel()
                    return ended("interrupted", "the build was interrupted")
                trouble = self._trouble(job, tracked, need, queued)
                if trouble:
                    future.cancel()
                    return ended(*trouble)
            lost_input = (future.status == "cancelled" and not tracked.starts
                          and self.client.status == "running")
            if not (lost_input and attempt == 1):
                return self._fetch(job, future, tracked, need, queued, ended)

    def _trouble(self, job: Job, tracked: _Tracked, need: dict[str, float],
                 queued: float) -> tuple[str, str] | None:
        """Why a run still going must be given up: its worker went away (or Dask started
        it again elsewhere), no worker left can take it, the scheduler is gone."""
        if self._lost():
            return "failed", (f"the connection to the Dask scheduler at {self.address} was "
                              "lost while it ran")
        starts = list(tracked.starts)
        if len(starts) > 1 or (starts and self._gone(starts[0][0])):
            worker, host = starts[0]
            return "killed", (f"the Dask worker {worker} ({host}) running it went away "
                              "mid-run (killed, or out of memory?); it was not run again")
        if not starts and time.monotonic() - queued > NO_WORKER_GRACE_S:
            return ("failed", unmet) if (unmet := self._unmet(job.slug, need)) else None
        return None

    def _fetch(self, job: Job, future: Any, tracked: _Tracked, need: dict[str, float],
               queued: float, ended: Ended) -> Outcome:
        """The finished run's outcome, and its folder written here in place of what the
        events wrote (nothing half-written: on any error the folder is emptied)."""
        if future.status == "cancelled":
            # The scheduler cancels a task whose input was lost with its worker, and every
            # task when it goes away: which one, the workers' list says.
            trouble = self._trouble(job, tracked, need, queued)
            if trouble is None and self.client.status != "running":
                trouble = "failed", (f"the connection to the Dask scheduler at "
                                     f"{self.address} was lost while it ran")
            return ended(*(trouble or ("failed", "the Dask cluster cancelled it, and a "
                                       "worker holding its input went away")))
        if future.status == "error":
            exc = future.exception()
            if type(exc).__name__ == "KilledWorker":
                return ended("killed", f"Dask gave up on it: the workers running it kept "
                                       f"dying ({exc})")
            if isinstance(exc, remote.StartedBefore):
                return ended("killed", f"its results were lost with the Dask worker "
                                       f"{exc.worker} that ran it, before they came back; "
                                       "it was not run again")
            return ended("failed", f"the Dask worker could not run it: "
                                   f"{type(exc).__name__}: {exc}")
        worker = tracked.starts[0][0] if tracked.starts else "its worker"
        try:
            answer = future.result(timeout=max(60.0, job.timeout))
            outcome, archive = answer["outcome"], answer["results"]
        except Exception as exc:
            return ended("failed", f"its results could not be fetched from {worker}: "
                                   f"{type(exc).__name__}: {exc}")
        finally:
            future.release()
        with tracked.lock:
            tracked.closed = True
            try:
                _empty(tracked.folder)
                parcel.unpack(archive, tracked.folder)
            except Exception as exc:  # a full disk, a damaged or refused archive
                _empty(tracked.folder)
                return ended("failed", f"its results could not be written here: "
                                       f"{type(exc).__name__}: {exc}")
        return outcome


def send_project(client: Any, root: Path, project: Path, data: Iterable[str],
                 modules: Iterable[str]) -> list[Any]:
    """The project's archive (:func:`parcel.write_project`) on the cluster, as futures of
    its chunks in order: written to a temporary file, then scattered a chunk at a time, so
    that this process never holds more than one chunk of its data."""
    with tempfile.TemporaryFile() as spool:
        parcel.write_project(spool, root, project, data, modules)
        spool.seek(0)
        sent = []
        for chunk in parcel.chunks(spool):
            sent.append(client.scatter(chunk, hash=False))
            del chunk  # before the next is read
        return sent


def _connect(distributed: Any, address: str) -> Any:
    """A Dask client connected to the scheduler at ``address``, within
    ``CONNECT_DEADLINE_S`` whatever answers there; else :class:`ClusterError`, the client
    half made closed (left to the garbage collector, it takes twice Dask's timeout to
    close and prints a traceback at exit)."""
    made: list[Any] = []

    class _Client(distributed.Client):  # type: ignore[misc,name-defined]
        def start(self, **kwargs: Any) -> None:
            # Dask bounds the TCP connection, not the handshake after it: a server that
            # accepts and never answers as a scheduler (its dashboard's port, a web
            # server) would keep the build waiting forever.
            made.append(self)
            super().start(**kwargs, callback_timeout=CONNECT_DEADLINE_S)

    try:
        return _Client(address, timeout=CONNECT_S, set_as_default=False)
    except Exception as exc:  # refused, no answer, an address it cannot parse
        for client in made:
            with contextlib.suppress(Exception):
                client.close(timeout=CONNECT_S)
        why = (f"nothing answered as a Dask scheduler within {CONNECT_DEADLINE_S:g} s (is "
               "that the dashboard's port, or another server's?)"
               if isinstance(exc, TimeoutError) else f"{exc}")
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {why}. Is "
                           "`dask scheduler` running there?") from None


def _offers(offer: dict[str, float], need: dict[str, float]) -> bool:
    return all(offer.get(name, 0) >= amount for name, amount in need.items())


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
