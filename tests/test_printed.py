"""Reading a script's output: a legible log and the results it printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from portfolio import metricnames
from portfolio import printed as reader
from portfolio.child import finish
from portfolio.domain import RunResult
from portfolio.recorder import Recorder
from portfolio.schema import ProjectMeta


def test_clean_collapses_progress_bar_redraws() -> None:
    raw = ("Epoch 1/2\n 1/13 [>....] - loss: 0.9\r 7/13 [==>..] - loss: 0.6"
           "\r13/13 [=====] - loss: 0.4\nabc\b\bxy\n\x1b[1mbold\x1b[0m\n")
    assert reader.clean(raw).splitlines() == [
        "Epoch 1/2", "13/13 [=====] - loss: 0.4", "axy", "bold"]


@pytest.mark.parametrize(("line", "name", "value", "baseline"), [
    ("Accuracy: 85.20", "accuracy", 0.852, None),
    ("Test RMSE: 0.123 (persistence 0.160)", "rmse", 0.123, ("persistence", 0.16)),
    ("test accuracy = 0.91", "accuracy", 0.91, None),
    ("Test accuracy: 97.5%", "accuracy", 0.975, None),
    ("The F1 score is 0.75", "f1", 0.75, None),
    ("Mean squared error: 2548.07", "mse", 2548.07, None),
    ("Coefficient of determination: 0.47", "r2", 0.47, None),
])
def test_printed_results_are_read(line: str, name: str, value: float, baseline: tuple | None
                                  ) -> None:
    [printed] = reader.printed_results(f"loading\n{line}\n")
    assert (printed.name, printed.value, printed.line) == (name, pytest.approx(value), 2)
    assert printed.baseline == (None if baseline is None else
                                (baseline[0], pytest.approx(baseline[1])))


@pytest.mark.parametrize("line", [
    "13/13 - 0s - accuracy: 0.97 - loss: 0.1",
    "spot-check persistence: RMSE 32.90",
    "Epoch 3/30",
    "Epoch 1: val_loss improved from inf to 0.31470, saving model to best.keras",
    "width 16: 0.93",
    "Number of samples: 150",
])
def test_lines_that_are_not_results_are_ignored(line: str) -> None:
    assert reader.read_printed(line) == []


@pytest.mark.parametrize(("line", "name", "value", "lower_is_better"), [
    ("Test Score: 55.43 RMSE", "rmse", 55.43, True),
    ("Accuracy: 76.80%", "accuracy", 0.768, False),
    ("loss 0.31 MAE", "mae", 0.31, True),
    ("Test: 0.87 accuracy", "accuracy", 0.87, False),
    ("Test score: 3.2e-01 mse", "mse", 0.32, True),
])
def test_a_unit_after_the_number_names_the_metric_and_its_direction(
        line: str, name: str, value: float, lower_is_better: bool) -> None:
    [printed] = reader.printed_results(line)
    assert (printed.name, printed.value, printed.split) == (name, pytest.approx(value), "printed")
    assert printed.raw_name == line
    assert metricnames.lower_is_better(printed.name) is lower_is_better


@pytest.mark.parametrize(("line", "name", "split"), [
    ("Train Score: 23.1 RMSE", "rmse", "train"),
    ("train accuracy: 0.99", "accuracy", "train"),
    ("[training] loss: 0.41", "loss", "train"),
    ("val_loss: 0.3", "loss", "validation"),
    ("validation accuracy: 0.938", "accuracy", "validation"),
])
def test_train_and_validation_labels_give_their_split(line: str, name: str, split: str) -> None:
    [printed] = reader.printed_results(line)
    assert (printed.name, printed.split) == (name, split)


@pytest.mark.parametrize("line", ["Score: 0.93", "Result: 12", "Test score = 0.81",
                                  "Final value: 3.5"])
def test_a_value_naming_no_metric_is_printed_text_only(line: str, tmp_path: Path) -> None:
    assert reader.printed_results(line) == []
    [printed] = reader.read_printed(line)
    assert printed.name == "" and printed.text == line
    record = absorb(tmp_path, f"training...\n{line}\n")
    assert record["results"] == [] and record["printed_metrics"] == []
    assert record["printed_lines"] == [{"line": 2, "text": line, "value": printed.value,
                                        "split": "printed"}]


@pytest.mark.parametrize(("line", "expected"), [
    ("precision: 1.000 (±0.000), recall: 0.950 (±0.050), for {'C': 10}",
     [("precision", 1.0), ("recall", 0.95)]),
    ("Accuracy: 0.95 (+/- 0.02)", [("accuracy", 0.95)]),
    ("accuracy: 95.33% (4.27%)", [("accuracy", 0.9533)]),
    ("MAE: 3.2 (std 0.4)", [("mae", 3.2)]),
    ("f1 = 0.81 +/- 0.03, r2 = 0.5 ± 0.1", [("f1", 0.81), ("r2", 0.5)]),
])
def test_a_spread_makes_each_pair_on_the_line_a_cv_result(line: str, expected: list) -> None:
    printed = reader.printed_results(line)
    assert [(p.name, p.value) for p in printed] == [(n, pytest.approx(v)) for n, v in expected]
    assert {p.split for p in printed} == {"cv"}
    assert all(p.baseline is None for p in printed)


# What Keras writes to a file for fit(verbose=1) and evaluate(verbose=1): Keras 3 draws
# a bar, backspaces over it and returns to column 0 for the next; Keras 2 backspaces.
BAR = "\x1b[32m" + "━" * 20 + "\x1b[0m\x1b[37m\x1b[0m"
KERAS_LOG = (
    "Epoch 1/2\n"
    "\r\x1b[1m1/4\x1b[0m \x1b[32m━━━━━\x1b[0m\x1b[37m━━━━━━━━━━━━━━━\x1b[0m \x1b[1m0s\x1b[0m "
    "187ms/step - accuracy: 0.50 - loss: 0.7100" + "\b" * 70 +
    f"\r\x1b[1m4/4\x1b[0m {BAR} \x1b[1m0s\x1b[0m "
    "7ms/step - accuracy: 0.62 - loss: 0.66 - val_accuracy: 0.60 - val_loss: 0.68  \n"
    "Epoch 2/2\n"
    " 1/13 [>.............................] - ETA: 0s - loss: 0.9000"
    + "\b" * 64 + "13/13 [==============================] - 0s 1ms/step - loss: 0.4000\n"
    f"\r\x1b[1m2/2\x1b[0m {BAR} \x1b[1m0s\x1b[0m "
    "3ms/step - accuracy: 0.9104 - loss: 0.2500\n"
    "Test accuracy: 91.04%\n")


def test_keras_progress_bars_are_not_read_and_the_print_keeps_its_line() -> None:
    shown = reader.clean(KERAS_LOG).splitlines()
    assert shown[1] == ("4/4 " + "━" * 20 + " 0s 7ms/step - accuracy: 0.62 - loss: 0.66 - "
                        "val_accuracy: 0.60 - val_loss: 0.68")
    assert shown[3].startswith("13/13 [=====") and "\b" not in reader.clean(KERAS_LOG)
    assert shown[5] == "Test accuracy: 91.04%"
    [printed] = reader.printed_results(KERAS_LOG)
    assert (printed.name, printed.value, printed.line) == ("accuracy", pytest.approx(0.9104), 6)


def absorb(out: Path, log: str, record: dict | None = None) -> dict:
    """Run the child's reading of what the script printed (``log``) over a ``record``."""
    record = record if record is not None else {"results": []}
    reader.read_printed_results(record, list(enumerate(reader.clean(log).split("\n"), 1)))
    return record


def finished(out: Path, log: str, results: list[dict]) -> Recorder:
    """A child's recorder after its finishers: ``log`` was printed, ``results`` hooked."""
    rec = Recorder(out=out, seed=0, project_dir=out)
    rec.output = reader.OutputLines()
    rec.output.add(log)
    rec.results = results
    finish(rec, [])  # the child's finishers, in the child's order
    return rec


def hooked(name: str, value: float, split: str, log_line: int,
           source: str = "sklearn.metrics.x") -> dict:
    return {"name": name, "value": value, "source": source, "split": split,
            "log_line": log_line}


def test_a_print_of_a_hooked_result_takes_its_split_and_is_not_added_twice(
        tmp_path: Path) -> None:
    evaluate = hooked("accuracy", 0.91043, "test", 5, "keras.evaluate")
    record = absorb(tmp_path, KERAS_LOG, {"results": [evaluate]})
    assert record["results"] == [{**evaluate, "printed_line": 6}]
    assert record["printed_metrics"] == []


def test_a_print_differing_beyond_its_precision_is_its_own_printed_result(
        tmp_path: Path) -> None:
    rec = finished(tmp_path, KERAS_LOG, [hooked("accuracy", 0.9106, "test", 5)])
    assert "printed_line" not in rec.results[0]
    assert [(r["value"], r["split"], r["line"]) for r in rec.results[1:]] == [
        (pytest.approx(0.9104), "printed", 6)]
    # A hook measured accuracy: the printed number never replaces it.
    assert rec.test_metrics() == {"accuracy": 0.9106}


def test_a_printed_rmse_matches_the_root_of_a_hooked_mse(tmp_path: Path) -> None:
    log = "Train Score: 2.00 RMSE\nTest Score: 3.16 RMSE\n"
    train, test = hooked("mse", 4.0, "unknown", 0), hooked("mse", 10.0, "test", 1)
    rec = finished(tmp_path, log, [train, test])
    assert [(r["split"], r["name"], r.get("printed_line"), r.get("printed_name"))
            for r in rec.results] == [("train", "mse", 1, "rmse"),
                                      ("train", "rmse", 1, None),
                                      ("test", "mse", 2, "rmse"),
                                      ("test", "rmse", 2, None)]
    # The root the script printed is a result of its own, in the script's units, and the
    # project's result as its MSE is.
    assert rec.results[3]["value"] == pytest.approx(10.0 ** 0.5)
    assert rec.test_metrics() == {"mse": 10.0, "rmse": pytest.approx(10.0 ** 0.5)}


def test_a_train_label_makes_a_hooked_score_of_unknown_data_a_training_score(
        tmp_path: Path) -> None:
    rec = finished(tmp_path, "Train RMSE: 2.00\n", [hooked("mse", 4.0, "unknown", 0)])
    assert rec.results[0]["split"] == "train"
    run = RunResult(tmp_path, rec.record("ok", None), rec.test_metrics())
    headline = run.headline(ProjectMeta(title="t"))
    assert (headline.name, headline.basis) == ("rmse", "train")  # unlabelled: "unverified"


def test_a_train_label_never_matches_a_held_out_result(tmp_path: Path) -> None:
    record = absorb(tmp_path, "train accuracy: 0.90\n",
                    {"results": [hooked("accuracy", 0.9, "test", 0)]})
    assert "printed_line" not in record["results"][0]
    assert record["results"][1]["split"] == "train"


def test_lines_inside_or_right_after_a_search_are_cv_until_the_next_hooked_result(
        tmp_path: Path) -> None:
    log = ("Fitting 5 folds\n"            # 1: before the search
           "precision: 0.97\n"             # 2: printed by a refit callable, inside it
           "Best accuracy: 0.96\n"         # 3: right after it
           "Best score: 0.96\n"            # 4: says no metric, and is the search's anyway
           "Test accuracy: 0.93\n"         # 5: after accuracy_score, hooked at line 4
           "recall: 0.88\n")               # 6
    record = {"results": [hooked("accuracy", 0.945, "test", 4)],
              "searches": [{"log_line_start": 1, "log_line": 2}]}
    absorb(tmp_path, log, record)
    splits = {(r["name"], r["line"]): r["split"] for r in record["results"][1:]}
    assert splits == {("precision", 2): "cv", ("accuracy", 3): "cv",
                      ("accuracy", 5): "printed", ("recall", 6): "printed"}
    assert record["printed_lines"] == []
    assert record["printed_metrics"] == ["recall"]  # a headline candidate; cv lines never
    assert all(r["split"] != "test" for r in record["results"][1:])  # printing never
    # makes a held-out result


def test_a_spot_check_without_a_later_result_makes_the_rest_of_the_log_cv(
        tmp_path: Path) -> None:
    record = {"results": [], "spot_checks": [{"log_line_start": 0, "log_line": 0}]}
    absorb(tmp_path, "LR accuracy: 0.95\n", record)
    assert [r["split"] for r in record["results"]] == ["cv"]
    assert record["printed_metrics"] == []


def test_a_printed_baseline_goes_with_a_printed_result_only(tmp_path: Path) -> None:
    record = absorb(tmp_path, "Train RMSE: 0.2 (persistence 0.3)\nTest RMSE: 0.4 (persistence "
                    "0.5)\n")
    assert record["baselines"] == [{"name": "persistence", "value": 0.5, "metric": "rmse",
                                    "source": "printed by the script", "line": 2}]


# Issue 24, pattern 10: lines that count things, and prints that repeat a hooked result.
@pytest.mark.parametrize("line", [
    "Number of batches in raw_test_ds: 63",          # TensorFlow's text classification
    "Number of test images: 10000",
    "Test samples: 10000",
    "Test batches: 63",
    "Test set: 200 samples",
    "Test data: 2000 files",
    "Test size: 0.2",
    "Final count: 12",
])
def test_a_line_that_counts_things_is_never_offered_as_a_score(line: str,
                                                               tmp_path: Path) -> None:
    assert reader.read_printed(line) == []
    record = absorb(tmp_path, f"Found 2000 files belonging to 2 classes.\n{line}\nEpoch 3/10\n")
    assert record["results"] == [] and record["printed_lines"] == []


SCORE = 0.744186  # what clf.score returned


@pytest.mark.parametrize("script_print", [
    "print('model score: %.3f' % score)",                 # scikit-learn's gallery
    "print('Score:', round(score, 3))",
    "print(f'Test score: {score}')",
    "print(f'Score on the test set: {score * 100:.2f}%')",
    "print('Final score: %.1f %%' % (score * 100))",
])
def test_a_print_naming_no_metric_that_repeats_a_hooked_result_is_that_result(
        script_print: str, tmp_path: Path) -> None:
    line = _printed(script_print, score=SCORE)
    clf_score = hooked("accuracy", SCORE, "test", 1, "LogisticRegression.score")
    rec = finished(tmp_path, f"loading\n{line}\n", [clf_score])
    assert rec.results == [{**clf_score, "printed_line": 2}]  # linked, nothing added
    assert rec.extra["printed_lines"] == [] and rec.extra["printed_metrics"] == []
    assert rec.test_metrics() == {"accuracy": SCORE}  # the hooked result stays the result


def _printed(statement: str, **names: float) -> str:
    """What ``statement`` (a script's print) writes, as the script would have."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(statement, {}, dict(names))
    return out.getvalue().rstrip("\n")


@pytest.mark.parametrize(("line", "recorded_at"), [
    ("Score: 0.744", 3),   # printed before the score was measured: another number
    ("Score: 0.75", 1),    # another value at the precision printed
    ("Result: 1", 1),      # a whole number is as likely a count as a score
])
def test_a_print_naming_no_metric_that_repeats_nothing_stays_printed_text(
        line: str, recorded_at: int, tmp_path: Path) -> None:
    clf_score = hooked("accuracy", SCORE if "Result" not in line else 1.0, "test", recorded_at)
    record = absorb(tmp_path, f"loading\n{line}\n", {"results": [clf_score]})
    assert "printed_line" not in record["results"][0]
    assert [t["text"] for t in record["printed_lines"]] == [line]


@pytest.mark.parametrize("script_print", [
    "print('Test loss:', loss)",                           # the tutorial's evaluate
    "print('Test loss: %.4f' % loss)",
    "print(f'Test MAE: {round(loss, 2)}')",
    "print('Mean absolute error on the test set: %.2f MPG' % loss)",
])
def test_a_print_of_evaluates_loss_named_by_its_metric_is_that_result(
        script_print: str, tmp_path: Path) -> None:
    loss = 2.17133
    # evaluate() of a model compiled with loss="mean_absolute_error" (capture/keras_loss.py)
    mae = {**hooked("mae", loss, "test", 1, "keras.evaluate"), "raw_name": "loss"}
    rec = finished(tmp_path, f"fitted\n{_printed(script_print, loss=loss)}\n", [mae])
    assert rec.results == [{**mae, "printed_line": 2}]
    assert rec.extra["printed_metrics"] == [] and rec.extra["printed_lines"] == []
