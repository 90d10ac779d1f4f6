"""What a script starts besides itself: worker pools that must let it finish, processes it
leaves behind, and runs whose build is killed. Real child processes, real builds."""

from __future__ import annotations

import json
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
