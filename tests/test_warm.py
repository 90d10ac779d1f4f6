"""The warm worker: runs forked from a process that has the heavy libraries imported
behave as fresh ones, share the worker across builds, and never outlive their client."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from portfolio import warm

from tests.conftest import REPO, RUNNERS, make_project, portfolio_cli

# Prints whether scikit-learn was loaded before the script asked for it, then trains.
SKLEARN = """\
import sys
print("preloaded:", "sklearn.linear_model" in sys.modules, flush=True)
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=1)
model = LogisticRegression(max_iter=200).fit(X_train, y_train)
print("test accuracy:", accuracy_score(y_test, model.predict(X_test)))
"""


def run_json(root: Path, slug: str) -> dict:
    return json.loads((root / "results" / slug / "run.json").read_text())


def gone(pid: int, seconds: float = 60) -> bool:
    """Whether ``pid`` has exited (or is a zombie) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):  # it left while we looked
            return True
        if "State:\tZ" in state:
            return True
        time.sleep(0.05)
    return False


def portfolio_root(tmp_path: Path, name: str = "p") -> Path:
    root = tmp_path / name
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    (root / "mkdocs.yml").write_text("site_name: Warm\ntheme:\n  name: material\n")
    return root


def test_preloads_are_the_fork_safe_modules_the_scripts_import(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("import numpy as np\nimport keras\nimport tensorflow as tf\n"
                      "from sklearn.ensemble import RandomForestClassifier\n"
                      "import matplotlib.pyplot as plt\nfrom . import sibling\n"
                      "import os, json\n")
    (tmp_path / "broken.py").write_text("import pandas\ndef broken(:\n")
    assert warm.preloads([script, tmp_path / "broken.py", tmp_path / "missing.py"]) == [
        "matplotlib.pyplot", "numpy", "sklearn.ensemble"]


@pytest.mark.cli
def test_runs_fork_from_one_worker_that_has_the_libraries_loaded(tmp_path: Path) -> None:
    root = portfolio_root(tmp_path)
    make_project(root, "first", SKLEARN)
    make_project(root, "second", SKLEARN)
    assert portfolio_cli("run", "-j", "2", cwd=root).returncode == 0
    first, second = run_json(root, "first"), run_json(root, "second")
    assert first["process"]["kind"] == "forked from the warm worker"
    worker = first["process"]["worker_pid"]
    assert second["process"]["worker_pid"] == worker
    assert "preloaded: True" in (root / "results" / "first" / "log.txt").read_text()

    # An edit re-runs one project, forked from the same worker: nothing to import again.
    with (root / "projects" / "first" / "train.py").open("a") as fh:
        fh.write("# edited\n")
    assert portfolio_cli("run", cwd=root).returncode == 0
    assert run_json(root, "first")["process"]["worker_pid"] == worker


@pytest.mark.cli
def test_a_forked_run_gives_the_same_results_as_a_fresh_interpreter(tmp_path: Path) -> None:
    roots = {}
    for runner in ("--warm", "--no-warm"):
        roots[runner] = root = portfolio_root(tmp_path, runner.strip("-"))
        make_project(root, "model", SKLEARN + "import os\nprint('cwd', os.getcwd())\n"
                     "print('argv', sys.argv)\nprint('path0', sys.path[0])\n"
                     "print('hash', hash('portfolio'))\n")
        result = portfolio_cli("run", runner, cwd=root)
        assert result.returncode == 0, result.stderr
    warm_run, fresh_run = run_json(roots["--warm"], "model"), run_json(roots["--no-warm"], "model")
    assert warm_run["process"]["kind"] == "forked from the warm worker"
    assert fresh_run["process"]["kind"] == "fresh interpreter"
    for key in ("results", "evaluations", "splits", "trivial_baseline", "status"):
        assert warm_run[key] == fresh_run[key], key

    def seen(root: Path) -> list[str]:
        log = (root / "results" / "model" / "log.txt").read_text()
        return [line.replace(str(root), "ROOT") for line in log.splitlines()
                if line.startswith(("cwd", "argv", "path0", "hash"))]

    assert seen(roots["--warm"]) == seen(roots["--no-warm"])
    assert seen(roots["--warm"])[0] == "cwd ROOT/projects/model"


@pytest.mark.cli
def test_each_run_gets_its_share_of_the_cores(tmp_path: Path) -> None:
    """The worker loads OpenBLAS with one thread; a forked child is resized to its share,
    as a fresh one is by its environment."""
    root = portfolio_root(tmp_path)
    probe = ("import numpy\nfrom threadpoolctl import threadpool_info\n"
             "print('threads', sorted({p['num_threads'] for p in threadpool_info()}))\n")
    make_project(root, "alone", probe)
    cores = os.cpu_count() or 1
    for runner in ("--warm", "--no-warm"):
        assert portfolio_cli("run", runner, "--force", "-j", "1", cwd=root).returncode == 0
        log = (root / "results" / "alone" / "log.txt").read_text()
        assert f"threads [{cores}]" in log, (runner, log)


@pytest.mark.cli
def test_an_edited_import_starts_a_new_worker_and_retires_the_old(tmp_path: Path) -> None:
    root = portfolio_root(tmp_path)
    # Imports of this test alone: a worker another test's portfolio uses is not retired.
    make_project(root, "model", "import joblib\n" + SKLEARN)
    assert portfolio_cli("run", cwd=root).returncode == 0
    old = run_json(root, "model")["process"]["worker_pid"]
    make_project(root, "model", "import joblib\nimport scipy.stats\n" + SKLEARN)
    assert portfolio_cli("run", cwd=root).returncode == 0
    new = run_json(root, "model")["process"]["worker_pid"]
    assert new != old
    assert gone(old)


@pytest.mark.cli
def test_a_worker_leaves_when_idle_and_portfolio_stop_stops_it(tmp_path: Path) -> None:
    root = portfolio_root(tmp_path)
    # Imports of this test alone: no worker another test started (and left waiting) serves it.
    make_project(root, "model", "import numpy.polynomial\nprint(numpy.arange(3).sum())\n")
    env = {**os.environ, "PORTFOLIO_WARM_IDLE": "0.5"}
    subprocess.run([sys.executable, "-m", "portfolio", "run"], cwd=root, env=env, check=True,
                   capture_output=True, timeout=300)
    assert gone(run_json(root, "model")["process"]["worker_pid"])

    assert portfolio_cli("run", "--force", cwd=root).returncode == 0
    worker = run_json(root, "model")["process"]["worker_pid"]
    assert not gone(worker, seconds=0)
    stopped = portfolio_cli("stop", cwd=root)
    assert stopped.returncode == 0 and str(worker) in stopped.stdout
    assert gone(worker)


@pytest.mark.cli
def test_a_client_killed_outright_takes_its_run_with_it(tmp_path: Path) -> None:
    """Nobody is left to time the run out or read its output: the worker kills it."""
    root = portfolio_root(tmp_path)
    pid_file = root / "child.pid"
    make_project(root, "hang", f"import os, time\nopen({str(pid_file)!r}, 'w')"
                 ".write(str(os.getpid()))\ntime.sleep(600)\n")
    client = subprocess.Popen([sys.executable, "-m", "portfolio", "run"], cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and client.poll() is None
        time.sleep(0.05)
    child = int(pid_file.read_text())
    client.send_signal(signal.SIGKILL)
    client.wait()
    assert gone(child)


@pytest.mark.cli
@pytest.mark.parametrize("setting", ["PORTFOLIO_WARM=0", "--no-warm"])
def test_the_worker_can_be_turned_off(tmp_path: Path, setting: str) -> None:
    root = portfolio_root(tmp_path)
    make_project(root, "model", "import numpy\n")
    env = dict(os.environ)
    args = [sys.executable, "-m", "portfolio", "run"]
    if setting.startswith("PORTFOLIO_WARM"):
        env["PORTFOLIO_WARM"] = "0"
    else:
        args.append(setting)
    subprocess.run(args, cwd=root, env=env, check=True, capture_output=True, timeout=300)
    assert run_json(root, "model")["process"] == {"kind": "fresh interpreter"}


@pytest.mark.cli
def test_a_preload_that_fails_is_the_scripts_error_not_the_workers(tmp_path: Path) -> None:
    """A library the worker cannot import (here: not installed) fails the script that
    imports it, with the usual error in its log; the worker serves the other projects."""
    if importlib.util.find_spec("seaborn"):
        pytest.skip("seaborn is installed here")
    root = portfolio_root(tmp_path)
    make_project(root, "missing", "import seaborn\n")
    make_project(root, "fine", "import numpy\nprint('fine')\n")
    result = portfolio_cli("run", cwd=root)
    assert result.returncode == 1
    failed = json.loads((root / "results" / "missing" / "failed" / "run.json").read_text())
    assert failed["error"] == "ModuleNotFoundError: No module named 'seaborn'"
    assert failed["process"]["kind"] == "forked from the warm worker"
    assert run_json(root, "fine")["status"] == "ok"


@pytest.mark.cli
def test_start_up_variables_reach_a_forked_run_as_they_reach_a_fresh_one(
        tmp_path: Path) -> None:
    """PYTHONPATH is read when an interpreter starts: the worker is started with it (and
    a different value means a different worker), so a forked run sees it too."""
    extra = tmp_path / "shared_code"
    extra.mkdir()
    (extra / "helper.py").write_text("VALUE = 'from PYTHONPATH'\n")
    root = portfolio_root(tmp_path)
    make_project(root, "model", "import numpy\nimport helper\nprint(helper.VALUE)\n")
    env = {**os.environ, "PYTHONPATH": str(extra)}
    for runner in ("--warm", "--no-warm"):
        subprocess.run([sys.executable, "-m", "portfolio", "run", runner, "--force"], cwd=root,
                       env=env, check=True, capture_output=True, timeout=300)
        assert "from PYTHONPATH" in (root / "results" / "model" / "log.txt").read_text()
        assert run_json(root, "model")["process"]["kind"] == RUNNERS[runner]


@pytest.mark.cli
def test_an_unusable_runtime_folder_means_fresh_interpreters(tmp_path: Path) -> None:
    """A folder others can enter (anyone could connect and run code as us) or a path too
    long for a socket: no worker, and the build still runs."""
    root = portfolio_root(tmp_path)
    make_project(root, "model", "import numpy\n")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    deep = tmp_path / ("d" * 120)
    for folder in (shared, deep):
        env = {**os.environ, "PORTFOLIO_RUNTIME_DIR": str(folder)}
        subprocess.run([sys.executable, "-m", "portfolio", "run", "--force"], cwd=root,
                       env=env, check=True, capture_output=True, timeout=300)
        assert run_json(root, "model")["process"] == {"kind": "fresh interpreter"}
        assert not list(folder.glob("warm-*"))


@pytest.mark.cli
def test_a_worker_that_disappears_mid_run_is_named_and_the_next_build_starts_another(
        tmp_path: Path, warm_workers: Path) -> None:
    root = portfolio_root(tmp_path)
    pids = root / "pids"
    make_project(root, "model", f"import os, time, numpy\nopen({str(pids)!r}, 'w').write("
                 "f'{os.getpid()} {os.getppid()}')\ntime.sleep(600)\n")
    client = subprocess.Popen([sys.executable, "-m", "portfolio", "run"], cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not pids.exists() or len(pids.read_text().split()) < 2:
        assert time.monotonic() < deadline and client.poll() is None
        time.sleep(0.05)
    child, worker = map(int, pids.read_text().split())
    assert worker in [json.loads(info.read_text())["pid"]
                      for info in warm_workers.glob("warm-*.json")]
    os.kill(worker, signal.SIGKILL)
    _, err = client.communicate(timeout=120)
    assert client.returncode == 1
    assert gone(child)
    failed = json.loads((root / "results" / "model" / "failed" / "run.json").read_text())
    assert failed["error"] == (f"the warm worker (pid {worker}) that ran this project stopped "
                               "before the run ended; run again (a new worker starts), or use "
                               "--no-warm")
    assert "out of memory" not in err and f"the warm worker (pid {worker})" in err

    make_project(root, "model", "import numpy\nprint('quick now')\n")
    assert portfolio_cli("run", cwd=root).returncode == 0
    process = run_json(root, "model")["process"]
    assert process["kind"] == "forked from the warm worker"
    assert process["worker_pid"] != worker


@pytest.mark.cli
def test_portfolios_with_different_imports_built_in_turn_keep_their_workers(
        tmp_path: Path, warm_workers: Path) -> None:
    roots = {"a": "import numpy\nimport joblib\n", "b": "import numpy\nimport scipy.special\n"}
    pids: dict[str, set[int]] = {name: set() for name in roots}
    for _ in range(2):
        for name, imports in roots.items():
            root = tmp_path / name
            if not root.exists():
                root = portfolio_root(tmp_path, name)
            make_project(root, "model", imports + "print('ok')\n")
            assert portfolio_cli("run", "--force", cwd=root).returncode == 0
            process = run_json(root, "model")["process"]
            assert process["kind"] == "forked from the warm worker"
            pids[name].add(process["worker_pid"])
    assert all(len(found) == 1 for found in pids.values()), pids
    (a,), (b,) = pids.values()
    assert a != b
    assert not gone(a, seconds=0) and not gone(b, seconds=0)
    listed = {json.loads(info.read_text())["pid"] for info in warm_workers.glob("warm-*.json")}
    assert {a, b} <= listed
