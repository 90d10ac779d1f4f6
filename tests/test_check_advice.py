"""The declared metric must be one the project measures, and ``check`` advises on what a
reader of the site would miss: each error or piece of advice names the file and the line.

Most cases read the example portfolio's committed results (fresh, nothing trained); one
builds a project whose script only prints a score, to see the check after a real run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, make_project, portfolio_cli, portfolio_here

BREAST = "projects/breast-cancer-mlp/project.yaml"


def _example(root: Path) -> Path:
    """The example portfolio with its committed results, not built."""
    root.mkdir(parents=True)
    for name in ("projects", "results", "site_templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copyfile(REPO / "mkdocs.yml", root / "mkdocs.yml")
    return root


def _declare(root: Path, name: str) -> int:
    """Replace the breast-cancer project's declared metric; its line number."""
    meta = root / BREAST
    lines = meta.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "name: accuracy")
    lines[at] = f"  name: {name}"
    meta.write_text("\n".join(lines) + "\n")
    return at + 1


@pytest.mark.cli
def test_a_misspelt_metric_is_an_error_at_its_line_with_the_name_the_run_reported(
        tmp_path: Path) -> None:
    root = _example(tmp_path / "p")
    line = _declare(root, "acuracy")
    for command in (("check",), ("build", "--no-run")):
        done = portfolio_cli(*command, cwd=root)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert f"{BREAST}:{line}:3: metric.name: 'acuracy'" in done.stderr, done.stderr
        assert "did you mean 'accuracy'?" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert not (root / "site").exists()  # the build stopped before the site


def test_a_known_metric_the_current_run_never_reported_is_an_error_listing_what_it_did(
        tmp_path: Path) -> None:
    root = _example(tmp_path / "p")
    line = _declare(root, "f1")  # a real metric name, but the script measures accuracy only
    done = portfolio_here("check", cwd=root)
    assert done.returncode == 2, done.stdout
    assert f"{BREAST}:{line}:3: metric.name: 'f1' is not a metric the last run reported" \
        in done.stderr, done.stderr
    assert "it reported: accuracy" in done.stderr


def test_a_metric_declared_under_another_spelling_of_a_reported_one_is_accepted(
        tmp_path: Path) -> None:
    root = _example(tmp_path / "p")
    _declare(root, "sparse_categorical_accuracy")  # the same metric, as Keras may name it
    done = portfolio_here("check", cwd=root)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("name", "accepted"), [
    ("acuracy", False), ("dice_coef", True), ("rmse", True), ("my_score", False)])
def test_before_a_first_run_a_name_is_held_against_the_known_metric_names(
        tmp_path: Path, name: str, accepted: bool) -> None:
    root = _example(tmp_path / "p")
    make_project(root, "fresh-idea", "print('Test accuracy: 0.9')\n",
                 f"metric:\n  name: {name}\n")
    done = portfolio_here("check", cwd=root)
    assert (done.returncode == 0) is accepted, done.stdout + done.stderr
    if not accepted:
        assert (f"projects/fresh-idea/project.yaml:3:3: metric.name: '{name}' is not a "
                "metric name portfolio knows") in done.stderr, done.stderr
    if name == "acuracy":
        assert "did you mean 'accuracy'?" in done.stderr


@pytest.mark.cli
def test_a_build_that_ran_the_project_judges_its_metric_by_what_the_run_reported(
        tmp_path: Path) -> None:
    """``f1`` is a known name, so the build runs the project; its run reports accuracy
    only, so the build then stops with the error, the run's results kept."""
    root = _example(tmp_path / "p")
    make_project(root, "printed", "print('Test accuracy: 0.91')\n", "metric:\n  name: f1\n")
    done = portfolio_cli("build", "printed", cwd=root, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert ("projects/printed/project.yaml:3:3: metric.name: 'f1' is not a metric the last "
            "run reported; it reported: accuracy") in done.stderr, done.stderr
    assert (root / "results" / "printed" / "run.json").is_file()


def test_check_advises_on_what_a_reader_would_miss_each_with_the_line_to_add(
        tmp_path: Path) -> None:
    root = _example(tmp_path / "my-portfolio")
    mkdocs = root / "mkdocs.yml"
    text = mkdocs.read_text()
    site_name = next(line for line in text.splitlines() if line.startswith("site_name:"))
    mkdocs.write_text(text.replace(site_name, "site_name: my-portfolio"))
    make_project(root, "bare", "print('Test accuracy: 0.9')\n")
    done = portfolio_here("check", cwd=root)
    assert done.returncode == 0, done.stderr  # advice, not errors
    advice = [line for line in done.stdout.splitlines() if line.startswith("advice: ")]
    line = text.splitlines().index(site_name) + 1
    assert any(a.startswith(f"advice: mkdocs.yml:{line}: site_name is still the folder's "
                            "name 'my-portfolio'") and "site_name: " in a for a in advice), advice
    bare = [a for a in advice if "projects/bare/" in a]
    assert any("no summary" in a and "summary: " in a for a in bare), bare
    assert any("no dataset card" in a and "dataset: {name:" in a for a in bare), bare
    assert any("README.md: missing" in a and "## Data" in a for a in bare), bare
    # The example projects have a summary, a dataset card and a story: no advice for them.
    assert not [a for a in advice if "breast-cancer-mlp" in a], advice


def test_check_advises_when_the_headline_is_no_better_than_its_trivial_baseline(
        tmp_path: Path) -> None:
    root = _example(tmp_path / "p")
    record_file = root / "results" / "breast-cancer-mlp" / "run.json"
    record = json.loads(record_file.read_text())
    trivial = record["trivial_baseline"]["metrics"]["accuracy"]
    for result in record["results"]:
        if result["name"] == "accuracy" and result["split"] == "test":
            result["value"] = trivial  # a tie with always giving the same answer
    record_file.write_text(json.dumps(record))
    metrics_file = record_file.with_name("metrics.json")
    metrics = json.loads(metrics_file.read_text())
    metrics["accuracy"] = trivial
    metrics_file.write_text(json.dumps(metrics))
    done = portfolio_here("check", cwd=root)
    assert done.returncode == 0, done.stderr
    assert ("advice: projects/breast-cancer-mlp: the headline, accuracy "
            f"{trivial:.4g}, is no better than its trivial baseline (Always predicts class 1"
            ) in done.stdout, done.stdout


@pytest.mark.parametrize("name", ["val_accuracy", "neg_mean_squared_error"])
def test_a_metric_named_with_its_data_or_its_sign_is_asked_for_by_its_own_name(
        tmp_path: Path, name: str) -> None:
    """``val_accuracy`` is accuracy on validation data: which data the headline was
    measured on is capture's to find out, so the declared name is the metric's alone."""
    root = _example(tmp_path / "p")
    line = _declare(root, name)
    done = portfolio_here("check", cwd=root)
    assert done.returncode == 2, done.stdout
    bare = name.removeprefix("val_").removeprefix("neg_")
    assert (f"{BREAST}:{line}:3: metric.name: '{name}': name the metric alone, '{bare}'"
            in done.stderr), done.stderr


@pytest.mark.cli
def test_a_fresh_projects_wrong_metric_stops_the_build_before_anything_trains(
        tmp_path: Path) -> None:
    root = _example(tmp_path / "p")
    line = _declare(root, "f1")  # breast-cancer is fresh: its run is the one that counts
    make_project(root, "printed", "print('Test accuracy: 0.91')\n")  # never run: would run
    done = portfolio_cli("build", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{BREAST}:{line}:3: metric.name: 'f1' is not a metric the last run reported" \
        in done.stderr, done.stderr
    assert not (root / "results" / "printed").exists()  # stopped before it trained
