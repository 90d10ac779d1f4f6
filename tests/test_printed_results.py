"""Honest headlines from scripts that print their scores and search over several metrics.

The scripts are written the way tutorials and scikit-learn's gallery write them; each
dumps what scikit-learn itself computed to ``truth.json`` so the tests compare capture
with it instead of with constants.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
from portfolio import printed as reader
from portfolio.record import RunRecord
from portfolio.results import CAPTURE_ERRORS as ERRORS_FILE

from tests.conftest import copy_portfolio, make_project, portfolio_cli, run_child, run_record

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "generator" / "portfolio" /
                     "run.schema.json").read_text())

# scikit-learn's gallery "Custom refit strategy of a grid search with cross-validation",
# shrunk: two scorers, the refit callable prints every candidate with ± spreads.
MULTI_METRIC = textwrap.dedent('''
    import json
    from sklearn.datasets import load_iris
    from sklearn.metrics import accuracy_score, make_scorer
    from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split
    from sklearn.svm import SVC

    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    grid = {"C": [0.1, 1, 10], "kernel": ["linear", "rbf"]}

    def refit_strategy(cv_results):
        print("All grid-search results:")
        for p, sp, r, sr, params in zip(
                cv_results["mean_test_precision_macro"], cv_results["std_test_precision_macro"],
                cv_results["mean_test_recall_macro"], cv_results["std_test_recall_macro"],
                cv_results["params"]):
            print(f"precision: {p:0.3f} (±{sp:0.03f}), recall: {r:0.3f} (±{sr:0.03f}),"
                  f" for {params}")
        return int(cv_results["mean_test_recall_macro"].argmax())

    by_name = GridSearchCV(SVC(), grid, scoring=["precision_macro", "recall_macro"],
                           refit="precision_macro", cv=3).fit(X_train, y_train)
    by_callable = GridSearchCV(SVC(), grid, cv=3, refit=refit_strategy, scoring={
        "precision_macro": "precision_macro", "recall_macro": "recall_macro",
        "Accuracy": make_scorer(accuracy_score)}).fit(X_train, y_train)
    print("Best parameters:", by_callable.best_params_)
    folds = cross_validate(SVC(), X_train, y_train, cv=3, scoring=["accuracy", "f1_macro"])
    print("Accuracy: %.3f (+/- %.3f)" % (folds["test_accuracy"].mean(),
                                         folds["test_accuracy"].std()))
    test_accuracy = accuracy_score(y_test, by_callable.predict(X_test))
    print("Test accuracy: %.4f" % test_accuracy)

    def ranking(search, scorer):
        r = search.cv_results_
        return {"best_mean": float(r[f"mean_test_{scorer}"].max()),
                "best_params": r["params"][int(r[f"rank_test_{scorer}"].argmin())]}

    json.dump({"by_name": {s: ranking(by_name, s) for s in ("precision_macro", "recall_macro")},
               "by_name_best": by_name.best_params_, "by_callable_index": by_callable.best_index_,
               "by_callable": {s: ranking(by_callable, s)
                               for s in ("precision_macro", "recall_macro", "Accuracy")},
               "folds": {k: v.tolist() for k, v in folds.items() if k.startswith("test_")},
               "test_accuracy": test_accuracy}, open("truth.json", "w"))
''')


def placed(out: Path) -> dict:
    """The child's record once the parent has placed its line numbers in ``log.txt``."""
    record = RunRecord.read(out / "run.json")
    reader.place_in_log(record, out)
    return json.loads(record.to_json())


@pytest.fixture(scope="module")
def multi_metric(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, Path]:
    project = tmp_path_factory.mktemp("multi") / "project"
    out = run_child(MULTI_METRIC, project)
    record = placed(out)  # what the parent does when it keeps the run
    return record, json.loads((project / "truth.json").read_text()), out


@pytest.mark.training
def test_every_scorer_of_a_multi_metric_search_is_ranked(multi_metric: tuple) -> None:
    record, truth, _ = multi_metric
    by_name = record["searches"][0]
    assert [s["name"] for s in by_name["scorers"]] == ["precision_macro", "recall_macro"]
    for scorer in by_name["scorers"]:
        expected = truth["by_name"][scorer["name"]]
        assert scorer["best_mean"] == pytest.approx(expected["best_mean"])
        assert scorer["top"][0]["mean"] == pytest.approx(expected["best_mean"])
        assert scorer["top"][0]["params"] == expected["best_params"]
        assert len(scorer["top"]) == 6 and all(t["std"] is not None for t in scorer["top"])
        assert scorer["refit"] is (scorer["name"] == "precision_macro")
    assert (by_name["refit"], by_name["best_params"]) == ("precision_macro",
                                                          truth["by_name_best"])
    assert by_name["scoring"] == "precision_macro, recall_macro"
    assert by_name["best_score"] == pytest.approx(truth["by_name"]["precision_macro"]["best_mean"])


@pytest.mark.training
def test_a_callable_refit_is_named_and_its_best_index_kept(multi_metric: tuple) -> None:
    record, truth, _ = multi_metric
    search = record["searches"][1]
    assert search["refit"] == "callable refit_strategy"
    assert search["best_index"] == truth["by_callable_index"]
    assert search["best_score"] is None  # scikit-learn defines none for a callable refit
    assert {s["name"]: s["best_mean"] for s in search["scorers"]} == pytest.approx(
        {name: r["best_mean"] for name, r in truth["by_callable"].items()})
    assert not any(s["refit"] for s in search["scorers"])


@pytest.mark.training
def test_cross_validate_keeps_every_scorers_folds(multi_metric: tuple) -> None:
    record, truth, _ = multi_metric
    [check] = record["spot_checks"]
    assert {s["name"]: s["scores"] for s in check["scorers"]} == {
        k.removeprefix("test_"): v for k, v in truth["folds"].items()}
    assert check["metric"] == "accuracy"
    assert check["scores"] == pytest.approx(truth["folds"]["test_accuracy"])


@pytest.mark.training
def test_lines_printed_in_a_search_are_cv_and_a_repeated_test_score_is_the_hooked_one(
        multi_metric: tuple) -> None:
    record, truth, out = multi_metric
    lines = reader.clean((out / "log.txt").read_bytes().decode()).splitlines()
    printed = [r for r in record["results"] if r["source"] == "output"]
    assert {(r["name"], r["split"]) for r in printed} == {
        ("precision", "cv"), ("recall", "cv"), ("accuracy", "cv")}
    for result in printed:
        assert result["raw_name"] in lines[result["line"] - 1]
    [hooked] = [r for r in record["results"] if r["source"] == "sklearn.metrics.accuracy_score"]
    assert hooked["value"] == pytest.approx(truth["test_accuracy"])
    assert hooked["split"] == "test"
    assert lines[hooked["printed_line"] - 1].startswith("Test accuracy: ")
    assert record["printed_metrics"] == []  # nothing printed became a held-out result


@pytest.mark.training
def test_log_lines_stamp_where_each_event_happened(multi_metric: tuple) -> None:
    record, _, out = multi_metric
    lines = reader.clean((out / "log.txt").read_bytes().decode()).splitlines()
    by_name, by_callable = record["searches"]
    assert by_name["log_line_start"] == by_name["log_line"] == 0  # it printed nothing
    inside = lines[by_callable["log_line_start"]:by_callable["log_line"]]
    assert inside[0] == "All grid-search results:" and len(inside) == 1 + 6
    [check] = record["spot_checks"]
    assert lines[check["log_line"] - 1].startswith("Best parameters:")


@pytest.mark.training
def test_a_multi_metric_run_warns_of_nothing_and_leaves_the_log_alone(
        multi_metric: tuple) -> None:
    record, _, out = multi_metric
    assert record["capture_warnings"] == []
    assert not (out / ERRORS_FILE).exists()
    log = (out / "log.txt").read_text()
    assert "Traceback" not in log and "portfolio" not in log
    jsonschema.validate(record, SCHEMA)


# A user's estimator with a property capture reads and cannot get: a capturer fails.
ODD_CAPTURE = textwrap.dedent('''
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    class Odd(LogisticRegression):
        @property
        def steps(self):
            raise RuntimeError("steps are private here")

    X, y = load_iris(return_X_y=True)
    scores = cross_val_score(Odd(max_iter=500), X, y, cv=3)
    print("folds", len(scores))
''')
ODD_WARNING = "cross_val_score capture: RuntimeError: steps are private here"


@pytest.mark.training
def test_a_failing_capturer_writes_its_traceback_beside_run_json_not_in_the_log(
        tmp_path: Path) -> None:
    out = run_child(ODD_CAPTURE, tmp_path / "project")
    record = run_record(out)
    assert record["status"] == "ok"
    assert record["capture_warnings"] == [ODD_WARNING]
    errors = (out / ERRORS_FILE).read_text()
    assert "Traceback" in errors and "RuntimeError: steps are private here" in errors
    log = (out / "log.txt").read_text()
    assert log == "folds 3\n"


RMSE_SCRIPT = textwrap.dedent('''
    import numpy as np
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = X @ np.array([30.0, -20.0]) + rng.normal(scale=50.0, size=80)
    model = LinearRegression().fit(X[:60], y[:60])
    rmse = np.sqrt(np.mean((y[60:] - model.predict(X[60:])) ** 2))
    print('Test Score: %.2f RMSE' % rmse)
''')
SCORE_ONLY = "print('Loading data')\nprint('Score: 0.93')\n"
SEARCH_TWO_SCORERS = textwrap.dedent('''
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVC

    X, y = load_iris(return_X_y=True)
    GridSearchCV(SVC(), {"C": [0.1, 10]}, scoring=["precision_macro", "recall_macro"],
                 refit="recall_macro", cv=3).fit(X, y)
''')


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = copy_portfolio("tiny", tmp_path_factory.mktemp("printed") / "tiny")
    make_project(root, "printed-rmse", RMSE_SCRIPT)
    make_project(root, "score-only", SCORE_ONLY)
    make_project(root, "odd-capture", ODD_CAPTURE)
    make_project(root, "two-scorers", SEARCH_TWO_SCORERS)
    result = portfolio_cli("build", "printed-rmse", "score-only", "odd-capture", "two-scorers",
                           cwd=root)
    assert result.returncode == 0, result.stderr
    return root, result.stderr


def page(root: Path, slug: str) -> str:
    text = (root / "site" / "projects" / slug / "index.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@pytest.mark.cli
def test_a_printed_rmse_is_judged_as_rmse_lower_is_better(built: tuple) -> None:
    root, _ = built
    log = (root / "results" / "printed-rmse" / "log.txt").read_text()
    rmse = float(log.split("Test Score: ")[1].split()[0])
    run = json.loads((root / "results" / "printed-rmse" / "run.json").read_text())
    assert [(r["name"], r["value"], r["split"]) for r in run["results"]
            if r["source"] == "output"] == [("rmse", rmse, "printed")]
    # printed, not measured by capture: no held-out result, a labelled headline
    assert json.loads((root / "results" / "printed-rmse" / "metrics.json").read_text()) == {}
    text = page(root, "printed-rmse")
    assert re.search(r"Judged by:\s*rmse on data not verified as held-out, lower is better",
                     text)
    assert "from output (line" in text
    assert "higher is better" not in text


@pytest.mark.cli
def test_a_score_naming_no_metric_is_shown_as_printed_with_no_headline(built: tuple) -> None:
    root, _ = built
    run = json.loads((root / "results" / "score-only" / "run.json").read_text())
    assert run["results"] == [] and run["printed_lines"][0]["text"] == "Score: 0.93"
    assert json.loads((root / "results" / "score-only" / "metrics.json").read_text()) == {}
    text = page(root, "score-only")
    assert "Printed by the script" in text and "Score: 0.93" in text
    assert "Judged by" not in text


@pytest.mark.cli
def test_capture_warnings_are_in_the_build_summary_and_on_the_page(built: tuple) -> None:
    root, stderr = built
    assert f"odd-capture: 1 capture warning: {ODD_WARNING}" in stderr
    assert "capture warning" not in stderr.replace("odd-capture: 1 capture warning", "")
    text = page(root, "odd-capture")
    assert "Capture warnings" in text and ODD_WARNING in text
    assert "Capture warnings" not in page(root, "printed-rmse")
    assert (root / "results" / "odd-capture" / ERRORS_FILE).is_file()
    assert not (root / "site" / "projects" / "odd-capture" / ERRORS_FILE).exists()
    assert "steps are private" not in (root / "results" / "odd-capture" / "log.txt").read_text()


def test_the_line_counter_forwards_every_byte_and_counts_newlines() -> None:
    import io

    from portfolio.child import _CountingStream
    from portfolio.printed import OutputLines

    writes = ["Epoch 1/2\n", " 1/4 [>...] - loss: 0.9\r 4/4 [====] - loss: 0.4", "\b\b\bx\n",
              "no newline yet", "\n"]
    plain, counted_bytes = io.BytesIO(), io.BytesIO()
    direct = io.TextIOWrapper(plain, encoding="utf-8", write_through=True)
    lines = OutputLines()
    proxy = _CountingStream(io.TextIOWrapper(counted_bytes, encoding="utf-8",
                                             write_through=True), lines)
    for text in writes:
        direct.write(text)
        print(text, end="", file=proxy, flush=True)
    proxy.writelines(["a\n", "b\n"])
    direct.writelines(["a\n", "b\n"])
    assert counted_bytes.getvalue() == plain.getvalue()
    assert lines.count == plain.getvalue().count(b"\n") == 5
    assert lines.snapshot() == (5, "b")
    proxy.write("b\nc")  # the last complete line, whatever the writes' boundaries
    assert lines.snapshot() == (6, "b")
    proxy.write("d\n")
    assert lines.snapshot() == (7, "cd")
    assert (proxy.encoding, proxy.isatty(), proxy.buffer) == ("utf-8", False, counted_bytes)


KERAS_VERBOSE = textwrap.dedent('''
    import numpy as np
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x[:48], y[:48], epochs=2, batch_size=16, verbose=1)
    loss, accuracy = model.evaluate(x[48:], y[48:], verbose=1)
    print("Test accuracy: %.4f" % accuracy)
''')


def run_child_merged(script: str, folder: Path) -> Path:
    """Like the parent: stdout and stderr on one pipe, the bytes kept as they came (text
    mode would turn Keras' carriage returns into newlines)."""
    folder.mkdir(parents=True)
    out = folder.parent / "out"
    out.mkdir()
    (folder / "train.py").write_text(script)
    env = {**os.environ, "PORTFOLIO_OUT": str(out), "PYTHONUNBUFFERED": "1"}
    result = subprocess.run([sys.executable, "-m", "portfolio.child", "train.py"], cwd=folder,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=300, check=False)
    (out / "log.txt").write_bytes(result.stdout)
    assert result.returncode == 0, result.stdout.decode()
    return out


@pytest.mark.cli
def test_keras_progress_bars_still_draw_and_events_land_on_their_log_line(
        tmp_path: Path) -> None:
    out = run_child_merged(KERAS_VERBOSE, tmp_path / "project")
    record = run_record(out)
    raw = (out / "log.txt").read_bytes().decode()
    assert "Epoch 2/2" in raw and "\r" in raw  # Keras redraws its bar, as without capture
    lines = reader.clean(raw).splitlines()
    # TensorFlow's C++ start-up lines bypass sys.stderr: the parent realigns the stamps.
    # Keras ends evaluate's bar after its callbacks: the last line done is fit's last bar.
    fit_bar = lines.index("Epoch 2/2") + 2
    test_line = next(n for n, line in enumerate(lines, 1) if line.startswith("Test accuracy"))
    assert record["evaluations"][0]["log_line"] < fit_bar  # counted through Python only
    record = placed(out)
    [evaluation] = record["evaluations"]
    assert evaluation["log_line"] == fit_bar and re.match(r"\s*3/3 ", lines[fit_bar - 1])
    [accuracy] = [r for r in record["results"] if r["name"] == "accuracy"]
    assert (accuracy["split"], accuracy["printed_line"]) == ("test", test_line)
    assert "log_anchors" not in record


@pytest.mark.cli
def test_a_multi_metric_search_page_names_every_scorer_and_the_refit_one(built: tuple) -> None:
    root, _ = built
    [search] = json.loads((root / "results" / "two-scorers" / "run.json").read_text())["searches"]
    best = ", ".join(f"{s['name']} {s['best_mean']:.3f}" for s in search["scorers"])
    text = " ".join(page(root, "two-scorers").split())
    assert f"Best mean per scorer: {best}." in text
    assert "chosen by recall_macro; the table ranks by recall_macro" in text


AIRLINE_SHAPED = textwrap.dedent('''
    import math
    import numpy as np
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_squared_error

    x = np.arange(60, dtype=float).reshape(-1, 1)
    y = 3 * x[:, 0] + np.sin(x[:, 0]) * 5
    train_x, test_x, train_y, test_y = x[:40], x[40:], y[:40], y[40:]
    model = LinearRegression().fit(train_x, train_y)
    print("Train Score: %.2f RMSE" % math.sqrt(mean_squared_error(train_y, model.predict(train_x))))
    print("Test Score: %.2f RMSE" % math.sqrt(mean_squared_error(test_y, model.predict(test_x))))
''')


@pytest.mark.cli
def test_the_child_reads_printed_results_and_the_parent_never_rewrites_metrics_json(
        tmp_path: Path) -> None:
    out = run_child_merged(AIRLINE_SHAPED, tmp_path / "project")
    written = (out / "metrics.json").read_bytes()
    # The printed RMSE (the root of the hooked MSE) is already the child's result.
    assert set(json.loads(written)) == {"mse", "rmse"}
    record = run_record(out)
    assert "printed_metrics" in record and "log_anchors" in record
    record = placed(out)
    assert (out / "metrics.json").read_bytes() == written
    [test_root] = [r for r in record["results"] if r["name"] == "rmse" and r["split"] == "test"]
    lines = (out / "log-clean.txt").read_text().splitlines()
    assert lines[test_root["printed_line"] - 1].startswith("Test Score:")


def test_the_child_keeps_the_head_and_tail_of_a_huge_output_with_true_line_numbers() -> None:
    lines = reader.OutputLines()
    lines._HEAD = lines._TAIL = 100  # as if the script printed many megabytes
    for n in range(1, 1001):  # writes that split lines, as print(..., end="") does
        lines.add("line ")
        lines.add(f"{n}\n")
    kept = lines.lines()
    assert kept[0] == (1, "line 1") and kept[-1] == (1001, "")
    assert all(text == f"line {number}" for number, text in kept[:-1])
    assert len(kept) < 100 and lines.count == 1000


def test_a_stamp_whose_line_is_not_in_the_log_keeps_the_childs_count(tmp_path: Path) -> None:
    (tmp_path / "log.txt").write_text("C++ start-up line\nfirst\nsecond\n")
    record = RunRecord.model_validate({
        "status": "ok", "log_anchors": {"1": "first", "2": "a line that is not there"},
        "results": [{"name": "mse", "value": 1.0, "source": "x", "log_line": 1},
                    {"name": "mae", "value": 1.0, "source": "x", "log_line": 2}]})
    reader.place_in_log(record, tmp_path)
    # One line below Python pushed "first" down by one; the other count moves as much.
    assert [r.log_line for r in record.results] == [2, 3]
    assert record.log_anchors is None and "log_anchors" not in record.to_json()
