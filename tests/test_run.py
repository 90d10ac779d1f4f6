"""The runner: child processes, logs, timeouts, and results that are replaced atomically."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from portfolio import plan, run
from portfolio.discover import discover
from portfolio.domain import Workspace
from portfolio.progress import Reporter

from tests.conftest import make_project, portfolio_cli


def record(root: Path, slug: str, failed: bool = False) -> dict:
    folder = root / "results" / slug / ("failed" if failed else "")
    return json.loads((folder / "run.json").read_text())


@pytest.mark.cli
def test_script_runs_in_its_folder_and_its_output_is_logged(tiny: Path) -> None:
    make_project(tiny, "cwd", "import os, sys\nprint('cwd', os.getcwd())\n"
                 "print('to stderr', file=sys.stderr)\nopen('data.txt').read()\n")
    (tiny / "projects" / "cwd" / "data.txt").write_text("x")
    result = portfolio_cli("run", "cwd", cwd=tiny)
    assert result.returncode == 0, result.stderr
    log = (tiny / "results" / "cwd" / "log.txt").read_text()
    assert f"cwd {tiny / 'projects' / 'cwd'}" in log
    assert "to stderr" in log
    run = record(tiny, "cwd")
    assert run["status"] == "ok"
    assert run["duration_s"] > 0
    assert run["input_hash"] and run["started"]
    assert set(run["versions"]) == {"python", "keras", "tensorflow", "scikit-learn", "numpy"}


@pytest.mark.cli
def test_failure_keeps_the_last_good_results(tiny: Path) -> None:
    folder = make_project(tiny, "flaky", "import portfolio\nportfolio.log_metric('score', 1.0)\n")
    assert portfolio_cli("run", "flaky", cwd=tiny).returncode == 0
    good = (tiny / "results" / "flaky" / "metrics.json").read_text()

    (folder / "train.py").write_text("print('about to fail')\nraise ValueError('bad data')\n")
    result = portfolio_cli("run", "flaky", cwd=tiny)
    assert result.returncode == 1
    assert "flaky (failed)" in result.stderr
    assert (tiny / "results" / "flaky" / "metrics.json").read_text() == good
    failure = record(tiny, "flaky", failed=True)
    assert (failure["status"], failure["error"]) == ("failed", "ValueError: bad data")
    failed_log = (tiny / "results" / "flaky" / "failed" / "log.txt").read_text()
    assert "about to fail" in failed_log and "Traceback" in failed_log

    (folder / "train.py").write_text("import portfolio\nportfolio.log_metric('score', 2.0)\n")
    assert portfolio_cli("run", "flaky", cwd=tiny).returncode == 0
    assert not (tiny / "results" / "flaky" / "failed").exists()
    assert json.loads((tiny / "results" / "flaky" / "metrics.json").read_text()) == {"score": 2.0}


@pytest.mark.cli
def test_a_failed_run_is_never_cached_as_fresh(tiny: Path) -> None:
    make_project(tiny, "broken", "raise SystemExit(3)\n")
    first = portfolio_cli("run", "broken", cwd=tiny)
    assert first.returncode == 1
    assert record(tiny, "broken", failed=True)["error"] == "the script exited with sys.exit(3)"
    assert not (tiny / "results" / "broken" / "run.json").exists()  # nothing good to keep
    second = portfolio_cli("run", "broken", cwd=tiny)
    assert "broken: queued: last run failed" in second.stderr


@pytest.mark.cli
def test_timeout_stops_the_run(tiny: Path) -> None:
    make_project(tiny, "slow", "import time\nprint('started', flush=True)\ntime.sleep(60)\n",
                 "timeout: 1\n")
    result = portfolio_cli("run", "slow", cwd=tiny, timeout=60)
    assert result.returncode == 1
    failure = record(tiny, "slow", failed=True)
    assert failure["status"] == "timeout"
    assert "timed out after 1 s" in failure["error"]


@pytest.mark.cli
def test_fresh_projects_are_not_rerun_and_outputs_do_not_make_them_stale(tiny: Path) -> None:
    make_project(tiny, "writer", "open('model-output.txt', 'w').write('x')\n"
                 "import matplotlib.pyplot as plt\nplt.plot([1])\nplt.savefig('plot.png')\n")
    assert portfolio_cli("run", "writer", cwd=tiny).returncode == 0
    started = record(tiny, "writer")["started"]
    again = portfolio_cli("run", "writer", cwd=tiny)
    assert "writer: fresh, not re-run" in again.stderr
    assert record(tiny, "writer")["started"] == started
    status = portfolio_cli("status", cwd=tiny)
    assert "writer" in status.stdout and "fresh" in status.stdout


@pytest.mark.cli
def test_no_temporary_folders_are_left_behind(tiny: Path) -> None:
    make_project(tiny, "ok", "print('hello')\n")
    make_project(tiny, "bad", "raise KeyError('x')\n")
    portfolio_cli("run", "ok", "bad", cwd=tiny)
    leftovers = [p.name for p in (tiny / "results").iterdir() if p.name.startswith(".")]
    assert leftovers == []


class FullDisk(io.BytesIO):
    """A log file on a disk that fills after ``room`` bytes."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, data: bytes) -> int:
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


def test_a_log_write_that_fails_is_reported_and_the_pipe_is_still_drained() -> None:
    read, write = os.pipe()
    output = 1_000_000  # far more than a pipe holds: a pump that stopped reading blocks it
    writer = threading.Thread(target=lambda: (os.write(write, b"x" * output), os.close(write)))
    writer.start()
    log = FullDisk(room=150)
    with os.fdopen(read, "rb") as stream:
        problem = run._pump(stream, log, run.LOG_CAP_BYTES, threading.Event())
    writer.join(timeout=60)
    assert not writer.is_alive()
    assert problem is not None
    assert problem.startswith("the log is incomplete: writing log.txt failed after ")
    assert "(No space left on device)" in problem and "bytes of output were lost" in problem


@pytest.mark.cli
def test_a_full_disk_under_the_log_is_in_the_run_record_and_the_build_output(
        tiny: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    make_project(tiny, "loud", "for i in range(2000):\n    print('line', i)\n")
    ws = Workspace(tiny)
    [project] = discover(ws, ["loud"])

    @contextlib.contextmanager
    def full_disk(path: Path) -> Iterator[FullDisk]:
        yield FullDisk(room=100)

    monkeypatch.setattr(run, "_log_file", full_disk)
    [outcome] = run.run_projects(ws, [plan.decide(ws, project)], 1, False,
                                 Reporter(live=False))
    assert outcome.status == "ok"
    assert record(tiny, "loud")["log_incomplete"] == outcome.log_incomplete
    assert "No space left on device" in outcome.log_incomplete
    assert f"loud: warning: {outcome.log_incomplete}" in capsys.readouterr().err
