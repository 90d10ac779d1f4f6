"""The log the site publishes: the clean log (no progress-bar escape codes) with the
machine's absolute paths replaced by ``<portfolio>``, ``<python>`` and ``~``; the raw log
stays in results/."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from portfolio import publiclog
from portfolio.domain import Project, RunResult
from portfolio.record import RunRecord
from portfolio.schema import ProjectMeta

from tests.conftest import scripts_portfolio


def test_this_machines_paths_are_replaced_longest_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home" / "al"
    root = home / "portfolio"
    monkeypatch.setenv("HOME", str(home))
    venv = Path(sys.prefix)
    log = (f'  File "{root}/projects/fit/train.py", line 3, in <module>\n'
           f"{venv}/lib/python3.11/site-packages/keras/layers/dense.py:87: UserWarning: x\n"
           f"data: {home}/datasets/a.csv, PATH={venv}/bin:/usr/bin, here: {root}\n"
           f"tracking: {root.as_uri()}/mlruns/1 and file://{home}/notes.txt\n"
           f"not theirs: {home}2/x {root}-old/y /data{home}\n")
    assert publiclog.redact(log, root, "fit") == (
        '  File "<portfolio>/projects/fit/train.py", line 3, in <module>\n'
        "<python>/lib/python3.11/site-packages/keras/layers/dense.py:87: UserWarning: x\n"
        "data: ~/datasets/a.csv, PATH=<python>/bin:/usr/bin, here: <portfolio>\n"
        "tracking: file://<portfolio>/mlruns/1 and file://~/notes.txt\n"
        f"not theirs: {home}2/x ~/portfolio-old/y /data{home}\n")


def test_a_python_environment_inside_the_portfolio_is_python(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    root = tmp_path / "portfolio"
    monkeypatch.setattr(sys, "prefix", str(root / ".venv"))
    assert publiclog.redact(f"{root}/.venv/lib/python3.12/x.py {root}/projects/a", root) == (
        "<python>/lib/python3.12/x.py <portfolio>/projects/a")


def test_another_machines_paths_are_replaced_by_their_shapes(tmp_path: Path) -> None:
    """Results committed from a laptop, rendered by CI: the laptop's paths are not this
    machine's, but where a home, a Python and the project's folders are shows."""
    log = ('  File "/home/bob/work/pf/projects/fit/train.py", line 3\n'
           "/home/bob/.venv/lib/python3.12/site-packages/keras/x.py:1: UserWarning\n"
           "/Users/bob/miniconda3/lib/python3.10/site-packages/sklearn/y.py:2: Warning\n"
           "saved /home/bob/pf/results/.run-3f2a/model.keras, /home/bob/pf/results/fit/m\n"
           "read /home/bob/data.csv /root/x C:\\Users\\Bob\\d.csv\n"
           "left: https://github.com/bob/pf/tree/main/projects/fit /data/home/bob /srv/x\n")
    assert publiclog.redact(log, tmp_path / "elsewhere", "fit") == (
        '  File "<portfolio>/projects/fit/train.py", line 3\n'
        "<python>/lib/python3.12/site-packages/keras/x.py:1: UserWarning\n"
        "<python>/lib/python3.10/site-packages/sklearn/y.py:2: Warning\n"
        "saved <portfolio>/results/.run-3f2a/model.keras, <portfolio>/results/fit/m\n"
        "read ~/data.csv ~/x ~\\d.csv\n"
        "left: https://github.com/bob/pf/tree/main/projects/fit /data/home/bob /srv/x\n")


def _run(folder: Path) -> tuple[RunResult, Project]:
    project = Project("fit", folder.parent.parent / "projects" / "fit", ProjectMeta(title="t"))
    return RunResult(folder, RunRecord.model_validate({"status": "ok"})), project


def test_the_clean_log_is_published_else_the_raw_one_cleaned(tmp_path: Path) -> None:
    folder = tmp_path / "results" / "fit"
    folder.mkdir(parents=True)
    run, project = _run(folder)
    assert publiclog.published(run, project) is None  # no log: no link to one
    (folder / "log.txt").write_text(f"\x1b[1m1/2\x1b[0m\r\x1b[1m2/2\x1b[0m\n{tmp_path}/x\n")
    assert publiclog.published(run, project) == "2/2\n<portfolio>/x\n"  # older results
    (folder / "log-clean.txt").write_text(f"clean\n{folder}/figures/a.png\n")
    assert publiclog.published(run, project) == "clean\n<portfolio>/results/fit/figures/a.png\n"


def test_a_log_that_is_a_symlink_to_a_file_outside_is_never_read(tmp_path: Path) -> None:
    folder = tmp_path / "results" / "fit"
    folder.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    (folder / "log-clean.txt").symlink_to(secret)
    (folder / "log.txt").write_text("the script's output\n")
    assert publiclog.published(*_run(folder)) == "the script's output\n"


# Keras' default progress bar, and what leaks a machine's paths: a library warning (from
# the Python environment), a file under the home folder, the script's own folder.
CHATTY_FIT = """\
import sys
from pathlib import Path

import numpy as np
from tensorflow import keras

print("data:", Path.home() / "datasets" / "tiny.csv")
print("here:", Path.cwd() / "train.py")
print("python:", sys.executable)
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 4)).astype("float32")
y = (x[:, 0] > 0).astype("float32")
model = keras.Sequential([keras.layers.Dense(4, activation="relu", input_shape=(4,)),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x[:48], y[:48], epochs=2, batch_size=8, verbose=1)
print("accuracy:", model.evaluate(x[48:], y[48:], verbose=1)[1])
"""


@pytest.mark.training
def test_the_published_log_of_a_verbose_fit_has_no_escape_code_and_no_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    root = home / "portfolio"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # the build's and its run's home folder
    scripts_portfolio(root, {"chatty-fit": CHATTY_FIT})
    raw = (root / "results" / "chatty-fit" / "log.txt").read_text()
    assert "\x1b[" in raw and str(home) in raw and sys.prefix in raw  # what there is to hide

    site = root / "site" / "projects" / "chatty-fit"
    published = (site / "log.txt").read_text()
    assert "\x1b" not in published and "\r" not in published and "\b" not in published
    machine = {str(root), str(root.resolve()), str(home), sys.prefix, sys.base_prefix,
               str(Path(sys.prefix).resolve()), str(Path.home())}
    assert not [path for path in machine if path in published], published
    assert "Epoch 2/2" in published
    assert "data: ~/datasets/tiny.csv" in published
    assert "here: <portfolio>/projects/chatty-fit/train.py" in published
    assert "python: <python>/bin/python" in published
    assert "<python>/lib/python3" in published  # Keras' warning about input_shape
    # The raw log is nowhere in the site.
    assert not [f for f in (root / "site").rglob("*") if f.is_file()
                and f.read_bytes() == raw.encode()]
