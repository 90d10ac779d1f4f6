"""The Dask executor, on a real ``distributed.LocalCluster`` on loopback: two worker
processes of one thread each, started once for the module. Every build is the real
``portfolio`` command in a child process, as a user would run it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, example_portfolio, make_project, portfolio_cli

distributed = pytest.importorskip("distributed")


WAIT_S = 90.0  # for a remote run to reach a given point; never reached when all is well


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster: distributed.LocalCluster) -> Iterator[distributed.Client]:
    with distributed.Client(cluster.scheduler_address) as connected:
        yield connected


def on(cluster: distributed.LocalCluster, *args: str) -> list[str]:
    return ["--executor", "dask", "--scheduler", cluster.scheduler_address, *args]


def children_of(project: str) -> list[int]:
    """The pids of the ``portfolio.child`` processes running ``project`` anywhere."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            cwd = str((entry / "cwd").readlink())
        except OSError:
            continue
        if b"portfolio.child" in command and cwd.endswith(f"/projects/{project}"):
            found.append(int(entry.name))
    return found


def parent_of(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])


def wait_for(check, what: str, timeout: float = WAIT_S):
    """Poll ``check`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def relayed_log(root: Path, slug: str) -> str:
    """What the client has of a run's log while it runs (in its run folder here)."""
    for folder in (root / "results").glob(f".run-{slug}-*"):
        log = folder / "log.txt"
        if log.is_file():
            return log.read_text(errors="replace")
    return ""


SLEEPER = """\
import time
print("ready", flush=True)
time.sleep(300)
"""
QUICK = """\
import portfolio
print("quick run")
portfolio.log_metric("accuracy", 0.75)
"""
# A tutorial-style scikit-learn script whose helper lives outside the project folder, in
# the repository's lib/, found through sys.path as such scripts do.
SHARED = """\
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lib"))
from helpers import load  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.metrics import mean_squared_error  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

X, y = load()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
model = Ridge(alpha=1.0).fit(X_train, y_train)
print("Test MSE: %.3f" % mean_squared_error(y_test, model.predict(X_test)))
"""
HELPERS = """\
from sklearn.datasets import load_diabetes


def load():
    return load_diabetes(return_X_y=True)
"""


def sections(page: Path) -> list[str]:
    """A page's structure: its section ids and how many figures each shows, in order."""
    html = page.read_text()
    parts = re.split(r'<h[23] id="', html)
    return [p.split('"', 1)[0] + f":{p.count('<img')}" for p in parts[1:]]


@pytest.mark.cluster
def test_example_portfolio_builds_on_the_cluster(tmp_path: Path,
                                                 cluster: distributed.LocalCluster,
                                                 client: distributed.Client) -> None:
    """The example portfolio and two scikit-learn-only projects, all run on the cluster:
    the scikit-learn scores equal a local run's, every page has the structure the local
    results give it, and run.json says which worker ran it."""
    root = example_portfolio(tmp_path / "repo")
    examples = sorted(p.name for p in (root / "projects").iterdir())
    local_pages = {s: sections(root / "site" / "projects" / s / "index.html") for s in examples}
    (root / "lib").mkdir()
    (root / "lib" / "helpers.py").write_text(HELPERS)
    make_project(root, "shared-lib", SHARED, "metric: {name: mse, goal: min}\n")
    make_project(root, "spot-check", (FIXTURES / "scripts" / "spot_check.py").read_text())
    sklearn_only = ["shared-lib", "spot-check"]

    here = portfolio_cli("build", *sklearn_only, "-j", "2", cwd=root)
    assert here.returncode == 0, here.stderr
    local = {s: json.loads((root / "results" / s / "metrics.json").read_text())
             for s in sklearn_only}
    assert local["shared-lib"] and local["spot-check"]

    remote = portfolio_cli("build", "--force", *on(cluster), cwd=root)
    assert remote.returncode == 0, remote.stderr
    workers = set(client.scheduler_info()["workers"])
    for slug in [*examples, *sklearn_only]:
        record = json.loads((root / "results" / slug / "run.json").read_text())
        assert record["status"] == "ok", (slug, record["error"])
        assert record["placement"]["executor"] == "dask"
        assert record["placement"]["worker"] in workers
        assert record["placement"]["scheduler"] == cluster.scheduler_address
    for slug in sklearn_only:
        assert json.loads((root / "results" / slug / "metrics.json").read_text()) == local[slug]
    for slug in examples:
        page = root / "site" / "projects" / slug / "index.html"
        assert sections(page) == local_pages[slug], slug
        assert "a Dask worker" in page.read_text()
    # The repository module travelled (the run imported it there) and is hashed here.
    record = json.loads((root / "results" / "shared-lib" / "run.json").read_text())
    assert record["local_modules"] == ["lib/helpers.py"]
    again = portfolio_cli("build", *on(cluster), cwd=root)
    assert again.returncode == 0 and "queued" not in again.stderr, again.stderr
    (root / "lib" / "helpers.py").write_text(HELPERS + "\n# edited\n")
    edited = portfolio_cli("build", *on(cluster), cwd=root)
    assert "shared-lib: queued: <repo>/lib/helpers.py changed" in edited.stderr, edited.stderr


def _portfolio_with(tmp_path: Path, slug: str, script: str, extra: str = "") -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copyfile(FIXTURES / "tiny" / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    make_project(root, slug, script, extra)
    return root


def _start(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "portfolio", "build", *args], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


# A tutorial-style Keras fit that, before its second epoch, waits for the test's go-ahead: the
# flag's path comes from the test's shell through env: (values travel with the job).
WAITING_FIT = """\
import os
import time

import numpy as np
from tensorflow import keras


class WaitForTheTest(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):  # the second: the first has ended
        deadline = time.time() + 120
        while epoch == 1 and not os.path.exists(os.environ["GO_AHEAD"]) and time.time() < deadline:
            time.sleep(0.1)


x = np.random.default_rng(0).normal(size=(64, 4))
y = (x.sum(axis=1) > 0).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=2, batch_size=16, verbose=1, callbacks=[WaitForTheTest()])
"""


@pytest.mark.cluster
def test_progress_streams_back_while_the_project_trains(
        tmp_path: Path, cluster: distributed.LocalCluster) -> None:
    root = _portfolio_with(tmp_path, "fit", WAITING_FIT, "env: [GO_AHEAD]\n")
    flag = tmp_path / "go-ahead"
    build = _start(root, *on(cluster), env={**os.environ, "GO_AHEAD": str(flag)})

    def relayed_epochs() -> list[dict]:
        for stream in (root / "results").glob(".run-fit-*/progress.jsonl"):
            return [json.loads(line) for line in stream.read_text().splitlines()]
        return []

    # The first epoch has ended on the worker and the run is waiting: the client has it.
    epochs = wait_for(relayed_epochs, "the first epoch to reach the client")
    assert epochs[0]["epoch"] == 1 and epochs[0]["epochs"] == 2 and "loss" in epochs[0]
    assert build.poll() is None
    flag.touch()
    _, err = build.communicate(timeout=WAIT_S)
    assert build.returncode == 0, err
    history = (root / "results" / "fit" / "history.csv").read_text().splitlines()
    assert len(history) == 3  # the header and both epochs, from the worker's run folder


@pytest.mark.cluster
def test_a_killed_worker_fails_the_project_and_keeps_its_results(
        tmp_path: Path, cluster: distributed.LocalCluster) -> None:
    root = _portfolio_with(tmp_path, "slow", QUICK)
    first = portfolio_cli("build", *on(cluster), cwd=root)
    assert first.returncode == 0, first.stderr
    good = (root / "results" / "slow" / "run.json").read_bytes()
    (root / "projects" / "slow" / "train.py").write_text(SLEEPER)

    build = _start(root, *on(cluster))
    # Its output streams back while it runs: the client has the first line already.
    wait_for(lambda: "ready" in relayed_log(root, "slow"), "the run's first line")
    child = wait_for(lambda: children_of("slow"), "the remote child")[0]
    os.kill(parent_of(child), signal.SIGKILL)  # the worker process running it
    _, err = build.communicate(timeout=WAIT_S)

    assert build.returncode == 1, err
    assert re.search(r"slow: killed in [\d.]+ s: the Dask worker tcp://127\.0\.0\.1:\d+ "
                     r"\(\S+\) running it went away mid-run", err), err
    assert (root / "results" / "slow" / "run.json").read_bytes() == good
    failure = json.loads((root / "results" / "slow" / "failed" / "run.json").read_text())
    assert failure["status"] == "killed" and "went away" in failure["error"]
    assert "ready" in (root / "results" / "slow" / "failed" / "log.txt").read_text()
    assert not list((root / "results").glob(".run-*"))
    wait_for(lambda: not children_of("slow"), "the child to die with its worker")
    cluster.wait_for_workers(2)


@pytest.mark.cluster
def test_ctrl_c_cancels_the_remote_runs(tmp_path: Path, cluster: distributed.LocalCluster,
                                        client: distributed.Client) -> None:
    root = _portfolio_with(tmp_path, "sleepy", SLEEPER)
    build = _start(root, "--executor", "dask",
                   env={**os.environ, "PORTFOLIO_SCHEDULER": cluster.scheduler_address})
    wait_for(lambda: children_of("sleepy"), "the remote child")
    build.send_signal(signal.SIGINT)
    _, err = build.communicate(timeout=WAIT_S)

    assert build.returncode == 130, err
    wait_for(lambda: not children_of("sleepy"), "the remote child to be stopped", 30)
    wait_for(lambda: not any(client.processing().values()), "the cluster to be idle", 30)
    assert not (root / "results" / "sleepy").exists()
    assert not list((root / "results").glob(".run-*"))


@pytest.mark.cluster
def test_a_resource_no_worker_has_fails_at_once_then_places_the_project(
        tmp_path: Path, cluster: distributed.LocalCluster, client: distributed.Client) -> None:
    """``resources: {GPU: 1}``: with no such worker, the build names the project and the
    resource without waiting; once a worker started with ``--resources GPU=1`` joins
    (the README's command), the project runs there and nowhere else."""
    root = _portfolio_with(tmp_path, "gpu", QUICK, "resources: {GPU: 1}\n")
    make_project(root, "cpu", QUICK)
    yml = root / "mkdocs.yml"  # the cluster named in mkdocs.yml this time
    yml.write_text(yml.read_text().replace(
        "  portfolio:\n", f"  portfolio:\n    executor: dask\n    scheduler: "
                          f"{cluster.scheduler_address}\n", 1))
    refused = portfolio_cli("build", cwd=root)

    assert refused.returncode == 1
    assert (f"gpu asks for {{GPU: 1}} (resources: in its project.yaml), but no worker of the "
            f"Dask cluster at {cluster.scheduler_address} offers that") in refused.stderr
    assert f"dask worker {cluster.scheduler_address} --resources GPU=1" in refused.stderr
    assert json.loads((root / "results" / "cpu" / "run.json").read_text())["status"] == "ok"

    dask = Path(sys.executable).parent / "dask"
    gpu_worker = subprocess.Popen([str(dask), "worker", cluster.scheduler_address,
                                   "--nthreads", "1", "--resources", "GPU=1",
                                   "--no-dashboard"], stderr=subprocess.DEVNULL)
    try:
        cluster.wait_for_workers(3)
        address = next(a for a, w in client.scheduler_info()["workers"].items()
                       if w.get("resources"))
        placed = portfolio_cli("build", cwd=root)
        assert placed.returncode == 0, placed.stderr
        record = json.loads((root / "results" / "gpu" / "run.json").read_text())
        assert record["placement"]["worker"] == address
        assert record["placement"]["resources"] == {"GPU": 1.0}
    finally:
        gpu_worker.terminate()
        gpu_worker.wait(timeout=60)


@pytest.mark.cluster
def test_no_scheduler_address_is_bad_input(tmp_path: Path) -> None:
    root = _portfolio_with(tmp_path, "quick", QUICK)
    env = {k: v for k, v in os.environ.items() if k != "PORTFOLIO_SCHEDULER"}
    result = subprocess.run([sys.executable, "-m", "portfolio", "build", "--executor", "dask"],
                            cwd=root, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 2
    assert "--executor dask needs the Dask scheduler's address" in result.stderr
    assert not (root / "results").exists()


@contextlib.contextmanager
def own_cluster(tmp_path: Path, worker_env: dict[str, str] | None = None
                ) -> Iterator[tuple[str, subprocess.Popen]]:
    """A cluster of this test's own, started with the README's two commands (`dask
    scheduler`, `dask worker`): yields its address and the scheduler's process, and kills
    both at the end."""
    dask = str(Path(sys.executable).parent / "dask")
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file",
                                  str(tmp_path / "scheduler.json")],
                                 stderr=subprocess.DEVNULL, start_new_session=True)
    worker = None
    try:
        address = wait_for(lambda: _address(tmp_path / "scheduler.json"), "the scheduler")
        worker = subprocess.Popen([dask, "worker", address, "--nthreads", "1",
                                   "--no-dashboard"], stderr=subprocess.DEVNULL,
                                  start_new_session=True, env=worker_env)
        yield address, scheduler
    finally:
        for process in (scheduler, worker):
            if process is not None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.mark.cluster
def test_a_scheduler_that_goes_away_fails_the_run_cleanly(tmp_path: Path) -> None:
    """The scheduler killed while a project runs: the build says so at once, keeps the
    project's earlier results, and the worker's child does not outlive the worker."""
    with own_cluster(tmp_path) as (address, scheduler):
        root = _portfolio_with(tmp_path, "orphan", QUICK)
        first = portfolio_cli("build", "--executor", "dask", "--scheduler", address, cwd=root)
        assert first.returncode == 0, first.stderr
        good = (root / "results" / "orphan" / "run.json").read_bytes()
        (root / "projects" / "orphan" / "train.py").write_text(SLEEPER)
        build = _start(root, "--executor", "dask", "--scheduler", address)
        wait_for(lambda: "ready" in relayed_log(root, "orphan"), "the run's first line")
        scheduler.kill()
        _, err = build.communicate(timeout=WAIT_S)

        assert build.returncode == 1, err
        assert ("orphan: failed in" in err and f"the connection to the Dask scheduler at "
                f"{address} was lost while it ran" in err), err
        assert "Traceback" not in err
        assert (root / "results" / "orphan" / "run.json").read_bytes() == good
        assert not list((root / "results").glob(".run-*"))
    wait_for(lambda: not children_of("orphan"), "the child to end with its worker", 30)


@pytest.mark.cluster
def test_a_worker_with_other_portfolio_code_stops_the_build_before_anything_runs(
        tmp_path: Path) -> None:
    """A worker whose portfolio differs from the client's (an older install, an edited
    copy) is refused by name before any project is sent: exit 2, nothing run."""
    edited = tmp_path / "other" / "portfolio"
    shutil.copytree(REPO / "generator" / "portfolio", edited,
                    ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    with (edited / "capture" / "plots.py").open("a") as fh:
        fh.write("\n# an edit the client does not have\n")
    with own_cluster(tmp_path, {**os.environ, "PYTHONPATH": str(edited.parent)}) as (
            address, _):
        root = _portfolio_with(tmp_path, "quick", QUICK)
        result = portfolio_cli("build", "--executor", "dask", "--scheduler", address, cwd=root)
    assert result.returncode == 2, result.stderr
    assert "the Dask workers must run the portfolio this client runs" in result.stderr
    assert "these run other code: tcp://127.0.0.1:" in result.stderr
    assert not (root / "results").exists()


def _address(scheduler_file: Path) -> str | None:
    try:
        return json.loads(scheduler_file.read_text())["address"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.mark.cluster
def test_a_local_build_imports_no_dask(tmp_path: Path) -> None:
    root = _portfolio_with(tmp_path, "quick", QUICK)
    probe = ("import sys\nfrom portfolio import cli\n"
             "try:\n    cli.cli.main(['build'], standalone_mode=False)\n"
             "finally:\n    print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('dask', 'distributed')))\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True,
                            text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    record = json.loads((root / "results" / "quick" / "run.json").read_text())
    assert record["placement"] == {"executor": "local"}
