"""What a script starts besides itself: worker pools that must let it finish, processes it
leaves behind, and runs whose build is killed. Real child processes, real builds."""

from __future__ import annotations

import html
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import RUNNERS, make_project, portfolio_cli

# A tutorial's scikit-learn script with joblib's process pool (loky) in two places.
SKLEARN_N_JOBS = """\
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

X, y = load_iris(return_X_y=True)
scores = cross_val_score(LogisticRegression(max_iter=500), X, y, cv=3, n_jobs=-1)
forest = RandomForestClassifier(n_estimators=20, n_jobs=-1, random_state=0).fit(X, y)
print("cv", round(scores.mean(), 3), "forest", forest.score(X, y), flush=True)
"""

# The standard library's pools, kept by a helper module and left for the interpreter's
# exit to shut down.
POOLS_MODULE = """\
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def square(x):
    return x * x


POOL = multiprocessing.Pool(2)
PROCESSES = ProcessPoolExecutor(2)
THREADS = ThreadPoolExecutor(2)
"""
STDLIB_POOLS = """\
import pools

if __name__ == "__main__":
    print("pool", pools.POOL.map(pools.square, range(4)), flush=True)
    print("processes", list(pools.PROCESSES.map(pools.square, range(4))), flush=True)
    print("threads", list(pools.THREADS.map(pools.square, range(4))), flush=True)
"""


def run_json(root: Path, slug: str) -> dict:
    return json.loads((root / "results" / slug / "run.json").read_text())


@pytest.mark.cli
@pytest.mark.parametrize("runner", ["--no-warm", "--warm"])
def test_scripts_with_worker_pools_finish_as_they_do_on_their_own(tiny: Path,
                                                                  runner: str) -> None:
    """joblib's loky and concurrent.futures stop their pools' manager threads from hooks
    the interpreter runs at exit, before it waits for threads: a run must run them too."""
    make_project(tiny, "sklearn-jobs", SKLEARN_N_JOBS, "timeout: 60\n")
    folder = make_project(tiny, "stdlib-pools", STDLIB_POOLS, "timeout: 60\n")
    (folder / "pools.py").write_text(POOLS_MODULE)
    result = portfolio_cli("build", runner, "sklearn-jobs", "stdlib-pools", cwd=tiny,
                           timeout=300)
    assert result.returncode == 0, result.stderr
    for slug, expected in (("sklearn-jobs", "forest 1.0"),
                           ("stdlib-pools", "threads [0, 1, 4, 9]")):
        run = run_json(tiny, slug)
        assert run["status"] == "ok" and run["process"]["kind"] == RUNNERS[runner]
        assert expected in (tiny / "results" / slug / "log.txt").read_text()


# What joblib gives each of its loky workers: it sizes their thread pools to
# cores // n_jobs, unless the variable is set already, and then it passes it on.
LOKY_POOL_SIZES = """\
import os
from joblib import Parallel, delayed

NAMES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pool_sizes():
    return [os.environ.get(name) for name in NAMES]


print("workers", Parallel(n_jobs=2)(delayed(pool_sizes)() for _ in range(2)), flush=True)
"""
POOL_SIZES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


@pytest.mark.cli
@pytest.mark.parametrize("runner", list(RUNNERS))
def test_a_project_alone_sizes_its_worker_pools_as_it_would_on_its_own(
        tiny: Path, runner: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that has every core is not told how many threads to use: the variable would
    reach its loky workers, n_jobs of them each as many threads as the machine has cores
    (OpenMP under cross_validate(n_jobs=-1) ran two to eight times slower)."""
    for name in POOL_SIZES:  # a shell that sets none of them, for both runs
        monkeypatch.delenv(name, raising=False)
    folder = make_project(tiny, "loky-pools", LOKY_POOL_SIZES, "timeout: 60\n")
    alone = subprocess.run([sys.executable, "train.py"], cwd=folder, capture_output=True,
                           text=True, timeout=120, check=True).stdout
    result = portfolio_cli("run", runner, "loky-pools", cwd=tiny, timeout=300)
    assert result.returncode == 0, result.stderr
    assert run_json(tiny, "loky-pools")["process"]["kind"] == RUNNERS[runner]
    log = (tiny / "results" / "loky-pools" / "log.txt").read_text()
    assert alone.startswith("workers [[") and alone in log


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()
    except OSError:
        return False


# Three processes started and never waited for: a `sleep` holding the run's output pipe,
# a daemon in a session of its own (double fork through the shell, output closed) and a
# server listening on a socket. Each writes its pid to a file beside the project.
LEAVES_PROCESSES = """\
import subprocess, sys, time
from pathlib import Path

subprocess.Popen(["sleep", "600"])
subprocess.Popen("setsid sleep 601 >/dev/null 2>&1 < /dev/null & echo $! > daemon.pid",
                 shell=True).wait()
server = subprocess.Popen([sys.executable, "-c", "import socket, time; "
                           "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
                           "time.sleep(602)"], stdout=subprocess.DEVNULL)
while not Path("daemon.pid").exists() or not Path("daemon.pid").read_text().strip():
    time.sleep(0.05)
print("started", flush=True)
"""


@pytest.mark.cli
@pytest.mark.parametrize("runner", list(RUNNERS))
def test_processes_a_script_leaves_running_are_stopped_and_named_on_its_page(
        tiny: Path, runner: str) -> None:
    make_project(tiny, "leaves", LEAVES_PROCESSES, "timeout: 60\n")
    # A run that times out with a daemon still holding its output pipe.
    make_project(tiny, "hangs", "import subprocess, time\n"
                 "daemon = subprocess.Popen(['setsid', 'sleep', '603'])\n"
                 "open('daemon.pid', 'w').write(str(daemon.pid))\n"
                 "print('hanging', flush=True)\ntime.sleep(600)\n", "timeout: 3\n")
    result = portfolio_cli("build", runner, "--keep-going", "leaves", "hangs", cwd=tiny,
                           timeout=120)
    assert result.returncode == 0, result.stderr
    assert "hangs (timeout)" in result.stderr or "hangs: timeout" in result.stderr
    run = run_json(tiny, "leaves")
    assert run["status"] == "ok" and run["process"]["kind"] == RUNNERS[runner]
    left = {p["command"]: p["pid"] for p in run["left_running"]}
    assert set(left) >= {"sleep 600", "sleep 601"}, left
    assert any(command.startswith(sys.executable) for command in left), left
    assert int((tiny / "projects" / "leaves" / "daemon.pid").read_text()) == left["sleep 601"]
    for pid in left.values():
        assert not alive(pid), pid
    failed = json.loads((tiny / "results" / "hangs" / "failed" / "run.json").read_text())
    assert failed["status"] == "timeout"
    daemon = int((tiny / "projects" / "hangs" / "daemon.pid").read_text())
    assert failed["left_running"] == [{"pid": daemon, "command": "sleep 603"}]
    assert not alive(daemon)
    page = html.unescape((tiny / "site" / "projects" / "leaves" / "index.html").read_text())
    assert "The script left 3 processes running when it ended, stopped by portfolio" in page
    assert f"<code>sleep 600 (pid {left['sleep 600']})</code>" in page


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start_training(root: Path, runner: str, command: str = "run") -> tuple[
        subprocess.Popen, list[int]]:
    """``portfolio COMMAND`` on a script that trains for ten minutes beside a grandchild;
    returns once both run, with the build process and their pids."""
    pids = root / "pids.txt"
    make_project(root, "long", "import os, subprocess, time\n"
                 "helper = subprocess.Popen(['sleep', '604'])\n"
                 f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{helper.pid}}')\n"
                 "time.sleep(600)\n")
    build = subprocess.Popen([sys.executable, "-m", "portfolio", command, runner, "long"],
                             cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    assert wait_until(lambda: pids.exists() and len(pids.read_text().split()) == 2)
    return build, [int(pid) for pid in pids.read_text().split()]


@pytest.mark.cli
@pytest.mark.parametrize("runner", list(RUNNERS))
def test_a_build_killed_outright_takes_its_runs_and_their_children_with_it(
        tiny: Path, runner: str) -> None:
    build, pids = start_training(tiny, runner)
    build.kill()
    build.communicate(timeout=60)
    for pid in pids:
        assert wait_until(lambda pid=pid: not alive(pid)), pid


@pytest.mark.cli
def test_a_closed_terminal_stops_a_build_like_ctrl_c(tiny: Path) -> None:
    build, pids = start_training(tiny, "--no-warm", "build")
    build.send_signal(signal.SIGHUP)
    _, err = build.communicate(timeout=60)
    assert build.returncode == 130 and "interrupted" in err
    assert not any(alive(pid) for pid in pids)
    assert not (tiny / "results" / "long").exists()


@pytest.mark.cli
def test_the_next_build_clears_what_a_killed_one_left_half_done(tiny: Path) -> None:
    make_project(tiny, "done", "import portfolio\nportfolio.log_metric('score', 0.5)\n")
    assert portfolio_cli("run", "done", cwd=tiny).returncode == 0
    results = tiny / "results"
    (results / ".run-done-k1ll3d" / "figures").mkdir(parents=True)
    (results / "done" / ".old-failed-k1ll3d" / "x").mkdir(parents=True)
    # Killed between the two renames of a swap: the good results wait in the old folder.
    (results / "done").rename(results / "moved")
    (results / ".old-done-k1ll3d").mkdir()
    (results / "moved").rename(results / ".old-done-k1ll3d" / "x")
    status = portfolio_cli("run", "done", cwd=tiny)
    assert status.returncode == 0 and "done: fresh, not re-run" in status.stderr
    assert [p.name for p in results.rglob(".*")] == []
    assert json.loads((results / "done" / "metrics.json").read_text()) == {"score": 0.5}
