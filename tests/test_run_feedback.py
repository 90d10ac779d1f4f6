"""What the commands say while and after they work: a failed run in one line (the script's
line, Python's hint, the log, what to try), each run's phase and elapsed time, the next
steps after a build, and what GitHub Pages still needs after a publish."""

from __future__ import annotations

import io
import os
import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
from portfolio import failures, nextsteps, plan, run, scripterror
from portfolio.discover import discover
from portfolio.domain import Workspace
from portfolio.progress import Reporter, describe, elapsed, phases
from rich.console import Console

from tests.conftest import Built, make_project, portfolio_cli

# A tutorial's script with a typo after its training: the fit's epoch is done when it fails.
TUTORIAL_WITH_A_TYPO = """\
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(48, 4)).astype("float32")
y = (x[:, 0] + x[:, 1] > 0).astype("float32")

model = keras.Sequential([
    keras.Input(shape=(4,)),
    keras.layers.Dense(8, activation="relu"),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x[:32], y[:32], epochs=1, batch_size=16, verbose=0)
loss, accuracy = model.evalute(x[32:], y[32:], verbose=0)
print("Accuracy: %.2f" % (accuracy * 100))
"""
HINT = "AttributeError: 'Sequential' object has no attribute 'evalute'. Did you mean: 'evaluate'?"


def line_of(script: str, text: str) -> int:
    return next(n for n, line in enumerate(script.splitlines(), 1) if text in line)


@pytest.mark.cli
def test_a_failed_run_is_one_line_with_the_scripts_line_pythons_hint_and_the_log(
        tiny: Path) -> None:
    make_project(tiny, "my-iris", TUTORIAL_WITH_A_TYPO)
    typo = line_of(TUTORIAL_WITH_A_TYPO, "evalute")
    crash = line_of((tiny / "projects" / "failing" / "train.py").read_text(), "raise")
    result = portfolio_cli("run", "my-iris", "failing", cwd=tiny)
    assert result.returncode == 1
    lines = result.stderr.splitlines()

    status = next(line for line in lines if line.startswith("my-iris: failed in "))
    assert f": train.py:{typo}: {HINT} (log: results/my-iris/failed/log.txt; " in status
    assert status.endswith("it failed after training: check a fix in seconds with "
                           "`portfolio build --smoke my-iris`)")
    # A failure before any training gets no smoke advice: a full run reaches it as fast.
    other = next(line for line in lines if line.startswith("failing: failed in "))
    assert other.endswith(f": train.py:{crash}: RuntimeError: the data file is missing "
                          "(log: results/failing/failed/log.txt)")
    # The command's last words name both again, one line each.
    assert lines[-3] == "error: 2 projects failed:"
    assert set(lines[-2:]) == {f"  failing (failed): {other.split(': ', 2)[2]}",
                               f"  my-iris (failed): {status.split(': ', 2)[2]}"}
    # The phase it reached was reported before it failed: the fit's epoch k of n.
    assert re.search(r"^my-iris: running( \(\d+ s\))?: epoch 1/1 ", result.stderr, re.M)

    failed = tiny / "results" / "my-iris" / "failed"
    record = (failed / "run.json").read_text()
    assert f'"error_at": "train.py:{typo}"' in record
    assert HINT in (failed / "log.txt").read_text()  # the log keeps Python's hint too


@pytest.mark.cli
def test_one_failed_project_is_the_errors_one_line(tiny: Path) -> None:
    crash = line_of((tiny / "projects" / "failing" / "train.py").read_text(), "raise")
    result = portfolio_cli("build", "failing", cwd=tiny)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: 1 project failed: failing (failed): train.py:{crash}: RuntimeError: the data "
        "file is missing (log: results/failing/failed/log.txt)")
    assert "next:" not in result.stdout  # the failure is what to act on first


def test_a_long_error_is_summed_up_by_its_first_line(tmp_path: Path) -> None:
    error = "ValueError: Input 0 of layer \"dense\" is incompatible\n\nArguments received:\n  x"
    assert failures.summary("cnn", "failed", error, None, None, smoke=False) == \
        "ValueError: Input 0 of layer \"dense\" is incompatible …"


def run_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str,
               **files: str) -> scripterror.Report:
    """Run ``script`` as train.py in ``tmp_path`` the way the child does, and report its
    error as the child would."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name, text in files.items():
        (tmp_path / f"{name}.py").write_text(text)
    path = tmp_path / "train.py"
    path.write_text(script)
    try:
        runpy.run_path(str(path), run_name="__main__")
    except Exception as exc:
        return scripterror.report(exc, path.resolve(), (str(Path(runpy.__file__)),))
    raise AssertionError("the script did not fail")


def test_a_name_typo_keeps_pythons_hint_and_the_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    said = run_script(tmp_path, monkeypatch, "x = 1\npritn(x)\n")
    assert (said.error, said.at) == (
        "NameError: name 'pritn' is not defined. Did you mean: 'print'?", "train.py:2")
    printed = capsys.readouterr().err
    assert printed.startswith("Traceback (most recent call last):")
    assert printed.rstrip().endswith(said.error)


def test_the_line_is_the_scripts_own_not_the_library_frame_that_raised(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    message = "Unknown optimizer 'adamm'. Did you mean 'adam'?"  # a library's own hint
    said = run_script(tmp_path, monkeypatch, "import lib\n\nlib.compile('adamm')\n",
                      lib=f"def compile(name):\n    raise ValueError({message!r})\n")
    assert (said.error, said.at) == (f"ValueError: {message}", "train.py:3")  # said once


def test_a_script_that_does_not_parse_is_located_by_its_syntax_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    said = run_script(tmp_path, monkeypatch, "x = 1\nprint((x)\n")
    assert said.at == "train.py:2" and said.error.startswith("SyntaxError: ")


def test_a_notebook_error_is_located_by_its_cell_and_line(tmp_path: Path) -> None:
    notebook = tmp_path / "train.ipynb"
    cell = "x = 1\ny = x.shape\n"  # compiled the way portfolio.notebook runs a cell
    try:
        exec(compile(cell, f"{notebook.name}, cell 3", "exec"), {})
    except AttributeError as exc:
        said = scripterror.report(exc, notebook, ())
    assert (said.error, said.at) == ("AttributeError: 'int' object has no attribute 'shape'",
                                     "train.ipynb cell 3, line 2")


def test_progress_events_are_said_as_phases_with_k_of_n() -> None:
    assert describe({"event": "epoch", "epoch": 3, "epochs": 30, "loss": 0.4123}) == \
        "epoch 3/30 loss 0.4123"
    assert describe({"event": "fold", "fold": 2, "folds": 5}) == "cross-validation fold 2/5"
    assert describe({"event": "fold", "fold": 2, "folds": None}) == "cross-validation fold 2"
    assert describe({"event": "candidate", "candidate": 3, "candidates": 12, "fold": 1,
                     "folds": 5}) == "search candidate 3/12, fold 1/5"
    assert describe({"event": "a later kind"}) == ""
    events = ['{"event": "epoch", "epoch": 1, "epochs": 2}', "not json", "[1]",
              '{"event": "epoch", "epoch": 2, "epochs": 2}',
              '{"event": "candidate", "candidate": 1, "candidates": 2, "fold": 1, "folds": 2}',
              '{"event": "fold", "fold": 1, "folds": 3}',
              '{"event": "fold", "fold": 3, "folds": 3}']
    assert phases(events) == [("epoch 2/2", "epoch"),
                              ("search candidate 1/2, fold 1/2", "candidate"),
                              ("cross-validation fold 3/3", "fold")]
    assert [elapsed(s) for s in (0.4, 59.9, 125, 3725)] == \
        ["0 s", "59 s", "2 min 05 s", "1 h 02 min"]


def test_plain_lines_say_each_phase_once_with_the_elapsed_time(
        capsys: pytest.CaptureFixture) -> None:
    reporter = Reporter(live=False)
    reporter.queued("a", ["never run"])
    reporter.running("a")
    reporter.running("a", "epoch 1/3 loss 0.5", "epoch")
    reporter.running("a", "epoch 2/3 loss 0.4", "epoch")  # the same phase: no new line
    reporter.running("a", "search candidate 1/4, fold 1/2", "candidate")
    reporter.finished("a", "ok", 1.25, None, "", None)
    lines = capsys.readouterr().err.splitlines()
    assert lines[:2] == ["a: queued: never run", "a: running"]
    assert re.fullmatch(r"a: running \(\d+ s\): epoch 1/3 loss 0.5", lines[2])
    assert re.fullmatch(r"a: running \(\d+ s\): search candidate 1/4, fold 1/2", lines[3])
    assert lines[4:] == ["a: ok in 1.2 s"]
    reporter.summary(50.0)
    assert re.search(r"^1 run in \d+ s; portfolio itself peaked at 50 MB$",
                     capsys.readouterr().err, re.M)


def test_the_live_table_shows_the_phase_and_elapsed_times() -> None:
    screen = io.StringIO()
    reporter = Reporter(Console(file=screen, force_terminal=True, width=80), live=True)
    with reporter:
        reporter.queued("a", ["never run"])
        reporter.queued("b", ["never run"])
        reporter.running("a", "search candidate 3/12, fold 2/5", "candidate")
        reporter.finished("b", "failed", 2.5, None, "", "train.py:9: " + "x" * 200)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue()).replace("\r", "\n")
    assert re.search(r"search candidate 3/12, fold 2/5 \(\d+ s\)", shown)
    assert re.search(r"\d+ s so far; 0 of 2 runs done", shown)
    assert re.search(r"\d+ s so far; 1 of 2 runs done", shown)
    assert re.search(r"^b +failed +train\.py:9: x+", shown, re.M)  # a long line is cut, not b


class Recording(Reporter):
    """A plain reporter that remembers every phase it was told."""

    def __init__(self) -> None:
        super().__init__(live=False)
        self.told: list[tuple[str, str]] = []

    def running(self, slug: str, detail: str = "", phase: str = "") -> None:
        self.told.append((phase, detail))
        super().running(slug, detail, phase)


@pytest.mark.training
def test_a_searchs_candidates_and_a_cross_validations_folds_reach_the_parent(
        tiny: Path) -> None:
    make_project(tiny, "search", "\n".join([
        "from sklearn.datasets import load_iris",
        "from sklearn.linear_model import LogisticRegression",
        "from sklearn.model_selection import GridSearchCV, cross_val_score",
        "X, y = load_iris(return_X_y=True)",
        "GridSearchCV(LogisticRegression(max_iter=300), {'C': [0.1, 1.0]}, cv=2).fit(X, y)",
        "print(cross_val_score(LogisticRegression(max_iter=300), X, y, cv=3).mean())"]))
    ws = Workspace(tiny)
    [project] = discover(ws, ["search"])
    reporter = Recording()
    [outcome] = run.run_projects(ws, [plan.decide(ws, project)], 1, False, reporter)
    assert outcome.status == "ok", outcome.error
    told = [phase for phase, _ in reporter.told if phase]
    went = [p for n, p in enumerate(told) if n == 0 or told[n - 1] != p]
    assert went == ["candidate", "fold"]  # each phase, in the order the script went
    details = dict(reversed([t for t in reporter.told if t[0]]))  # the first of each
    assert re.fullmatch(r"search candidate [12]/2, fold [12]/2", details["candidate"])
    assert re.fullmatch(r"cross-validation fold [123]/3", details["fold"])


@pytest.mark.training
def test_a_build_ends_with_the_next_steps(built_tiny: Built) -> None:
    lines = built_tiny.result.stdout.splitlines()
    assert re.fullmatch(r"site built: site/ \(the build took \d+ s\)", lines[-3])
    assert lines[-2:] == ["next: `portfolio serve` to preview it at http://127.0.0.1:8000/tiny/",
                          "      `portfolio publish` to share it"]
    assert "index.html" not in built_tiny.result.stdout  # never "open site/index.html"


def test_with_the_workflow_a_push_is_how_the_site_is_shared(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "publish.yml").write_text("on: push\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    lines = nextsteps.after_build(Workspace(tmp_path), False, 75)
    assert lines[0].startswith("site unchanged: ") and "(the build took 1 min 15 s)" in lines[0]
    assert lines[1] == "next: `portfolio serve` to preview it at http://127.0.0.1:8000/"
    assert lines[2] == ("      commit and push: the GitHub Actions workflow "
                        "(.github/workflows/publish.yml) publishes it")


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


@pytest.mark.training
def test_publish_says_how_to_turn_pages_on_and_the_site_url_line(
        built_tiny: Built, tmp_path: Path) -> None:
    """A first push to a GitHub repository (here a local bare one, reached through git's
    url.insteadOf) cannot be served yet: no link to share, but where Pages is turned on;
    and without site_url, the exact line to add, derived from the remote."""
    root = tmp_path / "tiny"
    shutil.copytree(built_tiny.root, root, ignore=shutil.ignore_patterns(".build", "site"))
    for folder in (root / "projects" / "failing", root / "results" / "failing"):
        shutil.rmtree(folder)  # publishing refuses a failed project
    mkdocs = root / "mkdocs.yml"
    mkdocs.write_text(re.sub(r"(?m)^site_url:.*\n", "", mkdocs.read_text()))
    (root / ".gitignore").write_text(".build/\nsite/\n")
    built = portfolio_cli("build", "--no-run", cwd=root)
    assert built.returncode == 0, built.stderr
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "--bare", "-q", str(bare))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "portfolio")
    github = "https://github.com/tester/tiny.git"
    git(root, "config", f"url.{bare}.insteadOf", github)

    first = portfolio_cli("publish", "--no-build", "--remote", github, cwd=root)
    assert first.returncode == 0, first.stderr
    assert "gh-pages" in git(bare, "branch", "--list")
    said = first.stdout.splitlines()
    assert said[1] == (
        "first push of gh-pages: GitHub Pages serves it once it is on; in the repository's "
        "Settings → Pages, set Source to \"Deploy from a branch\", branch gh-pages, folder / "
        "(root). The site is then at https://tester.github.io/tiny/ (a minute or two later)")
    assert said[2].startswith("set `site_url: https://tester.github.io/tiny/` in mkdocs.yml")
    assert "share:" not in first.stdout  # a link that would 404 until Pages is on

    (root / "projects" / "tutorial" / "README.md").write_text("Edited.\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "edit")
    again = portfolio_cli("publish", "--remote", github, cwd=root)  # builds first
    assert again.returncode == 0, again.stderr
    assert "share: https://tester.github.io/tiny/" in again.stdout.splitlines()
    assert "set `site_url: https://tester.github.io/tiny/`" in again.stdout
    assert "first push" not in again.stdout and "next:" not in again.stdout

