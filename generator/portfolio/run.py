"""Stage 3: run each stale project's script in a child process and keep its results.

Each run goes through an executor: local child processes (the default), or a Dask
cluster (``portfolio.cluster``), whose workers run the same :func:`run_child` on a copy
of the project. Either way the child gets the project folder as cwd, its own process
group, a timeout and a fresh output folder. Only a successful run replaces
``results/<slug>/``; a failed one is kept beside it in ``results/<slug>/failed/`` so
the last good results stay on the site.
"""

from __future__ import annotations

import contextlib
import os
import platform
import queue
import select
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from portfolio import childenv, children, gitignore, leftovers, printed, results, trespass, warm
from portfolio.domain import Project, RunResult, Workspace, trivial_for
from portfolio.errors import PortfolioError
from portfolio.failures import summary as failure_summary
from portfolio.plan import Decision, library_versions, local_module_hashes, written_by_run
from portfolio.progress import Reporter, phases
from portfolio.record import (
    Hardware,
    Inputs,
    LeftRunning,
    OutsideWrites,
    Placement,
    Process,
    RunRecord,
)
from portfolio.schema import DEFAULT_DEMO_TIMEOUT_S

_GRACE_S = children.GRACE_S  # between SIGTERM and SIGKILL when a run is stopped
_EXPORT_GRACE_S = 30.0  # past the export's budget, for the child to give up on it itself
_SETTLE_S = 1.0  # for what a run started to leave by itself once the run has ended
_POLL_S = 0.1
LOG_CAP_BYTES = 20_000_000


@dataclass(frozen=True)
class Job:
    """What one run needs, in terms that can travel to another machine: the project's
    folder relative to the repository, the run's own folder relative to ``results/``, and
    the settings. Nothing of this process: no absolute path, open file or warm worker."""

    slug: str
    project: str  # the project's folder, relative to the repository
    script: str  # relative to the project's folder
    out: str  # the run's folder, relative to results/
    timeout: float
    seed: int
    threads: int = 1
    smoke: bool = False
    env: tuple[str, ...] = ()  # variables project.yaml asks to pass through
    exclusive: bool = False  # alone, with every core of the machine it runs on
    resources: tuple[tuple[str, float], ...] = ()  # what a Dask worker must offer
    data: tuple[str, ...] = ()  # declared data, relative to the project folder
    modules: tuple[str, ...] = ()  # repository modules its last run imported
    # Set when the run happens elsewhere: the values of ``env`` here, and the entries of
    # PYTHONPATH inside the repository (relative to it), to point into the copy there.
    values: tuple[tuple[str, str], ...] = ()
    pythonpath: tuple[str, ...] = ()
    # The live demo: whether the child exports the model at all (demo: and publish_model:),
    # and the export's own time budget, which the script's timeout does not count.
    demo: bool = True
    demo_timeout: float = DEFAULT_DEMO_TIMEOUT_S


def project_folder(workspace: Workspace, job: Job) -> Path:
    """Where ``job`` runs, in this checkout."""
    return workspace.root / job.project


def run_folder(workspace: Workspace, job: Job) -> Path:
    """Where ``job`` writes, in this checkout: a temporary folder in ``results/``."""
    return results.in_progress(workspace, job.out).path


@dataclass(frozen=True)
class Outcome:
    slug: str
    status: str  # ok, failed, timeout, killed, interrupted
    returncode: int | None
    duration_s: float
    error: str | None
    started: datetime
    peak_mb: float | None = None  # the child's peak resident memory
    process: dict[str, Any] | None = None  # how the child was started (run.json "process")
    left_running: tuple[leftovers.Leftover, ...] = ()  # what it left behind, now stopped
    log_incomplete: str | None = None  # why log.txt lacks some of the output (a full disk)
    # Where it ran, when not here (a Dask worker): the run.json "placement", "versions"
    # and "hardware" of that machine. None: this machine's.
    placement: dict[str, Any] | None = None
    versions: dict[str, str] | None = None
    hardware: dict[str, Any] | None = None
    # The runner's, once the run is kept: a failed run's line for the user
    # (portfolio.failures: where in the script, the log, what to try).
    summary: str | None = None


class Executor(Protocol):
    """Runs jobs somewhere and hands back futures; the contract of every executor.

    A :class:`Job` holds paths relative to the repository and its ``results/`` and the
    settings, nothing else of this process; an :class:`Outcome` is plain data. When the
    future is done, the run's folder (``results/<job.out>``, made before ``submit``) holds
    what the run wrote: ``run.json``, ``log.txt``, figures, the model. While it runs, the
    folder shows it started (``log.txt`` exists) and its progress (``progress.jsonl``),
    which the runner reads for the live display. How runs start (a warm worker, a
    cluster) is the executor's business, not the job's."""

    def submit(self, job: Job) -> Future[Outcome]: ...

    def cancel(self) -> None: ...

    def shutdown(self) -> None: ...


class LocalExecutor:
    """Runs jobs as child processes on this machine, in ``workspace``, ``jobs`` at a time;
    forked from the warm ``worker`` when there is one."""

    def __init__(self, workspace: Workspace, jobs: int,
                 worker: warm.Worker | None = None) -> None:
        self._workspace = workspace
        self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="portfolio-run")
        self._stop = threading.Event()
        self._worker = worker

    def submit(self, job: Job) -> Future[Outcome]:
        return self._pool.submit(run_child, self._workspace, job, self._stop, self._worker)

    def cancel(self) -> None:
        """Stop every running child (and its process group); queued jobs never start."""
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def child_env(job: Job, out: Path, root: Path) -> dict[str, str]:
    """The policy's variables (``portfolio.childenv``) and the run's own: it writes to
    ``out``, in the repository ``root``."""
    env = childenv.child_environment(job.env)
    env.update(dict(job.values))
    if job.pythonpath:  # the repository's folders, as they are in this copy of it
        here = [str(root / rel) for rel in job.pythonpath]
        env["PYTHONPATH"] = os.pathsep.join([*here, *filter(None, [env.get("PYTHONPATH")])])
    env.update({
        "PORTFOLIO_OUT": str(out),
        "PORTFOLIO_SEED": str(job.seed),
        "PORTFOLIO_SMOKE": "1" if job.smoke else "0",
        "PORTFOLIO_ROOT": str(root),
        "PORTFOLIO_DEMO": "1" if job.demo else "0",
        "PORTFOLIO_DEMO_TIMEOUT": repr(float(job.demo_timeout)),
        "PYTHONHASHSEED": "0",  # as in the warm worker, whose children share its hash seed
        "PYTHONUNBUFFERED": "1",  # the log keeps the order of prints and tracebacks
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": env.get("TF_CPP_MIN_LOG_LEVEL", "1"),
    })
    if job.threads < _cores():
        # Size every thread pool so N children share the cores instead of fighting over
        # them. A child that has every core gets none of these: the libraries' defaults
        # are every core already, and the variables would reach the processes it starts.
        # joblib gives each of its loky workers cores // n_jobs threads unless the
        # variable is set, and then passes the variable on: n_jobs=-1 over OpenMP code
        # (HistGradientBoosting) ran two workers of two threads each on two cores, two to
        # eight times slower than `python train.py`.
        threads = str(job.threads)
        env.update({name: threads for name in _POOL_SIZES})
    return env


# What sizes the thread pools of OpenMP, the BLAS libraries and TensorFlow.
_POOL_SIZES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def _cores() -> int:
    """The cores this process may run on (its affinity), as the libraries count them."""
    with contextlib.suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _pump(stream: Any, log: Any, cap: int, abandon: threading.Event) -> str | None:
    """Copy the child's output to the log up to ``cap`` bytes, then count and drop the rest:
    the child never blocks on a full pipe, and the disk never fills. Reads until every
    writer has closed the pipe, or until ``abandon`` is set. A log that cannot be written
    (a full disk) is drained all the same; returns what is missing from it and why, else
    None."""
    written = dropped = 0
    failed: OSError | None = None
    fd = stream.fileno()
    with contextlib.suppress(OSError, ValueError):  # the pipe closed under us: we are done
        while not abandon.is_set():
            if not select.select([fd], [], [], _POLL_S)[0]:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            room = cap - written if failed is None else 0
            if room > 0:
                try:
                    log.write(chunk[:room])
                    log.flush()  # in the file as soon as read: a remote run relays it
                except OSError as exc:  # keep reading: the child must not block on us
                    failed, room = exc, 0
                else:
                    written += min(room, len(chunk))
            dropped += max(0, len(chunk) - max(room, 0))
    try:
        if dropped and failed is None:
            log.write(f"\n[portfolio: the log was capped at {cap / 1e6:.0f} MB; "
                      f"{dropped / 1e6:.1f} MB more output was dropped]\n".encode())
        log.flush()
    except OSError as exc:
        failed = failed or exc
    if failed is None:
        return None
    return (f"the log is incomplete: writing log.txt failed after {written:,} bytes "
            f"({failed.strerror or failed}); {dropped:,} bytes of output were lost")


def run_child(workspace: Workspace, job: Job, stop: threading.Event | None = None,
              worker: warm.Worker | None = None) -> Outcome:
    """Run one job to completion, timeout or ``stop``; stdout and stderr go to ``log.txt``.

    The child is forked by the warm ``worker`` when there is one (it has the heavy
    libraries imported already), else started as a fresh interpreter. Either way it is
    reaped with ``wait4``, so its peak memory comes back with its status.
    """
    started_at, started = datetime.now(UTC), time.monotonic()
    stop = stop or threading.Event()
    folder, out = project_folder(workspace, job), run_folder(workspace, job)
    clock = _Clock(job, started, out / results.DEMO_CLOCK)

    def expired() -> bool:
        return stop.is_set() or clock.overrun() is not None

    peak_mb = returncode = None
    marker, left = uuid.uuid4().hex, []
    keep_script(folder / job.script, results.RunFolder(out).script_copy(job.script))
    with _log_file(out / results.LOG) as log:
        env = {**child_env(job, out, workspace.root), leftovers.MARKER: marker}
        child = children.start("portfolio.child", [job.script], folder, env, job.threads,
                               worker, expired)
        abandon = threading.Event()
        log_problem: list[str | None] = []
        pump = threading.Thread(target=lambda: log_problem.append(
            _pump(child.output, log, LOG_CAP_BYTES, abandon)), daemon=True)
        pump.start()
        try:
            while True:
                ended = child.wait(_POLL_S)
                if ended:
                    returncode, peak_mb = ended
                    status, error = _status_from_child(out, returncode)
                    if child.lost:  # not the script's doing: say whose it was
                        status, error = "killed", child.lost
                    break
                if stop.is_set():
                    returncode = children.stop_group(child)
                    status, error = "interrupted", "the build was interrupted"
                    break
                overrun = clock.overrun()
                if overrun is not None:
                    returncode = children.stop_group(child)
                    status, error = "timeout", overrun
                    break
        except BaseException:
            children.stop_group(child)
            raise
        finally:
            if child.pid:  # what it started and left: named on its page, and stopped
                left = leftovers.settle_and_stop(
                    leftovers.RunMark(child.pid, marker, os.fstat(child.output.fileno()).st_ino),
                    _SETTLE_S, _GRACE_S)
            pump.join(timeout=_GRACE_S)  # the pipe's last writers have just been stopped
            abandon.set()  # one we could not find may hold it still: stop reading anyway
            pump.join()
            child.output.close()
            clock.path.unlink(missing_ok=True)  # the child's word to us, not a result
    return Outcome(job.slug, status, returncode, time.monotonic() - started, error,
                   started_at, peak_mb, child.process, tuple(left),
                   next(iter(log_problem), None))


class _Clock:
    """The run's time against its limits: the script's ``timeout`` counts everything but
    the demo's export, which has a budget of its own (``demo: {timeout: …}``). The child
    stops waiting for an export that spends it; this stops a child that did not."""

    def __init__(self, job: Job, started: float, path: Path) -> None:
        self.job, self.started, self.path = job, started, path

    def overrun(self) -> str | None:
        """Why the run must be stopped now, or None."""
        now = time.monotonic()
        export_start, export_end = self._export()
        exporting = export_start is not None and export_end is None
        export_s = 0.0 if export_start is None else (export_end or now) - export_start
        if exporting and export_s > self.job.demo_timeout + _EXPORT_GRACE_S:
            return (f"the demo's ONNX export ran out of its {self.job.demo_timeout:g} s "
                    "budget and did not stop; stopped (demo: {timeout: …} in project.yaml "
                    "sets the budget, demo: false skips the export)")
        if now - self.started - export_s > self.job.timeout:
            return f"timed out after {self.job.timeout:g} s; stopped"
        return None

    def _export(self) -> tuple[float | None, float | None]:
        """When the child's export started and ended (CLOCK_MONOTONIC, this machine's)."""
        try:
            words = self.path.read_text(encoding="ascii").split()
            times = [float(w) for w in words[:2]]
        except (OSError, ValueError, UnicodeDecodeError):
            return None, None
        if not times or not self.started <= times[0] <= time.monotonic():  # not this run's
            return None, None
        return times[0], times[1] if len(times) > 1 and times[1] >= times[0] else None


@contextlib.contextmanager
def _log_file(path: Path) -> Iterator[Any]:
    """``path`` open for writing; a close that fails (a full disk, already reported by
    the pump) does not end the run's bookkeeping."""
    log = path.open("wb")
    try:
        yield log
    finally:
        with contextlib.suppress(OSError):
            log.close()


def keep_script(script: Path, copy: Path) -> None:
    """Keep the script as it was when its run started, before the run can change it: the
    page links this copy, the one its results came from, not the file as it is now."""
    with contextlib.suppress(OSError):  # unreadable: the child meets the same error
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(script, copy)


def _status_from_child(out: Path, returncode: int) -> tuple[str, str | None]:
    record, problem = child_record(out)
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return "killed", f"killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    if problem:
        return "failed", problem
    if returncode == 0 and record.status == "ok":
        return "ok", None
    status = "diverged" if record.status == "diverged" else "failed"
    return status, record.error or f"the child exited with code {returncode}"


def child_record(out: Path) -> tuple[RunRecord, str | None]:
    """The record the child wrote, and what is wrong with it: none written (the child was
    killed, or never started), or one that cannot be read (the script wrote over it)."""
    path = out / results.RUN_RECORD
    if not path.is_file():
        return RunRecord(status="failed"), None
    try:
        return RunRecord.read(path), None
    except PortfolioError as exc:
        return RunRecord(status="failed"), f"the run record it wrote is unreadable: {exc}"


def hardware() -> dict[str, Any]:
    return {"machine": platform.machine(), "system": platform.system(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()}


def store_run(workspace: Workspace, decision: Decision, job: Job, outcome: Outcome,
         outside_writes: dict[str, Any] | None = None) -> Path | None:
    """Complete ``run.json`` with what only the parent knows, then move the run into place:
    over ``results/<slug>/`` when it succeeded, into its ``failed/`` folder when not, into
    the scratch folder for a smoke run. An interrupted run is dropped: nothing changes.
    ``outside_writes``: what the run changed in other runs' results (``trespass``)."""
    if outcome.status == "interrupted":
        return None
    out = run_folder(workspace, job)
    outcome = _without_run_folder(out, outcome)
    out.mkdir(parents=True, exist_ok=True)  # the record of a run whose folder went
    project = decision.state.project
    record, problem = child_record(out)
    if problem:  # the script wrote over it: kept beside the record that replaces it
        (out / results.RUN_RECORD).replace(out / results.CORRUPT_RECORD)
    printed.place_in_log(record, out)
    _drop_ignored_script(workspace, project, out / results.SCRIPT_COPY)
    # The script is never an output of its own run, whatever the run did to it.
    outputs = sorted({*record.outputs, *written_by_run(project, workspace.root, decision.inputs)}
                     - {project.meta.script})
    # The versions and machine of where it ran: here, or what the remote executor says
    # (nothing, for a run that failed before a worker took it).
    elsewhere = outcome.placement is not None and outcome.placement.get("executor") != "local"
    versions = outcome.versions if elsewhere else library_versions()
    machine = outcome.hardware if elsewhere else hardware()
    inputs = decision.inputs.after_run(
        outputs, local_module_hashes(workspace.root, record.local_modules), versions)
    for name, value in {
        "slug": project.slug,
        "title": project.meta.title,
        "status": outcome.status,
        "error": outcome.error,
        "returncode": outcome.returncode,
        "script": project.meta.script,
        "command": f"portfolio build {project.slug} --force",
        "seed": job.seed,
        "smoke": job.smoke,
        "started": outcome.started.isoformat(timespec="seconds"),
        "duration_s": round(outcome.duration_s, 2),
        "peak_memory_mb": round(outcome.peak_mb, 1) if outcome.peak_mb else None,
        "process": Process.model_validate(outcome.process) if outcome.process else None,
        "left_running": [LeftRunning.model_validate(p.as_dict()) for p in outcome.left_running],
        "outside_writes": OutsideWrites.model_validate(outside_writes) if outside_writes
        else None,
        "log_incomplete": outcome.log_incomplete,
        "input_hash": inputs.digest,
        "inputs": Inputs.model_validate(inputs.as_dict()),
        "outputs": outputs,
        "versions": versions,
        "hardware": Hardware.model_validate(machine) if machine else None,
        "placement": Placement.model_validate(outcome.placement or {"executor": "local"}),
    }.items():
        if value is not None or name in ("error", "returncode", "peak_memory_mb"):
            setattr(record, name, value)
    record.write(out / results.RUN_RECORD)
    return results.keep(workspace, results.RunFolder(out), project.slug,
                        ok=outcome.status == "ok", smoke=job.smoke).path


def _drop_ignored_script(workspace: Workspace, project: Project, copy: Path) -> None:
    """A script git ignores (or a hidden one) stays out of ``results/``, which is committed:
    its copy is dropped, as the site never publishes it either."""
    rel = Path(os.path.relpath(project.script, workspace.root)).as_posix()
    if (rel.startswith("../") or any(part.startswith(".") for part in rel.split("/"))
            or gitignore.ignored(workspace.root, [rel])):
        shutil.rmtree(copy, ignore_errors=True)


def _without_run_folder(out: Path, outcome: Outcome) -> Outcome:
    """A run whose folder is gone (its script deleted ``results/``) failed, whatever it
    returned: nothing it produced is left to keep."""
    if out.is_dir() or outcome.status == "interrupted":
        return outcome
    return replace(outcome, status="failed", error=(
        f"the script deleted its run folder ({out.parent.name}/{out.name}) while it "
        "ran: nothing it produced was kept"))


MakeExecutor = Callable[[int], Executor]  # an executor running up to N jobs at once


def local_executors(workspace: Workspace, worker: warm.Worker | None = None) -> MakeExecutor:
    """Executors that run jobs here, forked from the warm ``worker`` when there is one."""
    return lambda jobs: LocalExecutor(workspace, jobs, worker)


def run_projects(workspace: Workspace, decisions: list[Decision], jobs: int, smoke: bool,
                 reporter: Reporter, worker: warm.Worker | None = None,
                 executors: MakeExecutor | None = None) -> list[Outcome]:
    """Run every decision's project and keep its results; outcomes come in input order.

    Projects marked ``exclusive`` run first, one at a time with every core; the rest share
    the cores, ``jobs`` at a time, each child's thread pools sized to its share.
    ``executors``: where they run (default: here, see :func:`local_executors`).
    """
    if not decisions:
        return []
    created = not workspace.results_dir.exists()
    workspace.results_dir.mkdir(parents=True, exist_ok=True)
    executors = executors or local_executors(workspace, worker)
    try:
        return _run_all(workspace, decisions, jobs, smoke, reporter, executors)
    except BaseException:
        if created and not any(workspace.results_dir.iterdir()):
            workspace.results_dir.rmdir()
        raise


def _run_all(workspace: Workspace, decisions: list[Decision], jobs: int, smoke: bool,
             reporter: Reporter, executors: MakeExecutor) -> list[Outcome]:
    for decision in decisions:
        reporter.queued(decision.state.project.slug, decision.reasons)
    alone = [d for d in decisions if d.state.project.meta.exclusive]
    # Longest first (by the last run's duration; never-run ones first of all): the pool
    # then ends with short jobs filling the gaps instead of one long job running alone.
    shared = sorted((d for d in decisions if not d.state.project.meta.exclusive),
                    key=lambda d: -_last_duration(d))
    cores = os.cpu_count() or 1
    outcomes: dict[str, Outcome] = {}
    for batch, workers in [*[([d], 1) for d in alone], (shared, jobs)]:
        if batch:
            threads = max(1, cores // max(1, min(workers, len(batch))))
            outcomes.update(_run_batch(workspace, batch, executors(workers), threads, smoke,
                                       reporter))
    return [outcomes[d.state.project.slug] for d in decisions]


def _run_batch(workspace: Workspace, decisions: list[Decision], executor: Executor,
               threads: int, smoke: bool, reporter: Reporter) -> dict[str, Outcome]:
    running = []
    for decision in decisions:
        job = _job(workspace, decision, threads, smoke)
        running.append(_Running(decision, job, run_folder(workspace, job)))
    ended: queue.SimpleQueue[object] = queue.SimpleQueue()
    done: dict[str, Outcome] = {}
    replaced: list[str] = []  # the results/ folders this batch replaced, in order
    try:
        before = trespass.take(workspace.results_dir)
        for item in running:
            item.future = executor.submit(item.job)
            item.future.add_done_callback(ended.put)
        while True:
            for item in running:
                if item.slug in done:
                    continue
                # Done before reading: a run that has ended has written all its progress.
                ended_now = item.future is not None and item.future.done()
                item.follow(reporter)
                if item.future is not None and ended_now:
                    outcome = _without_run_folder(item.out, item.future.result())
                    outside = _outside_writes(workspace, item, before, replaced, running, done)
                    if outside:
                        reporter.warned(item.slug, outside["message"])
                    if outcome.log_incomplete:
                        reporter.warned(item.slug, outcome.log_incomplete)
                    final = store_run(workspace, item.decision, item.job, outcome, outside)
                    replaced.append(item.slug)
                    kept = RunResult.load(final) if final is not None else None  # read once
                    score, weak = _score(item.decision, kept)
                    if outcome.status not in ("ok", "interrupted"):
                        outcome = replace(outcome, summary=failure_summary(
                            item.slug, outcome.status, outcome.error, final,
                            kept.run if kept else None, item.job.smoke))
                    reporter.finished(item.slug, outcome.status, outcome.duration_s,
                                      outcome.peak_mb, score, outcome.summary or outcome.error)
                    reporter.captured_with_warnings(item.slug, _capture_warnings(final))
                    if weak:
                        reporter.warned(item.slug, weak)
                    done[item.slug] = outcome
            if len(done) == len(running):
                break
            # Wake for progress every _POLL_S, and at once when a run ends. (A queue, not
            # futures.wait: that leaves its waiter on the futures when Ctrl-C lands in it.)
            with contextlib.suppress(queue.Empty):
                ended.get(timeout=_POLL_S)
        executor.shutdown()
        return done
    except BaseException:
        executor.cancel()  # Ctrl-C, SIGTERM: stop the children, keep nothing half-done
        raise
    finally:
        for item in running:
            shutil.rmtree(item.out, ignore_errors=True)


def _outside_writes(workspace: Workspace, item: _Running, before: trespass.Snapshot,
                    replaced: list[str], running: list[_Running],
                    done: dict[str, Outcome]) -> dict[str, Any] | None:
    """What changed in ``results/`` while ``item`` ran, besides the build's own swaps.
    ``before`` then moves on to now: each change is reported once, with the runs that were
    going on at the same time named as suspects too."""
    if item.job.smoke or item.future is None or item.future.result().status == "interrupted":
        return None
    now = trespass.take(workspace.results_dir)
    found = trespass.changes(before, now, set(replaced))
    before.clear()
    before.update(now)
    message = trespass.describe(found, workspace.results_dir.is_dir())
    if message is None:
        return None
    also = [other.slug for other in running if other is not item and other.slug not in done
            and (other.out / results.LOG).exists()]
    if also:
        message += f"; {', '.join(also)} ran at the same time and may have done it instead"
    return {"message": message, **found, "also_running": also}


@dataclass
class _Running:
    """A submitted job, its folder here, and how far the parent has read its progress."""

    decision: Decision
    job: Job
    out: Path  # the job's run folder, where its log and progress appear
    future: Future[Outcome] | None = None
    offset: int = 0

    @property
    def slug(self) -> str:
        return self.decision.state.project.slug

    def follow(self, reporter: Reporter) -> None:
        """Report the child's new progress events: the latest, and the last of each phase
        it went through since (a fit's epochs, a search's candidates, a cross-validation's
        folds), so no phase goes unsaid; a log file means it has started."""
        if not (self.out / results.LOG).exists():
            return
        stream = self.out / results.PROGRESS
        shown: list[tuple[str, str]] = []
        if stream.exists():
            with stream.open("rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self.offset += len(complete)
            shown = phases(complete.decode("utf-8", errors="replace").splitlines())
        if not shown and self.offset == 0:
            shown = [("", "")]  # started, nothing to say yet
        for detail, phase in shown:
            reporter.running(self.slug, detail, phase)


def _last_duration(decision: Decision) -> float:
    last = decision.state.latest
    duration = last.run.duration_s if last else None
    return float("inf") if duration is None else duration


def _score(decision: Decision, result: RunResult | None) -> tuple[str, str]:
    """The run's headline for the status line ('accuracy 0.9474'), and the warning when it
    is no better than its trivial baseline ('accuracy 0.29 is no better than its trivial
    baseline: Always predicts class 1 scores 0.5 on the same data'), each '' when none."""
    headline = result.headline(decision.state.project.meta) if result else None
    if result is None or headline is None:
        return "", ""
    trivial = trivial_for(result.run, headline)
    if trivial is None or headline.beats(trivial.value):
        return headline.brief(), ""
    return headline.brief(), (f"{headline.brief()} is no better than its trivial baseline: "
                              f"{trivial.name} scores {trivial.value:.4g} on the same data")


def _capture_warnings(folder: Path | None) -> list[str]:
    return child_record(folder)[0].capture_warnings if folder is not None else []


def _job(workspace: Workspace, decision: Decision, threads: int, smoke: bool) -> Job:
    project, last = decision.state.project, decision.state.latest
    out = results.new_run_folder(workspace, project.slug).path
    return Job(slug=project.slug, project=os.path.relpath(project.folder, workspace.root),
               script=project.meta.script, out=out.name, timeout=project.meta.timeout,
               seed=project.meta.seed, threads=threads, smoke=smoke,
               env=tuple(project.meta.env), exclusive=project.meta.exclusive,
               resources=tuple(sorted(project.meta.resources.items())),
               data=tuple(project.meta.data),
               modules=tuple(last.run.local_modules) if last else (),
               demo=project.meta.demo_wanted, demo_timeout=project.meta.demo.timeout)
