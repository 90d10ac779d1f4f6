"""Sentences and tables the pages show, built in Python from a run record."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest
from portfolio.domain import Project, ProjectState, RunResult
from portfolio.record import Fit, RunRecord, Search, SpotCheck
from portfolio.schema import ProjectMeta
from portfolio.views import (
    FigureView,
    ProjectView,
    SearchView,
    comparison_table,
    markup,
    project_view,
    spot_check_row,
    text,
    training_sentence,
)
from portfolio.views import search_view as view_of_search


def shown(value: object) -> str:
    """A page value as a reader sees it: entities decoded, HTML tags kept."""
    return html.unescape(str(value))


def record(run: dict[str, Any]) -> RunRecord:
    """A run record from the parts a test gives: status ok, and a source for each result
    that names none."""
    run = {"status": "ok", **run}
    run["results"] = [{"source": "sklearn.metrics.x", **r} for r in run.get("results", [])]
    return RunRecord.model_validate(run)


def fit_of(fit: dict[str, Any]) -> Fit:
    return Fit.model_validate({"index": 0, "model_index": 0, **fit})


def search_view(search: dict[str, Any]) -> SearchView:
    return view_of_search(Search.model_validate(search))


def view_of(tmp_path: Path, run: dict[str, Any], metrics: dict[str, float] | None = None,
            failure: dict[str, Any] | None = None, **meta: Any) -> ProjectView:
    """The view of a project whose last good run is ``run``."""
    state = ProjectState(Project("t", tmp_path, ProjectMeta(title="t", **meta)),
                         RunResult(tmp_path, record(run), metrics or {}),
                         RunResult(tmp_path, record(failure)) if failure else None)
    return project_view(state)


HELD_OUT = {"results": [{"name": "accuracy", "value": 0.9, "split": "test", "judged": True}]}


def test_a_fit_reads_as_a_sentence_with_early_stopping() -> None:
    fit = {"params": {"epochs": 40, "batch_size": 32}, "epochs": [{"epoch": n} for n in range(31)],
           "optimizer": {"class": "Adam", "config": {"learning_rate": 0.001}},
           "trainable_parameters": 28714,
           "early_stopping": {"monitor": "val_loss", "patience": 5, "stopped_epoch": 30,
                              "best_epoch": 25, "restore_best_weights": True}}
    assert training_sentence(fit_of(fit)) == (
        "Training: 31 of 40 epochs, batch size 32, Adam (learning rate 0.001), 28,714 "
        "trainable parameters. Early stopping on val_loss (patience 5) stopped at epoch 31; "
        "the weights of epoch 26 were kept.")


def test_a_second_fit_is_fine_tuning_and_missing_details_are_left_out() -> None:
    fit = {"params": {}, "epochs": [{"epoch": 0}, {"epoch": 1}],
           "early_stopping": {"monitor": "loss", "patience": 2, "stopped_epoch": None,
                              "best_epoch": None, "restore_best_weights": False}}
    assert training_sentence(fit_of(fit), first=False) == (
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
                                  "estimator": "e", "metrics": {"accuracy": 0.5}},
                                 {"kind": "majority", "split_index": 1, "name": "y",
                                  "estimator": "e", "metrics": {"accuracy": 0.6}}]}
    table = comparison_table(record(run))
    assert table.columns == ["split 1, 40 test samples", "split 2, 30 test samples"]
    assert table.rows == [("A", ["90.0%", "70.0%"]), ("B", ["80.0%", "75.0%"]),
                          ("Trivial baseline of each split", ["50.0%", "60.0%"])]


def test_one_model_alone_is_no_comparison_and_mse_gains_its_root() -> None:
    assert comparison_table(record({"results": [result("A", 0, "mse", 4.0)]})) is None
    table = comparison_table(record({"results": [
        result("lstm", 0, "rmse", 1.5, judged=True),
        result(None, 0, "mse", 9.0, where="train.py:40: mean_squared_error(y, x[:, -1])")]}))
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
           "trivial_baseline": {"kind": "persistence", "name": "Persistence forecast",
                                "estimator": "last value",
                                "source": "computed", "metrics": {"rmse": 32.898}},
           "baselines": logged}
    state = ProjectState(Project("t", tmp_path, meta),
                         RunResult(tmp_path, record(run), {"rmse": 17.7}), None)
    view = project_view(state)
    assert [(b.name, b.trivial) for b in view.baselines] == [
        ("Persistence forecast", True), ("Linear model", False)]
    assert view.score_sentence.startswith("17.7 rmse on held-out data: -15.2 (46% lower) over "
                                          "Persistence forecast")


# -- values inside sentences --------------------------------------------------------------

def test_a_sentence_keeps_its_own_markup_and_escapes_each_value_as_a_template_would() -> None:
    sentence = markup("<code>{}</code> over {}", "<script>*x*", "12 configurations")
    assert sentence == "<code>&#60;script&#62;&#42;x&#42;</code> over &#49;2 configurations"
    assert markup("{} and {}", sentence, "y").startswith(sentence)  # markup is kept as it is
    assert markup("{}", "-1") == text("-1") == "&#45;1"  # a value never starts a list


# -- Improve results: searches ------------------------------------------------------------

SEARCH = {"kind": "GridSearchCV", "estimator": "SVC", "space": {"kernel": ["rbf"], "C": [1, 10]},
          "scoring": "f1_macro", "candidates": 12,
          "best_params": {"C": 1, "gamma": 0.1}, "best_score": 0.91234,
          "top": [{"rank": 1, "params": {"C": 1, "gamma": 0.1}, "mean": 0.91234, "std": 0.02},
                  {"rank": 2, "params": {"C": 10}, "mean": None, "std": None}]}
MULTI = {**SEARCH, "scoring": "precision_macro, recall_macro", "refit": "recall_macro",
         "ranked_by": "recall_macro",
         "scorers": [{"name": "precision_macro", "refit": False, "best_mean": 0.8},
                     {"name": "recall_macro", "refit": True, "best_mean": None}]}


def test_a_search_says_what_it_searched_how_it_scored_and_the_best_it_found() -> None:
    assert shown(search_view(SEARCH).sentence) == (
        "<code>GridSearchCV</code> over 12 configurations of SVC, scored by f1_macro. "
        "Best: <code>C=1</code>, <code>gamma=0.1</code> (0.912).")


def test_a_search_with_the_default_scorer_and_no_best_score_names_neither() -> None:
    sentence = shown(search_view({**SEARCH, "scoring": "default", "best_score": None,
                                  "candidates": 1}).sentence)
    assert sentence == ("<code>GridSearchCV</code> over 1 configuration of SVC. "
                        "Best: <code>C=1</code>, <code>gamma=0.1</code>.")


def test_a_search_with_one_scorer_says_nothing_of_scorers() -> None:
    assert search_view(SEARCH).scorers_sentence == ""


def test_a_multi_metric_search_gives_each_scorers_best_mean_and_the_one_that_chose() -> None:
    assert shown(search_view(MULTI).scorers_sentence) == (
        "Best mean per scorer: precision_macro 0.800, recall_macro –. The final model was "
        "chosen by recall_macro; the table ranks by recall_macro.")


def test_a_search_without_refit_says_the_final_model_was_chosen_by_none() -> None:
    view = search_view({**MULTI, "refit": None, "best_params": {}, "best_score": None})
    assert "The final model was chosen by none (no refit);" in shown(view.scorers_sentence)
    # No refit, no best configuration: the sentence does not end on an empty "Best: ."
    assert shown(view.sentence).endswith("scored by precision_macro, recall_macro.")


def test_a_search_table_gives_each_configuration_and_its_scores_to_three_places() -> None:
    rows = search_view(SEARCH).rows
    assert [(r.rank, shown(r.configuration), r.mean, r.std) for r in rows] == [
        ("1", "C=1, gamma=0.1", "0.912", "0.020"), ("2", "C=10", "–", "–")]


def test_a_search_space_is_sorted_json_that_cannot_open_a_tag() -> None:
    space = search_view({**SEARCH, "space": {"b": ["<x>"], "a": [1]}}).space
    assert json.loads(space) == {"b": ["<x>"], "a": [1]}
    assert space.index('"a"') < space.index('"b"') and "<x>" not in space


# -- Evaluate algorithms: spot-checks -----------------------------------------------------

def test_a_spot_check_row_names_the_class_when_it_says_more_and_marks_the_best() -> None:
    check = {"name": "logistic regression", "description": "LogisticRegression",
             "scores": [0.9, 0.95, 1.0], "mean": 0.95, "std": 0.04082, "scoring": "accuracy"}
    row = spot_check_row(SpotCheck.model_validate(check), best=True)
    assert shown(row.algorithm) == "logistic regression — LogisticRegression (best)"
    assert (row.mean, row.std, row.folds, row.scoring) == ("0.950", "0.041", "3", "accuracy")
    same = SpotCheck.model_validate({**check, "description": "logistic regression"})
    assert shown(spot_check_row(same).algorithm) \
        == "logistic regression"


# -- Results: baselines -------------------------------------------------------------------

BASELINES = [{"name": "a reference", "value": 0.95, "source": "a paper"},
             {"name": "an old model", "value": 0.8},
             {"name": "a close one", "value": 0.902, "source": "x"}]


def test_each_baseline_row_says_by_how_much_the_model_is_better_worse_or_on_par(
        tmp_path: Path) -> None:
    view = view_of(tmp_path, HELD_OUT, {"accuracy": 0.9}, baselines=BASELINES)
    assert shown(view.baselines_caption) == "Compared with its baselines on accuracy:"
    assert [(shown(r.name), r.score, shown(r.versus), r.source) for r in view.baseline_rows] == [
        ("a reference", "95.0%", "-5.0 pts, worse", "a paper"),
        ("an old model", "80.0%", "+10.0 pts, better", "–"),
        ("a close one", "90.2%", "-0.2 pts, on par", "x")]


def test_baselines_without_a_headline_have_nothing_to_be_compared_with(tmp_path: Path) -> None:
    view = view_of(tmp_path, {"results": []}, baselines=BASELINES[:1])
    assert shown(view.baselines_caption) == "Compared with its baseline:"
    [row] = view.baseline_rows
    assert row.versus == "–"


def test_the_trivial_baseline_row_says_so_and_warns_only_when_it_wins(tmp_path: Path) -> None:
    trivial = {"kind": "majority", "name": "majority class", "estimator": "DummyClassifier",
               "source": "computed", "metrics": {"accuracy": 0.95}}
    losing = view_of(tmp_path, {**HELD_OUT, "trivial_baseline": trivial}, {"accuracy": 0.9})
    assert shown(losing.baseline_rows[0].name) == "majority class (trivial)"
    assert shown(losing.trivial_beats) == ("majority class scores 95.0% accuracy on the test "
                                           "part of the same split; this model scores 90.0%.")
    winning = view_of(tmp_path, {**HELD_OUT, "trivial_baseline": trivial}, {"accuracy": 0.99})
    assert winning.trivial_beats == ""


def test_the_results_page_row_sets_the_score_beside_the_reference_with_raw_numbers(
        tmp_path: Path) -> None:
    view = view_of(tmp_path, HELD_OUT, {"accuracy": 0.9}, baselines=BASELINES[:1])
    row = view.results_page_row
    assert (row.dataset, shown(row.metric), shown(row.score)) == (
        "–", "accuracy (higher is better)", "90.0% <small>(held-out data)</small>")
    assert (shown(row.reference), shown(row.difference)) == ("95.0% (a reference)",
                                                             "-5.0 pts, worse")
    assert float(row.score_value) == 0.9 and float(row.reference_value) == 0.95
    assert float(row.difference_value) == 0.9 - 0.95
    assert (row.trivial, row.trivial_value) == ("–", "")


def test_the_results_page_row_says_a_cross_validated_score_is_one(tmp_path: Path) -> None:
    check = {"name": "lr", "metric": "neg_mean_squared_error", "scores": [-4.0] * 5,
             "mean": -4.0, "std": 0.0}
    row = view_of(tmp_path, {"results": [], "spot_checks": [check]}).results_page_row
    assert shown(row.metric) == "mse (lower is better)"
    assert shown(row.score) == "4 <small>(5-fold cross-validation)</small>"
    assert (row.reference, row.difference, row.difference_value) == ("–", "–", "")


def test_a_project_without_a_run_has_an_empty_results_page_row(tmp_path: Path) -> None:
    state = ProjectState(Project("t", tmp_path, ProjectMeta(title="t")), None, None)
    row = project_view(state).results_page_row
    assert (row.metric, row.score, row.score_value, row.trivial) == ("–", "–", "", "–")


# -- Problem, notices, figures --------------------------------------------------------------

def test_the_problem_says_what_the_project_is_judged_by_and_which_way_is_better(
        tmp_path: Path) -> None:
    view = view_of(tmp_path, {"results": [{"name": "rmse", "value": 2.0, "split": "test",
                                           "judged": True}]}, {"rmse": 2.0},
                   task="time-series-forecasting")
    assert shown(view.judged_by) == "rmse on held-out data, lower is better"
    assert view.task_name == "time series forecasting"


def test_a_run_with_no_metric_says_when_it_ran_and_what_it_never_called(
        tmp_path: Path) -> None:
    view = view_of(tmp_path, {"results": [], "started": "2026-03-04T05:06:07+00:00"})
    assert shown(view.no_metrics).startswith(
        "The last run (on 2026-03-04) finished without an error but recorded no held-out "
        "metric")
    assert "<code>cross_val_score</code>" in view.no_metrics
    assert view_of(tmp_path, HELD_OUT, {"accuracy": 0.9}).no_metrics == ""


def test_a_failed_latest_run_is_dated_by_its_day(tmp_path: Path) -> None:
    view = view_of(tmp_path, HELD_OUT, {"accuracy": 0.9},
                   failure={"status": "failed", "started": "2026-05-06T07:08:09+00:00"})
    assert view.failure["date"] == "2026-05-06"


def test_a_home_card_follows_its_headline_with_the_comparison(tmp_path: Path) -> None:
    view = view_of(tmp_path, HELD_OUT, {"accuracy": 0.9}, baselines=BASELINES[1:2])
    assert shown(view.card_rest) == ", +10.0 pts over an old model"
    assert view_of(tmp_path, HELD_OUT, {"accuracy": 0.9}).card_rest == ""


def test_a_figure_without_a_caption_is_described_as_the_projects(tmp_path: Path) -> None:
    view = view_of(tmp_path, HELD_OUT, {"accuracy": 0.9})
    assert view.figure_alt(FigureView("f.png", "", "figure")) == "Figure from t"
    assert view.figure_alt(FigureView("f.png", "A forecast", "figure")) == "A forecast"
    assert view.thumbnail_alt == "t"  # no figure at all: the title


def test_the_confusion_matrix_pairs_each_row_with_its_true_class(tmp_path: Path) -> None:
    matrix = {"labels": ["cat", "dog"], "matrix": [[5, 1], [2, 7]], "split": "test"}
    view = view_of(tmp_path, {**HELD_OUT, "confusion_matrices": [matrix]}, {"accuracy": 0.9})
    assert view.confusion["rows"] == [("cat", [5, 1]), ("dog", [2, 7])]


def test_the_architecture_summary_counts_parameters_with_thousands_separators(
        tmp_path: Path) -> None:
    view = view_of(tmp_path, {**HELD_OUT, "architecture": {"class": "Sequential",
                                                           "parameters": 28714}})
    assert shown(view.architecture_line) == "Sequential, 28,714 parameters"


def test_printed_lines_are_shown_one_per_line(tmp_path: Path) -> None:
    view = view_of(tmp_path, {**HELD_OUT, "printed_lines": [
        {"line": 3, "text": "a", "value": 1.0}, {"line": 4, "text": "b", "value": 2.0}]})
    assert view.printed_text == "a\nb"


# -- Reproduce ------------------------------------------------------------------------------

RUN = {**HELD_OUT, "seed": 42, "started": "2026-11-28T20:33:03+00:00", "duration_s": 12.84,
       "versions": {"python": "3.11.7", "keras": "3.15.1"},
       "hardware": {"cpus": 2, "processor": "x86_64", "system": "Linux"},
       "input_hash": "0c7b7a7bdbe02dd5" + "f" * 48}


def test_the_reproduce_table_says_how_the_run_ran_and_links_its_files(tmp_path: Path) -> None:
    (tmp_path / "model.keras").write_bytes(b"x" * 2048)
    view = view_of(tmp_path, {**RUN, "model": "model.keras"}, {"accuracy": 0.9})
    rows = {row.label: shown(row.value) for row in view.reproduce_rows}
    assert rows == {
        "Seed": "42", "Started": "2026-11-28T20:33:03+00:00", "Duration": "12.8 s",
        "Versions": "python 3.11.7, keras 3.15.1", "Hardware": "2 × x86_64 (Linux)",
        "Input hash": "<code>0c7b7a7bdbe02dd5</code>",
        "Files": "[log](log.txt) · [model (2.0 KB)](model.keras) · [metrics.json](metrics.json)"
                 " · [model-index.yaml](model-index.yaml)"}


def test_a_model_kept_off_the_site_is_not_in_the_files_but_linked_where_it_lives(
        tmp_path: Path) -> None:
    (tmp_path / "model.keras").write_bytes(b"x")
    view = view_of(tmp_path, {**RUN, "model": "model.keras"}, {"accuracy": 0.9},
                   publish_model=False, model_url="https://example.org/model")
    files = next(shown(row.value) for row in view.reproduce_rows if row.label == "Files")
    assert "model.keras" not in files
    assert view.hosted_model_url == "https://example.org/model"
    published = view_of(tmp_path, {**RUN, "model": "model.keras"}, {"accuracy": 0.9},
                        model_url="https://example.org/model")
    assert published.hosted_model_url is None  # the site carries it: its own link


def test_processes_left_running_are_counted_in_the_right_number(tmp_path: Path) -> None:
    one = view_of(tmp_path, {**RUN, "left_running": [{"pid": 7, "command": "sleep 60"}]})
    assert shown(one.left_running_sentence) == (
        "The script left 1 process running when it ended, stopped by portfolio: "
        "<code>sleep 60 (pid 7)</code>.")
    two = view_of(tmp_path, {**RUN, "left_running": [{"pid": 7, "command": "a"},
                                                     {"pid": 8, "command": "b"}]})
    assert shown(two.left_running_sentence).startswith("The script left 2 processes running")
    assert "<code>a (pid 7)</code>, <code>b (pid 8)</code>." in shown(two.left_running_sentence)
    assert view_of(tmp_path, RUN).left_running_sentence == ""


def test_a_projects_libraries_are_read_from_its_code_and_parsed_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from portfolio import caches
    from portfolio.views import libraries_of

    folder = tmp_path / "projects" / "p"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text("import keras\nfrom sklearn.svm import SVC\nimport numpy\n"
                                     "from . import helpers\n")
    imports = caches.Imports(tmp_path / "imports.json")
    assert libraries_of(folder, tmp_path, imports) == ["Keras", "scikit-learn"]
    imports.save()
    monkeypatch.setattr(caches, "_imported", lambda source: pytest.fail("parsed again"))
    again = caches.Imports(tmp_path / "imports.json")
    assert libraries_of(folder, tmp_path, again) == ["Keras", "scikit-learn"]
