"""Results named by what they measure (issue 24, patterns 4 and 10).

``evaluate()`` of a model compiled with ``loss="mean_absolute_error"`` and no metrics
returns the test MAE under the name ``loss``: it is recorded as ``mae`` and compared with
the mean predictor's MAE. A script that prints a hooked score under no metric's name
("model score: 0.744") printed that result, and a line that counts batches is no score.
The scripts are written as the tutorials write them; one portfolio holding both is built
once through the real CLI.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from pathlib import Path

import pytest
from portfolio import views

from tests.conftest import scripts_portfolio

# TensorFlow's "Basic regression: Predict fuel efficiency", shrunk: a DataFrame split by
# sample/drop, one normalized column, an MAE loss and no metrics.
HORSEPOWER = textwrap.dedent('''
    import numpy as np
    import pandas as pd
    import tensorflow as tf
    from tensorflow.keras import layers

    rng = np.random.default_rng(0)
    horsepower = rng.uniform(50, 230, 200).round()
    dataset = pd.DataFrame({"MPG": 45 - 0.15 * horsepower + rng.normal(0, 3, 200),
                            "Horsepower": horsepower, "Weight": rng.uniform(1600, 5000, 200)})
    train_dataset = dataset.sample(frac=0.8, random_state=0)
    test_dataset = dataset.drop(train_dataset.index)
    train_features = train_dataset.copy()
    test_features = test_dataset.copy()
    train_labels = train_features.pop("MPG")
    test_labels = test_features.pop("MPG")

    horsepower_normalizer = layers.Normalization(input_shape=[1], axis=None)
    horsepower_normalizer.adapt(np.array(train_features["Horsepower"]))
    horsepower_model = tf.keras.Sequential([horsepower_normalizer, layers.Dense(units=1)])
    horsepower_model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.1),
                             loss="mean_absolute_error")
    history = horsepower_model.fit(train_features["Horsepower"], train_labels, epochs=2,
                                   verbose=0, validation_split=0.2)
    test_results = {}
    test_results["horsepower_model"] = horsepower_model.evaluate(
        test_features["Horsepower"], test_labels, verbose=0)
    print(test_results)
''')

# scikit-learn's gallery "Column Transformer with Mixed Types", shrunk.
MODEL_SCORE = textwrap.dedent('''
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.normal(30, 10, 300), "fare": rng.exponential(30, 300),
                      "sex": rng.choice(["male", "female"], 300)})
    y = ((X["sex"] == "female") ^ (rng.random(300) < 0.25)).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    print("Number of samples in the test set: %d" % len(X_test))
    clf = Pipeline(steps=[
        ("preprocessor", ColumnTransformer([("num", StandardScaler(), ["age", "fare"]),
                                            ("cat", OneHotEncoder(), ["sex"])])),
        ("classifier", LogisticRegression())])
    clf.fit(X_train, y_train)
    print("model score: %.3f" % clf.score(X_test, y_test))
''')


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("named") / "portfolio"
    scripts_portfolio(root, {"horsepower": HORSEPOWER, "model-score": MODEL_SCORE})
    return root


def record(root: Path, slug: str) -> dict:
    return json.loads((root / "results" / slug / "run.json").read_text())


def page(root: Path, slug: str) -> str:
    text = (root / "site" / "projects" / slug / "index.html").read_text(encoding="utf-8")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


# -- pattern 4: evaluate() with no metrics returns the loss, named by the compiled loss ----
@pytest.mark.training
def test_evaluates_loss_is_named_by_the_compiled_loss(named: Path) -> None:
    run = record(named, "horsepower")
    [result] = [r for r in run["results"] if r["source"] == "keras.evaluate"]
    assert (result["name"], result["raw_name"]) == ("mae", "loss")
    [evaluation] = run["evaluations"]
    assert result["value"] == evaluation["metrics"]["loss"]  # Keras' own record is kept
    assert run["fits"][0]["loss"] == "mean_absolute_error"
    metrics = json.loads((named / "results" / "horsepower" / "metrics.json").read_text())
    assert metrics == {"mae": result["value"]}


@pytest.mark.training
def test_the_named_loss_is_compared_with_the_mean_predictors_mae(named: Path) -> None:
    run = record(named, "horsepower")
    [result] = [r for r in run["results"] if r["source"] == "keras.evaluate"]
    assert (result["split"], result.get("judged")) == ("test", True)
    baseline = run["trivial_baseline"]
    assert baseline["kind"] == "mean" and baseline["test_size"] == 40
    text = page(named, "horsepower")
    assert f"{views.fmt('mae', result['value'])} mae" in text
    assert "Judged by: mae on held-out data, lower is better" in text
    mean = views.fmt("mae", baseline["metrics"]["mae"])
    assert f"Held-out test metrics: Metric Score Measured by mae " \
           f"{views.fmt('mae', result['value'])} keras.evaluate" in text  # not "loss"
    assert f"Compared with its baseline on mae: Baseline Score This model Source Always " \
           f"predicts the training mean (trivial) {mean} " in text


# -- pattern 10: printed lines ---------------------------------------------------------
@pytest.mark.training
def test_a_printed_repeat_of_a_hooked_score_is_that_result_on_the_page(named: Path) -> None:
    run = record(named, "model-score")
    log = (named / "results" / "model-score" / "log-clean.txt").read_text().splitlines()
    [score] = [r for r in run["results"] if r["source"] == "Pipeline.score"]
    assert log[score["printed_line"] - 1] == f"model score: {score['value']:.3f}"
    assert run["printed_lines"] == []  # neither the score nor the count is left over
    text = page(named, "model-score")
    assert "Printed by the script" not in text and "Number of samples" not in text
    assert re.search(rf"accuracy {re.escape(views.fmt('accuracy', score['value']))} "
                     rf"Pipeline.score; printed on line {score['printed_line']} of the log",
                     text)


# What capture/keras_loss.py takes for a metric, checked in a child (the test process
# never imports TensorFlow): a Keras loss with its default arguments, averaged, alone.
LOSSES = textwrap.dedent('''
    import json
    import keras
    from portfolio.capture.keras_loss import loss_metric

    def mean_absolute_error(y_true, y_pred):  # the script's own: could be anything
        return keras.ops.mean(keras.ops.abs(y_true - y_pred)) * 2

    def named(loss, regularizer=None, **compile_args):
        model = keras.Sequential([keras.Input((3,)),
                                  keras.layers.Dense(1, kernel_regularizer=regularizer)])
        model.compile(loss=loss, **compile_args)
        return loss_metric(model)

    losses = keras.losses
    print(json.dumps([
        named("mean_absolute_error"), named("mae"), named("mse"),
        named(losses.MeanAbsoluteError()), named(losses.mean_absolute_error),
        named("binary_crossentropy"), named(losses.BinaryCrossentropy(from_logits=True)),
        named("sparse_categorical_crossentropy"), named("huber"), named(losses.Huber()),
        named(losses.BinaryCrossentropy(label_smoothing=0.1)), named(losses.Huber(delta=2.0)),
        named(losses.MeanAbsoluteError(reduction="sum")), named("mae", regularizer="l2"),
        named("mae", loss_weights=2.0), named(mean_absolute_error), named("hinge"),
        named(None)]))
''')


@pytest.mark.cli
def test_a_loss_is_a_metric_only_with_its_defaults_and_nothing_added(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", LOSSES], capture_output=True, text=True,
                            timeout=300, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [
        "mae", "mae", "mse", "mae", "mae",
        "binary_crossentropy", "binary_crossentropy",  # from logits: the same cross-entropy
        "categorical_crossentropy", "huber", "huber",  # integer labels or one-hot: the same
        None, None,    # label smoothing, another delta: another number than the metric
        None, None,    # a sum, not a mean; an L2 penalty added to the loss
        None, None,    # a loss weight; a function of the script's own
        None, None]    # a loss that is no metric of ours; no loss at all


def test_evaluate_measuring_the_metric_too_keeps_the_loss_as_loss() -> None:
    from portfolio.capture.keras_loss import name_the_loss

    evaluation = {"index": 0, "metrics": {"loss": 2.0, "mean_absolute_error": 2.0}}
    loss = {"name": "loss", "raw_name": "loss", "value": 2.0}
    mae = {"name": "mae", "raw_name": "mean_absolute_error", "value": 2.0}
    name_the_loss([evaluation, loss, mae], "mae")  # compile(loss="mae", metrics=["mae"])
    assert loss["name"] == "loss"
    name_the_loss([evaluation, loss], None)  # a loss that is no metric
    assert loss["name"] == "loss"
    name_the_loss([evaluation, loss], "mae")
    assert (loss["name"], loss["raw_name"]) == ("mae", "loss")
