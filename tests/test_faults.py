"""Faults in users' scripts and builds, with real child processes: each ends in a clear
message, a consistent results/ folder, and an honest page."""

from __future__ import annotations

import html
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import RUNNERS, make_project, portfolio_cli


def good_run(root: Path, slug: str) -> str:
    """Run a good version first; return its metrics.json, which a fault must not touch."""
    make_project(root, slug, "import portfolio\nportfolio.log_metric('score', 0.75)\n")
    assert portfolio_cli("run", slug, cwd=root).returncode == 0
    return (root / "results" / slug / "metrics.json").read_text()


def failure(root: Path, slug: str) -> dict:
    return json.loads((root / "results" / slug / "failed" / "run.json").read_text())


def page(root: Path, slug: str) -> str:
    return html.unescape((root / "site" / "projects" / slug / "index.html").read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:  # it left between the two looks
        return False


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.cli
@pytest.mark.parametrize("runner", ["--warm", "--no-warm"])
def test_timeout_kills_the_whole_process_group_and_keeps_good_results(tiny: Path,
                                                                      runner: str) -> None:
    good = good_run(tiny, "hang")
    pid_file = tiny / "grandchild.pid"
    make_project(tiny, "hang", "\n".join([
        "import subprocess, sys, time",
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])",
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))",
        "print('waiting forever', flush=True)",
        "time.sleep(600)",
    ]), "timeout: 2\n")
    started = time.monotonic()
    result = portfolio_cli("build", runner, "hang", cwd=tiny)
    assert time.monotonic() - started < 60
    assert result.returncode == 1
    assert "hang (timeout)" in result.stderr
    assert failure(tiny, "hang")["error"] == "timed out after 2 s; stopped"
    assert failure(tiny, "hang")["process"]["kind"] == RUNNERS[runner]
    assert (tiny / "results" / "hang" / "metrics.json").read_text() == good
    assert not alive(int(pid_file.read_text()))  # the grandchild went with the group
    shown = page(tiny, "hang")
    assert "The latest run timeout on" in shown and "timed out after 2 s" in shown


@pytest.mark.cli
def test_huge_output_is_capped_with_a_note_and_the_run_goes_on(tiny: Path) -> None:
    make_project(tiny, "chatty", "\n".join([
        "import sys",
        "line = 'x' * 999 + '\\n'",
        "for _ in range(200_000):",  # 200 MB
        "    sys.stdout.write(line)",
        "import portfolio",
        "portfolio.log_metric('score', 1.0)",
    ]))
    result = portfolio_cli("build", "chatty", cwd=tiny, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "chatty: ok" in result.stderr
    log = tiny / "results" / "chatty" / "log.txt"
    assert log.stat().st_size < 25_000_000
    assert "[portfolio: the log was capped at 20 MB; 180.0 MB more output was dropped]" in \
        log.read_text()[-200:]
    assert json.loads((tiny / "results" / "chatty" / "metrics.json").read_text()) == \
        {"score": 1.0}
    shown = page(tiny, "chatty")
    assert "<td>score</td>" in shown and "failed" not in shown.split("<article")[1]
    assert (tiny / "site" / "projects" / "chatty" / "log.txt").stat().st_size < 25_000_000


@pytest.mark.training
def test_a_diverging_loss_is_reported_at_its_epoch(tiny: Path) -> None:
    good = good_run(tiny, "nan")
    make_project(tiny, "nan", "\n".join([
        "import numpy as np, keras",
        "x = np.ones((64, 2), 'float32') * 1e3; y = np.ones(64, 'float32') * 1e3",
        "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])",
        "m.compile(optimizer=keras.optimizers.SGD(1e3), loss='mse')",
        "m.fit(x, y, epochs=20, batch_size=16, verbose=0)",
        "print('fit returned')",
    ]))
    result = portfolio_cli("build", "nan", cwd=tiny)
    assert result.returncode == 1 and "nan (diverged)" in result.stderr
    run = failure(tiny, "nan")
    epoch = run["diverged"]["epoch"]
    assert run["error"] == (f"the loss became {run['diverged']['value']} at epoch {epoch}; "
                            "training was stopped there")
    assert len(run["fits"][0]["epochs"]) == epoch < 20
    assert (tiny / "results" / "nan" / "metrics.json").read_text() == good
    assert f"at epoch {epoch}" in page(tiny, "nan")


@pytest.mark.cli
@pytest.mark.parametrize("runner", ["--warm", "--no-warm"])
def test_a_kill_by_signal_is_named(tiny: Path, runner: str) -> None:
    make_project(tiny, "killed", "import os, signal\nprint('bye', flush=True)\n"
                 "os.kill(os.getpid(), signal.SIGKILL)\n")
    result = portfolio_cli("build", runner, "killed", cwd=tiny)
    assert result.returncode == 1 and "killed (killed)" in result.stderr
    assert failure(tiny, "killed")["error"] == "killed by SIGKILL (out of memory?)"
    assert failure(tiny, "killed")["process"]["kind"] == RUNNERS[runner]
    assert not (tiny / "results" / "killed" / "run.json").exists()  # nothing good to keep
    shown = page(tiny, "killed")
    assert "killed by SIGKILL" in shown and "bye" in shown  # the log's tail


@pytest.mark.cli
def test_a_script_without_metrics_is_shown_as_such_not_as_an_error(tiny: Path) -> None:
    make_project(tiny, "quiet", "print('trained nothing measurable')\n")
    result = portfolio_cli("build", "quiet", cwd=tiny)
    assert result.returncode == 0
    assert "No metrics recorded" in page(tiny, "quiet")
    assert not (tiny / "results" / "quiet" / "failed").exists()


def start_hanging(root: Path, slug: str, command: str) -> tuple[subprocess.Popen, Path]:
    """Start ``portfolio COMMAND SLUG`` on a project that hangs; return once its script runs,
    with the build process and the file holding the script's pid."""
    marker = root / f"{slug}.pid"
    make_project(root, slug, f"import os, time\nopen({str(marker)!r}, 'w').write("
                 "str(os.getpid()))\ntime.sleep(600)\n")
    build = subprocess.Popen([sys.executable, "-m", "portfolio", command, slug], cwd=root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=default_sigint)
    wait_for(marker)
    return build, marker


def default_sigint() -> None:
    """A shell that starts the test run in the background (`make test &`) has it ignore
    SIGINT, and Python keeps an inherited SIG_IGN; the build under test must not."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.cli
def test_sigint_mid_run_stops_children_and_leaves_results_as_they_were(tiny: Path) -> None:
    good = good_run(tiny, "long")
    build, marker = start_hanging(tiny, "long", "build")
    build.send_signal(signal.SIGINT)
    _, err = build.communicate(timeout=60)
    assert build.returncode == 130
    assert "interrupted" in err
    assert not alive(int(marker.read_text()))
    assert (tiny / "results" / "long" / "metrics.json").read_text() == good
    assert not (tiny / "results" / "long" / "failed").exists()
    assert [p.name for p in (tiny / "results").iterdir() if p.name.startswith(".")] == []


@pytest.mark.cli
def test_sigterm_is_handled_like_ctrl_c(tiny: Path) -> None:
    build, marker = start_hanging(tiny, "term", "run")
    build.terminate()
    build.communicate(timeout=60)
    assert build.returncode == 130
    assert not alive(int(marker.read_text()))
    assert not (tiny / "results" / "term").exists()


@pytest.mark.cli
def test_a_second_build_is_refused_while_one_runs_and_a_stale_lock_is_ignored(
        tiny: Path) -> None:
    first, _ = start_hanging(tiny, "slow", "run")
    try:
        second = portfolio_cli("build", cwd=tiny)
        assert second.returncode == 2
        assert f"another portfolio build is running in {tiny} (pid {first.pid})" in second.stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    # A build killed outright leaves its lock file behind, holding a dead pid: no matter.
    (tiny / ".build" / "build.lock").write_text("999999")
    (tiny / "projects" / "slow" / "train.py").write_text("print('quick now')\n")
    assert portfolio_cli("run", "slow", cwd=tiny).returncode == 0


@pytest.mark.cli
@pytest.mark.parametrize(("mkdocs_yml", "expected"), [
    ("site_name: x\ntheme: [material\n", "mkdocs.yml:3:1: invalid YAML"),
    ("site_name: x\ntheme:\n  name: no-such-theme\n",
     "mkdocs.yml:2: theme: Unrecognised theme name: 'no-such-theme'"),
    ("site_name: x\nextra:\n  portfolio:\n    nmae: Ada\n",
     "mkdocs.yml:4: extra.portfolio.nmae: extra inputs are not permitted"),
])
def test_a_broken_mkdocs_yml_stops_the_build_at_once_and_keeps_nothing(
        tiny: Path, mkdocs_yml: str, expected: str) -> None:
    """mkdocs.yml is checked while the first runs start: they are stopped (a script that
    would hang for ten minutes included), and results/ and site/ stay as they were."""
    (tiny / "mkdocs.yml").write_text(mkdocs_yml)
    marker = tiny / "hang.pid"
    make_project(tiny, "hang", f"import os, time\nopen({str(marker)!r}, 'w').write("
                 "str(os.getpid()))\ntime.sleep(600)\n")
    result = portfolio_cli("build", cwd=tiny, timeout=120)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert not (tiny / "results").exists() and not (tiny / "site").exists()
    if marker.exists() and marker.read_text():  # it may have been stopped before it began
        assert not alive(int(marker.read_text()))


@pytest.mark.cli
def test_a_symlink_out_of_the_project_is_refused(tiny: Path) -> None:
    outside = tiny / "outside.py"
    outside.write_text("print('outside')\n")
    folder = tiny / "projects" / "tutorial"
    (folder / "link.py").symlink_to(outside)
    (folder / "project.yaml").write_text("title: T\nscript: link.py\n")
    result = portfolio_cli("check", cwd=tiny)
    assert result.returncode == 2
    assert "projects/tutorial/project.yaml:2:1: script: 'link.py' points outside the " \
           "project folder" in result.stderr


@pytest.mark.cli
def test_duplicate_slugs_are_refused(tiny: Path) -> None:
    make_project(tiny, "same_name", "print(1)\n")
    make_project(tiny, "same-name", "print(2)\n")
    result = portfolio_cli("check", cwd=tiny)
    assert result.returncode == 2
    assert "duplicate slug: 'same_name' and 'same-name' name the same project" in result.stderr


@pytest.mark.cli
def test_a_template_the_portfolio_lacks_comes_from_the_package(tiny: Path) -> None:
    (tiny / "site_templates" / "project.md.j2").unlink()
    result = portfolio_cli("check", cwd=tiny)
    assert result.returncode == 0, result.stderr


@pytest.mark.cli
def test_a_site_that_does_not_build_exits_3_with_a_message_and_keeps_the_runs(
        tiny: Path) -> None:
    make_project(tiny, "kept", "print('Accuracy: 0.5')\n")
    override = tiny / "site_templates" / "overrides" / "main.html"
    override.write_text('{% extends "base.html" %}\n{% block content %}{{ broken( }}'
                        "{% endblock %}\n")
    result = portfolio_cli("build", "kept", cwd=tiny)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert ("error: the site did not build: site_templates/overrides/main.html:2: "
            "TemplateSyntaxError: unexpected '}', expected ')'") in result.stderr
    assert json.loads((tiny / "results" / "kept" / "run.json").read_text())["status"] == "ok"
    assert not (tiny / "site").exists()
