"""Every real script gets the right label and a trivial baseline on the same data.

The scripts below have the shapes public tutorials and notebooks have (an OpenML-style
DataFrame with text, NaN and a categorical target; a one-column model on a column that
repeats its values; a reloaded best checkpoint; a ``tf.data`` test set; cross-validation
only; scoring on the training data; several models compared on the training data; a
fit whose only scores are its validation scores), with tiny data. One portfolio holds
them all and is built once through the real CLI; each test reads what it produced.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from portfolio.provenance import Ledger

from tests.conftest import Built, scripts_portfolio

# fetch_openml(as_frame=True): a DataFrame with text and NaN columns, a categorical target
# of strings, a ColumnTransformer pipeline, a stratified split, clf.score on the test part.
CATEGORICAL = textwrap.dedent('''
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({
        "age": rng.integers(18, 70, n).astype(float),
        "checking_status": rng.choice(["<0", "0<=X<200", ">=200", "no checking"], n),
        "purpose": rng.choice(["radio/tv", "new car", "furniture", None], n),
        "credit_amount": rng.normal(3000, 900, n),
    })
    X.loc[rng.random(n) < 0.1, "age"] = np.nan
    good = (X["credit_amount"] < 3100) | (X["checking_status"] == "no checking")
    y = pd.Series(pd.Categorical(np.where(good, "good", "bad")), name="class")

    numeric = ["age", "credit_amount"]
    categorical = ["checking_status", "purpose"]
    preprocessor = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), numeric),
        ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                          ("onehot", OneHotEncoder(handle_unknown="ignore"))]), categorical),
    ])
    clf = Pipeline([("preprocessor", preprocessor), ("classifier", LogisticRegression())])
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    clf.fit(X_train, y_train)
    print("model score: %.3f" % clf.score(X_test, y_test))
''')

# A numeric X with a categorical y of strings, accuracy_score on the predictions.
NUMERIC_X_CATEGORICAL_Y = textwrap.dedent('''
    import pandas as pd
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    X = data.data
    y = pd.Series(pd.Categorical.from_codes(data.target, data.target_names))
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(X_train, y_train)
    print("Accuracy:", accuracy_score(y_test, model.predict(X_test)))
''')

# One column with many repeated values, split by DataFrame.sample / drop, then handed to the
# model as NumPy copies (no lineage left): the test rows equal training rows by value only.
REPEATED_VALUES = textwrap.dedent('''
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_absolute_error

    rng = np.random.default_rng(3)
    dataset = pd.DataFrame({"Horsepower": rng.choice([70, 75, 88, 90, 95, 100, 110, 150], 400)})
    dataset["MPG"] = 50 - 0.15 * dataset["Horsepower"] + rng.normal(0, 2, 400)
    train_dataset = dataset.sample(frac=0.8, random_state=0)
    test_dataset = dataset.drop(train_dataset.index)

    horsepower_model = LinearRegression()
    horsepower_model.fit(train_dataset[["Horsepower"]].to_numpy(), train_dataset["MPG"].to_numpy())
    test_predictions = horsepower_model.predict(test_dataset[["Horsepower"]].to_numpy())
    print("Mean absolute error:", mean_absolute_error(test_dataset["MPG"].to_numpy(),
                                                      test_predictions), "MPG")
''')

# The same split, the DataFrame columns handed to the model as they are: the index says
# which rows are which.
REPEATED_VALUES_LINEAGE = textwrap.dedent('''
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(3)
    dataset = pd.DataFrame({"Horsepower": rng.choice([70, 75, 88, 90, 95, 100, 110, 150], 400)})
    dataset["MPG"] = 50 - 0.15 * dataset["Horsepower"] + rng.normal(0, 2, 400)
    train_dataset = dataset.sample(frac=0.8, random_state=0)
    test_dataset = dataset.drop(train_dataset.index)

    horsepower_model = LinearRegression()
    horsepower_model.fit(train_dataset[["Horsepower"]], train_dataset["MPG"])
    print("R2:", horsepower_model.score(test_dataset[["Horsepower"]], test_dataset["MPG"]))
''')

# ModelCheckpoint(save_best_only=True) on validation_data, the best model reloaded and
# evaluated on that same validation data.
CHECKPOINT = textwrap.dedent('''
    import numpy as np
    import keras
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 6)).astype("float32")
    y = (x[:, 0] - x[:, 2] > 0.3).astype("int32")
    x_train, y_train, x_val, y_val = x[:180], y[:180], x[180:], y[180:]
    dnn_model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
    dnn_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    checkpoint = keras.callbacks.ModelCheckpoint("best.keras", monitor="val_accuracy",
                                                 save_best_only=True)
    dnn_model.fit(x_train, y_train, epochs=2, batch_size=32, validation_data=(x_val, y_val),
                  callbacks=[checkpoint], verbose=1)
    best = keras.models.load_model("best.keras")
    loss, acc = best.evaluate(x_val, y_val, verbose=0)
    print(f"Validation accuracy: {acc * 100:.1f} %")
''')

# A tf.data test set: evaluate(test_ds) passes no y.
TF_DATA = textwrap.dedent('''
    import numpy as np
    import tensorflow as tf
    import keras
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("int32")
    train_ds = tf.data.Dataset.from_tensor_slices((x[:150], y[:150])).shuffle(150).batch(16)
    test_ds = tf.data.Dataset.from_tensor_slices((x[150:], y[150:])).batch(16)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(train_ds, epochs=2, verbose=2)
    model.evaluate(test_ds)
''')

# Cross-validation only: no held-out test set.
CV_ONLY = textwrap.dedent('''
    from sklearn.datasets import load_wine
    from sklearn.model_selection import cross_val_score, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    X, y = load_wine(return_X_y=True)
    kfold = StratifiedKFold(n_splits=5, shuffle=True, random_state=7)
    results = cross_val_score(make_pipeline(StandardScaler(), SVC()), X, y, cv=kfold)
    print("Accuracy: %.3f%% (%.3f%%)" % (results.mean() * 100, results.std() * 100))
''')

# Several models scored on the training data, as a Kaggle notebook does: a ranked table.
TRAINING_COMPARISON = textwrap.dedent('''
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    models = {"Logistic Regression": LogisticRegression(max_iter=200),
              "k-NN": KNeighborsClassifier(n_neighbors=15),
              "Decision Tree": DecisionTreeClassifier(max_depth=1, random_state=0)}
    for name, model in models.items():
        model.fit(X, y)
        print(name, accuracy_score(y, model.predict(X)))
''')

# The first tutorial's shape with scikit-learn: fit on everything, score on the same rows.
TRAINING_ONLY = textwrap.dedent('''
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_breast_cancer(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=10, random_state=0)
    forest.fit(X, y)
    print("Training accuracy: %.2f%%" % (forest.score(X, y) * 100))
''')

# An autoencoder's reconstruction error: no constant predictor to compare with.
AUTOENCODER = textwrap.dedent('''
    from sklearn.datasets import load_digits
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPRegressor

    X = load_digits().data[:300] / 16.0
    X_train, X_test = train_test_split(X, random_state=0)
    autoencoder = MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    autoencoder.fit(X_train, X_train)
    print("Reconstruction MSE:", mean_squared_error(X_test, autoencoder.predict(X_test)))
''')

# Split twice: a test part first, then a validation part cut from the rest.
SPLIT_TWICE = textwrap.dedent('''
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X_train_full, X_test, y_train_full, y_test = train_test_split(X, y, test_size=0.2,
                                                                  random_state=42)
    X_train, X_valid, y_train, y_valid = train_test_split(X_train_full, y_train_full,
                                                          test_size=0.25, random_state=42)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X_train, y_train)
    print("validation:", tree.score(X_valid, y_valid))
    print("test:", tree.score(X_test, y_test))
''')

# A model trained on the wrong labels: it scores below always predicting the majority.
WORSE_THAN_TRIVIAL = textwrap.dedent('''
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    clf = LogisticRegression().fit(X_train, 1 - y_train)  # a bug: the labels flipped
    print("Test accuracy:", clf.score(X_test, y_test))
''')

# Keras, no evaluate at all: the fit's validation scores are all there is.
FIT_ONLY = textwrap.dedent('''
    import numpy as np
    import keras
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 5)).astype("float32")
    Y = (X[:, 1] > 0.2).astype("float32")
    classifier = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="relu"),
                                   keras.layers.Dense(1, activation="sigmoid")])
    classifier.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = classifier.fit(X, Y, validation_split=0.25, epochs=2, batch_size=20, verbose=1)
''')

# keras-io's text classification: folders of files, one per class, split by
# text_dataset_from_directory; the validation dataset evaluated at the end.
FOLDERS = textwrap.dedent('''
    import keras
    batch_size = 8
    raw_train_ds = keras.utils.text_dataset_from_directory(
        "reviews", batch_size=batch_size, validation_split=0.25, subset="training", seed=1337)
    raw_val_ds = keras.utils.text_dataset_from_directory(
        "reviews", batch_size=batch_size, validation_split=0.25, subset="validation", seed=1337)
    print(f"Number of batches in raw_train_ds: {raw_train_ds.cardinality()}")
    vectorize_layer = keras.layers.TextVectorization(max_tokens=50, output_mode="tf_idf",
                                                 pad_to_max_tokens=True)
    vectorize_layer.adapt(raw_train_ds.map(lambda x, y: x))
    train_ds = raw_train_ds.map(lambda x, y: (vectorize_layer(x), y))
    val_ds = raw_val_ds.map(lambda x, y: (vectorize_layer(x), y))
    model = keras.Sequential([keras.Input((50,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(train_ds, validation_data=val_ds, epochs=2)
    model.evaluate(val_ds)
''')


def write_reviews(folder: Path) -> None:
    """40 tiny reviews in reviews/neg and reviews/pos, 12 of them negative."""
    for index in range(40):
        label = "neg" if index < 12 else "pos"
        words = "dull boring bad awful" if label == "neg" else "great fun good lovely"
        (folder / "reviews" / label).mkdir(parents=True, exist_ok=True)
        (folder / "reviews" / label / f"{index}.txt").write_text(f"{words} film number {index}")


SCRIPTS = {"categorical": CATEGORICAL, "categorical-y": NUMERIC_X_CATEGORICAL_Y,
           "repeated": REPEATED_VALUES, "repeated-lineage": REPEATED_VALUES_LINEAGE,
           "checkpoint": CHECKPOINT, "tf-data": TF_DATA, "cv-only": CV_ONLY,
           "training-comparison": TRAINING_COMPARISON, "training-only": TRAINING_ONLY,
           "worse": WORSE_THAN_TRIVIAL, "autoencoder": AUTOENCODER, "split-twice": SPLIT_TWICE,
           "fit-only": FIT_ONLY, "folders": FOLDERS}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("real") / "portfolio"
    return Built(root, scripts_portfolio(root, SCRIPTS, {"folders": write_reviews}))


def record(built: Built, slug: str) -> dict:
    return json.loads((built.results(slug) / "run.json").read_text())


def text(built: Built, slug: str) -> str:
    """The page's visible text, tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", built.page(slug))).split())


def trivial_row(page: str) -> str:
    """The baselines table's row of the trivial baseline."""
    found = re.search(r"<tr>\s*<td>[^<]*\(trivial\)</td>.*?</tr>", page, re.S)
    assert found, "no trivial baseline on the page"
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(0)))


# -- 1. categorical string targets ------------------------------------------------------
@pytest.mark.training
def test_a_dataframe_with_text_and_nan_and_a_categorical_target_is_held_out(built) -> None:
    run = record(built, "categorical")
    scores = [r for r in run["results"] if r["name"] == "accuracy"]
    assert scores and all(r["split"] == "test" for r in scores), scores
    assert run["trivial_baseline"]["name"] == "Always predicts 'good'"
    counts = run["splits"][0]["class_balance"]["test"]
    share = counts["good"] / sum(counts.values())
    assert run["trivial_baseline"]["metrics"]["accuracy"] == pytest.approx(share)
    row = trivial_row(built.page("categorical"))
    assert "Always predicts 'good'" in row and f"{share * 100:.1f}%" in row
    assert "not verified" not in text(built, "categorical")


@pytest.mark.training
def test_a_numeric_x_with_a_categorical_y_gets_its_majority_baseline(built) -> None:
    run = record(built, "categorical-y")
    assert run["judged"]["basis"] == "held-out"
    assert run["trivial_baseline"]["name"] == "Always predicts 'benign'"
    assert "Always predicts 'benign'" in trivial_row(built.page("categorical-y"))


# -- 2. equal rows are not the same rows ------------------------------------------------
@pytest.mark.training
def test_equal_values_alone_keep_a_test_score_in_place_with_the_overlap_stated(built) -> None:
    run = record(built, "repeated")
    mae = next(r for r in run["results"] if r["name"] == "mae")
    assert mae["split"] == "test" and mae["judged"], mae
    assert 0.5 < mae["overlap"] <= 1.0  # 8 distinct horsepower values: every test row repeats
    page = text(built, "repeated")
    assert f"{mae['overlap']:.0%} of the test rows also appear in the training data" in page
    assert "training data (not held out)" not in page
    assert "Always predicts the training mean" in trivial_row(built.page("repeated"))


@pytest.mark.training
def test_a_dataframe_index_says_which_rows_are_which(built) -> None:
    run = record(built, "repeated-lineage")
    r2 = next(r for r in run["results"] if r["name"] == "r2")
    assert r2["split"] == "test" and "index" in r2["evidence"], r2
    assert r2.get("overlap") is None  # lineage knew: nothing to state
    assert "also appear in the training data" not in text(built, "repeated-lineage")


def test_slices_of_one_array_are_placed_by_where_they_came_from() -> None:
    # Few distinct rows: by value every test row is a training row; by bytes none is.
    rng = np.random.default_rng(8)
    x, y = rng.integers(0, 2, size=(300, 2)).astype(float), rng.integers(0, 2, 300)
    ledger = Ledger()
    model = object()
    ledger.trained(model, "m", "sklearn", x[:200], y[:200])
    ledger.scored([{}], model, "m", "sklearn", x[200:], y[200:])       # other bytes
    ledger.scored([{}], model, "m", "sklearn", x[50:150], y[50:150])   # inside the fitted span
    ledger.scored([{}], model, "m", "sklearn", x[200:].copy(), y[200:])  # values only
    ledger.resolve()
    splits = [s.entries[0]["split"] for s in ledger.scorings]
    assert splits == ["test", "train", "test"]
    assert ledger.scorings[2].entries[0]["overlap"] == 1.0


# -- 3. a reloaded checkpoint keeps its lineage -----------------------------------------
@pytest.mark.training
def test_a_reloaded_best_checkpoint_scored_on_validation_data_says_so(built) -> None:
    run = record(built, "checkpoint")
    accuracy = next(r for r in run["results"] if r["name"] == "accuracy"
                    and r["source"] == "keras.evaluate")
    assert accuracy["split"] == "validation", accuracy
    assert "chose the reloaded checkpoint" in accuracy["evidence"]
    assert accuracy["model"] == "dnn_model"  # the script's variable, not sequential_N
    page = text(built, "checkpoint")
    assert "validation data, which chose the checkpoint" in page
    assert "could not tell" not in page and "data pipeline" not in page
    assert "Always predicts" in trivial_row(built.page("checkpoint"))


# -- 5. a baseline for every kind of run ------------------------------------------------
@pytest.mark.training
def test_a_tf_data_test_set_gets_a_baseline_from_the_labels_it_streamed(built) -> None:
    run = record(built, "tf-data")
    accuracy = next(r for r in run["results"] if r["name"] == "accuracy")
    assert accuracy["split"] == "unknown" and "tf.data dataset" in accuracy["evidence"]
    streamed = [b for b in run["trivial_baselines"] if b["measured_on"] == "unknown"]
    assert streamed and streamed[0]["targets"] == "the labels the dataset streamed"
    assert streamed[0]["test_size"] == 50
    assert "tf.data dataset" in text(built, "tf-data")
    assert "Always predicts" in trivial_row(built.page("tf-data"))


@pytest.mark.training
def test_a_cross_validation_only_run_gets_the_dummy_on_the_same_folds(built) -> None:
    run = record(built, "cv-only")
    check = run["spot_checks"][0]
    dummy = check["baseline"]
    assert len(dummy["scores"]) == len(check["scores"]) == 5
    # The wine classes are 59/71/48: the majority class scores about 71/178 on each fold.
    assert dummy["mean"] == pytest.approx(71 / 178, abs=0.02)
    assert dummy["name"] == "Always predicts class 1"
    row = trivial_row(built.page("cv-only"))
    assert f"{dummy['mean'] * 100:.1f}%" in row and "same folds" in row
    # Spot-checked against it, in the Evaluate step's own table.
    assert f"Always predicts class 1 (trivial, on the same folds) {dummy['mean']:.3f}" in \
        text(built, "cv-only")


@pytest.mark.training
def test_a_training_score_is_compared_with_the_majority_share_of_the_training_rows(
        built) -> None:
    run = record(built, "training-only")
    training = [b for b in run["trivial_baselines"] if b["measured_on"] == "train"]
    assert training and training[0]["metrics"]["accuracy"] == pytest.approx(357 / 569)
    row = trivial_row(built.page("training-only"))
    assert "Always predicts class 1" in row and "62.7%" in row and "training targets" in row
    assert "training accuracy" in text(built, "training-only")


@pytest.mark.training
def test_a_fit_with_only_validation_scores_shows_them_with_a_baseline(built) -> None:
    run = record(built, "fit-only")
    page = text(built, "fit-only")
    assert "No metrics recorded" not in page
    last = run["fits"][-1]["epochs"][-1]
    assert f"{last['val_accuracy'] * 100:.1f}% accuracy on validation data" in page
    validation = [b for b in run["trivial_baselines"] if b["measured_on"] == "validation"]
    # validation_split=0.25 of 200 rows: Keras validates on the last 50.
    assert validation and validation[0]["test_size"] == 50
    assert "Always predicts" in trivial_row(built.page("fit-only"))
    assert "learning-curve" in built.page("fit-only")  # the curve capture drew is shown


@pytest.mark.training
def test_a_score_no_better_than_its_trivial_baseline_is_flagged(built) -> None:
    run = record(built, "worse")
    trivial = run["trivial_baseline"]["metrics"]["accuracy"]
    page = text(built, "worse")
    assert "does not beat the trivial baseline" in page
    assert f"scores {trivial * 100:.1f}% accuracy on the test part of the same split" in page
    summary = built.result.stdout + built.result.stderr
    assert re.search(r"worse: warning: accuracy \S+ is no better than its trivial baseline",
                     summary), summary[-2000:]
    for slug in ("categorical-y", "cv-only"):  # good models are not flagged
        assert f"{slug}: warning: accuracy" not in summary
        assert "does not beat the trivial baseline" not in text(built, slug)


# -- 8. the Data section for every split capture saw ------------------------------------
@pytest.mark.training
def test_folders_read_by_a_keras_loader_are_the_data_section(built) -> None:
    run = record(built, "folders")
    folders = [s for s in run["splits"] if s["kind"] == "directory"]
    assert [(s["subset"], s["files"]) for s in folders] == [("training", 30), ("validation", 10)]
    assert folders[0]["classes"] == ["neg", "pos"]
    page = text(built, "folders")
    assert "Read from folders, one per class: reviews/ (30 files in 2 classes (neg, pos), " \
           "the 75% kept for training)" in page
    # evaluate(val_ds): the very dataset fit validated on, with the baseline of its labels.
    accuracy = next(r for r in run["results"] if r["name"] == "accuracy")
    assert accuracy["split"] == "validation" and "validation_data" in accuracy["evidence"]
    streamed = next(b for b in run["trivial_baselines"] if b["measured_on"] == "validation")
    assert streamed["test_size"] == 10
    assert "Always predicts" in trivial_row(built.page("folders"))
    # A count the script printed is no score (pattern 10).
    assert not any("Number of batches" in line["text"] for line in run["printed_lines"])
    assert not any(r["source"] == "output" for r in run["results"])


@pytest.mark.training
def test_a_fit_with_only_a_validation_split_has_a_data_section(built) -> None:
    page = text(built, "fit-only")
    assert ("No test data was set aside: fit kept the last 25% of the 200 training samples "
            "(50) apart for validation") in page


@pytest.mark.training
def test_a_score_with_no_possible_baseline_says_why(built) -> None:
    run = record(built, "autoencoder")
    assert run["judged"]["basis"] == "held-out" and run["trivial_baseline"] is None
    assert "No trivial baseline is shown for this mse: capture could not score a constant " \
           "prediction on this score's targets" in text(built, "autoencoder")
    for slug in ("categorical", "cv-only", "fit-only", "worse"):  # those that have one
        assert "No trivial baseline is shown" not in text(built, slug)


@pytest.mark.training
def test_a_script_that_splits_twice_describes_the_split_of_its_headline(built) -> None:
    run = record(built, "split-twice")
    judged = [r for r in run["results"] if r.get("judged")]
    assert judged[-1]["split_index"] == 0  # the test part of the first split
    first = run["splits"][0]
    assert f"Split with train_test_split: {first['train_size']} training and " \
           f"{first['test_size']} test samples" in text(built, "split-twice")
    assert trivial_row(built.page("split-twice"))


# -- 6. several models on the same data --------------------------------------------------
@pytest.mark.training
def test_several_models_scored_on_training_data_are_ranked_and_labelled(built) -> None:
    page = built.page("training-comparison")
    assert "Every model the script scored on its training data" in page
    table = page[page.index("Every model the script scored on its training data"):]
    table = table[:table.index("</table>")]
    names = [html.unescape(n) for n in re.findall(r"<tr>\s*<td>([^<]+)</td>", table)]
    scores = {r["model"]: r["value"] for r in record(built, "training-comparison")["results"]}
    assert set(scores) == {"Logistic Regression", "k-NN", "Decision Tree"}  # all three
    assert names[:3] == sorted(scores, key=scores.get, reverse=True), names  # best first
    assert names[3] == "Always predicts class 0 (trivial)"
    assert "3 models compared on their training data; no single headline" in html.unescape(
        (built.site / "index.html").read_text())


# -- labels in words everywhere ----------------------------------------------------------
@pytest.mark.training
def test_every_label_names_the_data_in_words(built) -> None:
    home = html.unescape((built.site / "index.html").read_text())
    results = html.unescape((built.site / "results" / "index.html").read_text())
    for slug, words in (("categorical-y", "held-out data"), ("cv-only", "cross-validation"),
                        ("training-only", "training"), ("fit-only", "validation data")):
        assert words in text(built, slug), slug
        card = home[home.index(f'<a class="pf-card" href="projects/{slug}/">'):]
        assert words in card[:card.index("</a>")], (slug, card[:600])
        row = results[results.index(f'<a href="../projects/{slug}/">'):]
        assert words in row[:row.index("</tr>")], (slug, row[:600])


def test_model_named_by_the_scripts_variable(tmp_path: Path) -> None:
    from portfolio.capture.naming import model_name

    class Rec:
        ledger = Ledger()

    class Sequential:
        name = "sequential_3"

    dnn_model = Sequential()
    assert model_name(Rec(), dnn_model) == "dnn_model"
    model = Sequential()  # a name that says nothing: Keras' own
    assert model_name(Rec(), model) == "sequential_3"
