"""Which number a project is judged by: a held-out metric, else its cross-validated score."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from portfolio.domain import RunResult
from portfolio.record import RunRecord
from portfolio.schema import ProjectMeta

from tests.conftest import make_project, portfolio_cli


def result(metrics: dict[str, float], checks: list[dict]) -> RunResult:
    record = RunRecord.model_validate({"status": "ok", "spot_checks": checks})
    return RunResult(Path(), record, metrics)


def check(metric: str | None, scores: list[float]) -> dict:
    return {"name": f"model {len(scores)}", "metric": metric, "scores": scores,
            "mean": sum(scores) / len(scores)}


def test_a_held_out_metric_wins_over_cross_validation() -> None:
    headline = result({"accuracy": 0.9}, [check("accuracy", [0.99, 0.98])]).headline(
        ProjectMeta(title="t"))
    assert (headline.name, headline.value, headline.measured_on) == (
        "accuracy", 0.9, "held-out data")


def test_without_one_the_best_cross_validated_mean_is_the_headline() -> None:
    headline = result({}, [check("accuracy", [0.8, 0.9]), check("accuracy", [0.9, 1.0]),
                           check(None, [5.0, 5.0])]).headline(ProjectMeta(title="t"))
    assert (headline.name, headline.goal) == ("accuracy", "max")
    assert headline.value == pytest.approx(0.95)
    assert headline.measured_on == "2-fold cross-validation"


def test_a_negated_error_scorer_becomes_the_error_lower_is_better() -> None:
    headline = result({}, [check("neg_root_mean_squared_error", [-3.0, -5.0])]).headline(
        ProjectMeta(title="t", metric={"name": "rmse"}))
    assert (headline.name, headline.value, headline.goal) == ("rmse", 4.0, "min")


def test_no_metric_and_no_cross_validation_means_no_headline() -> None:
    assert result({}, []).headline(ProjectMeta(title="t")) is None


@pytest.mark.cli
def test_a_cross_validation_only_script_is_shown_with_its_cv_score(tiny: Path) -> None:
    make_project(tiny, "cv-only", "\n".join([
        "from sklearn.datasets import load_iris",
        "from sklearn.model_selection import cross_val_score",
        "from sklearn.tree import DecisionTreeClassifier",
        "X, y = load_iris(return_X_y=True)",
        "scores = cross_val_score(DecisionTreeClassifier(random_state=0), X, y, cv=4)",
        "print(scores.mean())",
    ]))
    result = portfolio_cli("build", "cv-only", "--keep-going", cwd=tiny)
    assert result.returncode == 0, result.stderr
    page = html.unescape((tiny / "site" / "projects" / "cv-only" / "index.html").read_text())
    assert "accuracy on 4-fold cross-validation" in page
    assert "No metrics recorded" not in page
    # The description names the data, and the dummy cross-validated on the same folds.
    assert ("cv-only: 96.7% accuracy on 4-fold cross-validation: +64.7 pts over Always "
            "predicts class 0.") in page
    home = html.unescape((tiny / "site" / "index.html").read_text())
    assert "accuracy (4-fold cross-validation)" in home
    status = portfolio_cli("status", cwd=tiny).stdout
    assert "cv-only" in status and "accuracy 0.9" in status
