"""Sentences and tables the pages show, built in Python from a run record."""

from __future__ import annotations

from pathlib import Path

from portfolio.domain import Project, ProjectState, RunResult
from portfolio.schema import ProjectMeta
from portfolio.views import comparison_table, project_view, training_sentence


def test_a_fit_reads_as_a_sentence_with_early_stopping() -> None:
    fit = {"params": {"epochs": 40, "batch_size": 32}, "epochs": [{}] * 31,
           "optimizer": {"class": "Adam", "config": {"learning_rate": 0.001}},
           "trainable_parameters": 28714,
           "early_stopping": {"monitor": "val_loss", "patience": 5, "stopped_epoch": 30,
                              "best_epoch": 25, "restore_best_weights": True}}
    assert training_sentence(fit) == (
        "Training: 31 of 40 epochs, batch size 32, Adam (learning rate 0.001), 28,714 "
        "trainable parameters. Early stopping on val_loss (patience 5) stopped at epoch 31; "
        "the weights of epoch 26 were kept.")


def test_a_second_fit_is_fine_tuning_and_missing_details_are_left_out() -> None:
    fit = {"params": {}, "epochs": [{}, {}],
           "early_stopping": {"monitor": "loss", "patience": 2, "stopped_epoch": None,
                              "best_epoch": None, "restore_best_weights": False}}
    assert training_sentence(fit, first=False) == (
        "Fine-tuning: 2 of ? epochs. Early stopping on loss (patience 2) never triggered.")


def result(model: str, split_index: int, name: str, value: float, **extra) -> dict:
    return {"name": name, "value": value, "split": "test", "model": model,
            "split_index": split_index, **extra}


def test_models_by_splits_with_each_splits_own_baseline() -> None:
    run = {"results": [result("A", 0, "accuracy", 0.9), result("B", 0, "accuracy", 0.8),
                       result("A", 1, "accuracy", 0.7), result("B", 1, "accuracy", 0.75),
                       result("A", 0, "accuracy", 0.1, split="train")],
           "splits": [{"index": 0, "test_size": 40}, {"index": 1, "test_size": 30}],
           "trivial_baselines": [{"kind": "majority", "split_index": 0, "name": "x",
                                  "metrics": {"accuracy": 0.5}},
                                 {"kind": "majority", "split_index": 1, "name": "y",
                                  "metrics": {"accuracy": 0.6}}]}
    table = comparison_table(run)
    assert table.columns == ["split 1, 40 test samples", "split 2, 30 test samples"]
    assert table.rows == [("A", ["90.0%", "70.0%"]), ("B", ["80.0%", "75.0%"]),
                          ("Trivial baseline of each split", ["50.0%", "60.0%"])]


def test_one_model_alone_is_no_comparison_and_mse_gains_its_root() -> None:
    assert comparison_table({"results": [result("A", 0, "mse", 4.0)]}) is None
    table = comparison_table({"results": [
        result("lstm", 0, "rmse", 1.5, judged=True),
        result(None, 0, "mse", 9.0, where="train.py:40: mean_squared_error(y, x[:, -1])")]})
    assert table.columns == ["rmse", "mse"]
    assert table.rows == [("lstm (this project's model)", ["1.5", "–"]),
                          ("train.py:40: mean_squared_error(y, x[:, -1])", ["3", "9"])]


def test_a_declared_baseline_equal_to_the_computed_one_is_shown_once(tmp_path: Path) -> None:
    meta = ProjectMeta(title="t", baselines=[
        {"name": "Persistence forecast", "value": 32.9, "source": "printed"},
        {"name": "Linear model", "value": 19.7, "source": "printed"}])
    logged = [{"name": "persistence", "value": 32.9, "source": "printed by the script",
               "metric": "rmse"}]
    run = {"status": "ok", "results": [{"name": "rmse", "value": 17.7, "split": "test",
                                        "judged": True}],
           "trivial_baseline": {"name": "Persistence forecast", "estimator": "last value",
                                "source": "computed", "metrics": {"rmse": 32.898}},
           "baselines": logged}
    state = ProjectState(Project("t", tmp_path, meta),
                         RunResult(tmp_path, run, {"rmse": 17.7}), None)
    view = project_view(state)
    assert [(b.name, b.trivial) for b in view.baselines] == [
        ("Persistence forecast", True), ("Linear model", False)]
    assert view.score_sentence.startswith("17.7 rmse on held-out data: -15.2 (46% lower) over "
                                          "Persistence forecast")
