"""Stage 3: run each stale project's script in a child process and keep its results.

Each run goes through an executor (local child processes today; the interface keeps
the door open to a remote pool): the child gets the project folder as cwd, its own
process group, a timeout and a fresh output folder. Only a successful run replaces
``results/<slug>/``; a failed one is kept beside it in ``results/<slug>/failed/`` so
the last good results stay on the site.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from portfolio import logs
from portfolio.model import Project, Workspace
from portfolio.plan import Decision, library_versions, written_by_run

_GRACE_S = 5.0  # between SIGTERM and SIGKILL when a run is stopped


@dataclass(frozen=True)
class Job:
    """Everything a child needs: a folder to run in and a folder to write to."""

    slug: str
    folder: Path
    script: str
    timeout: float
    seed: int
    out: Path
    threads: int = 1
    smoke: bool = False


@dataclass(frozen=True)
class Outcome:
    slug: str
    status: str  # ok, failed, timeout, killed
    returncode: int | None
    duration_s: float
    error: str | None
    started: datetime


class Executor(Protocol):
    def submit(self, job: Job) -> Future[Outcome]: ...

    def shutdown(self) -> None: ...


class LocalExecutor:
    """Runs jobs as child processes on this machine, ``jobs`` at a time."""

    def __init__(self, jobs: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="portfolio-run")

    def submit(self, job: Job) -> Future[Outcome]:
        return self._pool.submit(run_child, job)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def child_env(job: Job) -> dict[str, str]:
    env = dict(os.environ)
    threads = str(job.threads)
    env.update({
        "PORTFOLIO_OUT": str(job.out),
        "PORTFOLIO_SEED": str(job.seed),
        "PORTFOLIO_SMOKE": "1" if job.smoke else "0",
        "PYTHONHASHSEED": str(job.seed),
        "PYTHONUNBUFFERED": "1",  # the log keeps the order of prints and tracebacks
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": env.get("TF_CPP_MIN_LOG_LEVEL", "1"),
        # Size every thread pool so N children share the cores instead of fighting over them.
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": threads,
    })
    return env


def run_child(job: Job) -> Outcome:
    """Run one job to completion or timeout; stdout and stderr go to ``log.txt``."""
    command = [sys.executable, "-m", "portfolio.child", job.script]
    started_at, started = datetime.now(UTC), time.monotonic()
    with (job.out / "log.txt").open("wb") as log:
        proc = subprocess.Popen(command, cwd=job.folder, env=child_env(job),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            returncode = proc.wait(timeout=job.timeout)
            status, error = _status_from_child(job.out, returncode)
        except subprocess.TimeoutExpired:
            stop_group(proc)
            returncode = proc.returncode
            status, error = "timeout", f"timed out after {job.timeout:g} s; the run was stopped"
        except BaseException:
            stop_group(proc)
            raise
    return Outcome(job.slug, status, returncode, time.monotonic() - started, error, started_at)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the child and everything it started: SIGTERM to the group, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_GRACE_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # what is left of the group: grandchildren too
    proc.wait()


def _status_from_child(out: Path, returncode: int) -> tuple[str, str | None]:
    record = _read_json(out / "run.json")
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return "killed", f"killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    if returncode == 0 and record.get("status") == "ok":
        return "ok", None
    return "failed", record.get("error") or f"the child exited with code {returncode}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def hardware() -> dict[str, Any]:
    return {"machine": platform.machine(), "system": platform.system(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()}


def keep(workspace: Workspace, decision: Decision, job: Job, outcome: Outcome) -> None:
    """Complete ``run.json`` with what only the parent knows, then move the run into place."""
    project = decision.state.project
    record = _read_json(job.out / "run.json")
    logs.absorb(record, job.out)
    outputs = sorted({*record.get("outputs", []), *written_by_run(project, decision.inputs)})
    inputs = decision.inputs.without(outputs)
    record.update({
        "format": decision.inputs.format,
        "slug": project.slug,
        "title": project.meta.title,
        "status": outcome.status,
        "error": outcome.error,
        "returncode": outcome.returncode,
        "script": project.meta.script,
        "command": f"portfolio build {project.slug} --force",
        "seed": job.seed,
        "started": outcome.started.isoformat(timespec="seconds"),
        "duration_s": round(outcome.duration_s, 2),
        "input_hash": inputs.digest,
        "inputs": inputs.as_dict(),
        "outputs": outputs,
        "versions": library_versions(),
        "hardware": hardware(),
    })
    (job.out / "run.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    target = workspace.results_for(project.slug)
    if outcome.status == "ok":
        _replace(job.out, target)
    else:
        target.mkdir(parents=True, exist_ok=True)
        _replace(job.out, target / "failed")


def _replace(source: Path, target: Path) -> None:
    """Swap ``source`` in as ``target`` with renames, so a reader never sees half a run."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".old-{target.name}-", dir=target.parent))
        target.rename(old / "x")
    source.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run_projects(workspace: Workspace, decisions: list[Decision], jobs: int, smoke: bool,
                 report: Callable[[str, str], None]) -> list[Outcome]:
    """Run every decision's project, ``jobs`` at a time; return outcomes in input order."""
    if not decisions:
        return []
    workspace.results_dir.mkdir(parents=True, exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // max(1, min(jobs, len(decisions))))
    executor = LocalExecutor(jobs)
    pending: list[tuple[Decision, Job, Future[Outcome]]] = []
    try:
        for decision in decisions:
            project = decision.state.project
            job = _job(workspace, project, threads, smoke)
            report(project.slug, "queued: " + ", ".join(decision.reasons))
            pending.append((decision, job, executor.submit(job)))
        outcomes = []
        for decision, job, future in pending:
            outcome = future.result()
            keep(workspace, decision, job, outcome)
            outcomes.append(outcome)
            detail = f"{outcome.duration_s:.1f} s" + (f": {outcome.error}" if outcome.error else "")
            report(outcome.slug, f"{outcome.status} in {detail}")
        return outcomes
    finally:
        executor.shutdown()
        for _, job, _ in pending:
            if job.out.exists():
                shutil.rmtree(job.out, ignore_errors=True)


def _job(workspace: Workspace, project: Project, threads: int, smoke: bool) -> Job:
    out = Path(tempfile.mkdtemp(prefix=f".run-{project.slug}-", dir=workspace.results_dir))
    return Job(slug=project.slug, folder=project.folder, script=project.meta.script,
               timeout=project.meta.timeout, seed=project.meta.seed, out=out,
               threads=threads, smoke=smoke)
