"""Honest headlines: a score is called held-out only when capture knows the model never
saw the data it was measured on; otherwise the page says what it is.

The scripts below are written the way tutorials write them (evaluating on the training
data, splitting by index, zipping names with classifiers, printing only a report), not
the way we would. One portfolio holding all of them is built once through the real CLI.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from portfolio.provenance import Ledger

from tests.conftest import scripts_portfolio

# The first Keras tutorial: fit on everything, evaluate on the same arrays.
TRAINING_ONLY = textwrap.dedent('''
    import numpy as np
    import keras
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 8)).astype("float32")
    Y = (X[:, 0] + X[:, 1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(12, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(X, Y, epochs=2, batch_size=10, verbose=1)
    _, accuracy = model.evaluate(X, Y)
    print('Accuracy: %.2f' % (accuracy*100))
''')

# MNIST-style: a fixed index split, integer labels, validation_split, Keras' raw names.
INDEX_SPLIT = textwrap.dedent('''
    import numpy as np
    import keras
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.images / 16.0).reshape(-1, 64).astype("float32")
    y = digits.target
    x_train, y_train = x[:1200], y[:1200]
    x_test, y_test = x[1200:], y[1200:]
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["sparse_categorical_accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.1, verbose=2)
    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
''')

# A forecast on sliding windows, split chronologically: persistence is the baseline.
WINDOWS = textwrap.dedent('''
    import numpy as np
    import keras
    t = np.arange(260, dtype="float32")
    series = 50 + 40 * np.sin(t / 8) + np.random.default_rng(1).normal(0, 3, len(t))
    window = 6
    X = np.stack([series[i:i + window] for i in range(len(series) - window)])
    y = series[window:]
    cut = int(len(X) * 0.8)
    trainX, testX, trainY, testY = X[:cut], X[cut:], y[:cut], y[cut:]
    model = keras.Sequential([keras.Input((window,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(loss="mse", optimizer="adam",
                  metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])
    model.fit(trainX, trainY, epochs=2, batch_size=16, verbose=0)
    model.evaluate(testX, testY, verbose=0)
''')

# scikit-learn's classifier comparison: named classifiers × several datasets, clf.score.
COMPARISON = textwrap.dedent('''
    from sklearn.datasets import make_circles, make_classification, make_moons
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    names = ["Nearest Neighbors", "Decision Tree", "Naive Bayes"]
    classifiers = [KNeighborsClassifier(3), DecisionTreeClassifier(max_depth=5, random_state=42),
                   GaussianNB()]
    X, y = make_classification(n_features=2, n_redundant=0, n_informative=2, random_state=1,
                               n_clusters_per_class=1)
    datasets = [make_moons(noise=0.3, random_state=0),
                make_circles(noise=0.2, factor=0.5, random_state=1), (X, y)]
    for ds_cnt, ds in enumerate(datasets):
        X, y = ds
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4,
                                                            random_state=42)
        for name, clf in zip(names, classifiers):
            clf = make_pipeline(StandardScaler(), clf)
            clf.fit(X_train, y_train)
            score = clf.score(X_test, y_test)
''')

# Only a classification report and a confusion matrix, on test predictions.
REPORT_ONLY = textwrap.dedent('''
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import classification_report, confusion_matrix
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_wine()
    X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, test_size=0.3,
                                                        random_state=0, stratify=data.target)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    clf.fit(X_train, y_train)
    predictions = clf.predict(X_test)
    print(confusion_matrix(y_test, predictions))
    print(classification_report(y_test, predictions, target_names=data.target_names))
''')

# Helpers that fit and score on folds or shuffled copies, around one real held-out score.
HELPERS = textwrap.dedent('''
    from sklearn.datasets import load_breast_cancer
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import classification_report
    from sklearn.model_selection import cross_val_predict, learning_curve, train_test_split
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    clf = DecisionTreeClassifier(max_depth=3, random_state=0)
    learning_curve(clf, X_train, y_train, cv=3, train_sizes=[0.5, 1.0])
    print(classification_report(y_train, cross_val_predict(clf, X_train, y_train, cv=3)))
    clf.fit(X_train, y_train)
    print("test accuracy", clf.score(X_test, y_test))
    permutation_importance(clf, X_test, y_test, n_repeats=2, random_state=0)
    clf.fit(X, y)  # the model to ship, refitted on everything
''')

# scikit-learn, fitted and scored on the same data.
SKLEARN_TRAINING_ONLY = textwrap.dedent('''
    from sklearn.datasets import load_iris
    from sklearn.metrics import accuracy_score
    from sklearn.tree import DecisionTreeClassifier
    X, y = load_iris(return_X_y=True)
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    print("accuracy", accuracy_score(y, model.predict(X)))
''')

# The airline-passengers LSTM tutorial: scaled series, look-back windows, predictions
# inverse-transformed, RMSE computed with math.sqrt and printed with its unit after it.
AIRLINE = textwrap.dedent('''
    import math
    import numpy as np
    import keras
    from sklearn.metrics import mean_squared_error
    from sklearn.preprocessing import MinMaxScaler

    def create_dataset(dataset, look_back=1):
        dataX, dataY = [], []
        for i in range(len(dataset) - look_back - 1):
            dataX.append(dataset[i:(i + look_back), 0])
            dataY.append(dataset[i + look_back, 0])
        return np.array(dataX), np.array(dataY)

    t = np.arange(144)
    dataset = (120 + 2 * t + 40 * np.sin(2 * np.pi * t / 12)).astype("float32").reshape(-1, 1)
    scaler = MinMaxScaler(feature_range=(0, 1))
    dataset = scaler.fit_transform(dataset)
    train_size = int(len(dataset) * 0.67)
    train, test = dataset[0:train_size, :], dataset[train_size:len(dataset), :]
    trainX, trainY = create_dataset(train, 1)
    testX, testY = create_dataset(test, 1)
    trainX = np.reshape(trainX, (trainX.shape[0], 1, trainX.shape[1]))
    testX = np.reshape(testX, (testX.shape[0], 1, testX.shape[1]))
    model = keras.Sequential([keras.Input((1, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    model.compile(loss="mean_squared_error", optimizer="adam")
    model.fit(trainX, trainY, epochs=2, batch_size=1, verbose=2)
    trainPredict = model.predict(trainX)
    testPredict = model.predict(testX)
    trainPredict = scaler.inverse_transform(trainPredict)
    trainY = scaler.inverse_transform([trainY])
    testPredict = scaler.inverse_transform(testPredict)
    testY = scaler.inverse_transform([testY])
    trainScore = math.sqrt(mean_squared_error(trainY[0], trainPredict[:, 0]))
    print('Train Score: %.2f RMSE' % (trainScore))
    testScore = math.sqrt(mean_squared_error(testY[0], testPredict[:, 0]))
    print('Test Score: %.2f RMSE' % (testScore))
''')

SCRIPTS = {"airline": AIRLINE, "helpers": HELPERS, "training-only": TRAINING_ONLY,
           "index-split": INDEX_SPLIT, "windows": WINDOWS, "comparison": COMPARISON,
           "report-only": REPORT_ONLY, "sklearn-training-only": SKLEARN_TRAINING_ONLY}


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("honest") / "portfolio"
    scripts_portfolio(root, SCRIPTS)
    return root


def record(root: Path, slug: str) -> dict:
    return json.loads((root / "results" / slug / "run.json").read_text())


def metrics(root: Path, slug: str) -> dict:
    return json.loads((root / "results" / slug / "metrics.json").read_text())


def page(root: Path, slug: str) -> str:
    text = (root / "site" / "projects" / slug / "index.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def home(root: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", (root / "site" / "index.html").read_text()))


# -- pattern 1: a training score is never called held-out ---------------------------------
@pytest.mark.training
def test_evaluate_on_the_training_arrays_is_a_training_score(honest: Path) -> None:
    run = record(honest, "training-only")
    assert {r["split"] for r in run["results"] if r["source"] == "keras.evaluate"} == {"train"}
    assert metrics(honest, "training-only") == {}  # nothing held out
    text = page(honest, "training-only")
    accuracy = next(r["value"] for r in run["results"] if r["name"] == "accuracy")
    assert f"{accuracy * 100:.1f}% training accuracy; no held-out data was set aside" in text
    assert "This project has no held-out result" in text
    assert "held-out data:" not in text and "on held-out data" not in text
    assert "training accuracy; no held-out data was set aside" in home(honest)
    index = yaml.safe_load((honest / "site" / "projects" / "training-only" /
                            "model-index.yaml").read_text())
    assert index["model-index"][0]["results"][0]["metrics"] == []


@pytest.mark.training
def test_a_scikit_learn_score_on_the_fitted_data_is_a_training_score(honest: Path) -> None:
    [result] = [r for r in record(honest, "sklearn-training-only")["results"]
                if r["source"] == "sklearn.metrics.accuracy_score"]
    assert (result["split"], result["model"]) == ("train", "DecisionTreeClassifier")
    assert "training accuracy; no held-out data was set aside" in page(
        honest, "sklearn-training-only")


# -- patterns 6 and 7: a split by index, Keras' raw names ----------------------------------
@pytest.mark.training
def test_an_index_split_is_held_out_described_and_has_a_baseline(honest: Path) -> None:
    run = record(honest, "index-split")
    evaluated = [r for r in run["results"] if r["source"] == "keras.evaluate"]
    assert {r["split"] for r in evaluated} == {"test"}
    accuracy = next(r for r in evaluated if r["raw_name"] == "sparse_categorical_accuracy")
    assert accuracy["name"] == "accuracy"
    [split] = run["splits"]
    assert (split["kind"], split["train_size"], split["test_size"]) == ("arrays", 1200, 597)
    assert split["validation_split"] == pytest.approx(0.1)
    assert sum(split["class_balance"]["test"].values()) == 597
    baseline = run["trivial_baseline"]
    counts = np.bincount(np.asarray([int(k) for k, n in split["class_balance"]["train"].items()
                                     for _ in range(n)]))
    majority = int(np.argmax(counts))
    assert baseline["name"] == f"Always predicts class {majority}"
    assert baseline["metrics"]["accuracy"] == pytest.approx(
        split["class_balance"]["test"][str(majority)] / 597)
    text = page(honest, "index-split")
    assert "1200 training and 597 test samples" in text
    assert "last 10% of the training samples (120 samples) apart for validation" in text
    assert "accuracy on held-out data" in text
    assert "sparse_categorical_accuracy" not in text.split("Reproduce")[0]
    assert f"over Always predicts class {majority}" in text


@pytest.mark.training
def test_a_forecast_on_windows_is_compared_with_persistence(honest: Path) -> None:
    run = record(honest, "windows")
    baseline = run["trivial_baseline"]
    assert baseline["kind"] == "persistence"
    series_rmse = baseline["metrics"]["rmse"]
    assert 0 < series_rmse < 40
    assert {b["kind"] for b in run["trivial_baselines"]} == {"persistence", "mean"}
    text = page(honest, "windows")
    assert "rmse on held-out data" in text and "Persistence forecast" in text


# -- pattern 2 with pattern 7: a printed RMSE of inverse-transformed predictions -----------
@pytest.mark.training
def test_the_airline_tutorials_printed_rmse_is_its_held_out_headline(honest: Path) -> None:
    run = record(honest, "airline")
    log = (honest / "results" / "airline" / "log.txt").read_text()
    printed = {label: float(log.split(f"{label} Score: ")[1].split()[0])
               for label in ("Train", "Test")}
    hooked = [r for r in run["results"] if r["source"] == "sklearn.metrics.mean_squared_error"]
    assert [(r["split"], r["model"]) for r in hooked] == [("train", "sequential"),
                                                         ("test", "sequential")]
    found = metrics(honest, "airline")
    assert found["rmse"] == pytest.approx(printed["Test"], abs=0.006)
    [split] = run["splits"]
    assert (split["kind"], split["train_size"], split["test_size"]) == ("arrays", 94, 46)
    baseline = run["trivial_baseline"]  # the training mean, in passengers, not scaled units
    assert baseline["kind"] == "mean"
    assert 50 < baseline["metrics"]["rmse"] < 200
    text = page(honest, "airline")
    assert f"{found['rmse']:.4g} rmse on held-out data" in text
    assert "lower is better" in text and "higher is better" not in text


@pytest.mark.training
def test_scores_inside_helpers_and_a_final_refit_leave_the_one_held_out_score(
        honest: Path) -> None:
    run = record(honest, "helpers")
    scores = [r for r in run["results"] if r["source"] == "DecisionTreeClassifier.score"]
    assert [(r["split"], r.get("judged")) for r in scores] == [("test", True)]
    log = (honest / "results" / "helpers" / "log.txt").read_text()
    printed = float(log.split("test accuracy ")[1].split()[0])
    assert metrics(honest, "helpers")["accuracy"] == pytest.approx(printed)
    reports = {r["split"] for r in run["results"] if r["source"].endswith("classification_report")}
    assert reports == {"cv"}  # out-of-fold predictions, not held out


# -- pattern 4: many scores, no single headline --------------------------------------------
@pytest.mark.training
def test_a_comparison_of_classifiers_is_a_table_not_a_headline(honest: Path) -> None:
    run = record(honest, "comparison")
    scores = [r for r in run["results"] if r["source"] == "Pipeline.score"]
    assert len(scores) == 9
    assert {r["model"] for r in scores} == {"Nearest Neighbors", "Decision Tree", "Naive Bayes"}
    assert sorted({r["split_index"] for r in scores}) == [0, 1, 2]
    assert run["judged"]["basis"] == "ambiguous"
    assert metrics(honest, "comparison") == {}
    assert len({b["split_index"] for b in run["trivial_baselines"]}) == 3
    raw = html.unescape((honest / "site" / "projects" / "comparison" / "index.html").read_text())
    text = page(honest, "comparison")
    assert "No single result is this project's" in text
    assert "No metrics recorded" not in text
    assert "Accuracy on the test part of each split, by model" in text
    assert "No single headline" in text
    # each classifier's row holds its three scores, in split order
    for name in ("Nearest Neighbors", "Decision Tree", "Naive Bayes"):
        mine = [r["value"] for r in scores if r["model"] == name]
        row = re.search(rf"<td>{name}</td>(.*?)</tr>", raw, re.S).group(1)
        assert [float(v) / 100 for v in re.findall(r"([\d.]+)%", row)] == pytest.approx(
            mine, abs=6e-4)
    trivial = re.search(r"<td>Trivial baseline of each split</td>(.*?)</tr>", raw, re.S).group(1)
    assert len(re.findall(r"%", trivial)) == 3
    assert "3 models compared on 3 splits; no single headline" in home(honest)


# -- pattern 5: a report or a matrix is a result -------------------------------------------
@pytest.mark.training
def test_a_classification_report_alone_gives_accuracy_and_macro_scores(honest: Path) -> None:
    run = record(honest, "report-only")
    found = metrics(honest, "report-only")
    assert set(found) == {"accuracy", "precision", "recall", "f1"}
    [report] = run["reports"]
    assert report["split"] == "test"
    assert set(report["table"]) >= {"class_0", "class_1", "class_2", "macro avg"}
    assert found["f1"] == pytest.approx(report["table"]["macro avg"]["f1-score"])
    [matrix] = run["confusion_matrices"]
    assert found["accuracy"] == pytest.approx(
        np.trace(matrix["matrix"]) / np.sum(matrix["matrix"]))
    text = page(honest, "report-only")
    assert "accuracy on held-out data" in text
    assert "Confusion matrix on the test data" in text


# -- the ledger's rules, without a child process -------------------------------------------
class Model:
    """Any object stands for a model: the ledger only tells them apart by identity."""


def placed(ledger: Ledger) -> list[str]:
    ledger.resolve()
    return [s.entries[0]["split"] for s in ledger.scorings]


def test_rows_seen_in_training_make_a_training_score_whatever_the_array() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(100, 4)), rng.integers(0, 2, 100)
    model, ledger = Model(), Ledger()
    ledger.trained(model, "m", "keras", x[:80], y[:80])
    ledger.scored([{}], model, "m", "keras", x[:80].copy(), y[:80])       # a copy: same rows
    ledger.scored([{}], model, "m", "keras", x[80:], y[80:])              # never seen
    ledger.scored([{}], model, "m", "keras", x[40:], y[40:])              # two thirds seen
    ledger.scored([{}], model, "m", "keras", x[70:], y[70:])              # a third seen
    assert placed(ledger) == ["train", "test", "train", "mixed"]


def test_a_prediction_rescaled_back_is_traced_to_its_model() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(60, 3)), rng.normal(size=60)
    model, ledger = Model(), Ledger()
    ledger.trained(model, "lstm", "keras", x[:40], y[:40])
    prediction = rng.normal(size=(20, 1))
    ledger.predicted(model, "lstm", "keras", x[40:], prediction)
    train_prediction = rng.normal(size=(40, 1))
    ledger.predicted(model, "lstm", "keras", x[:40], train_prediction)
    # scaler.inverse_transform(...) then mean_squared_error(...), as the airline tutorial
    ledger.scored([{}], y=y[40:] * 7 + 3, y_pred=prediction[:, 0] * 7 + 3)
    ledger.scored([{}], y=y[:40] * 7 + 3, y_pred=train_prediction[:, 0] * 7 + 3)
    ledger.scored([{}], y=y[40:] * 7 + 3, y_pred=rng.normal(size=20))  # traced to nothing
    assert placed(ledger) == ["test", "train", "test"]
    assert [s.entries[0]["model"] for s in ledger.scorings] == ["lstm", "lstm", None]


def test_labels_cut_from_a_sigmoid_and_argmax_of_softmax_are_traced() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 3))
    model, ledger = Model(), Ledger()
    ledger.trained(model, "mlp", "keras", x[:30], rng.integers(0, 2, 30))
    sigmoid = rng.uniform(size=(20, 1))
    ledger.predicted(model, "mlp", "keras", x[30:], sigmoid)
    ledger.scored([{}], y=rng.integers(0, 2, 20), y_pred=(sigmoid[:, 0] > 0.5).astype(int))
    softmax = rng.dirichlet(np.ones(3), size=20)
    ledger.predicted(model, "mlp", "keras", x[:20], softmax)
    ledger.scored([{}], y=rng.integers(0, 3, 20), y_pred=softmax.argmax(axis=1))
    assert placed(ledger) == ["test", "train"]


def test_validation_data_is_neither_test_nor_training() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(90, 2)), rng.integers(0, 2, 90)
    model, ledger = Model(), Ledger()
    ledger.trained(model, "m", "keras", x[:60], y[:60], validation=x[60:75])
    ledger.scored([{}], model, "m", "keras", x[60:75], y[60:75])
    ledger.scored([{}], model, "m", "keras", x[75:], y[75:])
    assert placed(ledger) == ["validation", "test"]


def test_a_refit_on_everything_after_the_score_does_not_make_it_a_training_score() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(100, 3)), rng.integers(0, 2, 100)
    model, ledger = Model(), Ledger()
    ledger.trained(model, "svc", "sklearn", x[:70], y[:70])
    ledger.scored([{}], model, "svc", "sklearn", x[70:], y[70:])
    ledger.trained(model, "svc", "sklearn", x, y)  # the final model, refitted on all data
    assert placed(ledger) == ["test"]


def test_the_test_part_of_a_split_is_held_out_even_when_its_rows_repeat() -> None:
    # Categorical features: few distinct rows, so test rows equal training rows by value.
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 2, size=(200, 3)), rng.integers(0, 2, 200)
    model, ledger = Model(), Ledger()
    ledger.split(0, [x[:150], x[150:], y[:150], y[150:]])
    ledger.trained(model, "tree", "sklearn", x[:150], y[:150])
    ledger.scored([{}], model, "tree", "sklearn", x[150:], y[150:])
    assert placed(ledger) == ["test"]


def test_two_models_agreeing_on_the_labels_leave_the_score_to_its_own_object() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(40, 2)), rng.integers(0, 2, 40)
    first, second, ledger = Model(), Model(), Ledger()
    for model, name in ((first, "lr"), (second, "knn")):
        ledger.trained(model, name, "sklearn", x[:30], y[:30])
    labels = y[30:].copy()
    mine = labels.copy()
    ledger.predicted(first, "lr", "sklearn", x[30:], mine)
    ledger.predicted(second, "knn", "sklearn", x[30:], labels.copy())  # same values
    ledger.scored([{}], y=y[30:], y_pred=mine)  # the very array the first model returned
    ledger.scored([{}], y=y[30:], y_pred=list(labels))  # a copy: either model could be it
    ledger.resolve()
    assert [s.entries[0]["model"] for s in ledger.scorings] == ["lr", None]


def test_a_probability_column_is_traced_and_out_of_fold_predictions_are_cv() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(60, 2)), rng.integers(0, 2, 60)
    model, ledger = Model(), Ledger()
    ledger.trained(model, "gs", "sklearn", x[:40], y[:40])
    proba = rng.dirichlet(np.ones(2), size=20)
    ledger.predicted(model, "gs", "sklearn", x[40:], proba)
    ledger.scored([{}], y=y[40:], y_pred=proba[:, 1])  # roc_auc_score(y, proba[:, 1])
    folds = rng.integers(0, 2, 60)
    ledger.predicted(None, "cross_val_predict", "sklearn", None, folds)
    ledger.scored([{}], y=y, y_pred=folds)  # classification_report on out-of-fold labels
    assert placed(ledger) == ["test", "cv"]
    assert ledger.scorings[0].entries[0]["model"] == "gs"


def test_fingerprints_of_an_image_set_are_read_a_chunk_at_a_time() -> None:
    from portfolio.provenance import fingerprint

    images = np.random.default_rng(8).integers(0, 255, size=(5000, 28, 28), dtype=np.uint8)
    whole, part = fingerprint(images), fingerprint(images[:2500])
    assert whole.shape == (5000, 28, 28) and part.rows <= whole.rows
    assert fingerprint(images.astype(np.int64)).digest == whole.digest  # same numbers
    assert fingerprint(images[::-1]).digest != whole.digest
